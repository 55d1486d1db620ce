//! A search checked against an index: every parameter resolved to what the executor needs,
//! defaults applied, pagination resolved and limits enforced.

use std::time::Duration;

use serde_json::Value;

use super::capabilities::IndexCapabilities;
use super::search_query::{MatchingStrategy, SearchQuery};
use crate::error::{ApiError, Code, Result};
use crate::filter::{attribute_is_allowed, check_filterable, not_allowed_message, FilterExpr};
use crate::limits::{
    DEFAULT_CROP_LENGTH, DEFAULT_HITS_PER_PAGE, DEFAULT_PAGE, DEFAULT_SEARCH_LIMIT,
    DEFAULT_SEARCH_TIME_BUDGET_MILLIS, MAX_CROP_LENGTH, MAX_MARKUP_NUM_BYTES, MAX_QUERY_NUM_BYTES,
    MAX_QUERY_NUM_WORDS, MAX_SEARCH_LIMIT, MAX_SEARCH_TIME_BUDGET_MILLIS,
};
use crate::sort::{parse_sort, SortCriterion};

/// Meilisearch's default highlight tags and crop marker.
const DEFAULT_HIGHLIGHT_PRE_TAG: &str = "<em>";
const DEFAULT_HIGHLIGHT_POST_TAG: &str = "</em>";
const DEFAULT_CROP_MARKER: &str = "…";

/// How a search pages, which decides the fields of its response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pagination {
    /// `offset` and `limit`: the response reports `estimatedTotalHits`, cheap to compute.
    Estimated {
        /// Hits skipped.
        offset: usize,
        /// Hits asked for.
        limit: usize,
    },
    /// `page` and `hitsPerPage`: the response reports exact `totalHits` and `totalPages`.
    Exhaustive {
        /// The page, from 1; page 0 returns no hits but still counts them.
        page: usize,
        /// Hits per page.
        hits_per_page: usize,
    },
}

/// The ranked hits to return: skip `skip`, take `take`, never past `maxTotalHits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HitWindow {
    /// Ranked hits skipped.
    pub skip: usize,
    /// Hits returned at most.
    pub take: usize,
}

impl Pagination {
    /// Returns the hits to fetch, clamped so that no hit past `max_total_hits` is ranked,
    /// as Meilisearch does.
    pub fn hit_window(&self, max_total_hits: usize) -> HitWindow {
        let (offset, limit) = match *self {
            Pagination::Estimated { offset, limit } => (offset, limit),
            Pagination::Exhaustive { page: 0, .. } => (0, 0),
            Pagination::Exhaustive {
                page,
                hits_per_page,
            } => ((page - 1).saturating_mul(hits_per_page), hits_per_page),
        };
        let skip = offset.min(max_total_hits);
        HitWindow {
            skip,
            take: limit.min(max_total_hits - skip),
        }
    }
}

/// Which attributes a parameter selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeSelection {
    /// `*`: every attribute the index displays.
    All,
    /// Only these, in the order given.
    Only(Vec<String>),
}

impl AttributeSelection {
    /// Returns whether nothing is selected.
    pub fn is_empty(&self) -> bool {
        matches!(self, AttributeSelection::Only(attributes) if attributes.is_empty())
    }

    fn from_list(list: Option<Vec<String>>, when_absent: AttributeSelection) -> Self {
        match list {
            None => when_absent,
            Some(list) if list.iter().any(|attribute| attribute == "*") => AttributeSelection::All,
            Some(list) => AttributeSelection::Only(list),
        }
    }
}

/// One attribute to crop and the number of words to keep around its matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CropAttribute {
    /// The attribute, or `*` for every displayed attribute.
    pub attribute: String,
    /// Words kept.
    pub crop_length: usize,
}

