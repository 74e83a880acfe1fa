//! `heron._native`: the Rust core under the `heron` Python package. The run handle (whose `log`
//! converts a Python dict straight into the client's row, without building JSON), the HTTP
//! client used by `heron.Api`, and `heron sync`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use heron_client::{ConsoleStream, MetricDef, Mode, RowSink, Run, RunOptions, Settings};
use pyo3::exceptions::{PyException, PyUserWarning, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Value};

pyo3::create_exception!(_native, HeronError, PyException, "An error from the Heron server or client.");

/// Nesting deeper than this in a logged dict is dropped with a warning.
const MAX_NESTING: usize = 32;
const EXACT_INT: i64 = 1 << 53;

fn to_py_err(error: heron_client::Error) -> PyErr {
    let err = HeronError::new_err(error.to_string());
    Python::attach(|py| {
        let value = err.value(py);
        let _ = value.setattr("status", error.status);
        let _ = value.setattr("kind", error.kind.clone());
        let _ = value.setattr("message", error.message.clone());
    });
    err
}

/// Warnings raised inside a Python call are queued and re-raised as Python warnings when the
/// call returns; warnings from the background threads go to stderr.
#[derive(Default)]
struct Warnings {
    queued: Mutex<Vec<String>>,
    any: AtomicBool,
}

impl Warnings {
    fn sink(self: &Arc<Self>) -> heron_client::settings::WarningSink {
        let me = self.clone();
        Arc::new(move |message: &str| {
            if std::thread::current().name().is_some_and(|n| n.starts_with("heron-")) {
                eprintln!("heron: {message}");
            } else {
                me.queued.lock().unwrap_or_else(|e| e.into_inner()).push(message.to_string());
                me.any.store(true, Ordering::Release);
            }
        })
    }

    fn raise(&self, py: Python<'_>) -> PyResult<()> {
        if !self.any.load(Ordering::Acquire) || !self.any.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        let messages: Vec<String> = std::mem::take(&mut *self.queued.lock().unwrap_or_else(|e| e.into_inner()));
        let category = py.get_type::<PyUserWarning>();
        for message in messages {
            let text = std::ffi::CString::new(format!("heron: {message}")).unwrap_or_default();
            PyErr::warn(py, &category, &text, 2)?;
        }
        Ok(())
    }
}

fn json_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into_pyobject(py)?.into_any(),
            None => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => match s.as_str() {
            // The API's encoding of non-finite numbers.
            "NaN" => f64::NAN.into_pyobject(py)?.into_any(),
            "Infinity" => f64::INFINITY.into_pyobject(py)?.into_any(),
            "-Infinity" => f64::NEG_INFINITY.into_pyobject(py)?.into_any(),
            _ => PyString::new(py, s).into_any(),
        },
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, json_to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// Converts a Python value to JSON for config, summary and metadata: containers recursively,
/// numpy/torch scalars through `.item()`, arrays through `.tolist()`, anything else as `str()`
/// with a warning.
fn py_to_json(value: &Bound<'_, PyAny>, depth: usize, warn: &mut dyn FnMut(String)) -> Value {
    if depth > heron_types::limits::MAX_JSON_DEPTH {
        warn("a value is nested too deeply; stored as null".into());
        return Value::Null;
    }
    if value.is_none() {
        return Value::Null;
    }
    if let Ok(b) = value.cast::<PyBool>() {
        return Value::Bool(b.is_true());
    }
    if let Ok(i) = value.cast::<PyInt>() {
        if let Ok(n) = i.extract::<i64>() {
            return Value::from(n);
        }
        if let Ok(n) = i.extract::<u64>() {
            return Value::from(n);
        }
        return Value::String(i.to_string());
    }
    if let Ok(f) = value.cast::<PyFloat>() {
        return heron_types::Scalar::to_json(f.value());
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Value::String(s.to_string_lossy().into_owned());
    }
    if let Ok(d) = value.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in d.iter() {
            let key = match k.cast::<PyString>() {
                Ok(s) => s.to_string_lossy().into_owned(),
                Err(_) => k.str().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
            };
            let value = py_to_json(&v, depth + 1, &mut |w| warn(format!("{key:?}: {w}")));
            map.insert(key, value);
        }
        return Value::Object(map);
    }
    if value.cast::<PyList>().is_ok() || value.cast::<PyTuple>().is_ok() {
        let items: Vec<Value> = value
            .try_iter()
            .map(|it| it.flatten().map(|v| py_to_json(&v, depth + 1, warn)).collect())
            .unwrap_or_default();
        return Value::Array(items);
    }
    for method in ["item", "tolist"] {
        if value.hasattr(method).unwrap_or(false)
            && let Ok(plain) = value.call_method0(method)
            && !plain.is(value)
        {
            return py_to_json(&plain, depth + 1, warn);
        }
    }
    let type_name = value.get_type().name().map(|n| n.to_string()).unwrap_or_default();
    warn(format!("a value of type {type_name} is not JSON; stored as its str()"));
    Value::String(value.str().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default())
}

