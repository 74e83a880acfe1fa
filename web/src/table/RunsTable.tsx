// The runs table: every run matching the filter (virtualised, so 10k+ runs scroll smoothly),
// with visibility and colour per run, sortable / movable / pinnable columns, grouping, the
// filter box and builder, and CSV export. `compact` is the workspace's side panel: eye,
// colour, name and one or two columns under the filter box.
import { useVirtualizer } from "@tanstack/react-virtual";
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent, type MouseEvent, type PointerEvent } from "react";
import { api, runPath, type Json, type Run } from "../api";
import { useProject } from "../project/state";
import { Link, useJsonParam } from "../router";
import { fieldValue } from "../fields";
import { ColumnManager } from "./ColumnManager";
import {
  availableColumns,
  metricKeyOf,
  cellText,
  cellValue,
  defaultLayout,
  displayOrder,
  dropColumn,
  readLayout,
  unknownColumn,
  type Column,
  type ColumnLayout,
} from "./columns";
import { runsCsv } from "./csv";
import { FilterBox } from "./FilterBox";
import { FilterBuilder } from "./FilterBuilder";
import { GroupMenu } from "./GroupMenu";
import { displayRuns, tableRows, type Row } from "./grouping";
import { Popover } from "./Popover";
import { clickSort, formatSort, parseSort, sortRank, type SortKey } from "./sort";
import { SortMenu } from "./SortMenu";
import { comparePath } from "../run/ComparePicker";
import "./table.css";

const ROW_HEIGHT = 30;
const EYE_WIDTH = 30;
const COLOR_WIDTH = 26;
const COMPACT_NAME_WIDTH = 150;
const COMPACT_WIDTH = 84;

interface Placed {
  column: Column;
  width: number;
  /** The sticky left offset of a pinned column; null when it scrolls. */
  left: number | null;
  /** The last pinned column, which draws the edge the others scroll under. */
  edge: boolean;
}

/** A clock that ticks while `interval` is set (durations of running runs). */
function useNow(interval: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (interval === null) return;
    const timer = window.setInterval(() => setNow(Date.now()), interval);
    return () => window.clearInterval(timer);
  }, [interval]);
  return now;
}

/** The compact panel's columns: name, then the sorted-by columns, else state and a summary. */
function compactPaths(sortKeys: SortKey[], columns: Column[]): string[] {
  const bySort = sortKeys
    .map((key) => columns.find((column) => column.sortField === key.field && column.path !== "name"))
    .filter((column): column is Column => column !== undefined)
    .map((column) => column.path);
  const fill = ["state", columns.find((column) => column.group === "summary")?.path].filter(
    (path): path is string => path !== undefined,
  );
  const extra = [...new Set([...bySort, ...fill])].slice(0, 2);
  return ["name", ...extra];
}

