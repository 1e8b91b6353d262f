//! Profiling aid: many offline and online steps on a million responses, near
//! the reference (where draws are spread out and miss the cache).
use dpo_lab::bench::*;
use dpo_lab::method::MethodKind;
fn main() {
    let s = flat_scenario(1_000_000).expect("ok");
    let which = std::env::args().nth(1).unwrap_or_default();
    let m = if which == "online" {
        MethodKind::OnlineDpo
    } else {
        MethodKind::Dpo
    };
    let mut total = 0.0;
    for _ in 0..20 {
        total += step_us(&s, m, 0, 300, 1).expect("ok");
    }
    println!("{:.2} us", total / 20.0);
}
