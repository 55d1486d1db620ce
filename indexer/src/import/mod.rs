//! Import of bibliographic source files into `raw_records` and `author_profiles`.
//!
//! Reading and checksumming run on a blocking thread and hand batches over a bounded
//! channel to the writer, so parsing overlaps the database round trips and memory stays
//! bounded by the channel, whatever the size of the input.

pub mod checksum;
pub mod formats;
pub mod progress;
pub mod record;
pub mod writer;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::sync::mpsc;

use self::formats::{Format, ReadOptions};
use self::progress::Progress;
use self::record::{Location, Parsed, Rejected, SourceProfile, Warning};
use self::writer::{BatchOutcome, PreparedRecord};
use crate::{Error, Result};

/// How an import reads and writes.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Limits applied while reading.
    pub read: ReadOptions,
    /// Records written per statement and transaction.
    pub batch_size: usize,
    /// Where to write one JSON line per rejected item, if anywhere.
    pub rejects_path: Option<PathBuf>,
    /// Whether to draw a progress bar (on a terminal) rather than log lines.
    pub progress_bar: bool,
    /// Stops the import between batches once it holds `true`: what was committed stays,
    /// and the summary says the import was interrupted.
    pub stop: Option<tokio::sync::watch::Receiver<bool>>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            read: ReadOptions::default(),
            batch_size: 1_000,
            rejects_path: None,
            progress_bar: false,
            stop: None,
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Files read.
    pub num_files: u64,
    /// Bytes of input read.
    pub num_bytes: u64,
    /// Items read: records and profiles' works, good or rejected.
    pub num_read: u64,
    /// Records new to the database.
    pub num_inserted: u64,
    /// Records already stored as they are.
    pub num_unchanged: u64,
    /// Records stored before with other content, now with a new version.
    pub num_new_versions: u64,
    /// Profiles created.
    pub num_profiles_created: u64,
    /// Profiles whose names or institution changed.
    pub num_profiles_updated: u64,
    /// Profiles read that were already stored as they are.
    pub num_profiles_unchanged: u64,
    /// Items rejected, with where and why.
    pub rejected: Vec<Rejected>,
    /// Records stored with a value the index cannot use (a year that is not one), each
    /// counted; the first [`MAX_KEPT_WARNINGS`] are kept with where and what.
    pub num_warnings: u64,
    /// The first warnings, in the order read.
    pub warnings: Vec<Warning>,
    /// Wall time of the import.
    pub elapsed: Duration,
    /// Whether it was stopped ([`ImportOptions::stop`]) before reading every file.
    pub is_interrupted: bool,
}

