//! The job queue on a real Redis (`ATLAS_TEST_REDIS_URL`), each test on streams of its own.
//!
//! Properties checked:
//! 1. A job that fails twice then succeeds is run three times, acknowledged once, and
//!    leaves nothing pending.
//! 2. A job failing every attempt moves to the dead-letter stream after the last one,
//!    with its error, and is counted.
//! 3. Two workers sharing the stream run each job once, and acknowledge all of them.
//! 4. A job held by a worker that died is taken over by another once idle.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use matcher::metrics::{JobOutcome, WorkerMetrics};
use matcher::queue::{enqueue, Job, JobHandler, QueueConfig, Worker};
use matcher::{Error, Result};
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use uuid::Uuid;

/// Fails each profile job as often as asked, then succeeds; remembers every run.
#[derive(Clone, Default)]
struct ScriptedHandler {
    failures_left: Arc<Mutex<HashMap<Uuid, u32>>>,
    runs: Arc<Mutex<Vec<Uuid>>>,
    successes: Arc<Mutex<Vec<Uuid>>>,
}

impl ScriptedHandler {
    fn fail(&self, profile_id: Uuid, times: u32) {
        self.failures_left.lock().unwrap().insert(profile_id, times);
    }
}

impl JobHandler for ScriptedHandler {
    async fn handle(&self, job: &Job) -> Result<()> {
        let Job::Profile { profile_id, .. } = job else {
            return Ok(());
        };
        self.runs.lock().unwrap().push(*profile_id);
        tokio::time::sleep(Duration::from_millis(5)).await;
        let mut failures = self.failures_left.lock().unwrap();
        if let Some(left) = failures.get_mut(profile_id).filter(|left| **left > 0) {
            *left -= 1;
            return Err(Error::InvalidInput(format!(
                "scripted failure of `{profile_id}`"
            )));
        }
        self.successes.lock().unwrap().push(*profile_id);
        Ok(())
    }
}

struct TestQueue {
    url: String,
    connection: ConnectionManager,
    config: QueueConfig,
}

impl TestQueue {
    async fn new() -> Self {
        let url = std::env::var("ATLAS_TEST_REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
        let client = redis::Client::open(url.as_str()).unwrap();
        let connection = ConnectionManager::new(client)
            .await
            .unwrap_or_else(|error| {
                panic!("tests need Redis at `{url}` (set ATLAS_TEST_REDIS_URL): {error}")
            });
        let prefix = format!("atlas-test-{}", Uuid::now_v7().simple());
        let config = QueueConfig {
            stream: format!("{prefix}:matcher:jobs"),
            dead_stream: format!("{prefix}:matcher:dead"),
            max_attempts: 3,
            retry_base: Duration::from_millis(10),
            retry_max: Duration::from_millis(50),
            claim_idle: Duration::from_millis(300),
            block: Duration::from_millis(50),
            ..QueueConfig::new("worker-a")
        };
        TestQueue {
            url,
            connection,
            config,
        }
    }

    fn config_for(&self, consumer: &str) -> QueueConfig {
        QueueConfig {
            consumer: consumer.to_owned(),
            ..self.config.clone()
        }
    }

    async fn worker(
        &self,
        consumer: &str,
        handler: ScriptedHandler,
    ) -> (Worker<ScriptedHandler>, Arc<WorkerMetrics>) {
        let metrics = Arc::new(WorkerMetrics::new());
        let worker = Worker::new(
            self.connection.clone(),
            self.config_for(consumer),
            handler,
            Arc::clone(&metrics),
        )
        .await
        .unwrap();
        (worker, metrics)
    }

    async fn enqueue_profile(&self, profile_id: Uuid) {
        let mut connection = self.connection.clone();
        enqueue(
            &mut connection,
            &self.config.stream,
            &Job::Profile {
                profile_id,
                since: None,
            },
        )
        .await
        .unwrap();
    }

    async fn num_pending(&self) -> usize {
        let mut connection = self.connection.clone();
        let reply: redis::streams::StreamPendingReply = connection
            .xpending(&self.config.stream, &self.config.group)
            .await
            .unwrap();
        reply.count()
    }

    async fn dead_letters(&self) -> Vec<HashMap<String, String>> {
        let mut connection = self.connection.clone();
        let reply: redis::streams::StreamRangeReply = connection
            .xrange_all(&self.config.dead_stream)
            .await
            .unwrap();
        reply
            .ids
            .into_iter()
            .map(|entry| {
                entry
                    .map
                    .iter()
                    .map(|(key, value)| {
                        (
                            key.clone(),
                            redis::from_redis_value::<String>(value).unwrap(),
                        )
                    })
                    .collect()
            })
            .collect()
    }

    /// Steps `worker` until `done` holds or ten seconds pass.
    async fn drive(worker: &mut Worker<ScriptedHandler>, done: impl Fn() -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the worker did not finish in time"
            );
            worker.step().await.unwrap();
        }
    }
}

