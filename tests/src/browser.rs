//! Headless Chromium for browser tests, driven through ChromeDriver (WebDriver).
//!
//! The suite runs when `CAIRN_TEST_BROWSER=1` (CI sets it). Then a missing Chromium or
//! ChromeDriver is a failure with the install command, never a silent skip.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};

/// Whether the browser suite was asked for; prints a note when it was not.
pub fn enabled(suite: &str) -> bool {
    if std::env::var("CAIRN_TEST_BROWSER").is_ok_and(|v| v == "1") {
        return true;
    }
    cairn_core::testing::note_not_run(
        &format!("{suite}: browser suite"),
        "set CAIRN_TEST_BROWSER=1 with chromium and chromedriver installed; .ci/run does",
    );
    false
}

/// A ChromeDriver process and a WebDriver session on headless Chromium, both ended on drop.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start() -> Browser {
        let chromium = which("chromium");
        let chromedriver = which("chromedriver");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().unwrap();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector).capabilities(capabilities.clone()).connect(&url).await {
                Ok(client) => break client,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("could not start a Chromium session through chromedriver: {e}"),
            }
        };
        Browser { client, driver, _profile: profile }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn which(program: &str) -> String {
    let found = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|dir| dir.join(program)).find(|p| p.is_file()))
        .unwrap_or_else(|| panic!("{program} is not installed; run: apt-get install -y chromium chromium-driver"));
    found.display().to_string()
}
