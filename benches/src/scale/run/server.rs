//! The search API under test: the release binary in a process of its own (so its memory
//! can be read from `/proc`), or the library in this process (for the debug-mode smoke
//! test, which cannot count on the binary being built). Either way it is configured by
//! the harness alone, never by the environment, and requires the run's own master key.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{CommandFactory, FromArgMatches};
use search_api::config::Config;
use search_api::service::Service;

use super::child;

/// Longest wait for the search API to answer ready.
const READY_TIMEOUT: Duration = Duration::from_secs(600);

/// How the search API under test is configured.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Its database.
    pub database_url: String,
    /// Its index directory.
    pub index_dir: PathBuf,
    /// Shards of indexes it would build.
    pub num_shards: usize,
    /// Given-name variant tables.
    pub name_variants: Vec<PathBuf>,
    /// Redis.
    pub redis_url: String,
    /// A Redis key prefix of this run's own.
    pub redis_key_prefix: String,
    /// The run's own master key: every request of the harness sends it as a bearer token.
    /// It is given to the binary in its environment, not on its command line, which
    /// other users of the machine can read.
    pub master_key: String,
}

impl ServerSettings {
    /// Returns the service's options as flags, but for the master key: the response cache
    /// off (`ATLAS_CACHE_TTL_SECS=0`), so a repeated query is answered by the engine and
    /// not by Redis, and rate limits off, so the load is not refused.
    fn args(&self, http_addr: &str) -> Vec<String> {
        let variants: Vec<String> = self
            .name_variants
            .iter()
            .map(|path| path.display().to_string())
            .collect();
        vec![
            format!("--http-addr={http_addr}"),
            format!("--database-url={}", self.database_url),
            format!("--index-dir={}", self.index_dir.display()),
            format!("--shards={}", self.num_shards),
            format!("--redis-url={}", self.redis_url),
            format!("--redis-key-prefix={}", self.redis_key_prefix),
            "--cache-ttl-secs=0".to_owned(),
            "--rate-limit-per-min=0".to_owned(),
            "--env=development".to_owned(),
            "--log-format=text".to_owned(),
            "--log-filter=warn".to_owned(),
            format!("--name-variants={}", variants.join(",")),
        ]
    }
}

/// A running search API.
#[derive(Debug)]
pub enum RunningServer {
    /// The binary.
    Process {
        /// The child process.
        child: tokio::process::Child,
        /// Its base URL.
        base_url: String,
        /// The log its output is appended to.
        log: PathBuf,
    },
    /// The library, serving on a socket of this process.
    InProcess {
        /// Tells the server to stop.
        stop: tokio::sync::oneshot::Sender<()>,
        /// The serving task.
        task: tokio::task::JoinHandle<anyhow::Result<()>>,
        /// Its base URL.
        base_url: String,
    },
}

impl RunningServer {
    /// Starts the binary `binary` and waits until it answers ready.
    ///
    /// # Errors
    /// Fails when it cannot start or is not ready in time.
    pub async fn spawn(
        binary: &Path,
        settings: &ServerSettings,
        log: &Path,
    ) -> anyhow::Result<RunningServer> {
        let http_addr = free_local_addr()?;
        let log_file = child::append_log(log, "search-api")?;
        let child = child::command(binary)
            .args(settings.args(&http_addr))
            .env("ATLAS_MASTER_KEY", &settings.master_key)
            .stdout(Stdio::from(log_file.try_clone()?))
            .stderr(Stdio::from(log_file))
            .spawn()
            .with_context(|| format!("failed to start `{}`", binary.display()))?;
        let mut server = RunningServer::Process {
            child,
            base_url: format!("http://{http_addr}"),
            log: log.to_owned(),
        };
        server.wait_until_ready().await?;
        Ok(server)
    }

    /// Starts the service in this process and waits until it answers ready.
    ///
    /// # Errors
    /// Fails when it cannot start or is not ready in time.
    pub async fn start_in_process(settings: &ServerSettings) -> anyhow::Result<RunningServer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let http_addr = listener.local_addr()?.to_string();
        let mut argv = vec!["search-api".to_owned()];
        argv.extend(settings.args(&http_addr));
        argv.push(format!("--master-key={}", settings.master_key));
        // Every option's `env` is dropped, so that the harness's own environment
        // (`ATLAS_MASTER_KEY`, `ATLAS_INDEXES`, …) cannot change the service under test.
        let matches = Config::command()
            .mut_args(|arg| arg.env(None::<&'static str>))
            .try_get_matches_from(argv)?;
        let config = Config::from_arg_matches(&matches)?;
        let service = Service::start(&config).await?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            service
                .serve(listener, async move {
                    let _ = stopped.await;
                })
                .await
                .map_err(anyhow::Error::from)
        });
        let mut server = RunningServer::InProcess {
            stop,
            task,
            base_url: format!("http://{http_addr}"),
        };
        server.wait_until_ready().await?;
        Ok(server)
    }

    /// Returns the base URL.
    pub fn base_url(&self) -> &str {
        match self {
            RunningServer::Process { base_url, .. } | RunningServer::InProcess { base_url, .. } => {
                base_url
            }
        }
    }

    /// Returns the peak resident memory of the server's process in bytes (`VmHWM`); in
    /// process, that of this whole process.
    pub fn peak_rss_num_bytes(&self) -> Option<u64> {
        match self {
            RunningServer::Process { child, .. } => child.id().and_then(peak_rss_of_pid),
            RunningServer::InProcess { .. } => peak_rss_of("/proc/self/status"),
        }
    }

    async fn wait_until_ready(&mut self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let url = format!("{}/health/ready", self.base_url());
        let started = Instant::now();
        loop {
            if let Ok(response) = client.get(&url).send().await {
                if response.status().is_success() {
                    return Ok(());
                }
            }
            if let RunningServer::Process { child, log, .. } = self {
                if let Some(status) = child.try_wait()? {
                    anyhow::bail!(
                        "the search api exited before it was ready: {status}; the end of its \
                         log `{}`:\n{}",
                        log.display(),
                        child::log_tail(log, 20)
                    );
                }
            }
            anyhow::ensure!(
                started.elapsed() < READY_TIMEOUT,
                "the search api at {} was not ready within {READY_TIMEOUT:?}",
                self.base_url()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops the server.
    ///
    /// # Errors
    /// Fails when the in-process service ended with an error.
    pub async fn stop(self) -> anyhow::Result<()> {
        match self {
            RunningServer::Process { mut child, .. } => {
                child.kill().await.ok();
                Ok(())
            }
            RunningServer::InProcess { stop, task, .. } => {
                let _ = stop.send(());
                task.await?
            }
        }
    }
}

/// Returns `127.0.0.1:{port}` for a port nothing listens on now.
pub fn free_local_addr() -> anyhow::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.to_string())
}

/// Returns the `VmHWM` of process `pid` in bytes.
pub fn peak_rss_of_pid(pid: u32) -> Option<u64> {
    peak_rss_of(&format!("/proc/{pid}/status"))
}

fn peak_rss_of(status_path: &str) -> Option<u64> {
    let status = std::fs::read_to_string(status_path).ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib * 1024)
}
