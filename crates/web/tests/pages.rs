//! The dashboard, a state's page, logging an engagement, and the admin pages, against a real
//! server on loopback, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used)]

mod common;

use common::{get, pairs, post_form, signed_in, start};
use outreach_core::Actor;
use outreach_core::directory::{ContactInput, add_contact};
use outreach_core::domain::IanaZone;
use outreach_core::engagements;
use outreach_core::followups::{self, FollowUpInput};
use outreach_testkit::{TestDb, db_test};
use reqwest::StatusCode;

const SCRIPT: &str = "<script>alert(1)</script>";
const DROP: &str = "'); DROP TABLE engagements; --";

fn rows(html: &str) -> usize {
    html.matches("class=\"state-row\"").count()
}

/// The text of the element with `id`, up to the end of its section (or the page).
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    let rest = &html[start..];
    let end = rest.find("</section>").unwrap_or(rest.len());
    &rest[..end]
}

async fn the_dashboard_sorts_filters_and_shows_a_date(db: &TestDb) {
    let app = start(db).await;
    let (c, _) = signed_in(&app.base, "sam").await;

    let (status, html) = get(&c, &app.base, "/?at=2022-06-20").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows(&html), 33, "{html}");
    assert!(html.contains("33 states not party to the APMBC on 2022-06-20"));
    // The column headers sort, keeping the other filters.
    assert!(
        html.contains("href=\"/?sort&#x3D;name&amp;at&#x3D;2022-06-20\""),
        "{html}"
    );
    assert!(html.contains("<a href=\"/states/NPL\">Nepal</a> (NPL)"));

    let (_, one) = get(&c, &app.base, "/?q=nepal&at=2022-06-20").await;
    assert_eq!(rows(&one), 1, "{one}");
    assert!(one.contains("id=\"row-NPL\""));
    let (_, by_code) = get(&c, &app.base, "/?q=npl&at=2022-06-20").await;
    assert_eq!(rows(&by_code), 1);

    // Sorted by name: alphabetical order of the rows.
    let (_, sorted) = get(&c, &app.base, "/?sort=name&at=2022-06-20").await;
    let names: Vec<&str> = sorted
        .split("class=\"state-row\"")
        .skip(1)
        .map(|r| {
            let a = r.find("\">").unwrap() + 2;
            let a = r[a..].find("\">").unwrap() + a + 2;
            &r[a..a + r[a..].find("</a>").unwrap()]
        })
        .collect();
    assert_eq!(names.len(), 33);
    let mut expected = names.clone();
    expected.sort_unstable();
    assert_eq!(names, expected);

    // Status filter: signatories only are fewer than all, and every row says signatory.
    let (_, sig) = get(&c, &app.base, "/?status=signatory&at=2022-06-20").await;
    assert!(rows(&sig) < 33);
    assert_eq!(
        rows(&sig),
        sig.matches("class=\"pill status-signatory\"").count()
    );

    // A bad date is shown beside its field; the page still opens on today.
    let (status, bad) = get(&c, &app.base, "/?at=yesterday").await;
    assert_eq!(status, StatusCode::OK);
    assert!(bad.contains("id=\"err-at\""), "{bad}");
    assert!(bad.contains("value=\"yesterday\""));
    // An unknown treaty too.
    let (status, bad) = get(&c, &app.base, "/?treaty=NOPE").await;
    assert_eq!(status, StatusCode::OK);
    assert!(bad.contains("id=\"err-treaty\""), "{bad}");
    // Another treaty from the selector.
    let (status, ccm) = get(&c, &app.base, "/?treaty=CCM&at=2022-06-20").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ccm.contains("states not party to the CCM"), "{ccm}");
}
db_test!(dashboard, the_dashboard_sorts_filters_and_shows_a_date);

/// The withdrawn states, on the dashboard and in the API: Estonia, Finland, Latvia, Lithuania and
/// Poland by mid-2026, each with the day its withdrawal took effect; none in 2025.
async fn withdrawn_states_are_listed_on_the_dashboard_and_in_the_api(db: &TestDb) {
    let app = start(db).await;
    let (c, _) = signed_in(&app.base, "sam").await;
    let withdrawn = ["EST", "FIN", "LTU", "LVA", "POL"];

    let (status, html) = get(&c, &app.base, "/?status=withdrawn&at=2026-06-01").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows(&html), withdrawn.len(), "{html}");
    for code in withdrawn {
        assert!(
            html.contains(&format!("id=\"row-{code}\"")),
            "{code}: {html}"
        );
    }
    assert!(!html.contains("id=\"row-NPL\""));

    let (status, body) = get(
        &c,
        &app.base,
        "/api/v1/states?status=withdrawn&at=2026-06-01",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rows: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut codes: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["iso3"].as_str().unwrap())
        .collect();
    codes.sort_unstable();
    assert_eq!(codes, withdrawn);
    let fin = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["iso3"] == "FIN")
        .unwrap();
    assert_eq!(fin["status"], "withdrawn");
    assert_eq!(fin["status_since"], "2026-01-10");

    let (_, before) = get(
        &c,
        &app.base,
        "/api/v1/states?status=withdrawn&at=2025-09-01",
    )
    .await;
    assert_eq!(before.trim(), "[]", "{before}");
}
db_test!(
    withdrawn,
    withdrawn_states_are_listed_on_the_dashboard_and_in_the_api
);