/// The common case of `log`, without reference counting: a `str` key and a `float` value
/// (exactly `float`; subclasses such as numpy.float64 take the general path).
///
/// # Safety
/// `k` and `v` are valid borrowed references and the GIL is held; the returned `&str` lives as
/// long as the key object (Python caches a str's UTF-8 form with it).
unsafe fn plain_float_item<'a>(k: *mut pyo3::ffi::PyObject, v: *mut pyo3::ffi::PyObject) -> Option<(&'a str, f64)> {
    use pyo3::ffi;
    unsafe {
        if ffi::Py_TYPE(v) != &raw mut ffi::PyFloat_Type || ffi::PyUnicode_CheckExact(k) == 0 {
            return None;
        }
        let mut len: ffi::Py_ssize_t = 0;
        let utf8 = ffi::PyUnicode_AsUTF8AndSize(k, &mut len);
        if utf8.is_null() {
            ffi::PyErr_Clear();
            return None;
        }
        let bytes = std::slice::from_raw_parts(utf8.cast::<u8>(), len as usize);
        // PyUnicode_AsUTF8AndSize returns valid UTF-8.
        Some((std::str::from_utf8_unchecked(bytes), ffi::PyFloat_AsDouble(v)))
    }
}

/// Adds one logged value to the row. `key` is the flattened key.
fn log_value(sink: &mut RowSink<'_>, key: &str, value: &Bound<'_, PyAny>, depth: usize) {
    // Fast paths first: float (and numpy.float64, a float subclass), then int.
    if let Ok(f) = value.cast::<PyFloat>() {
        return sink.number(key, f.value());
    }
    if let Ok(b) = value.cast::<PyBool>() {
        return sink.object(key, Value::Bool(b.is_true()));
    }
    if let Ok(i) = value.cast::<PyInt>() {
        return match i.extract::<i64>() {
            Ok(n) => {
                if !(-EXACT_INT..=EXACT_INT).contains(&n) {
                    sink.warn(&format!("{key:?}: the integer {n} is beyond 2^53 and is stored as the nearest float"));
                }
                sink.number(key, n as f64)
            }
            Err(_) => match value.extract::<f64>() {
                Ok(x) if x.is_finite() => {
                    sink.warn(&format!("{key:?}: a huge integer is stored as the nearest float ({x:e})"));
                    sink.number(key, x)
                }
                _ => sink.warn(&format!("{key:?}: the integer is too large to store as a number; dropped")),
            },
        };
    }
    if let Ok(s) = value.cast::<PyString>() {
        return sink.object(key, Value::String(s.to_string_lossy().into_owned()));
    }
    if value.is_none() {
        return sink.object(key, Value::Null);
    }
    if let Ok(d) = value.cast::<PyDict>() {
        if depth >= MAX_NESTING {
            return sink.warn(&format!("{key:?} is nested deeper than {MAX_NESTING} levels; dropped"));
        }
        for (k, v) in d.iter() {
            match k.cast::<PyString>() {
                Ok(s) => log_value(sink, &format!("{key}.{}", s.to_string_lossy()), &v, depth + 1),
                Err(_) => sink.warn(&format!("{key:?} has a key that is not a string ({k}); dropped")),
            }
        }
        return;
    }
    if value.cast::<PyList>().is_ok() || value.cast::<PyTuple>().is_ok() {
        let mut problems = Vec::new();
        let json = py_to_json(value, depth, &mut |w| problems.push(w));
        for problem in problems {
            sink.warn(&format!("{key:?}: {problem}"));
        }
        return sink.object(key, json);
    }
    // numpy / torch / jax scalars and 0-d arrays: `.item()` gives the plain Python value.
    if value.hasattr("item").unwrap_or(false) {
        match value.call_method0("item") {
            Ok(plain) if !plain.is(value) && depth < MAX_NESTING => return log_value(sink, key, &plain, MAX_NESTING),
            _ => {
                let shape = value.getattr("shape").map(|s| s.to_string()).unwrap_or_default();
                return sink.warn(&format!(
                    "{key:?}: cannot log an array or tensor of shape {shape} as one value; log a number (x.item()), \
                     a list (x.tolist()) or a summary of it; dropped"
                ));
            }
        }
    }
    let type_name = value.get_type().name().map(|n| n.to_string()).unwrap_or_default();
    sink.warn(&format!(
        "{key:?}: cannot log a value of type {type_name}; log a number, string, bool, dict or list; dropped"
    ))
}

