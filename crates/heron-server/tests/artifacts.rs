//! Artifacts and the model registry over HTTP against a real server: content-addressed
//! uploads (dedup, resumable parts, verification), versions and aliases, lineage, garbage
//! collection beside an upload in flight, the registry's audit trail, and bad input.

mod common;

use std::time::Duration;

use common::{TestServer, assert_error, decode};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const PART: usize = 16 * 1024 * 1024;

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Deterministic bytes that differ by `seed`.
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn entry(path: &str, data: &[u8]) -> Value {
    json!({"path": path, "size": data.len(), "sha256": sha(data)})
}

/// The blobs of `files` the server asks `key`'s user for.
async fn missing(server: &TestServer, key: &str, project: &str, files: &[(&str, Vec<u8>)]) -> Vec<Value> {
    let blobs: Vec<Value> = files.iter().map(|(_, d)| json!({"sha256": sha(d), "size": d.len()})).collect();
    let entity = entity_of(server, key).await;
    let (status, answer) = server
        .call_with_key(
            key,
            Method::POST,
            &format!("/projects/{entity}/{project}/blobs/missing"),
            Some(json!({"blobs": blobs})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["missing"].as_array().unwrap().clone()
}

async fn entity_of(server: &TestServer, key: &str) -> String {
    let (_, viewer) = server.call_with_key(key, Method::GET, "/viewer", None).await;
    viewer["name"].as_str().unwrap().to_string()
}

async fn put_part(server: &TestServer, upload: &Value, part: u64, data: Vec<u8>) -> (StatusCode, Value) {
    let url = format!("{}{}&part={part}", server.base, upload["upload_url"].as_str().unwrap());
    decode(server.client.put(url).body(data).send().await.unwrap()).await
}

/// Uploads every blob the server is missing, part by part; answers how many blobs were sent.
async fn upload_as(server: &TestServer, key: &str, project: &str, files: &[(&str, Vec<u8>)]) -> usize {
    let wanted = missing(server, key, project, files).await;
    for upload in &wanted {
        let data = files.iter().find(|(_, d)| sha(d) == upload["sha256"]).unwrap().1.clone();
        let parts = upload["parts"].as_u64().unwrap();
        for part in 0..parts {
            let start = part as usize * PART;
            let piece = data[start..(start + PART).min(data.len())].to_vec();
            let (status, answer) = put_part(server, upload, part, piece).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
        }
        if parts > 1 {
            let url = format!("{}{}", server.base, upload["complete_url"].as_str().unwrap());
            let (status, answer) = decode(server.client.post(url).send().await.unwrap()).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
            assert_eq!(answer["stored"], true);
        }
    }
    wanted.len()
}

async fn upload(server: &TestServer, project: &str, files: &[(&str, Vec<u8>)]) -> usize {
    upload_as(server, &server.key.clone(), project, files).await
}

async fn create_version(server: &TestServer, project: &str, name: &str, body: Value) -> (StatusCode, Value) {
    server.call(Method::POST, &format!("/projects/admin/{project}/artifacts/{name}/versions"), Some(body)).await
}

/// Uploads what is missing and creates the version; answers (blobs uploaded, version).
async fn log(
    server: &TestServer,
    project: &str,
    name: &str,
    files: &[(&str, Vec<u8>)],
    extra: Value,
) -> (usize, Value) {
    let sent = upload(server, project, files).await;
    let mut body = json!({"type": "dataset", "files": files.iter().map(|(p, d)| entry(p, d)).collect::<Vec<_>>()});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (status, version) = create_version(server, project, name, body).await;
    assert!(status.is_success(), "{status} {version}");
    (sent, version)
}

async fn totals(server: &TestServer) -> (u64, u64) {
    let t = server.get("/admin/blobs").await;
    (t["blobs"].as_u64().unwrap(), t["bytes"].as_u64().unwrap())
}

/// Downloads a version's file through its signed URL.
async fn download(server: &TestServer, project: &str, name: &str, version: &str, path: &str) -> (StatusCode, Vec<u8>) {
    let files = server.get(&format!("/projects/admin/{project}/artifacts/{name}/versions/{version}/files")).await;
    let file = files.as_array().unwrap().iter().find(|f| f["path"] == path).expect("file listed");
    let url = format!("{}{}", server.base, file["url"].as_str().unwrap());
    let response = server.client.get(url).send().await.unwrap();
    let status = response.status();
    (status, response.bytes().await.unwrap().to_vec())
}

fn thousand_files() -> Vec<(String, Vec<u8>)> {
    (0..1000).map(|i| (format!("shard/{i:04}.bin"), bytes(i, 512 + i as usize))).collect()
}

fn borrowed(files: &[(String, Vec<u8>)]) -> Vec<(&str, Vec<u8>)> {
    files.iter().map(|(p, d)| (p.as_str(), d.clone())).collect()
}

#[tokio::test]
async fn files_are_stored_once_across_versions_and_projects() {
    let server = TestServer::start().await;
    let files = thousand_files();
    let bytes_total: u64 = files.iter().map(|(_, d)| d.len() as u64).sum();

    let (sent, v0) = log(&server, "vision", "images", &borrowed(&files), json!({})).await;
    assert_eq!(sent, 1000);
    assert_eq!((v0["version"].as_str(), v0["file_count"].as_u64()), (Some("v0"), Some(1000)));
    assert_eq!(totals(&server).await, (1000, bytes_total));

    // One file changed of 1000: only it is asked for and sent.
    let mut changed = files.clone();
    changed[500].1 = bytes(99_999, 700);
    let (sent, v1) = log(&server, "vision", "images", &borrowed(&changed), json!({})).await;
    assert_eq!(sent, 1);
    assert_eq!(v1["version"], "v1");
    assert_eq!(totals(&server).await, (1001, bytes_total + 700));

    // The same files in another project of the same entity: nothing is sent, nothing stored.
    let (sent, other) = log(&server, "audio", "copy", &borrowed(&files), json!({})).await;
    assert_eq!((sent, other["version"].as_str()), (0, Some("v0")));
    assert_eq!(totals(&server).await, (1001, bytes_total + 700));

    // The same contents again make no version.
    let (status, again) = create_version(
        &server,
        "vision",
        "images",
        json!({"type": "dataset", "files": changed.iter().map(|(p, d)| entry(p, d)).collect::<Vec<_>>()}),
    )
    .await;
    assert_eq!(
        (status, again["version"].as_str(), again["created"].as_bool()),
        (StatusCode::OK, Some("v1"), Some(false))
    );

    // Every file reads back as it was written, through its signed URL.
    let (status, body) = download(&server, "vision", "images", "v0", "shard/0500.bin").await;
    assert_eq!((status, body), (StatusCode::OK, files[500].1.clone()));
    let (_, body) = download(&server, "audio", "copy", "latest", "shard/0999.bin").await;
    assert_eq!(body, files[999].1);

    // The storage report counts shared bytes once.
    let report = server.get("/projects/admin/vision/storage").await;
    assert_eq!(report["logical_bytes"].as_u64().unwrap(), 2 * bytes_total - 512 - 500 + 700);
    assert_eq!(report["stored_bytes"].as_u64().unwrap(), bytes_total + 700);
    let images = &report["artifacts"][0];
    assert_eq!(images["name"], "images");
    // Every file but the changed one is also held by audio/copy: only those 700 bytes are images' alone.
    assert_eq!(images["exclusive_bytes"].as_u64().unwrap(), 700);
}

#[tokio::test]
async fn another_entity_must_send_the_bytes_but_they_are_stored_once() {
    let server = TestServer::start().await;
    let data = bytes(7, 4096);
    log(&server, "p", "secret", &[("weights.bin", data.clone())], json!({})).await;
    let bob = server.post("/users", json!({"name": "bob"})).await["api_key"].as_str().unwrap().to_string();

    // Knowing the hash is not enough: bob is asked for the bytes, and naming the blob fails.
    assert_eq!(missing(&server, &bob, "mine", &[("w", data.clone())]).await.len(), 1);
    let create = json!({"type": "model", "files": [entry("w.bin", &data)]});
    let (status, body) = server
        .call_with_key(&bob, Method::POST, "/projects/bob/mine/artifacts/stolen/versions", Some(create.clone()))
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");

    // Wrong bytes under that name are refused.
    let upload = &missing(&server, &bob, "mine", &[("w", data.clone())]).await[0];
    let (status, body) = put_part(&server, upload, 0, bytes(8, 4096)).await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument");

    // Sending the real bytes proves it; they are not stored a second time.
    assert_eq!(upload_as(&server, &bob, "mine", &[("w", data.clone())]).await, 1);
    let (status, body) =
        server.call_with_key(&bob, Method::POST, "/projects/bob/mine/artifacts/mine/versions", Some(create)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(totals(&server).await, (1, 4096));
}

#[tokio::test]
async fn an_interrupted_multipart_upload_resumes_from_the_parts_received() {
    let server = TestServer::start().await;
    let data = bytes(42, 2 * PART + 12_345);
    let files = [("model.pt", data.clone())];
    let upload = missing(&server, &server.key, "p", &files).await.remove(0);
    assert_eq!((upload["parts"].as_u64(), upload["received"].as_array().map(Vec::len)), (Some(3), Some(0)));

    // Part 0 arrives; part 1 breaks off halfway (the client dies mid-request).
    assert_eq!(put_part(&server, &upload, 0, data[..PART].to_vec()).await.0, StatusCode::OK);
    let half = data[PART..PART + PART / 2].to_vec();
    let broken = futures::stream::iter(vec![
        Ok::<_, std::io::Error>(bytes::Bytes::from(half)),
        Err(std::io::Error::other("connection lost")),
    ]);
    let url = format!("{}{}&part=1", server.base, upload["upload_url"].as_str().unwrap());
    let result = server.client.put(url).body(reqwest::Body::wrap_stream(broken)).send().await;
    assert!(result.is_err() || !result.unwrap().status().is_success());

    // Completing now is refused, naming what is missing.
    let complete = format!("{}{}", server.base, upload["complete_url"].as_str().unwrap());
    let (status, body) = decode(server.client.post(&complete).send().await.unwrap()).await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    assert!(body["error"]["message"].as_str().unwrap().contains("2 of its 3 parts"), "{body}");

    // A new process asks again: part 0 is held; it sends parts 1 and 2 only.
    let resumed = missing(&server, &server.key, "p", &files).await.remove(0);
    assert_eq!(resumed["received"], json!([0]));
    for part in [1u64, 2] {
        let start = part as usize * PART;
        let piece = data[start..(start + PART).min(data.len())].to_vec();
        assert_eq!(put_part(&server, &resumed, part, piece).await.0, StatusCode::OK);
    }
    let (status, body) = decode(server.client.post(&complete).send().await.unwrap()).await;
    assert_eq!((status, body["stored"].as_bool()), (StatusCode::OK, Some(true)), "{body}");
    assert_eq!(totals(&server).await, (1, data.len() as u64));
    assert_eq!(server.get("/admin/blobs").await["uploads_in_progress"], 0);

    let (status, _) =
        create_version(&server, "p", "model", json!({"type": "model", "files": [entry("model.pt", &data)]})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = download(&server, "p", "model", "v0", "model.pt").await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body[..body.len().min(300)]));
    assert!(body == data, "the downloaded blob is the uploaded one");
}

#[tokio::test]
async fn a_part_with_the_wrong_bytes_is_refused_and_parts_that_do_not_add_up_are_dropped() {
    let server = TestServer::start().await;
    let data = bytes(5, PART + 10);
    let upload = missing(&server, &server.key, "p", &[("f", data.clone())]).await.remove(0);
    let url = format!("{}{}&part=0", server.base, upload["upload_url"].as_str().unwrap());
    // The part's own checksum is checked on arrival.
    let response = server
        .client
        .put(&url)
        .header("x-heron-part-sha256", sha(b"other"))
        .body(data[..PART].to_vec())
        .send()
        .await
        .unwrap();
    let (status, body) = decode(response).await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument");
    // Parts of the right sizes but the wrong bytes: completion refuses them and drops them.
    put_part(&server, &upload, 0, bytes(6, PART)).await;
    put_part(&server, &upload, 1, bytes(6, 10)).await;
    let complete = format!("{}{}", server.base, upload["complete_url"].as_str().unwrap());
    let (status, body) = decode(server.client.post(&complete).send().await.unwrap()).await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument");
    assert_eq!(totals(&server).await, (0, 0));
    assert_eq!(missing(&server, &server.key, "p", &[("f", data.clone())]).await[0]["received"], json!([]));
    // A part longer than its size is cut off.
    let (status, _) = put_part(&server, &upload, 1, vec![0; 11]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Good parts, hashed as they arrive; then part 0 is sent again with other bytes of the same
    // size: completion must see the bytes now stored, not the hash of the first ones.
    put_part(&server, &upload, 0, data[..PART].to_vec()).await;
    put_part(&server, &upload, 1, data[PART..].to_vec()).await;
    put_part(&server, &upload, 0, bytes(7, PART)).await;
    let (status, body) = decode(server.client.post(&complete).send().await.unwrap()).await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument");
    assert_eq!(totals(&server).await, (0, 0));
    // Sent right, it is stored, and reads back whole.
    put_part(&server, &upload, 0, data[..PART].to_vec()).await;
    put_part(&server, &upload, 1, data[PART..].to_vec()).await;
    let (status, body) = decode(server.client.post(&complete).send().await.unwrap()).await;
    assert_eq!((status, body["stored"].as_bool()), (StatusCode::OK, Some(true)), "{body}");
    let (status, _) = create_version(&server, "p", "f", json!({"type": "model", "files": [entry("f", &data)]})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(download(&server, "p", "f", "v0", "f").await.1 == data);
}

#[tokio::test]
async fn signed_urls_are_checked_and_expire() {
    let server = TestServer::start().await;
    let data = bytes(1, 100);
    let upload = missing(&server, &server.key, "p", &[("f", data.clone())]).await.remove(0);
    let url = upload["upload_url"].as_str().unwrap().to_string();
    for tampered in [
        url.replace(&format!("size={}", data.len()), "size=99"),
        url.replace("sig=", "sig=00"),
        url.replace(&upload["sha256"].as_str().unwrap()[..8], "00000000"),
    ] {
        let response =
            server.client.put(format!("{}{tampered}&part=0", server.base)).body(data.clone()).send().await.unwrap();
        let status = response.status();
        assert!(status == StatusCode::FORBIDDEN || status == StatusCode::UNPROCESSABLE_ENTITY, "{tampered}: {status}");
    }
    let sha = sha(&data);
    let (status, body) =
        decode(server.client.get(format!("{}/api/v1/blobs/{sha}?expires=1&sig=00", server.base)).send().await.unwrap())
            .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    // Nothing was stored by the tampered requests.
    assert_eq!(totals(&server).await, (0, 0));
}

#[tokio::test]
async fn aliases_move_and_latest_follows_the_newest_version() {
    let server = TestServer::start().await;
    let v = |i: u64| vec![("f.txt", bytes(i, 10))];
    log(&server, "p", "ds", &v(0), json!({"aliases": ["best"]})).await;
    let (_, v1) = log(&server, "p", "ds", &v(1), json!({})).await;
    assert_eq!(v1["aliases"], json!(["latest"]));
    let get = |version: &'static str| {
        let server = &server;
        async move { server.get(&format!("/projects/admin/p/artifacts/ds/versions/{version}")).await["version"].clone() }
    };
    assert_eq!(get("best").await, "v0");
    assert_eq!(get("latest").await, "v1");

    // An alias given on create moves from the version that had it.
    log(&server, "p", "ds", &v(2), json!({"aliases": ["best"]})).await;
    assert_eq!(get("best").await, "v2");
    let v0 = server.get("/projects/admin/p/artifacts/ds/versions/v0").await;
    assert_eq!(v0["aliases"], json!([]));

    // Moved by PUT, removed by DELETE.
    let (status, moved) =
        server.call(Method::PUT, "/projects/admin/p/artifacts/ds/aliases/best", Some(json!({"version": "v1"}))).await;
    assert_eq!((status, moved["version"].as_str()), (StatusCode::OK, Some("v1")));
    assert_eq!(get("best").await, "v1");
    assert_eq!(
        server.call(Method::DELETE, "/projects/admin/p/artifacts/ds/aliases/best", None).await.0,
        StatusCode::NO_CONTENT
    );
    let (status, _) = server.call(Method::GET, "/projects/admin/p/artifacts/ds/versions/best", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Deleting the newest version moves latest back.
    assert_eq!(
        server.call(Method::DELETE, "/projects/admin/p/artifacts/ds/versions/v2", None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(get("latest").await, "v1");
    let artifact = server.get("/projects/admin/p/artifacts/ds").await;
    assert_eq!((artifact["versions"].as_u64(), artifact["latest"].as_u64()), (Some(2), Some(1)));
    // Version numbers are never reused.
    let (_, v3) = log(&server, "p", "ds", &v(3), json!({})).await;
    assert_eq!(v3["version"], "v3");

    // Bad aliases are refused with the reason.
    for (alias, why) in [("latest", "moved by the server"), ("v7", "looks like a version"), ("a%20b", "contains")] {
        let (status, body) = server
            .call(
                Method::PUT,
                &format!("/projects/admin/p/artifacts/ds/aliases/{alias}"),
                Some(json!({"version": "v0"})),
            )
            .await;
        assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument");
        assert!(body["error"]["message"].as_str().unwrap().contains(why), "{alias}: {body}");
    }
}

#[tokio::test]
async fn lineage_is_walked_both_ways() {
    let server = TestServer::start().await;
    for run in ["prep", "train", "eval"] {
        server.create_run("p", run).await;
    }
    log(&server, "p", "raw", &[("data.csv", bytes(1, 50))], json!({"run": "prep"})).await;
    server.post("/projects/admin/p/artifacts/raw/versions/latest/uses", json!({"run": "train"})).await;
    log(&server, "p", "net", &[("model.pt", bytes(2, 50))], json!({"type": "dataset", "run": "train"})).await;
    server.post("/projects/admin/p/artifacts/net/versions/v0/uses", json!({"run": "admin/p/eval"})).await;

    // Up from the model: the run that trained it, the data it used, the run that made the data.
    let up = server.get("/projects/admin/p/artifacts/net/versions/v0/lineage?direction=up").await;
    let ids: Vec<&str> = up["nodes"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["artifact:admin/p/net:v0", "run:admin/p/train", "artifact:admin/p/raw:v0", "run:admin/p/prep"]);
    let labels: Vec<&str> = up["nodes"].as_array().unwrap().iter().map(|n| n["label"].as_str().unwrap()).collect();
    assert_eq!(labels[..3], ["net:v0", "train", "raw:v0"]);
    let edges: Vec<(String, String, String)> = up["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (e["from"].as_str().unwrap().into(), e["to"].as_str().unwrap().into(), e["kind"].as_str().unwrap().into())
        })
        .collect();
    assert!(edges.contains(&("run:admin/p/train".into(), "artifact:admin/p/net:v0".into(), "produced".into())));
    assert!(edges.contains(&("artifact:admin/p/raw:v0".into(), "run:admin/p/train".into(), "used".into())));
    assert_eq!(edges.len(), 3);

    // Down from the raw data's producer: everything that came of it.
    let down = server.get("/projects/admin/p/runs/prep/lineage?direction=down").await;
    let ids: Vec<&str> = down["nodes"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "run:admin/p/prep",
            "artifact:admin/p/raw:v0",
            "run:admin/p/train",
            "artifact:admin/p/net:v0",
            "run:admin/p/eval"
        ]
    );
    // Depth bounds the walk.
    let near = server.get("/projects/admin/p/runs/prep/lineage?direction=down&depth=1").await;
    assert_eq!(near["nodes"].as_array().unwrap().len(), 2);

    // What a run produced and used.
    let train = server.get("/projects/admin/p/runs/train/artifacts").await;
    assert_eq!(train["produced"][0]["name"], "net");
    assert_eq!(train["used"][0]["name"], "raw");
    // Bob's run used admin's data: bob's lineage leaves out what he may not see; admin sees all.
    let bob = server.post("/users", json!({"name": "bob"})).await["api_key"].as_str().unwrap().to_string();
    let (status, _) = server.call_with_key(&bob, Method::POST, "/projects/bob/q/runs", Some(json!({"id": "r1"}))).await;
    assert_eq!(status, StatusCode::CREATED);
    server.post("/projects/admin/p/artifacts/raw/versions/v0/uses", json!({"run": "bob/q/r1"})).await;
    let (_, seen) = server.call_with_key(&bob, Method::GET, "/projects/bob/q/runs/r1/lineage?direction=up", None).await;
    assert_eq!((seen["nodes"].as_array().unwrap().len(), seen["edges"].as_array().unwrap().len()), (1, 0), "{seen}");
    let all = server.get("/projects/bob/q/runs/r1/lineage?direction=up").await;
    assert_eq!(all["nodes"].as_array().unwrap().len(), 3, "{all}");

    let (status, body) = server.call(Method::GET, "/projects/admin/p/runs/prep/lineage?direction=sideways", None).await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument");
}

#[tokio::test]
async fn garbage_collection_frees_exactly_the_unreferenced_blobs_while_an_upload_runs() {
    let server = TestServer::start().await;
    let (a, b, c) = (bytes(1, 1000), bytes(2, 2000), bytes(3, 3000));
    log(&server, "p", "ds", &[("a", a.clone()), ("b", b.clone())], json!({})).await;
    log(&server, "p", "ds", &[("b", b.clone()), ("c", c.clone())], json!({})).await;
    assert_eq!(
        server.call(Method::DELETE, "/projects/admin/p/artifacts/ds/versions/v0", None).await.0,
        StatusCode::NO_CONTENT
    );

    // An upload in flight: part 0 of a large blob is in, part 1 is streaming slowly.
    let big = bytes(4, PART + 5000);
    let upload = missing(&server, &server.key, "p", &[("big", big.clone())]).await.remove(0);
    assert_eq!(put_part(&server, &upload, 0, big[..PART].to_vec()).await.0, StatusCode::OK);
    let tail = big[PART..].to_vec();
    let slow = futures::stream::unfold(0usize, move |sent| {
        let tail = tail.clone();
        async move {
            if sent >= tail.len() {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            let end = (sent + 1000).min(tail.len());
            Some((Ok::<_, std::io::Error>(bytes::Bytes::from(tail[sent..end].to_vec())), end))
        }
    });
    let url = format!("{}{}&part=1", server.base, upload["upload_url"].as_str().unwrap());
    let in_flight = tokio::spawn(server.client.put(url).body(reqwest::Body::wrap_stream(slow)).send());
    tokio::time::sleep(Duration::from_millis(100)).await;

    // With the default grace time, a blob no version holds yet is kept.
    let report = server.post("/admin/gc", json!({})).await;
    assert_eq!(report["blobs_deleted"], 0);
    // With none, exactly `a` goes (b and c are held by v1).
    let report = server.post("/admin/gc", json!({"grace_seconds": 0})).await;
    assert_eq!((report["blobs_deleted"].as_u64(), report["bytes_freed"].as_u64()), (Some(1), Some(1000)));
    assert_eq!(totals(&server).await, (2, 5000));
    for (path, data) in [("b", &b), ("c", &c)] {
        assert_eq!(download(&server, "p", "ds", "v1", path).await.1, *data);
    }

    // The upload finishes unharmed and completes.
    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let complete = format!("{}{}", server.base, upload["complete_url"].as_str().unwrap());
    assert_eq!(server.client.post(complete).send().await.unwrap().status(), StatusCode::OK);
    let (status, _) =
        create_version(&server, "p", "big", json!({"type": "model", "files": [entry("big", &big)]})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(totals(&server).await, (3, 5000 + big.len() as u64));

    // `a` is gone: a version naming it needs it sent again.
    let (status, _) =
        create_version(&server, "p", "again", json!({"type": "dataset", "files": [entry("a", &a)]})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(log(&server, "p", "again", &[("a", a.clone())], json!({})).await.0, 1);
}

#[tokio::test]
async fn a_version_past_its_ttl_is_deleted_and_its_blobs_freed() {
    let server = TestServer::start().await;
    let (_, version) = log(&server, "p", "tmp", &[("x", bytes(9, 64))], json!({"ttl_seconds": 1})).await;
    assert!(version["expires_at"].is_string());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let report = server.post("/admin/gc", json!({"grace_seconds": 0})).await;
    assert_eq!((report["expired_versions"].as_u64(), report["blobs_deleted"].as_u64()), (Some(1), Some(1)));
    let artifact = server.get("/projects/admin/p/artifacts/tmp").await;
    assert_eq!((artifact["versions"].as_u64(), artifact["latest"].as_u64()), (Some(0), None));
}

#[tokio::test]
async fn the_registry_keeps_an_audit_trail() {
    let server = TestServer::start().await;
    log(&server, "p", "net", &[("m", bytes(1, 10))], json!({"type": "model"})).await;
    log(&server, "p", "net", &[("m", bytes(2, 10))], json!({"type": "model"})).await;
    let (status, model) =
        server.call(Method::POST, "/entities/admin/models", Some(json!({"name": "classifier"}))).await;
    assert_eq!((status, model["name"].as_str()), (StatusCode::CREATED, Some("classifier")));
    let (status, _) = server.call(Method::POST, "/entities/admin/models", Some(json!({"name": "classifier"}))).await;
    assert_eq!(status, StatusCode::CONFLICT);

    let link = |artifact: &'static str, aliases: Value| {
        let server = &server;
        async move {
            server
                .call(
                    Method::POST,
                    "/entities/admin/models/classifier/versions",
                    Some(json!({"artifact": artifact, "aliases": aliases})),
                )
                .await
        }
    };
    let (status, v0) = link("p/net:v0", json!(["staging"])).await;
    assert_eq!(
        (status, v0["version"].as_str(), v0["artifact"].as_str()),
        (StatusCode::CREATED, Some("v0"), Some("admin/p/net:v0"))
    );
    let (status, v1) = link("admin/p/net:latest", json!([])).await;
    assert_eq!((status, v1["version"].as_str()), (StatusCode::CREATED, Some("v1")));
    let (status, again) = link("p/net:v1", json!([])).await;
    assert_eq!((status, again["version"].as_str()), (StatusCode::OK, Some("v1")));

    // staging moves to v1; production goes on v0.
    let put_alias = |alias: &'static str, version: &'static str| {
        let server = &server;
        async move {
            server
                .call(
                    Method::PUT,
                    &format!("/entities/admin/models/classifier/aliases/{alias}"),
                    Some(json!({"version": version})),
                )
                .await
        }
    };
    assert_eq!(put_alias("staging", "v1").await.1["aliases"], json!(["staging"]));
    assert_eq!(put_alias("production", "v0").await.0, StatusCode::OK);
    let model = server.get("/entities/admin/models/classifier").await;
    let aliases: Vec<(&str, &Value)> =
        model["versions"].as_array().unwrap().iter().map(|v| (v["version"].as_str().unwrap(), &v["aliases"])).collect();
    assert_eq!(aliases, [("v1", &json!(["staging"])), ("v0", &json!(["production"]))]);

    // A linked artifact version cannot be deleted from under the registry.
    let (status, body) = server.call(Method::DELETE, "/projects/admin/p/artifacts/net/versions/v0", None).await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    assert!(body["error"]["message"].as_str().unwrap().contains("admin/classifier:v0"), "{body}");

    // Another member moves production, then unlinks v0.
    let team = server.post("/entities", json!({"name": "lab"})).await;
    assert_eq!(team["name"], "lab");
    let alice =
        server.post("/users", json!({"name": "alice", "admin": true})).await["api_key"].as_str().unwrap().to_string();
    let (status, _) = server
        .call_with_key(
            &alice,
            Method::PUT,
            "/entities/admin/models/classifier/aliases/production",
            Some(json!({"version": "staging"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        server.call(Method::DELETE, "/entities/admin/models/classifier/aliases/staging", None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server.call(Method::DELETE, "/entities/admin/models/classifier/versions/v0", None).await.0,
        StatusCode::NO_CONTENT
    );

    let audit = server.get("/entities/admin/models/classifier/audit").await;
    let trail: Vec<String> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {} {} {}",
                e["user"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                e["version"].as_str().unwrap_or("-"),
                e["alias"].as_str().unwrap_or("-"),
                e["previous_version"].as_str().unwrap_or("-"),
                e["artifact"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        trail,
        [
            "admin create - - - -",
            "admin link v0 - - admin/p/net:v0",
            "admin alias_set v0 staging - -",
            "admin link v1 - - admin/p/net:v1",
            "admin alias_set v1 staging v0 -",
            "admin alias_set v0 production - -",
            "alice alias_set v1 production v0 -",
            "admin alias_remove v1 staging - -",
            "admin unlink v0 - - admin/p/net:v0",
        ]
    );
    assert!(audit[0]["at"].as_str().unwrap().ends_with('Z'));
    // Unlinked, the artifact version can go.
    assert_eq!(
        server.call(Method::DELETE, "/projects/admin/p/artifacts/net/versions/v0", None).await.0,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn paths_names_and_manifests_that_could_escape_are_refused() {
    let server = TestServer::start().await;
    let data = bytes(1, 10);
    upload(&server, "p", &[("x", data.clone())]).await;
    for path in ["../x", "/etc/passwd", "a/../../b", "a//b", "./a", "a\\b", "", "a\u{0}b"] {
        let (status, body) =
            create_version(&server, "p", "ds", json!({"type": "dataset", "files": [entry(path, &data)]})).await;
        assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument");
    }
    let bad_manifests = [
        json!({"type": "dataset", "files": [entry("a", &data), entry("a", &data)]}),
        json!({"type": "dataset", "files": [{"path": "a", "size": 10, "sha256": "ABC"}]}),
        json!({"type": "dataset", "files": [{"path": "a", "size": 10}]}),
        json!({"type": "dataset", "files": [{"path": "a", "size": 10, "reference": "ftp://x/y"}]}),
        json!({"type": "dataset", "files": [{"path": "a", "size": 11, "sha256": sha(&data)}]}),
        json!({"type": "data set", "files": []}),
        json!({"type": "dataset", "metadata": [1, 2], "files": []}),
        json!({"type": "dataset", "files": [], "aliases": ["latest"]}),
    ];
    for body in bad_manifests {
        let (status, answer) = create_version(&server, "p", "ds", body.clone()).await;
        assert_error(status, &answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument");
    }
    for name in ["..", ".hidden", "a%2Fb", "sp%20ace"] {
        let (status, body) = server
            .call(
                Method::POST,
                &format!("/projects/admin/p/artifacts/{name}/versions"),
                Some(json!({"type": "t", "files": []})),
            )
            .await;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::NOT_FOUND,
            "{name}: {status} {body}"
        );
    }
    // A reference is recorded, not fetched; a stored file is served, a reference is not.
    let (status, version) = create_version(
        &server,
        "p",
        "ds",
        json!({"type": "dataset", "files": [entry("local.bin", &data), {"path": "remote/x.parquet", "size": 123, "reference": "s3://bucket/x.parquet", "digest": "\"etag-1\""}]}),
    )
    .await;
    assert_eq!((status, version["file_count"].as_u64()), (StatusCode::CREATED, Some(2)), "{version}");
    let (status, _) =
        server.call(Method::GET, "/projects/admin/p/artifacts/ds/versions/v0/files/remote/x.parquet", None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let response =
        server.request(Method::GET, "/projects/admin/p/artifacts/ds/versions/v0/files/local.bin").send().await.unwrap();
    assert_eq!(response.bytes().await.unwrap().to_vec(), data);
    let (status, _) =
        server.call(Method::GET, "/projects/admin/p/artifacts/ds/versions/v0/files/..%2Flocal.bin", None).await;
    assert!(status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::NOT_FOUND, "{status}");
    // The type cannot change between versions; a producing run must exist.
    let (status, _) = create_version(&server, "p", "ds", json!({"type": "model", "files": []})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = create_version(&server, "p", "ds", json!({"type": "dataset", "files": [], "run": "nope"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Someone else's project is forbidden.
    let bob = server.post("/users", json!({"name": "bob"})).await["api_key"].as_str().unwrap().to_string();
    let (status, _) = server.call_with_key(&bob, Method::GET, "/projects/admin/p/artifacts", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = server.call_with_key(&bob, Method::POST, "/admin/gc", Some(json!({}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_artifact_routes_are_in_the_openapi_document() {
    let server = TestServer::start().await;
    let openapi = server.get("/openapi.json").await;
    for (path, method) in [
        ("/api/v1/projects/{entity}/{project}/blobs/missing", "post"),
        ("/api/v1/blobs/{sha256}/upload", "put"),
        ("/api/v1/projects/{entity}/{project}/artifacts/{name}/versions", "post"),
        ("/api/v1/projects/{entity}/{project}/artifacts/{name}/versions/{version}/lineage", "get"),
        ("/api/v1/entities/{entity}/models/{model}/audit", "get"),
    ] {
        assert!(openapi["paths"][path][method].is_object(), "{method} {path}");
    }
}
