//! Paced playback: a run plays over a few seconds a room can follow, its
//! fast early steps slowed down. A DPO run often does most of its moving in
//! its first few dozen steps and then creeps; shown one step per frame it is
//! over before anyone looks, shown at a fixed rate it sits still for most of
//! the time. So the app rehearses the run once in the background (the same
//! configurations and seed give the same steps), measures how far each
//! step moves each policy, and gives each step screen time in proportion to
//! its movement (with a floor, so late steps still pass visibly). Until the
//! rehearsal is in — or where a space is too large to rehearse — the steps
//! follow an exponential schedule that starts at a few steps a second.
//!
//! Time here is the app's playing time (egui's frame time, which tests
//! simulate), never the wall clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use dpo_lab::method::MethodKind;
use dpo_lab::scenario::Scenario;
use dpo_lab::train::Trainer;

/// Seconds a paced run plays for (at 60 frames per second or slower, when
/// the machine cannot train the steps that fast).
pub const PLAY_SECONDS: f64 = 8.0;

/// The share of a run's screen time spread evenly over its steps; the rest
/// follows the policies' movement.
const EVEN_SHARE: f64 = 0.3;

/// Steps the exponential schedule passes in its first `1/ln(1 + S/c)` of
/// the time: it starts at about `c·ln(1 + S/c)/T` steps a second.
const EARLY_STEPS: f64 = 5.0;

/// Largest rehearsal, in response-steps summed over the runs: beyond it the
/// exponential schedule alone paces the run.
const MAX_REHEARSAL_WORK: f64 = 2e9;

/// When each step of a run is shown, as a share of the run's playing time
/// (0 at the start, 1 at the end: the seconds are the user's to change while
/// it plays).
#[derive(Debug, Clone, PartialEq)]
pub enum Pace {
    /// Step `k` of `S` at `ln(1 + k/c)/ln(1 + S/c)`.
    Exponential {
        /// Steps of the longest run.
        steps: usize,
    },
    /// Step `k` at `times[k]` (increasing, `times[0] = 0`), from a
    /// rehearsal's per-step movement.
    Rehearsed {
        /// The time of each step, `0..=steps`.
        times: Vec<f64>,
    },
}

impl Pace {
    /// The exponential schedule of `steps` steps.
    pub fn exponential(steps: usize) -> Pace {
        Pace::Exponential { steps }
    }

    /// The schedule of a run whose step `k` (1-based) moved the policies by
    /// `movement[k − 1]` (summed over runs, each run normalised to its own
    /// total path).
    pub fn from_movement(movement: &[f64]) -> Pace {
        let n = movement.len();
        let total: f64 = movement.iter().filter(|m| m.is_finite()).sum();
        let mut times = Vec::with_capacity(n + 1);
        times.push(0.0);
        let mut moved = 0.0;
        for (k, m) in movement.iter().enumerate() {
            if m.is_finite() {
                moved += m;
            }
            let by_movement = if total > 0.0 {
                moved / total
            } else {
                (k + 1) as f64 / n as f64
            };
            let even = (k + 1) as f64 / n as f64;
            times.push((1.0 - EVEN_SHARE) * by_movement + EVEN_SHARE * even);
        }
        Pace::Rehearsed { times }
    }

    /// The share of the playing time at which step `k` is shown.
    pub fn time_of(&self, k: usize) -> f64 {
        match self {
            Pace::Exponential { steps } => {
                if *steps == 0 {
                    return 0.0;
                }
                let k = k.min(*steps) as f64;
                (k / EARLY_STEPS).ln_1p() / (*steps as f64 / EARLY_STEPS).ln_1p()
            }
            Pace::Rehearsed { times } => times[k.min(times.len() - 1)],
        }
    }

    /// The last step due by the share `t` of the playing time.
    pub fn step_at(&self, t: f64) -> usize {
        match self {
            Pace::Exponential { steps } => {
                if t >= 1.0 {
                    return *steps;
                }
                let u = t.max(0.0);
                let s = EARLY_STEPS * ((u * (*steps as f64 / EARLY_STEPS).ln_1p()).exp_m1());
                // Rounding must not pass a step whose time has not come.
                (s.floor() as usize).min(*steps)
            }
            Pace::Rehearsed { times } => times.partition_point(|&x| x <= t).saturating_sub(1),
        }
    }
}