fn dict_to_json(dict: &Bound<'_, PyAny>, warnings: &Warnings, what: &str) -> PyResult<Value> {
    let mut problems = Vec::new();
    let value = py_to_json(dict, 0, &mut |w| problems.push(w));
    if !value.is_object() {
        return Err(PyValueError::new_err(format!("{what} must be a dict")));
    }
    if !problems.is_empty() {
        let mut queued = warnings.queued.lock().unwrap_or_else(|e| e.into_inner());
        queued.extend(problems.into_iter().map(|p| format!("{what}: {p}")));
        warnings.any.store(true, Ordering::Release);
    }
    Ok(value)
}

#[pyclass(module = "heron._native", frozen)]
struct NativeRun {
    run: Run,
    warnings: Arc<Warnings>,
}

#[pymethods]
impl NativeRun {
    #[new]
    #[pyo3(signature = (*, project=None, entity=None, name=None, id=None, config=None, tags=None, notes=None,
        group=None, job_type=None, resume=None, metadata=None, mode=None, dir=None, base_url=None, api_key=None,
        finish_timeout=None, system_interval=None, git=None, host_metadata=None, init_timeout=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        project: Option<String>,
        entity: Option<String>,
        name: Option<String>,
        id: Option<String>,
        config: Option<Bound<'_, PyAny>>,
        tags: Option<Vec<String>>,
        notes: Option<String>,
        group: Option<String>,
        job_type: Option<String>,
        resume: Option<String>,
        metadata: Option<Bound<'_, PyAny>>,
        mode: Option<String>,
        dir: Option<PathBuf>,
        base_url: Option<String>,
        api_key: Option<String>,
        finish_timeout: Option<f64>,
        system_interval: Option<f64>,
        git: Option<bool>,
        host_metadata: Option<bool>,
        init_timeout: Option<f64>,
    ) -> PyResult<NativeRun> {
        let warnings = Arc::new(Warnings::default());
        let mut settings = Settings::from_env().map_err(to_py_err)?;
        if let Some(url) = base_url {
            settings = settings.with_base_url(&url);
        }
        if api_key.is_some() {
            settings.api_key = api_key;
        }
        if let Some(mode) = mode {
            settings.mode = Mode::parse(&mode).map_err(|e| PyValueError::new_err(e.message))?;
        }
        if let Some(dir) = dir {
            settings.dir = dir;
        }
        let seconds = |what: &str, s: f64| {
            if s.is_finite() && s >= 0.0 {
                Ok(Duration::from_secs_f64(s))
            } else {
                Err(PyValueError::new_err(format!("{what} must be a number of seconds >= 0")))
            }
        };
        if let Some(s) = finish_timeout {
            settings.finish_timeout = seconds("finish_timeout", s)?;
        }
        if let Some(s) = init_timeout {
            settings.init_timeout = seconds("init_timeout", s)?;
        }
        if let Some(s) = system_interval {
            let d = seconds("system_interval", s)?;
            settings.system_interval = (!d.is_zero()).then(|| d.max(Duration::from_millis(100)));
        }
        if let Some(g) = git {
            settings.git = g;
        }
        if let Some(h) = host_metadata {
            settings.host_metadata = h;
        }
        settings.warn = warnings.sink();
        let resume = match resume.as_deref() {
            None => None,
            Some("allow") => Some(heron_types::ResumeMode::Allow),
            Some("must") => Some(heron_types::ResumeMode::Must),
            Some("never") => Some(heron_types::ResumeMode::Never),
            Some(other) => {
                return Err(PyValueError::new_err(format!("resume must be allow, must or never, not {other:?}")));
            }
        };
        let config = config.map(|c| dict_to_json(&c, &warnings, "config")).transpose()?;
        let metadata = metadata.map(|m| dict_to_json(&m, &warnings, "metadata")).transpose()?;
        let options = RunOptions {
            project,
            entity,
            name,
            id,
            config,
            tags,
            notes,
            group,
            job_type,
            resume,
            metadata,
            settings: Some(settings),
        };
        let run = py.detach(|| Run::init(options)).map_err(to_py_err)?;
        warnings.raise(py)?;
        Ok(NativeRun { run, warnings })
    }

    /// Logs one row (see `heron.log`).
    #[pyo3(signature = (data, step=None, commit=None))]
    fn log(&self, py: Python<'_>, data: &Bound<'_, PyAny>, step: Option<i64>, commit: Option<bool>) -> PyResult<()> {
        let dict = data.cast::<PyDict>().map_err(|_| {
            let type_name = data.get_type().name().map(|n| n.to_string()).unwrap_or_default();
            PyValueError::new_err(format!("log() takes a dict of values, not {type_name}"))
        })?;
        self.run.log_with(step, commit, |sink| {
            let mut pos: pyo3::ffi::Py_ssize_t = 0;
            let mut k: *mut pyo3::ffi::PyObject = std::ptr::null_mut();
            let mut v: *mut pyo3::ffi::PyObject = std::ptr::null_mut();
            // SAFETY: PyDict_Next hands out borrowed references into `dict`, which we hold and
            // the GIL keeps alive; the fast path below calls no Python code, and the general path
            // takes its own references before it does (a value's `.item()` could run anything).
            while unsafe { pyo3::ffi::PyDict_Next(dict.as_ptr(), &mut pos, &mut k, &mut v) } != 0 {
                if let Some((key, x)) = unsafe { plain_float_item(k, v) } {
                    sink.number(key, x);
                    continue;
                }
                let (key, value) = unsafe { (Bound::from_borrowed_ptr(py, k), Bound::from_borrowed_ptr(py, v)) };
                match key.cast::<PyString>() {
                    Ok(name) => match name.to_str() {
                        Ok(name) => log_value(sink, name, &value, 0),
                        Err(_) => sink.warn("a key is not valid unicode; dropped"),
                    },
                    Err(_) => sink.warn(&format!("keys must be strings, not {key}; dropped")),
                }
            }
        });
        self.warnings.raise(py)
    }

    fn update_config(&self, py: Python<'_>, patch: &Bound<'_, PyAny>) -> PyResult<()> {
        self.apply(py, patch, "config", Run::update_config)
    }

    fn update_summary(&self, py: Python<'_>, patch: &Bound<'_, PyAny>) -> PyResult<()> {
        self.apply(py, patch, "summary", Run::update_summary)
    }

    fn update_metadata(&self, py: Python<'_>, patch: &Bound<'_, PyAny>) -> PyResult<()> {
        self.apply(py, patch, "metadata", Run::update_metadata)
    }

    /// Changes name, tags, notes, group or job_type.
    fn update_run(&self, py: Python<'_>, patch: &Bound<'_, PyAny>) -> PyResult<()> {
        self.apply(py, patch, "run", Run::update_run)
    }

    #[pyo3(signature = (name, step_metric=None, summary=None, goal=None, hidden=false))]
    fn define_metric(
        &self,
        py: Python<'_>,
        name: String,
        step_metric: Option<String>,
        summary: Option<String>,
        goal: Option<String>,
        hidden: bool,
    ) -> PyResult<()> {
        let summary = summary
            .map(|s| s.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect())
            .unwrap_or_default();
        self.run.define_metric(MetricDef { name, step_metric, summary, goal, hidden });
        self.warnings.raise(py)
    }

    /// Console text: stream 1 = stdout, 2 = stderr.
    fn console_write(&self, stream: u8, text: &str) {
        let stream = if stream == 2 { ConsoleStream::Stderr } else { ConsoleStream::Stdout };
        self.run.console_write(stream, text);
    }

    #[pyo3(signature = (path, name=None, policy="now"))]
    fn save(&self, path: PathBuf, name: Option<String>, policy: &str) -> PyResult<String> {
        self.run.save(&path, name.as_deref(), policy).map_err(to_py_err)
    }

    /// Records the installed packages (from `sys.path`) as requirements.txt, off the GIL.
    fn record_packages(&self, paths: Vec<PathBuf>) {
        self.run.record_python_packages(paths);
    }

    /// Ends the run; returns {"uploaded", "pending_bytes", "message"}. The message (what is left
    /// for `heron sync`) and any other warning from finishing are raised as Python warnings.
    fn finish<'py>(&self, py: Python<'py>, exit_code: i32) -> PyResult<Bound<'py, PyDict>> {
        let report = py.detach(|| self.run.finish(exit_code));
        let out = PyDict::new(py);
        out.set_item("uploaded", report.uploaded)?;
        out.set_item("pending_bytes", report.pending_bytes)?;
        out.set_item("message", report.message)?;
        self.warnings.raise(py)?;
        Ok(out)
    }

    /// Logs an artifact produced by this run (uploads before it returns, GIL released).
    #[pyo3(signature = (artifact, name, kind, description=None, metadata=None, aliases=Vec::new()))]
    #[allow(clippy::too_many_arguments)]
    fn log_artifact<'py>(
        &self,
        py: Python<'py>,
        artifact: PyRef<'_, NativeArtifact>,
        name: &str,
        kind: &str,
        description: Option<String>,
        metadata: Option<Bound<'_, PyAny>>,
        aliases: Vec<String>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let prepared = artifact.prepared(name, kind, description, metadata.as_ref(), &self.warnings)?;
        drop(artifact);
        let report = if self.run.info().mode == Mode::Online {
            // Upload on a thread of its own, so that Ctrl-C still stops the program.
            let client = py.detach(|| self.run.artifacts()).map_err(to_py_err)?;
            let (project, id) = (self.run.info().project.clone(), self.run.info().id.clone());
            interruptible(py, move || {
                let entity = client.entity()?;
                client.log_artifact(&entity, &project, &prepared, &aliases, Some(&id))
            })?
        } else {
            let aliases: Vec<&str> = aliases.iter().map(String::as_str).collect();
            py.detach(|| self.run.log_artifact_report(&prepared, &aliases))
        }
        .map_err(to_py_err)?;
        self.warnings.raise(py)?;
        report_to_py(py, &report)
    }

    /// Looks up a version and records that this run used it.
    fn use_artifact<'py>(&self, py: Python<'py>, reference: &str) -> PyResult<Bound<'py, PyAny>> {
        let version = py.detach(|| self.run.use_artifact(reference)).map_err(to_py_err)?;
        to_py_json(py, &version)
    }

    /// The artifacts client of this run's server, with the run's entity and project as defaults.
    fn artifacts(&self, py: Python<'_>) -> PyResult<ArtifactClient> {
        let client = py.detach(|| self.run.artifacts()).map_err(to_py_err)?;
        Ok(ArtifactClient { client, warnings: self.warnings.clone() })
    }

    /// The summary of what was logged so far (see `Run::summary`).
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let summary = py.detach(|| self.run.summary());
        json_to_py(py, &summary)
    }

    #[getter]
    fn step(&self) -> i64 {
        self.run.step()
    }

    /// What `init` learned: id, name, entity, project, dir, mode, resumed, connected, config, summary.
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let info = self.run.info();
        let out = PyDict::new(py);
        out.set_item("id", &info.id)?;
        out.set_item("name", &info.name)?;
        out.set_item("entity", &info.entity)?;
        out.set_item("project", &info.project)?;
        out.set_item("dir", info.dir.to_string_lossy().as_ref())?;
        out.set_item("mode", info.mode.as_str())?;
        out.set_item("resumed", info.resumed)?;
        out.set_item("connected", info.connected)?;
        out.set_item("base_url", &info.base_url)?;
        out.set_item("config", json_to_py(py, &info.config)?)?;
        out.set_item("summary", json_to_py(py, &info.summary)?)?;
        Ok(out)
    }
}

