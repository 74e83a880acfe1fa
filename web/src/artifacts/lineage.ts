// Layout of a lineage graph (runs and artifact versions) as left-to-right layers: each node sits
// one layer right of its furthest-back predecessor (longest path), nodes in a layer are ordered
// by the mean position of their neighbours (a few barycentre sweeps, which uncross most edges),
// and every node gets a box of its own on a grid, so boxes never overlap.

export interface GraphEdge {
  from: string;
  to: string;
  kind: string;
}

export interface PlacedNode {
  id: string;
  layer: number;
  /** Position within its layer, top first. */
  order: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedEdge extends GraphEdge {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  /**
   * Where an edge across several layers enters and leaves each layer between: pairs of points
   * at the same height, clear of the boxes there. Empty for an edge between neighbouring layers.
   */
  via: { x: number; y: number }[];
  /** The edge points left (or within a layer): it closes a cycle the layering had to break. */
  back: boolean;
}

export interface GraphLayout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
}

export interface LayoutSizes {
  nodeWidth: number;
  nodeHeight: number;
  /** Horizontal space between layers (where the arrows run). */
  layerGap: number;
  /** Vertical space between nodes of one layer. */
  rowGap: number;
  padding: number;
}

export const DEFAULT_SIZES: LayoutSizes = { nodeWidth: 172, nodeHeight: 46, layerGap: 56, rowGap: 18, padding: 12 };

/** Sweeps of barycentre ordering (down and up count as one). */
const ORDER_SWEEPS = 4;

/**
 * The layer of each node: 0 for nodes nothing points at, else one more than the largest layer
 * of its predecessors. Lineage has no cycles, but a malformed answer must not hang the page:
 * when only nodes on a cycle remain, the first of them (in input order) is placed as if its
 * remaining incoming edges were absent.
 */
export function assignLayers(ids: readonly string[], edges: readonly GraphEdge[]): Map<string, number> {
  const known = new Set(ids);
  const outgoing = new Map<string, string[]>();
  const indegree = new Map<string, number>();
  for (const id of ids) {
    outgoing.set(id, []);
    indegree.set(id, 0);
  }
  const seen = new Set<string>();
  for (const edge of edges) {
    if (!known.has(edge.from) || !known.has(edge.to) || edge.from === edge.to) continue;
    const key = `${edge.from}\u0000${edge.to}`;
    if (seen.has(key)) continue;
    seen.add(key);
    outgoing.get(edge.from)!.push(edge.to);
    indegree.set(edge.to, indegree.get(edge.to)! + 1);
  }

  const layer = new Map<string, number>();
  for (const id of ids) layer.set(id, 0);
  const done = new Set<string>();
  const queued = new Set<string>();
  const queue: string[] = [];
  for (const id of ids) {
    if (indegree.get(id) === 0 && !queued.has(id)) {
      queue.push(id);
      queued.add(id);
    }
  }
  let head = 0;
  while (done.size < known.size) {
    if (head === queue.length) {
      // Only cycles are left: free the first remaining node.
      const next = ids.find((id) => !queued.has(id))!;
      queue.push(next);
      queued.add(next);
    }
    const id = queue[head++]!;
    done.add(id);
    for (const to of outgoing.get(id)!) {
      if (done.has(to)) continue;
      layer.set(to, Math.max(layer.get(to)!, layer.get(id)! + 1));
      const remaining = indegree.get(to)! - 1;
      indegree.set(to, remaining);
      if (remaining <= 0 && !queued.has(to)) {
        queue.push(to);
        queued.add(to);
      }
    }
  }
  return layer;
}

/**
 * Places `ids` (in their given order where nothing better is known) and the edges between them.
 * Edges naming unknown nodes are dropped.
 */
