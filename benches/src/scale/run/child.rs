//! The harness's child processes (`indexer build`, `search-api`): started with a clean
//! environment, their output appended to a log of the run, and stopped when the harness
//! dies, even by `SIGKILL`.

use std::ffi::OsStr;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;

use anyhow::Context;

/// Variables, besides every `ATLAS_*` one, that a child must not inherit: each is set
/// explicitly by the harness when the child needs it.
const REMOVED_VARIABLES: [&str; 2] = ["DATABASE_URL", "REDIS_URL"];

/// Returns a command running `binary` that:
///
/// - inherits none of the harness's `ATLAS_*` variables, nor `DATABASE_URL` or
///   `REDIS_URL`: a user's `ATLAS_MASTER_KEY` would make the service refuse the harness's
///   requests, and `ATLAS_INDEXES`, `ATLAS_WRITER_HEAP_MB` and the like would change what
///   is measured; the caller sets what the child needs;
/// - receives `SIGTERM` when the harness dies, on Linux, through `setpriv --pdeathsig`
///   (util-linux), so that a killed harness leaves no service running: tokio's
///   `kill_on_drop`, also set, only runs when the harness unwinds;
/// - reads nothing from the terminal.
///
/// The death signal is tied to the thread that starts the child, so children are started
/// from the runtime's worker threads, which live as long as the harness.
pub fn command(binary: &Path) -> tokio::process::Command {
    let mut command = match setpriv() {
        Some(setpriv) => {
            let mut command = tokio::process::Command::new(setpriv);
            command.args(["--pdeathsig", "TERM", "--"]).arg(binary);
            command
        }
        None => tokio::process::Command::new(binary),
    };
    for (name, _) in std::env::vars_os() {
        if is_removed(&name) {
            command.env_remove(name);
        }
    }
    command.stdin(Stdio::null()).kill_on_drop(true);
    command
}

/// Whether a child must not inherit the variable `name`.
fn is_removed(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    name.starts_with("ATLAS_") || REMOVED_VARIABLES.contains(&name.as_ref())
}

/// Returns the `setpriv` that can set a death signal, once looked up; `None` (with a
/// warning) where there is none, as outside Linux.
fn setpriv() -> Option<&'static Path> {
    static SETPRIV: OnceLock<Option<PathBuf>> = OnceLock::new();
    SETPRIV
        .get_or_init(|| {
            let found = find_setpriv();
            if found.is_none() {
                eprintln!(
                    "warning: no `setpriv` with `--pdeathsig` (util-linux 2.33 or later) \
                     found; should the harness be killed, its search-api or indexer will \
                     keep running"
                );
            }
            found
        })
        .as_deref()
}

fn find_setpriv() -> Option<PathBuf> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let path = std::env::var_os("PATH")?;
    let setpriv = std::env::split_paths(&path)
        .map(|dir| dir.join("setpriv"))
        .find(|candidate| candidate.is_file())?;
    let works = std::process::Command::new(&setpriv)
        .args(["--pdeathsig", "TERM", "--", "true"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    works.then_some(setpriv)
}

/// Opens the log `path` for appending, so that a rerun does not overwrite the log of a
/// process still running, and writes a line saying which run starts writing to it.
///
/// # Errors
/// Fails when the log cannot be opened or written.
pub fn append_log(path: &Path, what: &str) -> anyhow::Result<File> {
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("failed to open the log `{}`", path.display()))?;
    writeln!(
        log,
        "--- {what} started by the scale harness (pid {}) at {} ---",
        std::process::id(),
        chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
    )
    .with_context(|| format!("failed to write the log `{}`", path.display()))?;
    Ok(log)
}

/// Returns the last `num_lines` lines of the log `path`, for an error message.
pub fn log_tail(path: &Path, num_lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(num_lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_that_change_a_child_are_not_inherited() {
        for name in [
            "ATLAS_MASTER_KEY",
            "ATLAS_INDEXES",
            "DATABASE_URL",
            "REDIS_URL",
        ] {
            assert!(is_removed(OsStr::new(name)), "{name}");
        }
        for name in ["PATH", "HOME", "ATLAS", "MY_ATLAS_KEY"] {
            assert!(!is_removed(OsStr::new(name)), "{name}");
        }
    }
}