impl NativeRun {
    /// Converts a Python dict into a JSON patch and hands it to `update`.
    fn apply(&self, py: Python<'_>, patch: &Bound<'_, PyAny>, what: &str, update: fn(&Run, Value)) -> PyResult<()> {
        update(&self.run, dict_to_json(patch, &self.warnings, what)?);
        self.warnings.raise(py)
    }
}

/// The HTTP client behind `heron.Api`.
#[pyclass(module = "heron._native", frozen)]
struct Client {
    api: heron_client::Api,
}

#[pymethods]
impl Client {
    #[new]
    #[pyo3(signature = (base_url=None, api_key=None, timeout=30.0))]
    fn new(base_url: Option<String>, api_key: Option<String>, timeout: f64) -> PyResult<Client> {
        let mut settings = Settings::from_env().map_err(to_py_err)?;
        if let Some(url) = base_url {
            settings = settings.with_base_url(&url);
        }
        let key = api_key.or(settings.api_key);
        Ok(Client {
            api: heron_client::Api::new(&settings.base_url, key.as_deref(), Duration::from_secs_f64(timeout.max(0.1))),
        })
    }

    #[getter]
    fn base_url(&self) -> &str {
        self.api.base_url()
    }

    /// Sends a request; returns the answer's body (bytes). Raises HeronError for 4xx/5xx.
    #[pyo3(signature = (method, path, body=None))]
    fn request<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let answer = py.detach(|| self.api.request(method, path, body)).map_err(to_py_err)?;
        Ok(PyBytes::new(py, &answer))
    }

    /// Downloads to `dest` atomically; returns the byte count.
    fn download(&self, py: Python<'_>, path: &str, dest: PathBuf) -> PyResult<u64> {
        py.detach(|| self.api.download(path, &dest)).map_err(to_py_err)
    }

    /// One key's whole series: (steps as int64 bytes, values as float64 bytes, times as float64
    /// bytes with NaN where unknown), for `array.array` / `numpy.frombuffer`. Objects are skipped.
    fn series<'py>(&self, py: Python<'py>, path: &str) -> PyResult<Bound<'py, PyTuple>> {
        let body = py.detach(|| self.api.request("GET", path, None)).map_err(to_py_err)?;
        let (steps, values, times) = py
            .detach(|| decode_series(&body))
            .map_err(|e| HeronError::new_err(format!("unexpected series answer: {e}")))?;
        let as_bytes = |v: &[u8]| PyBytes::new(py, v);
        PyTuple::new(py, [as_bytes(&steps), as_bytes(&values), as_bytes(&times)])
    }
}

