//! Index settings: the full model answered by `GET /indexes/{uid}/settings`, and updates
//! (`PATCH`) with Meilisearch's three states per field: absent leaves a setting, `null`
//! resets it, a value sets it. The attribute lists are fixed by the index schema, which the
//! indexer derives from PostgreSQL, so an update may only repeat them unchanged.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::decode::{from_json_value, ParameterTable};
use crate::error::{ApiError, Code, Result};
use crate::filter::{attribute_is_allowed, not_allowed_message};
use crate::limits::{
    DEFAULT_MAX_TOTAL_HITS, DEFAULT_MAX_VALUES_PER_FACET, DEFAULT_MIN_WORD_SIZE_FOR_ONE_TYPO,
    DEFAULT_MIN_WORD_SIZE_FOR_TWO_TYPOS, MAX_SEARCH_TIME_BUDGET_MILLIS, MAX_STOP_WORDS_NUM_ENTRIES,
    MAX_SYNONYMS_NUM_ENTRIES, MAX_TOTAL_HITS_CEILING, MAX_VALUES_PER_FACET_CEILING,
};
use crate::suggest::name_list;

/// Meilisearch's built-in ranking rules; `words` … `exactness` are its default order.
const BUILT_IN_RANKING_RULES: &[&str] = &[
    "words",
    "typo",
    "proximity",
    "attribute",
    "sort",
    "exactness",
    "attributeRank",
    "wordPosition",
];
const NUM_DEFAULT_RANKING_RULES: usize = 6;

/// The settings of one index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// Attributes a hit may show; read-only.
    pub displayed_attributes: Vec<String>,
    /// Attributes searched, in priority order; read-only.
    pub searchable_attributes: Vec<String>,
    /// Attributes usable in filters and facets; read-only.
    pub filterable_attributes: Vec<String>,
    /// Attributes usable in `sort`; read-only.
    pub sortable_attributes: Vec<String>,
    /// Ranking rules in order of precedence.
    pub ranking_rules: Vec<String>,
    /// Words ignored in queries.
    pub stop_words: BTreeSet<String>,
    /// Words searched as if other words had been typed too.
    pub synonyms: BTreeMap<String, Vec<String>>,
    /// The attribute of which at most one document per value is returned.
    pub distinct_attribute: Option<String>,
    /// How typos are forgiven.
    pub typo_tolerance: TypoTolerance,
    /// How deep a search may page.
    pub pagination: PaginationSettings,
    /// How facet values are counted.
    pub faceting: Faceting,
    /// Milliseconds a search may take before it answers with the hits gathered so far;
    /// `None` for [`crate::limits::DEFAULT_SEARCH_TIME_BUDGET_MILLIS`]. Meilisearch's `searchCutoffMs`;
    /// settings stored before it existed read as `None`.
    #[serde(default)]
    pub search_cutoff_ms: Option<u64>,
}

/// How typos are forgiven.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypoTolerance {
    /// Whether typos are forgiven at all.
    pub enabled: bool,
    /// Shortest words forgiven one and two typos.
    pub min_word_size_for_typos: MinWordSizeForTypos,
    /// Words always matched exactly.
    pub disable_on_words: BTreeSet<String>,
    /// Attributes always matched exactly, such as identifiers.
    pub disable_on_attributes: BTreeSet<String>,
}

/// Shortest words, in characters, forgiven one and two typos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MinWordSizeForTypos {
    /// Shortest word forgiven one typo.
    pub one_typo: u8,
    /// Shortest word forgiven two typos; at least `one_typo`.
    pub two_typos: u8,
}

/// How deep a search may page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaginationSettings {
    /// Hits a search can reach with `offset + limit`.
    pub max_total_hits: usize,
}

/// How facet values are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Faceting {
    /// Values per facet returned in `facetDistribution`.
    pub max_values_per_facet: usize,
}

impl Default for TypoTolerance {
    fn default() -> Self {
        TypoTolerance {
            enabled: true,
            min_word_size_for_typos: MinWordSizeForTypos {
                one_typo: DEFAULT_MIN_WORD_SIZE_FOR_ONE_TYPO,
                two_typos: DEFAULT_MIN_WORD_SIZE_FOR_TWO_TYPOS,
            },
            disable_on_words: BTreeSet::new(),
            disable_on_attributes: BTreeSet::new(),
        }
    }
}

