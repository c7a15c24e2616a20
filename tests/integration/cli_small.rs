//! The small things a user of the command line notices, no cluster needed: a kubeconfig that
//! gives no cluster is a cluster problem (exit 3), every `-o` says what it is for, and the
//! commands that use no cluster do not list the cluster flags.

use crate::support::{hooks_command, write_input};

#[test]
fn an_empty_kubeconfig_is_a_cluster_problem_and_a_missing_one_named_by_flag_bad_usage() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
    let file = &write_input(dir.path(), "app.yaml", yaml, "");
    let empty = hooks_command()
        .args(["sync", "-f", file, "--yes", "--kubeconfig", "/dev/null"])
        .run()
        .exits(3);
    empty.stderr_says("no current-context");
    hooks_command()
        .args(["sync", "-f", file, "--yes", "--kubeconfig"])
        .args([dir.path().join("missing")])
        .run()
        .exits(2);
}

fn help(command: &str) -> String {
    let run = hooks_command().args([command, "--help"]).run().exits(0);
    run.stdout
}

#[test]
fn every_output_flag_says_what_it_is_for() {
    for command in ["sync", "cleanup", "delete", "version", "plan", "lint"] {
        let text = help(command);
        let lines: Vec<&str> = text.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.trim_start().starts_with("-o, --output <OUTPUT>"))
            .unwrap_or_else(|| panic!("{command}: no -o in\n{text}"));
        let line = lines[at];
        // clap puts the help on the next line when a command's flags are long.
        let rest = line
            .split("<OUTPUT>")
            .nth(1)
            .unwrap_or_default()
            .trim_start();
        let rest = if rest.is_empty() {
            lines.get(at + 1).map_or("", |l| l.trim_start())
        } else {
            rest
        };
        let described = rest.starts_with(char::is_alphabetic);
        assert!(described, "{command}: -o has no help text: {line:?}");
    }
}

#[test]
fn commands_that_use_no_cluster_do_not_list_the_cluster_flags() {
    for command in ["lint", "version", "completion"] {
        let text = help(command);
        for flag in [
            "--kubeconfig",
            "--context",
            "--cluster",
            "--user",
            "--request-timeout",
        ] {
            assert!(!text.contains(flag), "{command} lists {flag}:\n{text}");
        }
    }
    // lint names the namespace of objects that name none: -n stays.
    assert!(help("lint").contains("--namespace"));
    assert!(!help("version").contains("--namespace"));
    for command in ["plan", "sync", "cleanup", "delete"] {
        assert!(help(command).contains("--kubeconfig"), "{command}");
    }
    // Still accepted where unlisted, as kubectl's global flags are.
    hooks_command()
        .args([
            "version",
            "--kubeconfig",
            "/dev/null",
            "-n",
            "x",
            "-o",
            "json",
        ])
        .run()
        .exits(0);
}
