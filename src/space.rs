//! Response spaces: the finite sets `Y(x)` that DPO Lab enumerates exactly.
//!
//! A *flat* space is a list of named answers (or `size` generated ones named
//! `y0, y1, …`). A *sequence* space holds every token sequence of length
//! `1..=max_len` over a vocabulary, each followed by an end token; a sequence
//! is named by its tokens joined with single spaces ("the the the").
//!
//! Sequences are indexed by length, then lexicographically by token index:
//! index = offset(len) + Σ_t tok_t · V^(len−1−t). Every proper prefix of a
//! response is itself a response, which the autoregressive policy uses.

use std::collections::HashMap;

use crate::error::{Error, Result};

/// The most responses a space may hold: a few arrays of this many f64 must
/// fit in memory comfortably.
pub const MAX_RESPONSES: u128 = 20_000_000;

/// A finite, exactly enumerable set of responses to one prompt.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseSpace {
    /// Named (or generated) answers.
    Flat {
        /// Response names, in order.
        names: Vec<String>,
        /// Name → index.
        index: HashMap<String, usize>,
    },
    /// `size` generated answers named `y0 … y{size−1}`; names are made on
    /// demand so a million responses cost no strings.
    Generated {
        /// Number of responses.
        size: usize,
    },
    /// All token sequences of length `1..=max_len` over `vocab`.
    Sequences {
        /// Token names.
        vocab: Vec<String>,
        /// Longest sequence.
        max_len: usize,
        /// `offsets[l]` = number of sequences shorter than `l + 1`;
        /// `offsets[max_len]` is the size of the space.
        offsets: Vec<usize>,
        /// Token name → token index.
        token_index: HashMap<String, usize>,
    },
}

impl ResponseSpace {
    /// A flat space of the given names (non-empty, unique, non-blank).
    pub fn flat(names: Vec<String>) -> Result<Self> {
        if names.is_empty() {
            return Err(Error::invalid(
                "space.responses",
                "must list at least one response",
            ));
        }
        check_size("space.responses", names.len() as u128)?;
        let mut index = HashMap::with_capacity(names.len());
        for (i, n) in names.iter().enumerate() {
            if n.trim().is_empty() {
                return Err(Error::invalid(
                    "space.responses",
                    format!("response {i} has an empty name"),
                ));
            }
            if index.insert(n.clone(), i).is_some() {
                return Err(Error::invalid(
                    "space.responses",
                    format!("response name {n:?} appears twice"),
                ));
            }
        }
        Ok(ResponseSpace::Flat { names, index })
    }

    /// A flat space of `size` generated responses named `y0 … y{size−1}`.
    pub fn generated(size: u64) -> Result<Self> {
        if size == 0 {
            return Err(Error::invalid("space.size", "must be at least 1, got 0"));
        }
        check_size("space.size", size as u128)?;
        Ok(ResponseSpace::Generated {
            size: size as usize,
        })
    }

    /// Every sequence of length `1..=max_len` over `vocab`. The size is
    /// computed (with overflow checks) before anything is allocated.
    pub fn sequences(vocab: Vec<String>, max_len: usize) -> Result<Self> {
        if vocab.is_empty() {
            return Err(Error::invalid(
                "space.vocab",
                "must list at least one token",
            ));
        }
        if max_len == 0 {
            return Err(Error::invalid("space.max_len", "must be at least 1, got 0"));
        }
        let size = sequence_count(vocab.len() as u128, max_len as u128);
        check_size(
            &format!("space (vocab of {} tokens, max_len {max_len})", vocab.len()),
            size,
        )?;
        let mut token_index = HashMap::new();
        for (i, t) in vocab.iter().enumerate() {
            if t.is_empty() || t.chars().any(char::is_whitespace) {
                return Err(Error::invalid(
                    "space.vocab",
                    format!("token {t:?} must be non-empty and contain no whitespace"),
                ));
            }
            if token_index.insert(t.clone(), i).is_some() {
                return Err(Error::invalid(
                    "space.vocab",
                    format!("token {t:?} appears twice"),
                ));
            }
        }
        let v = vocab.len();
        let mut offsets = vec![0usize; max_len + 1];
        let mut pow = 1usize;
        for l in 1..=max_len {
            pow *= v;
            offsets[l] = offsets[l - 1] + pow;
        }
        Ok(ResponseSpace::Sequences {
            vocab,
            max_len,
            offsets,
            token_index,
        })
    }

