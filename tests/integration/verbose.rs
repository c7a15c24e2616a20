//! `-v`/`--verbose`: what each level adds on stderr, and that nothing is added without it.

use crate::support::{Run, hooks_command, unique_namespace};

fn cleanup_dry_run(namespace: &str, verbosity: &[&str]) -> Run {
    hooks_command()
        .args(["cleanup", "--dry-run", "-n", namespace])
        .args(verbosity)
        .test_cluster()
        .run()
}

/// Lines that trace an API request: `GET /api/v1/... 200 OK in 3 ms`.
fn request_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains(" GET /") && l.contains(" ms"))
        .collect()
}

#[test]
fn each_api_request_is_traced_with_its_status_from_v6_and_nothing_without_v() {
    let ns = unique_namespace("verbose");
    let quiet = cleanup_dry_run(&ns, &[]).exits(0);
    assert!(!quiet.stderr.contains("GET /"), "{}", quiet.output());
    assert!(!quiet.stderr.contains("INFO"), "{}", quiet.output());

    for flags in [&["-v=6"][..], &["-vvvvvv"], &["--verbose=6"], &["--v=6"]] {
        let loud = cleanup_dry_run(&ns, flags);
        assert_eq!(loud.code, Some(0), "{flags:?}: {}", loud.output());
        // The command's own output is the same; the log is extra, on stderr.
        assert_eq!(loud.stdout, quiet.stdout, "{flags:?}");
        let lines = request_lines(&loud.stderr);
        let jobs = format!("GET /apis/batch/v1/namespaces/{ns}/jobs?");
        assert!(
            lines
                .iter()
                .any(|l| l.contains(&jobs) && l.contains(" 200 OK in ")),
            "{flags:?}: no traced list of the namespace's jobs:\n{}",
            loud.stderr
        );
        // A kind the cluster does not serve: its discovery answers 404, and says so.
        assert!(
            lines
                .iter()
                .any(|l| l.contains("/apis/argoproj.io/v1alpha1") && l.contains(" 404 ")),
            "{flags:?}:\n{}",
            loud.stderr
        );
    }
}

#[test]
fn one_v_says_what_it_connects_to_but_not_each_request() {
    let ns = unique_namespace("verbose-one");
    let run = cleanup_dry_run(&ns, &["-v"]).exits(0);
    run.stderr_says("context \"admin\"")
        .stderr_says(&format!("namespace \"{ns}\""));
    assert!(request_lines(&run.stderr).is_empty(), "{}", run.output());
}
