//! `dpo-lab figure`: the app's pictures without a display, as SVG or PNG,
//! for slides and reports.
//!
//! Three kinds, drawn with `plotters` in the app's palette
//! ([`crate::palette`]: Okabe–Ito colours plus a marker per series):
//!
//! - `bars`: the final distribution of every method beside π_ref and π*,
//!   over the most probable responses plus the scenario's focus response
//!   (the out-of-data answer with the highest implicit reward, pinned so
//!   the lesson's point is always on the figure), in response order; a log
//!   axis when a shown bar is below 2 %.
//! - `curves`: loss, expected reward, KL to π_ref and OOD mass against the
//!   step, with π*'s value as a dashed reference line where it has one.
//! - `frontier`: the reward–KL plane: π*'s frontier over β, each method's
//!   path and its end point.
//!
//! Legends sit beside the plots, never over the data. Text is rendered
//! with the font the app uses (Ubuntu Light, shipped in `assets/fonts`),
//! so PNGs need no system fonts.

mod drawing;
pub use drawing::shown_bars;
use drawing::*;

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::method::MethodKind;
use crate::metrics::{Metrics, top_k_by};
use crate::optimal::{FrontierPoint, Optimum};
use crate::palette::{self, Marker, SeriesKind};
use crate::problem::Problem;
use crate::scenario::Scenario;
use crate::sweep::{log_grid, optimal_frontier};
use crate::train::{Progress, train_prompts_watched};

/// Which picture.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
    strum::VariantNames,
    strum::EnumMessage,
)]
#[strum(serialize_all = "kebab-case")]
pub enum FigureKind {
    /// The distribution over responses.
    #[default]
    #[strum(message = "the final distribution of each method beside pi_ref and pi*")]
    Bars,
    /// Training curves.
    #[strum(message = "loss, expected reward, KL and OOD mass against the step")]
    Curves,
    /// The reward–KL plane.
    #[strum(message = "expected reward against KL to pi_ref, with pi*'s frontier")]
    Frontier,
}

/// The smallest and largest picture side, in pixels.
pub const SIDE_RANGE: (u32, u32) = (200, 4000);

/// Bars shown besides the pinned focus response.
pub const TOP_BARS: usize = 10;

/// One trained method, ready to draw.
pub struct TrainedSeries {
    /// Which method.
    pub kind: MethodKind,
    /// The first prompt's final `log π`.
    pub log_probs: Vec<f64>,
    /// Metrics over training, averaged over prompts.
    pub history: Vec<(usize, Metrics)>,
}

/// Everything a figure shows, computed by the library.
pub struct FigureData {
    /// The scenario's name (the title).
    pub title: String,
    /// The first prompt's problem.
    pub problem: Problem,
    /// π* at the scenario's β (first prompt).
    pub optimum: Optimum,
    /// π*'s metrics (for reference lines), averaged over prompts.
    pub optimum_metrics: Metrics,
    /// The frontier over β around the scenario's β.
    pub frontier: Vec<FrontierPoint>,
    /// Which responses are in the data.
    pub in_data: Vec<bool>,
    /// The trained methods.
    pub series: Vec<TrainedSeries>,
    /// The response pinned to the bar chart, if any.
    pub focus: Option<usize>,
}

/// Trains `methods` on `scenario` (its settings, any overrides already
/// applied) and gathers what the figures draw.
pub fn figure_data(
    scenario: &Scenario,
    methods: &[MethodKind],
    progress: &dyn Progress,
) -> Result<FigureData> {
    if methods.is_empty() {
        return Err(Error::invalid("method", "give at least one method"));
    }
    let problem = (*scenario.prompts[0].problem).clone();
    let beta = scenario.train.beta;
    let optimum = crate::optimal::optimum(&problem.log_ref, &problem.reward, beta);
    let opt_cfgs = scenario.run_configs(MethodKind::Optimal);
    let optimum_metrics = train_prompts_watched(&opt_cfgs, progress)?.final_metrics;
    let mut series = Vec::new();
    for &kind in methods.iter().filter(|m| **m != MethodKind::Optimal) {
        let outcome = train_prompts_watched(&scenario.run_configs(kind), progress)?;
        let mut history = outcome.history.clone();
        if history.last().map(|(k, _)| *k) != Some(scenario.train.steps) {
            history.push((scenario.train.steps, outcome.final_metrics.clone()));
        }
        series.push(TrainedSeries {
            kind,
            log_probs: outcome.prompts[0].final_log_probs.clone(),
            history,
        });
    }
    let in_data = scenario.prompts[0].data.in_data.clone();
    // The focus: the lesson's first named focus response (`focus = [...]`),
    // else the out-of-data response with the highest implicit reward under
    // the first trained method (the lesson's leak), if any.
    let named = scenario.focus_responses.first().copied();
    let focus = named.or_else(|| {
        series.first().and_then(|s| {
            (0..problem.len())
                .filter(|&y| !in_data[y] && problem.log_ref[y].is_finite())
                .max_by(|&a, &b| {
                    let h = |y: usize| s.log_probs[y] - problem.log_ref[y];
                    h(a).total_cmp(&h(b)).then(b.cmp(&a))
                })
        })
    });
    let frontier = optimal_frontier(scenario, &log_grid(beta / 30.0, beta * 30.0, 40));
    Ok(FigureData {
        title: scenario.name().to_string(),
        problem,
        optimum,
        optimum_metrics,
        frontier,
        in_data,
        series,
        focus,
    })
}

