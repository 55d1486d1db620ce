//! The compatibility proof: the official Meilisearch Python client, installed from PyPI into
//! a virtual environment under `target/`, runs `compat/meilisearch_client.py` against the
//! service on a real socket: searches with filter, facets, sort, pagination and
//! highlighting, facet search, multi-search, documents, settings and their task, stats,
//! health, version, keys and a tenant token the client signs. The test fails when the client cannot be
//! installed: a compatibility claim that was not checked is not a pass.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Options, TestService, MASTER_KEY};

/// The client version the script was written against.
const CLIENT_REQUIREMENT: &str = "meilisearch==0.43.0";

/// Returns the Python of a virtual environment holding the client, creating it if needed.
fn python_with_client() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("meilisearch-python-client");
    let python = venv.join("bin").join("python");
    let has_client = python.is_file()
        && Command::new(&python)
            .args(["-c", "import meilisearch"])
            .status()
            .is_ok_and(|status| status.success());
    if has_client {
        return python;
    }
    let created = Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv)
        .output()
        .expect("python3 runs; install python3 and python3-venv");
    assert!(
        created.status.success(),
        "cannot create a virtual environment: {}",
        String::from_utf8_lossy(&created.stderr)
    );
    let installed = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--quiet",
            CLIENT_REQUIREMENT,
        ])
        .output()
        .expect("pip runs");
    assert!(
        installed.status.success(),
        "cannot install `{CLIENT_REQUIREMENT}` from PyPI: {}",
        String::from_utf8_lossy(&installed.stderr)
    );
    python
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_client_works_unchanged() {
    let python = tokio::task::spawn_blocking(python_with_client)
        .await
        .unwrap();
    let mut test = TestService::start(Options {
        master_key: Some(MASTER_KEY),
        ..Options::default()
    })
    .await;
    let service = test.service.take().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(service.serve(listener, async {
        let _ = stopped.await;
    }));

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat/meilisearch_client.py");
    let output = tokio::process::Command::new(&python)
        .arg(&script)
        .env("ATLAS_URL", &url)
        .env("ATLAS_MASTER_KEY", MASTER_KEY)
        .output()
        .await
        .expect("the script runs");
    let _ = stop.send(());
    server.await.unwrap().expect("the service stops cleanly");
    assert!(
        output.status.success(),
        "the Meilisearch client failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("every check passed"));
}
