import { describe, expect, it } from "vitest";
import { assignLayers, DEFAULT_SIZES, edgePath, layoutGraph, type GraphEdge, type PlacedNode } from "./lineage";

const edge = (from: string, to: string, kind = "produced"): GraphEdge => ({ from, to, kind });

function overlaps(a: PlacedNode, b: PlacedNode): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

describe("assignLayers", () => {
  it("puts each node one layer right of its furthest predecessor (longest path)", () => {
    const layers = assignLayers(["a", "b", "c", "d"], [edge("a", "b"), edge("b", "c"), edge("a", "c"), edge("c", "d")]);
    expect(Object.fromEntries(layers)).toEqual({ a: 0, b: 1, c: 2, d: 3 });
  });

  it("starts every source at layer 0", () => {
    const layers = assignLayers(["x", "y", "v"], [edge("x", "v"), edge("y", "v")]);
    expect([layers.get("x"), layers.get("y"), layers.get("v")]).toEqual([0, 0, 1]);
  });

  it("ignores self-loops, duplicates and edges to unknown nodes", () => {
    const layers = assignLayers(["a", "b"], [edge("a", "a"), edge("a", "b"), edge("a", "b"), edge("ghost", "a"), edge("b", "ghost")]);
    expect(Object.fromEntries(layers)).toEqual({ a: 0, b: 1 });
  });

  it("finishes on a cycle and still layers what follows it", () => {
    const layers = assignLayers(["a", "b", "c"], [edge("a", "b"), edge("b", "a"), edge("b", "c")]);
    expect(layers.size).toBe(3);
    expect(layers.get("a")).toBe(0);
    expect(layers.get("b")).toBe(1);
    expect(layers.get("c")).toBe(2);
  });

  it("finishes on a graph that is one big cycle", () => {
    const ids = Array.from({ length: 50 }, (_, i) => `n${i}`);
    const edges = ids.map((id, i) => edge(id, ids[(i + 1) % ids.length]!));
    const layers = assignLayers(ids, edges);
    expect(layers.size).toBe(50);
    expect(Math.max(...layers.values())).toBe(49);
  });
});

describe("layoutGraph", () => {
  // run r1 produced dataset:v0 and dataset:v1; r2 used v1 and produced model:v0; r3 used
  // model:v0; r4 used dataset:v0.
  const ids = ["run:r1", "artifact:dataset:v0", "artifact:dataset:v1", "run:r2", "artifact:model:v0", "run:r3", "run:r4"];
  const edges = [
    edge("run:r1", "artifact:dataset:v0"),
    edge("run:r1", "artifact:dataset:v1"),
    edge("artifact:dataset:v1", "run:r2", "used"),
    edge("run:r2", "artifact:model:v0"),
    edge("artifact:model:v0", "run:r3", "used"),
    edge("artifact:dataset:v0", "run:r4", "used"),
  ];

  it("places layers left to right", () => {
    const layout = layoutGraph(ids, edges);
    const layerOf = Object.fromEntries(layout.nodes.map((n) => [n.id, n.layer]));
    expect(layerOf).toEqual({
      "run:r1": 0,
      "artifact:dataset:v0": 1,
      "artifact:dataset:v1": 1,
      "run:r2": 2,
      "run:r4": 2,
      "artifact:model:v0": 3,
      "run:r3": 4,
    });
    for (const node of layout.nodes) expect(node.x).toBe(DEFAULT_SIZES.padding + node.layer * (DEFAULT_SIZES.nodeWidth + DEFAULT_SIZES.layerGap));
  });

  it("gives every node a box of its own inside the drawing", () => {
    const layout = layoutGraph(ids, edges);
    expect(layout.nodes).toHaveLength(ids.length);
    for (let i = 0; i < layout.nodes.length; i++) {
      const a = layout.nodes[i]!;
      expect(a.x).toBeGreaterThanOrEqual(0);
      expect(a.y).toBeGreaterThanOrEqual(0);
      expect(a.x + a.width).toBeLessThanOrEqual(layout.width);
      expect(a.y + a.height).toBeLessThanOrEqual(layout.height);
      for (let j = i + 1; j < layout.nodes.length; j++) expect(overlaps(a, layout.nodes[j]!)).toBe(false);
    }
  });

  it("orders a layer by its neighbours so that edges do not cross", () => {
    // a0 → b1 and a1 → b0 in input order would cross; the sweep swaps b0 and b1.
    const layout = layoutGraph(["a0", "a1", "b0", "b1"], [edge("a0", "b1"), edge("a1", "b0")]);
    const y = Object.fromEntries(layout.nodes.map((n) => [n.id, n.y]));
    expect(y.b1!).toBeLessThan(y.b0!);
    expect(y.a0!).toBeLessThan(y.a1!);
  });

  it("joins the right side of the source to the left side of the target", () => {
    const layout = layoutGraph(ids, edges);
    expect(layout.edges).toHaveLength(edges.length);
    const byId = new Map(layout.nodes.map((n) => [n.id, n]));
    for (const e of layout.edges) {
      const from = byId.get(e.from)!;
      const to = byId.get(e.to)!;
      expect([e.x1, e.y1]).toEqual([from.x + from.width, from.y + from.height / 2]);
      expect([e.x2, e.y2]).toEqual([to.x, to.y + to.height / 2]);
      expect(e.back).toBe(false);
      expect(edgePath(e)).toMatch(/^M [\d.]+ [\d.]+ C /);
    }
  });

  it("routes an edge across several layers between the boxes of the layers it crosses", () => {
    // a → b → c → d, and a → d directly: the direct edge crosses the layers of b and c.
    const layout = layoutGraph(["a", "b", "c", "d"], [edge("a", "b"), edge("b", "c"), edge("c", "d"), edge("a", "d")]);
    const long = layout.edges.find((e) => e.from === "a" && e.to === "d")!;
    expect(long.via).toHaveLength(4);
    for (let i = 0; i < long.via.length; i += 2) {
      const [enter, leave] = [long.via[i]!, long.via[i + 1]!];
      expect(enter.y).toBe(leave.y);
      const crossed = layout.nodes.filter((n) => n.x === enter.x);
      expect(crossed).toHaveLength(1);
      for (const node of crossed) expect(enter.y < node.y || enter.y > node.y + node.height).toBe(true);
      expect(leave.x).toBe(enter.x + DEFAULT_SIZES.nodeWidth);
    }
    expect(edgePath(long).match(/ L /g)).toHaveLength(2);
    // Neighbouring layers need no waypoints, and waypoints are not nodes.
    expect(layout.edges.filter((e) => e !== long).every((e) => e.via.length === 0)).toBe(true);
    expect(layout.nodes.map((n) => n.id)).toEqual(["a", "b", "c", "d"]);
    for (const node of layout.nodes) expect(node.y + node.height).toBeLessThanOrEqual(layout.height);
  });

  it("marks the edge that closes a cycle as a back edge", () => {
    const layout = layoutGraph(["a", "b"], [edge("a", "b"), edge("b", "a")]);
    expect(layout.edges.map((e) => e.back)).toEqual([false, true]);
  });

  it("lays out nothing as an empty drawing and one node alone", () => {
    expect(layoutGraph([], [])).toEqual({ nodes: [], edges: [], width: 0, height: 0 });
    const one = layoutGraph(["solo"], []);
    expect(one.nodes[0]).toMatchObject({ id: "solo", layer: 0, order: 0 });
    expect(one.width).toBe(DEFAULT_SIZES.nodeWidth + 2 * DEFAULT_SIZES.padding);
  });
});
