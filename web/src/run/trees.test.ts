import { describe, expect, it } from "vitest";
import type { ArtifactFile, RunFile } from "../api";
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

describe("fileTree of an artifact manifest", () => {
  const entry = (path: string, size: number, reference?: string): ArtifactFile =>
    reference ? { path, size, reference, digest: "etag" } : { path, size, sha256: "0".repeat(64), url: `/api/v1/blobs/${path}` };

  it("nests deep paths, keeps references, and sorts folders before files", () => {
    const root = fileTree([
      entry("z.txt", 5),
      entry("images/train/cat.png", 100),
      entry("images/train/dog.png", 200),
      entry("images/val/cat.png", 50),
      entry("images/labels.csv", 7),
      entry("remote/shard-0.tar", 1000, "s3://bucket/shard-0.tar"),
    ]);
    expect([root.count, root.size]).toEqual([6, 1362]);
    expect(root.folders.map((f) => f.name)).toEqual(["images", "remote"]);
    const images = root.folders[0]!;
    expect([images.count, images.size]).toEqual([4, 357]);
    expect(images.folders.map((f) => f.path)).toEqual(["images/train", "images/val"]);
    expect(images.files.map((f) => f.path)).toEqual(["images/labels.csv"]);
    expect(images.folders[0]!.files.map((f) => f.path)).toEqual(["images/train/cat.png", "images/train/dog.png"]);
    expect(root.folders[1]!.files[0]!.reference).toBe("s3://bucket/shard-0.tar");
    expect(root.files.map((f) => f.path)).toEqual(["z.txt"]);
  });

  it("is an empty root for an empty manifest", () => {
    expect(fileTree([])).toEqual({ name: "", path: "", folders: [], files: [], size: 0, count: 0 });
  });
});

describe("formatBytes", () => {
  it("uses binary units", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(10)).toBe("10 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1024)).toBe("1.0 KiB");
    expect(formatBytes(2048)).toBe("2.0 KiB");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(300 * 1024 * 1024)).toBe("300 MiB");
    expect(formatBytes(5 * 1024 ** 4)).toBe("5.0 TiB");
    expect(formatBytes(3 * 1024 ** 5)).toBe("3.0 PiB");
  });

  it("never shows a rounded 10.0 or 1024 of a unit", () => {
    expect(formatBytes(10 * 1024 - 1)).toBe("10 KiB");
    expect(formatBytes(1024 * 1024 - 1)).toBe("1.0 MiB");
    expect(formatBytes(1024 ** 3 - 100)).toBe("1.0 GiB");
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