export function RunsTable(props: { compact?: boolean }) {
  const compact = props.compact ?? false;
  const state = useProject();
  const { runs, sort, setSort, groupBy, hidden, entity, project } = state;
  const [layoutParam, setLayoutParam] = useJsonParam<unknown>("cols", null);
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(() => new Set());
  const [dragWidths, setDragWidths] = useState<Record<string, number>>({});
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);

  // Logged scalar keys: their min, max and last are columns too (the server computes them).
  const [loggedKeys, setLoggedKeys] = useState<string[]>([]);
  useEffect(() => {
    let cancelled = false;
    api.projectKeys(entity, project).then(
      (keys) => {
        if (cancelled) return;
        const scalar = keys.filter((k) => k.stream === "history" && k.kind === "scalar" && !k.key.startsWith("_"));
        setLoggedKeys([...new Set(scalar.map((k) => k.key))]);
      },
      () => undefined,
    );
    return () => {
      cancelled = true;
    };
  }, [entity, project, state.resetTick]);
  const columns = useMemo(() => availableColumns(runs, loggedKeys), [runs, loggedKeys]);
  const byPath = useMemo(() => new Map(columns.map((column) => [column.path, column])), [columns]);
  const columnOf = useCallback((path: string) => byPath.get(path) ?? unknownColumn(path), [byPath]);
  const savedLayout = readLayout(layoutParam);
  const layout: ColumnLayout = savedLayout ?? defaultLayout(columns);
  const setLayout = (next: ColumnLayout) => setLayoutParam(next);
  const sortKeys = parseSort(sort);

  // Shown columns, pinned first, with their widths and sticky offsets.
  const placed: Placed[] = useMemo(() => {
    const paths = compact ? compactPaths(sortKeys, columns) : displayOrder(layout);
    const pinned = compact ? ["name"] : layout.pin;
    let left = EYE_WIDTH + COLOR_WIDTH;
    const placed = paths.map((path) => {
      const column = columnOf(path);
      const width = compact
        ? path === "name"
          ? COMPACT_NAME_WIDTH
          : COMPACT_WIDTH
        : dragWidths[path] ?? layout.widths?.[path] ?? column.width;
      const isPinned = pinned.includes(path);
      const place = { column, width, left: isPinned ? left : null, edge: false };
      if (isPinned) left += width;
      return place;
    });
    const lastPinned = placed.filter((place) => place.left !== null).pop();
    if (lastPinned) lastPinned.edge = true;
    return placed;
    // The layout object is rebuilt each render; its JSON is the real dependency.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [compact, JSON.stringify(layout), sort, columns, columnOf, dragWidths]);
  const totalWidth = EYE_WIDTH + COLOR_WIDTH + placed.reduce((sum, place) => sum + place.width, 0);

  // The runs carry the statistics of the metric columns shown.
  const shownMetrics = placed
    .map((place) => metricKeyOf(place.column.path))
    .filter((key): key is string => key !== null)
    .join("\n");
  const { setMetricKeys } = state;
  useEffect(() => {
    setMetricKeys(shownMetrics ? shownMetrics.split("\n") : []);
    // setMetricKeys is rebuilt with the project state; the shown keys are what matter.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shownMetrics]);

  // `groupBy` is parsed from the URL on every render of the project state: key on its text.
  const groupKey = JSON.stringify(groupBy);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const rows = useMemo(() => tableRows(runs, groupBy, collapsed), [runs, groupKey, collapsed]);
  const now = useNow(runs.some((run) => run.state === "running") ? 1000 : null);

  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    getItemKey: (index) => {
      const row = rows[index] as Row;
      return row.kind === "group" ? `g:${row.group.key}` : row.run.id;
    },
  });
  const items = virtualizer.getVirtualItems();
  const padTop = items[0]?.start ?? 0;
  const padBottom = items.length ? virtualizer.getTotalSize() - (items[items.length - 1]?.end ?? 0) : 0;

  // Field paths and seen values for the filter's autocomplete.
  const fields = useMemo(() => columns.filter((column) => column.group !== "run").map((column) => column.path), [columns]);
  const valuesOf = useCallback(
    (path: string): Json[] => {
      const seen = new Map<string, Json>();
      for (const run of runs.slice(0, 5000)) {
        const value = fieldValue(run, path);
        for (const item of Array.isArray(value) ? value : [value]) {
          if (item === undefined || (typeof item === "object" && item !== null)) continue;
          seen.set(JSON.stringify(item), item);
          if (seen.size >= 50) return [...seen.values()];
        }
      }
      return [...seen.values()];
    },
    [runs],
  );

  const onHeaderClick = (event: MouseEvent, column: Column) => {
    if (!column.sortField) return;
    setSort(formatSort(clickSort(sortKeys, column.sortField, event.shiftKey)));
  };

  // Reordering by dragging a header onto another.
  const onDragStart = (event: DragEvent, path: string) => {
    event.dataTransfer.setData("application/x-heron-column", path);
    event.dataTransfer.effectAllowed = "move";
  };
  const onDrop = (event: DragEvent, target: string) => {
    const path = event.dataTransfer.getData("application/x-heron-column");
    if (!path) return;
    event.preventDefault();
    setLayout(dropColumn(layout, path, target));
  };

  // Resizing by dragging a header's right edge.
  const startResize = (event: PointerEvent, place: Placed) => {
    event.preventDefault();
    event.stopPropagation();
    const startX = event.clientX;
    const path = place.column.path;
    let width = place.width;
    const move = (e: globalThis.PointerEvent) => {
      width = Math.max(50, Math.min(1200, place.width + e.clientX - startX));
      setDragWidths({ [path]: width });
    };
    const up = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      setDragWidths({});
      setLayout({ ...layout, widths: { ...layout.widths, [path]: Math.round(width) } });
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  };

  const exportCsv = async () => {
    setExporting(true);
    setExportError(null);
    try {
      let all: Run[] = runs;
      if (state.total > runs.length) {
        // The project state holds the first page; the export wants every matching run.
        all = [];
        let cursor: string | undefined;
        do {
          const page = await api.runs(entity, project, { filter: state.filter, sort, limit: 10000, ...(cursor ? { cursor } : {}) });
          all.push(...page.runs);
          cursor = page.next_cursor ?? undefined;
        } while (cursor);
      }
      const csv = runsCsv(displayRuns(all, groupBy), placed.map((place) => place.column.path), Date.now());
      const url = URL.createObjectURL(new Blob([csv], { type: "text/csv;charset=utf-8" }));
      const link = document.createElement("a");
      link.href = url;
      link.download = `${project}-runs.csv`;
      document.body.appendChild(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (e) {
      setExportError(e instanceof Error ? e.message : String(e));
    } finally {
      setExporting(false);
    }
  };

  const toggleGroup = (key: string) => {
    const next = new Set(collapsed);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    setCollapsed(next);
  };

  const hiddenCount = runs.reduce((n, run) => n + (hidden.has(run.id) ? 1 : 0), 0);
  const otherError = state.error && !state.error.startsWith("filter:") ? state.error : null;

  return (
    <div className={compact ? "runs-table compact" : "runs-table"} data-testid="runs-table">
      <div className="rt-toolbar">
        <FilterBox filter={state.filter} setFilter={state.setFilter} error={state.error} fields={fields} valuesOf={valuesOf} />
        {!compact && (
          <div className="rt-tools">
            <Popover label="Builder" title="Build a filter from conditions" testId="open-builder" align="right">
              {(close) => <FilterBuilder filter={state.filter} setFilter={state.setFilter} fields={fields} onDone={close} />}
            </Popover>
            <Popover label={sortKeys.length ? `Sort (${sortKeys.length})` : "Sort"} testId="open-sort" align="right">
              {() => <SortMenu sort={sort} setSort={setSort} columns={columns} />}
            </Popover>
            <Popover label={groupBy.length ? `Group (${groupBy.length})` : "Group"} testId="open-group" align="right">
              {() => <GroupMenu groupBy={groupBy} setGroupBy={state.setGroupBy} columns={columns} />}
            </Popover>
            <Popover label="Columns" testId="open-columns" align="right">
              {() => <ColumnManager layout={layout} setLayout={setLayout} columns={columns} onReset={() => setLayoutParam(null)} />}
            </Popover>
            <Link
              to={comparePath(state.entity, state.project, state.visibleRuns.slice(0, 8).map((run) => run.id))}
              className="rt-tool"
              title="Compare the first 8 visible runs side by side"
              data-testid="compare-visible"
            >
              Compare
            </Link>
            <button type="button" className="rt-tool" onClick={exportCsv} disabled={exporting} data-testid="export-csv">
              {exporting ? "Exporting…" : "Export CSV"}
            </button>
          </div>
        )}
      </div>
      <div className="rt-status">
        <span data-testid="run-count">
          {state.loading && runs.length === 0
            ? "Loading…"
            : `${runs.length}${state.total > runs.length ? ` of ${state.total}` : ""} run${runs.length === 1 ? "" : "s"}`}
          {hiddenCount > 0 && `, ${hiddenCount} hidden`}
        </span>
        {compact && (
          <Link to={`${window.location.pathname}${tableTabSearch()}`} className="rt-open-table">
            Full table
          </Link>
        )}
      </div>
      {otherError && (
        <div className="error rt-error" role="alert">
          {otherError}
        </div>
      )}
      {exportError && (
        <div className="error rt-error" role="alert">
          CSV export failed: {exportError}
        </div>
      )}
      <div className="rt-scroll" ref={scrollRef} role="table" aria-rowcount={rows.length}>
        <div className="rt-tr rt-head" role="row" style={{ width: totalWidth }}>
          <div className="rt-th rt-eye pinned" style={{ width: EYE_WIDTH, left: 0 }} role="columnheader">
            <VisibilityMenu />
          </div>
          <div className="rt-th rt-color pinned" style={{ width: COLOR_WIDTH, left: EYE_WIDTH }} role="columnheader" />
          {placed.map((place) => {
            const { column } = place;
            const rank = column.sortField ? sortRank(sortKeys, column.sortField) : null;
            return (
              <div
                key={column.path}
                role="columnheader"
                aria-sort={rank ? (rank.desc ? "descending" : "ascending") : undefined}
                data-testid={`col-${column.path}`}
                className={`rt-th ${place.left !== null ? "pinned" : ""} ${place.edge ? "pin-edge" : ""} ${column.sortField ? "sortable" : ""}`}
                style={{ width: place.width, left: place.left ?? undefined }}
                title={`${column.path}${column.sortField ? " (click to sort, shift-click to add a sort key)" : ""}`}
                draggable={!compact}
                onDragStart={(event) => onDragStart(event, column.path)}
                onDragOver={(event) => event.preventDefault()}
                onDrop={(event) => onDrop(event, column.path)}
                onMouseDown={(event) => event.shiftKey && event.preventDefault()}
                onClick={(event) => onHeaderClick(event, column)}
                tabIndex={column.sortField ? 0 : undefined}
                onKeyDown={(event) => {
                  if (event.key === "Enter" || event.key === " ") {
                    event.preventDefault();
                    if (column.sortField) setSort(formatSort(clickSort(sortKeys, column.sortField, event.shiftKey)));
                  }
                }}
              >
                {column.group !== "run" && !compact && <span className="rt-th-group">{column.group}</span>}
                <span className="rt-th-label">{column.label}</span>
                {rank && (
                  <span className="rt-sort-mark">
                    {rank.desc ? "↓" : "↑"}
                    {sortKeys.length > 1 ? rank.rank : ""}
                  </span>
                )}
                {!compact && (
                  <span
                    className="rt-resize"
                    data-testid={`resize-${column.path}`}
                    onPointerDown={(event) => startResize(event, place)}
                    onMouseDown={(event) => {
                      // No native drag of the header (that reorders) and no text selection.
                      event.preventDefault();
                      event.stopPropagation();
                    }}
                    onClick={(event) => event.stopPropagation()}
                  />
                )}
              </div>
            );
          })}
        </div>
        <div style={{ height: padTop }} />
        {items.map((item) => {
          const row = rows[item.index] as Row;
          return row.kind === "group" ? (
            <GroupRow
              key={item.key}
              row={row}
              width={totalWidth}
              groupBy={groupBy}
              onToggle={() => toggleGroup(row.group.key)}
            />
          ) : (
            <RunRow key={item.key} run={row.run} placed={placed} width={totalWidth} now={now} indent={row.depth > 0} />
          );
        })}
        <div style={{ height: padBottom }} />
        {!state.loading && runs.length === 0 && !state.error && (
          <div className="rt-empty">{state.filter ? "No runs match the filter." : "No runs in this project yet."}</div>
        )}
      </div>
    </div>
  );
}

function tableTabSearch(): string {
  const params = new URLSearchParams(window.location.search);
  params.set("tab", "table");
  return `?${params}`;
}

function VisibilityMenu() {
  const { runs: matching, groupBy, setHidden } = useProject();
  // "First" as the table shows them: grouped runs in group order.
  const runs = displayRuns(matching, groupBy);
  return (
    <Popover label={<EyeIcon open />} title="Visibility of runs in charts" testId="visibility-menu" className="rt-eye-menu">
      {(close) => (
        <div className="rt-menu">
          <button type="button" className="rt-tool" data-testid="show-all" onClick={() => (setHidden([]), close())}>
            Show all
          </button>
          <button
            type="button"
            className="rt-tool"
            data-testid="hide-all"
            onClick={() => (setHidden(runs.map((run) => run.id)), close())}
          >
            Hide all
          </button>
          <button
            type="button"
            className="rt-tool"
            data-testid="show-first-10"
            onClick={() => (setHidden(runs.slice(10).map((run) => run.id)), close())}
          >
            Show only the first 10
          </button>
        </div>
      )}
    </Popover>
  );
}

function GroupRow(props: { row: Extract<Row, { kind: "group" }>; width: number; groupBy: string[]; onToggle: () => void }) {
  const { group, collapsed } = props.row;
  const { hidden, setHidden } = useProject();
  const allHidden = group.runs.every((run) => hidden.has(run.id));
  const toggleVisibility = (event: MouseEvent) => {
    event.stopPropagation();
    const ids = new Set(hidden);
    for (const run of group.runs) {
      if (allHidden) ids.delete(run.id);
      else ids.add(run.id);
    }
    setHidden([...ids]);
  };
  return (
    <div
      className="rt-tr rt-group"
      role="row"
      data-testid="group-row"
      data-group={group.key}
      aria-expanded={!collapsed}
      style={{ width: props.width }}
      onClick={props.onToggle}
    >
      <div className="rt-group-label">
        <span className="rt-caret">{collapsed ? "▸" : "▾"}</span>
        <button
          type="button"
          className="rt-eye-button"
          title={allHidden ? "Show this group's runs" : "Hide this group's runs"}
          onClick={toggleVisibility}
        >
          <EyeIcon open={!allHidden} />
        </button>
        {props.groupBy.map((field, i) => (
          <span key={field} className="rt-group-value">
            <span className="rt-muted">{field}</span> = <b>{group.values[i] || "(none)"}</b>
          </span>
        ))}
        <span className="rt-count" data-testid="group-count">
          {group.runs.length}
        </span>
      </div>
    </div>
  );
}

function RunRow(props: { run: Run; placed: Placed[]; width: number; now: number; indent: boolean }) {
  const { run } = props;
  const { entity, project, hidden, toggleHidden, colorOf, setColor } = useProject();
  const isHidden = hidden.has(run.id);
  const color = colorOf(run.id);
  return (
    <div
      className={`rt-tr ${isHidden ? "hidden-run" : ""}`}
      role="row"
      data-testid="run-row"
      data-run-id={run.id}
      data-state={run.state}
      style={{ width: props.width }}
    >
      <div className="rt-td rt-eye pinned" style={{ width: EYE_WIDTH, left: 0 }} role="cell">
        <button
          type="button"
          className="rt-eye-button"
          data-testid="run-visibility"
          aria-pressed={!isHidden}
          title={isHidden ? "Show in charts" : "Hide from charts"}
          onClick={() => toggleHidden(run.id)}
        >
          <EyeIcon open={!isHidden} />
        </button>
      </div>
      <div className="rt-td rt-color pinned" style={{ width: COLOR_WIDTH, left: EYE_WIDTH }} role="cell">
        <label className="rt-swatch" style={{ background: color }} title="Change colour">
          <input
            type="color"
            value={/^#[0-9a-f]{6}$/i.test(color) ? color : "#000000"}
            onChange={(event) => setColor(run.id, event.target.value)}
            aria-label={`Colour of ${run.name || run.id}`}
            data-testid="run-color"
          />
        </label>
      </div>
      {props.placed.map((place) => (
        <Cell
          key={place.column.path}
          run={run}
          place={place}
          now={props.now}
          indent={props.indent && place.column.path === "name"}
          href={runPath(entity, project, run.id)}
        />
      ))}
    </div>
  );
}

function Cell(props: { run: Run; place: Placed; now: number; indent: boolean; href: string }) {
  const { run, place } = props;
  const path = place.column.path;
  const style = { width: place.width, left: place.left ?? undefined };
  const className = `rt-td ${place.left !== null ? "pinned" : ""} ${place.edge ? "pin-edge" : ""}`;
  let content;
  if (path === "name") {
    content = (
      <Link to={props.href} className={props.indent ? "rt-name indent" : "rt-name"} title={run.name || run.id}>
        {run.name || run.id}
      </Link>
    );
  } else if (path === "state") {
    content = <span className={`rt-state ${run.state}`}>{run.state}</span>;
  } else if (path === "tags") {
    content = run.tags.map((tag) => (
      <span key={tag} className="rt-tag">
        {tag}
      </span>
    ));
  } else {
    const text = cellText(run, path, props.now);
    const numeric = typeof cellValue(run, path, props.now) === "number";
    return (
      <div className={`${className} ${numeric ? "num" : ""}`} style={style} role="cell" title={text} data-path={path}>
        {text}
      </div>
    );
  }
  return (
    <div className={className} style={style} role="cell">
      {content}
    </div>
  );
}

function EyeIcon(props: { open: boolean }) {
  return (
    <svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2">
      <path d="M1 12s4-7 11-7 11 7 11 7-4 7-11 7S1 12 1 12z" />
      {props.open ? <circle cx="12" cy="12" r="3" /> : <line x1="3" y1="3" x2="21" y2="21" />}
    </svg>
  );
}
