//! Quick timing of the bench kernels (development aid).
use dpo_lab::bench::*;
use dpo_lab::method::MethodKind;
fn main() {
    let s = flat_scenario(1_000_000).expect("ok");
    println!(
        "eval {:.2} ns/resp",
        eval_ns_per_response(&s, MethodKind::Dpo, 100, 7).expect("ok")
    );
    println!(
        "offline {:.2} us",
        step_us(&s, MethodKind::Dpo, 100, 500, 7).expect("ok")
    );
    println!(
        "online {:.2} us",
        step_us(&s, MethodKind::OnlineDpo, 100, 500, 7).expect("ok")
    );
    let q = sequence_scenario().expect("ok");
    println!(
        "ar eval {:.2} ns/resp ({} responses)",
        eval_ns_per_response(&q, MethodKind::Dpo, 10, 5).expect("ok"),
        q.problem.len()
    );
}