/// A search ready to run on one index.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedSearch {
    /// The query as sent, echoed in the response's `query`; empty for a placeholder search.
    pub query: String,
    /// The part of the query that is searched: its first [`MAX_QUERY_NUM_WORDS`] words.
    pub searched_query: String,
    /// How the caller pages.
    pub pagination: Pagination,
    /// The ranked hits to return, within `max_total_hits`.
    pub hit_window: HitWindow,
    /// The index's paging depth, which also caps exhaustive `totalHits`.
    pub max_total_hits: usize,
    /// The filter, attributes checked.
    pub filter: Option<FilterExpr>,
    /// Sort criteria, applied before relevancy.
    pub sort: Vec<SortCriterion>,
    /// Attributes to count values of, `*` expanded to every filterable attribute.
    pub facets: Vec<String>,
    /// Values per facet to return.
    pub max_values_per_facet: usize,
    /// Attributes returned per hit.
    pub attributes_to_retrieve: AttributeSelection,
    /// Attributes the words are searched in; `None` is all searchable attributes.
    pub attributes_to_search_on: Option<Vec<String>>,
    /// Attributes highlighted in `_formatted`.
    pub attributes_to_highlight: AttributeSelection,
    /// Text before a highlighted match.
    pub highlight_pre_tag: String,
    /// Text after a highlighted match.
    pub highlight_post_tag: String,
    /// Attributes cropped in `_formatted`.
    pub attributes_to_crop: Vec<CropAttribute>,
    /// Text marking a cut.
    pub crop_marker: String,
    /// Whether hits carry `_matchesPosition`.
    pub show_matches_position: bool,
    /// Whether hits carry `_rankingScore`.
    pub show_ranking_score: bool,
    /// Whether hits carry `_rankingScoreDetails`.
    pub show_ranking_score_details: bool,
    /// Hits scoring below this are left out.
    pub ranking_score_threshold: Option<f64>,
    /// Which words may be dropped.
    pub matching_strategy: MatchingStrategy,
    /// One hit per value of this attribute.
    pub distinct: Option<String>,
    /// Languages of the query, ISO 639 codes in lowercase.
    pub locales: Vec<String>,
    /// Time the search may take, when it asked for a budget of its own (`timeBudgetMs`).
    pub time_budget: Option<Duration>,
}

impl ValidatedSearch {
    /// Returns the time the search may take under `settings`: its own `timeBudgetMs`, else
    /// the index's `searchCutoffMs`, else [`DEFAULT_SEARCH_TIME_BUDGET_MILLIS`].
    pub fn time_budget_for(&self, settings: &super::Settings) -> Duration {
        self.time_budget.unwrap_or_else(|| {
            Duration::from_millis(
                settings
                    .search_cutoff_ms
                    .unwrap_or(DEFAULT_SEARCH_TIME_BUDGET_MILLIS),
            )
        })
    }

    /// Returns whether the search has no words: every document matching the filter is a hit.
    pub fn is_placeholder(&self) -> bool {
        self.searched_query.trim().is_empty()
    }
}

fn invalid(code: Code, parameter: &str, reason: impl std::fmt::Display) -> ApiError {
    ApiError::new(code, format!("invalid value for `{parameter}`: {reason}"))
}

