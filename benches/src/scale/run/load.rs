//! Drives a query class at a fixed concurrency against one engine, and scores the answers
//! against the judgments.

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::Serialize;

use crate::follow::percentile;
use crate::scale::workload::{Query, QueryClass};

/// Hits a query's relevance is judged on.
pub const JUDGED_DEPTH: usize = 10;

/// What an engine answered to one query.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// Keys (`source:source_id`) of the hits, best first.
    pub keys: Vec<String>,
    /// Hits that satisfy the query's filter, for a librarian's search.
    pub num_hits_in_filter: usize,
    /// Facet counts, for a librarian's search.
    pub facets: BTreeMap<String, BTreeMap<String, u64>>,
    /// Whether the engine cut the search short (its time budget ran out) and answered
    /// with the hits gathered so far.
    pub is_degraded: bool,
}

/// Latency and throughput of one class at one concurrency.
#[derive(Debug, Clone, Serialize)]
pub struct CellFigures {
    /// Requests sent in parallel.
    pub concurrency: usize,
    /// Requests answered.
    pub num_requests: u64,
    /// Requests that failed: not counted in the latencies, and a run with any exits
    /// non-zero.
    pub num_errors: u64,
    /// The first failure's message.
    pub first_error: Option<String>,
    /// Answers the engine cut short, its time budget spent (counted in the latencies).
    pub num_degraded: u64,
    /// Median latency in milliseconds.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Answered requests per second.
    pub per_sec: f64,
    /// Whether the time budget cut the cell short.
    pub cut_by_budget: bool,
}

/// Relevance of one class against the judgments.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Relevance {
    /// Queries judged.
    pub num_queries: u64,
    /// Mean over queries of the relevant hits among the first ten, divided by the relevant
    /// records there could be (at most ten); for librarians' searches, of the first ten
    /// hits that satisfy the filter.
    pub recall_at_10: f64,
    /// Mean reciprocal rank of the first relevant hit within the first ten.
    pub mrr: f64,
    /// Share of librarians' searches whose facet counts equal the truth's.
    pub facets_exact: Option<f64>,
    /// Queries (up to [`MAX_MISSES_LISTED`]) none of whose first ten hits is relevant.
    pub missed: Vec<String>,
}

/// Missed queries a report lists at most per class.
pub const MAX_MISSES_LISTED: usize = 20;

