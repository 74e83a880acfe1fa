//! System metrics for a live run: the machine's CPU, memory, disk and network, the training
//! process itself, and NVIDIA GPUs through NVML.
//!
//! Every reading is best effort: one that the platform cannot give is left out of the sample,
//! never reported as an error, so a sampler thread can call [`SystemSampler::sample`] forever.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Instant;

use nvml_wrapper::Nvml;
use nvml_wrapper::enum_wrappers::device::TemperatureSensor;
use sysinfo::{
    DiskRefreshKind, Disks, MINIMUM_CPU_UPDATE_INTERVAL, MemoryRefreshKind, Networks, Pid, ProcessRefreshKind,
    ProcessesToUpdate, System,
};

const BYTES_PER_MB: f64 = 1024.0 * 1024.0;
const BYTES_PER_GB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Samples system metrics for one training process.
///
/// Sizes are in binary units: `_mb` is 2^20 bytes and `_gb` is 2^30 bytes. Keys:
///
/// - `cpu` (whole machine, 0-100), `cpu.count` (logical CPUs);
/// - `memory` (used %), `memory.used_mb`, `memory.available_mb`;
/// - `disk` (used % of the filesystem holding the working directory at [`SystemSampler::new`],
///   as `df` computes it), `disk.used_gb`;
/// - `disk.read_mb`, `disk.write_mb`: cumulative since the sampler started, for the whole
///   machine (every mounted block device, each counted once), so that data-loader worker
///   processes are included;
/// - `network.sent_mb`, `network.recv_mb`: cumulative since the sampler started, all interfaces
///   including loopback;
/// - `proc.cpu` (100 = one core), `proc.memory.rss_mb`, `proc.memory.percent`, `proc.threads`
///   for the process given to [`SystemSampler::new`]; absent once that process has exited;
/// - per NVIDIA GPU `i`: `gpu.{i}.util`, `gpu.{i}.memory` (memory-controller utilisation %),
///   `gpu.{i}.memory_allocated` (% of total memory in use), `gpu.{i}.memory_used_mb`,
///   `gpu.{i}.temp` (°C), `gpu.{i}.power_watts`, `gpu.{i}.power_percent` (of the enforced limit).
pub struct SystemSampler {
    pid: Pid,
    /// `None` where sysinfo does not support the platform.
    system: Option<System>,
    /// When CPU times were last read; sysinfo ignores CPU refreshes closer together than
    /// [`MINIMUM_CPU_UPDATE_INTERVAL`].
    last_cpu_refresh: Instant,
    /// The process's CPU time (ms) and when it was read. sysinfo's own process CPU usage reads 0
    /// after its first refresh when the process had used no full clock tick yet.
    last_process_cpu: Option<(u64, Instant)>,
    disks: Option<Disks>,
    disk_io: DiskIo,
    networks: Option<Networks>,
    network_sent_bytes: u64,
    network_received_bytes: u64,
    working_dir: Option<PathBuf>,
    /// `None` when there is no NVIDIA driver or no GPU.
    nvml: Option<Nvml>,
    gpu_count: u32,
}

impl SystemSampler {
    /// `pid`: the process whose own CPU/memory/threads are reported (the training process).
    ///
    /// Reads every counter once so that the first [`SystemSampler::sample`] reports rates and
    /// cumulative values relative to now. A machine without an NVIDIA driver simply has no GPUs.
    pub fn new(pid: u32) -> SystemSampler {
        let pid = Pid::from_u32(pid);
        let mut system = System::new().ok();
        let mut last_process_cpu = None;
        if let Some(system) = system.as_mut() {
            // The first CPU refresh also builds the CPU list.
            system.refresh_cpu_usage();
            refresh_process(system, pid);
            last_process_cpu = system.process(pid).map(|process| (process.accumulated_cpu_time(), Instant::now()));
        }
        let disks = Disks::new_with_refreshed_list_specifics(DiskRefreshKind::nothing().with_io_usage()).ok();
        let mut disk_io = DiskIo::default();
        if let Some(disks) = &disks {
            disk_io.update(disk_totals(disks));
        }
        let nvml = Nvml::init().ok();
        let gpu_count = nvml.as_ref().and_then(|nvml| nvml.device_count().ok()).unwrap_or(0);
        SystemSampler {
            pid,
            system,
            last_cpu_refresh: Instant::now(),
            last_process_cpu,
            disks,
            disk_io,
            networks: Networks::new_with_refreshed_list().ok(),
            network_sent_bytes: 0,
            network_received_bytes: 0,
            working_dir: std::env::current_dir().ok(),
            nvml: if gpu_count > 0 { nvml } else { None },
            gpu_count,
        }
    }

