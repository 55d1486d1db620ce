//! Where generations and shards live on disk, the `CURRENT` pointer and `meta.json`.
//!
//! `CURRENT` is replaced atomically (temporary file, fsync, rename, fsync of the directory),
//! so after a crash it names either the old or the new generation, never a partial one.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::IndexKind;
use crate::{Error, Result};

/// File in an index's directory naming its current generation.
pub const CURRENT_FILE: &str = "CURRENT";
/// File in a generation's directory describing it.
pub const META_FILE: &str = "meta.json";
/// Prefix of a generation directory's name; the generation number follows.
const GENERATION_PREFIX: &str = "gen-";
/// Prefix of a shard directory's name; the shard number follows.
const SHARD_PREFIX: &str = "shard-";

/// What a generation is, written to its `meta.json` when its build completes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerationMeta {
    /// The index's name.
    pub index: String,
    /// The generation's number.
    pub generation: u64,
    /// Number of shards.
    pub num_shards: usize,
    /// [`SCHEMA_VERSION`](super::schema::SCHEMA_VERSION) of the build.
    pub schema_version: u32,
    /// When the build completed.
    pub created_at: DateTime<Utc>,
    /// The change-feed position (a `pg_current_snapshot()`) the build is consistent with.
    pub position: String,
    /// Documents written by the build.
    pub num_docs: u64,
}

/// Returns the directory of `kind`'s index under `dir`.
pub fn index_root(dir: &Path, kind: IndexKind) -> PathBuf {
    dir.join(kind.name())
}

/// File in an index's directory that a build holds locked while it writes a generation.
pub const BUILD_LOCK_FILE: &str = "build.lock";

/// Takes the build lock of `kind`'s index, held until the returned file is dropped; the
/// operating system releases it when the process dies, so a killed build leaves no lock.
///
/// # Errors
/// Fails with [`Error::BuildBusy`] when another build of the index holds it, or when the
/// lock file cannot be created.
pub(crate) fn lock_build(dir: &Path, kind: IndexKind) -> Result<File> {
    let root = index_root(dir, kind);
    fs::create_dir_all(&root).map_err(|source| Error::IndexDirectory {
        path: root.clone(),
        source,
    })?;
    let path = root.join(BUILD_LOCK_FILE);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| Error::IndexDirectory {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(Error::BuildBusy {
            index: kind.name().to_owned(),
            path,
        }),
        Err(fs::TryLockError::Error(source)) => Err(Error::IndexDirectory { path, source }),
    }
}

/// Returns the directory of generation `generation` of `kind`'s index.
pub fn generation_dir(dir: &Path, kind: IndexKind, generation: u64) -> PathBuf {
    index_root(dir, kind).join(generation_name(generation))
}

/// Returns the directory of shard `shard` in a generation's directory.
pub fn shard_dir(generation_dir: &Path, shard: usize) -> PathBuf {
    generation_dir.join(format!("{SHARD_PREFIX}{shard}"))
}

/// Returns the name (`gen-3`) of the generation `CURRENT` names for `kind`, or `None` when
/// the index was never built.
///
/// # Errors
/// Fails when `CURRENT` cannot be read or does not name a generation.
pub fn current_generation(dir: &Path, kind: IndexKind) -> Result<Option<String>> {
    Ok(current_generation_number(dir, kind)?.map(generation_name))
}

/// Returns the name of generation `generation`: `gen-3`.
pub fn generation_name(generation: u64) -> String {
    format!("{GENERATION_PREFIX}{generation}")
}

/// Returns the number of the generation `CURRENT` names for `kind`.
pub(crate) fn current_generation_number(dir: &Path, kind: IndexKind) -> Result<Option<u64>> {
    let path = index_root(dir, kind).join(CURRENT_FILE);
    let content = match fs::read_to_string(&path) {
        Ok(content) => content,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(Error::IndexDirectory { path, source }),
    };
    let generation = parse_generation_name(content.trim()).ok_or_else(|| Error::IndexMeta {
        path: path.clone(),
        reason: format!(
            "`{}` is not a generation name such as `gen-1`",
            content.trim()
        ),
    })?;
    Ok(Some(generation))
}

/// Makes `generation` current for `kind`, returning the generation current before.
///
/// # Errors
/// Fails when the file cannot be written, synced or renamed.
pub(crate) fn switch_current(dir: &Path, kind: IndexKind, generation: u64) -> Result<Option<u64>> {
    let previous = current_generation_number(dir, kind)?;
    let root = index_root(dir, kind);
    let content = format!("{}\n", generation_name(generation));
    write_atomically(&root, CURRENT_FILE, content.as_bytes())?;
    Ok(previous)
}

/// Creates the directory of a new generation of `kind`, numbered after every generation on
/// disk, with `num_shards` empty shard directories; returns its number and path.
///
/// # Errors
/// Fails when the directories cannot be listed or created.
pub(crate) fn create_generation(
    dir: &Path,
    kind: IndexKind,
    num_shards: usize,
) -> Result<(u64, PathBuf)> {
    let root = index_root(dir, kind);
    fs::create_dir_all(&root).map_err(|source| Error::IndexDirectory {
        path: root.clone(),
        source,
    })?;
    let mut generation = list_generations(dir, kind)?
        .last()
        .map_or(1, |last| last + 1);
    loop {
        let path = generation_dir(dir, kind, generation);
        match fs::create_dir(&path) {
            Ok(()) => {
                for shard in 0..num_shards {
                    let shard_path = shard_dir(&path, shard);
                    fs::create_dir(&shard_path).map_err(|source| Error::IndexDirectory {
                        path: shard_path,
                        source,
                    })?;
                }
                return Ok((generation, path));
            }
            // Another build took this number between listing and creating.
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => generation += 1,
            Err(source) => return Err(Error::IndexDirectory { path, source }),
        }
    }
}