impl Settings {
    /// Returns the settings of an index with the given attribute lists, from its schema,
    /// and Meilisearch's defaults for everything else.
    pub fn with_schema(
        displayed_attributes: Vec<String>,
        searchable_attributes: Vec<String>,
        filterable_attributes: Vec<String>,
        sortable_attributes: Vec<String>,
    ) -> Self {
        Settings {
            displayed_attributes,
            searchable_attributes,
            filterable_attributes,
            sortable_attributes,
            ranking_rules: default_ranking_rules(),
            stop_words: BTreeSet::new(),
            synonyms: BTreeMap::new(),
            distinct_attribute: None,
            typo_tolerance: TypoTolerance::default(),
            pagination: PaginationSettings {
                max_total_hits: DEFAULT_MAX_TOTAL_HITS,
            },
            faceting: Faceting {
                max_values_per_facet: DEFAULT_MAX_VALUES_PER_FACET,
            },
            search_cutoff_ms: None,
        }
    }
}

fn default_ranking_rules() -> Vec<String> {
    BUILT_IN_RANKING_RULES[..NUM_DEFAULT_RANKING_RULES]
        .iter()
        .map(|rule| (*rule).to_owned())
        .collect()
}

/// One field of an update: absent, `null` (back to the default) or a value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Setting<T> {
    /// Absent: the setting is left as it is.
    #[default]
    NotSet,
    /// `null`: the setting goes back to its default.
    Reset,
    /// A value: the setting becomes it.
    Set(T),
}

impl<T> Setting<T> {
    /// Returns whether the field was absent.
    pub fn is_not_set(&self) -> bool {
        matches!(self, Setting::NotSet)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Setting<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(value) => Setting::Set(value),
            None => Setting::Reset,
        })
    }
}

impl<T: Serialize> Serialize for Setting<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Setting::Set(value) => value.serialize(serializer),
            Setting::NotSet | Setting::Reset => serializer.serialize_none(),
        }
    }
}

/// A settings update as sent to `PATCH /indexes/{uid}/settings`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsUpdate {
    /// Must equal the current list: the schema decides it.
    #[serde(default, skip_serializing_if = "Setting::is_not_set")]
    pub displayed_attributes: Setting<Vec<String>>,
    /// Must equal the current list: the schema decides it.
    #[serde(default, skip_serializing_if = "Setting::is_not_set")]
    pub searchable_attributes: Setting<Vec<String>>,
    /// Must equal the current list: the schema decides it.
    #[serde(default, skip_serializing_if = "Setting::is_not_set")]
    pub filterable_attributes: Setting<Vec<String>>,
    /// Must equal the current list: the schema decides it.
    #[serde(default, skip_serializing_if = "Setting::is_not_set")]
    pub sortable_attributes: Setting<Vec<String>>,
    /// New ranking rules.
    #[serde(default, skip_serializing_if = "Setting::is_not_set")]
    pub ranking_rules: Setting<Vec<String>>,
    /// New stop words, replacing the old ones.
    #[serde(default, skip_serializing_if = "Setting::is_not_set")]
    pub stop_words: Setting<BTreeSet<String>>,
    /// New synonyms, replacing the old ones.
    #[serde(default, skip_serializing_if = "Setting::is_not_set")]
    pub synonyms: Setting<BTreeMap<String, Vec<String>>>,
    /// New distinct attribute; must be filterable.
    #[serde(default, skip_serializing_if = "Setting::is_not_set")]
    pub distinct_attribute: Setting<String>,
    /// Changes to typo tolerance, field by field.
    #[serde(default, skip_serializing_if = "Setting::is_not_set")]
    pub typo_tolerance: Setting<TypoToleranceUpdate>,
    /// Changes to pagination.
    #[serde(default, skip_serializing_if = "Setting::is_not_set")]
    pub pagination: Setting<PaginationUpdate>,
    /// Changes to faceting.
    #[serde(default, skip_serializing_if = "Setting::is_not_set")]
    pub faceting: Setting<FacetingUpdate>,
    /// New search cutoff, from 1 to [`MAX_SEARCH_TIME_BUDGET_MILLIS`] milliseconds.
    #[serde(default, skip_serializing_if = "Setting::is_not_set")]
    pub search_cutoff_ms: Setting<u64>,
}

