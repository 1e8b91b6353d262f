//! Forward-mode automatic differentiation (dual numbers) and the test's
//! own policies, shared by the TRL re-implementations (`trl_losses.rs`,
//! `trl_grpo.rs`): written from the definitions, not from `src/`.
#![allow(dead_code)]

/// A value with its gradient in every parameter (forward mode).
#[derive(Clone, Debug)]
pub struct D {
    pub v: f64,
    pub g: Vec<f64>,
}

impl D {
    pub fn constant(v: f64, n: usize) -> D {
        D { v, g: vec![0.0; n] }
    }
    pub fn var(v: f64, k: usize, n: usize) -> D {
        let mut g = vec![0.0; n];
        g[k] = 1.0;
        D { v, g }
    }
    /// `f(v)` with derivative `df` at `v`.
    pub fn map(&self, v: f64, df: f64) -> D {
        D {
            v,
            g: self.g.iter().map(|x| x * df).collect(),
        }
    }
    pub fn ln(&self) -> D {
        self.map(self.v.ln(), 1.0 / self.v)
    }
    pub fn exp(&self) -> D {
        let e = self.v.exp();
        self.map(e, e)
    }
    pub fn ln_1p(&self) -> D {
        self.map(self.v.ln_1p(), 1.0 / (1.0 + self.v))
    }
    pub fn sigmoid(&self) -> D {
        let s = 1.0 / (1.0 + (-self.v).exp());
        self.map(s, s * (1.0 - s))
    }
    /// torch's `F.logsigmoid`, stably.
    pub fn logsigmoid(&self) -> D {
        let x = self.v;
        let v = if x > 0.0 {
            -(-x).exp().ln_1p()
        } else {
            x - x.exp().ln_1p()
        };
        self.map(v, 1.0 / (1.0 + x.exp()))
    }
    pub fn relu(&self) -> D {
        if self.v > 0.0 {
            self.clone()
        } else {
            self.map(0.0, 0.0)
        }
    }
    pub fn sq(&self) -> D {
        self.map(self.v * self.v, 2.0 * self.v)
    }
    pub fn scale(&self, a: f64) -> D {
        self.map(self.v * a, a)
    }
    pub fn add_c(&self, a: f64) -> D {
        self.map(self.v + a, 1.0)
    }
}

impl std::ops::Add for D {
    type Output = D;
    fn add(self, o: D) -> D {
        D {
            v: self.v + o.v,
            g: self.g.iter().zip(&o.g).map(|(a, b)| a + b).collect(),
        }
    }
}
impl std::ops::Sub for D {
    type Output = D;
    fn sub(self, o: D) -> D {
        self + o.scale(-1.0)
    }
}
impl std::ops::Mul for D {
    type Output = D;
    // The product rule: (uv)' = u'v + uv'.
    #[allow(clippy::suspicious_arithmetic_impl)]
    fn mul(self, o: D) -> D {
        D {
            v: self.v * o.v,
            g: self
                .g
                .iter()
                .zip(&o.g)
                .map(|(a, b)| a * o.v + self.v * b)
                .collect(),
        }
    }
}
impl std::ops::Neg for D {
    type Output = D;
    fn neg(self) -> D {
        self.scale(-1.0)
    }
}

pub fn logsumexp(xs: &[D]) -> D {
    let m = xs.iter().map(|x| x.v).fold(f64::NEG_INFINITY, f64::max);
    let s: f64 = xs.iter().map(|x| (x.v - m).exp()).sum();
    let n = xs[0].g.len();
    let mut g = vec![0.0; n];
    for x in xs {
        let p = (x.v - m).exp() / s;
        for (gi, xi) in g.iter_mut().zip(&x.g) {
            *gi += p * xi;
        }
    }
    D { v: m + s.ln(), g }
}

pub fn mean(xs: &[D]) -> D {
    let n = xs.len() as f64;
    let mut acc = xs[0].scale(0.0);
    for x in xs {
        acc = acc + x.clone();
    }
    acc.scale(1.0 / n)
}

/// A policy of the test's own: parameters and `log π(y)` for every
/// response as dual numbers.
pub trait Model {
    fn params_mut(&mut self) -> &mut Vec<f64>;
    fn log_probs(&self) -> Vec<D>;
}

/// One logit per response.
pub struct Tabular {
    pub theta: Vec<f64>,
}

impl Model for Tabular {
    fn params_mut(&mut self) -> &mut Vec<f64> {
        &mut self.theta
    }
    fn log_probs(&self) -> Vec<D> {
        let n = self.theta.len();
        let th: Vec<D> = (0..n).map(|k| D::var(self.theta[k], k, n)).collect();
        let z = logsumexp(&th);
        th.into_iter().map(|t| t - z.clone()).collect()
    }
}

/// One softmax row per prefix over `vocab + end` (the empty prefix cannot
/// end): sequences are token lists, `max_len` has no end factor.
pub struct Autoregressive {
    vocab: usize,
    max_len: usize,
    seqs: Vec<Vec<usize>>,
    /// Prefix → first parameter of its row.
    rows: std::collections::HashMap<Vec<usize>, usize>,
    theta: Vec<f64>,
}

