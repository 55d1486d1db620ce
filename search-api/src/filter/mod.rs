//! Meilisearch's filter expression language: a lexer and a recursive-descent parser into a
//! syntax tree ([`FilterExpr`]), the array form combined into the same tree, and the check
//! of attributes against the index's filterable attributes.

mod ast;
mod attributes;
mod error;
mod input;
mod lexer;
mod parser;

pub use ast::{Comparison, Condition, ConditionOperator, FilterExpr, FilterValue};
pub(crate) use attributes::not_allowed_message;
pub use attributes::{attribute_is_allowed, check_filterable};
pub(crate) use error::excerpt_head;
pub use error::FilterError;
pub use input::{FilterArrayItem, FilterInput};
pub use parser::parse_filter;
