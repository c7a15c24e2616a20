//! The command line, as kubectl users expect it: `kubectl hooks <command> -f PATH ...` with
//! kubectl's cluster flags.

use crate::cluster::parse_duration;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

pub const EXIT_CODES: &str = "\
Exit codes:
  0    success
  1    the work failed (lint findings at the threshold, a sync or hook that failed or timed out)
  2    bad usage or bad input (nothing was done)
  3    cannot reach or use the cluster (connection, TLS, authentication, RBAC), also when it
       stopped answering during the work and still does not at its end
  130  interrupted (Ctrl-C); 143 with SIGTERM";

#[derive(Debug, Parser)]
#[command(
    name = "kubectl-hooks",
    bin_name = "kubectl hooks",
    version,
    about = "Argo CD sync waves and resource hooks, without Argo CD",
    long_about = "Reads manifests annotated with argocd.argoproj.io/hook, hook-delete-policy and \
sync-wave (and Helm's helm.sh/hook*), and lints, plans, syncs, cleans up and deletes them \
against the current kubeconfig context, in the order Argo CD would.",
    after_help = EXIT_CODES,
    propagate_version = true,
    disable_help_subcommand = true,
    args_override_self = true
)]
pub struct Cli {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Log to stderr, more with each -v (or -v=N, as kubectl): 1 the connection, 6 every API
    /// request with its status and duration, 8 each request as it starts
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

/// kubectl's flags for choosing a cluster, global to every command.
#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = "Cluster options (as kubectl)")]
pub struct ClusterArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The kubeconfig cluster to use
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,
    /// The kubeconfig user to use
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,
    /// Namespace for objects that name none, and the app's namespace, where its lock and
    /// inventory live (default: the context's namespace, else "default")
    #[arg(short = 'n', long, global = true, value_name = "NAME")]
    pub namespace: Option<String>,
    /// How long to wait for one API request, e.g. 30s, 1m ("0" waits as long as needed)
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration)]
    pub request_timeout: Option<std::time::Duration>,
}

/// Where manifests come from, as `kubectl apply -f` and `-k`, and Argo CD's source types.
#[derive(Debug, Clone, Args, Default)]
pub struct InputArgs {
    /// A file, a directory of .yaml/.yml/.json files, or - for stdin (repeatable). A directory
    /// with a kustomization.yaml is rendered with kustomize, one with a Chart.yaml with
    /// `helm template`, as Argo CD does
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub filenames: Vec<String>,
    /// A kustomization directory, rendered as `kubectl apply -k` does (with `kustomize build`
    /// when kustomize is on PATH, else `kubectl kustomize`)
    #[arg(
        short = 'k',
        long = "kustomize",
        value_name = "DIR",
        conflicts_with = "filenames"
    )]
    pub kustomize: Option<String>,
    /// Read directories given with -f recursively (symlinked directories are not followed)
    #[arg(short = 'R', long)]
    pub recursive: bool,
    #[command(flatten)]
    pub helm: HelmArgs,
}

const HELM_HEADING: &str = "Helm charts (a directory with Chart.yaml given with -f)";

/// `helm template`'s inputs, for a chart directory given with -f.
#[derive(Debug, Clone, Args, Default)]
pub struct HelmArgs {
    /// The release name (default: the chart's name)
    #[arg(long, value_name = "NAME", help_heading = HELM_HEADING)]
    pub release: Option<String>,
    /// A values file (repeatable; later files win)
    #[arg(long = "values", value_name = "FILE", help_heading = HELM_HEADING)]
    pub values: Vec<String>,
    /// A value, as helm's --set key=value (repeatable)
    #[arg(long = "set", value_name = "KEY=VALUE", help_heading = HELM_HEADING)]
    pub set: Vec<String>,
    /// A string value, as helm's --set-string key=value (repeatable)
    #[arg(long = "set-string", value_name = "KEY=VALUE", help_heading = HELM_HEADING)]
    pub set_string: Vec<String>,
}

impl HelmArgs {
    pub fn is_given(&self) -> bool {
        self.release.is_some()
            || !self.values.is_empty()
            || !self.set.is_empty()
            || !self.set_string.is_empty()
    }
}

