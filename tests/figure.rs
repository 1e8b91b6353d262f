//! `dpo-lab figure` writes valid SVG and PNG for every built-in lesson, with
//! the pinned focus response named in the picture.

mod common;

use common::dpo_lab;
use dpo_lab::scenario::builtins;

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("dpo-lab-figure-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

/// A PNG's signature and its IHDR size.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

#[test]
fn every_lesson_draws_as_svg_and_png() {
    for raw in builtins() {
        for (kind, ext) in [("bars", "svg"), ("curves", "svg"), ("frontier", "png")] {
            let out = temp(&format!("{}-{kind}.{ext}", raw.name));
            let o = dpo_lab(&[
                "figure",
                "--scenario",
                &raw.name,
                "--method",
                "dpo,online-dpo",
                "--kind",
                kind,
                "--out",
                out.to_str().expect("utf-8"),
                "--width",
                "640",
                "--height",
                "400",
            ]);
            assert!(
                o.status.success(),
                "{} {kind}: {}",
                raw.name,
                String::from_utf8_lossy(&o.stderr)
            );
            let bytes = std::fs::read(&out).expect("written");
            if ext == "svg" {
                let text = String::from_utf8(bytes).expect("SVG is text");
                assert!(text.trim_start().starts_with("<svg") || text.starts_with("<?xml"));
                assert!(text.trim_end().ends_with("</svg>"));
                assert!(text.contains("offline DPO") && text.contains("online DPO"));
            } else {
                assert_eq!(png_size(&bytes), (640, 400));
            }
        }
    }
}

/// The lesson's point is in the picture: "the the the", never in the data,
/// is pinned to the bar chart and named.
#[test]
fn the_focus_response_is_named_in_the_svg() {
    let out = temp("focus.svg");
    let o = dpo_lab(&[
        "figure",
        "--scenario",
        "the-the-the",
        "--method",
        "dpo",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(text.contains("the the the"), "the focus response is named");
    assert!(text.contains("pinned"));
}

#[test]
fn bad_figure_arguments_are_one_line_errors() {
    for (args, needle) in [
        (vec!["--out", "x.jpg"], "--out"),
        (vec!["--out", "x.svg", "--width", "10"], "--width"),
        (vec!["--out", "x.svg", "--kind", "pie"], "--kind"),
        (vec!["--out", "x.svg", "--method", "dpo,nope"], "method"),
    ] {
        let mut all = vec!["figure", "--scenario", "ood-leak"];
        all.extend(args);
        let o = dpo_lab(&all);
        assert_eq!(o.status.code(), Some(2), "{all:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{err} should name {needle}");
    }
}
