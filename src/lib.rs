//! kubectl-hooks: Argo CD sync waves and resource hooks for kubectl.
//!
//! The data path: `render` (kustomizations and Helm charts rendered, as Argo CD does) ->
//! `manifest` (input with source positions) -> `model` (what the annotations
//! mean) -> `plan` (ordered steps) -> `lint` / the wave table / the `engine` of operations (which
//! talks to Kubernetes only through `cluster`, and judges objects with `health`) -> `output`.

pub mod cli;
pub mod cluster;
pub mod diagnose;
pub mod engine;
pub mod health;
pub mod lint;
pub mod manifest;
pub mod model;
pub mod output;
pub mod plan;
pub mod render;
pub mod text;