impl SearchQuery {
    /// Returns the search checked against `index`.
    ///
    /// As in Meilisearch, `page` or `hitsPerPage` selects exhaustive pagination and then
    /// `offset` and `limit` are ignored.
    ///
    /// # Errors
    ///
    /// The code of the first invalid parameter, with a message naming it: a filter that does
    /// not parse or names an attribute that is not filterable, a sort on an attribute that is
    /// not sortable, a value past a limit of [`crate::limits`], a parameter Atlas does not
    /// support (`vector`, `hybrid`).
    pub fn validate(self, index: &IndexCapabilities) -> Result<ValidatedSearch> {
        refuse_vector_search(&self)?;
        let (query, searched_query) = validate_query_text(self.q)?;
        let pagination =
            resolve_pagination(self.offset, self.limit, self.page, self.hits_per_page)?;
        let filter = validate_filter(self.filter.as_ref(), index)?;
        let sort = parse_sort(
            self.sort.as_deref().unwrap_or_default(),
            &index.sortable_attributes,
        )?;
        let facets = validate_facets(self.facets, index)?;
        let distinct = validate_distinct(self.distinct, index)?;
        let attributes_to_search_on = validate_search_on(self.attributes_to_search_on, index)?;
        let crop_length = validate_crop_length(self.crop_length)?;
        let attributes_to_crop = validate_crop(self.attributes_to_crop, crop_length)?;
        let ranking_score_threshold = validate_threshold(self.ranking_score_threshold)?;
        let locales = validate_locales(self.locales)?;
        let time_budget = validate_time_budget(self.time_budget_ms)?;

        Ok(ValidatedSearch {
            query,
            searched_query,
            hit_window: pagination.hit_window(index.max_total_hits),
            pagination,
            max_total_hits: index.max_total_hits,
            filter,
            sort,
            facets,
            max_values_per_facet: index.max_values_per_facet,
            attributes_to_retrieve: AttributeSelection::from_list(
                self.attributes_to_retrieve,
                AttributeSelection::All,
            ),
            attributes_to_search_on,
            attributes_to_highlight: AttributeSelection::from_list(
                self.attributes_to_highlight,
                AttributeSelection::Only(Vec::new()),
            ),
            highlight_pre_tag: validate_markup(
                self.highlight_pre_tag,
                "highlightPreTag",
                Code::InvalidSearchHighlightPreTag,
                DEFAULT_HIGHLIGHT_PRE_TAG,
            )?,
            highlight_post_tag: validate_markup(
                self.highlight_post_tag,
                "highlightPostTag",
                Code::InvalidSearchHighlightPostTag,
                DEFAULT_HIGHLIGHT_POST_TAG,
            )?,
            attributes_to_crop,
            crop_marker: validate_markup(
                self.crop_marker,
                "cropMarker",
                Code::InvalidSearchCropMarker,
                DEFAULT_CROP_MARKER,
            )?,
            show_matches_position: self.show_matches_position.unwrap_or(false),
            show_ranking_score: self.show_ranking_score.unwrap_or(false),
            show_ranking_score_details: self.show_ranking_score_details.unwrap_or(false),
            ranking_score_threshold,
            matching_strategy: self.matching_strategy.unwrap_or_default(),
            distinct,
            locales,
            time_budget,
        })
    }
}

fn refuse_vector_search(query: &SearchQuery) -> Result<()> {
    let unsupported = [
        (&query.vector, "vector", Code::InvalidSearchVector),
        (&query.hybrid, "hybrid", Code::InvalidSearchHybridQuery),
    ];
    for (value, parameter, code) in unsupported {
        if value.as_ref().is_some_and(|value| !value.is_null()) {
            return Err(ApiError::new(
                code,
                format!(
                    "`{parameter}` is not supported: Atlas indexes hold no embeddings; \
                     search with `q` instead"
                ),
            ));
        }
    }
    Ok(())
}

/// Returns the query and its searched part, the first [`MAX_QUERY_NUM_WORDS`]
/// whitespace-separated words.
fn validate_query_text(q: Option<String>) -> Result<(String, String)> {
    let query = q.unwrap_or_default();
    if query.len() > MAX_QUERY_NUM_BYTES {
        return Err(invalid(
            Code::InvalidSearchQ,
            "q",
            format!(
                "the query is `{}` bytes long; the limit is `{MAX_QUERY_NUM_BYTES}` bytes",
                query.len()
            ),
        ));
    }
    let searched_query = first_words(&query, MAX_QUERY_NUM_WORDS).to_owned();
    Ok((query, searched_query))
}

