//! What an index allows a search to ask for: the attribute lists and limits that validation
//! checks a request against.

use super::settings::Settings;

/// The attribute lists and limits of one index, as validation needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexCapabilities {
    /// Attributes usable in `filter`, `facets` and `distinct`.
    pub filterable_attributes: Vec<String>,
    /// Attributes usable in `sort`.
    pub sortable_attributes: Vec<String>,
    /// Attributes searched by default and allowed in `attributesToSearchOn`, in
    /// priority order.
    pub searchable_attributes: Vec<String>,
    /// Attributes a hit may show.
    pub displayed_attributes: Vec<String>,
    /// How deep a search may page (`offset + limit`).
    pub max_total_hits: usize,
    /// Values per facet in `facetDistribution`.
    pub max_values_per_facet: usize,
}

impl IndexCapabilities {
    /// Returns the capabilities described by an index's settings.
    pub fn from_settings(settings: &Settings) -> Self {
        IndexCapabilities {
            filterable_attributes: settings.filterable_attributes.clone(),
            sortable_attributes: settings.sortable_attributes.clone(),
            searchable_attributes: settings.searchable_attributes.clone(),
            displayed_attributes: settings.displayed_attributes.clone(),
            max_total_hits: settings.pagination.max_total_hits,
            max_values_per_facet: settings.faceting.max_values_per_facet,
        }
    }
}