impl ImportSummary {
    /// Returns records handled per second.
    pub fn records_per_sec(&self) -> f64 {
        self.num_read as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Returns input megabytes (10^6 bytes) read per second.
    pub fn megabytes_per_sec(&self) -> f64 {
        self.num_bytes as f64 / 1e6 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Counts, logs and keeps the warnings of records written.
    fn note_warnings(&mut self, records: &[PreparedRecord]) {
        for record in records {
            for warning in &record.warnings {
                self.num_warnings += 1;
                tracing::warn!(place = %record.location, warning = %warning, "stored with an unusable value");
                if self.warnings.len() < MAX_KEPT_WARNINGS {
                    self.warnings.push(Warning {
                        location: record.location.clone(),
                        message: warning.clone(),
                    });
                }
            }
        }
    }

    fn absorb_batch(&mut self, outcome: BatchOutcome) {
        self.num_inserted += outcome.num_inserted;
        self.num_unchanged += outcome.num_unchanged;
        self.num_new_versions += outcome.num_new_versions;
        self.rejected.extend(outcome.rejected);
    }
}

/// Warnings an import keeps to report; past them they are counted and logged only.
pub const MAX_KEPT_WARNINGS: usize = 1_000;

/// What the reading thread hands to the writer.
enum Message {
    Records(Vec<PreparedRecord>),
    Profile(Box<SourceProfile>, Vec<PreparedRecord>, Location),
    Rejected(Rejected),
    FileDone { num_bytes: u64 },
}

/// Batches in flight between reader and writer; bounds the memory an import uses.
const CHANNEL_NUM_BATCHES: usize = 4;

/// Imports every file in `paths` (directories are walked, files sorted by name) as
/// `format`, returning what was done.
///
/// # Errors
/// Fails when an input path does not exist, the rejects file cannot be written, or
/// PostgreSQL fails for a reason other than a record's content. Batches written before a
/// failure stay written; running the same import again completes it.
pub async fn import_files(
    pool: &PgPool,
    format: Format,
    paths: &[PathBuf],
    options: &ImportOptions,
) -> Result<ImportSummary> {
    let started = Instant::now();
    let files = expand_paths(paths)?;
    let total_num_bytes = files.iter().map(|(_, num_bytes)| num_bytes).sum();
    let mut rejects_file = open_rejects_file(options.rejects_path.as_deref())?;
    let progress = Progress::new(options.progress_bar, total_num_bytes);

    let (sender, mut receiver) = mpsc::channel(CHANNEL_NUM_BATCHES);
    let read_options = options.read;
    let batch_size = options.batch_size.max(1);
    let reader = tokio::task::spawn_blocking(move || {
        read_files(format, &files, read_options, batch_size, &sender);
    });

    let mut summary = ImportSummary::default();
    let mut stop = options.stop.clone();
    loop {
        // A stop is taken between batches only: the batch being written commits first.
        let message = tokio::select! {
            biased;
            () = stop_requested(stop.as_mut()) => {
                summary.is_interrupted = true;
                break;
            }
            message = receiver.recv() => match message {
                Some(message) => message,
                None => break,
            },
        };
        let num_rejected_before = summary.rejected.len();
        match message {
            Message::Records(records) => {
                summary.num_read += records.len() as u64;
                let outcome =
                    retrying_lost_connections(|| writer::write_records(pool, &records)).await?;
                summary.absorb_batch(outcome);
                summary.note_warnings(&records);
            }
            Message::Profile(profile, works, location) => {
                summary.num_read += works.len() as u64;
                let outcome =
                    retrying_lost_connections(|| writer::write_profile(pool, &profile, &works))
                        .await?;
                summary.num_profiles_created += u64::from(outcome.created);
                summary.num_profiles_updated += u64::from(outcome.updated);
                summary.num_profiles_unchanged += u64::from(!outcome.created && !outcome.updated);
                for (kind, value) in outcome.conflicting_identities {
                    summary.rejected.push(Rejected {
                        location: location.clone(),
                        reason: format!(
                            "identity `{kind}` `{value}` of `{}` already belongs to another profile; kept there",
                            profile.orcid
                        ),
                    });
                }
                summary.absorb_batch(outcome.works);
                summary.note_warnings(&works);
            }
            Message::Rejected(rejected) => {
                summary.num_read += 1;
                summary.rejected.push(rejected);
            }
            Message::FileDone { num_bytes } => {
                summary.num_files += 1;
                summary.num_bytes += num_bytes;
            }
        }
        for rejected in &summary.rejected[num_rejected_before..] {
            tracing::warn!(place = %rejected.location, reason = %rejected.reason, "rejected");
            write_reject(
                rejects_file.as_mut(),
                rejected,
                options.rejects_path.as_deref(),
            )?;
        }
        progress.update(&summary);
    }
    // The reader stops at its next batch once nobody receives them.
    drop(receiver);
    reader
        .await
        .map_err(|error| Error::Task(error.to_string()))?;

    if let (Some(file), Some(path)) = (rejects_file.as_mut(), options.rejects_path.as_deref()) {
        file.flush().map_err(|source| Error::Output {
            path: path.to_owned(),
            source,
        })?;
    }
    if !summary.is_interrupted {
        refresh_statistics(pool, &summary).await;
    }
    summary.elapsed = started.elapsed();
    progress.finish(&summary);
    Ok(summary)
}

/// Refreshes the statistics of the tables a bulk import filled ([`crate::db::analyze`]).
async fn refresh_statistics(pool: &PgPool, summary: &ImportSummary) {
    let threshold = crate::db::ANALYZE_AFTER_NUM_ROWS;
    let has_records = summary.num_inserted + summary.num_new_versions >= threshold;
    let has_profiles = summary.num_profiles_created + summary.num_profiles_updated >= threshold;
    let mut tables = Vec::new();
    if has_records {
        tables.extend(["raw_records", "raw_record_heads"]);
    }
    if has_profiles {
        tables.extend(["author_profiles", "profile_identities"]);
    }
    if has_records || has_profiles {
        tables.push("index_changes");
    }
    crate::db::analyze(pool, &tables).await;
}

/// Attempts at writing one batch while PostgreSQL drops its connections (a restart, a
/// failover, an administrator ending sessions); the waits between them double from
/// [`FIRST_RETRY_DELAY`], about six seconds in all.
const MAX_BATCH_ATTEMPTS: u32 = 6;

/// Wait before the second attempt at a batch.
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(200);

/// Runs `write` again when it failed because the connection was lost or PostgreSQL asked
/// to retry, up to [`MAX_BATCH_ATTEMPTS`] times. Writing a batch again is safe: each batch
/// is one transaction and skips what is already stored, so a batch that committed before
/// its connection dropped is counted as unchanged the second time.
async fn retrying_lost_connections<T, F, Fut>(mut write: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut delay = FIRST_RETRY_DELAY;
    let mut attempt = 1;
    loop {
        match write().await {
            Err(Error::Database(error))
                if attempt < MAX_BATCH_ATTEMPTS && is_worth_retrying(&error) =>
            {
                tracing::warn!(%error, attempt, retry_in_ms = delay.as_millis() as u64, "batch not written; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

/// Whether a failed statement may succeed when run again: the connection was lost or
/// could not be had, PostgreSQL is shutting down or starting (`57P01` to `57P03`), a
/// connection exception (class `08`), a serialization failure or a deadlock.
fn is_worth_retrying(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(database_error) => {
            let code = database_error.code().unwrap_or_default();
            code.starts_with("08")
                || matches!(
                    code.as_ref(),
                    "57P01" | "57P02" | "57P03" | "40001" | "40P01"
                )
        }
        _ => false,
    }
}

/// Resolves once `stop` holds `true`; never without one, or once its sender is gone.
async fn stop_requested(stop: Option<&mut tokio::sync::watch::Receiver<bool>>) {
    let Some(stop) = stop else {
        return std::future::pending().await;
    };
    if stop.wait_for(|stopped| *stopped).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Reads every file, sending batches to the writer; stops early if the writer is gone.
fn read_files(
    format: Format,
    files: &[(PathBuf, u64)],
    options: ReadOptions,
    batch_size: usize,
    sender: &mpsc::Sender<Message>,
) {
    let mut batch = Vec::with_capacity(batch_size);
    for (path, num_bytes) in files {
        let outcomes = match formats::read(format, path, options) {
            Ok(outcomes) => outcomes,
            Err(error) => {
                let rejected = Rejected {
                    location: Location::file(path),
                    reason: format!("cannot read file: {error}"),
                };
                if sender.blocking_send(Message::Rejected(rejected)).is_err() {
                    return;
                }
                continue;
            }
        };
        for outcome in outcomes {
            let message = match outcome {
                Ok(Parsed::Record(record, location)) => {
                    batch.push(PreparedRecord::new(record, location));
                    if batch.len() < batch_size {
                        continue;
                    }
                    Message::Records(std::mem::replace(
                        &mut batch,
                        Vec::with_capacity(batch_size),
                    ))
                }
                Ok(Parsed::Profile(mut profile, location)) => {
                    let works = std::mem::take(&mut profile.works)
                        .into_iter()
                        .map(|work| PreparedRecord::new(work, location.clone()))
                        .collect();
                    Message::Profile(profile, works, location)
                }
                Err(rejected) => Message::Rejected(rejected),
            };
            if sender.blocking_send(message).is_err() {
                return;
            }
        }
        if !batch.is_empty() {
            let records = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
            if sender.blocking_send(Message::Records(records)).is_err() {
                return;
            }
        }
        if sender
            .blocking_send(Message::FileDone {
                num_bytes: *num_bytes,
            })
            .is_err()
        {
            return;
        }
    }
}

/// Returns the files named by `paths` with their sizes, walking directories in name order.
fn expand_paths(paths: &[PathBuf]) -> Result<Vec<(PathBuf, u64)>> {
    let mut files = Vec::new();
    for path in paths {
        collect_files(path, &mut files)?;
    }
    Ok(files)
}

fn collect_files(path: &Path, files: &mut Vec<(PathBuf, u64)>) -> Result<()> {
    let input_error = |source| Error::Input {
        path: path.to_owned(),
        source,
    };
    let metadata = std::fs::metadata(path).map_err(input_error)?;
    if !metadata.is_dir() {
        files.push((path.to_owned(), metadata.len()));
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(input_error)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|entry| {
            let name = entry
                .file_name()
                .and_then(|name| name.to_str())
                .unwrap_or("");
            !name.starts_with('.')
        })
        .collect();
    entries.sort();
    for entry in entries {
        // A link to a directory inside a walked directory is not followed: it could lead
        // back up the tree. Links to files are read; a directory named on the command
        // line is walked even when it is a link.
        let is_linked_dir = std::fs::symlink_metadata(&entry)
            .is_ok_and(|metadata| metadata.file_type().is_symlink())
            && entry.is_dir();
        if is_linked_dir {
            tracing::warn!(path = %entry.display(), "skipped a link to a directory");
            continue;
        }
        collect_files(&entry, files)?;
    }
    Ok(())
}

fn open_rejects_file(path: Option<&Path>) -> Result<Option<BufWriter<File>>> {
    let Some(path) = path else { return Ok(None) };
    let file = File::create(path).map_err(|source| Error::Output {
        path: path.to_owned(),
        source,
    })?;
    Ok(Some(BufWriter::new(file)))
}

fn write_reject(
    file: Option<&mut BufWriter<File>>,
    rejected: &Rejected,
    path: Option<&Path>,
) -> Result<()> {
    let (Some(file), Some(path)) = (file, path) else {
        return Ok(());
    };
    let line = serde_json::to_string(rejected).unwrap_or_default();
    writeln!(file, "{line}").map_err(|source| Error::Output {
        path: path.to_owned(),
        source,
    })
}
