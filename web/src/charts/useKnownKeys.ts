// The scalar keys logged in the project (one request for all runs), kept current: read again
// when the event stream resets, and when a run logs a key not seen before.
import { useEffect, useMemo, useRef, useState } from "react";
import { api, type ProjectKey } from "../api";
import { useProject } from "../project/state";
import { unionKeys, type KnownKey } from "./model";

export function useKnownKeys(): { keys: KnownKey[]; loading: boolean } {
  const { entity, project, onPoints, resetTick } = useProject();
  const [infos, setInfos] = useState<ProjectKey[] | null>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let cancelled = false;
    api.projectKeys(entity, project).then(
      (keys) => !cancelled && setInfos(keys),
      () => !cancelled && setInfos((current) => current ?? []),
    );
    return () => {
      cancelled = true;
    };
  }, [entity, project, resetTick, version]);

  // A key not seen before: read the keys again (at most every 2 s while new keys keep coming).
  const known = useRef(new Set<string>());
  known.current = new Set(infos?.map((info) => info.key));
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const unsubscribe = onPoints((event) => {
      if (timer !== null || event.keys.every((key) => known.current.has(key))) return;
      timer = setTimeout(() => {
        timer = null;
        setVersion((v) => v + 1);
      }, 2000);
    });
    return () => {
      unsubscribe();
      if (timer !== null) clearTimeout(timer);
    };
  }, [onPoints]);

  const keys = useMemo(() => unionKeys([infos ?? []]), [infos]);
  return { keys, loading: infos === null };
}
