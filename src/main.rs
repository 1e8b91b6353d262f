//! The `dpo-lab` binary: parse flags, call the library, map every error to
//! one `error:` line and exit code 2.

#[cfg(feature = "app")]
mod app;
mod cli;

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

#[cfg(feature = "app")]
fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY", "WAYLAND_SOCKET"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

#[cfg(not(feature = "app"))]
fn open_app(_scenario: Option<String>) -> ExitCode {
    fail(
        "this dpo-lab was built without the desktop app (cargo feature `app`); use the command line instead: `dpo-lab --help` (scenarios, optimal, run, compare, sweep)",
    )
}

#[cfg(feature = "app")]
fn open_app(scenario: Option<String>) -> ExitCode {
    if !has_display() {
        return fail(
            "no display found (DISPLAY/WAYLAND_DISPLAY unset), so the desktop app cannot open; use the command line instead: `dpo-lab --help` (scenarios, optimal, run, compare, sweep)",
        );
    }
    match app::run(scenario) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn main() -> ExitCode {
    let parsed = match cli::Cli::try_parse() {
        Ok(p) => p,
        Err(e) => {
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // clap's message is a paragraph, then tips and usage: keep the
            // paragraph, on one line.
            let text = e.to_string();
            let para = text.split("\n\n").next().unwrap_or("invalid arguments");
            let para = para.split_whitespace().collect::<Vec<_>>().join(" ");
            let para = para.strip_prefix("error: ").unwrap_or(&para);
            return fail(&format!("{para} (see `dpo-lab --help`)"));
        }
    };
    match parsed.command {
        None => open_app(None),
        Some(cli::Command::App { scenario }) => open_app(scenario),
        Some(cmd) => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            match cli::execute(cmd, &mut out) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    // Broken pipes (e.g. `| head`) are not the user's error.
                    if e.downcast_ref::<std::io::Error>()
                        .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
                    {
                        return ExitCode::SUCCESS;
                    }
                    let msg = format!("{e:#}").replace('\n', " ");
                    // Ctrl-C is not bad input: the shell's code for SIGINT.
                    if let Some(dpo_lab::Error::Interrupted { .. }) = e.downcast_ref() {
                        eprintln!("error: {msg}");
                        return ExitCode::from(130);
                    }
                    fail(&msg)
                }
            }
        }
    }
}
