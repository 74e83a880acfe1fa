import { describe, expect, it } from "vitest";
import { safeNext } from "./next";

describe("sign-in next", () => {
  it("keeps paths on this site", () => {
    expect(safeNext("/projects/admin/q?tab=table")).toBe("/projects/admin/q?tab=table");
    expect(safeNext(null)).toBe("/");
    expect(safeNext("/signin?next=%2F")).toBe("/");
  });
  it("refuses other origins", () => {
    expect(safeNext("//evil.example/x")).toBe("/");
    expect(safeNext("/\\evil.example")).toBe("/");
    expect(safeNext("https://evil.example")).toBe("/");
    expect(safeNext("javascript:alert(1)")).toBe("/");
  });
});
