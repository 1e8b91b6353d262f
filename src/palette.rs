//! How each series looks, in the app and in `dpo-lab figure` alike: a
//! colour from the Okabe–Ito palette (distinguishable with every common
//! colour-vision deficiency, Okabe & Ito 2008) plus a redundant cue — a
//! marker shape and a dash pattern — so no series is told apart by colour
//! alone, and a label.

use crate::method::MethodKind;

/// A series: a method, or the reference (`None`).
pub type SeriesKind = Option<MethodKind>;

/// Every series, in legend order.
pub const ALL: [SeriesKind; 8] = [
    None,
    Some(MethodKind::Optimal),
    Some(MethodKind::Dpo),
    Some(MethodKind::OnlineDpo),
    Some(MethodKind::Ipo),
    Some(MethodKind::Rlhf),
    Some(MethodKind::Grpo),
    Some(MethodKind::Rloo),
];

/// The series' colour as RGB.
pub fn rgb(kind: SeriesKind) -> [u8; 3] {
    match kind {
        None => [136, 136, 136],                      // π_ref: grey
        Some(MethodKind::Optimal) => [0, 158, 115],   // bluish green
        Some(MethodKind::Dpo) => [213, 94, 0],        // vermillion
        Some(MethodKind::OnlineDpo) => [0, 114, 178], // blue
        Some(MethodKind::Ipo) => [204, 121, 167],     // reddish purple
        Some(MethodKind::Rlhf) => [230, 159, 0],      // orange
        Some(MethodKind::Grpo) => [86, 180, 233],     // sky blue
        Some(MethodKind::Rloo) => [160, 140, 0],      // yellow, darkened to read on white
    }
}

/// Marker shapes (the redundant cue on points and legend swatches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// π_ref.
    Square,
    /// π*.
    Diamond,
    /// Offline DPO.
    Circle,
    /// Online DPO.
    Triangle,
    /// IPO: a triangle pointing down (a cross would read as the "out of
    /// the data" mark ×).
    TriangleDown,
    /// RLHF.
    Plus,
    /// GRPO: a triangle pointing right.
    TriangleRight,
    /// RLOO: a triangle pointing left.
    TriangleLeft,
}

/// The series' marker.
pub fn marker(kind: SeriesKind) -> Marker {
    match kind {
        None => Marker::Square,
        Some(MethodKind::Optimal) => Marker::Diamond,
        Some(MethodKind::Dpo) => Marker::Circle,
        Some(MethodKind::OnlineDpo) => Marker::Triangle,
        Some(MethodKind::Ipo) => Marker::TriangleDown,
        Some(MethodKind::Rlhf) => Marker::Plus,
        Some(MethodKind::Grpo) => Marker::TriangleRight,
        Some(MethodKind::Rloo) => Marker::TriangleLeft,
    }
}

/// Line patterns (the redundant cue on curves).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dash {
    /// Unbroken.
    Solid,
    /// Long dashes.
    Dashed,
    /// Dots.
    Dotted,
}

/// The series' line pattern: π* and π_ref are reference lines (dashed,
/// dotted); trained methods are solid and told apart by colour and marker.
pub fn dash(kind: SeriesKind) -> Dash {
    match kind {
        None => Dash::Dotted,
        Some(MethodKind::Optimal) => Dash::Dashed,
        Some(_) => Dash::Solid,
    }
}

/// The series' name in legends.
pub fn label(kind: SeriesKind) -> &'static str {
    match kind {
        None => "π_ref",
        Some(MethodKind::Dpo) => "offline DPO",
        Some(MethodKind::OnlineDpo) => "online DPO",
        Some(MethodKind::Ipo) => "IPO",
        Some(MethodKind::Rlhf) => "RLHF",
        Some(MethodKind::Optimal) => "π*",
        Some(MethodKind::Grpo) => "GRPO",
        Some(MethodKind::Rloo) => "RLOO",
    }
}

/// How many markers a curve carries along its length (plus its last point).
pub const MARKERS_PER_CURVE: usize = 5;

/// Where along a curve of `len` points series number `slot` of `slots`
/// puts its markers: `per_curve` evenly spaced indices, shifted by the
/// slot so different series' markers do not sit on each other, and the
/// last point.
pub fn marker_indices(len: usize, slot: usize, slots: usize, per_curve: usize) -> Vec<usize> {
    if len == 0 {
        return Vec::new();
    }
    let slots = slots.max(1);
    let mut out: Vec<usize> = (0..per_curve)
        .map(|k| {
            let f = (k as f64 + (slot % slots) as f64 / slots as f64 + 0.5) / per_curve as f64;
            ((f * (len - 1) as f64).round() as usize).min(len - 1)
        })
        .collect();
    out.push(len - 1);
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_indices_stay_on_the_curve_and_end_at_its_last_point() {
        for len in [1, 2, 7, 101, 5001] {
            for slots in 1..=4 {
                for slot in 0..slots {
                    let ix = marker_indices(len, slot, slots, 5);
                    assert_eq!(ix.last(), Some(&(len - 1)));
                    assert!(ix.iter().all(|&i| i < len));
                    assert!(ix.windows(2).all(|w| w[0] <= w[1]));
                }
            }
        }
        // Two series on a long curve put their markers at different steps.
        let (a, b) = (marker_indices(1001, 0, 2, 5), marker_indices(1001, 1, 2, 5));
        assert!(a[..5].iter().all(|i| !b[..5].contains(i)));
        assert!(marker_indices(0, 0, 1, 5).is_empty());
    }
}