/// Returns the prefix of `text` that holds its first `max_num_words` words.
fn first_words(text: &str, max_num_words: usize) -> &str {
    let mut num_words = 0;
    let mut in_word = false;
    for (index, c) in text.char_indices() {
        if c.is_whitespace() {
            in_word = false;
            continue;
        }
        if !in_word {
            if num_words == max_num_words {
                return text[..index].trim_end();
            }
            num_words += 1;
            in_word = true;
        }
    }
    text
}

pub(crate) fn resolve_pagination(
    offset: Option<usize>,
    limit: Option<usize>,
    page: Option<usize>,
    hits_per_page: Option<usize>,
) -> Result<Pagination> {
    let check_max = |value: usize, parameter: &str, code: Code| {
        if value > MAX_SEARCH_LIMIT {
            return Err(invalid(
                code,
                parameter,
                format!(
                    "expected at most `{MAX_SEARCH_LIMIT}`, found `{value}`; page through \
                     results, or read documents from the documents route"
                ),
            ));
        }
        Ok(value)
    };
    if page.is_some() || hits_per_page.is_some() {
        let hits_per_page = hits_per_page.unwrap_or(DEFAULT_HITS_PER_PAGE);
        return Ok(Pagination::Exhaustive {
            page: page.unwrap_or(DEFAULT_PAGE),
            hits_per_page: check_max(hits_per_page, "hitsPerPage", Code::InvalidSearchHitsPerPage)?,
        });
    }
    let limit = limit.unwrap_or(DEFAULT_SEARCH_LIMIT);
    Ok(Pagination::Estimated {
        offset: offset.unwrap_or(0),
        limit: check_max(limit, "limit", Code::InvalidSearchLimit)?,
    })
}

fn validate_filter(
    filter: Option<&crate::filter::FilterInput>,
    index: &IndexCapabilities,
) -> Result<Option<FilterExpr>> {
    let Some(filter) = filter else {
        return Ok(None);
    };
    let to_api_error = |error: crate::filter::FilterError| {
        ApiError::new(Code::InvalidSearchFilter, error.message())
    };
    let parsed = filter.parse("filter").map_err(to_api_error)?;
    if let Some(expression) = &parsed {
        check_filterable(expression, &index.filterable_attributes).map_err(to_api_error)?;
    }
    Ok(parsed)
}

fn validate_facets(facets: Option<Vec<String>>, index: &IndexCapabilities) -> Result<Vec<String>> {
    let facets = facets.unwrap_or_default();
    if facets.iter().any(|facet| facet == "*") {
        return Ok(index.filterable_attributes.clone());
    }
    for facet in &facets {
        if !attribute_is_allowed(facet, &index.filterable_attributes) {
            return Err(invalid(
                Code::InvalidSearchFacets,
                "facets",
                not_allowed_message(facet, "filterable", &index.filterable_attributes),
            ));
        }
    }
    Ok(facets)
}

fn validate_distinct(
    distinct: Option<String>,
    index: &IndexCapabilities,
) -> Result<Option<String>> {
    if let Some(attribute) = &distinct {
        if !attribute_is_allowed(attribute, &index.filterable_attributes) {
            return Err(invalid(
                Code::InvalidSearchDistinct,
                "distinct",
                not_allowed_message(attribute, "filterable", &index.filterable_attributes),
            ));
        }
    }
    Ok(distinct)
}

fn validate_search_on(
    attributes: Option<Vec<String>>,
    index: &IndexCapabilities,
) -> Result<Option<Vec<String>>> {
    let Some(attributes) = attributes else {
        return Ok(None);
    };
    if attributes.iter().any(|attribute| attribute == "*") {
        return Ok(None);
    }
    for attribute in &attributes {
        if !attribute_is_allowed(attribute, &index.searchable_attributes) {
            return Err(invalid(
                Code::InvalidSearchAttributesToSearchOn,
                "attributesToSearchOn",
                not_allowed_message(attribute, "searchable", &index.searchable_attributes),
            ));
        }
    }
    Ok(Some(attributes))
}

