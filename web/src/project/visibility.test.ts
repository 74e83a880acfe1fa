import { describe, expect, it } from "vitest";
import { hiddenParam, hiddenSet } from "./visibility";

const runs = Array.from({ length: 1000 }, (_, i) => ({ id: `r${i}` }));

describe("hidden runs in the URL", () => {
  it("lists the hidden ids while they are few", () => {
    expect(hiddenParam(new Set(["r1", "r2"]), runs)).toEqual(["r1", "r2"]);
    expect(hiddenParam(new Set(), runs)).toBeNull();
  });

  it("lists the shown ids when most are hidden, and reads both forms back", () => {
    const hidden = new Set(runs.slice(10).map((r) => r.id));
    const param = hiddenParam(hidden, runs);
    expect(param).toEqual({ only: runs.slice(0, 10).map((r) => r.id) });
    expect(hiddenSet(param!, runs)).toEqual(hidden);
    expect(hiddenSet(["r5"], runs)).toEqual(new Set(["r5"]));
    // Hide all: nothing is listed, every run (and any new one) is hidden.
    expect(hiddenParam(new Set(runs.map((r) => r.id)), runs)).toEqual({ only: [] });
    expect(hiddenSet({ only: [] }, [...runs, { id: "new" }]).has("new")).toBe(true);
  });
});
