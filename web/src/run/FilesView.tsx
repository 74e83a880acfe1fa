// The Files tab: the run's files as a folder tree with sizes and download links, and the
// history export links.
import { useEffect, useMemo, useState } from "react";
import { api, ApiError, type Run, type RunFile } from "../api";
import { formatTime } from "./compare";
import { baseName, fileTree, formatBytes, type FolderNode } from "./trees";

export function FilesView(props: { run: Run; tick: number }) {
  const { run, tick } = props;
  const [files, setFiles] = useState<RunFile[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    api.files(run.entity, run.project, run.id).then(
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
  }, [run.entity, run.project, run.id, tick]);

  const tree = useMemo(() => fileTree(files ?? []), [files]);

  return (
    <div className="files">
      <section className="card">
        <h3>History export</h3>
        <p className="muted">Every logged step at full resolution.</p>
        <a className="button" href={api.exportUrl(run.entity, run.project, run.id, "csv")} download data-testid="export-csv">
          Download CSV
        </a>{" "}
        <a
          className="button"
          href={api.exportUrl(run.entity, run.project, run.id, "parquet")}
          download
          data-testid="export-parquet"
        >
          Download Parquet
        </a>
      </section>
      <section className="card">
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
        {files && files.length === 0 && <div className="muted">This run has saved no files.</div>}
        {files && files.length > 0 && (
          <table className="file-table">
            <thead>
              <tr>
                <th>Name</th>
                <th className="num">Size</th>
                <th>Updated</th>
                <th />
              </tr>
            </thead>
            <tbody>
              <FolderRows node={tree} depth={0} run={run} />
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}

function FolderRows(props: { node: FolderNode; depth: number; run: Run }) {
  const { node, depth, run } = props;
  return (
    <>
      {node.folders.map((folder) => (
        <Folder key={folder.path} node={folder} depth={depth} run={run} />
      ))}
      {node.files.map((file) => (
        <tr key={file.path} data-testid="file-row" data-path={file.path}>
          <td style={{ paddingLeft: 8 + depth * 18 }}>
            <span className="file-name">{baseName(file.path)}</span>
          </td>
          <td className="num">{formatBytes(file.size)}</td>
          <td className="muted">{formatTime(file.updated_at)}</td>
          <td>
            <a href={api.fileUrl(run.entity, run.project, run.id, file.path)} download={baseName(file.path)} data-testid="file-download">
              Download
            </a>
          </td>
        </tr>
      ))}
    </>
  );
}

function Folder(props: { node: FolderNode; depth: number; run: Run }) {
  const { node, depth, run } = props;
  const [open, setOpen] = useState(depth < 1);
  return (
    <>
      <tr className="folder-row" data-testid="folder-row" data-path={node.path}>
        <td style={{ paddingLeft: 8 + depth * 18 }}>
          <button className="link tree-toggle" onClick={() => setOpen(!open)} aria-expanded={open}>
            {open ? "▾" : "▸"} {node.name}/
          </button>
        </td>
        <td className="num">{formatBytes(node.size)}</td>
        <td className="muted">{node.count === 1 ? "1 file" : `${node.count} files`}</td>
        <td />
      </tr>
      {open && <FolderRows node={node} depth={depth + 1} run={run} />}
    </>
  );
}
