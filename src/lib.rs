//! kubectl-hooks: Argo CD sync waves and resource hooks for kubectl.

pub mod health;
