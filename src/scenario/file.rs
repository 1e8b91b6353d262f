//! Reading scenarios: the built-in files compiled into the binary, and files
//! on disk read safely (regular files only, bounded size, no deep nesting).

use std::path::Path;

use crate::error::{Error, Result};

use super::raw::RawScenario;

/// The built-in scenarios, in lesson order: `(file name, TOML text)`.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "optimal-policy.toml",
        include_str!("../../assets/scenarios/optimal-policy.toml"),
    ),
    (
        "ratio-intuition.toml",
        include_str!("../../assets/scenarios/ratio-intuition.toml"),
    ),
    (
        "ood-leak.toml",
        include_str!("../../assets/scenarios/ood-leak.toml"),
    ),
    (
        "the-the-the.toml",
        include_str!("../../assets/scenarios/the-the-the.toml"),
    ),
    (
        "offline-vs-online.toml",
        include_str!("../../assets/scenarios/offline-vs-online.toml"),
    ),
    (
        "length-bias.toml",
        include_str!("../../assets/scenarios/length-bias.toml"),
    ),
    (
        "deterministic-preferences.toml",
        include_str!("../../assets/scenarios/deterministic-preferences.toml"),
    ),
    (
        "large-space.toml",
        include_str!("../../assets/scenarios/large-space.toml"),
    ),
    (
        "likelihood-displacement.toml",
        include_str!("../../assets/scenarios/likelihood-displacement.toml"),
    ),
    (
        "best-of-n.toml",
        include_str!("../../assets/scenarios/best-of-n.toml"),
    ),
    (
        "squeezing.toml",
        include_str!("../../assets/scenarios/squeezing.toml"),
    ),
    (
        "negative-chosen-rewards.toml",
        include_str!("../../assets/scenarios/negative-chosen-rewards.toml"),
    ),
    (
        "over-optimisation.toml",
        include_str!("../../assets/scenarios/over-optimisation.toml"),
    ),
    (
        "resampling.toml",
        include_str!("../../assets/scenarios/resampling.toml"),
    ),
    (
        "grpo-length-bias.toml",
        include_str!("../../assets/scenarios/grpo-length-bias.toml"),
    ),
    (
        "grpo-difficulty.toml",
        include_str!("../../assets/scenarios/grpo-difficulty.toml"),
    ),
    (
        "grpo-zero-signal.toml",
        include_str!("../../assets/scenarios/grpo-zero-signal.toml"),
    ),
    (
        "rlvr-pass-at-k.toml",
        include_str!("../../assets/scenarios/rlvr-pass-at-k.toml"),
    ),
];

/// The deepest nesting of tables (dotted headers or keys) and arrays a
/// scenario file may use; the deepest real one uses 3.
pub const MAX_NESTING: usize = 16;

/// The line of the first header, dotted key or array nested deeper than
/// [`MAX_NESTING`] (a cheap scan before TOML's own recursion limit, which
/// reports no line).
pub(super) fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (k, line) in text.split(['\n', '\r']).enumerate() {
        // The line's code outside strings and comments.
        let mut code = String::with_capacity(line.len());
        let mut quote: Option<char> = None;
        let mut escaped = false;
        for c in line.chars() {
            match quote {
                Some(q) => {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' && q == '"' {
                        escaped = true;
                    } else if c == q {
                        quote = None;
                    }
                }
                None if c == '"' || c == '\'' => quote = Some(c),
                None if c == '#' => break,
                None => code.push(c),
            }
        }
        let t = code.trim_start();
        if t.starts_with('[') && !code.contains('=') {
            // A header: its dots count, not its brackets.
            if t.matches('.').count() + 1 > MAX_NESTING {
                return Some(k + 1);
            }
            continue;
        }
        if let Some((key, _)) = code.split_once('=')
            && key.matches('.').count() + 1 > MAX_NESTING
        {
            return Some(k + 1);
        }
        for c in code.chars() {
            match c {
                '[' | '{' => depth += 1,
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > MAX_NESTING {
                return Some(k + 1);
            }
        }
    }
    None
}

/// `s` on one line of at most `max` characters, control characters shown
/// as spaces.
pub(super) fn one_line(s: &str, max: usize) -> String {
    let flat: String = s
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        format!("{}…", flat.chars().take(max).collect::<String>())
    } else {
        flat
    }
}

pub(super) fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The largest scenario file read. Real ones are a few kB; 4 MiB holds an
/// explicit list of ~400,000 response names and parses in about half a
/// second, while larger spaces are generated (`space.size = N`).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Reads a scenario file: only a regular file (a FIFO would block, a device
/// never end), through a reader bounded at [`MAX_FILE_BYTES`] whatever size
/// the file system reports.
fn read_scenario_file(name_or_path: &str) -> Result<String> {
    use std::io::Read;
    let fail = |message: String| Error::File {
        path: name_or_path.to_string(),
        message,
    };
    let path = Path::new(name_or_path);
    let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file (a device, FIFO or socket)"
        };
        return Err(fail(format!("is {what}; give a .toml scenario file")));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(fail(format!(
            "is {} bytes, more than the {} MiB limit (for large spaces use `space.size = N` instead of listing every response)",
            meta.len(),
            MAX_FILE_BYTES >> 20
        )));
    }
    let file = std::fs::File::open(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(fail(format!(
            "is more than the {} MiB limit",
            MAX_FILE_BYTES >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        fail(format!(
            "is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Whether `name` is a built-in scenario's name.
pub fn is_builtin(name: &str) -> bool {
    BUILTIN
        .iter()
        .any(|(file, _)| file.trim_end_matches(".toml") == name)
}

/// Reads a built-in scenario by name, or a file by path.
pub fn load_raw(name_or_path: &str) -> Result<RawScenario> {
    for (file, text) in BUILTIN {
        if file.trim_end_matches(".toml") == name_or_path {
            return RawScenario::parse(text, file);
        }
    }
    let path = Path::new(name_or_path);
    if path.extension().is_some_and(|e| e == "toml") || path.exists() {
        let text = read_scenario_file(name_or_path)?;
        return RawScenario::parse(&text, name_or_path);
    }
    Err(Error::UnknownScenario(name_or_path.to_string()))
}

/// Every built-in scenario, parsed.
pub fn builtins() -> Vec<RawScenario> {
    BUILTIN
        .iter()
        .map(|(file, text)| {
            RawScenario::parse(text, file).expect("built-in scenarios are tested to parse")
        })
        .collect()
}
