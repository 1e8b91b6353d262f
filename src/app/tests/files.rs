//! Opening, exporting and the file dialog; the README screenshots.

use super::*;

#[test]
fn a_broken_scenario_file_shows_an_error_and_keeps_running() {
    let dir = std::env::temp_dir().join(format!("dpo-lab-app-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let path = dir.join("broken.toml");
    std::fs::write(&path, "name = \"x\"\n[space\nresponses = 3\n").expect("write");
    let mut h = harness(None);
    h.run_steps(1);
    // The file row sits low in the scrolling side panel.
    h.get_by_label("File").scroll_to_me();
    h.run_steps(30);
    h.get_by_label("File").focus();
    h.get_by_label("File")
        .type_text(path.to_str().expect("utf8"));
    h.run_steps(1);
    h.get_by_label("Open…").click();
    h.run_steps(2);
    let status = h.state().message().expect("a message").clone();
    assert!(
        status.is_error() && status.text().contains("broken.toml"),
        "{status:?}"
    );
    assert!(
        h.query_by_label_contains("broken.toml").is_some(),
        "the error is visible"
    );
    assert_eq!(h.state().session().scenario.name(), "optimal-policy");
    // A missing file and a bad setting are errors too, not crashes.
    let _ = std::fs::remove_dir_all(dir);
    let mut h = harness(Some("/no/such/file.toml"));
    h.run_steps(1);
    assert!(
        h.state()
            .message()
            .is_some_and(crate::app::Status::is_error)
    );
}

#[test]
fn exports_history_and_a_scenario_that_reloads_to_the_same_state() {
    let dir = std::env::temp_dir().join(format!("dpo-lab-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let mut h = harness(None);
    h.run_steps(1);
    slider(&h, "β (KL weight)").set_value_accesskit(0.5);
    h.run_steps(1);
    for _ in 0..3 {
        h.key_press(egui::Key::S);
        h.run_steps(1);
    }
    let csv = dir.join("h.csv");
    let toml = dir.join("s.toml");
    h.state_mut().export.csv = csv.to_str().expect("utf8").into();
    h.state_mut().export.toml = toml.to_str().expect("utf8").into();
    for button in ["History CSV", "Scenario"] {
        // The export section sits at the bottom of the scrolling side panel.
        h.get_by_label(button).scroll_to_me();
        h.run_steps(30);
        h.get_by_label(button).click();
        h.run_steps(1);
        assert!(
            h.state().message().is_some_and(|m| !m.is_error()),
            "{:?}",
            h.state().message()
        );
    }
    // Exporting again never overwrites: the second files are numbered.
    h.get_by_label("History CSV").click();
    h.run_steps(1);
    assert!(
        dir.join("h-dpo-2.csv").exists(),
        "{:?}",
        h.state().message()
    );
    h.get_by_label("Scenario").click();
    h.run_steps(1);
    assert!(dir.join("s-2.toml").exists(), "{:?}", h.state().message());
    // The status bar names the file in full.
    let full = std::path::absolute(dir.join("s-2.toml")).expect("absolute");
    let msg = h.state().message().expect("message").text().to_string();
    assert_eq!(msg, format!("wrote {}", full.display()));
    let text = std::fs::read_to_string(dir.join("h-dpo.csv")).expect("csv written");
    assert_eq!(text.lines().count(), 1 + 4, "header and steps 0..=3");
    let saved =
        dpo_lab::scenario::Scenario::load(toml.to_str().expect("utf8"), &Default::default())
            .expect("reloads");
    assert_eq!(saved.train.beta(), 0.5);
    let fresh = app(Some(toml.to_str().expect("utf8")));
    assert_eq!(
        fresh.session().scenario.train,
        h.state().session().scenario.train
    );
    assert_eq!(fresh.session().optimum, h.state().session().optimum);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_file_dialog_falls_back_to_the_path_field_without_a_portal() {
    // Where no portal answers (no desktop session) the dialog returns no
    // file: the picker is replaced by one that does exactly that, so the
    // test runs the same on a desktop and on CI.
    let mut h = harness(None);
    h.state_mut().dialogs.picker = |_, _| None;
    h.run_steps(2);
    // The file row sits at the bottom of the scrolling side panel.
    h.get_by_label("Browse…").scroll_to_me();
    h.run_steps(30);
    h.get_by_label("Browse…").click();
    h.run_steps(1);
    run_while(&mut h, 60, "the dialog never returned", |app| {
        app.dialogs.busy()
    });
    h.run_steps(1);
    let msg = h.state().message().expect("message").text().to_string();
    assert!(msg.starts_with("no file chosen"), "{msg}");
    assert_eq!(
        h.state().session().scenario.name(),
        "optimal-policy",
        "nothing loaded"
    );
    // A chosen file is loaded.
    h.state_mut().dialogs.picker = |_, _| {
        Some(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios/ood-leak.toml"),
        )
    };
    h.get_by_label("Browse…").click();
    h.run_steps(1);
    run_while(&mut h, 60, "the dialog never returned", |app| {
        app.dialogs.busy()
    });
    h.run_steps(2);
    assert_eq!(h.state().session().scenario.name(), "ood-leak");
}

/// Renders the README's screenshots into `assets/` (software rendering, no
/// display needed):
/// `cargo test --release --bin dpo-lab -- --ignored readme_screenshots`
#[test]
#[ignore = "writes assets/*.png; run on purpose to refresh the README screenshots"]
fn readme_screenshots() {
    let shots: [(usize, &str, bool, Option<&str>); 9] = [
        (5, "screenshot-the-the-the.png", true, None),
        (5, "screenshot-derivation.png", true, Some("Derivation")),
        (1, "screenshot-frontier.png", false, None),
        (6, "screenshot-online-vs-offline.png", true, None),
        (10, "screenshot-best-of-n.png", false, None),
        (9, "screenshot-likelihood-displacement.png", true, None),
        (13, "screenshot-squeezing.png", false, None),
        (14, "screenshot-negative-chosen-rewards.png", true, None),
        (15, "screenshot-over-optimisation.png", false, None),
    ];
    // A rendering harness of the given size, and a shot saved to assets/.
    let shooter = |w: f32, hgt: f32| {
        Harness::builder()
            .with_size(egui::vec2(w, hgt))
            .with_step_dt(1.0 / 60.0)
            .wgpu()
            .build_ui_state(|ui, app: &mut DpoLabApp| app.frame(ui), app(None))
    };
    let save = |h: &mut Harness<'static, DpoLabApp>, file: &str| {
        let image = h.render().expect("software renderer available");
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets")
            .join(file);
        image.save(&path).expect("write png");
    };
    for (lesson, file, play, tab) in shots {
        let mut h = shooter(1280.0, 720.0);
        h.run_steps(1);
        pick_lesson(&mut h, &stop_title(lesson));
        wait_for_experiment(&mut h);
        // As the app opens each stop (stop 6 in log scale: its focus is
        // tiny), then played at the default pace to the end (a simulated
        // clock).
        if play {
            play_to_end(&mut h, u32::MAX);
        }
        if let Some(tab) = tab {
            h.get_by_label(tab).click();
            h.state_mut().derivation.shift = 0.5;
        }
        h.run_steps(3);
        save(&mut h, file);
    }
    // Present mode on a 1024×768 projector at stop 6: the bars and the key
    // curve, as a slide.
    let mut h = shooter(1024.0, 768.0);
    h.run_steps(1);
    pick_lesson(&mut h, &stop_title(5));
    play_to_end(&mut h, u32::MAX);
    h.get_by_label("Present").click();
    h.run_steps(4);
    save(&mut h, "screenshot-present.png");
}

/// A teacher's own file with a `[[lesson]]` table opens as a stop: its
/// tab, notice, "Try this" and question show, and it joins the picker.
#[test]
fn a_file_with_a_lesson_opens_as_a_stop() {
    let dir = std::env::temp_dir().join(format!("dpo-lab-lesson-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let path = dir.join("my-stop.toml");
    let text = dpo_lab::scenario::load_raw("optimal-policy")
        .expect("built in")
        .to_toml()
        .expect("writes")
        + r#"
[[lesson]]
title = "My own stop"
tab = "frontier"
notice = "Watch the best answer take the mass."
try_this = [{ beta = 0.3 }]

[lesson.predict]
question = "What will DPO do to the worst answer?"
watch = "probability"
response = "wrong"
expect = "falls"
"#;
    std::fs::write(&path, text).expect("write");
    let mut h = harness(None);
    h.run_steps(1);
    let ctx = h.ctx.clone();
    let name = path.to_str().expect("utf8").to_string();
    h.state_mut()
        .apply(&ctx, crate::app::Command::Load(name.clone()));
    h.run_steps(2);
    let _ = std::fs::remove_dir_all(dir);
    let state = h.state();
    assert_eq!(state.settings.tab, crate::app::settings::Tab::Frontier);
    let stop = &state.lessons.stops[state.lessons.current.expect("a stop")];
    assert_eq!(stop.scenario, name);
    assert!(h.query_by_label_contains("Watch the best answer").is_some());
    assert!(h.query_by_label("β = 0.3").is_some());
    assert!(
        h.query_by_label("What will DPO do to the worst answer?")
            .is_some()
    );
    // Opening it again does not add it twice.
    let before = h.state().lessons.stops.len();
    h.state_mut().apply(&ctx, crate::app::Command::Load(name));
    h.run_steps(2);
    assert_eq!(h.state().lessons.stops.len(), before);
}
