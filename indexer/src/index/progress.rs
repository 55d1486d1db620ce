//! Progress of a build or verification: a bar on a terminal, a log line every few seconds
//! otherwise.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::IndexKind;

/// How often a log line reports progress when there is no terminal.
const LOG_INTERVAL: Duration = Duration::from_secs(5);

/// Reports documents done out of a known total for one index.
#[derive(Debug)]
pub(crate) struct DocumentProgress {
    kind: IndexKind,
    action: &'static str,
    bar: Option<ProgressBar>,
    total_num_docs: u64,
    num_docs: u64,
    started: Instant,
    last_logged: Instant,
}

impl DocumentProgress {
    /// Starts reporting `action` (`building`, `verifying`) of `total_num_docs` documents.
    pub(crate) fn new(
        kind: IndexKind,
        action: &'static str,
        total_num_docs: u64,
        bar: bool,
    ) -> Self {
        let bar = bar.then(|| {
            let bar = ProgressBar::new(total_num_docs);
            let template = format!(
                "{action} {kind} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {{per_sec}}"
            );
            bar.set_style(
                ProgressStyle::with_template(&template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        let now = Instant::now();
        Self {
            kind,
            action,
            bar,
            total_num_docs,
            num_docs: 0,
            started: now,
            last_logged: now,
        }
    }

    /// Counts `num_docs` more documents done.
    pub(crate) fn advance(&mut self, num_docs: u64) {
        self.num_docs += num_docs;
        if let Some(bar) = &self.bar {
            bar.set_position(self.num_docs);
            return;
        }
        if self.last_logged.elapsed() < LOG_INTERVAL {
            return;
        }
        self.last_logged = Instant::now();
        tracing::info!(
            index = %self.kind,
            action = self.action,
            num_docs = self.num_docs,
            total_num_docs = self.total_num_docs,
            elapsed_secs = self.started.elapsed().as_secs(),
            "progress"
        );
    }

    /// Removes the bar.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
