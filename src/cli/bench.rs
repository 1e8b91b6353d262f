//! `dpo-lab bench`: fixed, seeded timings (and the app's frame time).

use std::io::Write;

use anyhow::Result;
#[cfg(feature = "app")]
use anyhow::anyhow;
use serde_json::json;

pub(super) fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cpu}, {cores} cores")
}

/// App frame times (ms): two methods on `the-the-the`, one on
/// `large-space`; `None` in a build without the app.
#[cfg(feature = "app")]
pub(super) fn frame_figures() -> Result<Option<(f64, f64)>> {
    use dpo_lab::method::MethodKind;
    let frame_two = crate::app::measure_frame_ms(
        "the-the-the",
        &[MethodKind::Dpo, MethodKind::OnlineDpo],
        120,
    )
    .map_err(|e| anyhow!("frame benchmark: {e}"))?;
    let frame_large = crate::app::measure_frame_ms("large-space", &[MethodKind::Dpo], 60)
        .map_err(|e| anyhow!("frame benchmark: {e}"))?;
    Ok(Some((frame_two, frame_large)))
}

#[cfg(not(feature = "app"))]
pub(super) fn frame_figures() -> Result<Option<(f64, f64)>> {
    Ok(None)
}

pub(super) fn bench_cmd(json: bool, scaling: bool, out: &mut dyn Write) -> Result<()> {
    use dpo_lab::bench::figures;
    let f = figures(1_000_000, true)?;
    let frames = frame_figures()?;
    let table = if scaling {
        // The 10⁶ row is the run above; time only the smaller sizes again.
        let mut rows = [1_000u64, 10_000, 100_000]
            .iter()
            .map(|&n| figures(n, false))
            .collect::<dpo_lab::Result<Vec<_>>>()?;
        rows.push(f);
        rows
    } else {
        Vec::new()
    };
    if json {
        let v = json!({
            "machine": machine(),
            "responses": f.responses,
            "eval_ns_per_response": f.eval_ns_per_response,
            "eval_ar_ns_per_response": f.eval_ar_ns_per_response,
            "ar_responses": f.ar_responses,
            "offline_step_us": f.offline_step_us,
            "online_step_us": f.online_step_us,
            "frame_ms": frames.map(|(two, large)| json!({
                "the_the_the_two_methods": two,
                "flat_100000_one_method": large,
            })),
            "scaling": table.iter().map(|t| json!({
                "responses": t.responses,
                "eval_ms": t.eval_ns_per_response * t.responses as f64 * 1e-6,
                "eval_ns_per_response": t.eval_ns_per_response,
                "offline_step_us": t.offline_step_us,
                "online_step_us": t.online_step_us,
            })).collect::<Vec<_>>(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        writeln!(out, "machine: {}", machine())?;
        writeln!(
            out,
            "eval (1,000,000 responses, tabular)      {:>8.2} ns/response",
            f.eval_ns_per_response
        )?;
        writeln!(
            out,
            "eval ({} sequences, autoregressive) {:>8.2} ns/response",
            f.ar_responses, f.eval_ar_ns_per_response
        )?;
        writeln!(
            out,
            "offline DPO step (batch 64)              {:>8.2} µs",
            f.offline_step_us
        )?;
        writeln!(
            out,
            "online DPO step (64 fresh pairs)         {:>8.2} µs",
            f.online_step_us
        )?;
        match frames {
            Some((two, large)) => {
                writeln!(
                    out,
                    "app frame, the-the-the, 2 methods        {two:>8.2} ms"
                )?;
                writeln!(
                    out,
                    "app frame, 100,000 responses, 1 method   {large:>8.2} ms"
                )?;
            }
            None => writeln!(out, "app frame: this build has no app (feature `app`)")?,
        }
        if !table.is_empty() {
            writeln!(
                out,
                "{:>10} {:>10} {:>14} {:>14} {:>14}",
                "responses", "eval ms", "eval ns/resp", "offline µs", "online µs"
            )?;
            for t in &table {
                writeln!(
                    out,
                    "{:>10} {:>10.3} {:>14.2} {:>14.2} {:>14.2}",
                    t.responses,
                    t.eval_ns_per_response * t.responses as f64 * 1e-6,
                    t.eval_ns_per_response,
                    t.offline_step_us,
                    t.online_step_us
                )?;
            }
        }
    }
    Ok(())
}
