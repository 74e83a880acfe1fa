//! The routes the dashboard uses, over HTTP against a real server: sessions and passwords,
//! saved views, metric statistics in filters and sorts, parameter importance, and the
//! dashboard's own pages (SPA fallback, cache headers).

mod common;

use common::{TestServer, assert_error, decode};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

fn cookie_of(response: &reqwest::Response) -> String {
    let set = response.headers().get(header::SET_COOKIE).expect("a Set-Cookie header").to_str().unwrap().to_string();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    set.split(';').next().unwrap().to_string()
}

async fn viewer_with_cookie(server: &TestServer, cookie: &str) -> StatusCode {
    server.client.get(server.url("/viewer")).header(header::COOKIE, cookie).send().await.unwrap().status()
}

#[tokio::test]
async fn a_browser_signs_in_with_a_key_or_a_password_and_signs_out() {
    let server = TestServer::start().await;
    let session = server.url("/session");

    // With the API key: a new session key goes into the cookie (the API key itself never does).
    let response = server.client.post(&session).json(&json!({"key": server.key})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = cookie_of(&response);
    assert!(!cookie.contains(&server.key), "the cookie holds a session key, not the API key");
    let (_, viewer) = decode(response).await;
    assert_eq!(viewer["name"], "admin");
    assert_eq!(viewer_with_cookie(&server, &cookie).await, StatusCode::OK);

    // Signing out revokes the session key; the API key still works.
    let response = server.client.delete(&session).header(header::COOKIE, &cookie).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.headers()[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(viewer_with_cookie(&server, &cookie).await, StatusCode::UNAUTHORIZED);
    assert_eq!(server.call(Method::GET, "/viewer", None).await.0, StatusCode::OK);

    // Passwords: none yet, then a short one is refused, then one is set and works.
    let (status, body) = decode(
        server.client.post(&session).json(&json!({"user": "admin", "password": "correct horse"})).send().await.unwrap(),
    )
    .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    let (status, body) = server.call(Method::PUT, "/viewer/password", Some(json!({"password": "short"}))).await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument");
    let (status, _) = server.call(Method::PUT, "/viewer/password", Some(json!({"password": "correct horse"}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let response =
        server.client.post(&session).json(&json!({"user": "admin", "password": "correct horse"})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = cookie_of(&response);
    assert_eq!(viewer_with_cookie(&server, &cookie).await, StatusCode::OK);
    for body in [
        json!({"user": "admin", "password": "wrong horse"}),
        json!({"user": "nobody", "password": "correct horse"}),
        json!({"key": "heron_not_a_key"}),
    ] {
        let (status, error) = decode(server.client.post(&session).json(&body).send().await.unwrap()).await;
        assert_error(status, &error, StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    for body in
        [json!({}), json!({"key": "k", "user": "admin", "password": "x"}), json!({"user": "admin"}), json!({"pin": 1})]
    {
        let (status, error) = decode(server.client.post(&session).json(&body).send().await.unwrap()).await;
        assert_error(status, &error, StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn views_are_saved_listed_replaced_and_deleted() {
    let server = TestServer::start().await;
    server.create_run("p", "r1").await;
    let state = json!({"ws": {"panels": [{"keys": ["loss"]}]}, "filter": "config.lr > 0.1"});
    let (status, saved) =
        server.call(Method::PUT, "/projects/admin/p/views/my%20view", Some(json!({"state": state}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(saved["name"], "my view");
    server.call(Method::PUT, "/projects/admin/p/views/my%20view", Some(json!({"state": {"tab": "table"}}))).await;
    let views = server.get("/projects/admin/p/views").await;
    assert_eq!(views.as_array().unwrap().len(), 1);
    assert_eq!(views[0]["state"], json!({"tab": "table"}));
    let (status, body) = server.call(Method::PUT, "/projects/admin/p/views/v", Some(json!({"state": [1, 2]}))).await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument");
    let big = "x".repeat(300 * 1024);
    let (status, body) =
        server.call(Method::PUT, "/projects/admin/p/views/v", Some(json!({"state": {"a": big}}))).await;
    assert_error(status, &body, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let (status, _) = server.call(Method::DELETE, "/projects/admin/p/views/my%20view", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = server.call(Method::DELETE, "/projects/admin/p/views/my%20view", None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    server.shutdown().await;
}

fn ids(page: &Value) -> Vec<&str> {
    page["runs"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn runs_sort_and_filter_by_a_metrics_min_and_max() {
    let server = TestServer::start().await;
    // a: a spike to 50 then low; b: steady 5; c: falls to 0.5; d: never logged the key.
    let series: [(&str, &[f64]); 3] = [("a", &[3.0, 50.0, 1.0]), ("b", &[5.0, 5.0, 5.0]), ("c", &[9.0, 2.0, 0.5])];
    for (run, values) in series {
        server.create_run("m", run).await;
        let points: Vec<(i64, f64)> = values.iter().enumerate().map(|(i, v)| (i as i64, *v)).collect();
        server.log_series("m", run, "train/loss", &points, 10).await;
    }
    server.create_run("m", "d").await;
    let list = |query: &str| format!("/projects/admin/m/runs?{query}");
    assert_eq!(ids(&server.get(&list("sort=metrics.train/loss.max%20desc")).await), ["a", "c", "b", "d"]);
    assert_eq!(ids(&server.get(&list("sort=metrics.train/loss.min")).await), ["c", "a", "b", "d"]);
    assert_eq!(ids(&server.get(&list("sort=metrics.train/loss.last")).await), ["c", "a", "b", "d"]);
    let page = server.get(&list("filter=metrics.train/loss.max%20%3E%2010")).await;
    assert_eq!(ids(&page), ["a"]);
    assert!(page["runs"][0].get("metrics").is_none(), "metrics are for filtering and sorting, not part of the run");
    assert_eq!(ids(&server.get(&list("filter=metrics.train/loss.count%20%3D%203&sort=id")).await), ["a", "b", "c"]);

    // Asked for, each run of the page carries the statistics (for table columns).
    let page = server.get(&list("sort=id&metrics=train/loss,missing")).await;
    assert_eq!(page["runs"][0]["metrics"], json!({"train/loss": {"min": 1.0, "max": 50.0, "last": 1.0, "count": 3}}));
    assert_eq!(page["runs"][3]["id"], "d");
    assert_eq!(page["runs"][3]["metrics"], json!({}), "a run without the key has none");
    let too_many = (0..101).map(|i| format!("k{i}")).collect::<Vec<_>>().join(",");
    let (status, body) = server.call(Method::GET, &list(&format!("metrics={too_many}")), None).await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument");
    server.shutdown().await;
}

#[tokio::test]
async fn importance_ranks_the_parameter_that_drives_the_metric() {
    let server = TestServer::start().await;
    let mut ids = Vec::new();
    for i in 0..40 {
        let lr = f64::from(i) / 40.0;
        let seed = f64::from((i * 17) % 40) / 40.0;
        let id = format!("r{i}");
        server
            .post(
                "/projects/admin/imp/runs",
                json!({"id": id, "config": {"lr": lr, "seed": seed, "opt": if i % 2 == 0 { "adam" } else { "sgd" }}}),
            )
            .await;
        server
            .call(
                Method::PATCH,
                &format!("/projects/admin/imp/runs/{id}/summary"),
                Some(json!({"loss": 3.0 * lr + 0.01 * seed})),
            )
            .await;
        ids.push(id);
    }
    server.create_run("imp", "no-target").await;
    ids.push("no-target".into());
    let (status, answer) = server
        .call(Method::POST, "/projects/admin/imp/importance", Some(json!({"runs": ids, "target": "summary.loss"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["runs_used"], 40, "the run without the target is left out");
    let params = answer["params"].as_array().unwrap();
    assert_eq!(params[0]["param"], "config.lr", "{answer}");
    assert!(params[0]["correlation"].as_f64().unwrap() > 0.99);
    assert!(params[0]["importance"].as_f64().unwrap() > 0.8, "{answer}");
    let opt = params.iter().find(|p| p["param"] == "config.opt").expect("text parameters take part");
    assert!(opt["correlation"].is_null(), "a text parameter has no correlation");
    let (status, body) = server
        .call(Method::POST, "/projects/admin/imp/importance", Some(json!({"runs": ["nope"], "target": "summary.loss"})))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = server
        .call(Method::POST, "/projects/admin/imp/importance", Some(json!({"runs": ["r1"], "target": "summary.(loss"})))
        .await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument");
    server.shutdown().await;
}

#[tokio::test]
async fn dashboard_routes_fall_back_to_the_app_and_api_routes_stay_json() {
    let server = TestServer::start().await;
    // Whether or not web/dist was built, app routes answer 200 and API misses stay JSON 404s.
    let app = server.client.get(format!("{}/projects/admin/p/runs/r1", server.base)).send().await.unwrap();
    assert_eq!(app.status(), StatusCode::OK);
    let missing = server.client.get(format!("{}/assets/missing-file.js", server.base)).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let (status, body) = server.call(Method::GET, "/no/such/route", None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let post = server.client.post(format!("{}/projects/admin/p", server.base)).send().await.unwrap();
    assert_eq!(post.status(), StatusCode::NOT_FOUND);
    if heron_server::dashboard_embedded() {
        let index = server.client.get(format!("{}/", server.base)).send().await.unwrap();
        assert_eq!(index.headers()[header::CACHE_CONTROL], "no-cache");
        let html = index.text().await.unwrap();
        let asset = html.split('"').find(|s| s.starts_with("/assets/") && s.ends_with(".js")).expect("a script asset");
        let script = server.client.get(format!("{}{asset}", server.base)).send().await.unwrap();
        assert_eq!(script.status(), StatusCode::OK);
        assert!(script.headers()[header::CACHE_CONTROL].to_str().unwrap().contains("immutable"));
        assert!(script.headers()[header::CONTENT_TYPE].to_str().unwrap().contains("javascript"));
    }
    server.shutdown().await;
}
