//! Names of settings' choices, derived once per enum.
//!
//! Every choice a scenario file or a flag names (method, optimiser, loss,
//! policy class, data kind, annotator, RLHF optimiser, reward model) is a
//! fieldless enum deriving `strum`'s string conversions, its list of
//! variants and a one-line description. Parsing, error messages, the
//! command line's `--help`, and the app's pickers and tooltips all read
//! these, so adding a choice is one variant.

use std::str::FromStr;

use strum::{EnumMessage, IntoEnumIterator, VariantNames};

use crate::error::{Error, Result};

/// Parses `s` as one of `E`'s names; an unknown name is an error naming
/// `field` and listing every choice.
pub fn parse_choice<E: FromStr + VariantNames>(field: &str, what: &str, s: &str) -> Result<E> {
    s.parse::<E>().map_err(|_| {
        Error::invalid(
            field,
            format!("unknown {what} {s:?}: expected {}", one_of(E::VARIANTS)),
        )
    })
}

/// `"a", "b" or "c"`.
pub fn one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

/// Every choice of `E` with its one-line description, for pickers and
/// `--help`.
pub fn choices<E>() -> Vec<(&'static str, &'static str)>
where
    E: IntoEnumIterator + EnumMessage + Into<&'static str>,
{
    E::iter()
        .map(|e| {
            let help = e.get_message().unwrap_or("");
            (e.into(), help)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::LossName;
    use crate::method::{Annotator, MethodKind};

    #[test]
    fn names_round_trip_and_aliases_parse() {
        for (name, _) in choices::<MethodKind>() {
            let m: MethodKind = parse_choice("method", "method", name).expect("parses");
            assert_eq!(m.name(), name);
        }
        for (name, _) in choices::<Annotator>() {
            let a: Annotator = parse_choice("online.annotator", "annotator", name).expect("parses");
            assert_eq!(a.name(), name);
        }
        let alias: LossName = parse_choice("train.loss", "loss", "sigmoid").expect("alias");
        assert_eq!(alias, LossName::Dpo);
        let name: &str = LossName::Cdpo.into();
        assert_eq!(name, "cdpo");
        // An unknown name lists every choice, quoted, the last after "or".
        let err = parse_choice::<MethodKind>("method", "method", "ppo").expect_err("unknown");
        assert_eq!(
            err.to_string(),
            format!(
                "method: unknown method \"ppo\": expected {}",
                one_of(MethodKind::VARIANTS)
            )
        );
        assert_eq!(one_of(&["a", "b", "c"]), "\"a\", \"b\" or \"c\"");
        assert_eq!(one_of(&["a"]), "\"a\"");
    }
}
