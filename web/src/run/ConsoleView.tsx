// The Console tab: the run's output with ANSI colours, line numbers, search (highlight and
// optionally filter), following new lines while the run is running.
import { useVirtualizer } from "@tanstack/react-virtual";
import { useCallback, useEffect, useMemo, useRef, useState, type CSSProperties } from "react";
import { ApiError, request, runPath, type ConsolePage, type Run } from "../api";
import { markMatches, parseAnsi, type AnsiStyle } from "./ansi";
import { mergeLines, type Line } from "./consoleLines";

/** Lines read when the tab opens (the end of the log) and per "earlier lines" click. */
const PAGE = 5000;
/** Lines re-read before the end on each poll, so redrawn lines (progress bars) update. */
const REREAD = 20;
const POLL_MS = 2000;
const ROW_HEIGHT = 18;

function readConsole(run: Run, query: string): Promise<ConsolePage> {
  return request<ConsolePage>("GET", `${runPath(run.entity, run.project, run.id)}/console?${query}`);
}

export function ConsoleView(props: { run: Run }) {
  const { run } = props;
  const [lines, setLines] = useState<Line[]>([]);
  const [total, setTotal] = useState(0);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [search, setSearch] = useState("");
  const [onlyMatches, setOnlyMatches] = useState(false);
  const [current, setCurrent] = useState(0);
  const [follow, setFollow] = useState(true);
  const scroller = useRef<HTMLDivElement>(null);
  const linesRef = useRef(lines);
  linesRef.current = lines;
  const running = run.state === "running";

  // First read: the end of the log.
  useEffect(() => {
    let live = true;
    readConsole(run, `tail=${PAGE}`).then(
      (page) => {
        if (!live) return;
        setLines(mergeLines([], page.lines));
        setTotal(page.total);
        setLoaded(true);
      },
      (e: unknown) => live && setError(e instanceof ApiError ? e.message : String(e)),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [run.entity, run.project, run.id]);

  const poll = useCallback(() => {
    const have = linesRef.current;
    const end = have.length ? have[have.length - 1]!.index + 1 : 0;
    const offset = Math.max(have.length ? have[0]!.index : 0, end - REREAD);
    return readConsole(run, `offset=${offset}&limit=100000`).then((page) => {
      setLines((old) => mergeLines(old, page.lines));
      setTotal(page.total);
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [run.entity, run.project, run.id]);

  // Follow new lines while the run is running, and read once more when it stops.
  useEffect(() => {
    if (!loaded) return;
    if (!running) {
      poll().catch(() => undefined);
      return;
    }
    const timer = window.setInterval(() => {
      poll().catch(() => undefined);
    }, POLL_MS);
    return () => window.clearInterval(timer);
  }, [loaded, running, poll]);

  const loadEarlier = () => {
    const first = lines.length ? lines[0]!.index : total;
    const offset = Math.max(0, first - PAGE);
    readConsole(run, `offset=${offset}&limit=${first - offset}`).then(
      (page) => {
        setFollow(false);
        setLines((old) => mergeLines(old, page.lines));
      },
      (e: unknown) => setError(e instanceof ApiError ? e.message : String(e)),
    );
  };

  const needle = search.toLowerCase();
  const matches = useMemo(
    () => (needle ? lines.filter((line) => line.plain.toLowerCase().includes(needle)) : []),
    [lines, needle],
  );
  const shown = onlyMatches && needle ? matches : lines;

  const virtualizer = useVirtualizer({
    count: shown.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 30,
  });

  // Stick to the bottom while following.
  useEffect(() => {
    if (follow && shown.length) virtualizer.scrollToIndex(shown.length - 1, { align: "end" });
  }, [follow, shown.length, virtualizer]);

  const onScroll = () => {
    const element = scroller.current;
    if (!element) return;
    const atBottom = element.scrollTop + element.clientHeight >= element.scrollHeight - ROW_HEIGHT;
    if (atBottom !== follow) setFollow(atBottom);
  };

  const goto = (step: number) => {
    if (!matches.length) return;
    const next = (current + step + matches.length) % matches.length;
    setCurrent(next);
    setFollow(false);
    const target = matches[next]!;
    const at = shown.indexOf(target);
    if (at >= 0) virtualizer.scrollToIndex(at, { align: "center" });
  };
  const currentIndex = matches[current]?.index;

  if (error) return <div className="error">{error}</div>;
  if (!loaded) return <div className="muted">Loading console…</div>;
  const first = lines[0]?.index ?? 0;
  const digits = String(Math.max(total, 1)).length;
  return (
    <div className="console">
      <div className="toolbar">
        <input
          type="search"
          placeholder="Search the log"
          value={search}
          data-testid="console-search"
          onChange={(e) => {
            setSearch(e.target.value);
            setCurrent(0);
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter") goto(e.shiftKey ? -1 : 1);
          }}
        />
        {needle && (
          <>
            <span className="muted" data-testid="console-match-count">
              {matches.length ? `${Math.min(current + 1, matches.length)} / ${matches.length}` : "no matches"}
            </span>
            {first > 0 && <span className="muted">(in the {lines.length.toLocaleString()} lines loaded)</span>}
            <button onClick={() => goto(-1)} disabled={!matches.length} title="Previous match (Shift+Enter)">
              ↑
            </button>
            <button onClick={() => goto(1)} disabled={!matches.length} title="Next match (Enter)">
              ↓
            </button>
          </>
        )}
        <label>
          <input type="checkbox" checked={onlyMatches} onChange={(e) => setOnlyMatches(e.target.checked)} /> only
          matching lines
        </label>
        <span className="spacer" />
        {running && <span className={follow ? "live-dot" : "muted"}>{follow ? "following" : "paused (scroll to the end to follow)"}</span>}
        <span className="muted">{total.toLocaleString()} lines</span>
      </div>
      {first > 0 && (
        <button className="link" onClick={loadEarlier}>
          Load {Math.min(PAGE, first).toLocaleString()} earlier lines ({first.toLocaleString()} not shown)
        </button>
      )}
      {/* The scroller is always there, so the virtualizer has its element from the start. */}
      <div className="console-scroll" ref={scroller} onScroll={onScroll}>
        {lines.length === 0 && <div className="empty">No console output{running ? " yet" : ""}.</div>}
        <div style={{ height: virtualizer.getTotalSize(), position: "relative", minWidth: "100%" }}>
          {virtualizer.getVirtualItems().map((item) => {
            const line = shown[item.index]!;
            return (
              <div
                key={line.index}
                className={`console-line${line.stream === "stderr" ? " stderr" : ""}${line.index === currentIndex ? " current" : ""}`}
                data-testid="console-line"
                data-index={line.index}
                style={{ transform: `translateY(${item.start}px)`, height: ROW_HEIGHT }}
              >
                <span className="line-number" style={{ width: `${digits + 1}ch` }}>
                  {line.index + 1}
                </span>
                <span className="line-text">
                  <AnsiText text={line.text} query={search} />
                </span>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

export function spanStyle(style: AnsiStyle): CSSProperties | undefined {
  let fg = style.fg;
  let bg = style.bg;
  if (style.inverse) {
    [fg, bg] = [bg ?? "var(--console-bg)", fg ?? "var(--console-fg)"];
  }
  if (!fg && !bg && !style.bold && !style.dim && !style.italic && !style.underline) return undefined;
  const css: CSSProperties = {};
  if (fg) css.color = fg;
  if (bg) css.backgroundColor = bg;
  if (style.bold) css.fontWeight = 700;
  if (style.dim) css.opacity = 0.7;
  if (style.italic) css.fontStyle = "italic";
  if (style.underline) css.textDecoration = "underline";
  return css;
}

function AnsiText(props: { text: string; query: string }) {
  const spans = useMemo(() => markMatches(parseAnsi(props.text), props.query), [props.text, props.query]);
  return (
    <>
      {spans.map((span, i) =>
        span.match ? (
          <mark key={i} style={spanStyle(span.style)}>
            {span.text}
          </mark>
        ) : (
          <span key={i} style={spanStyle(span.style)}>
            {span.text}
          </span>
        ),
      )}
    </>
  );
}
