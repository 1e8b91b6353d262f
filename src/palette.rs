//! How each series looks, in the app and in `dpo-lab figure` alike: a
//! colour from the Okabe–Ito palette (distinguishable with every common
//! colour-vision deficiency, Okabe & Ito 2008) plus a redundant cue — a
//! marker shape and a dash pattern — so no series is told apart by colour
//! alone, and a label.

use crate::method::MethodKind;

/// A series: a method, or the reference (`None`).
pub type SeriesKind = Option<MethodKind>;

/// The series' colour as RGB.
pub fn rgb(kind: SeriesKind) -> [u8; 3] {
    match kind {
        None => [136, 136, 136],                      // π_ref: grey
        Some(MethodKind::Optimal) => [0, 158, 115],   // bluish green
        Some(MethodKind::Dpo) => [213, 94, 0],        // vermillion
        Some(MethodKind::OnlineDpo) => [0, 114, 178], // blue
        Some(MethodKind::Ipo) => [204, 121, 167],     // reddish purple
        Some(MethodKind::Rlhf) => [230, 159, 0],      // orange
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
    }
}