    /// Number of responses.
    pub fn len(&self) -> usize {
        match self {
            ResponseSpace::Flat { names, .. } => names.len(),
            ResponseSpace::Generated { size } => *size,
            ResponseSpace::Sequences {
                offsets, max_len, ..
            } => offsets[*max_len],
        }
    }

    /// Whether there are no responses (a checked space always has some).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this is a sequence space.
    pub fn is_sequences(&self) -> bool {
        matches!(self, ResponseSpace::Sequences { .. })
    }

    /// The vocabulary size of a sequence space (0 for flat spaces).
    pub fn vocab_len(&self) -> usize {
        match self {
            ResponseSpace::Flat { .. } | ResponseSpace::Generated { .. } => 0,
            ResponseSpace::Sequences { vocab, .. } => vocab.len(),
        }
    }

    /// The vocabulary (empty for flat spaces).
    pub fn vocab(&self) -> &[String] {
        match self {
            ResponseSpace::Flat { .. } | ResponseSpace::Generated { .. } => &[],
            ResponseSpace::Sequences { vocab, .. } => vocab,
        }
    }

    /// Longest sequence (1 for flat spaces).
    pub fn max_len(&self) -> usize {
        match self {
            ResponseSpace::Flat { .. } | ResponseSpace::Generated { .. } => 1,
            ResponseSpace::Sequences { max_len, .. } => *max_len,
        }
    }

    /// Sequence spaces: `offsets[l]` = number of sequences shorter than
    /// `l + 1` tokens (empty for flat spaces).
    pub fn offsets(&self) -> &[usize] {
        match self {
            ResponseSpace::Sequences { offsets, .. } => offsets,
            _ => &[],
        }
    }

