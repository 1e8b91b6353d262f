//! The losses' own unit tests (the TRL comparison is tests/trl_losses.rs).

use super::*;
use crate::tolerance::ULPS_ABS;

#[test]
fn dpo_at_zero_margin_is_log_two() {
    assert!((PairLoss::Dpo.value(0.0, 0.1) - 2f64.ln()).abs() < ULPS_ABS);
    assert!((PairLoss::Dpo.derivative(0.0, 0.1) + 0.05).abs() < ULPS_ABS);
}

#[test]
fn ipo_minimum_sits_at_its_target() {
    let beta = 0.25;
    assert_eq!(PairLoss::Ipo.value(2.0, beta), 0.0);
    assert_eq!(PairLoss::Ipo.derivative(2.0, beta), 0.0);
}

#[test]
fn unknown_loss_names_the_field() {
    let e = PairLoss::parse("kto2", &LossParams::default()).expect_err("unknown");
    assert!(e.to_string().starts_with("train.loss"));
    let smooth = |e| LossParams {
        label_smoothing: Some(e),
        ..LossParams::default()
    };
    assert!(PairLoss::parse("cdpo", &smooth(0.7)).is_err());
    assert!(PairLoss::parse("dpo", &smooth(f64::NAN)).is_err());
    assert!(PairLoss::parse("exo_pair", &smooth(0.0)).is_err());
    assert!(PairLoss::parse("exo_pair", &smooth(0.3)).is_ok());
}
