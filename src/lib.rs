//! kubectl-hooks: Argo CD sync waves and resource hooks for kubectl.
pub mod cli;
pub mod manifest;
pub mod model;
pub mod output;
pub mod plan;
pub mod sync;
