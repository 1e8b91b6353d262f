//! Every ```console block of the README and of `docs/` is run and its
//! output compared: a number quoted in the documentation is the program's
//! own, today. `python3 scripts/fill-docs.py FILE…` (or
//! `TRYCMD=overwrite cargo test --test docs`) refreshes them after a
//! deliberate change.

#[test]
fn documented_commands_print_what_the_docs_say() {
    trycmd::TestCases::new()
        .register_bin(
            "dpo-lab",
            std::path::Path::new(env!("CARGO_BIN_EXE_dpo-lab")),
        )
        .env("NO_COLOR", "1")
        .case("README.md")
        .case("docs/*.md");
}
