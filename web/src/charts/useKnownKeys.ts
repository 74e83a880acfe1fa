// The scalar keys of the first visible runs (their union), kept current: read again when the
// runs change, when the event stream resets, and when a run logs a key not seen before.
import { useEffect, useMemo, useRef, useState } from "react";
import type { KeyInfo } from "../api";
import { api } from "../api";
import { useProject } from "../project/state";
import { unionKeys, type KnownKey } from "./model";

/** Runs whose keys are read (the first visible ones): enough for the panels, few requests. */
export const KEY_RUNS = 20;

export function useKnownKeys(): { keys: KnownKey[]; loading: boolean } {
  const { entity, project, visibleRuns, onPoints, resetTick } = useProject();
  const ids = useMemo(() => visibleRuns.slice(0, KEY_RUNS).map((r) => r.id), [visibleRuns]);
  const idsKey = ids.join("\n");
  const cache = useRef(new Map<string, KeyInfo[]>());
  const [version, setVersion] = useState(0);
  const [loading, setLoading] = useState(true);

  // Reset the cache on a stream reset: everything is read again.
  const lastReset = useRef(resetTick);
  if (lastReset.current !== resetTick) {
    lastReset.current = resetTick;
    cache.current.clear();
  }

  useEffect(() => {
    let cancelled = false;
    const missing = ids.filter((id) => !cache.current.has(id));
    if (missing.length === 0) {
      setLoading(false);
      return;
    }
    setLoading(true);
    Promise.all(
      missing.map((id) =>
        api.keys(entity, project, id).then(
          (infos) => cache.current.set(id, infos),
          () => cache.current.set(id, []),
        ),
      ),
    ).then(() => {
      if (cancelled) return;
      setLoading(false);
      setVersion((v) => v + 1);
    });
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [entity, project, idsKey, resetTick, version]);

  // A new key of a watched run: forget that run's keys so they are read again (at most every 2 s).
  const watched = useRef(new Set<string>());
  watched.current = new Set(ids);
  useEffect(() => {
    const pending = new Set<string>();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const unsubscribe = onPoints((event) => {
      if (!watched.current.has(event.run)) return;
      const known = cache.current.get(event.run);
      if (!known) return;
      const have = new Set(known.map((k) => k.key));
      if (event.keys.every((k) => have.has(k))) return;
      pending.add(event.run);
      if (timer !== null) return;
      timer = setTimeout(() => {
        timer = null;
        for (const id of pending) cache.current.delete(id);
        pending.clear();
        setVersion((v) => v + 1);
      }, 2000);
    });
    return () => {
      unsubscribe();
      if (timer !== null) clearTimeout(timer);
    };
  }, [onPoints]);

  const keys = useMemo(
    () => unionKeys(ids.map((id) => cache.current.get(id) ?? [])),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [idsKey, version],
  );
  return { keys, loading };
}
