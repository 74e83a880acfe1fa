// The lineage of a run or an artifact version as an SVG graph: runs and versions in layers from
// left (where things came from) to right (what came of them). Clicking a node opens its page.
import { useEffect, useId, useMemo, useState, type KeyboardEvent } from "react";
import { api, ApiError, type Lineage, type LineageDirection, type LineageNode } from "../api";
import { navigate, useQueryParam } from "../router";
import { edgePath, layoutGraph } from "./lineage";
import { lineageNodeUrl } from "./links";

const DEPTHS = [1, 2, 3, 5, 10, 20];
const DEFAULT_DEPTH = 10;

/** Characters of a label that fit a node box (12.5 px bold text in 172 px, less the padding). */
const LABEL_CHARS = 21;

export type LineageSource =
  | { kind: "version"; entity: string; project: string; name: string; version: string }
  | { kind: "run"; entity: string; project: string; run: string };

/** Loads and draws the lineage of `source` (both directions). */
export function LineageView(props: { source: LineageSource }) {
  const { source } = props;
  const [lineage, setLineage] = useState<Lineage | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Kept in the URL like every other view setting.
  const [directionParam, setDirectionParam] = useQueryParam("direction");
  const [depthParam, setDepthParam] = useQueryParam("depth");
  const direction: LineageDirection = directionParam === "up" || directionParam === "down" ? directionParam : "both";
  const depth = DEPTHS.includes(Number(depthParam)) ? Number(depthParam) : DEFAULT_DEPTH;
  const sourceKey = JSON.stringify(source);

  useEffect(() => {
    let live = true;
    setError(null);
    const load =
      source.kind === "version"
        ? api.versionLineage(source.entity, source.project, source.name, source.version, direction, depth)
        : api.runLineage(source.entity, source.project, source.run, direction, depth);
    load.then(
      (answer) => live && setLineage(answer),
      (e: unknown) => live && setError(e instanceof ApiError ? e.message : String(e)),
    );
    return () => {
      live = false;
    };
    // `sourceKey` stands for `source`, which callers rebuild on every render.
  }, [sourceKey, direction, depth]);

  return (
    <section className="card lineage" data-testid="lineage">
      <div className="card-head">
        <h3>Lineage</h3>
        <label className="small muted">
          Show{" "}
          <select
            value={direction}
            onChange={(e) => setDirectionParam(e.target.value === "both" ? null : e.target.value)}
            data-testid="lineage-direction"
          >
            <option value="both">inputs and outputs</option>
            <option value="up">what it came from</option>
            <option value="down">what came of it</option>
          </select>
        </label>
        <label className="small muted">
          Depth{" "}
          <select
            value={depth}
            onChange={(e) => setDepthParam(Number(e.target.value) === DEFAULT_DEPTH ? null : e.target.value)}
            data-testid="lineage-depth"
          >
            {DEPTHS.map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </label>
      </div>
      {error && <div className="error">{error}</div>}
      {!lineage && !error && <div className="muted">Loading lineage…</div>}
      {lineage && lineage.nodes.length <= 1 && (
        <div className="muted" data-testid="lineage-empty">
          {source.kind === "version"
            ? "No run produced or used this version yet."
            : "This run has produced and used no artifacts yet."}
        </div>
      )}
      {lineage && lineage.nodes.length > 1 && <LineageGraph lineage={lineage} />}
    </section>
  );
}

function shorten(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars - 1)}…`;
}

function nodeTitle(node: LineageNode): string {
  return node.label;
}

/** The graph itself; `selected` (default: the node asked about) is highlighted. */
export function LineageGraph(props: { lineage: Lineage; selected?: string }) {
  const { lineage } = props;
  const selected = props.selected ?? lineage.root;
  const markerId = `lineage-arrow-${useId().replace(/:/g, "")}`;
  const layout = useMemo(
    () => layoutGraph(
      lineage.nodes.map((node) => node.id),
      lineage.edges,
    ),
    [lineage],
  );
  const nodes = useMemo(() => new Map(lineage.nodes.map((node) => [node.id, node])), [lineage]);
  const root = nodes.get(lineage.root);

  const open = (node: LineageNode) => navigate(lineageNodeUrl(node));
  const onKey = (event: KeyboardEvent, node: LineageNode) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      open(node);
    }
  };

  return (
    <div className="lineage-scroll">
      <svg
        className="lineage-graph"
        width={layout.width}
        height={layout.height}
        data-testid="lineage-graph"
        role="group"
        aria-label="Lineage graph"
      >
        <defs>
          <marker id={markerId} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" className="lineage-arrow" />
          </marker>
        </defs>
        {layout.edges.map((edge) => {
          const touches = edge.from === selected || edge.to === selected;
          return (
            <path
              key={`${edge.from}->${edge.to}`}
              d={edgePath(edge)}
              className={`lineage-edge edge-${edge.kind}${touches ? " touches" : ""}`}
              markerEnd={`url(#${markerId})`}
              data-testid="lineage-edge"
              data-from={edge.from}
              data-to={edge.to}
            >
              <title>{edge.kind}</title>
            </path>
          );
        })}
        {layout.nodes.map((placed) => {
          const node = nodes.get(placed.id)!;
          const isSelected = node.id === selected;
          // Nodes of another project say which.
          const elsewhere = root && (node.entity !== root.entity || node.project !== root.project);
          const sub = node.kind === "run" ? `run · ${node.detail}` : node.detail;
          return (
            <g
              key={node.id}
              transform={`translate(${placed.x} ${placed.y})`}
              className={`lineage-node kind-${node.kind}${isSelected ? " selected" : ""}`}
              role="link"
              tabIndex={0}
              onClick={() => open(node)}
              onKeyDown={(event) => onKey(event, node)}
              data-testid="lineage-node"
              data-node-id={node.id}
              data-kind={node.kind}
              data-selected={isSelected ? "true" : "false"}
            >
              <title>{`${node.kind === "run" ? "Run" : "Artifact version"} ${node.entity}/${node.project}/${nodeTitle(node)} (${node.detail})`}</title>
              <rect width={placed.width} height={placed.height} rx={node.kind === "run" ? placed.height / 2 : 4} />
              <text x={node.kind === "run" ? 16 : 10} y={19} className="lineage-label">
                {shorten(nodeTitle(node), LABEL_CHARS)}
              </text>
              <text x={node.kind === "run" ? 16 : 10} y={35} className="lineage-sub">
                {shorten(elsewhere ? `${node.project} · ${sub}` : sub, LABEL_CHARS + 4)}
              </text>
            </g>
          );
        })}
      </svg>
      <div className="lineage-legend small muted">
        <span className="legend-run">run</span>
        <span className="legend-artifact">artifact version</span>
        <span>run → version: produced · version → run: used</span>
      </div>
    </div>
  );
}
