//! Completion of `kubectl hooks ...` through kubectl's own shell completion.
//!
//! kubectl 1.26 and later complete a plugin's arguments by running `kubectl_complete-hooks` from
//! PATH with the words typed after `kubectl hooks`, the last one being the word to complete
//! (empty after a space). The answer is cobra's `__complete` protocol: one candidate a line,
//! optionally `candidate<TAB>description`, then `:DIRECTIVE`. `kubectl-hooks __complete ...`
//! answers it from the clap command tree; `kubectl hooks completion kubectl` prints the
//! `kubectl_complete-hooks` script that calls it.

use clap::{Arg, ArgAction, Command, ValueHint};

/// The hidden command that answers kubectl's completion requests.
pub const COMPLETE: &str = "__complete";
/// The same, without descriptions (cobra's name for it).
pub const COMPLETE_NO_DESC: &str = "__completeNoDesc";

/// cobra's ShellCompDirective: let the shell complete file names when there are no candidates.
const DEFAULT: u32 = 0;
/// cobra's ShellCompDirective: do not fall back to file names.
const NO_FILE_COMP: u32 = 4;

/// The `kubectl_complete-hooks` script that kubectl runs to complete `kubectl hooks ...`.
pub const KUBECTL_HELPER: &str = "\
#!/bin/sh
# Completion of `kubectl hooks ...` for kubectl 1.26 or later, which runs
# kubectl_complete-hooks from PATH to complete a plugin's arguments.
# Made by `kubectl hooks completion kubectl`; install it as an executable file named
# kubectl_complete-hooks in a directory on PATH, next to kubectl-hooks.
exec kubectl-hooks __complete \"$@\"
";

/// Answers `__complete WORDS...`: the lines to print on stdout.
pub fn complete(mut command: Command, words: &[String], descriptions: bool) -> String {
    command.build();
    let (candidates, directive) = candidates(&command, words);
    let mut out = String::new();
    for (value, help) in candidates {
        out.push_str(&value);
        if descriptions && !help.is_empty() {
            out.push('\t');
            out.push_str(&help);
        }
        out.push('\n');
    }
    out.push_str(&format!(":{directive}\n"));
    out
}

type Candidates = Vec<(String, String)>;

fn candidates(root: &Command, words: &[String]) -> (Candidates, u32) {
    let (current, before) = match words.split_last() {
        Some((current, before)) => (current.as_str(), before),
        None => ("", &[][..]),
    };
    let mut command = root;
    let mut pending: Option<&Arg> = None;
    let mut positionals = 0usize;
    let mut only_positionals = false;
    for word in before {
        if pending.take().is_some() {
            continue;
        }
        if only_positionals {
            positionals += 1;
            continue;
        }
        if word == "--" {
            only_positionals = true;
        } else if let Some(long) = word.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((name, _)) => (name, true),
                None => (long, false),
            };
            if let Some(arg) = find_long(command, name)
                && takes_value(arg)
                && !inline
            {
                pending = Some(arg);
            }
        } else if let Some(shorts) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
            for (i, c) in shorts.char_indices() {
                if let Some(arg) = command.get_arguments().find(|a| a.get_short() == Some(c))
                    && takes_value(arg)
                {
                    if i + c.len_utf8() == shorts.len() {
                        pending = Some(arg);
                    }
                    break;
                }
            }
        } else if let Some(sub) = command.find_subcommand(word) {
            command = sub;
            positionals = 0;
        } else {
            positionals += 1;
        }
    }

    if let Some(arg) = pending {
        return values(arg, current, "");
    }
    if !only_positionals && let Some(long) = current.strip_prefix("--") {
        if let Some((name, value)) = long.split_once('=') {
            return match find_long(command, name) {
                Some(arg) if takes_value(arg) => values(arg, value, &format!("--{name}=")),
                _ => (Vec::new(), NO_FILE_COMP),
            };
        }
        return (flags(command, current), NO_FILE_COMP);
    }
    if !only_positionals && current.starts_with('-') {
        return (flags(command, current), NO_FILE_COMP);
    }
    if command.has_subcommands() {
        let subcommands = command
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name().starts_with(current))
            .map(|s| (s.get_name().to_string(), about(s)))
            .collect();
        return (subcommands, NO_FILE_COMP);
    }
    let positional = command
        .get_positionals()
        .filter(|a| !a.is_hide_set())
        .nth(positionals);
    match positional {
        Some(arg) => values(arg, current, ""),
        // Nothing but flags left to type.
        None => (flags(command, current), NO_FILE_COMP),
    }
}

