// Routing and URL state: the dashboard keeps everything a user would share (filter, sort,
// panels, zoom) in the URL, so a link reproduces the view.
import { useCallback, useMemo, useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from "react";

const listeners = new Set<() => void>();

function notify(): void {
  for (const listener of listeners) listener();
}

window.addEventListener("popstate", notify);

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Goes to `to` (path and query); `replace` edits the current history entry instead. */
export function navigate(to: string, replace = false): void {
  if (to === window.location.pathname + window.location.search) return;
  if (replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  notify();
}

export function usePath(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname);
}

export function useSearch(): string {
  return useSyncExternalStore(subscribe, () => window.location.search);
}

/** One query parameter as state; setting it replaces the history entry (no back-button spam). */
export function useQueryParam(name: string): [string | null, (value: string | null) => void] {
  const search = useSearch();
  const value = new URLSearchParams(search).get(name);
  const set = useCallback(
    (next: string | null) => {
      const params = new URLSearchParams(window.location.search);
      if (next === null || next === "") params.delete(name);
      else params.set(name, next);
      const query = params.toString();
      navigate(window.location.pathname + (query ? `?${query}` : ""), true);
    },
    [name],
  );
  return [value, set];
}

/**
 * A query parameter holding JSON; `fallback` when absent or unreadable. The value keeps its
 * identity while the parameter's text is unchanged (pass a constant `fallback` for the same).
 */
export function useJsonParam<T>(name: string, fallback: T): [T, (value: T | null) => void] {
  const [raw, setRaw] = useQueryParam(name);
  const parsed = useMemo(() => {
    if (raw === null) return undefined;
    try {
      return { value: JSON.parse(raw) as T };
    } catch {
      return undefined;
    }
  }, [raw]);
  const value = parsed === undefined ? fallback : parsed.value;
  const set = useCallback((next: T | null) => setRaw(next === null ? null : JSON.stringify(next)), [setRaw]);
  return [value, set];
}

/** Matches `/projects/:entity/:project/...` style patterns; null when the path differs. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/").filter(Boolean);
  const have = path.split("/").filter(Boolean);
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
    const h = have[i] as string;
    if (w.startsWith(":")) params[w.slice(1)] = decodeURIComponent(h);
    else if (w !== h) return null;
  }
  return params;
}

export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  const { to, onClick, ...rest } = props;
  const click = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={click} {...rest} />;
}
