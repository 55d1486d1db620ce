//! The Meilisearch-compatible HTTP search service; being written.