    /// One sample: (key, value) pairs. Call every few seconds from a background thread.
    ///
    /// CPU usage is measured over the time since the previous sample (or since `new`); when
    /// that is shorter than sysinfo's minimum interval (200 ms on Linux) this sleeps for the
    /// rest of it, so the reading is never stale.
    pub fn sample(&mut self) -> Vec<(String, f64)> {
        let mut sample = Sample::default();
        self.sample_cpu_memory_and_process(&mut sample);
        self.sample_disk(&mut sample);
        self.sample_network(&mut sample);
        self.sample_gpus(&mut sample);
        sample.values
    }

    /// The name of each NVIDIA GPU, by NVML index (empty when there is none; "unknown" where NVML
    /// cannot name one), for run metadata.
    pub fn gpu_names(&self) -> Vec<String> {
        let Some(nvml) = &self.nvml else {
            return Vec::new();
        };
        (0..self.gpu_count)
            .map(|index| {
                nvml.device_by_index(index).and_then(|device| device.name()).unwrap_or_else(|_| "unknown".to_string())
            })
            .collect()
    }

    fn sample_cpu_memory_and_process(&mut self, sample: &mut Sample) {
        let Some(system) = self.system.as_mut() else {
            return;
        };
        let since_last_refresh = self.last_cpu_refresh.elapsed();
        if since_last_refresh < MINIMUM_CPU_UPDATE_INTERVAL {
            std::thread::sleep(MINIMUM_CPU_UPDATE_INTERVAL - since_last_refresh);
        }
        system.refresh_cpu_usage();
        refresh_process(system, self.pid);
        self.last_cpu_refresh = Instant::now();
        system.refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram());

        sample.push("cpu", f64::from(system.global_cpu_usage()));
        if !system.cpus().is_empty() {
            sample.push("cpu.count", system.cpus().len() as f64);
        }
        let total_memory = system.total_memory();
        if total_memory > 0 {
            sample.push("memory", system.used_memory() as f64 / total_memory as f64 * 100.0);
            sample.push("memory.used_mb", system.used_memory() as f64 / BYTES_PER_MB);
            sample.push("memory.available_mb", system.available_memory() as f64 / BYTES_PER_MB);
        }

