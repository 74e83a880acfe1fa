import { describe, expect, it } from "vitest";
import { PALETTE, assignColors, defaultColor } from "./colors";

const run = (id: string, minute: number) => ({ id, created_at: `2026-11-26T10:${String(minute).padStart(2, "0")}:00.000Z` });

describe("run colours", () => {
  it("gives runs shown together different colours while the palette lasts", () => {
    const runs = Array.from({ length: PALETTE.length }, (_, i) => run(`run-${i}`, i));
    const colors = assignColors(runs);
    expect(new Set(colors.values()).size).toBe(PALETTE.length);
  });

  it("keeps the oldest run's own colour and is the same for the same runs in any order", () => {
    const runs = Array.from({ length: 12 }, (_, i) => run(`r${i * 7}`, i));
    const colors = assignColors(runs);
    expect(colors.get("r0")).toBe(defaultColor("r0"));
    expect(assignColors([...runs].reverse())).toEqual(colors);
  });
});
