//! A small real training logged with the Heron Rust SDK: a one-hidden-layer network (tanh)
//! fitted to y = sin(3x) by stochastic gradient descent with a decaying learning rate.
//!
//!     cargo run -p heron-example --release -- [EPOCHS]
//!
//! The server and key come from HERON_BASE_URL / HERON_API_KEY (or the credentials file);
//! HERON_MODE=offline logs locally for a later `heron sync`.

use heron_client::{MetricDef, Run, RunOptions};
use serde_json::json;

const HIDDEN: usize = 16;

struct Net {
    w1: [f64; HIDDEN],
    b1: [f64; HIDDEN],
    w2: [f64; HIDDEN],
    b2: f64,
}

impl Net {
    fn forward(&self, x: f64) -> (f64, [f64; HIDDEN]) {
        let mut h = [0.0; HIDDEN];
        for (i, h) in h.iter_mut().enumerate() {
            *h = (self.w1[i] * x + self.b1[i]).tanh();
        }
        (h.iter().zip(&self.w2).map(|(h, w)| h * w).sum::<f64>() + self.b2, h)
    }

    /// One SGD step on (x, y); returns the squared error before the step.
    fn step(&mut self, x: f64, y: f64, lr: f64) -> f64 {
        let (out, h) = self.forward(x);
        let d = out - y;
        for (i, hi) in h.iter().enumerate() {
            let dh = d * self.w2[i] * (1.0 - hi * hi);
            self.w2[i] -= lr * d * hi;
            self.w1[i] -= lr * dh * x;
            self.b1[i] -= lr * dh;
        }
        self.b2 -= lr * d;
        d * d
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let epochs: usize = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(40);
    let lr0 = 0.05;
    let run = Run::init(RunOptions {
        project: Some("examples".into()),
        name: Some("sine-mlp".into()),
        config: Some(json!({"hidden": HIDDEN, "lr": lr0, "epochs": epochs, "activation": "tanh"})),
        tags: Some(vec!["rust".into()]),
        ..Default::default()
    })?;
    run.define_metric(MetricDef { name: "val/mse".into(), summary: vec!["min".into()], ..Default::default() });

    // Deterministic initial weights and data (no RNG crate needed for an example).
    let wave = |i: usize, k: f64| ((i as f64 + 1.0) * k).sin();
    let mut net = Net {
        w1: std::array::from_fn(|i| 2.0 * wave(i, 1.7)),
        b1: std::array::from_fn(|i| wave(i, 2.3)),
        w2: std::array::from_fn(|i| 0.5 * wave(i, 3.1)),
        b2: 0.0,
    };
    let train: Vec<(f64, f64)> = (0..400)
        .map(|i| {
            let x = -1.0 + 2.0 * ((i * 37) % 400) as f64 / 400.0;
            (x, (3.0 * x).sin())
        })
        .collect();
    let val: Vec<(f64, f64)> = (0..100)
        .map(|i| {
            let x = -1.0 + 0.02 * i as f64 + 0.01;
            (x, (3.0 * x).sin())
        })
        .collect();

    for epoch in 0..epochs {
        let lr = lr0 / (1.0 + 0.05 * epoch as f64);
        let mut total = 0.0;
        for (i, &(x, y)) in train.iter().enumerate() {
            total += net.step(x, y, lr);
            if i % 50 == 49 {
                run.log([("train/mse", total / 50.0), ("train/lr", lr)]);
                total = 0.0;
            }
        }
        let mse = val.iter().map(|&(x, y)| (net.forward(x).0 - y).powi(2)).sum::<f64>() / val.len() as f64;
        run.log([("val/mse", mse), ("epoch", epoch as f64)]);
        println!("epoch {:>3}/{epochs}: val mse {mse:.5}", epoch + 1);
    }
    let report = run.finish(0);
    println!("run {}: {}", run.info().id, report.message.unwrap_or_else(|| "uploaded".into()));
    Ok(())
}
