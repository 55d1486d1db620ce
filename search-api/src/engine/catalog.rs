//! What each index offers, declared in one place: its attributes and how their values are
//! stored, and which are displayed, searchable, filterable (and so facetable) and sortable.
//! Attribute names are the schema's field names, so a document's JSON keys, filter
//! attributes and tantivy fields are spelled the same.

use indexer::index::schema as fields;
use indexer::index::IndexKind;
use tantivy::schema::{Field, Schema};

use crate::params::Settings;

/// How a field's terms were produced, which decides how a query word or filter value
/// becomes a term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Analysis {
    /// Folded words ([`analyzers::TEXT_ANALYZER`]).
    Text,
    /// Person names ([`analyzers::NAME_ANALYZER`]).
    Name,
    /// One folded token per value ([`analyzers::KEYWORD_ANALYZER`]).
    Keyword,
    /// The value as stored, untouched (raw `STRING` fields).
    Raw,
}

/// How an attribute's values are stored and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Text, indexed with the given analysis.
    Text(Analysis),
    /// A signed integer, fast.
    I64,
    /// An unsigned integer, fast.
    U64,
    /// A date, fast; shown as RFC 3339.
    Date,
    /// A JSON object stored as text, shown parsed.
    JsonText,
}

/// One attribute of an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute {
    /// The attribute's name, which is also its field's name.
    pub name: &'static str,
    /// How its values are stored.
    pub value: ValueKind,
    /// Whether it holds a list (shown as a JSON array, even when empty).
    pub is_array: bool,
    /// Whether the field is a fast field (filters and facets read its column).
    pub is_fast: bool,
    /// Whether its values are few (`source`, `state`): filters on it then compare values
    /// without regard to case, as Meilisearch does, by reading its whole term dictionary.
    pub is_small_vocabulary: bool,
}

/// A searchable attribute and the fields its words are looked up in.
#[derive(Debug, Clone, Copy)]
pub struct SearchableAttribute {
    /// The attribute as named in `attributesToSearchOn` and settings.
    pub name: &'static str,
    /// The indexed fields searched, all displayed attributes of the same analysis.
    pub fields: &'static [&'static str],
    /// The analysis of those fields.
    pub analysis: Analysis,
    /// The stemmed twin of the first field, searched as a weaker alternative.
    pub stem_field: Option<&'static str>,
}

/// Everything the engine needs to know about one index's attributes.
#[derive(Debug)]
pub struct IndexCatalog {
    /// The index.
    pub kind: IndexKind,
    /// Every displayed attribute, in the order documents show them.
    pub attributes: &'static [Attribute],
    /// Searchable attributes, most important first.
    pub searchable: &'static [SearchableAttribute],
    /// Attributes usable in filters and facets.
    pub filterable: &'static [&'static str],
    /// Attributes usable in `sort` and in custom ranking rules.
    pub sortable: &'static [&'static str],
    /// The order of a placeholder search without `sort`: newest first, then by id.
    pub default_order: &'static [&'static str],
}

const fn attr(name: &'static str, value: ValueKind) -> Attribute {
    Attribute {
        name,
        value,
        is_array: false,
        is_fast: false,
        is_small_vocabulary: false,
    }
}

const fn list(name: &'static str, value: ValueKind) -> Attribute {
    Attribute {
        is_array: true,
        ..attr(name, value)
    }
}

const fn fast(name: &'static str, value: ValueKind) -> Attribute {
    Attribute {
        is_fast: true,
        ..attr(name, value)
    }
}

const fn label(name: &'static str) -> Attribute {
    Attribute {
        is_fast: true,
        is_small_vocabulary: true,
        ..attr(name, ValueKind::Text(Analysis::Raw))
    }
}

const RAW: ValueKind = ValueKind::Text(Analysis::Raw);
const TEXT: ValueKind = ValueKind::Text(Analysis::Text);
const NAME: ValueKind = ValueKind::Text(Analysis::Name);
const KEYWORD: ValueKind = ValueKind::Text(Analysis::Keyword);