        let Some(process) = system.process(self.pid) else {
            self.last_process_cpu = None;
            return;
        };
        let process_cpu = (process.accumulated_cpu_time(), Instant::now());
        if let Some((last_cpu_ms, last_read)) = self.last_process_cpu {
            let wall_ms = process_cpu.1.duration_since(last_read).as_secs_f64() * 1000.0;
            if wall_ms > 0.0 {
                let percent = process_cpu.0.saturating_sub(last_cpu_ms) as f64 / wall_ms * 100.0;
                // CPU time is counted in clock ticks, which can round a busy process above
                // what its cores allow.
                let all_cores = 100.0 * system.cpus().len().max(1) as f64;
                sample.push("proc.cpu", percent.min(all_cores));
            }
        }
        self.last_process_cpu = Some(process_cpu);
        let rss = process.memory();
        sample.push("proc.memory.rss_mb", rss as f64 / BYTES_PER_MB);
        if total_memory > 0 {
            sample.push("proc.memory.percent", rss as f64 / total_memory as f64 * 100.0);
        }
        if let Some(threads) = thread_count(self.pid.as_u32()) {
            sample.push("proc.threads", threads);
        }
    }

    fn sample_disk(&mut self, sample: &mut Sample) {
        if let Some((used_percent, used_bytes)) = self.working_dir.as_deref().and_then(filesystem_usage) {
            sample.push("disk", used_percent);
            sample.push("disk.used_gb", used_bytes as f64 / BYTES_PER_GB);
        }
        if let Some(disks) = self.disks.as_mut() {
            disks.refresh_specifics(true, DiskRefreshKind::nothing().with_io_usage());
            self.disk_io.update(disk_totals(disks));
            sample.push("disk.read_mb", self.disk_io.read_bytes as f64 / BYTES_PER_MB);
            sample.push("disk.write_mb", self.disk_io.written_bytes as f64 / BYTES_PER_MB);
        }
    }

    fn sample_network(&mut self, sample: &mut Sample) {
        let Some(networks) = self.networks.as_mut() else {
            return;
        };
        networks.refresh(true);
        // sysinfo reports bytes since its previous refresh and starts a new interface at zero,
        // so summing per-refresh deltas survives interfaces coming and going.
        for data in networks.values() {
            self.network_sent_bytes = self.network_sent_bytes.saturating_add(data.transmitted());
            self.network_received_bytes = self.network_received_bytes.saturating_add(data.received());
        }
        sample.push("network.sent_mb", self.network_sent_bytes as f64 / BYTES_PER_MB);
        sample.push("network.recv_mb", self.network_received_bytes as f64 / BYTES_PER_MB);
    }

    fn sample_gpus(&self, sample: &mut Sample) {
        let Some(nvml) = &self.nvml else {
            return;
        };
        for index in 0..self.gpu_count {
            let Ok(device) = nvml.device_by_index(index) else {
                continue;
            };
            let key = |name: &str| format!("gpu.{index}.{name}");
            if let Ok(utilization) = device.utilization_rates() {
                sample.push(key("util"), f64::from(utilization.gpu));
                sample.push(key("memory"), f64::from(utilization.memory));
            }
            if let Ok(memory) = device.memory_info() {
                if memory.total > 0 {
                    sample.push(key("memory_allocated"), memory.used as f64 / memory.total as f64 * 100.0);
                }
                sample.push(key("memory_used_mb"), memory.used as f64 / BYTES_PER_MB);
            }
            if let Ok(celsius) = device.temperature(TemperatureSensor::Gpu) {
                sample.push(key("temp"), f64::from(celsius));
            }
            if let Ok(milliwatts) = device.power_usage() {
                sample.push(key("power_watts"), f64::from(milliwatts) / 1000.0);
                if let Ok(limit_milliwatts) = device.enforced_power_limit()
                    && limit_milliwatts > 0
                {
                    sample.push(key("power_percent"), f64::from(milliwatts) / f64::from(limit_milliwatts) * 100.0);
                }
            }
        }
    }
}

/// The values of one sample; non-finite values are dropped rather than reported.
#[derive(Default)]
struct Sample {
    values: Vec<(String, f64)>,
}

impl Sample {
    fn push(&mut self, key: impl Into<String>, value: f64) {
        if value.is_finite() {
            self.values.push((key.into(), value));
        }
    }
}

/// Refreshes only `pid`'s CPU time and memory, forgetting it once it has exited.
fn refresh_process(system: &mut System, pid: Pid) {
    let kind = ProcessRefreshKind::nothing().with_cpu().with_memory().without_tasks();
    system.refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), true, kind);
}

/// Used percentage (as `df` computes it: used / (used + available to unprivileged users)) and
/// used bytes of the filesystem holding `path`.
#[cfg(unix)]
fn filesystem_usage(path: &std::path::Path) -> Option<(f64, u64)> {
    let stat = rustix::fs::statvfs(path).ok()?;
    let used_bytes = stat.f_blocks.saturating_sub(stat.f_bfree).saturating_mul(stat.f_frsize);
    let available_bytes = stat.f_bavail.saturating_mul(stat.f_frsize);
    let usable_bytes = used_bytes.saturating_add(available_bytes);
    if usable_bytes == 0 {
        return None;
    }
    Some((used_bytes as f64 / usable_bytes as f64 * 100.0, used_bytes))
}

