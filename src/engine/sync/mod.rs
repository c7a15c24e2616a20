//! `sync`: validate everything (`prepare`), then run the plan step by step (`run`).

mod prepare;
mod run;

pub use prepare::{Prepared, StepWork, prepare};
pub use run::execute;

use crate::engine::Summary;
use crate::model::Phase;
use std::time::Duration;

/// What a sync did, for the final table and `-o json`.
#[derive(Debug, Clone)]
pub struct Report {
    pub summary: Summary,
    /// Time spent in each step, in run order.
    pub step_durations: Vec<(Phase, i64, Duration)>,
}
