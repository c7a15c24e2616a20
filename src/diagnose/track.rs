//! Showing each diagnosis line once, and again only when it changes.

use std::collections::HashMap;

/// The most identities remembered per task; past it the oldest news may be shown again.
const MAX_REMEMBERED: usize = 200;

/// What has been shown, per task.
#[derive(Debug, Default)]
pub struct Shown {
    by_task: HashMap<String, HashMap<String, String>>,
}

impl Shown {
    /// The lines of `lines` (identity, text) that are news for `task`: an identity not shown
    /// before, or shown with another text. Remembers them as shown.
    pub fn news(&mut self, task: &str, lines: &[(String, String)]) -> Vec<String> {
        let seen = self.by_task.entry(task.to_owned()).or_default();
        let mut out = Vec::new();
        for (identity, text) in lines {
            if seen.get(identity) == Some(text) {
                continue;
            }
            if seen.len() >= MAX_REMEMBERED && !seen.contains_key(identity) {
                seen.clear();
            }
            seen.insert(identity.clone(), text.clone());
            out.push(text.clone());
        }
        out
    }
}
