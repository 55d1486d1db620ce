//! Person names: parsing the written forms, retrieval keys, the author keys of candidate
//! retrieval, the given-name variant table, the compatibility of two forms, and the name
//! analyzer's tokens.

mod compat;
mod keys;
mod parse;
mod retrieval;
mod tokens;
mod variants;

pub use compat::{
    agreement_of_keyed, compatibility, surname_agrees_in_part, surname_word_typos, NameAgreement,
    NameCompatibility,
};
pub use keys::NameKeys;
pub use parse::{is_particle, GivenName, NamePart, PersonName};
pub use retrieval::{author_pair, AuthorKeys, AuthorLookup, PAIR_SEPARATOR};
pub(crate) use tokens::push_name_tokens;
pub use tokens::{name_tokens, name_tokens_at_least, NameProbe};
pub use variants::{default_variant_tables, GivenNameVariants};
