//! Writing results to files: a training history and a sweep as CSV (used
//! by the CLI's `--csv` and the app's export button).
//!
//! Every regular file is written whole or not at all: rows go to a hidden
//! file beside the target, which is renamed over it only once complete, so
//! an interrupted or failed write never leaves a torn CSV. A symlink is
//! written through (its target replaced, the link kept); a device or FIFO
//! is written directly, never replaced by a file.

use std::path::Path;

use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::sweep::SweepPoint;

/// `path` if nothing is there yet, else the first of `stem-2.ext`,
/// `stem-3.ext`, … that is free: exports never overwrite a file.
pub fn unused_path(path: &Path) -> std::path::PathBuf {
    if !path.exists() {
        return path.to_path_buf();
    }
    let stem = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    (2u64..)
        .map(|k| path.with_file_name(format!("{stem}-{k}{ext}")))
        .find(|p| !p.exists())
        .expect("some numbered name is free")
}

/// Creates the folder that will hold `path`.
fn create_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            std::fs::create_dir_all(dir).map_err(|e| Error::Write {
                path: path.display().to_string(),
                message: e.to_string(),
            })
        }
        _ => Ok(()),
    }
}

/// Writes `bytes` to [`unused_path`]`(path)`, creating its folder; returns
/// the path written.
pub fn write_new_file(path: &Path, bytes: &[u8]) -> Result<String> {
    let path = unused_path(path);
    create_parent(&path)?;
    std::fs::write(&path, bytes).map_err(|e| Error::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    Ok(path.display().to_string())
}

/// Writes a CSV through `rows`. A regular file (or a path where nothing
/// is yet) is written atomically (see the module docs); through a symlink,
/// the file it points to is replaced and the link stays. Anything else — a
/// device such as `/dev/null` or `/dev/stdout`, a FIFO — is written
/// directly, never replaced. Every I/O error is returned.
fn write_csv_atomically(
    path: &Path,
    rows: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> csv::Result<()>,
) -> Result<()> {
    let fail = |e: &dyn std::fmt::Display| Error::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    rows(&mut w).map_err(|e| fail(&e))?;
    let bytes = w.into_inner().map_err(|e| fail(&e.error()))?;
    match std::fs::metadata(path) {
        // Follows symlinks: what the path finally names.
        Ok(meta) if !meta.is_file() => {
            if meta.is_dir() {
                return Err(fail(&"is a folder"));
            }
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| fail(&e))?;
            f.write_all(&bytes).map_err(|e| fail(&e))?;
            f.flush().map_err(|e| fail(&e))
        }
        Ok(_) => {
            // A regular file, maybe behind symlinks: replace the file they
            // lead to, so the links stay.
            let target = std::fs::canonicalize(path).map_err(|e| fail(&e))?;
            replace_atomically(&target, &bytes).map_err(|e| fail(&e))
        }
        Err(_) => {
            create_parent(path)?;
            replace_atomically(path, &bytes).map_err(|e| fail(&e))
        }
    }
}

/// Writes `bytes` to a hidden file beside `path` and renames it over
/// `path` once complete and synced; the partial file goes on failure.
fn replace_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("not a file name"))?
        .to_string_lossy();
    let partial = path.with_file_name(format!(".{name}.partial"));
    let result = (|| {
        let mut f = std::fs::File::create(&partial)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&partial, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// Writes a sweep's points as CSV: β, the learning rate used, the run's
/// final metrics and π*'s at the same β.
pub fn write_sweep_csv(path: &Path, points: &[SweepPoint]) -> Result<()> {
    write_csv_atomically(path, |w| {
        w.write_record([
            "beta",
            "lr",
            "expected_reward",
            "kl_to_ref",
            "kl_to_optimal",
            "objective",
            "ood_mass",
            "optimal_expected_reward",
            "optimal_kl_to_ref",
            "optimal_objective",
        ])?;
        for pt in points {
            let m = &pt.metrics;
            w.write_record(
                [
                    pt.beta,
                    pt.lr,
                    m.expected_reward,
                    m.kl_to_ref,
                    m.kl_to_optimal,
                    m.objective,
                    m.ood_mass,
                    pt.optimal.expected_reward,
                    pt.optimal.kl_to_ref,
                    pt.optimal_objective,
                ]
                .map(|x| x.to_string()),
            )?;
        }
        Ok(())
    })
}

/// Writes `(step, metrics)` rows as CSV: `step`, every scalar metric, then
/// `ood_top`, `ood_top/probability`, `ood_top/implicit_reward`.
pub fn write_history_csv(path: &Path, history: &[(usize, Metrics)]) -> Result<()> {
    write_csv_atomically(path, |w| {
        if let Some((_, first)) = history.first() {
            let mut header: Vec<String> = vec!["step".into()];
            header.extend(first.scalars().into_iter().map(|(k, _)| k));
            header.extend([
                "ood_top".into(),
                "ood_top/probability".into(),
                "ood_top/implicit_reward".into(),
            ]);
            w.write_record(&header)?;
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
            w.write_record(&row)?;
        }
        Ok(())
    })
}
