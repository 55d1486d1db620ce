//! Progress of an import: a bar on a terminal, a log line every few seconds otherwise.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::ImportSummary;

/// How often a log line reports progress when there is no terminal.
const LOG_INTERVAL: Duration = Duration::from_secs(5);

/// Reports import progress.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    last_logged: Mutex<Instant>,
}

impl Progress {
    /// Creates a reporter for `total_num_bytes` of input; a bar when `bar` is true.
    pub fn new(bar: bool, total_num_bytes: u64) -> Self {
        let bar = bar.then(|| {
            let bar = ProgressBar::new(total_num_bytes);
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        let now = Instant::now();
        Self {
            bar,
            started: now,
            last_logged: Mutex::new(now),
        }
    }

    /// Shows the counts so far.
    pub fn update(&self, summary: &ImportSummary) {
        if let Some(bar) = &self.bar {
            bar.set_position(summary.num_bytes);
            bar.set_message(format!(
                "{} read, {} new, {} rejected",
                summary.num_read,
                summary.num_inserted + summary.num_new_versions,
                summary.rejected.len()
            ));
            return;
        }
        let Ok(mut last_logged) = self.last_logged.lock() else {
            return;
        };
        if last_logged.elapsed() < LOG_INTERVAL {
            return;
        }
        *last_logged = Instant::now();
        tracing::info!(
            num_read = summary.num_read,
            num_inserted = summary.num_inserted,
            num_new_versions = summary.num_new_versions,
            num_rejected = summary.rejected.len(),
            elapsed_secs = self.started.elapsed().as_secs(),
            "importing"
        );
    }

    /// Removes the bar, leaving the terminal to the closing summary.
    pub fn finish(&self, _summary: &ImportSummary) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