/// Changes to typo tolerance, field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TypoToleranceUpdate {
    /// Whether typos are forgiven.
    #[serde(default, skip_serializing_if = "Setting::is_not_set")]
    pub enabled: Setting<bool>,
    /// Shortest words forgiven typos.
    #[serde(default, skip_serializing_if = "Setting::is_not_set")]
    pub min_word_size_for_typos: Setting<MinWordSizeForTyposUpdate>,
    /// Words always matched exactly.
    #[serde(default, skip_serializing_if = "Setting::is_not_set")]
    pub disable_on_words: Setting<BTreeSet<String>>,
    /// Attributes always matched exactly; must be searchable.
    #[serde(default, skip_serializing_if = "Setting::is_not_set")]
    pub disable_on_attributes: Setting<BTreeSet<String>>,
}

/// Changes to the shortest words forgiven typos.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MinWordSizeForTyposUpdate {
    /// Shortest word forgiven one typo.
    #[serde(default, skip_serializing_if = "Setting::is_not_set")]
    pub one_typo: Setting<u8>,
    /// Shortest word forgiven two typos.
    #[serde(default, skip_serializing_if = "Setting::is_not_set")]
    pub two_typos: Setting<u8>,
}

/// Changes to pagination.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PaginationUpdate {
    /// New paging depth, from 1 to [`MAX_TOTAL_HITS_CEILING`].
    #[serde(default, skip_serializing_if = "Setting::is_not_set")]
    pub max_total_hits: Setting<usize>,
}

/// Changes to faceting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FacetingUpdate {
    /// New values per facet, up to [`MAX_VALUES_PER_FACET_CEILING`].
    #[serde(default, skip_serializing_if = "Setting::is_not_set")]
    pub max_values_per_facet: Setting<usize>,
}

const SETTINGS_TABLE: ParameterTable = ParameterTable {
    kind: "setting",
    names: &[
        "displayedAttributes",
        "searchableAttributes",
        "filterableAttributes",
        "sortableAttributes",
        "rankingRules",
        "stopWords",
        "synonyms",
        "distinctAttribute",
        "typoTolerance",
        "pagination",
        "faceting",
        "searchCutoffMs",
    ],
    code_of: code_of_setting,
};

fn code_of_setting(name: &str) -> Code {
    match name {
        "displayedAttributes" => Code::InvalidSettingsDisplayedAttributes,
        "searchableAttributes" => Code::InvalidSettingsSearchableAttributes,
        "filterableAttributes" => Code::InvalidSettingsFilterableAttributes,
        "sortableAttributes" => Code::InvalidSettingsSortableAttributes,
        "rankingRules" => Code::InvalidSettingsRankingRules,
        "stopWords" => Code::InvalidSettingsStopWords,
        "synonyms" => Code::InvalidSettingsSynonyms,
        "distinctAttribute" => Code::InvalidSettingsDistinctAttribute,
        "typoTolerance" => Code::InvalidSettingsTypoTolerance,
        "pagination" => Code::InvalidSettingsPagination,
        "faceting" => Code::InvalidSettingsFaceting,
        "searchCutoffMs" => Code::InvalidSettingsSearchCutoffMs,
        _ => Code::BadRequest,
    }
}

impl SettingsUpdate {
    /// Returns the update of a body already read as JSON.
    ///
    /// # Errors
    ///
    /// `bad_request` naming an unknown setting; `invalid_settings_*` for a value of the
    /// wrong type.
    pub fn from_json_value(value: Value) -> Result<SettingsUpdate> {
        from_json_value(value, &SETTINGS_TABLE)
    }
}

fn refused(code: Code, setting: &str, reason: impl std::fmt::Display) -> ApiError {
    ApiError::new(code, format!("invalid value for `{setting}`: {reason}"))
}

