//! `cargo bench`: the kernels of `dpo-lab bench` at 10³ … 10⁶ responses
//! (median of several repetitions each), without the app frame.

fn main() {
    for n in [1_000u64, 10_000, 100_000, 1_000_000] {
        match dpo_lab::bench::figures(n, n == 1_000_000) {
            Ok(f) => {
                println!(
                    "{n:>9} responses: eval {:.2} ns/response, offline step {:.2} µs, online step {:.2} µs",
                    f.eval_ns_per_response, f.offline_step_us, f.online_step_us
                );
                if f.ar_responses > 0 {
                    println!(
                        "{:>9} sequences: autoregressive eval {:.2} ns/response",
                        f.ar_responses, f.eval_ar_ns_per_response
                    );
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(2);
            }
        }
    }
}
