import { describe, expect, it } from "vitest";
import type { LineageNode } from "../api";
import { artifactUrl, lineageNodeUrl, modelUrl, parseArtifactRef, registryUrl, runUrl, versionNodeId } from "./links";

describe("dashboard URLs", () => {
  it("encodes each segment", () => {
    expect(artifactUrl("e", "p", "my data")).toBe("/projects/e/p/artifacts/my%20data");
    expect(artifactUrl("e", "p", "ds", "v2", "files")).toBe("/projects/e/p/artifacts/ds/v2?tab=files");
    expect(artifactUrl("e", "p", "ds", "v2", "overview")).toBe("/projects/e/p/artifacts/ds/v2");
    expect(runUrl("e", "p", "r1", "artifacts")).toBe("/projects/e/p/runs/r1?tab=artifacts");
    expect(registryUrl("lab")).toBe("/lab/registry");
    expect(modelUrl("lab", "resnet")).toBe("/lab/registry/resnet");
  });

  it("sends a lineage node to its page", () => {
    const run: LineageNode = { id: "run:e/p/r1", kind: "run", entity: "e", project: "p", name: "r1", version: null, label: "first run", detail: "finished" };
    const version: LineageNode = { id: "artifact:e/q/ds:v1", kind: "artifact", entity: "e", project: "q", name: "ds", version: "v1", label: "ds:v1", detail: "dataset" };
    expect(lineageNodeUrl(run)).toBe("/projects/e/p/runs/r1?tab=artifacts");
    expect(lineageNodeUrl(version)).toBe("/projects/e/q/artifacts/ds/v1?tab=lineage");
  });
});

describe("versionNodeId", () => {
  it("names a version as the lineage answer does", () => {
    expect(versionNodeId("e", "p", "ds", "v3")).toBe("artifact:e/p/ds:v3");
  });
});

describe("parseArtifactRef", () => {
  it("reads entity/project/name:version", () => {
    expect(parseArtifactRef("lab/vision/resnet.ckpt:v12")).toEqual({ entity: "lab", project: "vision", name: "resnet.ckpt", version: "v12" });
  });
  it("refuses other shapes", () => {
    expect(parseArtifactRef("vision/resnet:v1")).toBeNull();
    expect(parseArtifactRef("lab/vision/resnet")).toBeNull();
    expect(parseArtifactRef("lab//resnet:v1")).toBeNull();
    expect(parseArtifactRef("lab/vision/resnet:")).toBeNull();
  });
});