#[cfg(not(unix))]
fn filesystem_usage(_path: &std::path::Path) -> Option<(f64, u64)> {
    None
}

/// The number of threads of `pid`, from `/proc`; sysinfo only lists threads by refreshing each
/// of them, which costs a file read per thread.
#[cfg(target_os = "linux")]
fn thread_count(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let threads = status.lines().find_map(|line| line.strip_prefix("Threads:"))?;
    threads.trim().parse::<u32>().ok().map(f64::from)
}

#[cfg(not(target_os = "linux"))]
fn thread_count(_pid: u32) -> Option<f64> {
    None
}

/// Cumulative (device name, bytes read, bytes written) counters of every mounted disk. A device
/// mounted at several places appears several times with the same counters.
fn disk_totals(disks: &Disks) -> impl Iterator<Item = (OsString, u64, u64)> + '_ {
    disks.iter().map(|disk| {
        let usage = disk.usage();
        (disk.name().to_os_string(), usage.total_read_bytes, usage.total_written_bytes)
    })
}

/// Bytes read and written by all disks since the first update, from their cumulative counters.
#[derive(Default)]
struct DiskIo {
    /// The counters of each device at the previous update.
    last_totals: HashMap<OsString, (u64, u64)>,
    read_bytes: u64,
    written_bytes: u64,
}

