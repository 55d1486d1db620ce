//! The two engines a query runs on: the search API over HTTP, and PostgreSQL's own search
//! (pg_trgm and unaccent with GIN indexes, tsvector full text) set up as the database
//! analysis proposes, over the same records.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::Context;
use serde_json::{json, Value};
use sqlx::{PgPool, Row};

use super::load::Answer;
use crate::scale::people::fold_accents;
use crate::scale::workload::{LibrarianFilter, Query, QueryClass};

/// Runs `query` through `POST /indexes/records/search` of the search API at `base_url`;
/// `client` sends the run's master key with every request.
///
/// # Errors
/// Fails when the request fails or the answer is not a search response.
pub async fn search_api(
    client: &reqwest::Client,
    base_url: &str,
    query: Query,
) -> anyhow::Result<Answer> {
    let body = match &query.filter {
        Some(filter) => json!({
            "q": "",
            "filter": filter.to_filter_expression(),
            "facets": filter.facets(),
            "limit": 10,
            "attributesToRetrieve": ["source", "source_id", "year", "state"],
        }),
        None => json!({
            "q": query.q,
            "limit": 10,
            "attributesToRetrieve": ["source", "source_id"],
        }),
    };
    let response = client
        .post(format!("{base_url}/indexes/records/search"))
        .json(&body)
        .send()
        .await?;
    let status = response.status();
    let is_degraded = response
        .headers()
        .contains_key(search_api::response::DEGRADED_SEARCH_HEADER);
    let text = response.text().await?;
    anyhow::ensure!(status.is_success(), "search answered {status}: {text}");
    let value: Value = serde_json::from_str(&text).context("search answer is not json")?;
    let hits = value
        .get("hits")
        .and_then(Value::as_array)
        .context("search answer has no hits")?;
    let mut answer = Answer {
        is_degraded,
        ..Answer::default()
    };
    for hit in hits {
        let source = hit.get("source").and_then(Value::as_str).unwrap_or("");
        let source_id = hit.get("source_id").and_then(Value::as_str).unwrap_or("");
        answer.keys.push(format!("{source}:{source_id}"));
        if let Some(filter) = &query.filter {
            let year = hit
                .get("year")
                .and_then(Value::as_i64)
                .and_then(|year| i32::try_from(year).ok());
            let state = hit.get("state").and_then(Value::as_str);
            if satisfies(filter, source, year, state) {
                answer.num_hits_in_filter += 1;
            }
        }
    }
    if let Some(Value::Object(facets)) = value.get("facetDistribution") {
        for (facet, counts) in facets {
            let counts: BTreeMap<String, u64> = counts
                .as_object()
                .map(|counts| {
                    counts
                        .iter()
                        .filter_map(|(value, count)| Some((value.clone(), count.as_u64()?)))
                        .collect()
                })
                .unwrap_or_default();
            answer.facets.insert(facet.clone(), counts);
        }
    }
    Ok(answer)
}

fn satisfies(
    filter: &LibrarianFilter,
    source: &str,
    year: Option<i32>,
    state: Option<&str>,
) -> bool {
    let source_ok = filter
        .source
        .as_deref()
        .is_none_or(|wanted| wanted == source);
    let year_ok = year.is_some_and(|year| (filter.year_from..=filter.year_to).contains(&year));
    let state_ok = state.is_none_or(|state| state == filter.state);
    source_ok && year_ok && state_ok
}

