//! `heron demo`: a small real training logged into the project `demo`, so a newcomer's first
//! dashboard has runs to look at. Logistic regression by mini-batch gradient descent on a
//! synthetic two-class problem, one run per learning rate.

use std::time::Duration;

use anyhow::Result;
use heron_client::{ConsoleStream, MetricDef, Mode, Run, RunOptions, Settings};
use serde_json::json;

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Server URL
    #[arg(long, env = "HERON_BASE_URL", default_value = heron_client::settings::DEFAULT_BASE_URL)]
    pub host: String,
    /// API key [default: HERON_API_KEY, else the credentials file]
    #[arg(long)]
    pub key: Option<String>,
    /// Passes over the training data per run
    #[arg(long, default_value_t = 30)]
    pub epochs: usize,
}

/// A deterministic generator (xorshift64*), so the demo data is the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.next().max(1e-12), self.next());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

const FEATURES: usize = 16;

struct Data {
    x: Vec<[f64; FEATURES]>,
    y: Vec<f64>,
}

fn make_data(n: usize, seed: u64) -> Data {
    let mut rng = Rng(seed);
    let truth: Vec<f64> = (0..FEATURES).map(|i| if i % 3 == 0 { 1.5 } else { -0.5 + i as f64 * 0.05 }).collect();
    let mut data = Data { x: Vec::with_capacity(n), y: Vec::with_capacity(n) };
    for _ in 0..n {
        let mut x = [0.0; FEATURES];
        x.iter_mut().for_each(|v| *v = rng.normal());
        let logit: f64 = x.iter().zip(&truth).map(|(a, b)| a * b).sum::<f64>() + 0.8 * rng.normal();
        data.x.push(x);
        data.y.push(f64::from(logit > 0.0));
    }
    data
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Mean log-loss and accuracy of weights `w` (bias last) on `data`.
fn evaluate(w: &[f64; FEATURES + 1], data: &Data) -> (f64, f64) {
    let (mut loss, mut correct) = (0.0, 0.0);
    for (x, &y) in data.x.iter().zip(&data.y) {
        let p = sigmoid(x.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() + w[FEATURES]).clamp(1e-9, 1.0 - 1e-9);
        loss -= y * p.ln() + (1.0 - y) * (1.0 - p).ln();
        correct += f64::from((p > 0.5) == (y > 0.5));
    }
    (loss / data.y.len() as f64, correct / data.y.len() as f64)
}

/// Logs the demo runs against `settings`' server. Returns the number of runs logged.
pub fn log_demo(settings: Settings, epochs: usize, mut say: impl FnMut(&str)) -> Result<usize> {
    let train = make_data(4000, 7);
    let valid = make_data(1000, 11);
    let grid = [(0.5, 32), (0.1, 32), (0.02, 64), (1.5, 128)];
    for (index, &(lr, batch)) in grid.iter().enumerate() {
        let mut settings = settings.clone();
        settings.system_interval = Some(Duration::from_millis(500));
        settings.git = false;
        let run = Run::init(RunOptions {
            project: Some("demo".into()),
            name: Some(format!("logreg-lr{lr}-bs{batch}")),
            config: Some(
                json!({"lr": lr, "batch_size": batch, "epochs": epochs, "optimizer": "sgd", "features": FEATURES}),
            ),
            tags: Some(vec!["demo".into(), "logistic-regression".into()]),
            group: Some("logreg-sweep".into()),
            job_type: Some("train".into()),
            notes: Some("Logged by `heron demo`: logistic regression on synthetic data.".into()),
            settings: Some(settings),
            ..Default::default()
        })?;
        run.define_metric(MetricDef { name: "epoch".into(), hidden: true, ..Default::default() });
        run.define_metric(MetricDef {
            name: "val/*".into(),
            step_metric: Some("epoch".into()),
            summary: vec!["best".into(), "last".into()],
            goal: Some("maximize".into()),
            ..Default::default()
        });
        run.define_metric(MetricDef { name: "train/loss".into(), summary: vec!["min".into()], ..Default::default() });
        let say_line = |run: &Run, text: String| {
            run.console_write(ConsoleStream::Stdout, &format!("{text}\n"));
            text
        };
        say(&say_line(&run, format!("run {}/{}: lr={lr} batch_size={batch}", index + 1, grid.len())));
        let mut w = [0.0; FEATURES + 1];
        let mut rng = Rng(1000 + index as u64);
        let mut order: Vec<usize> = (0..train.y.len()).collect();
        let started = std::time::Instant::now();
        for epoch in 0..epochs {
            for i in (1..order.len()).rev() {
                order.swap(i, (rng.next() * (i + 1) as f64) as usize);
            }
            for chunk in order.chunks(batch) {
                let mut grad = [0.0; FEATURES + 1];
                let mut loss = 0.0;
                for &i in chunk {
                    let x = &train.x[i];
                    let p = sigmoid(x.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() + w[FEATURES]);
                    let err = p - train.y[i];
                    grad.iter_mut().zip(x.iter().chain(std::iter::once(&1.0))).for_each(|(g, xi)| *g += err * xi);
                    let p = p.clamp(1e-9, 1.0 - 1e-9);
                    loss -= train.y[i] * p.ln() + (1.0 - train.y[i]) * (1.0 - p).ln();
                }
                let n = chunk.len() as f64;
                w.iter_mut().zip(&grad).for_each(|(wi, g)| *wi -= lr * g / n);
                let grad_norm = grad.iter().map(|g| (g / n) * (g / n)).sum::<f64>().sqrt();
                run.log([("train/loss", loss / n), ("train/grad_norm", grad_norm), ("train/lr", lr)]);
            }
            let (val_loss, val_acc) = evaluate(&w, &valid);
            let (_, train_acc) = evaluate(&w, &train);
            run.log([("epoch", epoch as f64), ("val/loss", val_loss), ("val/acc", val_acc), ("train/acc", train_acc)]);
            if epoch % 5 == 4 || epoch + 1 == epochs {
                say(&say_line(
                    &run,
                    format!("epoch {:>3}/{epochs}  val_loss {val_loss:.4}  val_acc {val_acc:.3}", epoch + 1),
                ));
            }
            // Leave the system sampler a few readings per run.
            std::thread::sleep(Duration::from_millis(40));
        }
        let (_, val_acc) = evaluate(&w, &valid);
        run.update_summary(json!({"final_val_acc": val_acc, "train_seconds": started.elapsed().as_secs_f64()}));
        let report = run.finish(0);
        if !report.uploaded {
            anyhow::bail!("the demo run was not uploaded: {}", report.message.unwrap_or_default());
        }
    }
    Ok(grid.len())
}

pub fn run(args: DemoArgs) -> Result<()> {
    let mut settings = Settings::from_env()?.with_base_url(&args.host);
    if let Some(key) = args.key {
        settings.api_key = Some(key);
    }
    settings.mode = Mode::Online;
    let base = settings.base_url.clone();
    let runs = log_demo(settings, args.epochs, |line| println!("{line}"))?;
    println!("Logged {runs} runs into the project \"demo\" at {base}.");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_model_learns() {
        let train = make_data(2000, 7);
        let mut w = [0.0; FEATURES + 1];
        for _ in 0..50 {
            let mut grad = [0.0; FEATURES + 1];
            for (x, &y) in train.x.iter().zip(&train.y) {
                let err = sigmoid(x.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() + w[FEATURES]) - y;
                grad.iter_mut().zip(x.iter().chain(std::iter::once(&1.0))).for_each(|(g, xi)| *g += err * xi);
            }
            w.iter_mut().zip(&grad).for_each(|(wi, g)| *wi -= 0.5 * g / train.y.len() as f64);
        }
        let (loss, acc) = evaluate(&w, &make_data(1000, 11));
        assert!(acc > 0.8, "accuracy {acc}");
        assert!(loss < 0.5, "loss {loss}");
    }
}