fn find_long<'a>(command: &'a Command, name: &str) -> Option<&'a Arg> {
    command.get_arguments().find(|a| {
        a.get_long() == Some(name)
            || a.get_all_aliases()
                .is_some_and(|aliases| aliases.contains(&name))
    })
}

fn takes_value(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::Set | ArgAction::Append)
        && arg.get_num_args().is_none_or(|n| n.takes_values())
}

/// Candidates for a flag's value: its possible values, else file names for paths, else none.
fn values(arg: &Arg, current: &str, prefix: &str) -> (Candidates, u32) {
    let possible: Candidates = arg
        .get_possible_values()
        .into_iter()
        .filter(|v| !v.is_hide_set() && v.get_name().starts_with(current))
        .map(|v| {
            (
                format!("{prefix}{}", v.get_name()),
                v.get_help().map(one_line).unwrap_or_default(),
            )
        })
        .collect();
    if !possible.is_empty() {
        return (possible, NO_FILE_COMP);
    }
    let is_path = matches!(
        arg.get_value_hint(),
        ValueHint::AnyPath | ValueHint::FilePath | ValueHint::DirPath
    ) || arg
        .get_value_names()
        .is_some_and(|names| names.iter().any(|n| n.as_str() == "PATH"));
    if is_path && prefix.is_empty() {
        (Vec::new(), DEFAULT)
    } else {
        (Vec::new(), NO_FILE_COMP)
    }
}

fn flags(command: &Command, current: &str) -> Candidates {
    let mut out = Vec::new();
    for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
        let help = arg.get_help().map(one_line).unwrap_or_default();
        if let Some(long) = arg.get_long() {
            let flag = format!("--{long}");
            if flag.starts_with(current) {
                out.push((flag, help.clone()));
            }
        }
        if current == "-"
            && let Some(short) = arg.get_short()
        {
            out.push((format!("-{short}"), help));
        }
    }
    out
}

fn about(command: &Command) -> String {
    command.get_about().map(one_line).unwrap_or_default()
}

fn one_line(text: &clap::builder::StyledStr) -> String {
    let text = text.to_string();
    let first = text.lines().next().unwrap_or_default();
    first.replace('\t', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::CommandFactory;

    fn ask(words: &[&str]) -> (Vec<String>, String) {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        let out = complete(Cli::command(), &words, false);
        let mut lines: Vec<String> = out.lines().map(str::to_string).collect();
        let directive = lines.pop().unwrap();
        (lines, directive)
    }

    #[test]
    fn subcommands_then_flags_then_values() {
        let (c, d) = ask(&[""]);
        assert!(c.contains(&"sync".to_string()) && c.contains(&"plan".to_string()));
        assert!(!c.iter().any(|c| c.starts_with("__")), "{c:?}");
        assert_eq!(d, ":4");
        assert_eq!(ask(&["sy"]).0, ["sync"]);
        assert_eq!(ask(&["--context", "x", "pl"]).0, ["plan"]);
        assert_eq!(ask(&["-n", "x", "pl"]).0, ["plan"]);

        let (c, _) = ask(&["plan", "--out"]);
        assert_eq!(c, ["--output"]);
        let (c, _) = ask(&["plan", "-o", ""]);
        assert_eq!(c, ["table", "wide", "json", "yaml"]);
        let (c, _) = ask(&["plan", "--output=j"]);
        assert_eq!(c, ["--output=json"]);
        let (c, _) = ask(&["plan", "--kube"]);
        assert_eq!(
            c,
            ["--kubeconfig"],
            "global flags are offered on subcommands"
        );

        let (c, d) = ask(&["plan", "-f", ""]);
        assert!(c.is_empty());
        assert_eq!(d, ":0", "file names for -f");
        let (c, d) = ask(&["sync", "--timeout", ""]);
        assert!(c.is_empty());
        assert_eq!(d, ":4");

        let (c, _) = ask(&["completion", "b"]);
        assert_eq!(c, ["bash"]);
        let (c, _) = ask(&["completion", "k"]);
        assert_eq!(c, ["kubectl"]);
        let (c, _) = ask(&["version", ""]);
        assert!(c.contains(&"--output".to_string()), "{c:?}");
    }

    #[test]
    fn descriptions_follow_a_tab() {
        let out = complete(Cli::command(), &["sy".to_string()], true);
        let first = out.lines().next().unwrap();
        assert!(first.starts_with("sync\t"), "{first}");
    }
}
