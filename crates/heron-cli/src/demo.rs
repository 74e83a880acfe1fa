//! `heron demo`: a small real training logged into the project `demo`, so a newcomer's first
//! dashboard has runs to look at. Logistic regression by mini-batch gradient descent on a
//! synthetic two-class problem, one run per learning rate. The data is logged as a dataset
//! artifact that every run uses, each run logs its weights as a version of a model artifact,
//! and the best one is linked in the model registry as `production`, so the artifact pages
//! and the lineage graph have something to show too.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use heron_client::artifacts::Artifact;
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

fn write_csv(path: &Path, data: &Data) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let header: Vec<String> = (0..FEATURES).map(|i| format!("x{i}")).collect();
    writeln!(out, "{},y", header.join(","))?;
    for (x, y) in data.x.iter().zip(&data.y) {
        let row: Vec<String> = x.iter().map(|v| format!("{v:.5}")).collect();
        writeln!(out, "{},{y}", row.join(","))?;
    }
    out.flush()?;
    Ok(())
}

/// A run that writes the data set to CSV and logs it as the `synthetic-data` artifact.
fn log_data(settings: &Settings, folder: &Path, train: &Data, valid: &Data) -> Result<()> {
    let run = Run::init(RunOptions {
        project: Some("demo".into()),
        name: Some("make-synthetic-data".into()),
        job_type: Some("data".into()),
        tags: Some(vec!["demo".into()]),
        notes: Some("Writes the demo's synthetic two-class data set and logs it as an artifact.".into()),
        settings: Some(settings.clone()),
        ..Default::default()
    })?;
    write_csv(&folder.join("train.csv"), train)?;
    write_csv(&folder.join("valid.csv"), valid)?;
    let mut data = Artifact::new("synthetic-data", "dataset");
    data.description("Two classes, 16 Gaussian features, a linear boundary with noise.").metadata(json!({
        "train_rows": train.y.len(), "valid_rows": valid.y.len(), "features": FEATURES, "seed": 7
    }));
    data.add_file(&folder.join("train.csv"), Some("train.csv"))?;
    data.add_file(&folder.join("valid.csv"), Some("valid.csv"))?;
    run.log_artifact(&data, &[])?;
    run.finish(0);
    Ok(())
}

/// Logs the demo runs against `settings`' server. Returns the number of runs logged.
pub fn log_demo(settings: Settings, epochs: usize, mut say: impl FnMut(&str)) -> Result<usize> {
    let train = make_data(4000, 7);
    let valid = make_data(1000, 11);
    let folder = tempfile::tempdir().context("cannot make a folder for the demo's files")?;
    let mut settings = settings;
    settings.system_interval = Some(Duration::from_millis(500));
    settings.git = false;
    log_data(&settings, folder.path(), &train, &valid)?;
    let grid = [(0.5, 32), (0.1, 32), (0.02, 64), (1.5, 128)];
    let mut best: Option<(f64, String)> = None;
    for (index, &(lr, batch)) in grid.iter().enumerate() {
        let settings = settings.clone();
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
        run.use_artifact("synthetic-data:latest")?;
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
        let weights = folder.path().join(format!("weights-{index}.json"));
        std::fs::write(&weights, serde_json::to_vec_pretty(&json!({"weights": w[..FEATURES], "bias": w[FEATURES]}))?)?;
        let mut model = Artifact::new("logreg", "model");
        model.metadata(json!({"lr": lr, "batch_size": batch, "val_acc": val_acc}));
        model.add_file(&weights, Some("weights.json"))?;
        let version = run.log_artifact(&model, &[])?;
        if best.as_ref().is_none_or(|(acc, _)| val_acc > *acc) {
            best = Some((val_acc, version.version.clone()));
        }
        let report = run.finish(0);
        if !report.uploaded {
            anyhow::bail!("the demo run was not uploaded: {}", report.message.unwrap_or_default());
        }
    }
    if let Some((val_acc, version)) = best {
        let artifacts = heron_client::artifacts::Artifacts::new(&settings)?;
        let entity = artifacts.entity()?;
        if artifacts.model(&entity, "demo-classifier").is_err() {
            artifacts.create_model(&entity, "demo-classifier", Some("The demo's logistic regression"))?;
        }
        artifacts.link(&entity, "demo-classifier", &format!("demo/logreg:{version}"), &["production".into()])?;
        say(&format!("best model logreg:{version} (val_acc {val_acc:.3}) linked as demo-classifier:production"));
    }
    Ok(grid.len() + 1)
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
