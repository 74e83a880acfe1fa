import { describe, expect, it } from "vitest";
import type { RunFile } from "../api";
import { fileTree, formatBytes, matchingPaths } from "./trees";

const file = (path: string, size: number): RunFile => ({ path, size, sha256: "", updated_at: "" });

describe("fileTree", () => {
  it("groups paths into folders with sizes and counts", () => {
    const root = fileTree([file("b.txt", 1), file("ckpt/model.pt", 100), file("ckpt/old/m.pt", 10), file("a.txt", 2)]);
    expect(root.files.map((f) => f.path)).toEqual(["a.txt", "b.txt"]);
    expect(root.size).toBe(113);
    expect(root.count).toBe(4);
    const ckpt = root.folders[0]!;
    expect([ckpt.name, ckpt.path, ckpt.size, ckpt.count]).toEqual(["ckpt", "ckpt", 110, 2]);
    expect(ckpt.folders[0]!.path).toBe("ckpt/old");
    expect(ckpt.folders[0]!.files[0]!.path).toBe("ckpt/old/m.pt");
  });
});

describe("formatBytes", () => {
  it("uses binary units", () => {
    expect(formatBytes(10)).toBe("10 B");
    expect(formatBytes(2048)).toBe("2.0 KiB");
    expect(formatBytes(300 * 1024 * 1024)).toBe("300 MiB");
  });
});

describe("matchingPaths", () => {
  const tree = { lr: 0.01, model: { layers: 3, act: "relu" }, optimizer: "adam" };
  it("is null for an empty query", () => {
    expect(matchingPaths(tree, " ")).toBeNull();
  });
  it("keeps matching leaves by key or value with their ancestors", () => {
    expect([...matchingPaths(tree, "relu")!].sort()).toEqual(["model", "model.act"]);
    expect([...matchingPaths(tree, "LAYERS")!].sort()).toEqual(["model", "model.layers"]);
    expect([...matchingPaths(tree, "adam")!]).toEqual(["optimizer"]);
  });
  it("keeps a whole branch whose key matches", () => {
    expect([...matchingPaths(tree, "model")!].sort()).toEqual(["model", "model.act", "model.layers"]);
  });
});
