//! The inspector console (`serve --console-listen`), over real HTTP: who
//! gets in, what a foreign site or a rebinding name gets, and that a
//! ticket's page shows its images in the order `ticket_images` counts
//! them, with the same bytes, and an FAQ's page the images of its answer.

use std::process::Command;

use helpdesk_testkit::binary::*;
use helpdesk_testkit::images::png;
use helpdesk_testkit::photos;
use reqwest::header::{COOKIE, HOST, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::redirect::Policy;

const OPERATOR: &str = "operator-token-0123456789abcdef";

/// A server with its console on a free loopback port; the console's URL
/// and its start-up link.
fn console(dir: &std::path::Path, extra: &[&str]) -> (Serving, String, String) {
    let tokens = dir.join("console-tokens");
    std::fs::write(&tokens, format!("# operators\n\n{OPERATOR}\n")).unwrap();
    let mut args = vec![
        "--console-listen",
        "127.0.0.1:0",
        "--console-token-file",
        tokens.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let server = serve(dir, &args);
    let (url, link) = server.console_link();
    (server, url, link)
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// Signs in with `link` and returns the session's Cookie header.
async fn sign_in(link: &str) -> String {
    let res = http().get(link).send().await.unwrap();
    assert_eq!(res.status(), 303, "a sign-in redirects");
    assert_eq!(res.headers()[LOCATION], "/", "without the token");
    let cookie = res.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    cookie.split(';').next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_lets_in_a_session_only_from_its_own_names_and_origin() {
    let dir = tempfile::tempdir().unwrap();
    let (server, url, link) = console(dir.path(), &[]);
    assert_ne!(url, server.base, "its own listener, never the API's");

    // No session: the sign-in page.
    let res = http().get(format!("{url}/")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("Sign in"));

    // The start-up link works once.
    let session = sign_in(&link).await;
    let again = http().get(&link).send().await.unwrap();
    assert_eq!(again.status(), 401, "the start-up link is spent");
    // An operator's token, as often as wanted.
    let op = format!("{url}/login?token={OPERATOR}");
    sign_in(&op).await;
    sign_in(&op).await;

    let page = http()
        .get(format!("{url}/"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    assert!(page.text().await.unwrap().contains("<h1>Tenants</h1>"));

    // A name DNS rebinding would send: 421, session or not.
    let rebound = http()
        .get(format!("{url}/"))
        .header(COOKIE, &session)
        .header(HOST, "attacker.example:8081")
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 421);

    // Another site's page asking the stream or changing anything: 403.
    for (method, path) in [("GET", "/live"), ("POST", "/")] {
        let res = http()
            .request(method.parse().unwrap(), format!("{url}{path}"))
            .header(COOKIE, &session)
            .header(ORIGIN, "http://attacker.example")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{method} {path} from a foreign origin");
    }
    // A forged or stale cookie is no session.
    let forged = http()
        .get(format!("{url}/"))
        .header(COOKIE, "helpdesk_console=00ff")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tickets_page_shows_its_images_in_index_order_with_the_bytes_ticket_images_serves() {
    let dir = tempfile::tempdir().unwrap();
    let (server, url, link) = console(dir.path(), &[]);
    let party = provision(dir.path());
    let c = party.client(&server.base);
    let images: Vec<Vec<u8>> = (0..3).map(|i| png(40 + i, 3000 + i as usize)).collect();
    let t = ticket_with_images(&c, &images).await;
    let session = sign_in(&link).await;
    let get = |path: String| {
        let session = session.clone();
        async move {
            http()
                .get(path)
                .header(COOKIE, session)
                .send()
                .await
                .unwrap()
        }
    };

    let front = get(format!("{url}/")).await.text().await.unwrap();
    assert!(front.contains(&format!("/tenants/{}", party.tenant_key)));
    let tenant = get(format!("{url}/tenants/{}", party.tenant_key))
        .await
        .text()
        .await
        .unwrap();
    assert!(tenant.contains(&format!("/tickets/{}", t.ticket)));
    assert!(tenant.contains(&party.app_id));
    assert!(
        !tenant.contains(&party.app_secret),
        "secrets are never shown"
    );

    let page = get(format!("{url}/tickets/{}", t.ticket)).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    // The image message's picture, then the post's two, by index.
    let srcs: Vec<&str> = html
        .match_indices("<a class=\"thumb\" href=\"")
        .map(|(at, m)| html[at + m.len()..].split('"').next().unwrap())
        .collect();
    let want = [
        format!("/tickets/{}/messages/{}/images/0", t.ticket, t.image_msg),
        format!("/tickets/{}/messages/{}/images/0", t.ticket, t.post_msg),
        format!("/tickets/{}/messages/{}/images/1", t.ticket, t.post_msg),
    ];
    assert_eq!(srcs, want);
    let caller = Caller::of(&party, &server.base).await;
    for (i, src) in want.iter().enumerate() {
        let shown = get(format!("{url}{src}")).await.bytes().await.unwrap();
        assert!(shown == images[i], "image {i} came back changed");
    }
    // index 1 of the post, as the API serves it.
    let res = reqwest::Client::new()
        .get(format!(
            "{}/open-apis/helpdesk/v1/ticket_images",
            server.base
        ))
        .query(&[
            ("ticket_id", t.ticket.as_str()),
            ("msg_id", &t.post_msg),
            ("index", "1"),
        ])
        .bearer_auth(&caller.token)
        .header("X-Lark-Helpdesk-Authorization", &caller.credential)
        .send()
        .await
        .unwrap();
    let api = res.bytes().await.unwrap();
    let console_copy = get(format!("{url}{}", want[2]))
        .await
        .bytes()
        .await
        .unwrap();
    assert!(api == console_copy);

    // /go finds the ticket by any of its ids.
    for id in [&t.ticket, &t.post_msg, &t.keys[1]] {
        let res = get(format!("{url}/go?id={id}")).await;
        assert_eq!(res.status(), 303, "/go?id={id}");
        assert_eq!(
            res.headers()[LOCATION],
            format!("/tickets/{}", t.ticket).as_str()
        );
    }
    // Missing things are 404: a ticket, an image index, an id.
    for path in [
        "/tickets/7000000000000000000".to_string(),
        format!("/tickets/{}/messages/{}/images/5", t.ticket, t.post_msg),
        "/go?id=nothing-like-it".to_string(),
    ] {
        assert_eq!(get(format!("{url}{path}")).await.status(), 404, "{path}");
    }
    // Erased: the page says so, and neither the original nor a thumbnail
    // is served any more.
    admin(
        dir.path(),
        &[
            "guest",
            "erase",
            "--tenant",
            &party.tenant_key,
            "--open-id",
            GUEST,
        ],
    );
    let html = get(format!("{url}/tickets/{}", t.ticket))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("<a class=\"thumb\""));
    assert!(html.contains("Image 0: deleted"));
    for src in &want {
        assert_eq!(get(format!("{url}{src}")).await.status(), 404, "{src}");
        let thumb = get(format!("{url}{src}/thumb?w=400")).await;
        assert_eq!(thumb.status(), 404, "{src}/thumb");
    }
    server.terminate();
}

/// An FAQ of the party's helpdesk, written by a new agent, whose answer
/// holds `images` uploaded as `answer-<i>.png`: (faq_id, image keys, the
/// agent's client).
async fn faq_with_images(
    dir: &std::path::Path,
    party: &Party,
    base: &str,
    images: &[Vec<u8>],
) -> (String, Vec<String>, helpdesk_client::UserClient) {
    use helpdesk_client::{NewFaq, Richtext};
    let (_, user) = agent_with_token(dir, party, "Lin");
    let c = party.client(base);
    let mut keys = Vec::new();
    for (i, bytes) in images.iter().enumerate() {
        keys.push(
            c.upload_image(bytes.clone(), &format!("answer-{i}.png"))
                .await
                .unwrap(),
        );
    }
    let mut answer = vec![Richtext::text("Open Settings, then Export.")];
    answer.extend(keys.iter().map(Richtext::image));
    let agent = c.as_user(&user);
    let faq = agent
        .create_faq(&NewFaq {
            question: "Where is the export?".into(),
            answer: Some("Open Settings, then Export.".into()),
            answer_richtext: answer,
            ..Default::default()
        })
        .await
        .unwrap();
    (faq.faq_id.unwrap(), keys, agent)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_faqs_page_shows_its_answer_and_images_with_the_bytes_faq_image_serves() {
    let dir = tempfile::tempdir().unwrap();
    let (server, url, link) = console(dir.path(), &[]);
    let party = provision(dir.path());
    // Real pictures, for real thumbnails.
    let images: Vec<Vec<u8>> = [(120, 90), (64, 48)]
        .map(|(w, h)| photos::encode(image::ImageFormat::Png, &photos::picture(w, h)))
        .to_vec();
    let (faq_id, keys, agent) = faq_with_images(dir.path(), &party, &server.base, &images).await;
    let session = sign_in(&link).await;
    let get = |path: String| {
        let session = session.clone();
        async move {
            http()
                .get(path)
                .header(COOKIE, session)
                .send()
                .await
                .unwrap()
        }
    };

    let list = get(format!("{url}/faqs")).await.text().await.unwrap();
    assert!(list.contains(&format!("/faqs/{faq_id}")), "{list}");
    assert!(list.contains("Where is the export?"));
    let page = get(format!("{url}/faqs/{faq_id}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Open Settings, then Export."));
    let hrefs: Vec<&str> = html
        .match_indices("<a class=\"thumb\" href=\"")
        .map(|(at, m)| html[at + m.len()..].split('"').next().unwrap())
        .collect();
    let want: Vec<String> = keys
        .iter()
        .map(|k| format!("/faqs/{faq_id}/images/{k}"))
        .collect();
    assert_eq!(hrefs, want, "the answer's images, in answer order");
    assert!(html.contains("Copy faq_image curl"));
    for (i, href) in want.iter().enumerate() {
        let shown = get(format!("{url}{href}")).await.bytes().await.unwrap();
        let api = party
            .client(&server.base)
            .faq_image(&faq_id, &keys[i])
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert!(shown == images[i] && api == images[i], "image {i}");
        let thumb = get(format!("{url}{href}/thumb?w=200")).await;
        assert_eq!(thumb.status(), 200);
        assert_eq!(thumb.headers()["content-type"], "image/webp");
        assert!(
            thumb.headers().contains_key("etag"),
            "a picture, not the placeholder"
        );
    }
    let res = get(format!("{url}/go?id={faq_id}")).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[LOCATION], format!("/faqs/{faq_id}").as_str());

    // Deleted: listed among the recoverable ones, its page still there.
    agent.delete_faq(&faq_id).await.unwrap();
    let online = get(format!("{url}/faqs")).await.text().await.unwrap();
    assert!(!online.contains(&format!("/faqs/{faq_id}")));
    let deleted = get(format!("{url}/faqs?status=deleted"))
        .await
        .text()
        .await
        .unwrap();
    assert!(deleted.contains(&format!("/faqs/{faq_id}")));
    assert_eq!(get(format!("{url}/faqs/{faq_id}")).await.status(), 200);
    // Deleted for good: nothing names it any more.
    agent.delete_faq(&faq_id).await.unwrap();
    for path in [
        format!("/faqs/{faq_id}"),
        want[0].clone(),
        format!("{}/thumb?w=200", want[1]),
        format!("/go?id={faq_id}"),
    ] {
        assert_eq!(get(format!("{url}{path}")).await.status(), 404, "{path}");
    }
    server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_console_reached_over_https_keeps_its_cookie_off_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let (server, url, link) = console(
        dir.path(),
        &["--console-public-url", "https://console.example.test"],
    );
    assert!(
        link.starts_with("https://console.example.test/login?token="),
        "{link}"
    );
    // Followed on loopback, where the test reaches it.
    let local = format!("{url}{}", &link["https://console.example.test".len()..]);
    let res = http().get(&local).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let cookie = res.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    // Its public name is let in too; a rebinding one is not.
    let session = cookie.split(';').next().unwrap().to_string();
    for (host, status) in [("console.example.test", 200), ("evil.example", 421)] {
        let res = http()
            .get(format!("{url}/"))
            .header(HOST, host)
            .header(COOKIE, &session)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{host}");
    }
    server.terminate();
}

#[test]
fn a_console_other_machines_could_reach_needs_a_token_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(helpdesk_testkit::binary::bin())
        .arg("serve")
        .args(helpdesk_testkit::backend::config_args(
            &helpdesk_testkit::storage(dir.path()),
        ))
        .args(["--listen", "127.0.0.1:0", "--console-listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    let last = err.lines().last().unwrap_or("");
    assert!(
        last.contains("--console-token-file"),
        "one line saying what to do: {err}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing started: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenants_console_token_sees_that_tenant_only_and_revoking_it_ends_its_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let (server, url, link) = console(dir.path(), &[]);
    let a = provision(dir.path());
    let b = provision(dir.path());
    let images = vec![png(1, 2000), png(2, 2000)];
    let ta = ticket_with_images(&a.client(&server.base), &images).await;
    let tb = ticket_with_images(&b.client(&server.base), &images).await;
    let (fa, fa_keys, _) = faq_with_images(dir.path(), &a, &server.base, &images).await;

    let created = admin(
        dir.path(),
        &["console-token", "create", "--tenant", &b.tenant_key],
    );
    let token = created["token"].as_str().unwrap().to_string();
    let token_id = created["token_id"].as_str().unwrap().to_string();
    assert!(token.starts_with("hdc_") && token_id.starts_with("ct_"));
    assert_eq!(created["tenant_key"], b.tenant_key.as_str());
    let listed = admin(dir.path(), &["console-token", "list"]);
    assert!(
        !listed.to_string().contains(&token),
        "a token is shown once, never listed"
    );
    let trail = admin_lines(dir.path(), &["audit", "list"]);
    assert!(trail.iter().any(|e| e["action"] == "console-token.create"));
    assert!(!serde_json::to_string(&trail).unwrap().contains(&token));

    // An operator looks at A's images first: what the console keeps of
    // where they are must not let B see them.
    let operator = sign_in(&link).await;
    for path in [
        format!("/tickets/{}/messages/{}/images/0", ta.ticket, ta.image_msg),
        format!(
            "/tickets/{}/messages/{}/images/0/thumb?w=200",
            ta.ticket, ta.image_msg
        ),
        format!("/faqs/{fa}/images/{}", fa_keys[0]),
        format!("/faqs/{fa}/images/{}/thumb?w=200", fa_keys[1]),
    ] {
        let res = http()
            .get(format!("{url}{path}"))
            .header(COOKIE, &operator)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "the operator sees {path}");
    }
    let session = sign_in(&format!("{url}/login?token={token}")).await;
    let get = |path: String| {
        let session = session.clone();
        async move {
            http()
                .get(path)
                .header(COOKIE, session)
                .send()
                .await
                .unwrap()
        }
    };
    let front = get(format!("{url}/")).await.text().await.unwrap();
    assert!(front.contains(&b.tenant_key) && !front.contains(&a.tenant_key));
    let faqs = get(format!("{url}/faqs")).await.text().await.unwrap();
    assert!(
        !faqs.contains(&fa) && !faqs.contains(&a.helpdesk_id),
        "A's FAQs and helpdesk are not listed to B"
    );
    assert_eq!(
        get(format!("{url}/tickets/{}", tb.ticket)).await.status(),
        200
    );
    // Every page of A's answers as a missing one does.
    let missing = get(format!("{url}/tickets/7000000000000000000"))
        .await
        .text()
        .await
        .unwrap();
    for path in [
        format!("/tenants/{}", a.tenant_key),
        format!("/tickets/{}", ta.ticket),
        format!("/tickets/{}/messages/{}/images/0", ta.ticket, ta.image_msg),
        format!("/tickets/{}/messages/{}/images/1", ta.ticket, ta.post_msg),
        format!(
            "/tickets/{}/messages/{}/images/0/thumb?w=200",
            ta.ticket, ta.image_msg
        ),
        format!("/tickets/{}/images.zip", ta.ticket),
        format!("/go?id={}", ta.ticket),
        format!("/go?id={}", ta.keys[0]),
        format!("/faqs/{fa}"),
        format!("/faqs/{fa}/images/{}", fa_keys[0]),
        format!("/faqs/{fa}/images/{}/thumb?w=200", fa_keys[1]),
        format!("/go?id={fa}"),
    ] {
        let res = get(format!("{url}{path}")).await;
        assert_eq!(res.status(), 404, "{path}");
        assert_eq!(
            res.text().await.unwrap(),
            missing,
            "{path}: as a missing one"
        );
    }

    admin(
        dir.path(),
        &["console-token", "revoke", "--token-id", &token_id],
    );
    assert_eq!(
        get(format!("{url}/")).await.status(),
        401,
        "revoked: the session ended"
    );
    let again = http()
        .get(format!("{url}/login?token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 401);
    server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenants_tickets_page_fifty_at_a_time_and_filter_by_guest_status_and_date() {
    let dir = tempfile::tempdir().unwrap();
    let (server, url, link) = console(dir.path(), &[]);
    let a = provision(dir.path());
    let c = a.client(&server.base);
    let mut tickets = Vec::new();
    for _ in 0..51 {
        tickets.push(open_ticket(&c).await);
    }
    let other_guest = c
        .start_service(&helpdesk_client::StartService {
            open_id: "ou_someone_else".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .ticket_id;
    let session = sign_in(&link).await;
    let page = |query: String| {
        let session = session.clone();
        let url = url.clone();
        let key = a.tenant_key.clone();
        async move {
            let res = http()
                .get(format!("{url}/tenants/{key}{query}"))
                .header(COOKIE, session)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{query}");
            res.text().await.unwrap()
        }
    };
    let shown = |html: &str| {
        tickets
            .iter()
            .chain([&other_guest])
            .filter(|t| html.contains(&format!("/tickets/{t}\"")))
            .count()
    };

    let first = page(String::new()).await;
    assert!(first.contains("Tickets (52)"), "every ticket counted");
    assert_eq!(shown(&first), 50, "fifty a page");
    let older = first
        .split("rel=\"next\"")
        .next()
        .and_then(|s| s.rsplit("href=\"").next())
        .map(|s| {
            s.split('"')
                .next()
                .unwrap()
                .replace("&#38;", "&")
                .replace("&amp;", "&")
        })
        .expect("a link to the older tickets");
    let second = http()
        .get(format!("{url}{older}"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(shown(&second), 2, "the rest on page 2: {older}");
    let everyone = tickets.iter().chain([&other_guest]).all(|t| {
        let link = format!("/tickets/{t}\"");
        first.contains(&link) != second.contains(&link)
    });
    assert!(everyone, "each ticket on exactly one page");
    assert!(second.contains("rel=\"prev\"") && !second.contains("rel=\"next\""));

    let by_guest = page("?guest=ou_someone_else".into()).await;
    assert_eq!(shown(&by_guest), 1);
    assert!(by_guest.contains(&format!("/tickets/{other_guest}\"")));
    assert_eq!(shown(&page("?status=50".into()).await), 0, "none closed");
    assert_eq!(shown(&page("?status=1&from=2000-01-01".into()).await), 50);
    assert_eq!(
        shown(&page("?to=2000-01-01".into()).await),
        0,
        "none that old"
    );
    let bad = page("?from=2026-02-31".into()).await;
    assert!(bad.contains("dates are YYYY-MM-DD"), "a bad date says so");
    assert_eq!(shown(&bad), 50, "and the filter is not applied");
    server.terminate();
}
