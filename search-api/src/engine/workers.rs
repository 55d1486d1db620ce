//! The threads on which searches run their parallel parts: the expansion of their words
//! and the search of each shard.
//!
//! Starting threads for every search cost their creation and, more, memory: a new
//! thread's allocator cache is empty, so the first stage's bitsets came from pages the
//! kernel had to zero first. These threads, one per core, live as long as the process;
//! the thread that asks waits for them. With more searches in flight than cores, their
//! parts queue here instead of the cores being shared among more threads than they can
//! run.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use rayon::prelude::*;
use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::error::{ApiError, Result};

/// Runs `work` on every item in parallel and returns the results in the items' order, or
/// the first error in that order; `panicked` names the work in the error of one that
/// panicked.
///
/// # Errors
///
/// The first error of `work`, or an internal error when it panicked.
pub fn try_map<I, R>(
    items: &[I],
    panicked: &'static str,
    work: impl Fn(&I) -> Result<R> + Sync,
) -> Result<Vec<R>>
where
    I: Sync,
    R: Send,
{
    let run = |item: &I| guarded(panicked, || work(item));
    let results: Vec<Result<R>> = match pool() {
        Some(pool) => pool.install(|| items.par_iter().map(run).collect()),
        None => items.iter().map(run).collect(),
    };
    results.into_iter().collect()
}

/// Runs `work` on every item in parallel, each changing its own item.
///
/// # Errors
///
/// The first error of `work`, in the items' order, or an internal error when it panicked.
pub fn try_for_each_mut<I>(
    items: &mut [I],
    panicked: &'static str,
    work: impl Fn(&mut I) -> Result<()> + Sync,
) -> Result<()>
where
    I: Send,
{
    let run = |item: &mut I| guarded(panicked, || work(item));
    let results: Vec<Result<()>> = match pool() {
        Some(pool) => pool.install(|| items.par_iter_mut().map(run).collect()),
        None => items.iter_mut().map(run).collect(),
    };
    results.into_iter().collect()
}

fn guarded<R>(panicked: &'static str, work: impl FnOnce() -> Result<R>) -> Result<R> {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|_| Err(ApiError::internal(panicked)))
}

/// The threads, one per core; `None` when they could not be started, and the work then
/// runs on the thread that asks.
fn pool() -> Option<&'static ThreadPool> {
    static POOL: OnceLock<Option<ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        let num_threads = std::thread::available_parallelism().map_or(1, usize::from);
        ThreadPoolBuilder::new()
            .num_threads(num_threads)
            .thread_name(|index| format!("search-{index}"))
            .build()
            .map_err(|error| {
                tracing::warn!(%error, "cannot start the search threads; searching on one thread");
            })
            .ok()
    })
    .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_items_order_and_the_first_error_wins() {
        let items: Vec<u32> = (0..100).collect();
        let doubled = try_map(&items, "doubling panicked", |item| Ok(item * 2)).unwrap();
        assert_eq!(doubled, (0..100).map(|item| item * 2).collect::<Vec<_>>());

        let error = try_map(&items, "checking panicked", |item| match item {
            7 => Err(ApiError::internal("seven")),
            50 => Err(ApiError::internal("fifty")),
            _ => Ok(()),
        })
        .unwrap_err();
        assert!(format!("{error:?}").contains("seven"), "{error:?}");

        let mut counters = vec![0u32; 10];
        try_for_each_mut(&mut counters, "counting panicked", |counter| {
            *counter += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(counters, vec![1; 10]);
    }

    #[test]
    fn a_panicking_item_is_an_internal_error_and_the_threads_go_on() {
        let items = [1u32, 2, 3];
        let error = try_map(&items, "the test work panicked", |item| {
            assert_ne!(*item, 2, "a deliberate panic");
            Ok(*item)
        })
        .unwrap_err();
        assert!(
            format!("{error:?}").contains("the test work panicked"),
            "{error:?}"
        );
        assert_eq!(
            try_map(&items, "the test work panicked", |item| Ok(*item)).unwrap(),
            vec![1, 2, 3]
        );
    }
}
