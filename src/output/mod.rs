//! What a person or a program reads: tables, JSON/YAML documents, colour decisions.

pub mod cleanup;
pub mod delete;
pub mod diff;
pub mod plan;
pub mod prune;
pub mod status;
pub mod sync;
pub mod why;

pub use crate::text::plural;

use comfy_table::{ContentArrangement, Table, presets};
use std::io::IsTerminal;

/// A kubectl-style table: no borders, left-aligned, upper-case headers.
pub fn table(headers: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(headers.iter().map(|h| h.to_string()));
    for column in t.column_iter_mut() {
        column.set_padding((0, 3));
    }
    t
}

/// Renders a table as kubectl does: no trailing spaces.
pub fn render_table(t: &Table) -> String {
    let mut out = String::new();
    for line in t.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Colour on a terminal only, and never with NO_COLOR set (https://no-color.org).
pub fn use_color(stream_is_terminal: bool) -> bool {
    stream_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub fn stderr_color() -> bool {
    use_color(std::io::stderr().is_terminal())
}

pub fn stdout_color() -> bool {
    use_color(std::io::stdout().is_terminal())
}

/// Machine-readable output formats shared by the commands.
pub fn to_yaml<T: serde::Serialize>(value: &T) -> String {
    serde_saphyr::to_string(value).unwrap_or_else(|e| format!("# cannot render YAML: {e}\n"))
}

pub fn to_json<T: serde::Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("JSON of plain data");
    s.push('\n');
    s
}