async fn the_state_page_has_its_sections_and_canonical_url(db: &TestDb) {
    let app = start(db).await;
    let (c, _) = signed_in(&app.base, "sam").await;
    let (status, html) = get(&c, &app.base, "/states/NPL").await;
    assert_eq!(status, StatusCode::OK);
    for id in [
        "status-history",
        "signals",
        "contacts",
        "grantees",
        "timeline",
        "meetings",
        "follow-ups",
        "letters",
    ] {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "no #{id}");
    }
    assert!(html.contains("Nepal (NPL)"));
    assert!(html.contains("href=\"/engagements/new?state=NPL\""));
    assert!(html.contains("href=\"/meetings/new?state=NPL\""));
    assert!(!html.contains("id=\"notice\""));
    // Nepal is not party to the APMBC: no events under it, so the history says so.
    assert!(section(&html, "status-history").contains("APMBC"));

    for alias in ["npl", "Nepal", "NP"] {
        let res = c
            .get(format!("{}/states/{alias}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{alias}");
        assert_eq!(res.headers()["location"], "/states/NPL");
    }
    let (status, html) = get(&c, &app.base, "/states/NEP").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("did you mean NPL (Nepal)"), "{html}");
    // No close name: a link to where every state is, and no command line.
    let (status, html) = get(&c, &app.base, "/states/Atlantis").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("See every state on the dashboard"), "{html}");
    assert!(!html.contains("outreach states"), "{html}");
}
db_test!(
    state_page,
    the_state_page_has_its_sections_and_canonical_url
);

