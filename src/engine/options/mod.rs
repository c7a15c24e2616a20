//! Argo CD's per-resource sync options (`argocd.argoproj.io/sync-options`, Argo CD's "Sync
//! Options" documentation) where they change how one object is checked and written:
//! `Replace=true`, `Force=true`, `Validate=false`, and the take-over of fields a client-side
//! apply left. (`SkipDryRunOnMissingResource` is in `validate` and `apply`, where kinds are
//! resolved; `Prune`/`Delete` are `delete`'s.)

mod client_side;
mod fields;

use crate::cluster::{ApplyOptions, Cluster, ClusterError, FIELD_MANAGER, ResolvedKind};
use crate::engine::remove::DELETE_WAIT;
use crate::engine::{Settings, Work};
use crate::model::{SyncOption, SyncOptions};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};

/// How one object is written, from its sync options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write {
    /// Server-side apply (the default, and `ServerSideApply=true`).
    Apply,
    /// `Replace=true`: create when absent, else `PUT` the whole object over the live one, as
    /// `kubectl replace`. No apply patch is sent.
    Replace,
    /// `Force=true,Replace=true`: delete, wait until gone, create, as `kubectl replace --force`.
    DeleteAndCreate,
    /// `Force=true`: apply; when the server refuses the change as invalid (an immutable field),
    /// delete, wait until gone and apply again, as `kubectl apply --force`.
    ApplyOrRecreate,
}

impl Write {
    pub(crate) fn of(options: &SyncOptions) -> Write {
        match (
            options.has(SyncOption::ReplaceTrue),
            options.has(SyncOption::ForceTrue),
        ) {
            (true, true) => Write::DeleteAndCreate,
            (true, false) => Write::Replace,
            (false, true) => Write::ApplyOrRecreate,
            (false, false) => Write::Apply,
        }
    }

    /// Whether what is written may replace the live object, so that an immutable change is
    /// not a problem: the dry run checks such an object as a create when the server refuses
    /// it in place.
    fn may_recreate(self) -> bool {
        matches!(self, Write::DeleteAndCreate | Write::ApplyOrRecreate)
    }
}

/// How `work` will be written, when its sync options make that other than an apply: said
/// before a sync (and by its dry run), so that a delete is never a surprise.
pub(crate) fn write_note(work: &Work) -> Option<String> {
    let how = match Write::of(&work.options) {
        Write::Apply => return None,
        Write::Replace => "Replace=true: created, or replaced whole (PUT) when it exists",
        Write::DeleteAndCreate => {
            "Force=true,Replace=true: deleted (and waited for) and created again when it exists"
        }
        Write::ApplyOrRecreate => {
            "Force=true: applied; deleted and applied again if the server refuses the change in place"
        }
    };
    Some(format!(
        "{}/{} ({}): {how}",
        work.task.kind, work.name, work.source
    ))
}

/// What the dry run learnt about an object.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    /// `Validate=false`: unknown fields taken out of the object, as the server named them.
    pub dropped: Vec<String>,
    /// The live object has fields a client-side apply manages: take them over before applying.
    pub client_side: bool,
    /// The fields a forced apply would take from other field managers, said in words.
    pub took_over: Option<String>,
    /// What the server would store (`diff` shows it against the live object).
    pub stored: Value,
}

/// How many unknown fields to drop before giving up (a server names all of them in one
/// refusal, or one per refusal), so that a server that keeps refusing ends the loop.
const MAX_DROPPED: usize = 64;

/// The server-side dry run of one object as it will be written. `Validate=false` fields the
/// server refuses are taken out of a copy of `object` and named in `Checked::dropped`. Objects are checked as the apply they get (a
/// `Replace=true` object too: its schema is checked the same way); objects that may be
/// re-created (`Force=true`) and that the server refuses to change in place, as a create
/// under a fresh name.
pub(crate) async fn dry_run(
    cluster: &Cluster,
    kind: &ResolvedKind,
    object: &Value,
    options: &SyncOptions,
    settings: &Settings,
) -> Result<Checked, ClusterError> {
    let mut object = object.clone();
    let write = Write::of(options);
    let apply = ApplyOptions {
        force: settings.force_conflicts,
        dry_run: true,
        ignore_unknown_fields: false,
    };
    let mut checked = Checked::default();
    let mut as_create = false;
    loop {
        let result = if as_create {
            cluster.apply(kind, &fresh_name(&object), apply).await
        } else {
            let (result, took) =
                crate::engine::takeover::apply(cluster, kind, &object, apply).await;
            checked.took_over = took;
            result
        };
        match result {
            Ok(stored) => {
                checked.client_side =
                    write == Write::Apply && client_side::has_client_side_fields(&stored);
                checked.stored = stored;
                return Ok(checked);
            }
            // Refused in place (an immutable field): what is written may replace the live
            // object, so check it as a create. Only then, so that a create of the same name
            // (the same node port, the same cluster IP) is not judged against the live object.
            Err(e) if write.may_recreate() && !as_create && refused_in_place(&e) => {
                as_create = true;
            }
            Err(e) => {
                let dropped = drop_unknown(&mut object, options, e, checked.dropped.len())?;
                checked.dropped.extend(dropped);
            }
        }
    }
}

