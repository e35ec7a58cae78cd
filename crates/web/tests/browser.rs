//! End-to-end tests in a real headless browser: Debian's chromium driven through chromedriver
//! (WebDriver) from Rust with fantoccini, against the app served on loopback over a fresh
//! database. `.ci/run` installs chromium and chromium-driver; without them these tests fail
//! loudly, naming what to install.
//!
//! The walk the issue asks for: sign in, log an embassy visit for Nepal and see it on Nepal's
//! page, schedule a meeting and see its planned reminders, draft and approve a joint-approach
//! letter as a coordinator; a staff account cannot approve.

#![allow(clippy::unwrap_used, clippy::expect_used)]
// The walk through the daily work uses every helper; it lands with the pages it walks through.
#![allow(dead_code)]

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use outreach_testkit::{TestDb, db_test};

/// A chromedriver process on a free loopback port, killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver_path() -> String {
    std::env::var("OUTREACH_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into())
}

fn chromium_path() -> String {
    std::env::var("OUTREACH_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

async fn driver() -> Driver {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let path = chromedriver_path();
    let mut child = Command::new(&path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {path}: {e}. Install Debian's chromium and chromium-driver \
                 (apt-get install chromium chromium-driver; .ci/run does) or set OUTREACH_CHROMEDRIVER"
            )
        });
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Driver { child, url };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("chromedriver did not listen on {url} within 10 s");
}

async fn browser(driver: &Driver, width: u32) -> Client {
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium_path(),
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                format!("--window-size={width},900"),
                format!("--user-data-dir={}", profile.keep().display()),
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a headless chromium session through chromedriver")
}

async fn fill(c: &Client, id: &str, value: &str) {
    let e = c
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id}: {e}"));
    e.clear().await.unwrap();
    e.send_keys(value).await.unwrap();
}

async fn select(c: &Client, id: &str, value: &str) {
    let e = c
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id}: {e}"));
    e.select_by_value(value).await.unwrap();
}

/// Sets a date or datetime-local input through script: typing into them is locale-dependent.
async fn set_value(c: &Client, id: &str, value: &str) {
    c.execute(
        "document.getElementById(arguments[0]).value = arguments[1];",
        vec![serde_json::json!(id), serde_json::json!(value)],
    )
    .await
    .unwrap();
}

async fn click(c: &Client, id: &str) {
    c.find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn text_of(c: &Client, css: &str) -> String {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn sign_in(c: &Client, base: &str, handle: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    fill(c, "handle", handle).await;
    fill(c, "password", common::PASSWORD).await;
    c.find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let home = url::Url::parse(&format!("{base}/")).unwrap();
    if c.wait()
        .at_most(Duration::from_secs(10))
        .for_url(&home)
        .await
        .is_err()
    {
        let at = c.current_url().await.unwrap();
        let page = c.source().await.unwrap();
        panic!("signing in as {handle} did not reach the dashboard; at {at}:\n{page}");
    }
}

async fn sign_out(c: &Client) {
    c.find(Locator::Css("form[action='/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn the_dashboard_fits_a_phone(db: &TestDb) {
    let app = common::start(db).await;
    let d = driver().await;
    let c = browser(&d, 390).await;
    sign_in(&c, &app.base, "sam").await;
    // The page itself does not scroll sideways at phone width; wide tables scroll in their box.
    let overflow = c
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(overflow.as_i64(), Some(0), "horizontal overflow at 390px");
    for path in ["/states/NPL", "/engagements/new", "/meetings", "/letters"] {
        c.goto(&format!("{}{path}", app.base)).await.unwrap();
        let overflow = c
            .execute(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            overflow.as_i64(),
            Some(0),
            "horizontal overflow at 390px on {path}"
        );
    }
    c.close().await.unwrap();
}
db_test!(phone_width, the_dashboard_fits_a_phone);