/// An artifact being built (files, folders, references); `heron.Artifact` wraps it.
#[pyclass(module = "heron._native")]
struct NativeArtifact {
    inner: heron_client::Artifact,
}

fn value_error(error: heron_client::Error) -> PyErr {
    PyValueError::new_err(error.message)
}

#[pymethods]
impl NativeArtifact {
    #[new]
    fn new(name: &str, kind: &str) -> PyResult<NativeArtifact> {
        let inner = heron_client::Artifact::new(name, kind);
        inner.validate().map_err(value_error)?;
        Ok(NativeArtifact { inner })
    }

    #[pyo3(signature = (local_path, name=None))]
    fn add_file(&mut self, local_path: PathBuf, name: Option<String>) -> PyResult<()> {
        self.inner.add_file(&local_path, name.as_deref()).map(drop).map_err(value_error)
    }

    #[pyo3(signature = (local_path, name=None))]
    fn add_dir(&mut self, local_path: PathBuf, name: Option<String>) -> PyResult<()> {
        self.inner.add_dir(&local_path, name.as_deref()).map(drop).map_err(value_error)
    }

    #[pyo3(signature = (uri, name=None, checksum=true, digest=None))]
    fn add_reference(
        &mut self,
        uri: &str,
        name: Option<String>,
        checksum: bool,
        digest: Option<String>,
    ) -> PyResult<()> {
        self.inner.add_reference_with(uri, name.as_deref(), digest.as_deref(), checksum).map(drop).map_err(value_error)
    }

