//! Distribution: `plugin.yaml` (the krew manifest), the release-bot template in
//! `krew-manifest/`, the archives `scripts/release` builds, and the release workflow.
//!
//! The manifest checks are krew-index's: `ValidatePlugin` (krew's
//! internal/index/validation) and `validate-krew-manifest` (supported and overlapping
//! platform selectors, an install on every platform that must extract a LICENSE), plus
//! this project's own rules (the binary's name, the release URL, one-line descriptions).
//! The install is done as krew does it: unpack, apply `files`, find `bin`.

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const API_VERSION: &str = "krew.googlecontainertools.github.com/v1alpha2";
const PLUGIN: &str = "hooks";
const BIN: &str = "kubectl-hooks";
const HOMEPAGE: &str = "https://github.com/kubectl-hooks/kubectl-hooks";
/// Every os/arch the template and the release workflow build for.
const PLATFORMS: [(&str, &str); 4] = [
    ("linux", "amd64"),
    ("linux", "arm64"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
];
/// The os/arch pairs validate-krew-manifest knows; each must be matched by at most one platform.
const KREW_PLATFORMS: [(&str, &str); 11] = [
    ("windows", "386"),
    ("windows", "amd64"),
    ("windows", "arm64"),
    ("linux", "386"),
    ("linux", "amd64"),
    ("linux", "arm"),
    ("linux", "arm64"),
    ("linux", "ppc64le"),
    ("darwin", "386"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
];
/// The names validate-krew-manifest accepts as a license file (lowercased).
const LICENSE_FILES: [&str; 8] = [
    "license",
    "license.txt",
    "license.md",
    "licenses",
    "licenses.txt",
    "licenses.md",
    "copying",
    "copying.txt",
];
/// A fixed SOURCE_DATE_EPOCH for the archives built here.
const EPOCH: u64 = 1_700_000_000;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn version() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_saphyr::from_str::<Value>(&text)
        .unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

fn sha256_hex(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

// ---------------------------------------------------------------------------------------------
// krew-index's rules, in Rust.

/// Everything krew-index (and this project) would refuse in manifest `m` stored as
/// `NAME.yaml`; empty when it passes.
fn krew_problems(file_stem: &str, m: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let s = |v: &Value| v.as_str().map(str::to_string);

    // The top level: krew reads manifests strictly, unknown fields included.
    unknown_fields(
        m,
        &["apiVersion", "kind", "metadata", "spec"],
        "the manifest",
        &mut p,
    );
    if m["apiVersion"] != API_VERSION {
        p.push(format!(
            "apiVersion is {}, not {API_VERSION}",
            m["apiVersion"]
        ));
    }
    if m["kind"] != "Plugin" {
        p.push(format!("kind is {}, not Plugin", m["kind"]));
    }
    if !is_safe_plugin_name(file_stem) {
        p.push(format!("the plugin name {file_stem:?} is not allowed"));
    }
    if file_stem != file_stem.to_lowercase() {
        p.push(format!("the plugin name {file_stem:?} is not lowercase"));
    }
    let name = s(&m["metadata"]["name"]).unwrap_or_default();
    if name != file_stem {
        p.push(format!(
            "plugin should be named {file_stem:?}, not {name:?}"
        ));
    }

    let spec = &m["spec"];
    unknown_fields(
        spec,
        &[
            "version",
            "homepage",
            "shortDescription",
            "description",
            "caveats",
            "platforms",
        ],
        "spec",
        &mut p,
    );
    let short = s(&spec["shortDescription"]).unwrap_or_default();
    if short.is_empty() {
        p.push("should have a short description".into());
    }
    if short.contains(['\r', '\n']) {
        p.push("should not have line breaks in short description".into());
    }
    if short.len() > 50 {
        p.push(format!(
            "shortDescription is {} characters; keep it under 50",
            short.len()
        ));
    }
    match s(&spec["version"]) {
        None => p.push("should have a version specified".into()),
        Some(v) => {
            if let Err(e) = krew_semver(&v) {
                p.push(format!("failed to parse plugin version: {e}"));
            }
        }
    }
    match s(&spec["homepage"]) {
        Some(h) if h.starts_with("https://") => {}
        other => p.push(format!("homepage should be an https URL, not {other:?}")),
    }
    let description = s(&spec["description"]).unwrap_or_default();
    if description.trim().is_empty() {
        p.push("should have a description".into());
    }
    for (field, max) in [
        ("description", 80),
        ("caveats", 80),
        ("shortDescription", 70),
    ] {
        let text = s(&spec[field]).unwrap_or_default();
        for line in text.lines() {
            if line.len() > max && line.trim().contains(' ') {
                p.push(format!(
                    "a line of {field} is over {max} characters: {line}"
                ));
            }
        }
    }

    let platforms = spec["platforms"].as_array().cloned().unwrap_or_default();
    if platforms.is_empty() {
        p.push("should have a platform specified".into());
    }
    for (i, platform) in platforms.iter().enumerate() {
        for problem in platform_problems(platform) {
            p.push(format!("spec.platforms[{i}]: {problem}"));
        }
        if selector_problems(&platform["selector"]).is_empty()
            && !KREW_PLATFORMS
                .iter()
                .any(|(os, arch)| selector_matches(&platform["selector"], os, arch))
        {
            p.push(format!(
                "spec.platforms[{i}]'s selector doesn't match any supported platform"
            ));
        }
    }
    for (os, arch) in KREW_PLATFORMS {
        let matching: Vec<usize> = platforms
            .iter()
            .enumerate()
            .filter(|(_, pl)| selector_matches(&pl["selector"], os, arch))
            .map(|(i, _)| i)
            .collect();
        if matching.len() > 1 {
            p.push(format!(
                "multiple spec.platforms (at indexes {matching:?}) select os={os}/arch={arch}"
            ));
        }
    }
    p
}

fn unknown_fields(v: &Value, known: &[&str], what: &str, p: &mut Vec<String>) {
    match v.as_object() {
        Some(map) => {
            for key in map.keys().filter(|k| !known.contains(&k.as_str())) {
                p.push(format!("{what} has an unknown field {key:?}"));
            }
        }
        None => p.push(format!("{what} is not a mapping")),
    }
}

/// krew's `IsSafePluginName`: `^[\w-]+$`, and no name Windows reserves.
fn is_safe_plugin_name(name: &str) -> bool {
    const WINDOWS: [&str; 22] = [
        "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
        "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    ];
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !WINDOWS.iter().any(|w| w.eq_ignore_ascii_case(name))
}

/// krew's semver.Parse: a leading `v`, then apimachinery's ParseSemantic: exactly
/// MAJOR.MINOR.PATCH without leading zeros, an optional -PRERELEASE and +BUILD.
fn krew_semver(v: &str) -> Result<(), String> {
    let rest = v
        .strip_prefix('v')
        .ok_or_else(|| format!("version string {v:?} does not start with 'v'"))?;
    let (rest, build) = match rest.split_once('+') {
        Some((r, b)) => (r, Some(b)),
        None => (rest, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() != 3 {
        return Err(format!("{v:?}: need MAJOR.MINOR.PATCH"));
    }
    for part in parts {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{v:?}: {part:?} is not a number"));
        }
        if part.len() > 1 && part.starts_with('0') {
            return Err(format!("{v:?}: zero-prefixed component {part:?}"));
        }
    }
    for extra in [pre, build].into_iter().flatten() {
        if extra.is_empty()
            || !extra
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        {
            return Err(format!("{v:?}: bad pre-release or build {extra:?}"));
        }
    }
    Ok(())
}

fn platform_problems(platform: &Value) -> Vec<String> {
    let mut p = Vec::new();
    unknown_fields(
        platform,
        &["selector", "uri", "sha256", "bin", "files"],
        "the platform",
        &mut p,
    );
    let uri = platform["uri"].as_str().unwrap_or_default();
    if uri.is_empty() {
        p.push("`uri` has to be set".into());
    }
    match platform["sha256"].as_str() {
        None | Some("") => p.push("`sha256` sum has to be set".into()),
        Some(sha) => {
            if sha.len() != 64
                || !sha
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                p.push(format!("`sha256` value {sha} is not valid"));
            }
        }
    }
    let bin = platform["bin"].as_str().unwrap_or_default();
    if bin.is_empty() {
        p.push("`bin` has to be set".into());
    } else if bin != BIN {
        p.push(format!("`bin` is {bin:?}, not {BIN:?}"));
    }
    match &platform["files"] {
        Value::Null => p.push("`files` should say what to extract (the binary and LICENSE)".into()),
        Value::Array(files) if files.is_empty() => {
            p.push("`files` has to be unspecified or non-empty".into())
        }
        Value::Array(files) => {
            for f in files {
                unknown_fields(f, &["from", "to"], "a file operation", &mut p);
                let from = f["from"].as_str().unwrap_or_default();
                let to = f["to"].as_str().unwrap_or_default();
                if from.is_empty() {
                    p.push("`from` field has to be set".into());
                } else if to.is_empty() {
                    p.push("`to` field has to be set".into());
                } else if clean(to) != to {
                    p.push(format!("`to` path {to:?} is not clean"));
                }
            }
            for wanted in [BIN, "LICENSE"] {
                if !files.iter().any(|f| f["from"] == wanted) {
                    p.push(format!("`files` does not extract {wanted}"));
                }
            }
        }
        _ => p.push("`files` is not a list".into()),
    }
    p.extend(selector_problems(&platform["selector"]));
    if let Some((os, arch)) = single_os_arch(&platform["selector"]) {
        let v = version();
        let expected = format!("{HOMEPAGE}/releases/download/{v}/{BIN}_{v}_{os}_{arch}.tar.gz");
        if uri != expected {
            p.push(format!("`uri` is {uri}, not {expected}"));
        }
    }
    p
}

/// Go's filepath.Clean for the relative paths krew accepts in `to`.
fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (path.starts_with('/'), joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// krew's validateSelector, and this project's rule: only `matchLabels`, with `os` and `arch`.
fn selector_problems(sel: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let Some(map) = sel.as_object() else {
        return vec!["nil selector is not supported".into()];
    };
    let labels = sel.get("matchLabels");
    let expressions = sel.get("matchExpressions");
    let no_expressions = expressions
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    if labels.is_none_or(Value::is_null) && no_expressions {
        p.push("empty selector is not supported".into());
    }
    let mut keys: Vec<String> = Vec::new();
    if let Some(l) = labels.and_then(Value::as_object) {
        keys.extend(l.keys().cloned());
        if l.is_empty() {
            p.push("`matchLabels` specified but empty".into());
        }
    }
    if let Some(e) = expressions {
        let list = e.as_array().cloned().unwrap_or_default();
        if list.is_empty() {
            p.push("`matchExpressions` specified but empty".into());
        }
        keys.extend(
            list.iter()
                .map(|x| x["key"].as_str().unwrap_or("").to_string()),
        );
        p.push("use `matchLabels` with os and arch, not `matchExpressions`".into());
    }
    for key in keys.iter().filter(|k| *k != "os" && *k != "arch") {
        p.push(format!("key {key:?} not supported"));
    }
    for key in map
        .keys()
        .filter(|k| *k != "matchLabels" && *k != "matchExpressions")
    {
        p.push(format!("the selector has an unknown field {key:?}"));
    }
    if single_os_arch(sel).is_none() && p.is_empty() {
        p.push("the selector should name one os and one arch".into());
    }
    p
}

fn single_os_arch(sel: &Value) -> Option<(String, String)> {
    let labels = sel.get("matchLabels")?.as_object()?;
    Some((
        labels.get("os")?.as_str()?.to_string(),
        labels.get("arch")?.as_str()?.to_string(),
    ))
}

/// A Kubernetes label selector against the labels {os, arch}.
fn selector_matches(sel: &Value, os: &str, arch: &str) -> bool {
    let labels = BTreeMap::from([("os", os), ("arch", arch)]);
    if !sel.is_object() {
        return false;
    }
    if let Some(l) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in l {
            if labels.get(k.as_str()).copied() != v.as_str() {
                return false;
            }
        }
    }
    if let Some(list) = sel.get("matchExpressions").and_then(Value::as_array) {
        for e in list {
            let key = e["key"].as_str().unwrap_or_default();
            let have = labels.get(key).copied();
            let values: Vec<&str> = e["values"]
                .as_array()
                .map(|v| v.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let ok = match e["operator"].as_str().unwrap_or_default() {
                "In" => have.is_some_and(|h| values.contains(&h)),
                "NotIn" => have.is_none_or(|h| !values.contains(&h)),
                "Exists" => have.is_some(),
                "DoesNotExist" => have.is_none(),
                _ => false,
            };
            if !ok {
                return false;
            }
        }
    }
    true
}

// ---------------------------------------------------------------------------------------------
// The release script.

fn release(args: &[&str]) -> Output {
    let out = Command::new("bash")
        .arg(repo().join("scripts/release"))
        .args(args)
        .env("SOURCE_DATE_EPOCH", EPOCH.to_string())
        .current_dir(repo())
        .output()
        .expect("run scripts/release");
    assert!(
        out.status.success(),
        "scripts/release {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Builds this platform's archive from the test binary into a new directory, and renders
/// its manifest there: (directory, archive, manifest).
fn build_archive() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dist = tempfile::tempdir().unwrap();
    let d = dist.path().to_str().unwrap();
    release(&["--binary", env!("CARGO_BIN_EXE_kubectl-hooks"), "--dist", d]);
    let archives: Vec<PathBuf> = std::fs::read_dir(dist.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .collect();
    assert_eq!(archives.len(), 1, "{archives:?}");
    let manifest = dist.path().join(format!("{PLUGIN}.yaml"));
    assert!(manifest.is_file(), "the manifest is named after the plugin");
    let archive = archives[0].clone();
    (dist, archive, manifest)
}

/// A tar entry's header, as written.
#[derive(Debug)]
struct Entry {
    name: String,
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: u64,
    kind: u8,
    uname: String,
    gname: String,
}

fn tar_entries(archive: &Path) -> Vec<Entry> {
    let out = Command::new("gzip")
        .arg("-dc")
        .arg(archive)
        .output()
        .expect("gzip");
    assert!(out.status.success());
    let data = out.stdout;
    let field = |h: &[u8], a: usize, b: usize| {
        String::from_utf8_lossy(&h[a..b])
            .trim_end_matches('\0')
            .trim()
            .to_string()
    };
    let octal = |s: String| u64::from_str_radix(s.trim_end_matches('\0').trim(), 8).unwrap();
    let mut entries = Vec::new();
    let mut at = 0;
    while at + 512 <= data.len() {
        let h = &data[at..at + 512];
        if h.iter().all(|&b| b == 0) {
            break;
        }
        let size = octal(field(h, 124, 136));
        entries.push(Entry {
            name: field(h, 0, 100),
            mode: octal(field(h, 100, 108)) as u32,
            uid: octal(field(h, 108, 116)),
            gid: octal(field(h, 116, 124)),
            mtime: octal(field(h, 136, 148)),
            kind: h[156],
            uname: field(h, 265, 297),
            gname: field(h, 297, 329),
        });
        at += 512 + (size as usize).div_ceil(512) * 512;
    }
    entries
}

/// What `kubectl krew install` does with an archive: unpack it, move what `files` names
/// (glob `from`, into `to`) to the install directory, and find `bin` there.
fn krew_install(archive: &Path, platform: &Value, root: &Path) -> PathBuf {
    let unpacked = root.join("unpacked");
    let install = root.join("install");
    std::fs::create_dir_all(&unpacked).unwrap();
    std::fs::create_dir_all(&install).unwrap();
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(archive)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(status.success());
    for op in platform["files"].as_array().unwrap() {
        let from = op["from"].as_str().unwrap();
        let to = install.join(op["to"].as_str().unwrap());
        std::fs::create_dir_all(&to).unwrap();
        let matched: Vec<PathBuf> = std::fs::read_dir(&unpacked)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| glob_match(from, &p.file_name().unwrap().to_string_lossy()))
            .collect();
        assert!(
            !matched.is_empty(),
            "no files in the plugin archive matched the glob pattern={from}"
        );
        for m in matched {
            std::fs::rename(&m, to.join(m.file_name().unwrap())).unwrap();
        }
    }
    let bin = install.join(platform["bin"].as_str().unwrap());
    assert!(bin.is_file(), "`bin` {} is not installed", bin.display());
    let license = std::fs::read_dir(&install)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_lowercase())
        .any(|n| LICENSE_FILES.contains(&n.as_str()));
    assert!(license, "LICENSE (or alike) file is not extracted");
    bin
}

/// `*` and `?` within one path element, as Go's filepath.Match.
fn glob_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

// ---------------------------------------------------------------------------------------------
// Tests.

#[test]
fn plugin_yaml_passes_krew_index_rules() {
    let m = read_yaml(&repo().join("plugin.yaml"));
    let problems = krew_problems(PLUGIN, &m);
    assert!(problems.is_empty(), "plugin.yaml:\n{}", problems.join("\n"));
    assert_eq!(
        m["spec"]["version"],
        version(),
        "plugin.yaml's version is Cargo.toml's: run scripts/release --output plugin.yaml"
    );
    assert_eq!(m["spec"]["homepage"], HOMEPAGE);
    let platforms = m["spec"]["platforms"].as_array().unwrap();
    assert!(
        platforms
            .iter()
            .any(|p| single_os_arch(&p["selector"]) == Some(("linux".into(), "amd64".into()))),
        "plugin.yaml has linux/amd64, the platform built here"
    );
}

#[test]
fn the_checks_refuse_what_krew_refuses() {
    let good = read_yaml(&repo().join("plugin.yaml"));
    assert!(krew_problems(PLUGIN, &good).is_empty());
    let platform = good["spec"]["platforms"][0].clone();
    type Edit = fn(&mut Value);
    let cases: Vec<(&str, Edit)> = vec![
        ("apiVersion", |m| {
            m["apiVersion"] = "krew.googlecontainertools.github.com/v1alpha1".into()
        }),
        ("kind", |m| m["kind"] = "Deployment".into()),
        ("should be named", |m| m["metadata"]["name"] = "hook".into()),
        ("short description", |m| {
            m["spec"]["shortDescription"] = "".into()
        }),
        ("line breaks", |m| {
            m["spec"]["shortDescription"] = "two\nlines".into()
        }),
        ("under 50", |m| {
            m["spec"]["shortDescription"] =
                "Argo CD sync waves and resource hooks for kubectl, without Argo CD".into()
        }),
        ("start with 'v'", |m| m["spec"]["version"] = "0.1.0".into()),
        ("MAJOR.MINOR.PATCH", |m| {
            m["spec"]["version"] = "v0.1".into()
        }),
        ("zero-prefixed", |m| m["spec"]["version"] = "v0.01.0".into()),
        ("homepage", |m| {
            m["spec"].as_object_mut().unwrap().remove("homepage");
        }),
        ("should have a description", |m| {
            m["spec"]["description"] = " ".into()
        }),
        ("unknown field", |m| m["spec"]["platform"] = Value::Null),
        ("platform specified", |m| {
            m["spec"]["platforms"] = Value::Array(vec![])
        }),
        ("`uri`", |m| m["spec"]["platforms"][0]["uri"] = "".into()),
        ("`sha256` sum", |m| {
            m["spec"]["platforms"][0]["sha256"] = "".into()
        }),
        ("is not valid", |m| {
            m["spec"]["platforms"][0]["sha256"] = "TODO".into()
        }),
        ("is not valid", |m| {
            let sha = m["spec"]["platforms"][0]["sha256"]
                .as_str()
                .unwrap()
                .to_uppercase();
            m["spec"]["platforms"][0]["sha256"] = sha.into()
        }),
        ("`bin` has to be set", |m| {
            m["spec"]["platforms"][0]["bin"] = "".into()
        }),
        ("not \"kubectl-hooks\"", |m| {
            m["spec"]["platforms"][0]["bin"] = "hooks".into()
        }),
        ("unspecified or non-empty", |m| {
            m["spec"]["platforms"][0]["files"] = Value::Array(vec![])
        }),
        ("does not extract LICENSE", |m| {
            m["spec"]["platforms"][0]["files"] =
                serde_json::json!([{"from": "kubectl-hooks", "to": "."}])
        }),
        ("`to` field", |m| {
            m["spec"]["platforms"][0]["files"][0]["to"] = "".into()
        }),
        ("not clean", |m| {
            m["spec"]["platforms"][0]["files"][0]["to"] = "./bin/".into()
        }),
        ("nil selector", |m| {
            m["spec"]["platforms"][0]
                .as_object_mut()
                .unwrap()
                .remove("selector");
        }),
        ("empty selector", |m| {
            m["spec"]["platforms"][0]["selector"] = serde_json::json!({})
        }),
        ("specified but empty", |m| {
            m["spec"]["platforms"][0]["selector"] = serde_json::json!({"matchLabels": {}})
        }),
        ("key \"libc\" not supported", |m| {
            m["spec"]["platforms"][0]["selector"]["matchLabels"]["libc"] = "musl".into()
        }),
        ("not `matchExpressions`", |m| {
            m["spec"]["platforms"][0]["selector"] = serde_json::json!({"matchExpressions": [
                {"key": "os", "operator": "In", "values": ["linux"]}]})
        }),
        ("doesn't match any supported platform", |m| {
            m["spec"]["platforms"][0]["selector"]["matchLabels"]["os"] = "plan9".into()
        }),
        ("one os and one arch", |m| {
            m["spec"]["platforms"][0]["selector"] =
                serde_json::json!({"matchLabels": {"os": "linux"}})
        }),
        ("not https://github.com", |m| {
            m["spec"]["platforms"][0]["uri"] = "https://example.com/kubectl-hooks.tar.gz".into()
        }),
        ("over 80 characters", |m| {
            m["spec"]["description"] = "word ".repeat(20).into();
        }),
    ];
    for (expected, edit) in cases {
        let mut m = good.clone();
        edit(&mut m);
        let problems = krew_problems(PLUGIN, &m).join("\n");
        assert!(
            problems.contains(expected),
            "expected a problem with {expected:?}, got:\n{problems}"
        );
    }
    // The same os/arch twice.
    let mut m = good.clone();
    m["spec"]["platforms"] = Value::Array(vec![platform.clone(), platform]);
    let problems = krew_problems(PLUGIN, &m).join("\n");
    assert!(problems.contains("multiple spec.platforms"), "{problems}");
    // The plugin's name must match its file, and be safe and lowercase.
    assert!(!krew_problems("kubectl-hooks", &good).is_empty());
    assert!(!krew_problems("Hooks", &good).is_empty());
    assert!(!is_safe_plugin_name("a/b") && !is_safe_plugin_name("nul"));
    assert!(krew_semver("v1.2.3-rc.1+build.5").is_ok());
}

#[test]
fn an_archive_built_by_the_script_installs_as_krew_would_and_is_what_plugin_yaml_names() {
    let (dist, archive, manifest) = build_archive();
    let os_arch = (
        if cfg!(target_os = "macos") {
            "darwin"
        } else {
            "linux"
        },
        if cfg!(target_arch = "aarch64") {
            "arm64"
        } else {
            "amd64"
        },
    );
    let v = version();
    assert_eq!(
        archive.file_name().unwrap().to_string_lossy(),
        format!("{BIN}_{v}_{}_{}.tar.gz", os_arch.0, os_arch.1)
    );

    let m = read_yaml(&manifest);
    let problems = krew_problems(PLUGIN, &m);
    assert!(
        problems.is_empty(),
        "rendered manifest:\n{}",
        problems.join("\n")
    );
    let platforms = m["spec"]["platforms"].as_array().unwrap();
    assert_eq!(platforms.len(), 1, "only the platform that has an archive");
    let platform = &platforms[0];
    assert_eq!(
        single_os_arch(&platform["selector"]),
        Some((os_arch.0.to_string(), os_arch.1.to_string()))
    );

    // The checksum is the archive's, in the manifest and in the .sha256 file.
    let sha = sha256_hex(&archive);
    assert_eq!(platform["sha256"], sha.as_str());
    let sums = std::fs::read_to_string(format!("{}.sha256", archive.display())).unwrap();
    assert_eq!(
        sums,
        format!(
            "{sha}  {}\n",
            archive.file_name().unwrap().to_string_lossy()
        )
    );

    // Sorted, owned by 0:0, one mtime, plain files only, with the right modes.
    let entries = tar_entries(&archive);
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    let mut expected = vec!["LICENSE", BIN];
    if repo().join("README.md").is_file() {
        expected.insert(1, "README.md");
    }
    assert_eq!(names, expected, "entries in byte order");
    for e in &entries {
        assert_eq!((e.uid, e.gid), (0, 0), "{e:?}");
        assert_eq!(e.mtime, EPOCH, "{e:?}");
        assert_eq!(e.kind, b'0', "a regular file: {e:?}");
        assert!(
            ["", "root"].contains(&e.uname.as_str()) && ["", "root"].contains(&e.gname.as_str()),
            "{e:?}"
        );
        let mode = if e.name == BIN { 0o755 } else { 0o644 };
        assert_eq!(e.mode & 0o7777, mode, "{e:?}");
    }

    // Installed as krew installs it, the plugin runs.
    let bin = krew_install(&archive, platform, dist.path());
    use std::os::unix::fs::PermissionsExt;
    assert_ne!(bin.metadata().unwrap().permissions().mode() & 0o111, 0);
    let out = Command::new(&bin).arg("version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{BIN} {}\n", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        std::fs::read(dist.path().join("install/LICENSE")).unwrap(),
        std::fs::read(repo().join("LICENSE")).unwrap()
    );

    // The committed plugin.yaml is this script's output for the linux/amd64 archive: the same
    // text as this rendering, but for the checksum of the release build it was made from.
    if os_arch == ("linux", "amd64") {
        let without_sha = |text: String| -> String {
            text.lines()
                .filter(|l| !l.trim_start().starts_with("sha256:"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let committed = std::fs::read_to_string(repo().join("plugin.yaml")).unwrap();
        let fresh = std::fs::read_to_string(&manifest).unwrap();
        assert_eq!(
            without_sha(committed),
            without_sha(fresh),
            "plugin.yaml is out of date: run scripts/release --output plugin.yaml"
        );
    }

    // Built again from the same binary: the same bytes.
    let (_again, archive2, _) = build_archive();
    assert_eq!(
        std::fs::read(&archive).unwrap(),
        std::fs::read(&archive2).unwrap(),
        "the archive is reproducible"
    );
}

#[test]
fn the_template_renders_all_four_platforms() {
    let template = std::fs::read_to_string(repo().join("krew-manifest/.krew.yaml")).unwrap();
    for (os, arch) in PLATFORMS {
        let line = format!(
            "{{{{addURIAndSha \"{HOMEPAGE}/releases/download/{{{{ .TagName }}}}/{BIN}_{{{{ .TagName }}}}_{os}_{arch}.tar.gz\" .TagName }}}}"
        );
        assert!(template.contains(&line), "the template has {line}");
    }
    assert!(template.contains("version: {{ .TagName }}"));

    // Four archives (any bytes: the manifest takes their checksums) render a manifest with
    // four platforms that passes every rule.
    let dist = tempfile::tempdir().unwrap();
    let v = version();
    let mut sums = BTreeMap::new();
    for (os, arch) in PLATFORMS {
        let path = dist.path().join(format!("{BIN}_{v}_{os}_{arch}.tar.gz"));
        std::fs::write(&path, format!("{os}/{arch}")).unwrap();
        sums.insert((os.to_string(), arch.to_string()), sha256_hex(&path));
    }
    let output = dist.path().join("out/hooks.yaml");
    release(&[
        "manifest",
        "--all-platforms",
        "--dist",
        dist.path().to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ]);
    let m = read_yaml(&output);
    let problems = krew_problems(PLUGIN, &m);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let platforms = m["spec"]["platforms"].as_array().unwrap();
    assert_eq!(platforms.len(), 4);
    for p in platforms {
        let key = single_os_arch(&p["selector"]).unwrap();
        assert_eq!(p["sha256"], sums[&key].as_str(), "{key:?}");
    }

    // --all-platforms refuses a missing archive; so does a version other than Cargo.toml's.
    std::fs::remove_file(dist.path().join(format!("{BIN}_{v}_darwin_arm64.tar.gz"))).unwrap();
    for args in [
        vec!["manifest", "--all-platforms"],
        vec!["manifest", "--version", "v99.0.0"],
    ] {
        let out = Command::new("bash")
            .arg(repo().join("scripts/release"))
            .args(&args)
            .args(["--dist", dist.path().to_str().unwrap()])
            .current_dir(repo())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} should fail");
    }
}

#[test]
fn the_release_workflow_runs_the_script_on_every_platform() {
    let wf = read_yaml(&repo().join(".github/workflows/release.yml"));
    assert_eq!(wf["on"]["push"]["tags"], serde_json::json!(["v*"]));
    let include = wf["jobs"]["archive"]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap();
    let mut built: Vec<(String, String)> = include
        .iter()
        .map(|e| {
            (
                e["os"].as_str().unwrap().to_string(),
                e["arch"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    built.sort();
    let mut wanted: Vec<(String, String)> = PLATFORMS
        .iter()
        .map(|(o, a)| (o.to_string(), a.to_string()))
        .collect();
    wanted.sort();
    assert_eq!(built, wanted);
    let runs = |job: &str| -> String {
        wf["jobs"][job]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["run"].as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(runs("archive").contains("scripts/release archive --version \"${GITHUB_REF_NAME}\""));
    assert!(
        runs("publish")
            .contains("scripts/release manifest --version \"${GITHUB_REF_NAME}\" --all-platforms")
    );
    assert!(runs("publish").contains("sha256sum -c"));
}
