//! The native window (renderer set-up) and the headless frame benchmark.

use super::*;

/// Opens the window. Returns an error message when it cannot.
///
/// OpenGL (glow) is the default renderer: with Mesa's software rasteriser
/// it keeps 60 fps at 1280×720 where wgpu manages about 20 (measured under
/// Xvfb). `DPO_LAB_RENDERER=wgpu` picks wgpu; if OpenGL cannot start, wgpu
/// is tried before giving up.
pub fn run(scenario: Option<String>) -> Result<(), String> {
    let options = |renderer| eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([1280.0, 720.0])
            .with_title("DPO Lab"),
        renderer,
        ..Default::default()
    };
    let open = |renderer| {
        let scenario = scenario.clone();
        eframe::run_native(
            "DPO Lab",
            options(renderer),
            Box::new(move |_cc| Ok(Box::new(DpoLabApp::new(scenario.as_deref())))),
        )
    };
    let result = match std::env::var("DPO_LAB_RENDERER").as_deref() {
        Ok("wgpu") => open(eframe::Renderer::Wgpu),
        // If wgpu fails too, the OpenGL error is the one worth reading.
        _ => open(eframe::Renderer::Glow)
            .or_else(|first| open(eframe::Renderer::Wgpu).map_err(|_| first)),
    };
    result.map_err(|e| format!("cannot open the window: {e}"))
}

/// Mean milliseconds of one app frame (update + layout + tessellation, no
/// GPU) over `frames` frames at 1280×720 while `scenario` trains `methods`
/// (one update per frame).
pub fn measure_frame_ms(
    scenario: &str,
    methods: &[dpo_lab::method::MethodKind],
    frames: usize,
) -> Result<f64, String> {
    use dpo_lab::method::MethodKind;
    let mut app = DpoLabApp::new(Some(scenario));
    if let Some(Status::Error(msg)) = &app.message {
        return Err(msg.clone());
    }
    let s = &mut app.settings;
    s.dpo = methods.contains(&MethodKind::Dpo);
    s.online = methods.contains(&MethodKind::OnlineDpo);
    s.ipo = methods.contains(&MethodKind::Ipo);
    s.rlhf = methods.contains(&MethodKind::Rlhf);
    s.grpo = methods.contains(&MethodKind::Grpo);
    s.rloo = methods.contains(&MethodKind::Rloo);
    s.steps = 1_000_000;
    s.steps_per_frame = 1;
    let ctx = egui::Context::default();
    app.apply(&ctx, Command::Rebuild);
    app.apply(&ctx, Command::TogglePlay);
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1280.0, 720.0),
        )),
        ..Default::default()
    };
    let mut run = |n: usize| {
        for _ in 0..n {
            let mut out = ctx.run_ui(input(), |ui| app.frame(ui));
            let _ = ctx.tessellate(out.shapes, out.pixels_per_point);
            // No renderer takes the font texture here: drop it on purpose.
            out.textures_delta.clear();
        }
    };
    run(10);
    let start = Instant::now();
    run(frames);
    if !app.playing {
        return Err(app
            .message
            .map_or_else(|| "training stopped".into(), |m| m.text().to_string()));
    }
    Ok(start.elapsed().as_secs_f64() * 1e3 / frames as f64)
}
