//! The integration tests, one binary: each module tests one command or room as a user (or a
//! caller of the library) meets it. Cluster tests need the test control plane
//! (`KUBECTL_HOOKS_TEST_KUBECONFIG`, see `support`). Tests that change the process
//! environment live in their own binaries (`tests/cluster_kubeconfig_env.rs`).

mod support;

mod api_outage;
mod app;
mod cleanup;
mod cli_plan;
mod cli_small;
mod cluster;
mod control_plane;
mod delete;
mod diff;
mod distribution;
mod exec_plugin;
mod faults;
mod field_takeover;
mod health_conformance;
mod health_rules;
mod input_refusals;
mod inputs;
mod lint_cli;
mod lint_rules;
mod partial_rbac;
mod plugin_cli;
mod secret_output;
mod signals;
mod sync;
mod sync_correctness;
mod sync_options;
mod verbose;
mod why;