impl Settings {
    /// Returns these settings with `update` applied, after checking it.
    ///
    /// # Errors
    ///
    /// The code of the first invalid setting: an attribute list that differs from the
    /// schema's, an unknown or repeated ranking rule, a custom ranking rule on an attribute
    /// that is not sortable, typo word sizes out of order, empty synonyms or stop words,
    /// limits outside their range, a distinct attribute that is not filterable.
    pub fn apply_update(&self, update: SettingsUpdate) -> Result<Settings> {
        let mut settings = self.clone();
        check_schema_list(
            update.displayed_attributes,
            &self.displayed_attributes,
            "displayedAttributes",
            Code::InvalidSettingsDisplayedAttributes,
        )?;
        check_schema_list(
            update.searchable_attributes,
            &self.searchable_attributes,
            "searchableAttributes",
            Code::InvalidSettingsSearchableAttributes,
        )?;
        check_schema_list(
            update.filterable_attributes,
            &self.filterable_attributes,
            "filterableAttributes",
            Code::InvalidSettingsFilterableAttributes,
        )?;
        check_schema_list(
            update.sortable_attributes,
            &self.sortable_attributes,
            "sortableAttributes",
            Code::InvalidSettingsSortableAttributes,
        )?;

        match update.ranking_rules {
            Setting::NotSet => {}
            Setting::Reset => settings.ranking_rules = default_ranking_rules(),
            Setting::Set(rules) => settings.ranking_rules = self.checked_ranking_rules(rules)?,
        }
        match update.stop_words {
            Setting::NotSet => {}
            Setting::Reset => settings.stop_words.clear(),
            Setting::Set(words) => settings.stop_words = checked_stop_words(words)?,
        }
        match update.synonyms {
            Setting::NotSet => {}
            Setting::Reset => settings.synonyms.clear(),
            Setting::Set(synonyms) => settings.synonyms = checked_synonyms(synonyms)?,
        }
        match update.distinct_attribute {
            Setting::NotSet => {}
            Setting::Reset => settings.distinct_attribute = None,
            Setting::Set(attribute) => {
                settings.distinct_attribute = Some(self.checked_distinct(attribute)?)
            }
        }
        match update.typo_tolerance {
            Setting::NotSet => {}
            Setting::Reset => settings.typo_tolerance = TypoTolerance::default(),
            Setting::Set(typo_update) => {
                settings.typo_tolerance = self.updated_typo_tolerance(typo_update)?
            }
        }
        settings.pagination.max_total_hits =
            updated_max_total_hits(update.pagination, self.pagination.max_total_hits)?;
        settings.faceting.max_values_per_facet =
            updated_max_values_per_facet(update.faceting, self.faceting.max_values_per_facet)?;
        settings.search_cutoff_ms = match update.search_cutoff_ms {
            Setting::NotSet => self.search_cutoff_ms,
            Setting::Reset => None,
            Setting::Set(millis) => Some(checked_search_cutoff(millis)?),
        };
        Ok(settings)
    }

    fn checked_ranking_rules(&self, rules: Vec<String>) -> Result<Vec<String>> {
        let code = Code::InvalidSettingsRankingRules;
        for (index, rule) in rules.iter().enumerate() {
            if rules[..index].contains(rule) {
                return Err(refused(
                    code,
                    "rankingRules",
                    format!("`{rule}` appears twice"),
                ));
            }
            if BUILT_IN_RANKING_RULES.contains(&rule.as_str()) {
                continue;
            }
            let attribute = rule
                .strip_suffix(":asc")
                .or_else(|| rule.strip_suffix(":desc"));
            let Some(attribute) = attribute.filter(|attribute| !attribute.is_empty()) else {
                return Err(refused(
                    code,
                    "rankingRules",
                    format!(
                        "unknown rule `{rule}`; expected one of {} or `attribute:asc`, \
                         `attribute:desc`",
                        name_list(BUILT_IN_RANKING_RULES)
                    ),
                ));
            };
            if !attribute_is_allowed(attribute, &self.sortable_attributes) {
                return Err(refused(
                    code,
                    "rankingRules",
                    not_allowed_message(attribute, "sortable", &self.sortable_attributes),
                ));
            }
        }
        Ok(rules)
    }

