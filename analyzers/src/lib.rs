//! Text and person-name analysis; being written.