/// Which app a command works on.
#[derive(Debug, Clone, Args, Default)]
pub struct AppArgs {
    /// The app's name (a DNS label): keys its lock, labels and inventory (default: the -f
    /// directory's name, or a single file's name without extension; required with stdin)
    #[arg(long, value_name = "NAME")]
    pub app: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrunePropagation {
    /// Dependents first, then the object (as Argo CD prunes by default)
    Foreground,
    /// The object now, its dependents by the garbage collector afterwards
    Background,
    /// The object only; its dependents stay
    Orphan,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check hook and wave annotations and ordering; nothing touches a cluster
    Lint(LintArgs),
    /// Show the wave table: what runs in which phase and wave, in order
    Plan(PlanArgs),
    /// Run the hooks and waves against the current kubeconfig context
    Sync(SyncArgs),
    /// Delete hook objects as their delete policies say
    Cleanup(CleanupArgs),
    /// Take the app down: PreDelete hooks, objects in reverse wave order, PostDelete hooks
    Delete(DeleteArgs),
    /// What a sync would change, object by object (exit 1 when anything would)
    Diff(DiffArgs),
    /// The app's objects: health, in sync or not, the last sync's result
    Status(StatusArgs),
    /// Print the version
    Version(VersionArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish), or the
    /// kubectl_complete-hooks helper that completes `kubectl hooks ...` (kubectl)
    #[command(after_help = COMPLETION_HELP)]
    Completion {
        #[arg(value_enum)]
        shell: CompletionShell,
    },
}

pub const COMPLETION_HELP: &str = "\
`kubectl hooks ...` (kubectl 1.26 or later, with kubectl's own completion loaded):
  kubectl hooks completion kubectl > ~/.local/bin/kubectl_complete-hooks
  chmod +x ~/.local/bin/kubectl_complete-hooks      # any directory on PATH will do

`kubectl-hooks ...` typed as one word, e.g. for bash:
  source <(kubectl-hooks completion bash)";

/// What `completion` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    /// Bash script for `kubectl-hooks`
    Bash,
    /// Zsh script for `kubectl-hooks`
    Zsh,
    /// Fish script for `kubectl-hooks`
    Fish,
    /// PowerShell script for `kubectl-hooks`
    Powershell,
    /// Elvish script for `kubectl-hooks`
    Elvish,
    /// The kubectl_complete-hooks helper through which kubectl completes `kubectl hooks`
    Kubectl,
}