/// Returns the generations of `kind` on disk, complete or not, in increasing order.
///
/// # Errors
/// Fails when the index directory exists but cannot be listed.
pub(crate) fn list_generations(dir: &Path, kind: IndexKind) -> Result<Vec<u64>> {
    let root = index_root(dir, kind);
    let entries = match fs::read_dir(&root) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(Error::IndexDirectory { path: root, source }),
    };
    let mut generations = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::IndexDirectory {
            path: root.clone(),
            source,
        })?;
        let is_dir = entry.file_type().is_ok_and(|file_type| file_type.is_dir());
        if let (true, Some(name)) = (is_dir, entry.file_name().to_str()) {
            generations.extend(parse_generation_name(name));
        }
    }
    generations.sort_unstable();
    Ok(generations)
}

/// Removes the generations of `kind` numbered below `oldest_kept`, except `current`,
/// returning their numbers.
///
/// A search process still holding a removed generation keeps working from its open files:
/// on Linux a removed file lives on until its last descriptor or mapping is closed. It
/// must not reload that generation, only open the current one.
///
/// # Errors
/// Fails when a directory cannot be listed or removed.
pub(crate) fn remove_generations_before(
    dir: &Path,
    kind: IndexKind,
    oldest_kept: u64,
    current: u64,
) -> Result<Vec<u64>> {
    let mut removed = Vec::new();
    for generation in list_generations(dir, kind)? {
        if generation >= oldest_kept || generation == current {
            continue;
        }
        let path = generation_dir(dir, kind, generation);
        fs::remove_dir_all(&path).map_err(|source| Error::IndexDirectory { path, source })?;
        removed.push(generation);
    }
    Ok(removed)
}

/// Writes `meta` as the `meta.json` of its generation, atomically.
///
/// # Errors
/// Fails when the file cannot be written.
pub(crate) fn write_meta(generation_dir: &Path, meta: &GenerationMeta) -> Result<()> {
    let json = serde_json::to_vec_pretty(meta).map_err(|error| Error::IndexMeta {
        path: generation_dir.join(META_FILE),
        reason: error.to_string(),
    })?;
    write_atomically(generation_dir, META_FILE, &json)
}

/// Reads the `meta.json` of a generation.
///
/// # Errors
/// Fails when the file is missing (the build did not complete) or malformed.
pub(crate) fn read_meta(generation_dir: &Path) -> Result<GenerationMeta> {
    let path = generation_dir.join(META_FILE);
    let bytes = fs::read(&path).map_err(|source| Error::IndexDirectory {
        path: path.clone(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|error| Error::IndexMeta {
        path,
        reason: error.to_string(),
    })
}

/// Returns the number of bytes of the files below `path`.
pub(crate) fn size_on_disk(path: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(file_type) if file_type.is_dir() => size_on_disk(&entry.path()),
            Ok(_) => entry.metadata().map_or(0, |metadata| metadata.len()),
            Err(_) => 0,
        })
        .sum()
}

/// Replaces `dir/name` with `content`: writes a temporary file, syncs it, renames it over
/// the old one and syncs the directory so the rename itself is durable.
fn write_atomically(dir: &Path, name: &str, content: &[u8]) -> Result<()> {
    let temporary = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let target = dir.join(name);
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::IndexDirectory { path, source }
    };
    let mut file = File::create(&temporary).map_err(io_error(&temporary))?;
    file.write_all(content).map_err(io_error(&temporary))?;
    file.sync_all().map_err(io_error(&temporary))?;
    drop(file);
    fs::rename(&temporary, &target).map_err(io_error(&target))?;
    File::open(dir)
        .and_then(|directory| directory.sync_all())
        .map_err(io_error(dir))?;
    Ok(())
}

/// Returns the number of a generation directory name (`gen-12` → 12).
fn parse_generation_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(GENERATION_PREFIX)?;
    let is_canonical = !digits.starts_with('0') && digits.bytes().all(|byte| byte.is_ascii_digit());
    is_canonical.then(|| digits.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_names_parse_only_in_canonical_form() {
        assert_eq!(parse_generation_name("gen-12"), Some(12));
        assert_eq!(parse_generation_name("gen-012"), None);
        assert_eq!(parse_generation_name("gen-"), None);
        assert_eq!(parse_generation_name(".gen-1.tmp"), None);
    }

    #[test]
    fn switching_replaces_current_and_returns_the_previous_generation() {
        let dir = tempfile::tempdir().unwrap();
        let (first, _) = create_generation(dir.path(), IndexKind::Works, 2).unwrap();
        let (second, second_dir) = create_generation(dir.path(), IndexKind::Works, 2).unwrap();
        assert_eq!((first, second), (1, 2));
        assert!(shard_dir(&second_dir, 1).is_dir());

        assert_eq!(
            switch_current(dir.path(), IndexKind::Works, first).unwrap(),
            None
        );
        assert_eq!(
            switch_current(dir.path(), IndexKind::Works, second).unwrap(),
            Some(first)
        );
        assert_eq!(
            current_generation(dir.path(), IndexKind::Works)
                .unwrap()
                .as_deref(),
            Some("gen-2")
        );
        assert_eq!(
            remove_generations_before(dir.path(), IndexKind::Works, second, second).unwrap(),
            [1]
        );
        assert_eq!(list_generations(dir.path(), IndexKind::Works).unwrap(), [2]);
    }
}
