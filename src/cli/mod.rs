//! The command line: parsing, dispatch, and the mapping from outcomes to exit codes.

mod app;
pub mod args;
mod cleanup;
pub mod complete;
mod delete;
mod diff;
mod input;
mod lint;
mod operation;
mod plan;
mod status;
mod sync;

pub use args::{Cli, ClusterArgs, Command, InputArgs};
pub use input::read_input;

use clap::{CommandFactory, FromArgMatches};
use std::ffi::OsString;
use std::fmt;
use std::io::Write;
use std::process::ExitCode;
use tracing_subscriber::layer::SubscriberExt;

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
    /// The problems behind it, one `error: ...` line each, printed before the message.
    pub details: Vec<String>,
    /// Printed to stderr as `error: ...`; empty when everything was already said.
    pub message: String,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            code,
            details: Vec::new(),
            message: message.into(),
        }
    }
    pub fn with_details(mut self, details: Vec<String>) -> Failure {
        self.details = details;
        self
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

/// The exit code of a cluster error, by its class: the one place that decides it.
pub fn exit_code_of(class: crate::cluster::ErrorClass) -> u8 {
    use crate::cluster::ErrorClass;
    match class {
        ErrorClass::BadInput => exit::BAD_INPUT,
        ErrorClass::Access | ErrorClass::Unavailable => exit::CLUSTER,
        ErrorClass::Rejected => exit::FAILED,
    }
}

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
        print(&complete::complete(command(), &words, descriptions));
        return ExitCode::from(exit::SUCCESS);
    }
    let matches = command().get_matches_from(expand_verbosity(std::env::args_os()));
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    log_to_stderr(cli.verbose);
    let outcome = run(cli);
    let _ = std::io::stdout().flush();
    match outcome {
        Ok(()) => ExitCode::from(exit::SUCCESS),
        Err(failure) => {
            for detail in &failure.details {
                eprintln!("error: {detail}");
            }
            if !failure.message.is_empty() {
                eprintln!("error: {}", failure.message);
            }
            ExitCode::from(failure.code)
        }
    }
}

/// kubectl's `-v=6` (also `--v=6`, `--verbose=6`, `-v6`) as six `-v`: clap counts them.
/// Arguments after `--` are left alone.
fn expand_verbosity(args: impl Iterator<Item = OsString>) -> Vec<OsString> {
    let mut out = Vec::new();
    let mut rest = false;
    for arg in args {
        let level = arg.to_str().filter(|_| !rest).and_then(|a| {
            ["--verbose=", "--v=", "-v=", "-v"]
                .iter()
                .find_map(|flag| a.strip_prefix(flag))
                .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                .map(|n| n.parse::<u8>().unwrap_or(u8::MAX).min(10))
        });
        rest |= arg == "--";
        match level {
            Some(n) => out.extend((0..n).map(|_| OsString::from("-v"))),
            None => out.push(arg),
        }
    }
    out
}

/// `-v` levels as kubectl reads them: 1 to 5 say what the command connects to, 6 and 7
/// every API request with its status and duration, 8 and more each request as it starts.
/// Without `-v` nothing is logged.
fn log_to_stderr(verbose: u8) {
    let level = match verbose {
        0 => return,
        1..=5 => tracing::Level::INFO,
        6 | 7 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    // This program's own events only: the HTTP stack's are about its internals.
    let own = tracing_subscriber::filter::Targets::new().with_target("kubectl_hooks", level);
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(false)
        .with_ansi(false)
        .finish()
        .with(own);
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// The cluster flags each command that never talks to a cluster leaves out of its help:
/// they are global (so `kubectl hooks --context c sync` works) and still accepted there.
/// `lint` keeps `-n`, which names the namespace of objects that name none.
const UNLISTED_CLUSTER_FLAGS: &[(&str, &[&str])] = &[
    ("lint", CONNECTION_FLAGS),
    ("version", ALL_CLUSTER_FLAGS),
    ("completion", ALL_CLUSTER_FLAGS),
];

/// The global flags that say how to reach and log in to a cluster.
const CONNECTION_FLAGS: &[&str] = &[
    "kubeconfig",
    "context",
    "cluster",
    "user",
    "request_timeout",
];

/// The connection flags and `-n`.
const ALL_CLUSTER_FLAGS: &[&str] = &[
    "kubeconfig",
    "context",
    "cluster",
    "user",
    "namespace",
    "request_timeout",
];

/// The command line as parsed and as shown in `--help`.
pub fn command() -> clap::Command {
    let mut command = Cli::command();
    let globals: Vec<clap::Arg> = command
        .get_arguments()
        .filter(|a| a.is_global_set())
        .cloned()
        .collect();
    // A subcommand that already has an argument of a global's id keeps its own copy when
    // the globals are handed down: here, the same flag, hidden.
    for (name, flags) in UNLISTED_CLUSTER_FLAGS {
        command = command.mut_subcommand(*name, |mut sub| {
            for arg in globals
                .iter()
                .filter(|a| flags.contains(&a.get_id().as_str()))
            {
                sub = sub.arg(arg.clone().hide(true));
            }
            sub
        });
    }
    command
}

pub fn run(cli: Cli) -> Outcome {
    match cli.command {
        Command::Plan(args) => plan::run(&cli.cluster, &args),
        Command::Version(args) => version(args.output.as_deref()),
        Command::Completion { shell } => {
            match shell.shell() {
                Some(shell) => {
                    let mut command = command();
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
    crate::cluster::default_namespace_offline(&operation::cluster_flags(cluster))
}
