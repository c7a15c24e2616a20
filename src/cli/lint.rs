//! `kubectl hooks lint`

use super::args::{FailLevel, LintArgs, LintFormat};
use super::input::read_input;
use super::{ClusterArgs, Failure, Outcome, exit, print};
use crate::lint::{self, Severity, render, rules};
use crate::manifest::InputErrorKind;

pub fn run(cluster: &ClusterArgs, args: &LintArgs) -> Outcome {
    if let Some(id) = &args.explain {
        return explain(id);
    }
    for id in &args.disable {
        if rules::find(id).is_none() {
            return Err(unknown_rule(id));
        }
    }
    let loaded = read_input(&args.input, cluster)?;
    let unreadable: Vec<_> = loaded
        .errors
        .iter()
        .filter(|e| e.kind == InputErrorKind::Unreadable)
        .collect();
    if !unreadable.is_empty() {
        for e in &unreadable {
            eprintln!("error: {e}");
        }
        return Err(Failure::bad_input(format!(
            "{} {} could not be read; nothing was linted",
            unreadable.len(),
            if unreadable.len() == 1 {
                "input"
            } else {
                "inputs"
            }
        )));
    }
    let namespace = super::offline_namespace(cluster);
    let report = lint::check(
        &loaded,
        &lint::Options {
            default_namespace: &namespace,
            disabled: &args.disable,
        },
    );
    print(&match args.output {
        LintFormat::Text => render::text(&report, &loaded.texts, crate::output::stdout_color()),
        LintFormat::Json => render::json(&report),
        LintFormat::Sarif => render::sarif(&report),
        LintFormat::Github => render::github(&report),
    });
    let threshold = match (args.fail_on, args.strict) {
        (FailLevel::Never, _) => None,
        (FailLevel::Info, _) => Some(Severity::Info),
        (FailLevel::Warning, _) | (FailLevel::Error, true) => Some(Severity::Warning),
        (FailLevel::Error, false) => Some(Severity::Error),
    };
    match threshold {
        Some(level) if report.reaches(level) => Err(Failure::new(exit::FAILED, "")),
        _ => Ok(()),
    }
}

fn unknown_rule(id: &str) -> Failure {
    Failure::bad_input(format!(
        "unknown lint rule {id:?}; the rules are:\n  {}",
        rules::ids().collect::<Vec<_>>().join("\n  ")
    ))
}

fn explain(id: &str) -> Outcome {
    match rules::find(id) {
        Some(rule) => {
            print(&rule.explain());
            Ok(())
        }
        None => Err(unknown_rule(id)),
    }
}