/// The output format, from the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Scalable vector graphics.
    Svg,
    /// A PNG bitmap.
    Png,
}

/// `.svg` or `.png`, else an error naming `field`.
pub fn format_of(field: &str, path: &Path) -> Result<Format> {
    match path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .as_deref()
    {
        Some("svg") => Ok(Format::Svg),
        Some("png") => Ok(Format::Png),
        _ => Err(Error::invalid(
            field,
            format!("{:?} must end in .svg or .png", path.display().to_string()),
        )),
    }
}

/// Checks a picture side.
pub fn check_side(field: &str, v: u32) -> Result<u32> {
    if (SIDE_RANGE.0..=SIDE_RANGE.1).contains(&v) {
        Ok(v)
    } else {
        Err(Error::invalid(
            field,
            format!(
                "must be between {} and {} pixels, got {v}",
                SIDE_RANGE.0, SIDE_RANGE.1
            ),
        ))
    }
}

const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/Ubuntu-Light.ttf");
/// The shipped font's typographic family (its face is Light: resvg takes
/// the nearest weight), what resvg finds for "sans-serif".
const FONT_FAMILY: &str = "Ubuntu";

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The font is compiled in and tested to parse.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES);
    });
}

/// Writes the figure to `path` (SVG or PNG by its extension).
pub fn write_figure(
    data: &FigureData,
    kind: FigureKind,
    size: (u32, u32),
    path: &Path,
) -> Result<()> {
    let fail = |e: &dyn std::fmt::Display| Error::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    match format_of("--out", path)? {
        Format::Svg => {
            let svg = render_svg(data, kind, size)?;
            std::fs::write(path, svg).map_err(|e| fail(&e))
        }
        Format::Png => {
            let png = render_png(data, kind, size)?;
            std::fs::write(path, png).map_err(|e| fail(&e))
        }
    }
}

/// The figure as PNG bytes: the SVG rasterised by resvg, its text in the
/// shipped font.
pub fn render_png(data: &FigureData, kind: FigureKind, size: (u32, u32)) -> Result<Vec<u8>> {
    use resvg::{tiny_skia, usvg};
    let svg = render_svg(data, kind, size)?;
    let failed = |e: &dyn std::fmt::Display| Error::Unsupported(format!("drawing failed: {e}"));
    let mut options = usvg::Options::default();
    let fonts = options.fontdb_mut();
    fonts.load_font_data(FONT_BYTES.to_vec());
    fonts.set_sans_serif_family(FONT_FAMILY);
    let tree = usvg::Tree::from_str(&svg, &options).map_err(|e| failed(&e))?;
    let mut pixmap =
        tiny_skia::Pixmap::new(size.0, size.1).ok_or_else(|| failed(&"an empty picture"))?;
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| failed(&e))
}

/// The figure as SVG text.
pub fn render_svg(data: &FigureData, kind: FigureKind, size: (u32, u32)) -> Result<String> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw(&root, data, kind).map_err(|e| Error::Unsupported(format!("drawing failed: {e}")))?;
        root.present()
            .map_err(|e| Error::Unsupported(format!("drawing failed: {e}")))?;
    }
    // Every element is opaque: plotters writes `opacity="1"` on each, which
    // some renderers mishandle; the colours alone carry the look.
    Ok(svg.replace(" opacity=\"1\"", ""))
}

pub use crate::numerics::tick;

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;