    fn checked_distinct(&self, attribute: String) -> Result<String> {
        if !attribute_is_allowed(&attribute, &self.filterable_attributes) {
            return Err(refused(
                Code::InvalidSettingsDistinctAttribute,
                "distinctAttribute",
                not_allowed_message(&attribute, "filterable", &self.filterable_attributes),
            ));
        }
        Ok(attribute)
    }

    fn updated_typo_tolerance(&self, update: TypoToleranceUpdate) -> Result<TypoTolerance> {
        let code = Code::InvalidSettingsTypoTolerance;
        let defaults = TypoTolerance::default();
        let mut typo = self.typo_tolerance.clone();
        typo.enabled = match update.enabled {
            Setting::NotSet => typo.enabled,
            Setting::Reset => defaults.enabled,
            Setting::Set(enabled) => enabled,
        };
        match update.min_word_size_for_typos {
            Setting::NotSet => {}
            Setting::Reset => typo.min_word_size_for_typos = defaults.min_word_size_for_typos,
            Setting::Set(sizes) => {
                let current = &mut typo.min_word_size_for_typos;
                let default_sizes = defaults.min_word_size_for_typos;
                current.one_typo =
                    resolve(sizes.one_typo, current.one_typo, default_sizes.one_typo);
                current.two_typos =
                    resolve(sizes.two_typos, current.two_typos, default_sizes.two_typos);
            }
        }
        let sizes = typo.min_word_size_for_typos;
        if sizes.one_typo > sizes.two_typos {
            return Err(refused(
                code,
                "typoTolerance.minWordSizeForTypos",
                format!(
                    "`twoTypos` must be at least `oneTypo`, found `oneTypo: {}` and \
                     `twoTypos: {}`",
                    sizes.one_typo, sizes.two_typos
                ),
            ));
        }
        typo.disable_on_words = resolve(
            update.disable_on_words,
            typo.disable_on_words,
            BTreeSet::new(),
        );
        typo.disable_on_attributes = resolve(
            update.disable_on_attributes,
            typo.disable_on_attributes,
            BTreeSet::new(),
        );
        if let Some(attribute) = typo
            .disable_on_attributes
            .iter()
            .find(|attribute| !attribute_is_allowed(attribute, &self.searchable_attributes))
        {
            return Err(refused(
                code,
                "typoTolerance.disableOnAttributes",
                not_allowed_message(attribute, "searchable", &self.searchable_attributes),
            ));
        }
        Ok(typo)
    }
}

/// Returns the value a three-state field leaves: `current`, `default` or the new value.
fn resolve<T>(setting: Setting<T>, current: T, default: T) -> T {
    match setting {
        Setting::NotSet => current,
        Setting::Reset => default,
        Setting::Set(value) => value,
    }
}

fn check_schema_list(
    setting: Setting<Vec<String>>,
    current: &[String],
    name: &str,
    code: Code,
) -> Result<()> {
    match setting {
        Setting::NotSet => Ok(()),
        Setting::Set(list) if list == current => Ok(()),
        _ => Err(ApiError::new(
            code,
            format!(
                "`{name}` is fixed by the index schema, which the indexer builds from \
                 PostgreSQL; it is {} and cannot be changed through this API",
                name_list(current)
            ),
        )),
    }
}

fn checked_stop_words(words: BTreeSet<String>) -> Result<BTreeSet<String>> {
    let code = Code::InvalidSettingsStopWords;
    if words.len() > MAX_STOP_WORDS_NUM_ENTRIES {
        return Err(refused(
            code,
            "stopWords",
            format!(
                "expected at most `{MAX_STOP_WORDS_NUM_ENTRIES}` words, found `{}`",
                words.len()
            ),
        ));
    }
    if words.iter().any(|word| word.trim().is_empty()) {
        return Err(refused(code, "stopWords", "a stop word is empty"));
    }
    Ok(words)
}

