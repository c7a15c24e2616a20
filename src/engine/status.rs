//! `status`: the app's members as its inventory lists them, each with its Argo CD health and
//! whether it is in sync with the input (as `diff` decides; unknown without an input), and the
//! last sync as the inventory records it.

use super::diff::{Change, ObjectDiff};
use super::inventory::{LastSync, MemberKey, Recorded};
use super::members::Member;
use crate::health::{self, Health, HealthMode, HealthStatus};
use serde::Serialize;
use std::collections::HashMap;

/// In sync with the input, or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SyncState {
    Synced,
    OutOfSync,
    /// No input to compare with.
    Unknown,
}

/// One member (or an object of the input not yet live).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberStatus {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// `None`: Argo CD has no health check for this kind (it counts as healthy).
    pub health: Option<Health>,
    pub sync: SyncState,
    /// Why it is out of sync (`changed`, `to be created`, `to be pruned`).
    pub reason: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppStatus {
    pub app: String,
    pub namespace: String,
    pub applyset_id: String,
    /// Whether the app has an inventory at all (it was synced at least once).
    pub recorded: bool,
    pub last_sync: LastSync,
    pub members: Vec<MemberStatus>,
}

impl AppStatus {
    /// Everything healthy (or without a check) and in sync; without an input, the last
    /// sync must have succeeded instead.
    pub fn all_good(&self) -> bool {
        let healthy = self.members.iter().all(|m| {
            m.health
                .as_ref()
                .is_none_or(|h| h.status == HealthStatus::Healthy)
        });
        let synced = if self.members.iter().any(|m| m.sync == SyncState::Unknown) {
            self.last_sync.result.as_deref() == Some("Succeeded")
        } else {
            self.members.iter().all(|m| m.sync == SyncState::Synced)
        };
        self.recorded && healthy && synced
    }
}

/// Puts the status together from the live members and, with an input, its diff.
pub fn assemble(
    app: &super::inventory::App,
    recorded: Option<&Recorded>,
    members: &[Member],
    diffs: Option<&[ObjectDiff]>,
) -> AppStatus {
    let changes: HashMap<(String, String, String), Change> = diffs
        .unwrap_or_default()
        .iter()
        .map(|d| {
            (
                (
                    d.kind.clone(),
                    d.namespace.clone().unwrap_or_default(),
                    d.name.clone(),
                ),
                d.change,
            )
        })
        .collect();
    let judge = |key: &MemberKey| -> (SyncState, Option<&'static str>) {
        if diffs.is_none() {
            return (SyncState::Unknown, None);
        }
        match changes.get(&(key.kind.clone(), key.namespace.clone(), key.name.clone())) {
            Some(Change::Unchanged) | Some(Change::KeptNoPrune) => (SyncState::Synced, None),
            Some(c) => (SyncState::OutOfSync, Some(c.word())),
            None => (SyncState::OutOfSync, Some("not in the input")),
        }
    };
    let mut out: Vec<MemberStatus> = members
        .iter()
        .map(|m| {
            let (sync, reason) = judge(&m.key);
            MemberStatus {
                api_version: m.kind.api_version.clone(),
                kind: m.key.kind.clone(),
                namespace: (!m.key.namespace.is_empty()).then(|| m.key.namespace.clone()),
                name: m.key.name.clone(),
                health: health::assess(&m.live, HealthMode::Argo),
                sync,
                reason,
            }
        })
        .collect();
    // Objects of the input that are not live (yet): Argo CD shows them Missing, OutOfSync.
    for d in diffs.unwrap_or_default() {
        if d.change == Change::Added {
            out.push(MemberStatus {
                api_version: d.api_version.clone(),
                kind: d.kind.clone(),
                namespace: d.namespace.clone(),
                name: d.name.clone(),
                health: Some(Health::new(HealthStatus::Missing, "")),
                sync: SyncState::OutOfSync,
                reason: Some(d.change.word()),
            });
        }
    }
    out.sort_by(|a, b| (&a.kind, &a.namespace, &a.name).cmp(&(&b.kind, &b.namespace, &b.name)));
    AppStatus {
        app: app.name.clone(),
        namespace: app.namespace.clone(),
        applyset_id: app.applyset_id(),
        recorded: recorded.is_some(),
        last_sync: recorded.map(LastSync::of).unwrap_or_default(),
        members: out,
    }
}
