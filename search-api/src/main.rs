//! `search-api`: serves the Atlas indexes over Meilisearch's HTTP API, following
//! PostgreSQL's change feed. See `search_api::config::Config` for every option.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use search_api::config::{Config, LogFormat};
use search_api::service::Service;
use tracing_subscriber::EnvFilter;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    forget_empty_variables();
    let config = Config::parse();
    init_logging(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "failed to start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "search-api failed");
            ExitCode::FAILURE
        }
    }
}

/// Treats the service's empty variables as unset, as `.env.example` leaves the optional
/// ones (`ATLAS_SHARDS=`); clap would read them as empty values. Runs before any thread.
fn forget_empty_variables() {
    let empty: Vec<_> = std::env::vars_os()
        .filter(|(name, value)| {
            let name = name.to_string_lossy();
            value.is_empty()
                && (name.starts_with("ATLAS_") || name == "DATABASE_URL" || name == "REDIS_URL")
        })
        .map(|(name, _)| name)
        .collect();
    for name in empty {
        std::env::remove_var(name);
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let service = Service::start(&config)
        .await
        .context("failed to start the service")?;
    let listener = tokio::net::TcpListener::bind(config.http_addr)
        .await
        .with_context(|| format!("failed to listen on `{}`", config.http_addr))?;
    service
        .serve(listener, indexer::shutdown::signal())
        .await
        .context("the service stopped with an error")?;
    tracing::info!("stopped");
    Ok(())
}

fn init_logging(config: &Config) {
    let filter = EnvFilter::try_new(&config.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match config.log_format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if json {
        builder.json().with_current_span(true).init();
    } else {
        builder.init();
    }
}