/// 422 Invalid for a reason other than unknown fields: the server will not make this change
/// to the live object (`field is immutable`).
fn refused_in_place(e: &ClusterError) -> bool {
    e.is_invalid() && fields::unknown_fields(&e.to_string()).is_empty()
}

/// With `Validate=false`, takes the unknown fields `e` names out of `object` and returns
/// them; otherwise (or when none can be taken out) returns `e`.
fn drop_unknown(
    object: &mut Value,
    options: &SyncOptions,
    e: ClusterError,
    dropped_so_far: usize,
) -> Result<Vec<String>, ClusterError> {
    if !options.has(SyncOption::ValidateFalse) || dropped_so_far >= MAX_DROPPED {
        return Err(e);
    }
    let dropped: Vec<String> = fields::unknown_fields(&e.to_string())
        .into_iter()
        .filter(|path| fields::remove(object, path))
        .collect();
    if dropped.is_empty() {
        return Err(e);
    }
    Ok(dropped)
}

/// Takes the fields the dry run dropped (`Checked::dropped`) out of the object to send.
pub(crate) fn drop_fields(object: &mut Value, dropped: &[String]) {
    for path in dropped {
        fields::remove(object, path);
    }
}

/// The warning for fields `Validate=false` dropped.
pub(crate) fn dropped_warning(work: &Work, dropped: &[String]) -> String {
    format!(
        "{}/{} ({}): Validate=false: unknown field(s) dropped: {}",
        work.task.kind,
        work.name,
        work.source,
        dropped.join(", ")
    )
}

/// A copy of the object under a name nothing has (`<name>-<counter>`, cut to fit), so that a
/// server-side dry-run apply of it is a create.
fn fresh_name(object: &Value) -> Value {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let suffix = format!("{:x}", (u64::from(nanos) << 16) ^ n);
    let name = object["metadata"]["name"].as_str().unwrap_or("x");
    // Cut by characters, not bytes: a name is never sliced inside a character.
    let cut: String = name.chars().take(62 - suffix.len()).collect();
    let base = cut.trim_end_matches(['-', '.']);
    let mut probe = object.clone();
    probe["metadata"]["name"] = json!(format!("{base}-{suffix}"));
    probe
}

/// What writing an object did, for the progress log.
#[derive(Debug, Default)]
pub(crate) struct Written {
    pub live: Value,
    /// Things to tell the user about this object (fields dropped, re-created, taken over).
    pub notes: Vec<String>,
    /// The fields a forced apply took from other field managers, said in words.
    pub took_over: Option<String>,
}

/// Writes one object as its sync options say. `client_side` (from the dry run): take over the
/// fields of a client-side apply first.
pub(crate) async fn write(
    cluster: &Cluster,
    work: &Work,
    settings: &Settings,
) -> Result<Written, ClusterError> {
    let writer = Writer {
        cluster,
        kind: work.kind.as_ref().expect("kinds resolved before apply"),
        options: &work.options,
        settings,
    };
    let mut object = work.object.clone();
    let mut out = Written::default();
    let mut dropped = Vec::new();
    let mut client_side_taken = false;
    loop {
        let result = match Write::of(writer.options) {
            Write::Apply => {
                if work.client_side && !client_side_taken {
                    client_side_taken = true;
                    if let Some(managers) = writer.take_over(&object).await? {
                        out.notes.push(format!(
                            "took over the fields of client-side apply ({}) before applying",
                            managers.join(", ")
                        ));
                    }
                }
                writer.apply(&object, &mut out.took_over).await
            }
            Write::Replace => writer.replace(&object).await,
            Write::DeleteAndCreate => {
                if writer.recreate(&object).await? {
                    out.notes.push(
                        "deleted the live object and created it again (Force=true,Replace=true)"
                            .into(),
                    );
                }
                cluster.create(writer.kind, &object, false).await
            }
            Write::ApplyOrRecreate => match writer.apply(&object, &mut out.took_over).await {
                Err(e) if refused_in_place(&e) => {
                    // `kubectl apply --force`: the server will not change it in place. The
                    // dry run checked it as a create; check again now, so that nothing is
                    // deleted that cannot be put back.
                    let check = ApplyOptions {
                        dry_run: true,
                        ..apply_options(writer.options, settings)
                    };
                    cluster
                        .apply(writer.kind, &fresh_name(&object), check)
                        .await?;
                    writer.recreate(&object).await?;
                    out.notes.push(format!(
                        "deleted the live object and applied it again (Force=true): the server would not change it in place ({})",
                        refusal(&e)
                    ));
                    writer.apply(&object, &mut out.took_over).await
                }
                other => other,
            },
        };
        match result {
            Ok(live) => {
                if !dropped.is_empty() {
                    out.notes.push(format!(
                        "Validate=false: unknown field(s) dropped: {}",
                        dropped.join(", ")
                    ));
                }
                out.live = live;
                return Ok(out);
            }
            Err(e) => dropped.extend(drop_unknown(&mut object, writer.options, e, dropped.len())?),
        }
    }
}

