//! A chart read through the real server equals a brute-force M4 reduction of the raw points
//! read back from the same server, for random series, batchings, ranges and bucket counts.

mod common;

use common::{TestServer, number};
use heron_core::history::{Buckets, Point, StepBuckets, reduce_points};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

fn series() -> impl Strategy<Value = Vec<(i64, f64)>> {
    let value = prop_oneof![
        30 => -1e3f64..1e3,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(1e12),
    ];
    prop::collection::vec((1i64..40, value), 1..6000).prop_map(|gaps| {
        let mut step = -50;
        gaps.into_iter()
            .map(|(gap, v)| {
                step += gap;
                (step, v)
            })
            .collect()
    })
}

fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

#[test]
fn chart_reads_equal_brute_force_m4() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(TestServer::start());
    let mut runner = TestRunner::new(Config { cases: 24, ..Config::default() });
    let case = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(
            &(series(), 1usize..3000, prop::collection::vec((0.0f64..1.0, 0.0f64..1.0, 1u32..1500), 4)),
            |(points, batch, queries)| {
                let run = format!("case-{}", case.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
                runtime.block_on(async {
                    server.create_run("prop", &run).await;
                    server.log_series("prop", &run, "y", &points, batch).await;
                    // The raw points as the server returns them.
                    let page =
                        server.get(&format!("/projects/admin/prop/runs/{run}/history?keys=y&limit=100000")).await;
                    let raw: Vec<Point> = page["rows"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| Point::new(r["_step"].as_i64().unwrap(), number(&r["y"])))
                        .collect();
                    assert_eq!(raw.len(), points.len());
                    let (first, last) = (points[0].0, points[points.len() - 1].0);
                    for (a, b, buckets) in &queries {
                        let lo = first - 20 + ((last - first + 40) as f64 * a.min(*b)) as i64;
                        let hi = first - 20 + ((last - first + 40) as f64 * a.max(*b)) as i64;
                        let chart = server
                            .post(
                                "/projects/admin/prop/chart",
                                json!({"runs": [run], "keys": ["y"], "x_min": lo, "x_max": hi, "buckets": buckets}),
                            )
                            .await;
                        let expect = StepBuckets { lo, hi, n: *buckets };
                        let truth = reduce_points(raw.iter().copied(), |p| {
                            (p.step >= lo && p.step <= hi).then(|| expect.bucket_of(p.step))
                        });
                        let s = &chart["series"][0];
                        let got: Vec<u64> =
                            s["bucket"].as_array().unwrap().iter().map(|b| b.as_u64().unwrap()).collect();
                        assert_eq!(
                            got,
                            truth.keys().map(|b| *b as u64).collect::<Vec<_>>(),
                            "buckets for {lo}..{hi}/{buckets}"
                        );
                        for (i, summary) in truth.values().enumerate() {
                            let at = |field: &str| s[field][i].clone();
                            assert_eq!(at("count").as_u64().unwrap(), summary.count);
                            assert_eq!(at("first_x").as_f64().unwrap() as i64, summary.first.step);
                            assert!(same(number(&at("first_y")), summary.first.value));
                            assert_eq!(at("last_x").as_f64().unwrap() as i64, summary.last.step);
                            assert!(same(number(&at("last_y")), summary.last.value));
                            match summary.min {
                                Some(min) => {
                                    assert_eq!(at("min_x").as_f64().unwrap() as i64, min.step);
                                    assert!(same(number(&at("min_y")), min.value));
                                }
                                None => assert_eq!(at("min_y"), Value::Null),
                            }
                            match summary.max {
                                Some(max) => {
                                    assert_eq!(at("max_x").as_f64().unwrap() as i64, max.step);
                                    assert!(same(number(&at("max_y")), max.value));
                                }
                                None => assert_eq!(at("max_y"), Value::Null),
                            }
                        }
                    }
                });
                Ok(())
            },
        )
        .unwrap();
    runtime.block_on(server.shutdown());
}
