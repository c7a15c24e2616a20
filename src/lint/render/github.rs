//! GitHub Actions workflow commands: `::error file=F,line=L,col=C,title=ID::message`.
//! https://docs.github.com/actions/reference/workflow-commands-for-github-actions

use crate::lint::{Report, Severity};

/// The message part: `%`, CR and LF are escaped.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value: as data, and `:` and `,` too.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn github(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let command = match f.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut message = f.message.clone();
        if let Some(object) = &f.object {
            message = format!("{object}: {message}");
        }
        if let Some(help) = &f.suggestion {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{command} file={},line={},col={},title={}::{}\n",
            escape_property(&f.file),
            f.pos.line,
            f.pos.col,
            escape_property(f.rule.id),
            escape_data(&message)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_property("a,b:c%"), "a%2Cb%3Ac%25");
    }
}
