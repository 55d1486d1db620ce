//! Rebuilds the crate when a migration is added or changed: `sqlx::migrate!` embeds the
//! files of `migrations/` but does not tell cargo to watch the folder.

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
