//! `kubectl hooks plan`

use super::args::{PlanArgs, PlanFormat};
use super::input::{read_input, refuse_duplicates, refuse_errors};
use super::{ClusterArgs, Failure, Outcome, print};
use crate::manifest::Manifest;
use crate::model::SyncSpec;
use crate::output;
use crate::plan::{self, Plan, PlanOptions, UnknownHooks};

pub fn run(cluster: &ClusterArgs, args: &PlanArgs) -> Outcome {
    let loaded = read_input(&args.input, cluster)?;
    refuse_errors(&loaded)?;
    refuse_duplicates(&loaded, &super::offline_namespace(cluster))?;
    let namespace = super::offline_namespace(cluster);
    let specs: Vec<SyncSpec> = loaded.manifests.iter().map(SyncSpec::of).collect();
    let plan = build_plan(
        &loaded.manifests,
        &specs,
        &PlanOptions {
            default_namespace: &namespace,
            is_namespaced: &|_, m| plan::offline_is_namespaced(m),
            drop_unknown_hooks: args.drop_unknown_hooks,
        },
    )?;
    let manifests = &loaded.manifests;
    if let Some(flag) = &cluster.namespace {
        let problems = plan::namespace_conflicts(&plan, manifests, flag);
        if !problems.is_empty() {
            for p in &problems {
                eprintln!("error: {p}");
            }
            return Err(Failure::bad_input(format!(
                "{} problem(s) in the input\nnote: {}",
                problems.len(),
                plan::SPANNING_NAMESPACES
            )));
        }
    }
    // The app the plan is for, as sync names it; plan needs no name, so stdin without --app
    // just shows none.
    let header = match super::app::name(&args.app, &args.input) {
        Ok(name) => format!("app \"{name}\", namespace \"{namespace}\"\n"),
        Err(_) if args.app.app.is_none() => String::new(),
        Err(f) => return Err(f),
    };
    match args.output {
        PlanFormat::Table => print(&(header + &output::plan::render(&plan, manifests, false))),
        PlanFormat::Wide => print(&(header + &output::plan::render(&plan, manifests, true))),
        PlanFormat::Json => print(&output::to_json(&output::plan::document(&plan, manifests))),
        PlanFormat::Yaml => print(&output::to_yaml(&output::plan::document(&plan, manifests))),
    }
    Ok(())
}

/// Builds the plan; objects Argo CD would silently drop are refused, or dropped with a
/// warning when the user asked for Argo CD's behaviour.
pub fn build_plan(
    manifests: &[Manifest],
    specs: &[SyncSpec],
    options: &PlanOptions,
) -> Result<Plan, Failure> {
    match plan::build(manifests, specs, options) {
        Ok(plan) => {
            warn_dropped(&plan, manifests);
            Ok(plan)
        }
        Err(unknown) => Err(report_unknown_hooks(manifests, &unknown)),
    }
}

pub fn warn_dropped(plan: &Plan, manifests: &[Manifest]) {
    for task in &plan.dropped {
        let m = &manifests[task.object];
        eprintln!(
            "warning: {}: {}/{} has no known hook type; left out, as Argo CD would",
            hook_position(m),
            m.kind,
            m.display_name()
        );
    }
}

pub fn report_unknown_hooks(manifests: &[Manifest], unknown: &UnknownHooks) -> Failure {
    let objects = &unknown.0;
    let mut details = Vec::new();
    for &i in objects {
        let m = &manifests[i];
        let value = m
            .annotation(crate::model::keys::HOOK)
            .or_else(|| m.annotation(crate::model::keys::HELM_HOOK))
            .map(|(v, _)| v)
            .unwrap_or_default();
        details.push(format!(
            "{}: {}/{}: hook value {value:?} has no known hook type \
             (PreSync, Sync, PostSync, SyncFail, Skip): Argo CD would never apply this object",
            hook_position(m),
            m.kind,
            m.display_name()
        ));
    }
    Failure::bad_input(format!(
        "{} {} would be silently dropped by Argo CD; fix the hook annotation (see `kubectl hooks lint`), \
         or pass --drop-unknown-hooks to leave them out as Argo CD does",
        objects.len(),
        crate::text::plural(objects.len(), "object", "objects")
    ))
    .with_details(details)
}

fn hook_position(m: &Manifest) -> String {
    let pos = m
        .annotation(crate::model::keys::HOOK)
        .or_else(|| m.annotation(crate::model::keys::HELM_HOOK))
        .map(|(_, p)| p)
        .unwrap_or(crate::manifest::Pos {
            line: m.source.line,
            col: 1,
        });
    let (file, pos) = m.source.locate(pos);
    format!("{file}:{}:{}", pos.line, pos.col)
}