export function layoutGraph(ids: readonly string[], edges: readonly GraphEdge[], sizes: LayoutSizes = DEFAULT_SIZES): GraphLayout {
  const unique = [...new Set(ids)];
  const layers = assignLayers(unique, edges);
  const known = new Set(unique);
  const kept = edges.filter((edge) => known.has(edge.from) && known.has(edge.to));

  const layerCount = unique.length === 0 ? 0 : Math.max(...unique.map((id) => layers.get(id)!)) + 1;
  const rows: string[][] = Array.from({ length: layerCount }, () => []);
  for (const id of unique) rows[layers.get(id)!]!.push(id);

  const predecessors = new Map<string, string[]>();
  const successors = new Map<string, string[]>();
  const link = (from: string, to: string) => {
    successors.get(from)!.push(to);
    predecessors.get(to)!.push(from);
  };
  for (const id of unique) {
    predecessors.set(id, []);
    successors.set(id, []);
  }
  // An edge across several layers passes each layer between through a waypoint of its own,
  // ordered among the nodes there like a node, so that it runs between boxes, not through them.
  const waypoints = new Map<number, string[]>();
  kept.forEach((edge, index) => {
    if (edge.from === edge.to) return;
    const first = layers.get(edge.from)!;
    const last = layers.get(edge.to)!;
    let previous = edge.from;
    if (last - first > 1) {
      const chain: string[] = [];
      for (let l = first + 1; l < last; l++) {
        const id = `\u0000${index}:${l}`;
        layers.set(id, l);
        rows[l]!.push(id);
        predecessors.set(id, []);
        successors.set(id, []);
        link(previous, id);
        chain.push(id);
        previous = id;
      }
      waypoints.set(index, chain);
    }
    link(previous, edge.to);
  });
  const isWaypoint = (id: string) => id.startsWith("\u0000");

  const position = new Map<string, number>();
  const renumber = (row: string[]) => row.forEach((id, index) => position.set(id, index));
  rows.forEach(renumber);
  // Sort one layer by the mean position of its neighbours in the layer beside it; a node with
  // no such neighbour keeps its place.
  const sortByNeighbours = (row: string[], neighbours: Map<string, string[]>, side: number) => {
    const key = new Map<string, number>();
    for (const id of row) {
      const near = neighbours.get(id)!.filter((other) => layers.get(other) === side);
      key.set(id, near.length ? near.reduce((sum, other) => sum + position.get(other)!, 0) / near.length : position.get(id)!);
    }
    row.sort((a, b) => key.get(a)! - key.get(b)! || position.get(a)! - position.get(b)!);
    renumber(row);
  };
  for (let sweep = 0; sweep < ORDER_SWEEPS; sweep++) {
    for (let l = 1; l < layerCount; l++) sortByNeighbours(rows[l]!, predecessors, l - 1);
    for (let l = layerCount - 2; l >= 0; l--) sortByNeighbours(rows[l]!, successors, l + 1);
  }

  // Boxes and waypoints (no height) are stacked in each layer, which is centred on the tallest.
  const heightOf = (id: string) => (isWaypoint(id) ? 0 : sizes.nodeHeight);
  const columnHeight = (row: string[]) => row.reduce((sum, id) => sum + heightOf(id), 0) + Math.max(0, row.length - 1) * sizes.rowGap;
  const tallest = Math.max(0, ...rows.map(columnHeight));
  const pitchX = sizes.nodeWidth + sizes.layerGap;
  const placed = new Map<string, PlacedNode>();
  rows.forEach((row, l) => {
    let y = sizes.padding + (tallest - columnHeight(row)) / 2;
    let order = 0;
    for (const id of row) {
      const height = heightOf(id);
      placed.set(id, { id, layer: l, order: isWaypoint(id) ? -1 : order++, x: sizes.padding + l * pitchX, y, width: sizes.nodeWidth, height });
      y += height + sizes.rowGap;
    }
  });

  const placedEdges: PlacedEdge[] = kept.map((edge, index) => {
    const from = placed.get(edge.from)!;
    const to = placed.get(edge.to)!;
    const via = (waypoints.get(index) ?? []).flatMap((id) => {
      const point = placed.get(id)!;
      return [
        { x: point.x, y: point.y },
        { x: point.x + point.width, y: point.y },
      ];
    });
    return {
      from: edge.from,
      to: edge.to,
      kind: edge.kind,
      x1: from.x + from.width,
      y1: from.y + from.height / 2,
      x2: to.x,
      y2: to.y + to.height / 2,
      via,
      back: to.layer <= from.layer,
    };
  });

  return {
    nodes: unique.map((id) => placed.get(id)!),
    edges: placedEdges,
    width: layerCount === 0 ? 0 : 2 * sizes.padding + layerCount * pitchX - sizes.layerGap,
    height: tallest === 0 ? 0 : 2 * sizes.padding + tallest,
  };
}

/**
 * An SVG path for an edge: horizontal S-curves from box to box, straight through each layer it
 * crosses; a back edge loops over the top.
 */
export function edgePath(edge: PlacedEdge): string {
  const { x1, y1, x2, y2 } = edge;
  if (edge.back) {
    const lift = Math.min(y1, y2) - 30;
    return `M ${x1} ${y1} C ${x1 + 40} ${lift}, ${x2 - 40} ${lift}, ${x2} ${y2}`;
  }
  const curve = (ax: number, ay: number, bx: number, by: number) => {
    const bend = Math.max(20, (bx - ax) / 2);
    return `C ${ax + bend} ${ay}, ${bx - bend} ${by}, ${bx} ${by}`;
  };
  const parts = [`M ${x1} ${y1}`];
  let x = x1;
  let y = y1;
  for (let i = 0; i + 1 < edge.via.length; i += 2) {
    const enter = edge.via[i]!;
    const leave = edge.via[i + 1]!;
    parts.push(curve(x, y, enter.x, enter.y), `L ${leave.x} ${leave.y}`);
    x = leave.x;
    y = leave.y;
  }
  parts.push(curve(x, y, x2, y2));
  return parts.join(" ");
}