impl Drop for TestQueue {
    /// Deletes the test's streams over a connection of its own: the async one belongs to
    /// the test's runtime, which is blocked here.
    fn drop(&mut self) {
        let keys = [self.config.stream.clone(), self.config.dead_stream.clone()];
        if let Ok(mut connection) =
            redis::Client::open(self.url.as_str()).and_then(|client| client.get_connection())
        {
            let _: redis::RedisResult<()> = redis::Commands::del(&mut connection, &keys);
        }
    }
}

#[tokio::test]
async fn a_job_failing_twice_then_succeeding_is_acknowledged_once() {
    let queue = TestQueue::new().await;
    let handler = ScriptedHandler::default();
    let profile_id = Uuid::now_v7();
    handler.fail(profile_id, 2);
    let (mut worker, metrics) = queue.worker("worker-a", handler.clone()).await;
    queue.enqueue_profile(profile_id).await;

    let successes = Arc::clone(&handler.successes);
    TestQueue::drive(&mut worker, || !successes.lock().unwrap().is_empty()).await;

    assert_eq!(*handler.runs.lock().unwrap(), vec![profile_id; 3]);
    assert_eq!(*handler.successes.lock().unwrap(), vec![profile_id]);
    assert_eq!(metrics.count(JobOutcome::Retried), 2);
    assert_eq!(metrics.count(JobOutcome::Succeeded), 1);
    assert_eq!(queue.num_pending().await, 0);
    assert!(queue.dead_letters().await.is_empty());
}

#[tokio::test]
async fn a_job_failing_every_attempt_is_dead_lettered() {
    let queue = TestQueue::new().await;
    let handler = ScriptedHandler::default();
    let profile_id = Uuid::now_v7();
    handler.fail(profile_id, u32::MAX);
    let (mut worker, metrics) = queue.worker("worker-a", handler.clone()).await;
    queue.enqueue_profile(profile_id).await;

    let counted = Arc::clone(&metrics);
    TestQueue::drive(&mut worker, || counted.count(JobOutcome::DeadLettered) == 1).await;

    assert_eq!(handler.runs.lock().unwrap().len(), 3, "max_attempts is 3");
    let dead = queue.dead_letters().await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["profile_id"], profile_id.to_string());
    assert_eq!(dead[0]["attempt"], "3");
    assert!(
        dead[0]["error"].contains("scripted failure"),
        "{:?}",
        dead[0]
    );
    assert_eq!(queue.num_pending().await, 0);
    assert!(metrics
        .encode()
        .contains("atlas_matcher_jobs_dead_lettered_total 1"));
}

#[tokio::test]
async fn two_workers_run_each_job_once() {
    let queue = TestQueue::new().await;
    let handler = ScriptedHandler::default();
    let profile_ids: Vec<Uuid> = (0..20).map(|_| Uuid::now_v7()).collect();
    let (mut first, _) = queue.worker("worker-a", handler.clone()).await;
    let (mut second, _) = queue.worker("worker-b", handler.clone()).await;
    for profile_id in &profile_ids {
        queue.enqueue_profile(*profile_id).await;
    }

    let done = || handler.successes.lock().unwrap().len() >= profile_ids.len();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the workers did not finish in time"
        );
        let (first_step, second_step) = tokio::join!(first.step(), second.step());
        first_step.unwrap();
        second_step.unwrap();
    }

    let mut runs = handler.runs.lock().unwrap().clone();
    runs.sort();
    let mut expected = profile_ids.clone();
    expected.sort();
    assert_eq!(runs, expected, "a job ran twice or not at all");
    assert_eq!(queue.num_pending().await, 0);
}

#[tokio::test]
async fn a_dead_workers_job_is_taken_over() {
    let queue = TestQueue::new().await;
    let handler = ScriptedHandler::default();
    let profile_id = Uuid::now_v7();
    let (mut survivor, metrics) = queue.worker("worker-b", handler.clone()).await;
    queue.enqueue_profile(profile_id).await;

    // A worker reads the job and dies before acknowledging it.
    let mut connection = queue.connection.clone();
    let options = redis::streams::StreamReadOptions::default()
        .group(&queue.config.group, "worker-dead")
        .count(1);
    let taken: redis::streams::StreamReadReply = connection
        .xread_options(&[&queue.config.stream], &[">"], &options)
        .await
        .unwrap();
    assert_eq!(taken.keys[0].ids.len(), 1);
    assert_eq!(queue.num_pending().await, 1);

    // Not yet idle long enough: the survivor leaves it.
    survivor.step().await.unwrap();
    assert!(handler.runs.lock().unwrap().is_empty());

    tokio::time::sleep(queue.config.claim_idle).await;
    let successes = Arc::clone(&handler.successes);
    TestQueue::drive(&mut survivor, || !successes.lock().unwrap().is_empty()).await;
    assert_eq!(*handler.runs.lock().unwrap(), vec![profile_id]);
    assert_eq!(metrics.count(JobOutcome::Succeeded), 1);
    assert_eq!(queue.num_pending().await, 0);
}
