import { describe, expect, it } from "vitest";
import type { Artifact, ArtifactVersion, RegisteredModel } from "../api";
import { expiry, findVersion, groupByType, modelAliases } from "./versions";

const artifact = (name: string, type: string): Artifact => ({
  entity: "e",
  project: "p",
  name,
  type,
  description: null,
  versions: 1,
  latest: 0,
  size: 1,
  created_at: "",
  updated_at: "",
});

const version = (index: number, aliases: string[], expires_at: string | null = null): ArtifactVersion => ({
  entity: "e",
  project: "p",
  name: "ds",
  type: "dataset",
  version: `v${index}`,
  index,
  digest: "0".repeat(64),
  description: null,
  metadata: {},
  aliases,
  size: 1,
  file_count: 1,
  created_at: "2026-11-26T10:00:00Z",
  created_by: "admin",
  run: null,
  expires_at,
});

describe("groupByType", () => {
  it("groups by type, types and names in order", () => {
    const groups = groupByType([artifact("b", "model"), artifact("z", "dataset"), artifact("a", "model"), artifact("m", "dataset")]);
    expect(groups.map(([type, list]) => [type, list.map((a) => a.name)])).toEqual([
      ["dataset", ["m", "z"]],
      ["model", ["a", "b"]],
    ]);
  });
});

describe("findVersion", () => {
  const versions = [version(2, ["latest"]), version(1, ["best"]), version(0, [])];
  it("finds a version by name or by alias", () => {
    expect(findVersion(versions, "v0")?.index).toBe(0);
    expect(findVersion(versions, "latest")?.index).toBe(2);
    expect(findVersion(versions, "best")?.index).toBe(1);
    expect(findVersion(versions, "v9")).toBeNull();
  });
});

describe("expiry", () => {
  const now = Date.parse("2026-11-26T10:00:00Z");
  it("says when a version with a TTL goes, and that one without stays", () => {
    expect(expiry(version(0, []), now)).toBe("none: kept until deleted");
    expect(expiry(version(0, [], "2026-11-26T15:00:00Z"), now)).toMatch(/\(in 5 h\)$/);
    expect(expiry(version(0, [], "2026-12-06T10:00:00Z"), now)).toMatch(/\(in 10 days\)$/);
    expect(expiry(version(0, [], "2026-11-26T09:00:00Z"), now)).toMatch(/\(due now\)$/);
  });
});

describe("modelAliases", () => {
  it("lists alias → version pairs by alias", () => {
    const model: RegisteredModel = {
      entity: "e",
      name: "m",
      description: null,
      created_at: "",
      updated_at: "",
      versions: [
        { version: "v0", index: 0, artifact: "e/p/ds:v0", aliases: ["staging"], linked_at: "", linked_by: "a" },
        { version: "v1", index: 1, artifact: "e/p/ds:v1", aliases: ["production", "candidate"], linked_at: "", linked_by: "a" },
      ],
    };
    expect(modelAliases(model)).toEqual([
      ["candidate", "v1"],
      ["production", "v1"],
      ["staging", "v0"],
    ]);
  });
});
