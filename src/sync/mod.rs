//! The sync engine: walks the plan step by step against a cluster.

pub mod naming;
pub mod policy;
