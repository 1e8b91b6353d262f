//! Writing results to files: a training history as CSV (used by the CLI's
//! `--csv` and the app's export button).

use std::path::Path;

use crate::error::{Error, Result};
use crate::metrics::Metrics;

/// Writes `(step, metrics)` rows as CSV: `step`, every scalar metric, then
/// `ood_top`, `ood_top/probability`, `ood_top/implicit_reward`.
pub fn write_history_csv(path: &Path, history: &[(usize, Metrics)]) -> Result<()> {
    let fail = |e: &dyn std::fmt::Display| Error::File {
        path: path.display().to_string(),
        message: format!("cannot write CSV: {e}"),
    };
    let mut w = csv::Writer::from_path(path).map_err(|e| fail(&e))?;
    if let Some((_, first)) = history.first() {
        let mut header: Vec<String> = vec!["step".into()];
        header.extend(first.scalars().into_iter().map(|(k, _)| k));
        header.extend([
            "ood_top".into(),
            "ood_top/probability".into(),
            "ood_top/implicit_reward".into(),
        ]);
        w.write_record(&header).map_err(|e| fail(&e))?;
    }
    for (k, m) in history {
        let mut row: Vec<String> = vec![k.to_string()];
        row.extend(m.scalars().into_iter().map(|(_, v)| v.to_string()));
        match &m.ood_top {
            Some(t) => row.extend([
                t.response.clone(),
                t.probability.to_string(),
                t.implicit_reward.to_string(),
            ]),
            None => row.extend([String::new(), String::new(), String::new()]),
        }
        w.write_record(&row).map_err(|e| fail(&e))?;
    }
    w.flush().map_err(|e| fail(&e))
}