    /// The files added so far: dicts of path, source, size, reference.
    fn entries<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        for entry in self.inner.entries() {
            let d = PyDict::new(py);
            d.set_item("path", entry.path)?;
            d.set_item("source", entry.source)?;
            d.set_item("size", entry.size)?;
            d.set_item("reference", entry.reference)?;
            out.append(d)?;
        }
        Ok(out)
    }
}

impl NativeArtifact {
    /// A copy with the name, type, description and metadata the Python object holds now.
    fn prepared(
        &self,
        name: &str,
        kind: &str,
        description: Option<String>,
        metadata: Option<&Bound<'_, PyAny>>,
        warnings: &Warnings,
    ) -> PyResult<heron_client::Artifact> {
        let mut artifact = self.inner.clone();
        artifact.name = name.to_string();
        artifact.kind = kind.to_string();
        artifact.description = description;
        artifact.metadata =
            metadata.filter(|m| !m.is_none()).map(|m| dict_to_json(m, warnings, "metadata")).transpose()?;
        artifact.validate().map_err(value_error)?;
        Ok(artifact)
    }
}

fn to_py_json<'py>(py: Python<'py>, value: &impl serde::Serialize) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(value).map_err(|e| HeronError::new_err(e.to_string()))?;
    json_to_py(py, &json)
}

fn report_to_py<'py>(py: Python<'py>, report: &heron_client::LogReport) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("version", to_py_json(py, &report.version)?)?;
    out.set_item("files", report.files)?;
    out.set_item("uploaded_bytes", report.uploaded_bytes)?;
    out.set_item("deduplicated_bytes", report.deduplicated_bytes)?;
    out.set_item("resumed_bytes", report.resumed_bytes)?;
    out.set_item("uploaded_blobs", report.uploaded_blobs)?;
    Ok(out)
}

/// The artifacts and registry client behind `heron.Artifact` and `heron.Api`: uploads and
/// downloads run with the GIL released.
#[pyclass(module = "heron._native", frozen)]
struct ArtifactClient {
    client: heron_client::Artifacts,
    warnings: Arc<Warnings>,
}

#[pymethods]
impl ArtifactClient {
    #[new]
    #[pyo3(signature = (base_url=None, api_key=None, entity=None, project=None, progress=true))]
    fn new(
        base_url: Option<String>,
        api_key: Option<String>,
        entity: Option<String>,
        project: Option<String>,
        progress: bool,
    ) -> PyResult<ArtifactClient> {
        let warnings = Arc::new(Warnings::default());
        let mut settings = Settings::from_env().map_err(to_py_err)?;
        if let Some(url) = base_url {
            settings = settings.with_base_url(&url);
        }
        if api_key.is_some() {
            settings.api_key = api_key;
        }
        settings.warn = warnings.sink();
        let mut client = heron_client::Artifacts::new(&settings).map_err(to_py_err)?;
        client.progress = progress;
        if entity.is_some() {
            client.default_entity = entity;
        }
        if project.is_some() {
            client.default_project = project;
        }
        Ok(ArtifactClient { client, warnings })
    }

    /// The default entity (HERON_ENTITY, else the key's user).
    fn entity(&self, py: Python<'_>) -> PyResult<String> {
        py.detach(|| self.client.entity()).map_err(to_py_err)
    }

