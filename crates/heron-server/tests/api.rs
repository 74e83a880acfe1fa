//! The HTTP API driven end to end against a real server on port 0.

mod common;

use std::time::Duration;

use common::{TestServer, assert_error, number, scalar};
use futures::StreamExt;
use heron_types::{Scalar, SeriesColumns, SeriesValue};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn a_run_lives_its_whole_life_through_the_api() {
    let server = TestServer::start().await;
    let (status, created) = server
        .call(
            Method::POST,
            "/projects/admin/vision/runs",
            Some(json!({"id": "resnet-1", "name": "ResNet baseline", "config": {"lr": 0.1, "opt": {"name": "sgd"}},
                "tags": ["baseline"], "group": "sweep-a", "host": "box1", "metadata": {"git": {"commit": "abc"}}})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["resumed"], false);
    assert_eq!(created["run"]["state"], "running");
    assert_eq!(created["run"]["name"], "ResNet baseline");

    // History with every kind of value, then a second batch.
    let ack = server
        .post(
            "/projects/admin/vision/runs/resnet-1/history",
            json!({"seq": 1, "rows": [
                {"step": 0, "time": 1000.0, "scalars": {"loss": 2.5, "acc": "NaN"}, "objects": {"note": "warming up", "flags": {"ok": true}}},
                {"step": 1, "time": 1001.0, "scalars": {"loss": "Infinity", "acc": 0.1}},
                {"step": 2, "time": 1002.0, "scalars": {"loss": "-Infinity", "acc": 0.2}}
            ]}),
        )
        .await;
    assert_eq!(ack, json!({"seq": 1, "duplicate": false, "rows": 3, "points": 8, "dropped_points": 0, "last_step": 2}));
    server
        .post(
            "/projects/admin/vision/runs/resnet-1/history",
            json!({"seq": 2, "rows": [{"step": 3, "scalars": {"loss": 0.5}}]}),
        )
        .await;

    let page = server.get("/projects/admin/vision/runs/resnet-1/history?keys=loss,acc,note,flags").await;
    let rows = page["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0]["_step"], 0);
    assert_eq!(rows[0]["_timestamp"], 1000.0);
    assert_eq!(rows[0]["acc"], "NaN");
    assert_eq!(rows[0]["note"], "warming up");
    assert_eq!(rows[0]["flags"], json!({"ok": true}));
    assert_eq!(rows[1]["loss"], "Infinity");
    assert_eq!(rows[2]["loss"], "-Infinity");
    assert_eq!(rows[3]["loss"], 0.5);
    assert!(page["next_step"].is_null());

    let keys = server.get("/projects/admin/vision/runs/resnet-1/history/keys").await;
    let loss = keys.as_array().unwrap().iter().find(|k| k["key"] == "loss").unwrap();
    assert_eq!(loss["kind"], "scalar");
    assert_eq!(loss["count"], 4);
    assert_eq!(loss["min"], "-Infinity");
    assert_eq!(loss["max"], "Infinity");
    assert_eq!(loss["last"], 0.5);
    let note = keys.as_array().unwrap().iter().find(|k| k["key"] == "note").unwrap();
    assert_eq!(note["kind"], "object");

    // Config and summary merge (null removes), edits, heartbeat.
    let run = server
        .call(
            Method::PATCH,
            "/projects/admin/vision/runs/resnet-1/config",
            Some(json!({"opt": {"momentum": 0.9}, "lr": null})),
        )
        .await
        .1;
    assert_eq!(run["config"], json!({"opt": {"name": "sgd", "momentum": 0.9}}));
    let run = server
        .call(
            Method::PATCH,
            "/projects/admin/vision/runs/resnet-1/summary",
            Some(json!({"loss": 0.5, "best": {"acc": 0.2}})),
        )
        .await
        .1;
    assert_eq!(run["summary"], json!({"loss": 0.5, "best": {"acc": 0.2}}));
    let (status, run) = server
        .call(
            Method::PATCH,
            "/projects/admin/vision/runs/resnet-1",
            Some(json!({"name": "renamed", "tags": ["a", "b"], "notes": "hello", "group": ""})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(
        (run["name"].clone(), run["tags"].clone(), run["notes"].clone(), run["group"].clone()),
        (json!("renamed"), json!(["a", "b"]), json!("hello"), Value::Null)
    );
    server.post("/projects/admin/vision/runs/resnet-1/heartbeat", json!({})).await;

    // Console: append, overwrite a progress line, read.
    server.post("/projects/admin/vision/runs/resnet-1/console", json!({"lines": ["epoch 1", "progress 10%"]})).await;
    server
        .post(
            "/projects/admin/vision/runs/resnet-1/console",
            json!({"offset": 1, "lines": ["progress 100%", "done"], "stream": "stderr"}),
        )
        .await;
    let console = server.get("/projects/admin/vision/runs/resnet-1/console").await;
    assert_eq!(console["total"], 3);
    let texts: Vec<&str> = console["lines"].as_array().unwrap().iter().map(|l| l["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["epoch 1", "progress 100%", "done"]);
    assert_eq!(server.get("/projects/admin/vision/runs/resnet-1/console?tail=1").await["lines"][0]["text"], "done");

    // Files: upload, list, download.
    let content = b"weights \x00\x01\x02".repeat(1000);
    let response = server
        .request(Method::PUT, "/projects/admin/vision/runs/resnet-1/files/checkpoints/model.bin")
        .body(content.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let files = server.get("/projects/admin/vision/runs/resnet-1/files").await;
    assert_eq!(files[0]["path"], "checkpoints/model.bin");
    assert_eq!(files[0]["size"], content.len());
    let downloaded = server
        .request(Method::GET, "/projects/admin/vision/runs/resnet-1/files/checkpoints/model.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(downloaded.status(), StatusCode::OK);
    assert_eq!(downloaded.bytes().await.unwrap().to_vec(), content);

    // Finish, then resume: the client learns where to continue.
    let run = server
        .call(Method::PATCH, "/projects/admin/vision/runs/resnet-1", Some(json!({"state": "finished", "exit_code": 0})))
        .await
        .1;
    assert_eq!(run["state"], "finished");
    assert!(run["finished_at"].is_string());
    let (status, resumed) = server
        .call(
            Method::POST,
            "/projects/admin/vision/runs",
            Some(json!({"id": "resnet-1", "resume": "must", "config": {"epochs": 3}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resumed["resumed"], true);
    assert_eq!(resumed["run"]["state"], "running");
    assert_eq!(resumed["run"]["last_step"], 3);
    assert_eq!(resumed["run"]["history_rows"], 4);
    assert_eq!(resumed["last_history_seq"], 2);
    assert_eq!(resumed["console_lines"], 3);
    assert_eq!(resumed["run"]["config"]["epochs"], 3);
    assert_eq!(resumed["run"]["summary"]["loss"], 0.5);
    let (status, body) = server
        .call(Method::POST, "/projects/admin/vision/runs", Some(json!({"id": "resnet-1", "resume": "never"})))
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "already_exists");

    // Projects and listing.
    let project = server.get("/projects/admin/vision").await;
    assert_eq!(project["run_count"], 1);
    assert_eq!(server.get("/entities/admin/projects").await[0]["name"], "vision");

    // Delete: gone with its history.
    let (status, _) = server.call(Method::DELETE, "/projects/admin/vision/runs/resnet-1", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = server.call(Method::GET, "/projects/admin/vision/runs/resnet-1", None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, _) =
        server.call(Method::GET, "/projects/admin/vision/runs/resnet-1/files/checkpoints/model.bin", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.shutdown().await;
}

#[tokio::test]
async fn the_same_batch_sent_twice_is_stored_once() {
    let server = TestServer::start().await;
    server.create_run("p", "r").await;
    let batch = json!({"seq": 7, "rows": (0..500).map(|s| json!({"step": s, "scalars": {"x": s, "y": s * 2}})).collect::<Vec<_>>()});
    let first = server.post("/projects/admin/p/runs/r/history", batch.clone()).await;
    let second = server.post("/projects/admin/p/runs/r/history", batch.clone()).await;
    assert_eq!(first["duplicate"], false);
    assert_eq!(second["duplicate"], true);
    assert_eq!(second["points"], first["points"]);
    let run = server.get("/projects/admin/p/runs/r").await;
    assert_eq!(run["history_rows"], 500);
    let keys = server.get("/projects/admin/p/runs/r/history/keys").await;
    assert!(
        keys.as_array().unwrap().iter().filter(|k| k["key"] == "x" || k["key"] == "y").all(|k| k["count"] == 500),
        "{keys}"
    );
    let page = server.get("/projects/admin/p/runs/r/history?limit=100000").await;
    assert_eq!(page["rows"].as_array().unwrap().len(), 500);

    // A new seq with steps already stored adds nothing and says so.
    let replay = server
        .post(
            "/projects/admin/p/runs/r/history",
            json!({"seq": 8, "rows": [{"step": 10, "scalars": {"x": 99}}, {"step": 500, "scalars": {"x": 1}}]}),
        )
        .await;
    assert_eq!(replay["dropped_points"], 1);
    assert_eq!(replay["points"], 1);
    // An empty batch changes nothing.
    let empty = server.post("/projects/admin/p/runs/r/history", json!({"seq": 9, "rows": []})).await;
    assert_eq!(empty["last_step"], 500);
    let run = server.get("/projects/admin/p/runs/r").await;
    assert_eq!((run["last_step"].clone(), run["history_rows"].clone()), (json!(500), json!(501)));
    server.shutdown().await;
}

#[tokio::test]
async fn history_pages_visit_every_row_once() {
    let server = TestServer::start().await;
    server.create_run("p", "r").await;
    let points: Vec<(i64, f64)> = (0..3000).map(|i| (i * 3, i as f64)).collect();
    server.log_series("p", "r", "v", &points, 700).await;
    let mut seen = Vec::new();
    let mut min_step: Option<i64> = None;
    for _ in 0..100 {
        let path = match min_step {
            Some(step) => format!("/projects/admin/p/runs/r/history?keys=v&limit=256&min_step={step}"),
            None => "/projects/admin/p/runs/r/history?keys=v&limit=256".to_string(),
        };
        let page = server.get(&path).await;
        seen.extend(page["rows"].as_array().unwrap().iter().map(|r| (r["_step"].as_i64().unwrap(), number(&r["v"]))));
        match page["next_step"].as_i64() {
            Some(next) => min_step = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, points);
    server.shutdown().await;
}

#[tokio::test]
async fn a_series_of_100k_points_reads_back_whole_and_exact() {
    let server = TestServer::start().await;
    server.create_run("p", "r").await;
    let n = 100_000i64;
    let value_at = |i: i64| match i {
        7 => f64::NAN,
        8 => f64::INFINITY,
        9 => f64::NEG_INFINITY,
        _ => (i as f64 * 0.37).sin() * 1e3 + 1.0 / (i + 1) as f64,
    };
    let time_at = |i: i64| 1_795_697_000.0 + i as f64 * 0.013;
    let step_at = |i: i64| i * 3 + 1;
    for (seq, start) in (0..n).step_by(25_000).enumerate() {
        let rows: Vec<Value> = (start..start + 25_000)
            .map(|i| {
                let mut row = json!({"step": step_at(i), "time": time_at(i), "scalars": {"loss": scalar(value_at(i))}});
                if i % 1000 == 0 {
                    row["scalars"]["rare"] = json!(i);
                }
                row
            })
            .collect();
        server.post("/projects/admin/p/runs/r/history", json!({"seq": seq + 1, "rows": rows})).await;
    }
    let read = |query: &str| {
        let request = server.request(Method::GET, &format!("/projects/admin/p/runs/r/history/series?{query}"));
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.headers()["content-type"], "application/json");
            serde_json::from_slice::<SeriesColumns>(&response.bytes().await.unwrap()).unwrap()
        }
    };

    // The whole series: every step, time and value bit for bit, NaN and infinities included.
    let series = read("key=loss").await;
    assert_eq!(series.key, "loss");
    assert_eq!(series.steps, (0..n).map(step_at).collect::<Vec<_>>());
    assert!(series.times.iter().enumerate().all(|(i, t)| t.map(f64::to_bits) == Some(time_at(i as i64).to_bits())));
    assert_eq!(series.values.len(), n as usize);
    for (i, value) in series.values.iter().enumerate() {
        let SeriesValue::Scalar(Scalar(got)) = value else { panic!("point {i} is not a scalar: {value:?}") };
        let want = value_at(i as i64);
        assert!(got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()), "point {i}: {got} != {want}");
    }
    // On the wire: the special values as strings, compact.
    let text = server
        .request(Method::GET, "/projects/admin/p/runs/r/history/series?key=loss&max_step=31")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.starts_with(r#"{"key":"loss","steps":[1,4,7,"#), "{text}");
    assert!(text.contains(r#""NaN","Infinity","-Infinity""#), "{text}");
    assert!(!text.contains(' '), "compact JSON: {text}");

    // Step ranges are inclusive and exact; a sparse key; a range with nothing in it.
    let part = read("key=loss&min_step=3000&max_step=6001").await;
    assert_eq!(part.steps, (1000..=2000).map(step_at).collect::<Vec<_>>());
    assert_eq!(part.times[0], Some(time_at(1000)));
    let rare = read("key=rare").await;
    assert_eq!(rare.steps, (0..n).step_by(1000).map(step_at).collect::<Vec<_>>());
    assert_eq!(rare.values[5], SeriesValue::Scalar(Scalar(5000.0)));
    assert!(read("key=loss&min_step=2&max_step=3").await.steps.is_empty());

    // A key the run never logged is empty; system metrics are their own stream.
    let (status, body) = server.call(Method::GET, "/projects/admin/p/runs/r/history/series?key=nope", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"key": "nope", "steps": [], "times": [], "values": []}));
    server
        .post(
            "/projects/admin/p/runs/r/system",
            json!({"seq": 1, "rows": [{"time": 5.5, "values": {"system/cpu": 12.5}}, {"time": 6.5, "values": {"system/cpu": "NaN"}}]}),
        )
        .await;
    let (_, cpu) =
        server.call(Method::GET, "/projects/admin/p/runs/r/history/series?key=system/cpu&stream=system", None).await;
    assert_eq!(cpu, json!({"key": "system/cpu", "steps": [0, 1], "times": [5.5, 6.5], "values": [12.5, "NaN"]}));
    assert!(read("key=system/cpu").await.steps.is_empty(), "the history stream has no system/cpu");

    // Errors: a missing run or project, no key or a wrong one, another user's run, bad parameters.
    for path in
        ["/projects/admin/p/runs/nope/history/series?key=loss", "/projects/admin/nope/runs/r/history/series?key=loss"]
    {
        let (status, body) = server.call(Method::GET, path, None).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    }
    let path = "/projects/admin/p/runs/r/history/series?key=loss";
    let (status, body) = common::decode(server.client.get(server.url(path)).send().await.unwrap()).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    let (status, body) = server.call_with_key("heron_wrong", Method::GET, path, None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    let bob = server.post("/users", json!({"name": "bob"})).await["api_key"].as_str().unwrap().to_string();
    let (status, body) = server.call_with_key(&bob, Method::GET, path, None).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    for query in ["", "key=loss&stream=disk", "key=loss&min_step=x"] {
        let (status, body) =
            server.call(Method::GET, &format!("/projects/admin/p/runs/r/history/series?{query}"), None).await;
        assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument");
    }
    let openapi = server.get("/openapi.json").await;
    let documented = &openapi["paths"]["/api/v1/projects/{entity}/{project}/runs/{run}/history/series"]["get"];
    assert!(documented.is_object(), "the series route is in the OpenAPI document");
    let parameters: Vec<(&str, &str, bool)> = documented["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["in"].as_str().unwrap(), p["required"] == true))
        .collect();
    assert_eq!(
        parameters[3..],
        [
            ("key", "query", true),
            ("min_step", "query", false),
            ("max_step", "query", false),
            ("stream", "query", false)
        ]
    );
    assert!(openapi["components"]["schemas"]["SeriesColumns"].is_object());
    server.shutdown().await;
}

#[tokio::test]
async fn clients_get_the_documented_errors() {
    let server = TestServer::start().await;
    server.create_run("p", "r").await;

    // 401: no key, wrong key, Basic with the key as password works.
    let response = server.client.get(server.url("/viewer")).send().await.unwrap();
    assert!(response.headers().contains_key("www-authenticate"));
    let (status, body) = common::decode(response).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    let (status, body) = server.call_with_key("heron_wrong", Method::GET, "/viewer", None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    let basic = server.client.get(server.url("/viewer")).basic_auth("api", Some(&server.key)).send().await.unwrap();
    assert_eq!(basic.status(), StatusCode::OK);
    // Health and the OpenAPI document need no key.
    assert_eq!(server.client.get(server.url("/health")).send().await.unwrap().status(), StatusCode::OK);
    let openapi: Value = server.client.get(server.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(openapi["paths"]["/api/v1/projects/{entity}/{project}/runs/{run}/history"]["post"].is_object());

    // 403: another user may not touch admin's projects, nor create users.
    let created = server.post("/users", json!({"name": "bob"})).await;
    let bob = created["api_key"].as_str().unwrap().to_string();
    let (status, body) = server.call_with_key(&bob, Method::GET, "/projects/admin/p/runs/r", None).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = server
        .call_with_key(&bob, Method::POST, "/projects/admin/p/runs/r/history", Some(json!({"seq": 1, "rows": []})))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = server.call_with_key(&bob, Method::POST, "/users", Some(json!({"name": "eve"}))).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    // ... but bob works in his own entity.
    let (status, _) =
        server.call_with_key(&bob, Method::POST, "/projects/bob/mine/runs", Some(json!({"id": "b1"}))).await;
    assert_eq!(status, StatusCode::CREATED);

    // 404: missing run, project, entity, route.
    for path in ["/projects/admin/p/runs/nope", "/projects/admin/nope", "/entities/nobody/projects", "/no/such/route"] {
        let (status, body) = server.call(Method::GET, path, None).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    }
    let (status, body) =
        server.call(Method::POST, "/projects/admin/p/runs/nope/history", Some(json!({"seq": 1, "rows": []}))).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");

    // 413: a body over the limit, too many rows.
    let huge = vec![b' '; heron_types::limits::MAX_BODY_BYTES + 1024];
    let response = server.request(Method::POST, "/projects/admin/p/runs/r/history").body(huge).send().await.unwrap();
    let (status, body) = common::decode(response).await;
    assert_error(status, &body, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let rows: Vec<Value> = (0..heron_types::limits::MAX_ROWS_PER_BATCH + 1).map(|s| json!({"step": s})).collect();
    let (status, body) =
        server.call(Method::POST, "/projects/admin/p/runs/r/history", Some(json!({"seq": 1, "rows": rows}))).await;
    assert_error(status, &body, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");

    // 422: malformed JSON, wrong types, a string scalar, unknown fields, reserved and long keys,
    // a bad run id, a filter that does not parse (with its column), bad chart parameters.
    let malformed = server.request(Method::POST, "/projects/admin/p/runs").body("{\"id\": ").send().await.unwrap();
    let (status, body) = common::decode(malformed).await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument");
    let long_key = "k".repeat(300);
    let unicode = "損失/📉";
    let cases = [
        ("/projects/admin/p/runs/r/history", json!({"seq": "one", "rows": []})),
        ("/projects/admin/p/runs/r/history", json!({"seq": 1, "rows": [{"step": 1, "scalars": {"x": "high"}}]})),
        ("/projects/admin/p/runs/r/history", json!({"seq": 1, "rows": [{"step": 1, "scalars": {"x": true}}]})),
        ("/projects/admin/p/runs/r/history", json!({"seq": 1, "rows": [{"step": 1, "scalars": {"_step": 1}}]})),
        ("/projects/admin/p/runs/r/history", json!({"seq": 1, "rows": [{"step": 1, "scalars": {long_key: 1}}]})),
        ("/projects/admin/p/runs/r/history", json!({"seq": 1, "rows": [{"step": 1, "bogus": 1}]})),
        ("/projects/admin/p/runs", json!({"id": "../etc"})),
        ("/projects/admin/p/runs", json!({"id": "ok", "config": [1, 2]})),
        ("/projects/admin/p/chart", json!({"runs": ["r"], "keys": ["x"], "buckets": 0})),
        ("/projects/admin/p/chart", json!({"runs": ["r"], "keys": ["x"], "x_min": 5, "x_max": 1})),
    ];
    for (path, body) in cases {
        let (status, answer) = server.call(Method::POST, path, Some(body.clone())).await;
        assert_error(status, &answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument");
    }
    let (status, body) = server.call(Method::GET, "/projects/admin/p/runs?filter=config.lr%20%3E%3E%201", None).await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument");
    assert!(body["error"]["message"].as_str().unwrap().contains("column"), "{body}");
    for path in [
        "/projects/admin/p/runs/r/history?limit=abc",
        "/projects/admin/p/runs/r/history?limit=0",
        "/projects/admin/p/runs/r/console?limit=0",
    ] {
        let (status, body) = server.call(Method::GET, path, None).await;
        assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument");
    }
    let (status, body) = server.call(Method::PUT, "/projects/admin/p/runs/r/history", Some(json!({}))).await;
    assert_error(status, &body, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    // A path that would climb out of the run's folder (percent-encoded so no client normalises it).
    for escape in ["a%2F..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "%2E%2E%2Fx", "a%5C..%5Cb"] {
        let response = server
            .request(Method::PUT, &format!("/projects/admin/p/runs/r/files/{escape}"))
            .body("x")
            .send()
            .await
            .unwrap();
        let (status, body) = common::decode(response).await;
        assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument");
    }
    // Unicode keys are fine.
    let ack = server
        .post("/projects/admin/p/runs/r/history", json!({"seq": 2, "rows": [{"step": 1, "scalars": {unicode: 1.5}}]}))
        .await;
    assert_eq!(ack["points"], 1);
    let rows = server.get("/projects/admin/p/runs/r/history").await;
    assert_eq!(rows["rows"][0][unicode], 1.5);
    // Nothing above broke the store.
    assert_eq!(server.get("/projects/admin/p/runs/r").await["state"], "running");
    server.shutdown().await;
}

#[tokio::test]
async fn runs_are_filtered_sorted_and_paged() {
    let server = TestServer::start().await;
    for i in 0..30 {
        let tags = if i % 3 == 0 { json!(["baseline"]) } else { json!([]) };
        server
            .post(
                "/projects/admin/q/runs",
                json!({"id": format!("run-{i:02}"), "config": {"lr": i as f64 / 100.0}, "tags": tags}),
            )
            .await;
        server
            .call(
                Method::PATCH,
                &format!("/projects/admin/q/runs/run-{i:02}/summary"),
                Some(json!({"val_loss": (30 - i) as f64 / 10.0})),
            )
            .await;
    }
    server.call(Method::PATCH, "/projects/admin/q/runs/run-29", Some(json!({"state": "finished"}))).await;
    let filter = "config.lr > 0.05 and summary.val_loss < 2.0 and (tags contains \"baseline\" or state = \"finished\")";
    let url = format!("/projects/admin/q/runs?filter={}&sort=summary.val_loss&limit=2", urlencode(filter));
    let mut ids = Vec::new();
    let mut page = server.get(&url).await;
    assert_eq!(page["total"], 7);
    loop {
        ids.extend(page["runs"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()));
        let Some(cursor) = page["next_cursor"].as_str() else { break };
        page = server.get(&format!("{url}&cursor={}", urlencode(cursor))).await;
    }
    // lr > 0.05 → i >= 6; val_loss < 2 → i > 10; baseline → i % 3 == 0; or run-29 (finished).
    assert_eq!(ids, ["run-29", "run-27", "run-24", "run-21", "run-18", "run-15", "run-12"]);
    server.shutdown().await;
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn live_points_and_run_changes_arrive_on_the_event_stream() {
    let server = TestServer::start().await;
    server.create_run("live", "r").await;
    let response = server.request(Method::GET, "/projects/admin/live/events").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut body = response.bytes_stream();
    server
        .post(
            "/projects/admin/live/runs/r/history",
            json!({"seq": 1, "rows": [{"step": 5, "scalars": {"loss": 0.25}}]}),
        )
        .await;
    server.call(Method::PATCH, "/projects/admin/live/runs/r/summary", Some(json!({"loss": 0.25}))).await;
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !(text.contains("event: points") && text.contains("event: run")) {
        let chunk =
            tokio::time::timeout_at(deadline, body.next()).await.expect("events arrive in time").unwrap().unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let points_line = text.lines().skip_while(|l| *l != "event: points").nth(1).unwrap();
    let event: Value = serde_json::from_str(points_line.strip_prefix("data: ").unwrap()).unwrap();
    assert_eq!(event["run"], "r");
    assert_eq!(event["rows"], json!([{"_step": 5, "loss": 0.25}]));
    // A batch whose first row repeats a stored step: live clients get only what was stored.
    text.clear();
    server
        .post(
            "/projects/admin/live/runs/r/history",
            json!({"seq": 2, "rows": [{"step": 5, "scalars": {"loss": 9.0}}, {"step": 6, "scalars": {"loss": 0.2}}]}),
        )
        .await;
    while !text.contains("event: points") {
        let chunk =
            tokio::time::timeout_at(deadline, body.next()).await.expect("events arrive in time").unwrap().unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let points_line = text.lines().skip_while(|l| *l != "event: points").nth(1).unwrap();
    let event: Value = serde_json::from_str(points_line.strip_prefix("data: ").unwrap()).unwrap();
    assert_eq!(event["rows"], json!([{"_step": 6, "loss": 0.2}]));
    // Shutting down ends the open stream instead of waiting on it.
    server.shutdown().await;
}

#[tokio::test]
async fn export_streams_csv_and_parquet_at_full_resolution() {
    let server = TestServer::start().await;
    server.create_run("e", "r").await;
    let n = 25_000i64;
    for (seq, start) in (0..n).step_by(5000).enumerate() {
        let rows: Vec<Value> = (start..start + 5000)
            .map(|s| {
                let value = if s == 7 { f64::NAN } else { s as f64 * 0.5 };
                let mut row = json!({"step": s, "time": 100.0 + s as f64, "scalars": {"loss": scalar(value)}});
                if s % 10_000 == 0 {
                    row["objects"] = json!({"sample": format!("text, \"quoted\" {s}")});
                }
                row
            })
            .collect();
        server.post("/projects/admin/e/runs/r/history", json!({"seq": seq + 1, "rows": rows})).await;
    }
    let csv = server.request(Method::GET, "/projects/admin/e/runs/r/history/export?format=csv").send().await.unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    let text = csv.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), "_step,_timestamp,loss,sample");
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), n as usize);
    assert_eq!(rows[0], "0,100.0,0.0,\"text, \"\"quoted\"\" 0\"");
    assert_eq!(rows[7], "7,107.0,NaN,");
    assert_eq!(rows[24_999], "24999,25099.0,12499.5,");

    let parquet = server
        .request(Method::GET, "/projects/admin/e/runs/r/history/export?format=parquet&keys=loss")
        .send()
        .await
        .unwrap();
    assert_eq!(parquet.status(), StatusCode::OK);
    let bytes = parquet.bytes().await.unwrap();
    let reader =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes).unwrap().build().unwrap();
    let mut total = 0usize;
    let mut saw_nan = false;
    for batch in reader {
        let batch = batch.unwrap();
        let loss = batch.column_by_name("loss").unwrap().as_any().downcast_ref::<arrow_array::Float64Array>().unwrap();
        saw_nan |= loss.iter().any(|v| v.is_some_and(f64::is_nan));
        total += batch.num_rows();
    }
    assert_eq!(total, n as usize);
    assert!(saw_nan);
    let (status, body) = server.call(Method::GET, "/projects/admin/e/runs/r/history/export?format=xlsx", None).await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument");
    server.shutdown().await;
}

#[tokio::test]
async fn a_run_that_stops_beating_is_marked_crashed_and_comes_back() {
    let server = TestServer::start_with(|config| config.heartbeat_timeout = Duration::from_millis(800)).await;
    server.create_run("hb", "quiet").await;
    server.create_run("hb", "done").await;
    server.call(Method::PATCH, "/projects/admin/hb/runs/done", Some(json!({"state": "finished"}))).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if server.get("/projects/admin/hb/runs/quiet").await["state"] == "crashed" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "run was never marked crashed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(server.get("/projects/admin/hb/runs/done").await["state"], "finished");
    let run = server.post("/projects/admin/hb/runs/quiet/heartbeat", json!({})).await;
    assert_eq!(run["state"], "running");
    server.shutdown().await;
}

#[tokio::test]
async fn system_metrics_are_a_time_keyed_stream() {
    let server = TestServer::start().await;
    server.create_run("sys", "r").await;
    // A history row at another time: system samples must be placed by their own times.
    server
        .post(
            "/projects/admin/sys/runs/r/history",
            json!({"seq": 1, "rows": [{"step": 0, "time": 5.0, "scalars": {"loss": 1.0}}]}),
        )
        .await;
    for seq in 1..=2 {
        let rows: Vec<Value> = (0..3)
            .map(|i| json!({"time": 1000.0 + (seq * 3 + i) as f64, "values": {"system/cpu": 10.0 * i as f64}}))
            .collect();
        server.post("/projects/admin/sys/runs/r/system", json!({"seq": seq, "rows": rows})).await;
    }
    let again = server
        .post(
            "/projects/admin/sys/runs/r/system",
            json!({"seq": 2, "rows": [{"time": 1.0, "values": {"system/cpu": 1.0}}]}),
        )
        .await;
    assert_eq!(again["duplicate"], true);
    let page = server.get("/projects/admin/sys/runs/r/system").await;
    let rows = page["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[5]["_step"], 5);
    assert_eq!(rows[5]["_timestamp"], 1008.0);
    let chart = server
        .post("/projects/admin/sys/chart", json!({"runs": ["r"], "keys": ["system/cpu"], "x": "time", "buckets": 6}))
        .await;
    assert_eq!(chart["series"][0]["count"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).sum::<u64>(), 6);
    assert_eq!(chart["x_min"], 1003.0);
    assert_eq!(chart["series"][0]["first_x"][0], 1003.0);
    assert_eq!(chart["series"][0]["last_x"].as_array().unwrap().last().unwrap(), 1008.0);
    // The history stream is untouched.
    assert_eq!(server.get("/projects/admin/sys/runs/r").await["history_rows"], 1);
    server.shutdown().await;
}

#[tokio::test]
async fn a_single_spike_is_visible_at_every_zoom() {
    let server = TestServer::start().await;
    server.create_run("spike", "r").await;
    let n = 200_000i64;
    let spike_step = 123_457;
    let points: Vec<(i64, f64)> =
        (0..n).map(|s| (s, if s == spike_step { 1e7 } else { (s % 100) as f64 / 100.0 })).collect();
    server.log_series("spike", "r", "loss", &points, 20_000).await;
    for (x_min, x_max, buckets) in [
        (None, None, 1000),
        (Some(0.0), Some(199_999.0), 37),
        (Some(120_000.0), Some(125_000.0), 500),
        (Some(123_457.0), Some(123_457.0), 1),
    ] {
        let chart = server
            .post(
                "/projects/admin/spike/chart",
                json!({"runs": ["r"], "keys": ["loss"], "x_min": x_min, "x_max": x_max, "buckets": buckets}),
            )
            .await;
        let series = &chart["series"][0];
        let max = series["max_y"].as_array().unwrap().iter().map(number).fold(f64::MIN, f64::max);
        assert_eq!(max, 1e7, "spike hidden at range {x_min:?}..{x_max:?} / {buckets}");
        assert!(series["bucket"].as_array().unwrap().len() <= buckets);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn charts_never_show_a_deleted_runs_data() {
    let server = TestServer::start().await;
    let points = |value: f64| (0..5000).map(|s| (s, value)).collect::<Vec<(i64, f64)>>();
    let max_of =
        |chart: &Value| chart["series"][0]["max_y"].as_array().unwrap().iter().map(number).fold(f64::MIN, f64::max);
    let query = json!({"runs": ["r"], "keys": ["y"], "buckets": 333});
    server.create_run("cache", "r").await;
    server.log_series("cache", "r", "y", &points(1.0), 5000).await;
    // Twice: the second read is served from the cache and must be identical.
    let first = server.post("/projects/admin/cache/chart", query.clone()).await;
    assert_eq!(server.post("/projects/admin/cache/chart", query.clone()).await, first);
    assert_eq!(max_of(&first), 1.0);
    let (status, _) = server.call(Method::DELETE, "/projects/admin/cache/runs/r", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    server.create_run("cache", "r").await;
    server.log_series("cache", "r", "y", &points(2.0), 5000).await;
    let again = server.post("/projects/admin/cache/chart", query).await;
    assert_eq!(max_of(&again), 2.0);
    assert!(again["series"][0]["min_y"].as_array().unwrap().iter().all(|v| number(v) == 2.0));
    server.shutdown().await;
}