/// A rehearsal running in the background; dropping it stops the thread.
pub struct Rehearsal {
    answer: mpsc::Receiver<Option<Vec<f64>>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Rehearsal {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Rehearsal {
    /// Starts rehearsing `methods` on `scenario` (as the session trains
    /// them), or `None` where the space is too large to do it twice.
    pub fn start(scenario: &Scenario, methods: &[MethodKind], steps: usize) -> Option<Rehearsal> {
        let work = scenario.problem.len() as f64 * steps as f64 * methods.len() as f64;
        if work > MAX_REHEARSAL_WORK || steps == 0 {
            return None;
        }
        let configs: Vec<_> = methods.iter().map(|&k| scenario.run_configs(k)).collect();
        let focus = scenario.focused_prompt();
        let stop = Arc::new(AtomicBool::new(false));
        let (tell, answer) = mpsc::channel();
        let stopped = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("pace rehearsal".into())
            .spawn(move || {
                let _ = tell.send(movement(&configs, focus, steps, &stopped));
            })
            .ok()?;
        Some(Rehearsal { answer, stop })
    }

    /// The per-step movement once the rehearsal is done (`wait`: block
    /// until it is); `Some(None)` when it could not finish.
    pub fn poll(&self, wait: bool) -> Option<Option<Vec<f64>>> {
        if wait {
            Some(self.answer.recv().ok().flatten())
        } else {
            match self.answer.try_recv() {
                Ok(m) => Some(m),
                Err(mpsc::TryRecvError::Empty) => None,
                Err(mpsc::TryRecvError::Disconnected) => Some(None),
            }
        }
    }
}

/// Each step's movement summed over the runs: a run's total-variation
/// distance between its policies before and after the step, over the run's
/// whole path (so every run counts alike). `None` if a run fails or `stop`
/// is raised.
fn movement(
    configs: &[Vec<dpo_lab::train::RunConfig>],
    focus: usize,
    steps: usize,
    stop: &AtomicBool,
) -> Option<Vec<f64>> {
    let mut runs = configs
        .iter()
        .map(|c| Trainer::new(c, focus).ok())
        .collect::<Option<Vec<_>>>()?;
    let mut per_run = vec![Vec::with_capacity(steps); runs.len()];
    let mut last: Vec<Vec<f64>> = runs.iter().map(|r| r.run().policy().log_probs()).collect();
    let mut now = Vec::new();
    for _ in 0..steps {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        for ((r, moved), before) in runs.iter_mut().zip(&mut per_run).zip(&mut last) {
            if r.finished() {
                moved.push(0.0);
                continue;
            }
            r.step().ok()?;
            r.run().policy().log_probs_into(&mut now);
            let tv = 0.5
                * now
                    .iter()
                    .zip(before.iter())
                    .map(|(a, b)| (a.exp() - b.exp()).abs())
                    .sum::<f64>();
            moved.push(if tv.is_finite() { tv } else { 0.0 });
            std::mem::swap(before, &mut now);
        }
    }
    let mut total = vec![0.0; steps];
    for moved in &per_run {
        let path: f64 = moved.iter().sum();
        if path > 0.0 {
            for (t, m) in total.iter_mut().zip(moved) {
                *t += m / path;
            }
        }
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exponential_schedule_starts_slowly_and_ends_on_time() {
        let p = Pace::exponential(1400);
        assert_eq!(p.step_at(0.0), 0);
        // A few steps in the first eighth, every step by the end.
        assert!((1..=10).contains(&p.step_at(0.125)), "{}", p.step_at(0.125));
        assert_eq!(p.step_at(1.0), 1400);
        assert_eq!(p.step_at(12.0), 1400);
        for k in [1, 10, 100, 1000, 1400] {
            let t = p.time_of(k);
            assert!(p.step_at(t + 1e-9) >= k, "step {k} at {t}");
            assert!(p.step_at(t - 1e-6) < k, "step {k} before {t}");
        }
    }

    #[test]
    fn a_rehearsed_schedule_gives_moving_steps_their_time() {
        // All the movement in the first 10 of 1000 steps.
        let mut m = vec![0.0; 1000];
        for x in &mut m[..10] {
            *x = 0.1;
        }
        let p = Pace::from_movement(&m);
        assert_eq!(p.time_of(0), 0.0);
        assert!((p.time_of(1000) - 1.0).abs() < 1e-12);
        // The 10 moving steps get 70 % of the time (and their share of
        // the even 30 %), the 990 still ones the rest.
        let t10 = p.time_of(10);
        assert!((t10 - (0.7 + 0.3 * 0.01)).abs() < 1e-12, "{t10}");
        assert_eq!(p.step_at(t10), 10);
        assert_eq!(p.step_at(1.0), 1000);
        // A run that never moves plays evenly.
        let still = Pace::from_movement(&[0.0; 4]);
        assert_eq!(still.step_at(0.5), 2);
    }
}
