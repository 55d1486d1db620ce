//! A search service whose follower finds the change feed pruned past its position rebuilds
//! its indexes, and its searches move to the rebuilt generation: the record whose feed row
//! was pruned becomes searchable without any further change.

mod common;

use axum::http::Method;
use common::{insert_record, wait_until, Options, TestService};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_after_feed_pruning_reaches_the_searches() {
    let mut test = TestService::start(Options::default()).await;
    if let Some(service) = test.service.take() {
        service.stop().await.expect("service stops cleanly");
    }

    // Written while the service is down, and pruned from the feed before it returns.
    insert_record(
        &test.db.pool,
        "W-pruned",
        "Hornwort genomes",
        2021,
        "Ada Lovelace",
    )
    .await;
    let num_pruned = indexer::feed::prune(&test.db.pool, "0 seconds")
        .await
        .unwrap();
    assert!(num_pruned > 0, "nothing was pruned");

    test.restart(Options::default()).await;
    let router = test.router.clone();
    wait_until("the pruned record to be searchable", || {
        let router = router.clone();
        async move {
            let response = common::send(
                &router,
                Method::POST,
                "/indexes/records/search",
                Some(json!({"q": "hornwort"}).to_string()),
                None,
            )
            .await;
            response.json["estimatedTotalHits"] == 1
        }
    })
    .await;
    let status = test.service().state().follower_status();
    assert!(
        status.num_generation_switches >= 1,
        "the follower did not rebuild: {status:?}"
    );
    let stats = test
        .call(Method::GET, "/indexes/records/stats", None, None)
        .await;
    let num_records: i64 = sqlx::query_scalar("select count(*) from current_raw_records")
        .fetch_one(&test.db.pool)
        .await
        .unwrap();
    assert_eq!(stats.json["numberOfDocuments"], num_records);
    test.stop().await;
}