fn check_crop_length(length: usize, parameter: &str, code: Code) -> Result<usize> {
    if length > MAX_CROP_LENGTH {
        return Err(invalid(
            code,
            parameter,
            format!("expected at most `{MAX_CROP_LENGTH}` words, found `{length}`"),
        ));
    }
    Ok(length)
}

fn validate_crop_length(crop_length: Option<usize>) -> Result<usize> {
    check_crop_length(
        crop_length.unwrap_or(DEFAULT_CROP_LENGTH),
        "cropLength",
        Code::InvalidSearchCropLength,
    )
}

/// Reads each `attribute` or `attribute:length` of `attributesToCrop`.
fn validate_crop(
    attributes: Option<Vec<String>>,
    default_length: usize,
) -> Result<Vec<CropAttribute>> {
    let code = Code::InvalidSearchAttributesToCrop;
    let mut crops = Vec::new();
    for text in attributes.unwrap_or_default() {
        let (attribute, crop_length) = match text.rsplit_once(':') {
            None => (text.as_str(), default_length),
            Some((attribute, length)) => {
                let length = length.parse::<usize>().map_err(|_| {
                    invalid(
                        code,
                        "attributesToCrop",
                        format!("expected `attribute` or `attribute:length`, found `{text}`"),
                    )
                })?;
                (
                    attribute,
                    check_crop_length(length, "attributesToCrop", code)?,
                )
            }
        };
        if attribute.is_empty() {
            return Err(invalid(
                code,
                "attributesToCrop",
                format!("empty attribute in `{text}`"),
            ));
        }
        crops.push(CropAttribute {
            attribute: attribute.to_owned(),
            crop_length,
        });
    }
    Ok(crops)
}

fn validate_markup(
    text: Option<String>,
    parameter: &str,
    code: Code,
    default: &str,
) -> Result<String> {
    let text = text.unwrap_or_else(|| default.to_owned());
    if text.len() > MAX_MARKUP_NUM_BYTES {
        return Err(invalid(
            code,
            parameter,
            format!(
                "expected at most `{MAX_MARKUP_NUM_BYTES}` bytes, found `{}`",
                text.len()
            ),
        ));
    }
    Ok(text)
}

fn validate_threshold(threshold: Option<f64>) -> Result<Option<f64>> {
    match threshold {
        Some(value) if !(0.0..=1.0).contains(&value) => Err(invalid(
            Code::InvalidSearchRankingScoreThreshold,
            "rankingScoreThreshold",
            format!(
                "expected a number between `0.0` and `1.0`, found `{}`",
                Value::from(value)
            ),
        )),
        _ => Ok(threshold),
    }
}

/// Accepts the ISO 639-3 and 639-1 codes (`eng`, `en`) of the languages the analyzers
/// detect, as Meilisearch's `locales` accepts those of the languages it detects.
fn validate_locales(locales: Option<Vec<String>>) -> Result<Vec<String>> {
    let locales = locales.unwrap_or_default();
    for locale in &locales {
        if analyzers::language_of_code(locale).is_none() {
            return Err(invalid(
                Code::InvalidSearchLocales,
                "locales",
                format!(
                    "expected ISO 639-3 or 639-1 codes of detected languages, such as `eng`, \
                     `fra`, `deu` or `en`, found `{locale}`"
                ),
            ));
        }
    }
    Ok(locales)
}