    /// Logs a version; returns {"version": ..., "files", "uploaded_bytes", "deduplicated_bytes", ...}.
    #[pyo3(signature = (entity, project, artifact, name, kind, description=None, metadata=None, aliases=Vec::new(), run=None))]
    #[allow(clippy::too_many_arguments)]
    fn log<'py>(
        &self,
        py: Python<'py>,
        entity: Option<String>,
        project: Option<String>,
        artifact: PyRef<'_, NativeArtifact>,
        name: &str,
        kind: &str,
        description: Option<String>,
        metadata: Option<Bound<'_, PyAny>>,
        aliases: Vec<String>,
        run: Option<String>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let prepared = artifact.prepared(name, kind, description, metadata.as_ref(), &self.warnings)?;
        drop(artifact);
        let client = self.client.clone();
        let report = interruptible(py, move || {
            let entity = match entity {
                Some(e) => e,
                None => client.entity()?,
            };
            let project = match project {
                Some(p) => p,
                None => client.project()?,
            };
            client.log_artifact(&entity, &project, &prepared, &aliases, run.as_deref())
        })?
        .map_err(to_py_err)?;
        self.warnings.raise(py)?;
        report_to_py(py, &report)
    }

    /// A version by reference (`name:alias`, `project/name:v1`, `entity/project/name:v1`).
    fn get<'py>(&self, py: Python<'py>, reference: &str) -> PyResult<Bound<'py, PyAny>> {
        let version = py.detach(|| self.client.get(reference)).map_err(to_py_err)?;
        to_py_json(py, &version)
    }

    /// The files of a version (dicts with path, size, sha256 or reference and digest, url).
    fn files<'py>(&self, py: Python<'py>, version: &Bound<'_, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let version = version_from_py(version)?;
        let files = py.detach(|| self.client.files(&version)).map_err(to_py_err)?;
        to_py_json(py, &files)
    }

    /// Downloads a version into `root`; returns {"root", "files", "skipped_references",
    /// "downloaded_bytes", "from_cache", "already_present"}.
    fn download<'py>(
        &self,
        py: Python<'py>,
        version: &Bound<'_, PyAny>,
        root: PathBuf,
    ) -> PyResult<Bound<'py, PyDict>> {
        let version = version_from_py(version)?;
        let client = self.client.clone();
        let report = interruptible(py, move || client.download(&version, &root))?.map_err(to_py_err)?;
        self.warnings.raise(py)?;
        let out = PyDict::new(py);
        out.set_item("root", report.root.to_string_lossy().as_ref())?;
        out.set_item("files", to_py_json(py, &report.files)?)?;
        out.set_item("skipped_references", to_py_json(py, &report.skipped_references)?)?;
        out.set_item("downloaded_bytes", report.downloaded_bytes)?;
        out.set_item("from_cache", report.from_cache)?;
        out.set_item("already_present", report.already_present)?;
        Ok(out)
    }

    /// Sends a request to the API (`/api/v1/...`); returns the answer's body.
    #[pyo3(signature = (method, path, body=None))]
    fn request<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let answer = py.detach(|| self.client.api().request(method, path, body)).map_err(to_py_err)?;
        Ok(PyBytes::new(py, &answer))
    }

    /// Records that `run` used the version.
    fn record_use(&self, py: Python<'_>, version: &Bound<'_, PyAny>, run: &str) -> PyResult<()> {
        let version = version_from_py(version)?;
        py.detach(|| self.client.record_use(&version, run)).map_err(to_py_err)
    }
}

/// Runs `work` on a thread of its own while this one waits with the GIL released, checking for
/// signals every 100 ms: Ctrl-C raises KeyboardInterrupt at once (the transfer is abandoned; an
/// upload resumes and a download starts clean the next time).
fn interruptible<T: Send + 'static>(py: Python<'_>, work: impl FnOnce() -> T + Send + 'static) -> PyResult<T> {
    use std::sync::mpsc::RecvTimeoutError;
    let (done, result) = std::sync::mpsc::channel();
    // Not named `heron-...`: its warnings are raised in Python when the call returns.
    std::thread::Builder::new()
        .name("artifact-transfer".into())
        .spawn(move || {
            let _ = done.send(work());
        })
        .map_err(|e| HeronError::new_err(format!("cannot start a thread: {e}")))?;
    // A Receiver is not Sync; detach wants what it borrows to be.
    let result = Mutex::new(result);
    loop {
        let next =
            py.detach(|| result.lock().unwrap_or_else(|e| e.into_inner()).recv_timeout(Duration::from_millis(100)));
        match next {
            Ok(value) => return Ok(value),
            Err(RecvTimeoutError::Timeout) => py.check_signals()?,
            Err(RecvTimeoutError::Disconnected) => return Err(HeronError::new_err("the transfer thread stopped")),
        }
    }
}