static RECORDS: IndexCatalog = IndexCatalog {
    kind: IndexKind::Records,
    attributes: &[
        attr(fields::ID, RAW),
        label(fields::SOURCE),
        attr(fields::SOURCE_ID, RAW),
        attr(fields::TITLE, TEXT),
        list(fields::AUTHORS, NAME),
        list(fields::AUTHOR_NAME_VARIANTS, NAME),
        attr(fields::VENUE, TEXT),
        fast(fields::YEAR, ValueKind::I64),
        attr(fields::DOI, KEYWORD),
        list(fields::IDENTIFIERS, KEYWORD),
        list(fields::ORCIDS, KEYWORD),
        label(fields::TYPE),
        label(fields::LANGUAGE),
        label(fields::STATE),
        fast(fields::FETCHED_AT, ValueKind::Date),
        attr(fields::DATA, ValueKind::JsonText),
    ],
    searchable: &[
        SearchableAttribute {
            name: fields::TITLE,
            fields: &[fields::TITLE],
            analysis: Analysis::Text,
            stem_field: Some(fields::TITLE_STEM),
        },
        SearchableAttribute {
            name: fields::AUTHORS,
            fields: &[fields::AUTHORS, fields::AUTHOR_NAME_VARIANTS],
            analysis: Analysis::Name,
            stem_field: None,
        },
        SearchableAttribute {
            name: fields::VENUE,
            fields: &[fields::VENUE],
            analysis: Analysis::Text,
            stem_field: None,
        },
        SearchableAttribute {
            name: fields::DOI,
            fields: &[fields::DOI],
            analysis: Analysis::Keyword,
            stem_field: None,
        },
        SearchableAttribute {
            name: fields::IDENTIFIERS,
            fields: &[fields::IDENTIFIERS],
            analysis: Analysis::Keyword,
            stem_field: None,
        },
        SearchableAttribute {
            name: fields::ORCIDS,
            fields: &[fields::ORCIDS],
            analysis: Analysis::Keyword,
            stem_field: None,
        },
    ],
    filterable: &[
        fields::YEAR,
        fields::SOURCE,
        fields::TYPE,
        fields::LANGUAGE,
        fields::STATE,
        fields::FETCHED_AT,
        fields::DOI,
        fields::ORCIDS,
        fields::ID,
        // A record's id is its current version's: a new version of it has another, and
        // its source's id finds it.
        fields::SOURCE_ID,
    ],
    sortable: &[fields::YEAR, fields::FETCHED_AT],
    default_order: &[fields::FETCHED_AT],
};

static WORKS: IndexCatalog = IndexCatalog {
    kind: IndexKind::Works,
    attributes: &[
        attr(fields::ID, RAW),
        attr(fields::TITLE, TEXT),
        list(fields::AUTHORS, NAME),
        list(fields::AUTHOR_NAME_FORMS, NAME),
        list(fields::AUTHOR_IDS, RAW),
        list(fields::ORCIDS, KEYWORD),
        fast(fields::YEAR, ValueKind::I64),
        fast(fields::PUBLICATION_DATE, ValueKind::Date),
        label(fields::TYPE),
        attr(fields::DOI, KEYWORD),
        fast(fields::MERGED_FROM_COUNT, ValueKind::U64),
        label(fields::MERGE_STATUS),
        fast(fields::UPDATED_AT, ValueKind::Date),
    ],
    searchable: &[
        SearchableAttribute {
            name: fields::TITLE,
            fields: &[fields::TITLE],
            analysis: Analysis::Text,
            stem_field: Some(fields::TITLE_STEM),
        },
        SearchableAttribute {
            name: fields::AUTHORS,
            fields: &[fields::AUTHORS, fields::AUTHOR_NAME_FORMS],
            analysis: Analysis::Name,
            stem_field: None,
        },
        SearchableAttribute {
            name: fields::DOI,
            fields: &[fields::DOI],
            analysis: Analysis::Keyword,
            stem_field: None,
        },
        SearchableAttribute {
            name: fields::ORCIDS,
            fields: &[fields::ORCIDS],
            analysis: Analysis::Keyword,
            stem_field: None,
        },
    ],
    filterable: &[
        fields::YEAR,
        fields::TYPE,
        fields::MERGE_STATUS,
        fields::PUBLICATION_DATE,
        fields::UPDATED_AT,
        fields::MERGED_FROM_COUNT,
        fields::DOI,
        fields::ORCIDS,
        fields::AUTHOR_IDS,
        fields::ID,
    ],
    sortable: &[
        fields::YEAR,
        fields::PUBLICATION_DATE,
        fields::UPDATED_AT,
        fields::MERGED_FROM_COUNT,
    ],
    default_order: &[fields::UPDATED_AT],
};

static PROFILES: IndexCatalog = IndexCatalog {
    kind: IndexKind::Profiles,
    attributes: &[
        attr(fields::ID, RAW),
        attr(fields::NAME, NAME),
        list(fields::NAMES, NAME),
        Attribute {
            is_fast: true,
            ..attr(fields::ORCID, KEYWORD)
        },
        attr(fields::INSTITUTION, TEXT),
        list(fields::AFFILIATIONS, TEXT),
        list(fields::IDENTIFIERS, KEYWORD),
        attr(fields::IDENTITIES, ValueKind::JsonText),
        fast(fields::UPDATED_AT, ValueKind::Date),
    ],
    searchable: &[
        SearchableAttribute {
            name: fields::NAME,
            fields: &[fields::NAME],
            analysis: Analysis::Name,
            stem_field: None,
        },
        SearchableAttribute {
            name: fields::NAMES,
            fields: &[fields::NAMES],
            analysis: Analysis::Name,
            stem_field: None,
        },
        SearchableAttribute {
            name: fields::ORCID,
            fields: &[fields::ORCID],
            analysis: Analysis::Keyword,
            stem_field: None,
        },
        SearchableAttribute {
            name: fields::INSTITUTION,
            fields: &[fields::INSTITUTION],
            analysis: Analysis::Text,
            stem_field: None,
        },
        SearchableAttribute {
            name: fields::AFFILIATIONS,
            fields: &[fields::AFFILIATIONS],
            analysis: Analysis::Text,
            stem_field: None,
        },
        SearchableAttribute {
            name: fields::IDENTIFIERS,
            fields: &[fields::IDENTIFIERS],
            analysis: Analysis::Keyword,
            stem_field: None,
        },
    ],
    filterable: &[
        fields::ORCID,
        fields::IDENTIFIERS,
        fields::UPDATED_AT,
        fields::ID,
    ],
    sortable: &[fields::UPDATED_AT],
    default_order: &[fields::UPDATED_AT],
};