fn validate_time_budget(time_budget_ms: Option<u64>) -> Result<Option<Duration>> {
    let Some(millis) = time_budget_ms else {
        return Ok(None);
    };
    if millis == 0 || millis > MAX_SEARCH_TIME_BUDGET_MILLIS {
        return Err(invalid(
            Code::InvalidSearchTimeBudget,
            "timeBudgetMs",
            format!(
                "expected an integer from `1` to `{MAX_SEARCH_TIME_BUDGET_MILLIS}` milliseconds, \
                 found `{millis}`"
            ),
        ));
    }
    Ok(Some(Duration::from_millis(millis)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::limits::DEFAULT_MAX_TOTAL_HITS;
    use crate::sort::SortOrder;

    fn index() -> IndexCapabilities {
        IndexCapabilities {
            filterable_attributes: vec!["year".into(), "source".into(), "author".into()],
            sortable_attributes: vec!["year".into(), "title".into()],
            searchable_attributes: vec!["title".into(), "author.name".into()],
            displayed_attributes: vec!["*".into()],
            max_total_hits: DEFAULT_MAX_TOTAL_HITS,
            max_values_per_facet: 100,
        }
    }

    fn validate(body: Value) -> Result<ValidatedSearch> {
        SearchQuery::from_json_value(body)?.validate(&index())
    }

    #[test]
    fn defaults_follow_meilisearch() {
        let search = validate(json!({})).unwrap();
        assert!(search.is_placeholder());
        assert_eq!(
            search.pagination,
            Pagination::Estimated {
                offset: 0,
                limit: 20
            }
        );
        assert_eq!(search.hit_window, HitWindow { skip: 0, take: 20 });
        assert_eq!(search.attributes_to_retrieve, AttributeSelection::All);
        assert!(search.attributes_to_highlight.is_empty());
        assert_eq!(search.highlight_pre_tag, "<em>");
        assert_eq!(search.crop_marker, "…");
        assert_eq!(search.matching_strategy, MatchingStrategy::Last);
        assert_eq!(search.time_budget, None);
    }

    #[test]
    fn page_or_hits_per_page_selects_exhaustive_pagination() {
        let search = validate(json!({"page": 3, "offset": 99, "limit": 99})).unwrap();
        assert_eq!(
            search.pagination,
            Pagination::Exhaustive {
                page: 3,
                hits_per_page: 20
            }
        );
        assert_eq!(search.hit_window, HitWindow { skip: 40, take: 20 });
        let search = validate(json!({"hitsPerPage": 5})).unwrap();
        assert_eq!(
            search.pagination,
            Pagination::Exhaustive {
                page: 1,
                hits_per_page: 5
            }
        );
        let search = validate(json!({"page": 0})).unwrap();
        assert_eq!(search.hit_window, HitWindow { skip: 0, take: 0 });
    }

    #[test]
    fn window_is_clamped_to_max_total_hits() {
        let window = Pagination::Estimated {
            offset: 990,
            limit: 20,
        }
        .hit_window(1_000);
        assert_eq!(
            window,
            HitWindow {
                skip: 990,
                take: 10
            }
        );
        let window = Pagination::Estimated {
            offset: 5_000,
            limit: 20,
        }
        .hit_window(1_000);
        assert_eq!(
            window,
            HitWindow {
                skip: 1_000,
                take: 0
            }
        );
        let window = Pagination::Exhaustive {
            page: usize::MAX,
            hits_per_page: 1_000,
        }
        .hit_window(1_000);
        assert_eq!(window.take, 0);
    }

    #[test]
    fn query_words_past_the_limit_are_not_searched() {
        let long: Vec<String> = (0..MAX_QUERY_NUM_WORDS + 5)
            .map(|i| format!("w{i}"))
            .collect();
        let query = long.join("  ");
        let search = validate(json!({ "q": query })).unwrap();
        assert_eq!(search.query, query);
        assert_eq!(
            search.searched_query.split_whitespace().count(),
            MAX_QUERY_NUM_WORDS
        );
        assert!(search
            .searched_query
            .ends_with(&format!("w{}", MAX_QUERY_NUM_WORDS - 1)));
        assert_eq!(first_words("  a b ", 5), "  a b ");
    }

    #[test]
    fn resolves_filter_sort_facets_and_crop() {
        let search = validate(json!({
            "q": "attention is all y",
            "filter": "year >= 2017",
            "sort": ["year:desc"],
            "facets": ["*"],
            "attributesToCrop": ["title:5", "author.name"],
            "cropLength": 7,
            "attributesToSearchOn": ["title"],
        }))
        .unwrap();
        assert!(search.filter.is_some());
        assert_eq!(search.sort[0].order, SortOrder::Desc);
        assert_eq!(search.facets, index().filterable_attributes);
        assert_eq!(
            search.attributes_to_crop,
            vec![
                CropAttribute {
                    attribute: "title".into(),
                    crop_length: 5
                },
                CropAttribute {
                    attribute: "author.name".into(),
                    crop_length: 7
                },
            ]
        );
        assert_eq!(
            search.attributes_to_search_on,
            Some(vec!["title".to_owned()])
        );
    }

    #[test]
    fn refusals_name_the_parameter_and_use_its_code() {
        let cases = [
            (
                json!({"limit": 5_000}),
                Code::InvalidSearchLimit,
                "invalid value for `limit`: expected at most `1000`, found `5000`",
            ),
            (
                json!({"hitsPerPage": 5_000}),
                Code::InvalidSearchHitsPerPage,
                "`hitsPerPage`",
            ),
            (
                json!({"q": "a".repeat(MAX_QUERY_NUM_BYTES + 1)}),
                Code::InvalidSearchQ,
                "bytes long",
            ),
            (
                json!({"filter": "year = "}),
                Code::InvalidSearchFilter,
                "was expecting a value after `=` at `year = `, column 8",
            ),
            (
                json!({"filter": "yeer = 1"}),
                Code::InvalidSearchFilter,
                "filterable attributes are `year`, `source`, `author`",
            ),
            (
                json!({"sort": ["source:asc"]}),
                Code::InvalidSearchSort,
                "attribute `source` is not sortable",
            ),
            (
                json!({"facets": ["title"]}),
                Code::InvalidSearchFacets,
                "attribute `title` is not filterable",
            ),
            (
                json!({"distinct": "title"}),
                Code::InvalidSearchDistinct,
                "`distinct`",
            ),
            (
                json!({"attributesToSearchOn": ["abstract"]}),
                Code::InvalidSearchAttributesToSearchOn,
                "attribute `abstract` is not searchable",
            ),
            (
                json!({"attributesToCrop": ["title:many"]}),
                Code::InvalidSearchAttributesToCrop,
                "found `title:many`",
            ),
            (
                json!({"cropLength": 5_000}),
                Code::InvalidSearchCropLength,
                "at most `1000` words",
            ),
            (
                json!({"highlightPreTag": "x".repeat(300)}),
                Code::InvalidSearchHighlightPreTag,
                "`highlightPreTag`",
            ),
            (
                json!({"rankingScoreThreshold": 1.5}),
                Code::InvalidSearchRankingScoreThreshold,
                "between `0.0` and `1.0`, found `1.5`",
            ),
            (
                json!({"locales": ["English"]}),
                Code::InvalidSearchLocales,
                "found `English`",
            ),
            (
                json!({"locales": ["fr", "xx"]}),
                Code::InvalidSearchLocales,
                "found `xx`",
            ),
            (
                json!({"vector": [0.1, 0.2]}),
                Code::InvalidSearchVector,
                "no embeddings",
            ),
            (
                json!({"hybrid": {"embedder": "x"}}),
                Code::InvalidSearchHybridQuery,
                "no embeddings",
            ),
            (
                json!({"timeBudgetMs": 0}),
                Code::InvalidSearchTimeBudget,
                "`timeBudgetMs`",
            ),
        ];
        for (body, code, expected) in cases {
            let error = validate(body.clone()).unwrap_err();
            assert_eq!(error.code(), code, "code for {body}");
            assert!(
                error.public_message().contains(expected),
                "message for {body}: {}",
                error.public_message()
            );
        }
    }
}
