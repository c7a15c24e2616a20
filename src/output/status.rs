//! What `status` shows: the last sync, then one row per member (kind, namespace, name, health
//! with its message, in sync or not), or the same as JSON.

use super::{render_table, table};
use crate::engine::status::{AppStatus, SyncState};

pub fn render(status: &AppStatus) -> String {
    let mut out = format!(
        "app \"{}\" in namespace \"{}\" (ApplySet {})\n",
        status.app, status.namespace, status.applyset_id
    );
    if !status.recorded {
        out.push_str("never synced: no inventory (secret kubectl-hooks-");
        out.push_str(&status.app);
        out.push_str(")\n");
        return out;
    }
    let last = &status.last_sync;
    out.push_str(&format!(
        "last sync: {} (started {}, finished {}){}\n",
        last.result.as_deref().unwrap_or("unknown"),
        last.started.as_deref().unwrap_or("-"),
        last.finished.as_deref().unwrap_or("-"),
        last.message
            .as_deref()
            .filter(|m| !m.is_empty())
            .map(|m| format!(": {}", super::sync::one_line(m)))
            .unwrap_or_default()
    ));
    let mut t = table(&["KIND", "NAMESPACE", "NAME", "HEALTH", "SYNC", "MESSAGE"]);
    for m in &status.members {
        let (health, message) = match &m.health {
            Some(h) => (h.status.to_string(), h.message.clone()),
            None => ("-".into(), String::new()),
        };
        let sync = match m.sync {
            SyncState::Synced => "Synced".to_owned(),
            SyncState::OutOfSync => format!("OutOfSync ({})", m.reason.unwrap_or("")),
            SyncState::Unknown => "unknown".to_owned(),
        };
        t.add_row(vec![
            m.kind.clone(),
            m.namespace.clone().unwrap_or_else(|| "-".into()),
            m.name.clone(),
            health,
            sync,
            super::sync::one_line(&message),
        ]);
    }
    out.push_str(&render_table(&t));
    out
}

pub fn json(status: &AppStatus) -> String {
    super::to_json(status)
}
