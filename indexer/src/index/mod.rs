//! The search indexes derived from PostgreSQL: `records`, `works` and `profiles`, each a set
//! of tantivy shards on disk, built in generations that replace each other atomically.
//!
//! Layout under the index directory (`--index-dir`):
//!
//! ```text
//! {dir}/{index}/CURRENT                   names the current generation: `gen-{N}`
//! {dir}/{index}/gen-{N}/meta.json         shards, schema version, build time and position
//! {dir}/{index}/gen-{N}/shard-{i}/        one tantivy index per shard
//! ```
//!
//! A document goes to the shard [`shard_of`] its uuid. [`build`] writes a whole new
//! generation from one consistent PostgreSQL snapshot and then switches `CURRENT`, so
//! searches never see a half-built index; [`ShardedWriter`] keeps a generation up to date
//! from the change feed, committing each shard with the feed position it reached.

mod build;
pub mod candidate_view;
pub mod documents;
pub mod extract;
mod fingerprint;
mod layout;
mod progress;
mod routing;
pub mod schema;
pub mod search_view;
mod sharded;
mod verify;
mod view_bytes;
mod writer;

use std::fmt;
use std::str::FromStr;

pub use build::{build, BuildOptions, BuildReport, IndexBuildReport, MIN_SHARD_HEAP_NUM_BYTES};
pub use documents::load_documents;
pub use extract::RecordFields;
pub use layout::{
    current_generation, generation_dir, generation_name, index_root, shard_dir, GenerationMeta,
    BUILD_LOCK_FILE, CURRENT_FILE, META_FILE,
};
pub use routing::shard_of;
pub use sharded::{position_of_payload, Shard, ShardedIndex};
pub use verify::{verify, IndexVerifyReport, ShardVerifyReport, VerifyOptions, VerifyReport};
pub use writer::ShardedWriter;

/// One of the three search indexes. Its name is the one used in `index_changes.index_name`
/// and on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum IndexKind {
    /// The current version of every raw record, with its verification state.
    Records,
    /// Canonical works with their verified authors.
    Works,
    /// Author profiles with every name form and identifier they are known by.
    Profiles,
}

impl IndexKind {
    /// Every index, in build order.
    pub const ALL: [IndexKind; 3] = [IndexKind::Records, IndexKind::Works, IndexKind::Profiles];

    /// Returns the index's name: `records`, `works` or `profiles`.
    pub fn name(self) -> &'static str {
        match self {
            IndexKind::Records => "records",
            IndexKind::Works => "works",
            IndexKind::Profiles => "profiles",
        }
    }
}

impl fmt::Display for IndexKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for IndexKind {
    type Err = crate::Error;

    fn from_str(name: &str) -> crate::Result<Self> {
        IndexKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| crate::Error::UnknownIndex(name.to_owned()))
    }
}
