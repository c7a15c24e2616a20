//! kubectl-hooks: Argo CD sync waves and resource hooks for kubectl.
pub mod cli;
pub mod lint;
pub mod manifest;
pub mod model;
pub mod output;
pub mod plan;