/// Sends `num_requests` of `queries` (cycling) with `concurrency` in flight, sending no
/// more once `budget` has passed (those in flight are awaited), and returns the figures and
/// the first answer to each query.
pub async fn drive<F, Fut>(
    queries: &[&Query],
    concurrency: usize,
    budget: Duration,
    num_requests: usize,
    execute: F,
) -> (CellFigures, Vec<Option<Answer>>)
where
    F: Fn(Query) -> Fut,
    Fut: Future<Output = anyhow::Result<Answer>>,
{
    let started = Instant::now();
    let mut answers: Vec<Option<Answer>> = vec![None; queries.len()];
    let mut latencies: Vec<f64> = Vec::with_capacity(num_requests);
    let mut num_errors = 0;
    let mut num_degraded = 0;
    let mut first_error: Option<String> = None;
    let mut cut_by_budget = false;
    {
        let requests = futures_util::stream::iter(0..num_requests)
            .take_while(|_| {
                let in_budget = started.elapsed() < budget;
                if !in_budget {
                    cut_by_budget = true;
                }
                std::future::ready(in_budget)
            })
            .map(|number| {
                let index = number % queries.len().max(1);
                let query = queries[index].clone();
                let request = execute(query);
                async move {
                    let sent = Instant::now();
                    let answer = request.await;
                    (index, sent.elapsed(), answer)
                }
            })
            .buffer_unordered(concurrency.max(1));
        futures_util::pin_mut!(requests);
        while let Some((index, latency, answer)) = requests.next().await {
            match answer {
                Ok(answer) => {
                    latencies.push(latency.as_secs_f64() * 1000.0);
                    num_degraded += u64::from(answer.is_degraded);
                    if answers[index].is_none() {
                        answers[index] = Some(answer);
                    }
                }
                Err(error) => {
                    num_errors += 1;
                    first_error.get_or_insert_with(|| format!("{error:#}"));
                }
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let figures = CellFigures {
        concurrency,
        num_requests: latencies.len() as u64,
        num_errors,
        first_error,
        num_degraded,
        p50_ms: percentile(&latencies, 0.5),
        p95_ms: percentile(&latencies, 0.95),
        p99_ms: percentile(&latencies, 0.99),
        per_sec: latencies.len() as f64 / elapsed.max(1e-9),
        cut_by_budget,
    };
    (figures, answers)
}

/// Scores `answers` (one per query, `None` when unanswered) of one class.
pub fn relevance(class: QueryClass, queries: &[&Query], answers: &[Option<Answer>]) -> Relevance {
    let mut relevance = Relevance::default();
    let mut num_facets_exact = 0;
    for (query, answer) in queries.iter().zip(answers) {
        let Some(answer) = answer else { continue };
        relevance.num_queries += 1;
        let top: Vec<&String> = answer.keys.iter().take(JUDGED_DEPTH).collect();
        if class == QueryClass::LibrarianFilter {
            let possible = (query.num_relevant as usize).min(JUDGED_DEPTH);
            if possible > 0 {
                relevance.recall_at_10 +=
                    answer.num_hits_in_filter.min(possible) as f64 / possible as f64;
            }
            relevance.mrr += if answer.num_hits_in_filter > 0 {
                1.0
            } else {
                0.0
            };
            if answer.facets == query.expected_facets {
                num_facets_exact += 1;
            }
            continue;
        }
        let relevant: HashSet<&str> = query.relevant.iter().map(String::as_str).collect();
        let possible = (query.num_relevant as usize).clamp(1, JUDGED_DEPTH);
        let num_found = top
            .iter()
            .filter(|key| relevant.contains(key.as_str()))
            .count();
        relevance.recall_at_10 += num_found.min(possible) as f64 / possible as f64;
        match top.iter().position(|key| relevant.contains(key.as_str())) {
            Some(rank) => relevance.mrr += 1.0 / (rank + 1) as f64,
            None if relevance.missed.len() < MAX_MISSES_LISTED => {
                relevance.missed.push(query.q.clone());
            }
            None => {}
        }
    }
    if relevance.num_queries > 0 {
        let num_queries = relevance.num_queries as f64;
        relevance.recall_at_10 /= num_queries;
        relevance.mrr /= num_queries;
        if class == QueryClass::LibrarianFilter {
            relevance.facets_exact = Some(f64::from(num_facets_exact) / num_queries);
        }
    }
    relevance
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(number: usize) -> Query {
        Query {
            id: format!("q{number}"),
            class: QueryClass::TitleTypo,
            q: format!("query {number}"),
            filter: None,
            relevant: Vec::new(),
            num_relevant: 0,
            expected_facets: BTreeMap::new(),
        }
    }

    #[tokio::test]
    async fn failed_and_degraded_answers_are_counted_apart_from_the_latencies() {
        let queries: Vec<Query> = (0..4).map(query).collect();
        let queries: Vec<&Query> = queries.iter().collect();
        let (figures, answers) = drive(&queries, 2, Duration::from_secs(60), 8, |query| {
            let number: usize = query.id[1..].parse().unwrap();
            async move {
                match number {
                    0 => anyhow::bail!("search answered 401 Unauthorized"),
                    1 => Ok(Answer {
                        is_degraded: true,
                        ..Answer::default()
                    }),
                    _ => Ok(Answer::default()),
                }
            }
        })
        .await;
        assert_eq!(figures.num_requests, 6);
        assert_eq!(figures.num_errors, 2);
        assert_eq!(figures.num_degraded, 2);
        assert_eq!(
            figures.first_error.as_deref(),
            Some("search answered 401 Unauthorized")
        );
        assert!(answers[0].is_none() && answers[1].is_some());
    }
}