/// Groups the fields of `attributes` by analysis, in the order the analyses first come,
/// keywords left out: the fields whose terms a query word is expanded in together.
pub fn fields_by_analysis<'a>(
    attributes: impl IntoIterator<Item = &'a SearchableAttribute>,
) -> Vec<(Analysis, Vec<&'static str>)> {
    let mut analyses: Vec<(Analysis, Vec<&'static str>)> = Vec::new();
    for attribute in attributes {
        if attribute.analysis == Analysis::Keyword {
            continue;
        }
        match analyses
            .iter_mut()
            .find(|(analysis, _)| *analysis == attribute.analysis)
        {
            Some((_, fields)) => fields.extend(attribute.fields),
            None => analyses.push((attribute.analysis, attribute.fields.to_vec())),
        }
    }
    analyses
}

impl IndexCatalog {
    /// Returns the catalog of `kind`.
    pub fn of(kind: IndexKind) -> &'static IndexCatalog {
        match kind {
            IndexKind::Records => &RECORDS,
            IndexKind::Works => &WORKS,
            IndexKind::Profiles => &PROFILES,
        }
    }

    /// Returns the catalog of the index named `uid`, if there is one.
    pub fn of_uid(uid: &str) -> Option<&'static IndexCatalog> {
        IndexKind::ALL
            .into_iter()
            .find(|kind| kind.name() == uid)
            .map(IndexCatalog::of)
    }

    /// Returns the attribute named `name`.
    pub fn attribute(&self, name: &str) -> Option<&'static Attribute> {
        self.attributes
            .iter()
            .find(|attribute| attribute.name == name)
    }

    /// Returns the searchable attribute named `name`.
    pub fn searchable_attribute(&self, name: &str) -> Option<&'static SearchableAttribute> {
        self.searchable
            .iter()
            .find(|attribute| attribute.name == name)
    }

    /// Returns the index's tantivy schema.
    pub fn schema(&self) -> &'static Schema {
        fields::schema(self.kind)
    }

    /// Returns the field named `name`.
    ///
    /// # Panics
    ///
    /// Panics when the schema has no such field: the catalog and the schema disagree,
    /// which the catalog's tests rule out.
    pub fn field(&self, name: &str) -> Field {
        self.schema()
            .get_field(name)
            .unwrap_or_else(|_| panic!("field `{name}` is in the `{}` schema", self.kind))
    }

    /// Returns the default settings of the index: its attribute lists and Meilisearch's
    /// defaults for everything else.
    pub fn default_settings(&self) -> Settings {
        let names = |list: &[&str]| list.iter().map(|name| (*name).to_owned()).collect();
        Settings::with_schema(
            self.attributes
                .iter()
                .map(|attribute| attribute.name.to_owned())
                .collect(),
            self.searchable
                .iter()
                .map(|attribute| attribute.name.to_owned())
                .collect(),
            names(self.filterable),
            names(self.sortable),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_field_exists_with_the_declared_options() {
        for kind in IndexKind::ALL {
            let catalog = IndexCatalog::of(kind);
            for attribute in catalog.attributes {
                let entry = catalog
                    .schema()
                    .get_field_entry(catalog.field(attribute.name));
                let is_viewed = indexer::index::schema::search_view_fields(kind)
                    .contains(&catalog.field(attribute.name));
                assert!(
                    entry.is_stored() || is_viewed,
                    "`{}.{}` is stored or in the search view",
                    kind,
                    attribute.name
                );
                if attribute.is_fast {
                    assert!(entry.is_fast(), "`{}.{}` is fast", kind, attribute.name);
                }
            }
            for searchable in catalog.searchable {
                for field in searchable.fields.iter().chain(&searchable.stem_field) {
                    let entry = catalog.schema().get_field_entry(catalog.field(field));
                    assert!(entry.is_indexed(), "`{kind}.{field}` is indexed");
                }
            }
            for name in catalog.filterable.iter().chain(catalog.sortable) {
                assert!(
                    catalog.attribute(name).is_some(),
                    "`{kind}.{name}` displayed"
                );
            }
            for name in catalog.sortable.iter().chain(catalog.default_order) {
                let attribute = catalog.attribute(name).unwrap();
                assert!(attribute.is_fast, "`{kind}.{name}` sorts on a fast field");
            }
        }
    }
}