fn version_from_py(value: &Bound<'_, PyAny>) -> PyResult<heron_types::ArtifactVersion> {
    let mut problems = Vec::new();
    let json = py_to_json(value, 0, &mut |w| problems.push(w));
    serde_json::from_value(json).map_err(|e| PyValueError::new_err(format!("not an artifact version: {e}")))
}

/// Shrinks the artifact download cache; returns (files removed, bytes freed).
#[pyfunction]
#[pyo3(signature = (max_size=None))]
fn cache_cleanup(py: Python<'_>, max_size: Option<&Bound<'_, PyAny>>) -> PyResult<(u64, u64)> {
    let limit = match max_size {
        None => None,
        Some(value) => match value.extract::<u64>() {
            Ok(bytes) => Some(bytes),
            Err(_) => Some(heron_client::parse_size(&value.str()?.to_string_lossy()).map_err(value_error)?),
        },
    };
    py.detach(|| heron_client::cache_cleanup(limit)).map_err(to_py_err)
}

/// Little-endian steps (i64), values (f64) and times (f64).
type Columns = (Vec<u8>, Vec<u8>, Vec<u8>);

fn decode_series(body: &[u8]) -> Result<Columns, serde_json::Error> {
    let parsed: heron_types::SeriesColumns = serde_json::from_slice(body)?;
    let n = parsed.steps.len();
    let (mut steps, mut values, mut times) =
        (Vec::with_capacity(n * 8), Vec::with_capacity(n * 8), Vec::with_capacity(n * 8));
    for ((step, value), time) in parsed.steps.iter().zip(&parsed.values).zip(&parsed.times) {
        let heron_types::SeriesValue::Scalar(x) = value else { continue };
        steps.extend_from_slice(&step.to_le_bytes());
        values.extend_from_slice(&x.0.to_le_bytes());
        times.extend_from_slice(&time.unwrap_or(f64::NAN).to_le_bytes());
    }
    Ok((steps, values, times))
}

/// Uploads run folders (see `heron sync --help`); returns one dict per folder.
#[pyfunction]
#[pyo3(signature = (dirs, base_url=None, api_key=None, verbose=true))]
fn sync<'py>(
    py: Python<'py>,
    dirs: Vec<PathBuf>,
    base_url: Option<String>,
    api_key: Option<String>,
    verbose: bool,
) -> PyResult<Bound<'py, PyList>> {
    let mut settings = Settings::from_env().map_err(to_py_err)?;
    if let Some(url) = base_url {
        settings = settings.with_base_url(&url);
    }
    if api_key.is_some() {
        settings.api_key = api_key;
    }
    let dirs = if dirs.is_empty() { heron_client::sync::pending_runs(&settings.dir) } else { dirs };
    let outcomes = py.detach(|| {
        dirs.iter()
            .map(|dir| {
                heron_client::sync::sync_dir(&settings, dir, |line| {
                    if verbose {
                        eprintln!("{line}")
                    }
                })
            })
            .collect::<Vec<_>>()
    });
    let out = PyList::empty(py);
    for outcome in outcomes {
        let d = PyDict::new(py);
        d.set_item("dir", outcome.dir.to_string_lossy().as_ref())?;
        d.set_item("run", &outcome.run)?;
        d.set_item("rows", outcome.rows)?;
        use heron_client::sync::SyncStatus;
        let (status, error) = match outcome.status {
            SyncStatus::Complete => ("complete", None),
            SyncStatus::UpToDate => ("up_to_date", None),
            SyncStatus::Live { .. } => ("live", None),
            SyncStatus::Failed(why) => ("failed", Some(why)),
        };
        d.set_item("status", status)?;
        d.set_item("error", error)?;
        out.append(d)?;
    }
    Ok(out)
}

/// The rank of this process when launched by torchrun, SLURM or MPI, else None.
#[pyfunction]
fn detect_rank<'py>(py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
    heron_client::distributed::detect().map(|r| json_to_py(py, &r.to_json())).transpose()
}

/// Saves an API key for a server in the local credentials file; returns the file's path.
#[pyfunction]
fn save_credentials(base_url: &str, api_key: &str) -> PyResult<String> {
    heron_client::credentials::save(base_url, api_key).map(|p| p.to_string_lossy().into_owned()).map_err(to_py_err)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeRun>()?;
    m.add_class::<Client>()?;
    m.add_class::<NativeArtifact>()?;
    m.add_class::<ArtifactClient>()?;
    m.add_function(wrap_pyfunction!(cache_cleanup, m)?)?;
    m.add_function(wrap_pyfunction!(sync, m)?)?;
    m.add_function(wrap_pyfunction!(detect_rank, m)?)?;
    m.add_function(wrap_pyfunction!(save_credentials, m)?)?;
    m.add("HeronError", m.py().get_type::<HeronError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
