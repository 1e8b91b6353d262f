//! What the commands print: the documented policy vector and metric rows.

use serde_json::{Value, json};

use dpo_lab::metrics::Metrics;
use dpo_lab::space::ResponseSpace;

/// `final.policy` (docs/json-output.md): the full vector for flat spaces of at most
/// 10,000 responses, else the 50 most probable as `[name, p]`.
pub(super) fn policy_json(space: &ResponseSpace, log_probs: &[f64]) -> Value {
    if !space.is_sequences() && log_probs.len() <= 10_000 {
        return json!(log_probs.iter().map(|l| l.exp()).collect::<Vec<f64>>());
    }
    let idx = dpo_lab::metrics::top_k_by(log_probs.len(), 50, |y| log_probs[y]);
    json!(
        idx.iter()
            .map(|&i| json!([space.name(i), log_probs[i].exp()]))
            .collect::<Vec<_>>()
    )
}

pub(super) fn metrics_row(step: usize, m: &Metrics) -> Value {
    let mut map = serde_json::Map::new();
    map.insert("step".into(), json!(step));
    map.extend(m.to_json());
    Value::Object(map)
}