fn checked_synonyms(
    synonyms: BTreeMap<String, Vec<String>>,
) -> Result<BTreeMap<String, Vec<String>>> {
    let code = Code::InvalidSettingsSynonyms;
    if synonyms.len() > MAX_SYNONYMS_NUM_ENTRIES {
        return Err(refused(
            code,
            "synonyms",
            format!(
                "expected at most `{MAX_SYNONYMS_NUM_ENTRIES}` entries, found `{}`",
                synonyms.len()
            ),
        ));
    }
    for (word, alternatives) in &synonyms {
        if word.trim().is_empty() {
            return Err(refused(code, "synonyms", "a word with synonyms is empty"));
        }
        if alternatives
            .iter()
            .any(|alternative| alternative.trim().is_empty())
        {
            return Err(refused(
                code,
                "synonyms",
                format!("a synonym of `{word}` is empty"),
            ));
        }
    }
    Ok(synonyms)
}

fn updated_max_total_hits(update: Setting<PaginationUpdate>, current: usize) -> Result<usize> {
    let setting = match update {
        Setting::NotSet => return Ok(current),
        Setting::Reset => return Ok(DEFAULT_MAX_TOTAL_HITS),
        Setting::Set(pagination) => pagination.max_total_hits,
    };
    let value = resolve(setting, current, DEFAULT_MAX_TOTAL_HITS);
    if value == 0 || value > MAX_TOTAL_HITS_CEILING {
        return Err(refused(
            Code::InvalidSettingsPagination,
            "pagination.maxTotalHits",
            format!("expected an integer from `1` to `{MAX_TOTAL_HITS_CEILING}`, found `{value}`"),
        ));
    }
    Ok(value)
}

fn checked_search_cutoff(millis: u64) -> Result<u64> {
    if millis == 0 || millis > MAX_SEARCH_TIME_BUDGET_MILLIS {
        return Err(refused(
            Code::InvalidSettingsSearchCutoffMs,
            "searchCutoffMs",
            format!(
                "expected an integer from `1` to `{MAX_SEARCH_TIME_BUDGET_MILLIS}` milliseconds, \
                 found `{millis}`"
            ),
        ));
    }
    Ok(millis)
}