impl CompletionShell {
    /// The clap_complete generator; `None` for the kubectl helper.
    pub fn shell(self) -> Option<clap_complete::Shell> {
        use clap_complete::Shell;
        match self {
            CompletionShell::Bash => Some(Shell::Bash),
            CompletionShell::Zsh => Some(Shell::Zsh),
            CompletionShell::Fish => Some(Shell::Fish),
            CompletionShell::Powershell => Some(Shell::PowerShell),
            CompletionShell::Elvish => Some(Shell::Elvish),
            CompletionShell::Kubectl => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Table,
    Wide,
    Json,
    Yaml,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub app: AppArgs,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    pub output: PlanFormat,
    /// Accept Argo CD's behaviour for hooks with no known type (e.g. "presync"): leave them out,
    /// with a warning, instead of refusing
    #[arg(long)]
    pub drop_unknown_hooks: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    Text,
    Json,
    Sarif,
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum FailLevel {
    Info,
    Warning,
    Error,
    Never,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: LintFormat,
    /// Exit 1 when a finding of this severity or worse is found
    #[arg(long, value_enum, default_value = "error", value_name = "LEVEL")]
    pub fail_on: FailLevel,
    /// Fail on warnings too (same as --fail-on warning)
    #[arg(long)]
    pub strict: bool,
    /// Turn a rule off for this run (repeatable, or comma-separated)
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub disable: Vec<String>,
    /// Print a rule's documentation and exit
    #[arg(long, value_name = "RULE")]
    pub explain: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
#[command(after_help = SYNC_HELP)]
pub struct SyncArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub app: AppArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// Delete the app's objects that are no longer in the input (members of its inventory only)
    #[arg(long)]
    pub prune: bool,
    /// With --prune: prune after the last Sync wave (as PruneLast=true on every object)
    #[arg(long, requires = "prune")]
    pub prune_last: bool,
    /// How prunes propagate to what the pruned objects own
    #[arg(long, value_enum, default_value = "foreground", value_name = "POLICY")]
    pub prune_propagation: PrunePropagation,
    /// Take over objects that another app's inventory holds, instead of refusing
    #[arg(long)]
    pub force_adopt: bool,
    /// Pause between steps (Argo CD pauses 2s; by default this tool does not)
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub wave_delay: Option<std::time::Duration>,
    /// Create namespaces the objects need when they do not exist
    #[arg(long)]
    pub create_namespace: bool,
    /// Print the number of API requests made and the time per step
    #[arg(long)]
    pub stats: bool,
}

/// Flags `sync` and `delete` share: how the operation runs and reports.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Output format of the report (with --dry-run: of the tasks it would run)
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    pub output: ReportFormat,
    /// Do not ask before changing the cluster
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Validate everything (discovery, server-side dry runs) and show what would be done; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Time limit for the whole operation: every wait (hooks, health, a new CRD's kind,
    /// deletions) ends by it ("0": no limit)
    #[arg(long, default_value = "5m", value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: std::time::Duration,
    /// Time limit for each hook (default: none beyond --timeout)
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub hook_timeout: Option<std::time::Duration>,
    /// Accept Argo CD's behaviour for hooks with no known type: leave them out, with a warning
    #[arg(long)]
    pub drop_unknown_hooks: bool,
    /// Fail on field-manager conflicts instead of taking the fields over
    #[arg(long)]
    pub no_force_conflicts: bool,
    /// Judge custom resources by status conventions (Ready/Reconciling/Stalled conditions,
    /// observedGeneration) instead of counting them healthy at once, as Argo CD does
    #[arg(long)]
    pub kstatus: bool,
    /// How many objects to send at once
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub concurrency: usize,
    /// On Ctrl-C, SIGTERM or a timeout, leave running hooks running instead of terminating
    /// them (deleting the hook Job or Pod with its pods, as Argo CD's Terminate does)
    #[arg(long)]
    pub keep_running_hooks: bool,
    /// Log lines shown per failed container in the report (0: no logs)
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub logs_tail: usize,
    /// Stream hook pods' output while they run, each line prefixed with the hook's name
    #[arg(long)]
    pub logs: bool,
    /// Run without the app's lock (a Lease in its namespace), e.g. without rights on leases
    #[arg(long)]
    pub no_lock: bool,
}

const SYNC_HELP: &str = "\
The app: --app NAME, else the -f directory's name (or a single file's name without extension).
Its lock (Lease kubectl-hooks-NAME) and inventory (Secret kubectl-hooks-NAME, a kubectl ApplySet
parent) live in the app's namespace: -n, else the context's. That namespace must exist, or be
created first with --create-namespace. Every applied object (not hooks) is labelled
applyset.kubernetes.io/part-of=<id>, so `kubectl get -l applyset.kubernetes.io/part-of=<id>`
lists the app. Members that left the input are deleted with --prune (Argo CD's prune order:
live waves mirrored, PruneLast after the last wave, Prune=false kept, Prune=confirm asked for),
and named as \"ignored (requires pruning)\" without it.

Exit codes:
  0    success
  1    the sync failed, or was refused (lock held, objects owned by another app)
  2    bad usage or bad input (nothing was done)
  3    cannot reach or use the cluster (connection, authentication, RBAC, no rights on leases),
       also when it stopped answering during the sync and still does not at its end
  130  interrupted (Ctrl-C)";

#[derive(Debug, Args)]
#[command(after_help = CLEANUP_HELP)]
pub struct CleanupArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Only the hooks of this app (default: every app's hooks; with -f, the input's hooks)
    #[arg(long, value_name = "NAME")]
    pub app: Option<String>,
    /// Run without taking the apps' locks
    #[arg(long)]
    pub no_lock: bool,
    /// Look in every namespace
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Delete every finished hook, whatever its delete policy
    #[arg(long)]
    pub all: bool,
    /// With --all: delete running hooks too
    #[arg(long, requires = "all")]
    pub force: bool,
    /// Show what would be deleted and kept (after a dry-run delete of each); delete nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask before deleting
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Output format of the report (with --dry-run: of what would be deleted and kept)
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    pub output: ReportFormat,
    /// How long to wait for deleted objects (and what they own) to be gone
    #[arg(long, default_value = "2m", value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: std::time::Duration,
    /// How many requests to send at once
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub concurrency: usize,
}

const CLEANUP_HELP: &str = "\
Finds the hook objects that `sync` and `delete` created (label kubectl-hooks.io/hook=true) in the
namespace (-n, else the context's; -A for all) and deletes those their own delete policies say
should go: HookSucceeded when the hook succeeded, HookFailed when it failed. Other hooks are kept,
and the table says why. Without -f, these kinds are searched: Job, Pod, Workflow (when served),
ServiceAccount, ConfigMap, Secret, Role, RoleBinding. Objects without the label are never touched.

Exit codes:
  0    every hook meant to be deleted is gone (or --dry-run)
  1    a deletion failed or timed out
  2    bad usage or bad input (nothing was done)
  3    cannot reach or use the cluster, or not allowed to delete (nothing was deleted)
  130  interrupted (Ctrl-C)";

#[derive(Debug, Args)]
#[command(after_help = DELETE_HELP)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub app: AppArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// Wait for each wave's objects to be gone before deleting the next (the default)
    #[arg(long, overrides_with = "no_wait")]
    pub wait: bool,
    /// Do not wait between waves (PostDelete hooks still wait until everything is gone)
    #[arg(long, overrides_with = "wait")]
    pub no_wait: bool,
}

const DELETE_HELP: &str = "\
Order: every PreDelete hook (by wave, as in a sync) until it succeeded; then the input's objects
in the reverse of the sync order (highest wave first; within a wave workloads before their
config, Namespaces and CRDs last), each wave gone before the next; then every PostDelete hook.
Helm's pre-delete/post-delete hooks count as PreDelete/PostDelete. Left in place: objects with
Delete=false (argocd.argoproj.io/sync-options) or helm.sh/resource-policy: keep, `hook: Skip`
objects, and sync hooks (`kubectl hooks cleanup` removes those). Objects already gone are fine,
so a delete can be run again after a failure.

Exit codes:
  0    everything meant to be deleted is gone, every hook succeeded
  1    a hook failed or timed out (a failing PreDelete hook stops everything before any
       deletion), or a deletion failed
  2    bad usage or bad input (nothing was done)
  3    cannot reach or use the cluster, or not allowed to delete (nothing was deleted)
  130  interrupted (Ctrl-C)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Unified diffs (or KUBECTL_EXTERNAL_DIFF's output)
    Text,
    Json,
}

#[derive(Debug, Args)]
#[command(after_help = DIFF_HELP)]
pub struct DiffArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub app: AppArgs,
    /// Output format of the differences
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: DiffFormat,
    /// Fail on field-manager conflicts instead of taking the fields over (as sync would)
    #[arg(long)]
    pub no_force_conflicts: bool,
    /// How many objects to ask about at once
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub concurrency: usize,
}

const DIFF_HELP: &str = "\
For each object of the input: a unified diff of the live object against the result of a
server-side dry-run apply (fields the server sets left out: managedFields, resourceVersion,
generation, uid, creationTimestamp, status). Objects that would be created show as added;
members of the app that left the input as \"to be pruned\"; hooks as \"would run\". Secret
values are masked on both sides (*** , or *** (before) / *** (after) where a value changed).
KUBECTL_EXTERNAL_DIFF is honoured as by kubectl: the command gets two directories, LIVE and
MERGED, with one file per object.

Exit codes (as kubectl diff):
  0    no differences
  1    differences
  2    bad usage or bad input, or the server rejected an object
  3    cannot reach or use the cluster";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
#[command(after_help = STATUS_HELP)]
pub struct StatusArgs {
    /// With -f, each member is also compared with the input (in sync or not)
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub app: AppArgs,
    /// Output format of the app's status
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    pub output: StatusFormat,
    /// Print again whenever something changes (Ctrl-C to stop)
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// With --watch: how often to look again
    #[arg(long, default_value = "2s", value_parser = parse_duration, value_name = "DURATION")]
    pub interval: std::time::Duration,
}

const STATUS_HELP: &str = "\
Lists the app's members (from its inventory: kubectl-hooks-NAME in the app's namespace) with
their Argo CD health and message, whether each is in sync with the input (-f; \"unknown\"
without it), and the last sync's time and result.

Exit codes:
  0    every member is healthy and in sync
  1    something is not healthy, not in sync (or unknown), or the app has no inventory
  2    bad usage or bad input
  3    cannot reach or use the cluster";

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Output format (default: one line of text)
    #[arg(short = 'o', long = "output", value_parser = ["json", "yaml"])]
    pub output: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use std::time::Duration;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
        super::super::command().debug_assert();
    }

    #[test]
    fn durations_like_kubectl() {
        assert_eq!(parse_duration("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("").is_err());
        // Too large for a Duration: an error, not a panic.
        assert!(parse_duration("99999999999999999999h").is_err());
    }
}