/// The gist of a 422 refusal: the reason after the (long) dump of the object, when the server
/// gave one ("field is immutable").
fn refusal(e: &ClusterError) -> String {
    let text = e.to_string();
    match text.rsplit_once("}: ") {
        Some((_, reason)) => reason.to_owned(),
        None => text,
    }
}

fn apply_options(options: &SyncOptions, settings: &Settings) -> ApplyOptions {
    ApplyOptions {
        force: settings.force_conflicts,
        dry_run: false,
        ignore_unknown_fields: options.has(SyncOption::ValidateFalse),
    }
}

/// The ways of writing objects of one kind with one object's sync options.
struct Writer<'a> {
    cluster: &'a Cluster,
    kind: &'a ResolvedKind,
    options: &'a SyncOptions,
    settings: &'a Settings,
}

impl Writer<'_> {
    /// Server-side apply; what a forced apply took from other managers goes to `took_over`.
    async fn apply(
        &self,
        object: &Value,
        took_over: &mut Option<String>,
    ) -> Result<Value, ClusterError> {
        let options = apply_options(self.options, self.settings);
        let (result, took) =
            crate::engine::takeover::apply(self.cluster, self.kind, object, options).await;
        if took.is_some() {
            *took_over = took;
        }
        result
    }

    /// Where the live object of `object` is: namespace and name.
    fn identity(&self, object: &Value) -> (String, String) {
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        (
            self.cluster.namespace_of(self.kind, object),
            name.to_owned(),
        )
    }

    /// `Replace=true`: create when absent, else `PUT` over the live object at its
    /// resourceVersion; when it changed in between, read it again and try once more.
    async fn replace(&self, object: &Value) -> Result<Value, ClusterError> {
        let (cluster, kind) = (self.cluster, self.kind);
        let (namespace, name) = self.identity(object);
        let mut retried = false;
        loop {
            let Some(live) = cluster.get(kind, &namespace, &name).await? else {
                return cluster.create(kind, object, false).await;
            };
            let mut body = object.clone();
            body["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"].clone();
            match cluster.replace(kind, &body, false).await {
                Err(e) if e.is_stale() && !retried => retried = true,
                other => return other,
            }
        }
    }

    /// Deletes the live object and waits until it is gone; false when there was none.
    async fn recreate(&self, object: &Value) -> Result<bool, ClusterError> {
        let (namespace, name) = self.identity(object);
        let target = crate::engine::remove::Target {
            kind: self.kind,
            namespace: &namespace,
            name: &name,
        };
        let gone = target.delete(self.cluster, Some(DELETE_WAIT)).await?;
        Ok(gone == crate::engine::remove::Gone::Deleted)
    }

    /// Rewrites the live object's managedFields so that this tool's manager owns what the
    /// client-side managers owned (guarded by its resourceVersion, read again and retried once
    /// when it changed in between). Returns the managers taken over from, `None` when there
    /// was nothing to take over.
    async fn take_over(&self, object: &Value) -> Result<Option<Vec<String>>, ClusterError> {
        let (cluster, kind) = (self.cluster, self.kind);
        let (namespace, name) = self.identity(object);
        let mut retried = false;
        loop {
            let Some(live) = cluster.get(kind, &namespace, &name).await? else {
                return Ok(None);
            };
            let Some(managed) = client_side::taken_over(&live, FIELD_MANAGER) else {
                return Ok(None);
            };
            let version = live["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or_default();
            match cluster
                .set_managed_fields(kind, &namespace, &name, version, &managed)
                .await
            {
                Ok(_) => return Ok(Some(client_side::client_side_managers(&live))),
                Err(e) if e.is_stale() && !retried => retried = true,
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_write_follows_replace_and_force() {
        let of = |value| Write::of(&SyncOptions::parse(Some(value)));
        assert_eq!(of("Replace=true"), Write::Replace);
        assert_eq!(of("Force=true,Replace=true"), Write::DeleteAndCreate);
        assert_eq!(of("Force=true"), Write::ApplyOrRecreate);
        assert_eq!(of("Validate=false,ServerSideApply=true"), Write::Apply);
    }

    #[test]
    fn a_fresh_name_is_a_valid_new_name() {
        let long = "a".repeat(63);
        let object = json!({"metadata": {"name": long}});
        let a = fresh_name(&object);
        let b = fresh_name(&object);
        let name = a["metadata"]["name"].as_str().unwrap();
        assert!(name.len() <= 63 && name.starts_with("aaaa"), "{name}");
        assert_ne!(a, b);
    }
}
