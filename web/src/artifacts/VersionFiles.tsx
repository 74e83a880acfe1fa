// The Files tab of an artifact version: its manifest as a folder tree with signed download
// links, and a preview of the selected file (text, image, CSV/TSV table or JSON).
import { useEffect, useMemo, useState } from "react";
import { api, ApiError, blobUrl, type ArtifactFile, type ArtifactVersion } from "../api";
import { useQueryParam } from "../router";
import { baseName, fileTree, formatBytes, type FolderNode } from "../run/trees";
import {
  decodeText,
  imageType,
  looksBinary,
  parseDelimited,
  prettyJson,
  previewKind,
  readPrefix,
  TABLE_PREVIEW_ROWS,
  TEXT_PREVIEW_BYTES,
  WHOLE_PREVIEW_BYTES,
  type PreviewKind,
  type Table,
} from "./preview";

export function VersionFiles(props: { version: ArtifactVersion }) {
  const { version } = props;
  const [files, setFiles] = useState<ArtifactFile[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selectedPath, setSelectedPath] = useQueryParam("file");

  useEffect(() => {
    let live = true;
    setFiles(null);
    api.artifactFiles(version.entity, version.project, version.name, version.version).then(
      (list) => {
        if (!live) return;
        setFiles(list);
        setError(null);
      },
      (e: unknown) => live && setError(e instanceof ApiError ? e.message : String(e)),
    );
    return () => {
      live = false;
    };
  }, [version.entity, version.project, version.name, version.version]);

  const tree = useMemo(() => fileTree(files ?? []), [files]);
  const selected = files?.find((file) => file.path === selectedPath) ?? null;

  return (
    <div className="version-files">
      <section className="card files-card">
        <h3>
          Files{" "}
          {files && (
            <span className="muted">
              {tree.count} · {formatBytes(tree.size)}
            </span>
          )}
        </h3>
        {error && <div className="error">{error}</div>}
        {!files && !error && <div className="muted">Loading files…</div>}
        {files && files.length === 0 && <div className="muted">This version has no files.</div>}
        {files && files.length > 0 && (
          <table className="file-table" data-testid="artifact-files">
            <thead>
              <tr>
                <th>Name</th>
                <th className="num">Size</th>
                <th />
              </tr>
            </thead>
            <tbody>
              <FolderRows node={tree} depth={0} selected={selectedPath} select={setSelectedPath} />
            </tbody>
          </table>
        )}
      </section>
      <section className="card preview-card" data-testid="preview-card">
        {selected ? (
          <FilePreview key={`${version.version}/${selected.path}`} file={selected} />
        ) : (
          <div className="muted">{files && files.length > 0 ? "Select a file to preview it." : ""}</div>
        )}
      </section>
    </div>
  );
}

function FolderRows(props: {
  node: FolderNode<ArtifactFile>;
  depth: number;
  selected: string | null;
  select: (path: string | null) => void;
}) {
  const { node, depth, selected, select } = props;
  return (
    <>
      {node.folders.map((folder) => (
        <Folder key={folder.path} node={folder} depth={depth} selected={selected} select={select} />
      ))}
      {node.files.map((file) => (
        <tr
          key={file.path}
          className={file.path === selected ? "selected" : undefined}
          data-testid="artifact-file"
          data-path={file.path}
        >
          <td style={{ paddingLeft: 8 + depth * 18 }}>
            <button className="link file-name" onClick={() => select(file.path)} title={file.path} data-testid="file-open">
              {baseName(file.path)}
            </button>
          </td>
          <td className="num" title={`${file.size.toLocaleString()} bytes`}>
            {formatBytes(file.size)}
          </td>
          <td>
            {file.url ? (
              <a href={blobUrl(file.url)} download={baseName(file.path)} data-testid="file-download">
                Download
              </a>
            ) : (
              <span className="muted" title={file.reference}>
                reference
              </span>
            )}
          </td>
        </tr>
      ))}
    </>
  );
}

function Folder(props: { node: FolderNode<ArtifactFile>; depth: number; selected: string | null; select: (path: string | null) => void }) {
  const { node, depth, selected, select } = props;
  // Open the first level, and any folder holding the selected file.
  const [open, setOpen] = useState(depth < 1 || (selected?.startsWith(`${node.path}/`) ?? false));
  return (
    <>
      <tr className="folder-row" data-testid="artifact-folder" data-path={node.path}>
        <td style={{ paddingLeft: 8 + depth * 18 }}>
          <button className="link tree-toggle" onClick={() => setOpen(!open)} aria-expanded={open}>
            {open ? "▾" : "▸"} {node.name}/
          </button>
        </td>
        <td className="num">{formatBytes(node.size)}</td>
        <td className="muted">{node.count === 1 ? "1 file" : `${node.count} files`}</td>
      </tr>
      {open && <FolderRows node={node} depth={depth + 1} selected={selected} select={select} />}
    </>
  );
}

type Loaded =
  | { kind: "text"; text: string; truncated: boolean }
  | { kind: "binary" }
  | { kind: "table"; table: Table }
  | { kind: "image"; src: string }
  | { kind: "too-big" };