impl Autoregressive {
    /// Starts at `log_ref` through its exact conditionals.
    pub fn new(vocab: usize, max_len: usize, seqs: Vec<Vec<usize>>, log_ref: &[f64]) -> Self {
        let p: Vec<f64> = log_ref.iter().map(|l| l.exp()).collect();
        // Subtree mass of a prefix: every sequence extending it.
        let mass = |pre: &[usize]| -> f64 {
            seqs.iter()
                .zip(&p)
                .filter(|(s, _)| s.starts_with(pre))
                .map(|(_, q)| q)
                .sum()
        };
        let mut prefixes: Vec<Vec<usize>> = vec![vec![]];
        prefixes.extend(seqs.iter().filter(|s| s.len() < max_len).cloned());
        let mut rows = std::collections::HashMap::new();
        let mut theta = Vec::new();
        for pre in prefixes {
            rows.insert(pre.clone(), theta.len());
            let m = mass(&pre);
            for v in 0..vocab {
                let mut ext = pre.clone();
                ext.push(v);
                theta.push((mass(&ext) / m).ln());
            }
            if !pre.is_empty() {
                let k = seqs.iter().position(|s| *s == pre).expect("a response");
                theta.push((p[k] / m).ln());
            }
        }
        Autoregressive {
            vocab,
            max_len,
            seqs,
            rows,
            theta,
        }
    }
}

impl Autoregressive {
    /// `log π(s_t | s_<t)` for every token of `s`, then the end token
    /// unless `s` has `max_len` tokens: the rows' own log-softmax.
    pub fn token_log_probs(&self, s: &[usize]) -> Vec<D> {
        let n = self.theta.len();
        let log_cond = |pre: &[usize], col: usize| -> D {
            let base = self.rows[pre];
            let width = if pre.is_empty() {
                self.vocab
            } else {
                self.vocab + 1
            };
            let row: Vec<D> = (0..width)
                .map(|c| D::var(self.theta[base + c], base + c, n))
                .collect();
            row[col].clone() - logsumexp(&row)
        };
        let mut out: Vec<D> = (0..s.len()).map(|t| log_cond(&s[..t], s[t])).collect();
        if s.len() < self.max_len {
            out.push(log_cond(s, self.vocab));
        }
        out
    }
}

/// `log π(s_t | s_<t)` of every sequence from the sequence probabilities
/// alone: each conditional is a ratio of prefix masses, summed directly
/// over the sequences that extend the prefix; then the end token unless
/// the sequence has `max_len` tokens.
pub fn tokens_by_prefix_mass(seqs: &[Vec<usize>], max_len: usize, lp: &[D]) -> Vec<Vec<D>> {
    let n = lp[0].g.len();
    let mass = |pre: &[usize]| -> D {
        let mut m = D::constant(0.0, n);
        for (s, l) in seqs.iter().zip(lp) {
            if s.starts_with(pre) {
                m = m + l.exp();
            }
        }
        m.ln()
    };
    seqs.iter()
        .enumerate()
        .map(|(y, s)| {
            let mut out = Vec::new();
            let mut before = D::constant(0.0, n);
            for t in 1..=s.len() {
                let here = mass(&s[..t]);
                out.push(here.clone() - before);
                before = here;
            }
            if s.len() < max_len {
                out.push(lp[y].clone() - before);
            }
            out
        })
        .collect()
}

impl Model for Autoregressive {
    fn params_mut(&mut self) -> &mut Vec<f64> {
        &mut self.theta
    }
    fn log_probs(&self) -> Vec<D> {
        let n = self.theta.len();
        // log softmax of the row of `pre`, entry `col` (vocab = end).
        let log_cond = |pre: &[usize], col: usize| -> D {
            let base = self.rows[pre];
            let width = if pre.is_empty() {
                self.vocab
            } else {
                self.vocab + 1
            };
            let row: Vec<D> = (0..width)
                .map(|c| D::var(self.theta[base + c], base + c, n))
                .collect();
            row[col].clone() - logsumexp(&row)
        };
        self.seqs
            .iter()
            .map(|s| {
                let mut lp = D::constant(0.0, n);
                for t in 0..s.len() {
                    lp = lp + log_cond(&s[..t], s[t]);
                }
                if s.len() < self.max_len {
                    lp = lp + log_cond(s, self.vocab);
                }
                lp
            })
            .collect()
    }
}

pub fn sequences_of(vocab: usize, max_len: usize) -> Vec<Vec<usize>> {
    // By length, then lexicographically: the library's order, checked below
    // by name.
    let mut out = Vec::new();
    for len in 1..=max_len {
        for k in 0..vocab.pow(len as u32) {
            let mut s = vec![0; len];
            let mut r = k;
            for t in (0..len).rev() {
                s[t] = r % vocab;
                r /= vocab;
            }
            out.push(s);
        }
    }
    out
}

/// Mean and standard error of each component over samples.
pub fn mean_and_se(xs: &[Vec<f64>]) -> Vec<(f64, f64)> {
    let n = xs.len() as f64;
    (0..xs[0].len())
        .map(|k| {
            let m = xs.iter().map(|x| x[k]).sum::<f64>() / n;
            let v = xs.iter().map(|x| (x[k] - m).powi(2)).sum::<f64>() / (n - 1.0);
            (m, (v / n).sqrt())
        })
        .collect()
}
