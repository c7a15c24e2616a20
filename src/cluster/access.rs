//! Asking the API server what the current user may do (SelfSubjectAccessReview), so an
//! operation can refuse before it writes anything instead of failing halfway.

use super::retry::Resend;
use super::{Cluster, ClusterError, ResolvedKind};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::Api;
use kube::api::PostParams;

impl Cluster {
    /// Whether the user may `verb` objects of `kind` in `namespace` (all namespaces, or a
    /// cluster-scoped kind, when None). The answer comes from the same authorizers that judge
    /// the real requests (RBAC, webhooks).
    pub async fn may(
        &self,
        verb: &str,
        kind: &ResolvedKind,
        namespace: Option<&str>,
    ) -> Result<bool, ClusterError> {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    group: Some(kind.group.clone()),
                    resource: Some(kind.plural.clone()),
                    verb: Some(verb.to_owned()),
                    namespace: namespace.filter(|_| kind.namespaced).map(str::to_owned),
                    ..ResourceAttributes::default()
                }),
                ..SelfSubjectAccessReviewSpec::default()
            },
            ..SelfSubjectAccessReview::default()
        };
        let api: Api<SelfSubjectAccessReview> = Api::all(self.client());
        let what = || format!("asking whether the user may {verb} {}", kind.plural);
        let params = PostParams::default();
        let answer = self
            .call(what, Resend::Idempotent, || api.create(&params, &review))
            .await?;
        Ok(answer.status.is_some_and(|s| s.allowed))
    }
}
