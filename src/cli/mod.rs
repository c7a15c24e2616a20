//! The command line: parsing, dispatch, and the mapping from outcomes to exit codes.

mod app;
pub mod args;
mod cleanup;
pub mod complete;
mod delete;
mod diff;
mod input;
mod lint;
mod plan;
mod status;
mod sync;

pub use args::{Cli, ClusterArgs, Command, InputArgs};
pub use input::read_input;

use clap::{CommandFactory, Parser};
use std::fmt;
use std::io::Write;
use std::process::ExitCode;

/// Exit codes, as documented in `--help` and README.
pub mod exit {
    pub const SUCCESS: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const BAD_INPUT: u8 = 2;
    pub const CLUSTER: u8 = 3;
    pub const INTERRUPTED: u8 = 130;
}

/// A command that did not succeed: what to tell the user, and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    /// Printed to stderr as `error: ...`; empty when everything was already said.
    pub message: String,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
    pub fn bad_input(message: impl Into<String>) -> Failure {
        Failure::new(exit::BAD_INPUT, message)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

pub type Outcome = Result<(), Failure>;

/// Entry point of the binary.
pub fn main() -> ExitCode {
    // kubectl's plugin completion (through kubectl_complete-hooks), answered before clap
    // parses anything: the words are whatever the user typed so far.
    let mut args = std::env::args_os().skip(1);
    if let Some(first) = args.next()
        && (first == complete::COMPLETE || first == complete::COMPLETE_NO_DESC)
    {
        let words: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();
        let descriptions = first == complete::COMPLETE;
        print(&complete::complete(Cli::command(), &words, descriptions));
        return ExitCode::from(exit::SUCCESS);
    }
    let cli = Cli::parse();
    let outcome = run(cli);
    let _ = std::io::stdout().flush();
    match outcome {
        Ok(()) => ExitCode::from(exit::SUCCESS),
        Err(failure) => {
            if !failure.message.is_empty() {
                eprintln!("error: {}", failure.message);
            }
            ExitCode::from(failure.code)
        }
    }
}

pub fn run(cli: Cli) -> Outcome {
    match cli.command {
        Command::Plan(args) => plan::run(&cli.cluster, &args),
        Command::Version(args) => version(args.output.as_deref()),
        Command::Completion { shell } => {
            match shell.shell() {
                Some(shell) => {
                    let mut command = Cli::command();
                    let mut script = Vec::new();
                    clap_complete::generate(shell, &mut command, "kubectl-hooks", &mut script);
                    print(&String::from_utf8_lossy(&script));
                }
                None => print(complete::KUBECTL_HELPER),
            }
            Ok(())
        }
        Command::Lint(args) => lint::run(&cli.cluster, &args),
        Command::Sync(args) => sync::run(&cli.cluster, &args),
        Command::Cleanup(args) => cleanup::run(&cli.cluster, &args),
        Command::Delete(args) => delete::run(&cli.cluster, &args),
        Command::Diff(args) => diff::run(&cli.cluster, &args),
        Command::Status(args) => status::run(&cli.cluster, &args),
    }
}

fn version(output: Option<&str>) -> Outcome {
    let version = env!("CARGO_PKG_VERSION");
    match output {
        Some("json") => print(&format!("{}\n", serde_json::json!({ "version": version }))),
        Some(_) => print(&format!("version: {version}\n")),
        None => print(&format!("kubectl-hooks {version}\n")),
    }
    Ok(())
}

/// Prints a line to stdout; a closed pipe (`| head`) is not an error worth a panic.
pub fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
}

/// Namespace for objects that name none, without contacting a cluster: `-n`, else the
/// current context's namespace, else `default`.
pub fn offline_namespace(cluster: &ClusterArgs) -> String {
    crate::cluster::default_namespace_offline(&sync::cluster_flags(cluster))
}