    /// The name of response `i`.
    pub fn name(&self, i: usize) -> String {
        match self {
            ResponseSpace::Flat { names, .. } => names[i].clone(),
            ResponseSpace::Generated { .. } => format!("y{i}"),
            ResponseSpace::Sequences { vocab, .. } => self
                .tokens(i)
                .iter()
                .map(|&t| vocab[t].as_str())
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    /// The index of the response with this name (tokens separated by any
    /// whitespace for sequence spaces).
    pub fn index_of(&self, name: &str) -> Option<usize> {
        match self {
            ResponseSpace::Flat { index, .. } => index.get(name).copied(),
            ResponseSpace::Generated { size } => {
                let digits = name.strip_prefix('y')?;
                // Reject "y01" and "y+1" so every response has one name.
                if digits.is_empty()
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                    || (digits.len() > 1 && digits.starts_with('0'))
                {
                    return None;
                }
                digits.parse::<usize>().ok().filter(|i| i < size)
            }
            ResponseSpace::Sequences {
                token_index,
                max_len,
                ..
            } => {
                let toks: Option<Vec<usize>> = name
                    .split_whitespace()
                    .map(|t| token_index.get(t).copied())
                    .collect();
                let toks = toks?;
                if toks.is_empty() || toks.len() > *max_len {
                    return None;
                }
                Some(self.index_of_tokens(&toks))
            }
        }
    }

    /// The index of a token sequence (sequence spaces only; the caller
    /// guarantees `1 ≤ len ≤ max_len` and valid tokens).
    pub fn index_of_tokens(&self, toks: &[usize]) -> usize {
        match self {
            ResponseSpace::Flat { .. } | ResponseSpace::Generated { .. } => toks[0],
            ResponseSpace::Sequences { vocab, offsets, .. } => {
                let v = vocab.len();
                let mut code = 0usize;
                for &t in toks {
                    code = code * v + t;
                }
                offsets[toks.len() - 1] + code
            }
        }
    }

    /// Length in tokens of response `i` (1 for flat spaces).
    pub fn length(&self, i: usize) -> usize {
        match self {
            ResponseSpace::Flat { .. } | ResponseSpace::Generated { .. } => 1,
            ResponseSpace::Sequences { offsets, .. } => {
                // offsets is increasing; length l holds offsets[l-1]..offsets[l].
                offsets.partition_point(|&o| o <= i)
            }
        }
    }

    /// Tokens of response `i` as TRL counts them for its per-token averages
    /// and NLL: the content tokens plus the end token it appends, which a
    /// sequence of `max_len` tokens does not have (its `log π` has no end
    /// factor). A flat answer is one token.
    pub fn counted_tokens(&self, i: usize) -> usize {
        match self {
            ResponseSpace::Flat { .. } | ResponseSpace::Generated { .. } => 1,
            ResponseSpace::Sequences { max_len, .. } => {
                let len = self.length(i);
                len + usize::from(len < *max_len)
            }
        }
    }

    /// The tokens of response `i` (sequence spaces; `[i]` for flat ones).
    pub fn tokens(&self, i: usize) -> Vec<usize> {
        match self {
            ResponseSpace::Flat { .. } | ResponseSpace::Generated { .. } => vec![i],
            ResponseSpace::Sequences { vocab, offsets, .. } => {
                let v = vocab.len();
                let len = self.length(i);
                let mut code = i - offsets[len - 1];
                let mut toks = vec![0usize; len];
                for slot in toks.iter_mut().rev() {
                    *slot = code % v;
                    code /= v;
                }
                toks
            }
        }
    }

    /// For a sequence response of length ≥ 2, the index of the prefix without
    /// its last token; `None` for length-1 sequences and flat responses.
    pub fn parent(&self, i: usize) -> Option<usize> {
        match self {
            ResponseSpace::Flat { .. } | ResponseSpace::Generated { .. } => None,
            ResponseSpace::Sequences { vocab, offsets, .. } => {
                let len = self.length(i);
                if len == 1 {
                    return None;
                }
                let code = i - offsets[len - 1];
                Some(offsets[len - 2] + code / vocab.len())
            }
        }
    }

    /// The last token of sequence response `i`.
    pub fn last_token(&self, i: usize) -> usize {
        match self {
            ResponseSpace::Flat { .. } | ResponseSpace::Generated { .. } => i,
            ResponseSpace::Sequences { vocab, offsets, .. } => {
                let len = self.length(i);
                (i - offsets[len - 1]) % vocab.len()
            }
        }
    }
}

/// `Σ_{l=1..L} V^l`, saturating.
fn sequence_count(v: u128, max_len: u128) -> u128 {
    let mut total: u128 = 0;
    let mut pow: u128 = 1;
    for _ in 0..max_len {
        pow = pow.saturating_mul(v);
        total = total.saturating_add(pow);
        if total > MAX_RESPONSES {
            return total;
        }
    }
    total
}

fn check_size(what: &str, size: u128) -> Result<()> {
    if size > MAX_RESPONSES {
        return Err(Error::TooLarge {
            what: what.to_string(),
            size,
            limit: MAX_RESPONSES,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn abc() -> ResponseSpace {
        ResponseSpace::sequences(vec!["a".into(), "b".into(), "c".into()], 3).expect("valid")
    }

    #[test]
    fn sequence_space_enumerates_every_sequence_once() {
        let s = abc();
        assert_eq!(s.len(), 3 + 9 + 27);
        let mut seen = std::collections::HashSet::new();
        for i in 0..s.len() {
            let name = s.name(i);
            assert_eq!(s.index_of(&name), Some(i), "{name}");
            assert!(seen.insert(name));
            assert_eq!(s.tokens(i).len(), s.length(i));
        }
        assert_eq!(s.name(0), "a");
        assert_eq!(s.name(3), "a a");
        assert_eq!(s.name(s.len() - 1), "c c c");
    }

    #[test]
    fn parent_drops_the_last_token() {
        let s = abc();
        let i = s.index_of("b c a").expect("in space");
        assert_eq!(s.parent(i), s.index_of("b c"));
        assert_eq!(s.last_token(i), 0);
        assert_eq!(s.parent(s.index_of("c").expect("in space")), None);
    }

    #[test]
    fn huge_space_is_refused_before_allocating() {
        let vocab: Vec<String> = (0..50).map(|i| format!("t{i}")).collect();
        let err = ResponseSpace::sequences(vocab, 40).expect_err("too large");
        assert!(matches!(err, Error::TooLarge { .. }));
        let g = ResponseSpace::generated(1000).expect("fits");
        assert_eq!(g.index_of("y999"), Some(999));
        assert_eq!(g.index_of("y1000"), None);
        assert_eq!(g.index_of("y01"), None);
        assert!(matches!(
            ResponseSpace::generated(10_000_000_000),
            Err(Error::TooLarge { .. })
        ));
    }

    #[test]
    fn flat_names_must_be_unique() {
        let e = ResponseSpace::flat(vec!["A".into(), "A".into()]).expect_err("dup");
        assert!(e.to_string().contains("twice"));
    }
}
