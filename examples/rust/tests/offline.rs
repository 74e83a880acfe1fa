//! The Rust example trains for real: run offline, its run log holds every epoch's validation
//! error, and the error goes down.

use heron_client::runlog::{Cell, LogReader, Record};

#[test]
fn the_example_learns_and_logs_every_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_heron-example"))
        .arg("12")
        .env("HERON_MODE", "offline")
        .env("HERON_DIR", dir.path())
        .env("HERON_SYSTEM_INTERVAL", "0")
        .env("HERON_GIT", "0")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("heron sync"), "an offline run says how to upload it: {stdout}");

    let run_dir = std::fs::read_dir(dir.path()).unwrap().flatten().next().unwrap().path();
    let mut reader = LogReader::open(&run_dir.join("run.log")).unwrap();
    let mut val_mse = Vec::new();
    while let Some(record) = reader.next_record().unwrap() {
        if let Record::Row(row) = record {
            for (key, value) in row.values {
                if let ("val/mse", Cell::Scalar(x)) = (key.as_str(), value) {
                    val_mse.push(x);
                }
            }
        }
    }
    assert_eq!(val_mse.len(), 12, "one validation error per epoch");
    assert!(val_mse[11] < val_mse[0] / 2.0, "the error goes down: {val_mse:?}");
}
