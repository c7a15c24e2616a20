//! Object names checked as the API server checks them (k8s.io/apimachinery's
//! `validation.IsDNS1123Subdomain`, `IsDNS1123Label`, `IsDNS1035Label` and
//! `path.IsValidPathSegmentName`, chosen per kind as each kind's `ValidateObjectMeta` does), so
//! a bad name is refused with its file and line before anything is sent, instead of failing
//! midway through a sync with a 422.
//!
//! Lengths are counted in bytes, as Go's `len` counts them; a name is never cut.

use super::node::{Node, Pos};

/// The rule a kind's names follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Most kinds, custom resources included: RFC 1123 subdomain, at most `max` bytes.
    Subdomain { max: usize },
    /// RFC 1123 label: lowercase alphanumerics and `-`, at most 63.
    Label,
    /// RFC 1035 label: as a label, but starting with a letter (Services: the name is a DNS name).
    Label1035,
    /// RBAC kinds: anything that is a valid URL path segment.
    PathSegment,
}

/// The name rule for a kind. Jobs' names become the `job-name` label of their pods, so they
/// must also be valid label values (63 bytes); CronJobs add an 11-character suffix to name
/// their Jobs, so theirs may have 52.
fn rule_for(group: &str, kind: &str) -> Rule {
    match (group, kind) {
        ("", "Namespace") => Rule::Label,
        ("", "Service") => Rule::Label1035,
        ("batch", "Job") => Rule::Subdomain { max: 63 },
        ("batch", "CronJob") => Rule::Subdomain { max: 52 },
        (
            "rbac.authorization.k8s.io",
            "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding",
        ) => Rule::PathSegment,
        _ => Rule::Subdomain { max: 253 },
    }
}

/// A problem with one name, at the position of its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameProblem {
    pub pos: Pos,
    pub message: String,
}

/// Checks `metadata.name`, `metadata.generateName` and `metadata.namespace` of an object whose
/// apiVersion and kind are `api_version` and `kind`.
pub fn check(metadata: &Node, api_version: &str, kind: &str) -> Vec<NameProblem> {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let rule = rule_for(group, kind);
    let mut problems = Vec::new();
    let mut field = |key: &str, rule: Rule, prefix: bool| {
        let Some(value) = metadata.get(key) else {
            return;
        };
        let Some(text) = value.as_str().filter(|t| !t.is_empty()) else {
            return;
        };
        if let Some(why) = problem(text, rule, prefix) {
            problems.push(NameProblem {
                pos: value.pos,
                message: format!("metadata.{key} {text:?} is invalid for a {kind}: {why}"),
            });
        }
    };
    field("name", rule, false);
    field("generateName", rule, true);
    field("namespace", Rule::Label, false);
    problems
}

/// Why `name` breaks `rule`, or None. A `generateName` (`prefix`) is checked as the API server
/// checks it: without one trailing `-`, since the server appends a random suffix.
fn problem(name: &str, rule: Rule, prefix: bool) -> Option<String> {
    let name = if prefix {
        name.strip_suffix('-').unwrap_or(name)
    } else {
        name
    };
    match rule {
        Rule::Subdomain { max } => subdomain(name, max),
        Rule::Label => label(name, false),
        Rule::Label1035 => label(name, true),
        Rule::PathSegment => path_segment(name),
    }
}

fn too_long(name: &str, max: usize) -> Option<String> {
    (name.len() > max).then(|| {
        format!(
            "must be no more than {max} characters (it has {})",
            name.len()
        )
    })
}

fn is_lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// RFC 1123 subdomain: dot-separated labels of `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
fn subdomain(name: &str, max: usize) -> Option<String> {
    if let Some(long) = too_long(name, max) {
        return Some(long);
    }
    let ok = !name.is_empty()
        && name.split('.').all(|part| {
            part.starts_with(is_lower_alnum)
                && part.ends_with(is_lower_alnum)
                && part.chars().all(|c| is_lower_alnum(c) || c == '-')
        });
    (!ok).then(|| {
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' \
         or '.', and must start and end with an alphanumeric character (e.g. 'example.com')"
            .to_owned()
    })
}

/// RFC 1123 label (or RFC 1035, starting with a letter): `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
fn label(name: &str, rfc1035: bool) -> Option<String> {
    if let Some(long) = too_long(name, 63) {
        return Some(long);
    }
    let starts_ok = if rfc1035 {
        name.starts_with(|c: char| c.is_ascii_lowercase())
    } else {
        name.starts_with(is_lower_alnum)
    };
    let ok = starts_ok
        && name.ends_with(is_lower_alnum)
        && name.chars().all(|c| is_lower_alnum(c) || c == '-');
    (!ok).then(|| {
        if rfc1035 {
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start \
             with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name')"
        } else {
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \
             '-', and must start and end with an alphanumeric character (e.g. 'my-name')"
        }
        .to_owned()
    })
}

/// A URL path segment: not `.` or `..`, without `/` or `%`.
fn path_segment(name: &str) -> Option<String> {
    if name == "." || name == ".." {
        return Some(format!("may not be '{name}'"));
    }
    ["/", "%"]
        .iter()
        .find(|bad| name.contains(**bad))
        .map(|bad| format!("may not contain '{bad}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomains() {
        assert_eq!(subdomain("web-1.example", 253), None);
        assert!(subdomain("Web", 253).is_some());
        assert!(subdomain("-web", 253).is_some());
        assert!(subdomain("web..x", 253).is_some());
        assert!(subdomain("数据库迁移任务数据库迁移任务数据库迁移任务", 253).is_some());
        assert!(subdomain(&"a".repeat(254), 253).unwrap().contains("253"));
        assert_eq!(subdomain(&"a".repeat(253), 253), None);
    }

    #[test]
    fn per_kind_rules() {
        let job = rule_for("batch", "Job");
        assert!(problem(&"a".repeat(64), job, false).unwrap().contains("63"));
        assert_eq!(problem(&"a".repeat(63), job, false), None);
        assert!(problem("1web", rule_for("", "Service"), false).is_some());
        assert_eq!(problem("1web", rule_for("", "ConfigMap"), false), None);
        assert!(problem("a.b", rule_for("", "Namespace"), false).is_some());
        let role = rule_for("rbac.authorization.k8s.io", "ClusterRole");
        assert_eq!(problem("system:controller:x", role, false), None);
        assert!(problem("a/b", role, false).is_some());
        assert_eq!(
            problem("ok.x", rule_for("example.com", "Widget"), false),
            None
        );
    }

    #[test]
    fn generate_name_loses_one_trailing_dash() {
        let job = rule_for("batch", "Job");
        assert_eq!(problem("smoke-", job, true), None);
        assert!(problem("smoke-", job, false).is_some());
        assert!(problem("Smoke-", job, true).is_some());
    }
}
