//! Checks made before a run generates, drops or starts anything: the options, the samples,
//! the directories it writes to, and the PostgreSQL server. Each failure names the option
//! to change.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use super::database::{check_database_name, connect_to_server};
use super::RunOptions;

/// Checks every option of `options` that has a range, naming the option that is wrong.
///
/// # Errors
/// The first option out of range.
pub fn check_options(options: &RunOptions) -> anyhow::Result<()> {
    check_database_name(&options.database_name)
        .map_err(|reason| anyhow::anyhow!("invalid `--database`: {reason}"))?;
    anyhow::ensure!(
        options.size.num_records() >= 1,
        "invalid `--records`/`--size`: the corpus needs at least 1 record"
    );
    anyhow::ensure!(
        options.num_shards >= 1,
        "invalid `--shards`: use at least 1"
    );
    anyhow::ensure!(
        !options.concurrencies.is_empty(),
        "invalid `--concurrency`: give at least one concurrency"
    );
    if let Some(zero) = options.concurrencies.iter().find(|&&c| c == 0) {
        anyhow::bail!("invalid `--concurrency` value `{zero}`: use at least 1");
    }
    anyhow::ensure!(
        options.cell_budget >= Duration::from_secs(1),
        "invalid `--cell-budget-secs`: use at least 1"
    );
    anyhow::ensure!(
        options.follow_rate >= 1,
        "invalid `--follow-rate`: use at least 1 change per second"
    );
    anyhow::ensure!(
        options.follow_secs >= 1,
        "invalid `--follow-secs`: use at least 1"
    );
    anyhow::ensure!(
        options.matcher_sample >= 1,
        "invalid `--matcher-profiles`: use at least 1 (the matcher reads no profile as every \
         profile)"
    );
    Ok(())
}

/// Checks that the samples the corpus is drawn from are there.
///
/// # Errors
/// Names the directory and the option that set it.
pub fn check_samples_dir(samples_dir: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        samples_dir.is_dir(),
        "the samples directory `{}` does not exist; set `--samples-dir` or \
         `ATLAS_SAMPLES_DIR` to the directory holding `names/`, `crossref/`, `openalex/` and \
         `dblp-acm/`",
        samples_dir.display()
    );
    Ok(())
}

/// Creates `dir` if needed and checks that a file can be written in it.
///
/// # Errors
/// Names the directory and `option`, the option that set it.
pub fn check_writable_dir(dir: &Path, option: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the directory `{}` ({option})", dir.display()))?;
    let probe = dir.join(format!(".scale-write-check-{}", std::process::id()));
    std::fs::write(&probe, b"").with_context(|| {
        format!(
            "cannot write in the directory `{}` ({option})",
            dir.display()
        )
    })?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Checks every option, the samples, the work directory and the PostgreSQL server.
///
/// # Errors
/// The first check that fails.
pub async fn check(options: &RunOptions) -> anyhow::Result<()> {
    check_options(options)?;
    check_samples_dir(&options.samples_dir)?;
    check_writable_dir(&options.work_dir, "`--work-dir`")?;
    connect_to_server(&options.server_url).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::scale::Size;

    fn valid_options() -> RunOptions {
        RunOptions {
            size: Size::Smoke,
            seed: 1,
            samples_dir: PathBuf::from("samples"),
            work_dir: PathBuf::from("work"),
            server_url: "postgres://postgres@127.0.0.1:5432/postgres".to_owned(),
            database_name: "atlas_bench_smoke".to_owned(),
            keep_database: false,
            replace_database: false,
            in_process: true,
            bin_dir: PathBuf::from("bin"),
            redis_url: "redis://127.0.0.1:6379".to_owned(),
            num_shards: 2,
            concurrencies: vec![1, 8],
            cell_budget: Duration::from_secs(30),
            follow_rate: 100,
            follow_secs: 20,
            matcher_sample: 100,
            command: String::new(),
        }
    }

    #[test]
    fn each_option_out_of_range_is_refused_by_name() {
        assert!(check_options(&valid_options()).is_ok());
        type BreakOption = fn(&mut RunOptions);
        let cases: [(&str, BreakOption); 10] = [
            ("`--database`", |o| {
                o.database_name = "NEWCOMER_X".to_owned()
            }),
            ("`--database`", |o| o.database_name = "9abc".to_owned()),
            ("`--records`", |o| o.size = Size::Records(0)),
            ("`--shards`", |o| o.num_shards = 0),
            ("`--concurrency`", |o| o.concurrencies = vec![1, 0]),
            ("`--concurrency`", |o| o.concurrencies.clear()),
            ("`--cell-budget-secs`", |o| o.cell_budget = Duration::ZERO),
            ("`--follow-rate`", |o| o.follow_rate = 0),
            ("`--follow-secs`", |o| o.follow_secs = 0),
            ("`--matcher-profiles`", |o| o.matcher_sample = 0),
        ];
        for (option, break_it) in cases {
            let mut options = valid_options();
            break_it(&mut options);
            let error = check_options(&options).expect_err(option).to_string();
            assert!(error.contains(option), "expected {option} in: {error}");
        }
    }

    #[test]
    fn a_missing_samples_dir_is_named_with_its_option() {
        let error = check_samples_dir(Path::new("/nonexistent/samples"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("`/nonexistent/samples`"), "{error}");
        assert!(
            error.contains("`--samples-dir` or `ATLAS_SAMPLES_DIR`"),
            "{error}"
        );
    }

    #[test]
    fn a_work_dir_that_cannot_be_created_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"").unwrap();
        let error = check_writable_dir(&file.join("work"), "`--work-dir`").unwrap_err();
        let message = format!("{error:#}");
        assert!(
            message.contains(&file.join("work").display().to_string()),
            "{message}"
        );
        assert!(message.contains("`--work-dir`"), "{message}");
        check_writable_dir(&dir.path().join("new/work"), "`--work-dir`").unwrap();
        assert_eq!(
            std::fs::read_dir(dir.path().join("new/work"))
                .unwrap()
                .count(),
            0
        );
    }

    #[tokio::test]
    async fn a_dead_server_is_named_without_its_password_and_with_its_option() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("postgres://postgres:secret@127.0.0.1:{port}/postgres");
        let error = connect_to_server(&url).await.unwrap_err();
        let message = format!("{error:#}");
        assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
        assert!(!message.contains("secret"), "{message}");
        assert!(
            message.contains("`--server-url` or `ATLAS_BENCH_DATABASE_URL`"),
            "{message}"
        );
    }
}