function FilePreview(props: { file: ArtifactFile }) {
  const { file } = props;
  const kind: PreviewKind = previewKind(file.path);
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!file.url || kind === "none") return;
    const controller = new AbortController();
    let objectUrl: string | null = null;
    const url = blobUrl(file.url);
    const load = async (): Promise<Loaded> => {
      if ((kind === "image" || kind === "json") && file.size > WHOLE_PREVIEW_BYTES) return { kind: "too-big" };
      const response = await fetch(url, { signal: controller.signal, credentials: "same-origin" });
      if (!response.ok) throw new Error(`the download answered ${response.status}`);
      if (kind === "image") {
        // The blob store answers octet-stream; SVG in particular only renders with its type.
        const bytes = await response.arrayBuffer();
        objectUrl = URL.createObjectURL(new Blob([bytes], { type: imageType(file.path) }));
        return { kind: "image", src: objectUrl };
      }
      const prefix = await readPrefix(response, kind === "json" ? WHOLE_PREVIEW_BYTES : TEXT_PREVIEW_BYTES);
      if (looksBinary(prefix.bytes)) return { kind: "binary" };
      const text = decodeText(prefix);
      if (kind === "csv" || kind === "tsv") {
        const table = parseDelimited(text, kind === "csv" ? "," : "\t", TABLE_PREVIEW_ROWS + 1, !prefix.truncated);
        return { kind: "table", table };
      }
      if (kind === "json" && !prefix.truncated) {
        const pretty = prettyJson(text);
        if (pretty !== null) return { kind: "text", text: pretty, truncated: false };
      }
      return { kind: "text", text: kind === "json" ? text.slice(0, TEXT_PREVIEW_BYTES) : text, truncated: prefix.truncated || text.length > TEXT_PREVIEW_BYTES };
    };
    load().then(
      (result) => {
        if (!controller.signal.aborted) setLoaded(result);
      },
      (e: unknown) => {
        if (!controller.signal.aborted) setError(`Could not preview ${file.path}: ${e instanceof Error ? e.message : String(e)}`);
      },
    );
    return () => {
      controller.abort();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [file.url, file.path, file.size, kind]);

  return (
    <div className="preview" data-testid="preview" data-path={file.path} data-kind={kind}>
      <div className="card-head">
        <h3 className="preview-title">{file.path}</h3>
        {file.url && (
          <a className="button" href={blobUrl(file.url)} download={baseName(file.path)}>
            Download
          </a>
        )}
      </div>
      <div className="muted small preview-meta">
        {formatBytes(file.size)}
        {file.sha256 && (
          <>
            {" "}
            · sha256 <code>{file.sha256.slice(0, 16)}…</code>
          </>
        )}
      </div>
      {!file.url ? (
        <div className="muted" data-testid="preview-reference">
          A reference: its bytes are not stored here. <code>{file.reference}</code>
          {file.digest && (
            <>
              {" "}
              (tracked by digest <code>{file.digest}</code>)
            </>
          )}
        </div>
      ) : kind === "none" ? (
        <div className="muted">No preview for this kind of file; download it.</div>
      ) : error ? (
        <div className="error">{error}</div>
      ) : !loaded ? (
        <div className="muted">Loading preview…</div>
      ) : (
        <LoadedPreview loaded={loaded} path={file.path} />
      )}
    </div>
  );
}

function LoadedPreview(props: { loaded: Loaded; path: string }) {
  const { loaded, path } = props;
  switch (loaded.kind) {
    case "too-big":
      return <div className="muted">Too large to preview here; download it.</div>;
    case "binary":
      return <div className="muted">This file holds binary data; download it.</div>;
    case "image":
      return (
        <div className="preview-image">
          <img src={loaded.src} alt={path} data-testid="preview-image" />
        </div>
      );
    case "text":
      return (
        <>
          <pre className="preview-text" data-testid="preview-text">
            {loaded.text}
          </pre>
          {loaded.truncated && <div className="muted small">Showing the first {formatBytes(TEXT_PREVIEW_BYTES)}.</div>}
        </>
      );
    case "table":
      return <TablePreview table={loaded.table} />;
  }
}

function TablePreview(props: { table: Table }) {
  const { rows, more } = props.table;
  if (rows.length === 0) return <div className="muted">Empty table.</div>;
  const [header, ...body] = rows as [string[], ...string[][]];
  const width = Math.max(...rows.map((row) => row.length));
  const cells = (row: string[]) => Array.from({ length: width }, (_, i) => row[i] ?? "");
  return (
    <>
      <div className="preview-table-wrap">
        <table className="preview-table" data-testid="preview-table">
          <thead>
            <tr>
              <th className="row-number" />
              {cells(header).map((cell, i) => (
                <th key={i}>{cell}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {body.map((row, r) => (
              <tr key={r}>
                <td className="row-number">{r + 1}</td>
                {cells(row).map((cell, i) => (
                  <td key={i}>{cell}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="muted small" data-testid="preview-table-note">
        {more ? `The first ${body.length} rows; the file has more.` : `${body.length} row${body.length === 1 ? "" : "s"}.`}
      </div>
    </>
  );
}
