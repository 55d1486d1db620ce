//! The service on a real socket on 127.0.0.1, for tests that need what only a socket
//! gives (timeouts, concurrent clients, headers as a client sees them).

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::header::HeaderMap;
use search_api::state::AppState;
use serde_json::Value;

use super::{Options, TestService};

/// The service on a socket, and what the tests send it through.
pub struct Served {
    pub test: TestService,
    pub state: AppState,
    pub url: String,
    pub http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Served {
    /// Starts a [`TestService`] with `options` and serves it on a free port.
    pub async fn start(options: Options) -> Served {
        let mut test = TestService::start(options).await;
        let service = test.service.take().unwrap();
        let state = service.state().clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(service.serve(listener, async {
            let _ = stopped.await;
        }));
        Served {
            test,
            state,
            url: format!("http://{address}"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            stop: Some(stop),
        }
    }

    /// Sends a request and returns its status, headers and JSON body (or `Null`).
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> (u16, HeaderMap, Value, String) {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, headers, json, text)
    }

    /// Posts a search of the `records` index.
    pub async fn search(&self, body: Value) -> (u16, HeaderMap, Value) {
        let (status, headers, json, _) = self
            .send(
                reqwest::Method::POST,
                "/indexes/records/search",
                Some(body),
                None,
            )
            .await;
        (status, headers, json)
    }

    /// Sends a request without a key and returns its status, headers and JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, HeaderMap, Value) {
        let (status, headers, json, _) = self.send(method, path, body, None).await;
        (status, headers, json)
    }

    /// Posts `body` to `path` without a key.
    pub async fn post(&self, path: &str, body: Value) -> (u16, HeaderMap, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// Stops serving.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Holds every engine permit of `state` for `hold`, so that a search sent meanwhile starts
/// after its budget has run out, whatever the speed of the machine.
pub async fn hold_engine_permits(state: &AppState, hold: Duration) -> tokio::task::JoinHandle<()> {
    let permits = state.engine_permits().clone();
    let num_permits = u32::try_from(permits.available_permits()).unwrap();
    let held = permits.acquire_many_owned(num_permits).await.unwrap();
    tokio::spawn(async move {
        tokio::time::sleep(hold).await;
        drop(held);
    })
}