/// Records show their own titles: the page's title (the layout's) never stands in for a record's
/// missing one, and a meeting is titled by its own title, not by its state.
async fn records_show_their_own_titles(db: &TestDb) {
    let app = start(db).await;
    let actor = Actor::new("maria", IanaZone::UTC).unwrap();
    for (name, title) in [("Asha Gurung", None), ("Bikash Rai", Some("Ambassador"))] {
        add_contact(
            &app.db,
            &actor,
            &ContactInput {
                name: name.into(),
                title: title.map(str::to_owned),
                role: Some("Campaign coordinator".into()),
                organisation: None,
                state: Some("NPL".into()),
                email: None,
                languages: None,
                time_zone: None,
                phone: None,
                notes: None,
            },
        )
        .await
        .unwrap();
    }
    let day = (chrono::Utc::now() + chrono::Duration::days(30)).format("%Y-%m-%d");
    let tx = outreach_core::db::begin(&app.db).await.unwrap();
    outreach_core::meetings::schedule_in(
        &tx,
        &actor,
        &outreach_core::meetings::MeetingInput {
            state: "NPL".into(),
            title: "Talks on stockpile destruction".into(),
            at: format!("{day} 10:00"),
            tz: None,
            duration: None,
            place: None,
            with: Vec::new(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let (c, _) = signed_in(&app.base, "maria").await;
    let (status, html) = get(&c, &app.base, "/states/NPL").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<title>Nepal · outreach</title>"), "{html}");
    let contacts = section(&html, "contacts");
    // No title: the role alone, not "Nepal · Campaign coordinator".
    assert!(
        contacts.contains("<td>Asha Gurung</td><td> · Campaign coordinator</td>"),
        "{contacts}"
    );
    let rows = &contacts[contacts.find("<tbody>").unwrap()..contacts.find("</tbody>").unwrap()];
    assert!(!rows.contains("Nepal"), "{rows}");
    assert!(
        contacts.contains("<td>Bikash Rai</td><td>Ambassador · Campaign coordinator</td>"),
        "{contacts}"
    );
    let meetings = section(&html, "meetings");
    assert!(
        meetings.contains("\">Talks on stockpile destruction</a>"),
        "{meetings}"
    );
    assert!(!meetings.contains("\">Nepal</a>"), "{meetings}");

    // Each letter template by its own title, not the page's ("Draft a letter").
    let (status, html) = get(&c, &app.base, "/letters/new?state=NPL").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<title>Draft a letter · outreach</title>"));
    let titles = outreach_letters::templates::LetterTemplates::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates"),
    )
    .unwrap()
    .list();
    assert!(titles.len() >= 5, "{titles:?}");
    for t in titles {
        assert!(
            html.contains(&format!(">{} (", t.title)),
            "no option titled {:?}: {html}",
            t.title
        );
    }
    assert!(!html.contains(">Draft a letter ("), "{html}");
}
db_test!(titles, records_show_their_own_titles);

async fn an_embassy_visit_logged_through_the_form_shows_on_nepals_page(db: &TestDb) {
    let app = start(db).await;
    let (c, csrf) = signed_in(&app.base, "maria").await;
    let (status, form) = get(&c, &app.base, "/engagements/new?state=npl").await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("id=\"engagement-form\""));
    assert!(form.contains("name=\"state\" value=\"NPL\""), "{form}");
    assert!(form.contains("name=\"follow_up_owner\" value=\"maria\""));
    assert!(form.contains("id=\"engagement-submit\""));

    // Search as you type finds staff and contacts.
    let found: serde_json::Value = c
        .get(format!("{}/search/participants?q=sa", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        found
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["value"] == "sam"),
        "{found}"
    );

    let (status, location, body) = post_form(
        &c,
        &app.base,
        "/engagements",
        &[
            ("csrf", csrf.as_str()),
            ("state", "Nepal"),
            ("kind", "embassy_visit"),
            ("date", "2026-01-15"),
            ("participants", "sam"),
            ("summary", "Met the ambassador about the Mine Ban Treaty"),
            ("outcome", "Will raise it with the ministry"),
            ("stance", "open"),
            ("follow_up", "Send the accession kit"),
            ("follow_up_due", "2026-02-01"),
            ("follow_up_owner", "sam"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(location.as_deref(), Some("/states/NPL?logged=1"));

    let (_, html) = get(&c, &app.base, "/states/NPL?logged=1").await;
    assert!(html.contains("<p class=\"notice\" id=\"notice\">Engagement logged.</p>"));
    let timeline = section(&html, "timeline");
    assert!(timeline.contains("2026-01-15"), "{timeline}");
    assert!(timeline.contains("embassy visit"));
    assert!(timeline.contains("Met the ambassador about the Mine Ban Treaty"));
    assert!(timeline.contains("Will raise it with the ministry"));
    assert!(timeline.contains("With maria, sam"), "{timeline}");
    let follow = section(&html, "follow-ups");
    assert!(follow.contains("Send the accession kit"), "{follow}");
    assert!(follow.contains("2026-02-01"));
    assert!(follow.contains("sam"));

    // The admin sees its audit record.
    let (admin, _) = signed_in(&app.base, "ada").await;
    let (status, audit) = get(&admin, &app.base, "/audit?action=engagement.log").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(audit.matches("class=\"audit-row\"").count(), 1, "{audit}");
    assert!(audit.contains("maria"));
    assert!(audit.contains("NPL"));
    let (_, by_actor) = get(&admin, &app.base, "/audit?actor=maria").await;
    for action in ["engagement.log", "engagement.participants", "follow_up.add"] {
        assert!(by_actor.contains(action), "{action}: {by_actor}");
    }
    let (_, nobody) = get(&admin, &app.base, "/audit?actor=nobody").await;
    assert_eq!(nobody.matches("class=\"audit-row\"").count(), 0);
}
db_test!(
    log_engagement,
    an_embassy_visit_logged_through_the_form_shows_on_nepals_page
);

async fn a_bad_value_comes_back_beside_its_field_with_nothing_written(db: &TestDb) {
    let app = start(db).await;
    let (c, csrf) = signed_in(&app.base, "maria").await;
    let typed = "We met the deputy minister; keep this text";
    let (status, _, html) = post_form(
        &c,
        &app.base,
        "/engagements",
        &[
            ("csrf", csrf.as_str()),
            ("state", "NEP"),
            ("kind", "embassy_visit"),
            ("date", "2026-01-15"),
            ("participants", ""),
            ("summary", typed),
            ("outcome", "Positive"),
            ("stance", "supportive"),
            ("follow_up", ""),
            ("follow_up_due", ""),
            ("follow_up_owner", "maria"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let at = html.find("id=\"err-state\"").expect("error beside state");
    assert!(html[at..].contains("did you mean NPL"), "{html}");
    assert!(html.contains(typed), "summary kept");
    assert!(html.contains(">Positive</textarea>"), "outcome kept");
    assert!(
        html.contains("value=\"supportive\" selected"),
        "stance kept"
    );
    assert!(html.contains("value=\"NEP\""), "state kept");
    assert!(
        engagements::for_state(
            &app.db,
            "NPL",
            &outreach_core::access::Reader {
                handle: None,
                cleared: true
            }
        )
        .await
        .unwrap()
        .is_empty()
    );

    // An unknown contact and a bad follow-up owner: each beside its field, still nothing written.
    let (status, _, html) = post_form(
        &c,
        &app.base,
        "/engagements",
        &[
            ("csrf", csrf.as_str()),
            ("state", "NPL"),
            ("kind", "call"),
            ("date", "2026-01-15"),
            ("participants", "Nobody Known"),
            ("summary", typed),
            ("follow_up", "Call back"),
            ("follow_up_owner", "nobody"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"err-follow_up_owner\""), "{html}");
    let (status, _, html) = post_form(
        &c,
        &app.base,
        "/engagements",
        &[
            ("csrf", csrf.as_str()),
            ("state", "NPL"),
            ("kind", "call"),
            ("date", "2026-01-15"),
            ("participants", "Nobody Known"),
            ("summary", typed),
            ("follow_up", "Call back"),
            ("follow_up_owner", "maria"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let at = html.find("id=\"err-participants\"").expect("{html}");
    assert!(html[at..].contains("Nobody Known"));
    assert!(html.contains("value=\"Call back\""));
    // A date in the future, caught by the core after the pre-checks.
    let (status, _, html) = post_form(
        &c,
        &app.base,
        "/engagements",
        &[
            ("csrf", csrf.as_str()),
            ("state", "NPL"),
            ("kind", "call"),
            ("date", "2999-01-01"),
            ("summary", typed),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"err-date\""), "{html}");
    assert!(
        engagements::for_state(
            &app.db,
            "NPL",
            &outreach_core::access::Reader {
                handle: None,
                cleared: true
            }
        )
        .await
        .unwrap()
        .is_empty()
    );
    assert!(
        outreach_core::followups::list(
            &app.db,
            chrono::Utc::now().date_naive(),
            true,
            None,
            None,
            &outreach_core::access::Reader {
                handle: None,
                cleared: true
            }
        )
        .await
        .unwrap()
        .is_empty()
    );
}
db_test!(
    validation,
    a_bad_value_comes_back_beside_its_field_with_nothing_written
);

async fn injection_in_every_shown_field_is_stored_and_shown_inert(db: &TestDb) {
    let app = start(db).await;
    let admin = Actor::new("admin", IanaZone::UTC).unwrap();
    add_contact(
        &app.db,
        &admin,
        &ContactInput {
            name: SCRIPT.into(),
            state: Some("NPL".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let (c, csrf) = signed_in(&app.base, "sam").await;
    let (status, _, body) = post_form(
        &c,
        &app.base,
        "/engagements",
        &[
            ("csrf", csrf.as_str()),
            ("state", "NPL"),
            ("kind", "statement"),
            ("date", "2026-01-10"),
            ("participants", SCRIPT),
            ("summary", SCRIPT),
            ("outcome", DROP),
            ("follow_up", DROP),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let stored = engagements::for_state(
        &app.db,
        "NPL",
        &outreach_core::access::Reader {
            handle: None,
            cleared: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(stored.len(), 1, "the engagements table is still there");
    assert_eq!(stored[0].summary, SCRIPT);
    assert_eq!(stored[0].outcome.as_deref(), Some(DROP));
    assert!(stored[0].participants.contains(&SCRIPT.to_owned()));

    let (_, html) = get(&c, &app.base, "/states/NPL").await;
    assert!(!html.contains(SCRIPT), "{html}");
    let timeline = section(&html, "timeline");
    assert!(
        timeline.contains("<p class=\"summary\">&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        "{timeline}"
    );
    assert!(timeline.contains("With sam, &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        timeline.contains("&#x27;); DROP TABLE engagements; --"),
        "{timeline}"
    );
    assert!(section(&html, "follow-ups").contains("&#x27;); DROP TABLE engagements; --"));
    assert!(section(&html, "contacts").contains("&lt;script&gt;"));

    // Shown back inert on a failed form too.
    let (status, _, html) = post_form(
        &c,
        &app.base,
        "/engagements",
        &[
            ("csrf", csrf.as_str()),
            ("state", SCRIPT),
            ("kind", "statement"),
            ("summary", SCRIPT),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!html.contains(SCRIPT), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // And on the dashboard's search box.
    let (_, html) = get(&c, &app.base, "/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert!(!html.contains(SCRIPT));
}
db_test!(
    injection,
    injection_in_every_shown_field_is_stored_and_shown_inert
);

async fn staff_are_refused_the_admin_pages_and_forms_need_their_token(db: &TestDb) {
    let app = start(db).await;
    let (sam, sam_csrf) = signed_in(&app.base, "sam").await;
    for path in ["/audit", "/users"] {
        let (status, html) = get(&sam, &app.base, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(html.contains("you are signed in as sam (staff)"), "{html}");
    }
    let (status, _, _) = post_form(
        &sam,
        &app.base,
        "/users",
        &[
            ("csrf", sam_csrf.as_str()),
            ("handle", "sam"),
            ("role", "admin"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (coord, _) = signed_in(&app.base, "maria").await;
    assert_eq!(
        get(&coord, &app.base, "/audit").await.0,
        StatusCode::FORBIDDEN
    );

    // A form posted without its token is refused and writes nothing.
    let (status, _, _) = post_form(
        &sam,
        &app.base,
        "/engagements",
        &[("state", "NPL"), ("kind", "call"), ("summary", "no token")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post_form(
        &sam,
        &app.base,
        "/engagements",
        &[
            ("csrf", "forged"),
            ("state", "NPL"),
            ("kind", "call"),
            ("summary", "forged token"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        engagements::for_state(
            &app.db,
            "NPL",
            &outreach_core::access::Reader {
                handle: None,
                cleared: true
            }
        )
        .await
        .unwrap()
        .is_empty()
    );

    // The admin sees the accounts, changes a role, adds a user and sets a password.
    let (ada, csrf) = signed_in(&app.base, "ada").await;
    let (status, html) = get(&ada, &app.base, "/users").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"user-sam\""));
    assert!(html.contains("sam@example.org"));
    let (status, _, _) = post_form(
        &ada,
        &app.base,
        "/users",
        &[("handle", "sam"), ("role", "admin")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no token");
    let (status, location, _) = post_form(
        &ada,
        &app.base,
        "/users",
        &[
            ("csrf", csrf.as_str()),
            ("handle", "sam"),
            ("role", "coordinator"),
            ("time_zone", "Asia/Kathmandu"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/users?saved=sam"));
    let sam_row = outreach_core::actor::find_user(&app.db, "sam")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sam_row.role, "coordinator");
    assert_eq!(sam_row.time_zone, "Asia/Kathmandu");
    assert_eq!(sam_row.email.as_deref(), Some("sam@example.org"));

    let (status, _, html) = post_form(
        &ada,
        &app.base,
        "/users",
        &[
            ("csrf", csrf.as_str()),
            ("handle", "lena"),
            ("name", "Lena <b>Ko</b>"),
            ("email", "not an email"),
            ("role", "staff"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"err-email\""), "{html}");
    assert!(
        html.contains("value=\"Lena &lt;b&gt;Ko&lt;/b&gt;\""),
        "{html}"
    );
    assert!(
        outreach_core::actor::find_user(&app.db, "lena")
            .await
            .unwrap()
            .is_none()
    );

    let (status, _, html) = post_form(
        &ada,
        &app.base,
        "/users/password",
        &[
            ("csrf", csrf.as_str()),
            ("handle", "sam"),
            ("password", "short"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"err-password\""), "{html}");
    let (status, location, _) = post_form(
        &ada,
        &app.base,
        "/users/password",
        &[
            ("csrf", csrf.as_str()),
            ("handle", "sam"),
            ("password", "a brand new password"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/users?password=sam"));
    let fresh = common::client();
    let res = common::sign_in(&fresh, &app.base, "sam", "a brand new password").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let (_, audit) = get(&ada, &app.base, "/audit?actor=ada").await;
    assert!(audit.contains("user.save"), "{audit}");
    assert!(audit.contains("Asia/Kathmandu"));
}
db_test!(
    admin_pages,
    staff_are_refused_the_admin_pages_and_forms_need_their_token
);

async fn contacts_organisations_and_follow_ups_on_the_state_page(db: &TestDb) {
    let app = start(db).await;
    let (c, csrf) = signed_in(&app.base, "sam").await;
    let (_, page) = get(&c, &app.base, "/states/NPL").await;
    assert!(page.contains("id=\"add-contact\""));
    assert!(page.contains("id=\"add-organisation\""));

    // An organisation: the local ICBL member.
    let (status, location, _) = post_form(
        &c,
        &app.base,
        "/states/NPL/organisations",
        &[
            ("csrf", csrf.as_str()),
            ("name", "Nepal Campaign to Ban Landmines"),
            ("kind", "icbl-member"),
            ("email", ""),
            ("website", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    assert_eq!(location, "/states/NPL?added=organisation#contacts");
    let (_, page) = get(&c, &app.base, &location).await;
    assert!(page.contains("Organisation added."));
    assert!(
        section(&page, "contacts").contains("Nepal Campaign to Ban Landmines"),
        "{page}"
    );
    assert!(section(&page, "contacts").contains("ICBL member"));
    let org_id = {
        let at = page
            .find("\">Nepal Campaign to Ban Landmines</option>")
            .unwrap();
        let start = page[..at].rfind("value=\"").unwrap() + 7;
        page[start..at].to_owned()
    };

    // A bad email comes back beside its field, with everything typed kept and nothing written.
    let contact = |email: &'static str, name: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", name.to_owned()),
            ("title", "Coordinator".to_owned()),
            ("role", String::new()),
            ("organisation", org_id.clone()),
            ("email", email.to_owned()),
            ("languages", "en, ne".to_owned()),
            ("phone", String::new()),
        ]
    };
    let bad = contact("not-an-email", "Sita Sharma");
    let fields: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, page) = post_form(&c, &app.base, "/states/NPL/contacts", &fields).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("id=\"err-contact-email\""), "{page}");
    assert!(page.contains("value=\"Sita Sharma\""));
    assert!(page.contains("value=\"not-an-email\""));
    assert!(page.contains("id=\"add-contact\" open"));
    assert!(page.contains(&format!("value=\"{org_id}\" selected")));
    assert!(!section(&page, "contacts").contains("<td>Sita Sharma</td>"));

    let good = contact("sita@example.org", "Sita Sharma");
    let fields: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, location, _) = post_form(&c, &app.base, "/states/NPL/contacts", &fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = get(&c, &app.base, &location.unwrap()).await;
    assert!(page.contains("Contact added."));
    let contacts = section(&page, "contacts");
    assert!(contacts.contains("<td>Sita Sharma</td>"), "{contacts}");
    assert!(contacts.contains("sita@example.org"));
    // The same contact again is refused as a duplicate, beside the name.
    let (status, _, page) = post_form(&c, &app.base, "/states/NPL/contacts", &fields).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"err-contact-name\""));
    assert!(page.contains("already recorded"));
    // A script in a name is stored and shown inert.
    let inert = contact("", SCRIPT);
    let fields: Vec<(&str, &str)> = inert.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, location, _) = post_form(&c, &app.base, "/states/NPL/contacts", &fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = get(&c, &app.base, &location.unwrap()).await;
    assert!(!page.contains(SCRIPT));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // SQL in an organisation's name is stored as text and shown inert.
    let (status, location, _) = post_form(
        &c,
        &app.base,
        "/states/NPL/organisations",
        &[("csrf", csrf.as_str()), ("name", DROP), ("kind", "ngo")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = get(&c, &app.base, &location.unwrap()).await;
    assert!(
        section(&page, "contacts").contains("&#x27;); DROP TABLE engagements; --"),
        "{page}"
    );
    // Without its token the form is refused.
    let (status, _, _) = post_form(
        &c,
        &app.base,
        "/states/NPL/organisations",
        &[("name", "Other")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Grants: coordinators and admins record them; staff get no form and are refused.
    assert!(!page.contains("id=\"add-grant\""));
    let grant = |amount: &'static str, due: &'static str| {
        vec![
            ("organisation", org_id.clone()),
            ("year", "2026".to_owned()),
            ("amount", amount.to_owned()),
            ("currency", "usd".to_owned()),
            ("purpose", "Outreach to the defence ministry".to_owned()),
            ("reports_due", due.to_owned()),
        ]
    };
    let post_grant = |c: reqwest::Client, csrf: String, mut form: Vec<(&'static str, String)>| {
        let base = app.base.clone();
        async move {
            form.push(("csrf", csrf));
            post_form(&c, &base, "/states/NPL/grants", &pairs(&form)).await
        }
    };
    let (status, _, body) = post_grant(c.clone(), csrf.clone(), grant("20000", "")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("record grants"));
    let (maria, maria_csrf) = signed_in(&app.base, "maria").await;
    let (_, page) = get(&maria, &app.base, "/states/NPL").await;
    assert!(
        page.contains("id=\"add-grant\""),
        "{}",
        section(&page, "grantees")
    );
    let (status, _, page) = post_grant(
        maria.clone(),
        maria_csrf.clone(),
        grant("lots", "2027-06-30"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"err-grant-amount\""), "{page}");
    assert!(page.contains("value=\"lots\""));
    assert!(page.contains("id=\"add-grant\" open"));
    let (status, _, page) = post_grant(
        maria.clone(),
        maria_csrf.clone(),
        grant("20000", "2027-02-30"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"err-grant-reports_due\""), "{page}");
    assert!(section(&page, "grantees").contains("No grants recorded."));
    let (status, location, _) = post_grant(
        maria.clone(),
        maria_csrf.clone(),
        grant("20,000", "2027-06-30, 2027-12-31"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = get(&maria, &app.base, &location.unwrap()).await;
    assert!(page.contains("Grant added"));
    let grantees = section(&page, "grantees");
    assert!(
        grantees.contains("Nepal Campaign to Ban Landmines"),
        "{grantees}"
    );
    assert!(grantees.contains("USD"), "{grantees}");
    assert!(grantees.contains("2027-06-30, 2027-12-31"), "{grantees}");

    // Meeting participants are contacts: their search leaves staff out.
    let search = |q: &'static str| {
        let c = c.clone();
        let base = app.base.clone();
        async move {
            c.get(format!("{base}/search/participants?only=contacts&q={q}"))
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let found = search("sita").await;
    assert_eq!(found[0]["value"], "sita@example.org", "{found}");
    assert_eq!(search("sam").await, serde_json::json!([]));
    let (_, form) = get(&c, &app.base, "/meetings/new?state=NPL").await;
    assert!(
        form.contains("data-search=\"/search/participants?only=contacts\""),
        "{form}"
    );
    assert!(form.contains("id=\"participants-list\""));

    // A follow-up is marked done from the page.
    let actor = Actor::new("sam", IanaZone::UTC).unwrap();
    let f = followups::add(
        &app.db,
        &actor,
        &FollowUpInput {
            state: Some("NPL".into()),
            description: "Send the treaty text".into(),
            ..FollowUpInput::default()
        },
    )
    .await
    .unwrap();
    let (_, page) = get(&c, &app.base, "/states/NPL").await;
    assert!(section(&page, "follow-ups").contains("Send the treaty text"));
    assert!(page.contains(&format!("id=\"done-{}\"", f.id)));
    let (status, location, _) = post_form(
        &c,
        &app.base,
        &format!("/follow-ups/{}/done", f.id),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    assert_eq!(location, "/states/NPL?done=1#follow-ups");
    let (_, page) = get(&c, &app.base, &location).await;
    assert!(page.contains("Follow-up marked done."));
    assert!(!section(&page, "follow-ups").contains("Send the treaty text"));
    // Twice is a conflict, said plainly.
    let (status, _, _) = post_form(
        &c,
        &app.base,
        &format!("/follow-ups/{}/done", f.id),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
}
db_test!(
    state_page_forms,
    contacts_organisations_and_follow_ups_on_the_state_page
);

/// A grant's page: its progress, a report marked submitted with the button (coordinators), a
/// deliverable added and marked done, an engagement logged against it from the log form; the
/// state page links to it; staff read it but cannot change it; refused forms say why.
async fn a_grants_page_shows_its_progress_and_takes_reports_and_deliverables(db: &TestDb) {
    use outreach_core::directory::{self, GrantInput, OrganisationInput};
    let app = start(db).await;
    let maria = Actor::new("maria", IanaZone::UTC).unwrap();
    directory::add_organisation(
        &app.db,
        &maria,
        &OrganisationInput {
            name: "Landmine Free Nepal".into(),
            state: Some("NPL".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let g = directory::add_grant(
        &app.db,
        &maria,
        &GrantInput {
            organisation: "Landmine Free Nepal".into(),
            year: 2026,
            amount: "20000".into(),
            currency: "USD".into(),
            reports_due: vec!["2026-06-30".into(), "2027-06-30".into()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let page_of = format!("/grants/{}", g.id);
    let (coord, csrf) = signed_in(&app.base, "maria").await;
    let (sam, sam_csrf) = signed_in(&app.base, "sam").await;

    // The state page's grantee section links to the grant's page, with its progress.
    let (_, state) = get(&sam, &app.base, "/states/NPL").await;
    let grantees = section(&state, "grantees");
    assert!(
        grantees.contains(&format!("href=\"{page_of}\"")),
        "{grantees}"
    );
    assert!(
        grantees.contains("0 of 0 deliverables done, 0 of 2 reports submitted"),
        "{grantees}"
    );
    // Staff read the page but get no buttons, and the server refuses them anyway.
    let (status, page) = get(&sam, &app.base, &page_of).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Landmine Free Nepal"));
    assert!(!page.contains("Mark submitted"), "{page}");
    let detail = outreach_core::grants::show(
        &app.db,
        &g.id.to_string(),
        maria.today(),
        &outreach_core::access::Reader::outside(),
    )
    .await
    .unwrap();
    let report = detail.reports[0].id.to_string();
    let (status, _, _) = post_form(
        &sam,
        &app.base,
        &format!("/grant-reports/{report}/submit"),
        &[("csrf", sam_csrf.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The coordinator marks the first report submitted.
    let (_, page) = get(&coord, &app.base, &page_of).await;
    assert_eq!(page.matches("Mark submitted").count(), 2, "{page}");
    let (status, location, body) = post_form(
        &coord,
        &app.base,
        &format!("/grant-reports/{report}/submit"),
        &[("csrf", csrf.as_str()), ("on", "2026-06-28")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(
        location.as_deref(),
        Some(format!("{page_of}?done=submitted#reports").as_str())
    );
    let (_, page) = get(&coord, &app.base, &format!("{page_of}?done=submitted")).await;
    assert!(page.contains("its reminders stop"), "{page}");
    let reports = section(&page, "reports");
    assert!(reports.contains("2026-06-28 by maria"), "{reports}");
    assert_eq!(reports.matches("Mark submitted").count(), 1, "{reports}");
    // Again: refused, with the reason beside the report.
    let (status, _, page) = post_form(
        &coord,
        &app.base,
        &format!("/grant-reports/{report}/submit"),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("already marked submitted on 2026-06-28 by maria"),
        "{page}"
    );

    // A deliverable: refused with a bad date (typed text kept), then added.
    let add = format!("{page_of}/deliverables");
    let (status, _, page) = post_form(
        &coord,
        &app.base,
        &add,
        &[
            ("csrf", csrf.as_str()),
            ("what", "Workshop with parliamentarians"),
            ("due", "2026-02-30"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"err-add-deliverable\">due:"), "{page}");
    assert!(
        page.contains("value=\"Workshop with parliamentarians\""),
        "{page}"
    );
    let (status, _, body) = post_form(
        &coord,
        &app.base,
        &add,
        &[
            ("csrf", csrf.as_str()),
            ("what", "Workshop with parliamentarians"),
            ("due", "2026-09-30"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let d = outreach_core::grants::deliverables(&app.db, &g.id.to_string(), maria.today())
        .await
        .unwrap()
        .remove(0);
    assert_eq!(d.status, "planned");

    // Staff log the workshop from the log form, naming the deliverable.
    let (status, _, body) = post_form(
        &sam,
        &app.base,
        "/engagements",
        &[
            ("csrf", sam_csrf.as_str()),
            ("state", "NPL"),
            ("kind", "capital-meeting"),
            (
                "summary",
                "Workshop held with the foreign affairs committee",
            ),
            ("deliverable", d.short_id.as_str()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    // A deliverable that does not exist is refused beside its field.
    let (status, _, page) = post_form(
        &sam,
        &app.base,
        "/engagements",
        &[
            ("csrf", sam_csrf.as_str()),
            ("state", "NPL"),
            ("kind", "call"),
            ("deliverable", "0000abcd"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"err-deliverable\""), "{page}");

    // Marked done; the page adds it all up.
    let (status, _, body) = post_form(
        &coord,
        &app.base,
        &format!("/deliverables/{}", d.id),
        &[("csrf", csrf.as_str()), ("status", "done")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (_, page) = get(&sam, &app.base, &page_of).await;
    assert!(
        page.contains("1 of 1 deliverable done, 1 of 2 reports submitted"),
        "{page}"
    );
    let linked = section(&page, "engagements");
    assert!(
        linked.contains("Workshop held with the foreign affairs committee"),
        "{linked}"
    );
    assert!(
        linked.contains("Workshop with parliamentarians"),
        "{linked}"
    );

    // The API says the same; staff may read it, not mark reports.
    let (status, json) = get(&sam, &app.base, &format!("/api/v1/grants/{}", g.id)).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["grant"]["progress"]["deliverables_done"], 1);
    assert_eq!(v["reports"][0]["submitted_by"], "maria");
    assert_eq!(v["engagements"][0]["deliverable_id"], d.id.to_string());
    let res = sam
        .post(format!(
            "{}/api/v1/grant-reports/{}/submit",
            app.base, detail.reports[1].id
        ))
        .header("x-csrf-token", &sam_csrf)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = coord
        .post(format!(
            "{}/api/v1/grant-reports/{}/submit",
            app.base, detail.reports[1].short_id
        ))
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({"on": "2025-12-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let r: serde_json::Value = res.json().await.unwrap();
    assert_eq!(r["submitted_on"], "2025-12-01");
}
db_test!(
    grant_page,
    a_grants_page_shows_its_progress_and_takes_reports_and_deliverables
);

/// Every page starts with a skip link to its content, and an error page (here "Forbidden" and a
/// state that does not exist) keeps the app's navigation, so it is never a dead end (issue 15
/// item 7).
async fn pages_have_a_skip_link_and_errors_keep_the_navigation_check(db: &TestDb) {
    let app = start(db).await;
    let (c, _) = signed_in(&app.base, "sam").await;
    for path in ["/", "/states/NPL", "/signals", "/meetings", "/letters"] {
        let (status, page) = get(&c, &app.base, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            page.contains("<a class=\"skip\" href=\"#main\">Skip to content</a>"),
            "{path}: {page}"
        );
        assert!(page.contains("<main id=\"main\">"), "{path}");
    }
    for (path, status) in [
        ("/users", StatusCode::FORBIDDEN),
        ("/states/Atlantis", StatusCode::NOT_FOUND),
    ] {
        let (got, page) = get(&c, &app.base, path).await;
        assert_eq!(got, status, "{path}: {page}");
        assert!(page.contains("id=\"error-nav\""), "{path}: {page}");
        assert!(page.contains("href=\"/meetings\""), "{path}: {page}");
        assert!(page.contains("href=\"#main\""), "{path}: {page}");
    }
}
db_test!(
    skip_link_and_error_navigation,
    pages_have_a_skip_link_and_errors_keep_the_navigation_check
);

/// The state page records who holds an office (issue 16 item 5): a new holder ends the term of
/// the one before and the page shows both; an overlapping term comes back with the message
/// beside its start, and a post with nobody chosen beside "Who"; nothing is written then.
async fn the_state_page_records_posts_and_keeps_their_history_check(db: &TestDb) {
    let app = start(db).await;
    let admin = Actor::new("admin", IanaZone::UTC).unwrap();
    let mut ids = Vec::new();
    for name in [
        "Anne Premier (test)",
        "Bruno Second (test)",
        "Chloe Early (test)",
    ] {
        let c = add_contact(
            &app.db,
            &admin,
            &ContactInput {
                name: name.into(),
                state: Some("FRA".into()),
                ..ContactInput::default()
            },
        )
        .await
        .unwrap();
        ids.push(c.id.to_string());
    }
    let (c, csrf) = signed_in(&app.base, "sam").await;
    let post = |who: &str, from: &str, to: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("contact", who.to_owned()),
            ("title", "Minister for Foreign Affairs".to_owned()),
            ("organisation", String::new()),
            ("from", from.to_owned()),
            ("to", to.to_owned()),
        ]
    };
    for (who, from) in [(&ids[0], "2020-01-01"), (&ids[1], "2024-09-01")] {
        let form = post(who, from, "");
        let (status, to, page) = post_form(&c, &app.base, "/states/FRA/posts", &pairs(&form)).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        assert!(to.unwrap().contains("added=post"));
    }
    let (_, page) = get(&c, &app.base, "/states/FRA").await;
    assert!(page.contains("id=\"add-post\""), "{page}");
    let section = &page[page.find("id=\"posts\"").unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(section.contains("Bruno Second (test)"), "{section}");
    assert!(
        section.contains("Anne Premier (test), 2020-01-01 to 2024-08-31"),
        "{section}"
    );
    // On a date before the hand-over, the page names the first minister.
    let (_, then) = get(&c, &app.base, "/states/FRA?at=2023-05-01").await;
    let held = &then[then.find("id=\"posts\"").unwrap()..];
    let held = &held[..held.find("Other holders").unwrap_or(held.len())];
    assert!(held.contains("Anne Premier (test)"), "{held}");

    // A term overlapping Anne's: refused beside its start, what was typed kept.
    let form = post(&ids[2], "2019-01-01", "2021-06-30");
    let (status, _, page) = post_form(&c, &app.base, "/states/FRA/posts", &pairs(&form)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("id=\"err-post-from\""), "{page}");
    assert!(page.contains("value=\"2021-06-30\""), "{page}");
    let form = post("", "2019-01-01", "");
    let (status, _, page) = post_form(&c, &app.base, "/states/FRA/posts", &pairs(&form)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("id=\"err-post-contact\""), "{page}");
    let (_, page) = get(&c, &app.base, "/states/FRA").await;
    assert!(
        !page.contains("Chloe Early (test), "),
        "nothing was written: {page}"
    );
}
db_test!(
    state_page_posts,
    the_state_page_records_posts_and_keeps_their_history_check
);

/// "My work" (issue 15 item 5): each person sees their own open follow-ups (overdue ones said),
/// and a coordinator the letters someone else drafted that wait for review; staff see their own
/// drafts and no review list.
async fn my_work_shows_my_follow_ups_and_the_letters_awaiting_my_review_check(db: &TestDb) {
    let app = start(db).await;
    let sam_actor = Actor::new("sam", IanaZone::UTC).unwrap();
    let today = sam_actor.today();
    for (owner, what, due) in [
        (
            "sam",
            "Send the treaty text in Nepali",
            today - chrono::Days::new(2),
        ),
        (
            "maria",
            "Call the embassy back",
            today + chrono::Days::new(3),
        ),
    ] {
        followups::add(
            &app.db,
            &sam_actor,
            &FollowUpInput {
                state: Some("NPL".into()),
                description: what.into(),
                due: Some(due.to_string()),
                owner: Some(owner.into()),
                engagement: None,
                meeting: None,
            },
        )
        .await
        .unwrap();
    }
    let (sc, scsrf) = signed_in(&app.base, "sam").await;
    // Sam drafts two letters and submits one for review.
    let mut ids = Vec::new();
    for state in ["NPL", "AZE"] {
        let form = [
            ("csrf", scsrf.clone()),
            ("template", "call_to_join".to_owned()),
            ("state", state.to_owned()),
            ("to", String::new()),
            ("lang", "en".to_owned()),
        ];
        let (status, to, page) = post_form(&sc, &app.base, "/letters", &pairs(&form)).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        ids.push(to.unwrap());
    }
    let submit = [("csrf", scsrf.clone())];
    let (status, _, page) = post_form(
        &sc,
        &app.base,
        &format!("{}/submit", ids[0]),
        &pairs(&submit),
    )
    .await;
    assert!(status.is_redirection(), "{status}: {page}");

    let (status, mine) = get(&sc, &app.base, "/my-work").await;
    assert_eq!(status, StatusCode::OK);
    assert!(mine.contains("Send the treaty text in Nepali"), "{mine}");
    assert!(!mine.contains("Call the embassy back"), "{mine}");
    assert!(mine.contains("(1 overdue)"), "{mine}");
    assert!(!mine.contains("id=\"to-review\""), "staff review nothing");
    let drafts = &mine[mine.find("id=\"my-drafts\"").unwrap()..];
    assert_eq!(drafts.matches("<li>").count(), 1, "{drafts}");

    // Letters are listed by their templates' titles, not their internal names (issue 15 item 6).
    let (_, list) = get(&sc, &app.base, "/letters").await;
    assert!(list.contains("<td>Call to join</td>"), "{list}");
    assert!(!list.contains("<td>call_to_join</td>"), "{list}");
    let (_, one) = get(&sc, &app.base, &ids[0]).await;
    assert!(one.contains(": Call to join to "), "{one}");

    let (mc, _) = signed_in(&app.base, "maria").await;
    let (_, hers) = get(&mc, &app.base, "/my-work").await;
    assert!(hers.contains("Call the embassy back"), "{hers}");
    assert!(!hers.contains("Send the treaty text in Nepali"), "{hers}");
    let review = &hers[hers.find("id=\"to-review\"").unwrap()..];
    let review = &review[..review.find("</section>").unwrap()];
    assert_eq!(review.matches("<li>").count(), 1, "{review}");
    assert!(review.contains(&ids[0]), "{review}");
}
db_test!(
    my_work,
    my_work_shows_my_follow_ups_and_the_letters_awaiting_my_review_check
);

/// Staff read the rules page in their words: no command and no file name; coordinators, who
/// change the rules, are told where they are kept (issue 15 item 6).
async fn the_rules_page_speaks_to_staff_without_commands_or_files_check(db: &TestDb) {
    let app = start(db).await;
    let (sc, _) = signed_in(&app.base, "sam").await;
    let (status, page) = get(&sc, &app.base, "/rules").await;
    assert_eq!(status, StatusCode::OK);
    let intro = &page[page.find("id=\"rules-file\"").unwrap()..];
    let intro = &intro[..intro.find("</p>").unwrap()];
    assert!(!intro.contains("outreach serve"), "{intro}");
    assert!(!intro.contains(".toml"), "{intro}");
    assert!(intro.contains("Coordinators change them."), "{intro}");
    // Schedules in words, not cron.
    let schedules = &page[page.find("id=\"schedules\"").unwrap()..];
    assert!(schedules.contains("every Monday at 08:00"), "{schedules}");
    assert!(!schedules.contains("<code>0 0 8"), "{schedules}");
    let (mc, _) = signed_in(&app.base, "maria").await;
    let (_, page) = get(&mc, &app.base, "/rules").await;
    let intro = &page[page.find("id=\"rules-file\"").unwrap()..];
    let intro = &intro[..intro.find("</p>").unwrap()];
    assert!(intro.contains(".toml</code>"), "{intro}");
    assert!(!intro.contains("outreach serve"), "{intro}");
}
db_test!(
    rules_page_words,
    the_rules_page_speaks_to_staff_without_commands_or_files_check
);
