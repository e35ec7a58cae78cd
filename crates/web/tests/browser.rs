//! End-to-end tests in a real headless browser: Debian's chromium driven through chromedriver
//! (WebDriver) from Rust with fantoccini, against the app served on loopback over a fresh
//! database. `.ci/run` installs chromium and chromium-driver; without them these tests fail
//! loudly, naming what to install.
//!
//! The walk the issue asks for: sign in, log an embassy visit for Nepal and see it on Nepal's
//! page, schedule a meeting and see its planned reminders, draft and approve a joint-approach
//! letter as a coordinator; a staff account cannot approve.

#![allow(clippy::unwrap_used, clippy::expect_used)]

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
    std::env::var("OUTREACH_TEST_CHROMEDRIVER")
        .or_else(|_| std::env::var("OUTREACH_CHROMEDRIVER"))
        .unwrap_or_else(|_| "/usr/bin/chromedriver".into())
}

fn chromium_path() -> String {
    std::env::var("OUTREACH_TEST_CHROMIUM")
        .or_else(|_| std::env::var("OUTREACH_CHROMIUM"))
        .unwrap_or_else(|_| "/usr/bin/chromium".into())
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
                 (`./test --setup-only` does) or set OUTREACH_TEST_CHROMEDRIVER"
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

/// Clicks a button that submits a form, and waits for the page it leads to.
async fn submit(c: &Client, id: &str) {
    let old = c.find(Locator::Css("html")).await.unwrap();
    click(c, id).await;
    for _ in 0..100 {
        if old.tag_name().await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page = c.source().await.unwrap();
    panic!("clicking #{id} did not lead to a new page:\n{page}");
}

async fn text_of(c: &Client, css: &str) -> String {
    let found = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await;
    let Ok(element) = found else {
        let at = c.current_url().await.unwrap();
        let page = c.source().await.unwrap();
        panic!("no {css} on {at}:\n{page}");
    };
    element.text().await.unwrap()
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

async fn the_daily_work_in_a_browser(db: &TestDb) {
    let app = common::start(db).await;
    // A joint-approach letter needs a recipient and the local ICBL member with a contact: the
    // demo data set has them for Nepal.
    let lead = outreach_core::Actor::new("ada", outreach_core::domain::IanaZone::UTC).unwrap();
    outreach_core::demo::load(&app.db, &lead).await.unwrap();
    let base = app.base.clone();
    let d = driver().await;
    let c = browser(&d, 1280).await;

    // Sign in as a coordinator; the dashboard lists Nepal.
    sign_in(&c, &base, "maria").await;
    let body = text_of(&c, "main").await;
    assert!(body.contains("Nepal"), "{body}");

    // Log an embassy visit for Nepal and see it on Nepal's page.
    c.goto(&format!("{base}/engagements/new")).await.unwrap();
    fill(&c, "state", "Nepal").await;
    select(&c, "kind", "embassy_visit").await;
    set_value(&c, "date", "2026-11-30").await;
    fill(
        &c,
        "summary",
        "Met the deputy head of mission about the joint approach",
    )
    .await;
    submit(&c, "engagement-submit").await;
    let timeline = text_of(&c, "#timeline").await;
    assert!(
        timeline.contains("Met the deputy head of mission about the joint approach"),
        "{timeline}"
    );
    assert!(
        c.current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/states/NPL")
    );

    // Schedule a meeting and see its planned reminders.
    c.goto(&format!("{base}/meetings/new?state=NPL"))
        .await
        .unwrap();
    fill(&c, "title", "Capital meeting with the Ministry of Defence").await;
    set_value(&c, "start", "2027-03-10T10:00").await;
    fill(&c, "time_zone", "Asia/Kathmandu").await;
    submit(&c, "meeting-submit").await;
    let reminders = text_of(&c, "#reminders").await;
    assert!(reminders.contains("planned"), "{reminders}");
    let page = text_of(&c, "main").await;
    assert!(page.contains("Asia/Kathmandu"), "{page}");

    // Draft a joint-approach letter, submit it and approve it as a coordinator.
    c.goto(&format!("{base}/letters/new?state=NPL"))
        .await
        .unwrap();
    select(&c, "template", "joint-approach").await;
    submit(&c, "letter-submit").await;
    let status = text_of(&c, "#letter-status").await;
    let letter_url = c.current_url().await.unwrap();
    submit(&c, "letter-submit-review").await;
    let submitted = text_of(&c, "#letter-status").await;
    assert_ne!(status, submitted, "submitting changes the status");
    // Four eyes: the author is not offered the approval; an admin approves it.
    assert!(
        text_of(&c, "#letter-awaits")
            .await
            .contains("other than the author")
    );
    assert!(c.find(Locator::Id("letter-approve")).await.is_err());
    sign_out(&c).await;
    sign_in(&c, &base, "ada").await;
    c.goto(letter_url.as_str()).await.unwrap();
    submit(&c, "letter-approve").await;
    let approved = text_of(&c, "#letter-status").await;
    assert!(approved.to_lowercase().contains("approved"), "{approved}");
    sign_out(&c).await;

    // A staff account can draft and submit a letter but is offered no approval, and the one the
    // coordinator approved stays as it was.
    sign_in(&c, &base, "sam").await;
    c.goto(&format!("{base}/letters/new?state=NPL"))
        .await
        .unwrap();
    select(&c, "template", "joint-approach").await;
    submit(&c, "letter-submit").await;
    text_of(&c, "#letter-status").await;
    submit(&c, "letter-submit-review").await;
    let before = text_of(&c, "#letter-status").await;
    assert!(
        c.find(Locator::Id("letter-approve")).await.is_err(),
        "a staff account is offered no approve button"
    );
    assert!(before.contains("in_review"), "{before}");
    c.goto(letter_url.as_str()).await.unwrap();
    assert!(c.find(Locator::Id("letter-approve")).await.is_err());
    let still = text_of(&c, "#letter-status").await;
    assert!(still.contains("approved"), "{still}");

    c.close().await.unwrap();
}
db_test!(daily_work, the_daily_work_in_a_browser);

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
    for path in [
        "/states/NPL",
        "/engagements/new",
        "/meetings",
        "/meetings/new",
        "/letters",
        "/outbox",
        "/rules",
        "/account",
    ] {
        c.goto(&format!("{}{path}", app.base)).await.unwrap();
        // Folded forms (adding a contact on the state page) are measured open.
        let overflow = c
            .execute(
                "document.querySelectorAll('details').forEach(function (d) { d.open = true; }); \
                 return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
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
