//! The controls panel: β on a logarithmic slider, learning rate, optimiser,
//! playback pace, data, online settings, policy class, seed, and which
//! methods run side by side. Changing a training setting resets the runs.

use dpo_lab::data::DataKind;
use dpo_lab::policy::PolicyClass;

use super::Command;
use super::settings::{Playback, Settings};

/// A picker over a choice enum's names, each with its description as a
/// tooltip (both from the library's enum: one source of truth).
fn combo<E>(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut E,
    offered: impl Fn(E) -> bool,
    hint: &str,
) -> bool
where
    E: strum::IntoEnumIterator + strum::EnumMessage + Into<&'static str> + Copy + PartialEq,
{
    let mut changed = false;
    let shown: &'static str = (*value).into();
    egui::ComboBox::from_label(label)
        .selected_text(shown)
        .show_ui(ui, |ui| {
            for option in E::iter().filter(|&e| offered(e)) {
                let name: &'static str = option.into();
                changed |= ui
                    .selectable_value(value, option, name)
                    .on_hover_text(option.get_message().unwrap_or(""))
                    .changed();
            }
        })
        .response
        .on_hover_text(hint);
    changed
}

/// Draws the controls; pushes `Command::Rebuild` when a training setting
/// changed.
pub fn ui(ui: &mut egui::Ui, s: &mut Settings, sequences: bool, out: &mut Vec<Command>) {
    let mut rebuild = false;
    ui.heading("Training");
    let beta_before = s.beta;
    let beta_changed = ui
        .add(
            egui::Slider::new(&mut s.beta, 1e-3..=1e3)
                .logarithmic(true)
                .text("β (KL weight)"),
        )
        .on_hover_text(
            "KL weight β: large keeps π near π_ref, small chases reward. π* follows instantly.",
        )
        .changed();
    // DPO's step on tabular logits is lr·β²: keep it when β moves, so a
    // lesson's run still converges at another β (as `dpo-lab sweep` does).
    if beta_changed {
        s.keep_step_after_beta(beta_before);
    }
    rebuild |= beta_changed;
    rebuild |= ui
        .checkbox(&mut s.keep_step, "keep lr·β² fixed when β moves")
        .on_hover_text("On by default: DPO-type losses move tabular logits by about lr·β² per step, so the learning rate follows β")
        .changed();
    let lr = ui
        .add(
            egui::Slider::new(&mut s.lr, 1e-8..=1e6)
                .logarithmic(true)
                .text("learning rate"),
        )
        .on_hover_text("DPO's effective step on tabular logits is lr·β²")
        .changed();
    s.lr_moved |= lr;
    rebuild |= lr;
    ui.label(format!(
        "effective step lr·β² = {}",
        dpo_lab::numerics::tick(s.lr * s.beta * s.beta)
    ))
    .on_hover_text("what one DPO step moves a tabular logit by, roughly (IPO's step is about lr)");
    rebuild |= combo(
        ui,
        "optimiser",
        &mut s.optimizer,
        |_| true,
        "how a gradient becomes a step",
    );
    rebuild |= combo(
        ui,
        "loss",
        &mut s.loss,
        |_| true,
        "the preference loss of offline and online DPO (hover a name for its formula)",
    );
    rebuild |= ui
        .add(
            egui::Slider::new(&mut s.steps, 1..=100_000)
                .logarithmic(true)
                .text("total steps"),
        )
        .changed();
    // The pace and its one number on one row (a short slider: the panel
    // is narrow).
    ui.horizontal(|ui| {
        ui.spacing_mut().slider_width = 70.0;
        combo(
            ui,
            "playback",
            &mut s.playback,
            |_| true,
            "how Play advances the runs (hover a choice for what it does)",
        );
        match s.playback {
            Playback::Paced => {
                ui.add(
                    egui::Slider::new(&mut s.play_seconds, 2.0..=60.0)
                        .logarithmic(true)
                        .suffix(" s")
                        .text("per run"),
                )
                .on_hover_text("How long a paced run plays; a slow machine may take longer");
            }
            Playback::PerFrame => {
                ui.add(
                    egui::Slider::new(&mut s.steps_per_frame, 1..=1000)
                        .logarithmic(true)
                        .text("steps / frame"),
                )
                .on_hover_text(
                    "Updates per frame while playing (bounded by a time budget so the window stays at 60 fps)",
                );
            }
            Playback::Fast => {}
        }
    });
    rebuild |= ui
        .add(egui::Slider::new(&mut s.seed, 0..=1000).text("seed"))
        .changed();

    ui.separator();
    ui.heading("Data and policy");
    rebuild |= combo(
        ui,
        "data",
        &mut s.data_kind,
        |_| true,
        "where the preference pairs come from",
    );
    if s.data_kind == DataKind::Sampled {
        rebuild |= ui
            .add(
                egui::Slider::new(&mut s.data_size, 1..=100_000)
                    .logarithmic(true)
                    .text("pairs drawn"),
            )
            .changed();
    }
    // The autoregressive class needs token sequences.
    rebuild |= combo(
        ui,
        "policy",
        &mut s.policy,
        |c| sequences || c != PolicyClass::Autoregressive,
        "how the policy is parameterised",
    );

    ui.separator();
    ui.heading("Online DPO");
    rebuild |= ui
        .add(
            egui::Slider::new(&mut s.resample_every, 1..=10_000)
                .logarithmic(true)
                .text("resample every"),
        )
        .on_hover_text("Steps between fresh samples from π: 1 = online, very large = offline")
        .changed();
    rebuild |= combo(
        ui,
        "annotator",
        &mut s.annotator,
        |_| true,
        "who judges the sampled pairs",
    );

    ui.separator();
    ui.heading("GRPO and RLOO");
    rebuild |= ui
        .add(
            egui::Slider::new(&mut s.num_generations, 2..=256)
                .logarithmic(true)
                .text("answers per group"),
        )
        .on_hover_text("G: answers drawn per prompt and step (TRL's num_generations)")
        .changed();
    rebuild |= combo(
        ui,
        "GRPO loss type",
        &mut s.grpo_loss_type,
        |_| true,
        "how GRPO averages its per-token losses",
    );
    rebuild |= combo(
        ui,
        "reward scaling",
        &mut s.scale_rewards,
        |_| true,
        "whether GRPO divides advantages by the group's standard deviation",
    );

    ui.separator();
    ui.heading("Methods");
    ui.horizontal_wrapped(|ui| {
        ui.checkbox(&mut s.show_reference, "π_ref");
        ui.checkbox(&mut s.show_optimum, "π*");
        ui.checkbox(&mut s.show_ghost, "previous run")
            .on_hover_text(
                "After a settings change, the runs as they stood before it, drawn faded",
            );
        rebuild |= ui.checkbox(&mut s.dpo, "offline DPO").changed();
        rebuild |= ui.checkbox(&mut s.online, "online DPO").changed();
        rebuild |= ui.checkbox(&mut s.ipo, "IPO").changed();
        rebuild |= ui.checkbox(&mut s.rlhf, "RLHF").changed();
        rebuild |= ui
            .checkbox(&mut s.grpo, "GRPO")
            .on_hover_text("GRPO on the true reward: groups of G answers")
            .changed();
        rebuild |= ui
            .checkbox(&mut s.rloo, "RLOO")
            .on_hover_text("RLOO on the true reward: leave-one-out baseline")
            .changed();
    });
    if rebuild {
        out.push(Command::Rebuild);
    }
}