impl DiskIo {
    /// Adds what each device did since the previous update. A device seen for the first time
    /// only sets its baseline (its counters run since boot), and one that disappears keeps what
    /// it already contributed.
    fn update(&mut self, totals: impl Iterator<Item = (OsString, u64, u64)>) {
        let current: HashMap<OsString, (u64, u64)> =
            totals.map(|(device, read, written)| (device, (read, written))).collect();
        for (device, &(read, written)) in &current {
            if let Some(&(last_read, last_written)) = self.last_totals.get(device) {
                self.read_bytes = self.read_bytes.saturating_add(read.saturating_sub(last_read));
                self.written_bytes = self.written_bytes.saturating_add(written.saturating_sub(last_written));
            }
        }
        self.last_totals = current;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn as_map(sample: &[(String, f64)]) -> HashMap<&str, f64> {
        sample.iter().map(|(key, value)| (key.as_str(), *value)).collect()
    }

    fn assert_in(values: &HashMap<&str, f64>, key: &str, low: f64, high: f64) {
        let value = *values.get(key).unwrap_or_else(|| panic!("sample lacks {key}: {values:?}"));
        assert!((low..=high).contains(&value), "{key} = {value}, expected within {low}..={high}");
    }

    #[test]
    fn sample_reports_machine_and_process_metrics_in_sane_ranges() {
        let mut sampler = SystemSampler::new(std::process::id());
        let sample = sampler.sample();
        let values = as_map(&sample);
        assert_eq!(values.len(), sample.len(), "duplicate keys in {sample:?}");
        assert!(sample.iter().all(|(_, value)| value.is_finite()), "{sample:?}");

        assert_in(&values, "cpu", 0.0, 100.0);
        assert_in(&values, "cpu.count", 1.0, 1e6);
        assert_in(&values, "memory", 0.0, 100.0);
        assert_in(&values, "memory.used_mb", 1.0, 1e9);
        assert_in(&values, "memory.available_mb", 0.0, 1e9);
        assert_in(&values, "disk", 0.0, 100.0);
        assert_in(&values, "disk.used_gb", 0.0, 1e9);
        assert_in(&values, "disk.read_mb", 0.0, 1e9);
        assert_in(&values, "disk.write_mb", 0.0, 1e9);
        assert_in(&values, "network.sent_mb", 0.0, 1e9);
        assert_in(&values, "network.recv_mb", 0.0, 1e9);
        let cores = values["cpu.count"];
        assert_in(&values, "proc.cpu", 0.0, 100.0 * cores);
        assert_in(&values, "proc.memory.rss_mb", 0.1, 1e9);
        assert_in(&values, "proc.memory.percent", 0.0, 100.0);
        if cfg!(target_os = "linux") {
            assert_in(&values, "proc.threads", 1.0, 1e6);
        }
    }

    #[test]
    fn sampling_repeatedly_keeps_cumulative_counters_monotonic() {
        let mut sampler = SystemSampler::new(std::process::id());
        let first = sampler.sample();
        let second = sampler.sample();
        let (first, second) = (as_map(&first), as_map(&second));
        assert!(second.contains_key("cpu") && second.contains_key("proc.cpu"), "{second:?}");
        for key in ["disk.read_mb", "disk.write_mb", "network.sent_mb", "network.recv_mb"] {
            assert!(second[key] >= first[key], "{key} went from {} to {}", first[key], second[key]);
        }
    }

    #[test]
    fn process_cpu_reflects_a_busy_thread() {
        let mut sampler = SystemSampler::new(std::process::id());
        let started = Instant::now();
        let mut spins = 0u64;
        while started.elapsed() < std::time::Duration::from_millis(400) {
            spins = std::hint::black_box(spins.wrapping_add(1));
        }
        let values = sampler.sample();
        let proc_cpu = as_map(&values)["proc.cpu"];
        // Loose bound: the build machine may be busy, but a spinning thread gets some CPU.
        assert!(proc_cpu > 5.0, "proc.cpu = {proc_cpu} after spinning for 400 ms");
    }

    #[test]
    fn a_process_that_does_not_exist_gives_machine_keys_only() {
        // Far above Linux's pid_max (2^22).
        let mut sampler = SystemSampler::new(4_000_000_000);
        let sample = sampler.sample();
        assert!(sample.iter().any(|(key, _)| key == "cpu"), "{sample:?}");
        assert!(sample.iter().all(|(key, _)| !key.starts_with("proc.")), "{sample:?}");
    }

    #[test]
    fn gpus_are_reported_only_when_nvml_finds_them() {
        let mut sampler = SystemSampler::new(std::process::id());
        let names = sampler.gpu_names();
        let sample = sampler.sample();
        let gpu_keys: Vec<&str> =
            sample.iter().map(|(key, _)| key.as_str()).filter(|key| key.starts_with("gpu.")).collect();
        if names.is_empty() {
            assert!(gpu_keys.is_empty(), "no GPU, yet {gpu_keys:?}");
        } else {
            let values = as_map(&sample);
            for index in 0..names.len() {
                for (name, high) in [("util", 100.0), ("memory_allocated", 100.0), ("temp", 200.0)] {
                    let key = format!("gpu.{index}.{name}");
                    if values.contains_key(key.as_str()) {
                        assert_in(&values, &key, 0.0, high);
                    }
                }
            }
        }
    }

    #[test]
    fn sampler_can_move_to_a_background_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<SystemSampler>();
    }

    fn totals(entries: &[(&str, u64, u64)]) -> impl Iterator<Item = (OsString, u64, u64)> {
        entries
            .iter()
            .map(|&(name, read, written)| (OsString::from(name), read, written))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn disk_io_counts_from_the_first_sighting_of_each_device() {
        let mut io = DiskIo::default();
        io.update(totals(&[("/dev/sda1", 1000, 5000)]));
        assert_eq!((io.read_bytes, io.written_bytes), (0, 0));

        // A bind mount repeats the device: counted once. A new device only sets its baseline.
        io.update(totals(&[("/dev/sda1", 1100, 5300), ("/dev/sda1", 1100, 5300), ("/dev/sdb", 9000, 9000)]));
        assert_eq!((io.read_bytes, io.written_bytes), (100, 300));

        // sdb unmounted: what it did before stays; a counter that went backwards adds nothing.
        io.update(totals(&[("/dev/sda1", 1050, 5400)]));
        assert_eq!((io.read_bytes, io.written_bytes), (100, 400));
    }
}
