//! Full-resolution history export as CSV or Parquet. The file is produced page by page while
//! it is sent, so a run of any length is never held in memory.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use axum::body::Body;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use heron_core::chart::TIMESTAMP_KEY;
use heron_core::{Error, Result, RunRef};
use heron_types::{Scalar, Stream};
use parquet::arrow::ArrowWriter;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::mpsc;
use utoipa::IntoParams;

use crate::AppState;
use crate::api::{RunPath, split_keys};
use crate::auth::Caller;
use crate::error::{ApiQuery, ApiResult};

/// Rows read and written per step of the export.
const PAGE_ROWS: usize = 10_000;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `csv` (default) or `parquet`.
    format: Option<String>,
    /// Comma-separated keys; every history key when absent.
    keys: Option<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Csv,
    Parquet,
}

struct Column {
    key: String,
    scalar: bool,
}

#[utoipa::path(get, path = "/api/v1/projects/{entity}/{project}/runs/{run}/history/export", tag = "history",
    params(("entity" = String, Path), ("project" = String, Path), ("run" = String, Path), ExportParams),
    responses((status = 200, description = "One row per step: `_step`, `_timestamp`, then the keys. Scalars are numbers (CSV writes NaN, inf, -inf), other values JSON text.",
        content_type = "text/csv"), (status = 422, body = heron_types::ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<RunPath>,
    ApiQuery(params): ApiQuery<ExportParams>,
) -> ApiResult<Response> {
    state.authorize(&caller, &path.entity).await?;
    let run = path.run_ref();
    let format = match params.format.as_deref().unwrap_or("csv") {
        "csv" => Format::Csv,
        "parquet" => Format::Parquet,
        other => return Err(Error::invalid(format!("format must be \"csv\" or \"parquet\", not {other:?}")).into()),
    };
    let wanted = split_keys(&params.keys);
    let columns: Vec<Column> = state
        .store
        .history_keys(&run)
        .await?
        .into_iter()
        .filter(|k| k.stream == Stream::History && k.key != TIMESTAMP_KEY)
        .filter(|k| wanted.as_ref().is_none_or(|w| w.contains(&k.key)))
        .map(|k| Column { scalar: k.kind == "scalar", key: k.key })
        .collect();
    let (sender, receiver) = mpsc::channel::<std::io::Result<Bytes>>(4);
    let store_state = state.clone();
    let export_run = run.clone();
    tokio::spawn(async move {
        if let Err(error) = write_export(&store_state, &export_run, &columns, format, &sender).await {
            tracing::warn!(%error, run = %export_run, "export stopped");
            let _ = sender.send(Err(std::io::Error::other(error.message))).await;
        }
    });
    let (content_type, extension) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Parquet => ("application/vnd.apache.parquet", "parquet"),
    };
    let mut response = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(receiver)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let disposition = format!("attachment; filename=\"{}-{}.{extension}\"", run.project, run.run);
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

async fn write_export(
    state: &AppState,
    run: &RunRef,
    columns: &[Column],
    format: Format,
    sender: &mpsc::Sender<std::io::Result<Bytes>>,
) -> Result<()> {
    let keys: Vec<String> = columns.iter().map(|c| c.key.clone()).collect();
    let mut csv_header = format == Format::Csv;
    let schema = Arc::new(parquet_schema(columns));
    let mut parquet = match format {
        Format::Parquet => Some(
            ArrowWriter::try_new(Vec::new(), schema.clone(), None)
                .map_err(|e| Error::internal(format!("parquet writer: {e}")))?,
        ),
        Format::Csv => None,
    };
    let mut min_step = i64::MIN;
    loop {
        let page = state.store.history_rows(run, Some(&keys), min_step, i64::MAX, PAGE_ROWS, false).await?;
        let bytes = if format == Format::Csv {
            let mut writer = csv::Writer::from_writer(Vec::new());
            if std::mem::take(&mut csv_header) {
                let header = ["_step", TIMESTAMP_KEY].into_iter().chain(keys.iter().map(String::as_str));
                writer.write_record(header).map_err(csv_error)?;
            }
            for row in &page.rows {
                let record = ["_step", TIMESTAMP_KEY]
                    .into_iter()
                    .chain(keys.iter().map(String::as_str))
                    .map(|key| csv_cell(row.get(key)));
                writer.write_record(record).map_err(csv_error)?;
            }
            writer.into_inner().map_err(|e| Error::internal(format!("csv: {e}")))?
        } else if let Some(writer) = &mut parquet {
            let batch = record_batch(&schema, columns, &page.rows)?;
            writer.write(&batch).map_err(|e| Error::internal(format!("parquet: {e}")))?;
            writer.flush().map_err(|e| Error::internal(format!("parquet: {e}")))?;
            std::mem::take(writer.inner_mut())
        } else {
            Vec::new()
        };
        if !bytes.is_empty() && sender.send(Ok(Bytes::from(bytes))).await.is_err() {
            return Ok(()); // the client went away
        }
        match page.next_step {
            Some(next) => min_step = next,
            None => break,
        }
    }
    if let Some(writer) = parquet {
        let tail = writer.into_inner().map_err(|e| Error::internal(format!("parquet: {e}")))?;
        let _ = sender.send(Ok(Bytes::from(tail))).await;
    }
    Ok(())
}

fn csv_error(error: csv::Error) -> Error {
    Error::internal(format!("csv: {error}"))
}

fn csv_cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => match Scalar::parse_special(text) {
            Some(v) if v.is_nan() => "NaN".into(),
            Some(v) if v > 0.0 => "inf".into(),
            Some(_) => "-inf".into(),
            None => text.clone(),
        },
        Some(other) => other.to_string(),
    }
}

fn parquet_schema(columns: &[Column]) -> Schema {
    let mut fields =
        vec![Field::new("_step", DataType::Int64, false), Field::new(TIMESTAMP_KEY, DataType::Float64, true)];
    fields.extend(
        columns.iter().map(|c| Field::new(&c.key, if c.scalar { DataType::Float64 } else { DataType::Utf8 }, true)),
    );
    Schema::new(fields)
}

fn as_f64(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(n) => n.as_f64(),
        Value::String(text) => Scalar::parse_special(text),
        _ => None,
    }
}

fn record_batch(schema: &Arc<Schema>, columns: &[Column], rows: &[Value]) -> Result<RecordBatch> {
    let steps: Int64Array = rows.iter().map(|r| r.get("_step").and_then(Value::as_i64)).collect();
    let times: Float64Array = rows.iter().map(|r| as_f64(r.get(TIMESTAMP_KEY))).collect();
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(steps), Arc::new(times)];
    for column in columns {
        let array: ArrayRef = if column.scalar {
            Arc::new(rows.iter().map(|r| as_f64(r.get(&column.key))).collect::<Float64Array>())
        } else {
            Arc::new(
                rows.iter()
                    .map(|r| r.get(&column.key).filter(|v| !v.is_null()).map(|v| v.to_string()))
                    .collect::<StringArray>(),
            )
        };
        arrays.push(array);
    }
    RecordBatch::try_new(schema.clone(), arrays).map_err(|e| Error::internal(format!("arrow: {e}")))
}
