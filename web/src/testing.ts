// Test fixtures shared by the unit tests.
import type { Run } from "./api";

/** A finished run `r1` of `e/p` with empty documents; `over` replaces any field. */
export function testRun(over: Partial<Run> = {}): Run {
  return {
    entity: "e",
    project: "p",
    id: "r1",
    name: "run",
    state: "finished",
    config: {},
    summary: {},
    tags: [],
    notes: "",
    group: null,
    job_type: null,
    sweep: null,
    host: null,
    metadata: {},
    created_at: "2026-11-26T10:00:00Z",
    updated_at: "2026-11-26T10:00:00Z",
    heartbeat_at: "2026-11-26T10:01:00Z",
    finished_at: "2026-11-26T10:01:30Z",
    exit_code: 0,
    last_step: 1,
    history_rows: 2,
    ...over,
  };
}
