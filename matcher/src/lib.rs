//! Candidate generation and scoring; being written.