/// Statements that set up PostgreSQL's own search over the current records: a table of
/// the searchable fields read from each source's JSON, an immutable `unaccent` for index
/// expressions, trigram GIN indexes on titles and authors, and a full-text GIN index on
/// titles with the analysis's `english` configuration.
const PG_SEARCH_SETUP: &[&str] = &[
    "create extension if not exists unaccent",
    "create or replace function bench_unaccent(text) returns text
     language sql immutable parallel safe strict
     as $$ select public.unaccent('public.unaccent'::regdictionary, $1) $$",
    "drop table if exists bench_pg_search",
    "create table bench_pg_search as
     select r.id, r.source, r.source_id, r.fetched_at,
            case r.source
                when 'crossref' then r.data->'title'->>0
                else coalesce(r.data->>'title', r.data->>'display_name')
            end as title,
            case r.source
                when 'openalex' then (
                    select string_agg(concat_ws(' ; ', a->'author'->>'display_name', a->>'raw_author_name'), ' ; ')
                    from jsonb_array_elements(coalesce(r.data->'authorships', '[]')) a)
                when 'crossref' then (
                    select string_agg(concat_ws(' ', a->>'given', a->>'family'), ' ; ')
                    from jsonb_array_elements(coalesce(r.data->'author', '[]')) a)
                else r.data->>'authors'
            end as authors,
            case r.source
                when 'openalex' then (r.data->>'publication_year')::int
                when 'crossref' then (r.data->'issued'->'date-parts'->0->>0)::int
                else (nullif(r.data->>'year', ''))::int
            end as year
     from raw_record_heads h join raw_records r on r.id = h.raw_record_id",
    "create index bench_pg_search_title_trgm on bench_pg_search
     using gin (bench_unaccent(title) gin_trgm_ops)",
    "create index bench_pg_search_authors_trgm on bench_pg_search
     using gin (bench_unaccent(authors) gin_trgm_ops)",
    "create index bench_pg_search_title_fts on bench_pg_search
     using gin (to_tsvector('english', bench_unaccent(coalesce(title, ''))))",
    "create index bench_pg_search_year_source on bench_pg_search (year, source)",
    "analyze bench_pg_search",
];

/// Sets up PostgreSQL's own search, returning the seconds it took.
///
/// # Errors
/// Fails when PostgreSQL does.
pub async fn set_up_pg_search(pool: &PgPool) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut connection = pool.acquire().await?;
    sqlx::query("set maintenance_work_mem = '512MB'")
        .execute(&mut *connection)
        .await?;
    for statement in PG_SEARCH_SETUP {
        sqlx::query(statement)
            .execute(&mut *connection)
            .await
            .with_context(|| format!("failed to run `{}`", first_line(statement)))?;
    }
    Ok(started.elapsed().as_secs_f64())
}

fn first_line(statement: &str) -> &str {
    statement.lines().next().unwrap_or(statement)
}

/// Runs `query` on PostgreSQL's own search as an application without a search engine
/// would: trigram similarity for titles with typos and for names, a prefix `tsquery` for
/// titles as typed, and for librarians a filtered page plus one `group by` per facet.
///
/// # Errors
/// Fails when PostgreSQL does.
pub async fn postgres(pool: &PgPool, query: Query) -> anyhow::Result<Answer> {
    let rows = match query.class {
        QueryClass::TitleTypo => {
            sqlx::query(
                "select source, source_id from bench_pg_search
                 where bench_unaccent(title) % bench_unaccent($1)
                 order by similarity(bench_unaccent(title), bench_unaccent($1)) desc,
                          source, source_id
                 limit 10",
            )
            .bind(&query.q)
            .fetch_all(pool)
            .await?
        }
        QueryClass::TitlePrefix => {
            let Some(tsquery) = prefix_tsquery(&query.q) else {
                return Ok(Answer::default());
            };
            sqlx::query(
                "select source, source_id from bench_pg_search
                 where to_tsvector('english', bench_unaccent(coalesce(title, '')))
                       @@ to_tsquery('english', $1)
                 order by ts_rank(to_tsvector('english', bench_unaccent(coalesce(title, ''))),
                                  to_tsquery('english', $1)) desc,
                          source, source_id
                 limit 10",
            )
            .bind(tsquery)
            .fetch_all(pool)
            .await?
        }
        QueryClass::AuthorName => {
            sqlx::query(
                "select source, source_id from bench_pg_search
                 where bench_unaccent($1) <% bench_unaccent(authors)
                 order by word_similarity(bench_unaccent($1), bench_unaccent(authors)) desc,
                          source, source_id
                 limit 10",
            )
            .bind(&query.q)
            .fetch_all(pool)
            .await?
        }
        QueryClass::LibrarianFilter => return postgres_librarian(pool, &query).await,
    };
    Ok(Answer {
        keys: rows.iter().map(row_key).collect(),
        ..Answer::default()
    })
}