fn updated_max_values_per_facet(update: Setting<FacetingUpdate>, current: usize) -> Result<usize> {
    let setting = match update {
        Setting::NotSet => return Ok(current),
        Setting::Reset => return Ok(DEFAULT_MAX_VALUES_PER_FACET),
        Setting::Set(faceting) => faceting.max_values_per_facet,
    };
    let value = resolve(setting, current, DEFAULT_MAX_VALUES_PER_FACET);
    if value > MAX_VALUES_PER_FACET_CEILING {
        return Err(refused(
            Code::InvalidSettingsFaceting,
            "faceting.maxValuesPerFacet",
            format!("expected at most `{MAX_VALUES_PER_FACET_CEILING}`, found `{value}`"),
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn settings() -> Settings {
        Settings::with_schema(
            vec!["*".into()],
            vec!["title".into(), "authors".into()],
            vec!["year".into(), "source".into()],
            vec!["year".into()],
        )
    }

    fn apply(body: Value) -> Result<Settings> {
        settings().apply_update(SettingsUpdate::from_json_value(body)?)
    }

    #[test]
    fn defaults_follow_meilisearch() {
        let value = serde_json::to_value(settings()).unwrap();
        assert_eq!(
            value["rankingRules"],
            json!([
                "words",
                "typo",
                "proximity",
                "attribute",
                "sort",
                "exactness"
            ])
        );
        assert_eq!(
            value["typoTolerance"]["minWordSizeForTypos"],
            json!({"oneTypo": 5, "twoTypos": 9})
        );
        assert_eq!(value["pagination"], json!({"maxTotalHits": 1000}));
        assert_eq!(value["faceting"], json!({"maxValuesPerFacet": 100}));
    }

    #[test]
    fn absent_null_and_value_are_three_states() {
        let updated = apply(json!({
            "stopWords": ["the", "of"],
            "synonyms": {"ml": ["machine learning"]},
            "typoTolerance": {
                "minWordSizeForTypos": {"twoTypos": 10},
                "disableOnAttributes": ["authors"],
            },
            "pagination": {"maxTotalHits": 5000},
            "rankingRules": ["words", "year:desc", "typo"],
        }))
        .unwrap();
        assert_eq!(updated.stop_words.len(), 2);
        assert_eq!(updated.typo_tolerance.min_word_size_for_typos.one_typo, 5);
        assert_eq!(updated.typo_tolerance.min_word_size_for_typos.two_typos, 10);
        assert_eq!(updated.pagination.max_total_hits, 5000);
        assert_eq!(updated.faceting.max_values_per_facet, 100);

        let reset = updated
            .apply_update(
                SettingsUpdate::from_json_value(json!({"stopWords": null, "pagination": null}))
                    .unwrap(),
            )
            .unwrap();
        assert!(reset.stop_words.is_empty());
        assert_eq!(reset.pagination.max_total_hits, DEFAULT_MAX_TOTAL_HITS);
        assert_eq!(reset.synonyms, updated.synonyms);
    }

    #[test]
    fn schema_lists_may_only_be_repeated() {
        apply(json!({"filterableAttributes": ["year", "source"]})).unwrap();
        let error = apply(json!({"filterableAttributes": ["year"]})).unwrap_err();
        assert_eq!(error.code(), Code::InvalidSettingsFilterableAttributes);
        assert!(
            error.public_message().contains("fixed by the index schema"),
            "{}",
            error.public_message()
        );
        let error = apply(json!({"searchableAttributes": null})).unwrap_err();
        assert_eq!(error.code(), Code::InvalidSettingsSearchableAttributes);
    }

    #[test]
    fn refusals() {
        let cases = [
            (
                json!({"rankingRules": ["words", "words"]}),
                Code::InvalidSettingsRankingRules,
                "appears twice",
            ),
            (
                json!({"rankingRules": ["relevance"]}),
                Code::InvalidSettingsRankingRules,
                "unknown rule `relevance`",
            ),
            (
                json!({"rankingRules": ["title:asc"]}),
                Code::InvalidSettingsRankingRules,
                "attribute `title` is not sortable",
            ),
            (
                json!({"typoTolerance": {"minWordSizeForTypos": {"oneTypo": 10}}}),
                Code::InvalidSettingsTypoTolerance,
                "found `oneTypo: 10` and `twoTypos: 9`",
            ),
            (
                json!({"typoTolerance": {"minWordSizeForTypos": {"oneTypo": 300}}}),
                Code::InvalidSettingsTypoTolerance,
                "`typoTolerance.minWordSizeForTypos.oneTypo`",
            ),
            (
                json!({"typoTolerance": {"disableOnAttributes": ["year"]}}),
                Code::InvalidSettingsTypoTolerance,
                "not searchable",
            ),
            (
                json!({"typoTolerance": {"enable": true}}),
                Code::InvalidSettingsTypoTolerance,
                "unknown field `enable`",
            ),
            (
                json!({"pagination": {"maxTotalHits": 0}}),
                Code::InvalidSettingsPagination,
                "from `1`",
            ),
            (
                json!({"faceting": {"maxValuesPerFacet": MAX_VALUES_PER_FACET_CEILING + 1}}),
                Code::InvalidSettingsFaceting,
                "at most",
            ),
            (
                json!({"synonyms": {"ml": [""]}}),
                Code::InvalidSettingsSynonyms,
                "a synonym of `ml` is empty",
            ),
            (
                json!({"synonyms": ["ml"]}),
                Code::InvalidSettingsSynonyms,
                "`synonyms`",
            ),
            (
                json!({"stopWords": [" "]}),
                Code::InvalidSettingsStopWords,
                "empty",
            ),
            (
                json!({"distinctAttribute": "title"}),
                Code::InvalidSettingsDistinctAttribute,
                "not filterable",
            ),
            (
                json!({"embedders": {}}),
                Code::BadRequest,
                "unknown setting `embedders`",
            ),
        ];
        for (body, code, expected) in cases {
            let error = apply(body.clone()).unwrap_err();
            assert_eq!(error.code(), code, "{body}: {}", error.public_message());
            assert!(
                error.public_message().contains(expected),
                "{body}: {}",
                error.public_message()
            );
        }
    }

    #[test]
    fn update_serializes_three_states() {
        let body = json!({"stopWords": null, "pagination": {"maxTotalHits": 10}});
        let update = SettingsUpdate::from_json_value(body.clone()).unwrap();
        assert_eq!(serde_json::to_value(&update).unwrap(), body);
    }
}
