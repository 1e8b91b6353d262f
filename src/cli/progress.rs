//! Long work on the command line: the work check, a progress bar on
//! stderr (terminals only) and Ctrl-C.

use anyhow::Result;

use dpo_lab::train::{Progress, RunConfig};
use dpo_lab::work::WorkEstimate;

/// Set by Ctrl-C: training stops before its next update.
pub(super) static STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A progress bar on stderr for work estimated at a second or more; hidden
/// when stderr is not a terminal, never on stdout. Ctrl-C asks the runs to
/// stop (a second Ctrl-C exits at once).
pub(super) struct Bar(indicatif::ProgressBar);

impl Bar {
    fn new(cfgs: &[RunConfig], estimate: &WorkEstimate) -> Bar {
        use std::sync::atomic::Ordering;
        static HANDLER: std::sync::Once = std::sync::Once::new();
        HANDLER.call_once(|| {
            // Without a handler Ctrl-C kills the process, which is also
            // clean: nothing is written until the work is done.
            let _ = ctrlc::set_handler(|| {
                if STOP.swap(true, Ordering::SeqCst) {
                    std::process::exit(130);
                }
            });
        });
        let steps: usize = cfgs.iter().map(|c| c.train.steps()).sum();
        if estimate.seconds < 1.0 {
            return Bar(indicatif::ProgressBar::hidden());
        }
        let bar = indicatif::ProgressBar::new(steps as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} steps, about {eta} left (Ctrl-C stops)",
        ) {
            bar.set_style(style);
        }
        Bar(bar)
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

impl Progress for Bar {
    fn advance(&self, steps: usize) {
        self.0.inc(steps as u64);
    }
    fn stop_requested(&self) -> bool {
        STOP.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Refuses long work (unless `--allow-long`) and returns its progress bar.
pub(super) fn start_work(cfgs: &[RunConfig], allow_long: bool) -> Result<Bar> {
    start_work_with(cfgs, None, allow_long)
}

/// [`start_work`] with work beyond the runs themselves (`compare`'s exact
/// comparisons) counted in the estimate.
pub(super) fn start_work_with(
    cfgs: &[RunConfig],
    extra: Option<WorkEstimate>,
    allow_long: bool,
) -> Result<Bar> {
    let mut estimate = dpo_lab::work::total(cfgs);
    if let Some(e) = extra {
        estimate = estimate.plus(e);
    }
    dpo_lab::work::check(&estimate, allow_long)?;
    Ok(Bar::new(cfgs, &estimate))
}
