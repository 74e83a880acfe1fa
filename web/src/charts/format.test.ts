import { describe, expect, it } from "vitest";
import { formatDuration, formatLogTick, formatTick } from "./format";

describe("formatTick", () => {
  it("shows as many decimals as the spacing needs", () => {
    expect([67.95, 67.955, 67.96].map((v) => formatTick(v, 0.005))).toEqual(["67.950", "67.955", "67.960"]);
    expect(formatTick(0.25, 0.25)).toBe("0.25");
    expect(formatTick(400, 100)).toBe("400");
    expect(formatTick(22800, 100)).toBe("22800");
  });

  it("uses exponents for large and tiny values", () => {
    expect(formatTick(750000, 250000)).toBe("7.5e+5");
    expect(formatTick(1000000, 250000)).toBe("1e+6");
    expect(formatTick(0, 250000)).toBe("0");
    expect(formatTick(0.0002, 0.0001)).toBe("2e-4");
  });
});

describe("formatDuration", () => {
  it("reads as seconds, minutes, hours, days", () => {
    expect(formatDuration(1.5)).toBe("1.5s");
    expect(formatDuration(90)).toBe("1m30s");
    expect(formatDuration(3600)).toBe("1h");
    expect(formatDuration(2 * 86400)).toBe("2d");
  });
});

describe("formatLogTick", () => {
  it("keeps two significant digits", () => {
    expect([0.03, 0.07, 0.1, 0.2, 1, 30].map(formatLogTick)).toEqual(["0.03", "0.07", "0.1", "0.2", "1", "30"]);
    expect(formatLogTick(1e-5)).toBe("1e-5");
    expect(formatLogTick(2e6)).toBe("2e+6");
  });
});
