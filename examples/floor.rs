//! The benchmarks' floor: the applies of a sync and nothing else. Reads manifests as `sync -f`
//! does, resolves their kinds, and server-side applies every object with the project's own
//! client (`cluster` module), at most `--concurrency` in flight: no dry run, no lock, no
//! waves, no watches, no waiting. What a sync costs beyond this is the engine's.
//!
//!   cargo run --release --example floor -- [--concurrency N] [--in-order] -n NS -f PATH...
//!
//! With `--in-order`, each `-f` is applied only after the previous one's applies have all
//! returned: the barrier between waves, with nothing else of a wave (one file per wave, as
//! `bench/gen.sh configmaps` writes them).
//! Prints one line of JSON: objects applied, API requests, wall milliseconds. Exits 1 on the
//! first failed apply (after the others in flight). Not part of the plugin.

use futures::StreamExt;
use kubectl_hooks::cluster::{ApplyOptions, Cluster, ClusterFlags};
use kubectl_hooks::manifest::{InputSpec, load};
use std::process::ExitCode;
use std::time::Instant;

#[tokio::main]
async fn main() -> ExitCode {
    let mut flags = ClusterFlags::default();
    let mut input = InputSpec::default();
    let mut concurrency = 16usize;
    let mut in_order = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_default();
        match arg.as_str() {
            "-n" | "--namespace" => flags.namespace = Some(value()),
            "-f" | "--filename" => input.filenames.push(value()),
            "--concurrency" => concurrency = value().parse().unwrap_or(16),
            "--in-order" => in_order = true,
            "--kubeconfig" => flags.kubeconfig = Some(value().into()),
            other => {
                eprintln!("floor: unknown argument {other}");
                return ExitCode::from(2);
            }
        }
    }
    let started = Instant::now();
    let groups: Vec<InputSpec> = if in_order {
        input
            .filenames
            .iter()
            .map(|f| InputSpec {
                filenames: vec![f.clone()],
                recursive: false,
            })
            .collect()
    } else {
        vec![input]
    };
    let mut loaded = Vec::new();
    for spec in &groups {
        let group = load(spec, &mut std::io::stdin());
        if let Some(e) = group.errors.first() {
            eprintln!("floor: {e}");
            return ExitCode::from(2);
        }
        loaded.push(group.manifests);
    }
    let cluster = match Cluster::connect(&flags).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("floor: {e}");
            return ExitCode::from(3);
        }
    };
    if let Err(e) = cluster
        .prefetch(loaded.iter().flatten().map(|m| m.api_version.as_str()))
        .await
    {
        eprintln!("floor: discovery: {e}");
        return ExitCode::from(3);
    }
    let mut count = 0;
    for manifests in &loaded {
        let mut objects = Vec::with_capacity(manifests.len());
        for m in manifests {
            match cluster.resolve(&m.api_version, &m.kind).await {
                Ok(Some(kind)) => objects.push((kind, m.to_json())),
                _ => {
                    eprintln!(
                        "floor: the cluster does not serve {} {}",
                        m.api_version, m.kind
                    );
                    return ExitCode::from(2);
                }
            }
        }
        let options = ApplyOptions {
            force: true,
            dry_run: false,
            ignore_unknown_fields: false,
        };
        let failures = futures::stream::iter(objects.iter())
            .map(|(kind, object)| cluster.apply(kind, object, options))
            .buffer_unordered(concurrency.max(1))
            .filter_map(|result| async move { result.err() })
            .collect::<Vec<_>>()
            .await;
        if let Some(e) = failures.first() {
            eprintln!(
                "floor: {} of {} applies failed: {e}",
                failures.len(),
                objects.len()
            );
            return ExitCode::from(1);
        }
        count += objects.len();
    }
    println!(
        "{{\"objects\":{},\"apiRequests\":{},\"wallMs\":{}}}",
        count,
        cluster.requests_made(),
        started.elapsed().as_millis()
    );
    ExitCode::SUCCESS
}