/// Runs a title query on PostgreSQL as one title search box would, not knowing whether
/// the words were typed whole with a typo or the last one is cut: the prefix `tsquery` of
/// [`postgres`] or trigram similarity (`%`), ordered by how well the query's words are
/// found in the title (`word_similarity`), then by similarity of the whole.
///
/// [`postgres`] gives each class the query that suits it; an application cannot choose,
/// as the search engine does not need to.
///
/// # Errors
/// Fails when PostgreSQL does.
pub async fn postgres_title_search(pool: &PgPool, query: Query) -> anyhow::Result<Answer> {
    let rows = sqlx::query(
        "select source, source_id from bench_pg_search
         where to_tsvector('english', bench_unaccent(coalesce(title, '')))
               @@ to_tsquery('english', $2)
            or bench_unaccent(title) % bench_unaccent($1)
         order by word_similarity(bench_unaccent($1), bench_unaccent(title)) desc,
                  similarity(bench_unaccent(title), bench_unaccent($1)) desc,
                  source, source_id
         limit 10",
    )
    .bind(&query.q)
    .bind(prefix_tsquery(&query.q).unwrap_or_default())
    .fetch_all(pool)
    .await?;
    Ok(Answer {
        keys: rows.iter().map(row_key).collect(),
        ..Answer::default()
    })
}

/// The filter of a librarian's search in SQL; `state = none` means no candidate exists.
const LIBRARIAN_WHERE: &str = "year between $1 and $2
    and ($3::text is null or source = $3)
    and not exists (select 1 from candidate_matches c where c.raw_record_id = p.id)";

async fn postgres_librarian(pool: &PgPool, query: &Query) -> anyhow::Result<Answer> {
    let filter = query
        .filter
        .as_ref()
        .context("a librarian's query has a filter")?;
    let mut connection = pool.acquire().await?;
    let rows = sqlx::query(&format!(
        "select source, source_id from bench_pg_search p where {LIBRARIAN_WHERE}
         order by fetched_at desc, source, source_id limit 10"
    ))
    .bind(filter.year_from)
    .bind(filter.year_to)
    .bind(filter.source.as_deref())
    .fetch_all(&mut *connection)
    .await?;
    let mut answer = Answer {
        keys: rows.iter().map(row_key).collect(),
        num_hits_in_filter: rows.len(),
        ..Answer::default()
    };
    for facet in ["source", "year"] {
        let counts = sqlx::query(&format!(
            "select {facet}::text, count(*) from bench_pg_search p where {LIBRARIAN_WHERE}
             group by 1"
        ))
        .bind(filter.year_from)
        .bind(filter.year_to)
        .bind(filter.source.as_deref())
        .fetch_all(&mut *connection)
        .await?;
        let counts: BTreeMap<String, u64> = counts
            .iter()
            .map(|row| (row.get::<String, _>(0), row.get::<i64, _>(1) as u64))
            .collect();
        answer.facets.insert(facet.to_owned(), counts);
    }
    Ok(answer)
}

fn row_key(row: &sqlx::postgres::PgRow) -> String {
    format!(
        "{}:{}",
        row.get::<String, _>("source"),
        row.get::<String, _>("source_id")
    )
}

/// Returns `w1 & w2 & w3:*` for the words of `q`, the last one a prefix.
fn prefix_tsquery(q: &str) -> Option<String> {
    let words: Vec<String> = fold_accents(q)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect();
    let (last, rest) = words.split_last()?;
    let mut terms: Vec<String> = rest.to_vec();
    terms.push(format!("{last}:*"));
    Some(terms.join(" & "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_titles_become_prefix_tsqueries() {
        assert_eq!(
            prefix_tsquery("Attention is all y").as_deref(),
            Some("attention & is & all & y:*")
        );
        assert_eq!(
            prefix_tsquery("Wärme-schutz").as_deref(),
            Some("warme & schutz:*")
        );
        assert_eq!(prefix_tsquery(" "), None);
    }
}
