// Trees the run page shows: files by folder, and config/summary as searchable key/value trees.
import type { Json, RunFile } from "../api";
import { formatValue } from "../fields";

/** What a file tree needs of a file: run files and artifact manifest entries both fit. */
export interface TreeFile {
  path: string;
  size: number;
}

export interface FolderNode<F extends TreeFile = RunFile> {
  name: string;
  /** The folder's path without a trailing slash; "" for the root. */
  path: string;
  folders: FolderNode<F>[];
  files: F[];
  /** Bytes of every file below. */
  size: number;
  /** Files below, at any depth. */
  count: number;
}

/** Files grouped into folders by the `/`s of their paths, folders first, both by name. */
export function fileTree<F extends TreeFile>(files: readonly F[]): FolderNode<F> {
  const root: FolderNode<F> = { name: "", path: "", folders: [], files: [], size: 0, count: 0 };
  for (const file of files) {
    const parts = file.path.split("/").filter(Boolean);
    let node = root;
    node.size += file.size;
    node.count += 1;
    for (let i = 0; i < parts.length - 1; i++) {
      const name = parts[i]!;
      let child = node.folders.find((folder) => folder.name === name);
      if (!child) {
        child = { name, path: parts.slice(0, i + 1).join("/"), folders: [], files: [], size: 0, count: 0 };
        node.folders.push(child);
      }
      child.size += file.size;
      child.count += 1;
      node = child;
    }
    node.files.push(file);
  }
  const sort = (node: FolderNode<F>) => {
    node.folders.sort((a, b) => a.name.localeCompare(b.name));
    node.files.sort((a, b) => a.path.localeCompare(b.path));
    node.folders.forEach(sort);
  };
  sort(root);
  return root;
}

export function baseName(path: string): string {
  const parts = path.split("/").filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

/** A size in binary units, with one decimal below 10 (`512 B`, `2.0 KiB`, `300 MiB`). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes / 1024;
  let unit = 0;
  // Move up a unit before rounding could show 1024 of this one.
  while (value >= 1023.5 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 9.95 ? 1 : 0)} ${units[unit]}`;
}

export function isBranch(value: Json | undefined): value is { [key: string]: Json } | Json[] {
  return value !== null && typeof value === "object";
}

/**
 * The paths (`a`, `a.b`, `a.b.0`) of a JSON tree to show for `query`: leaves whose path or
 * value contains it (case-insensitive), branches whose own key matches (with all below), and
 * the ancestors of both. Null for an empty query (show everything).
 */
export function matchingPaths(tree: { [key: string]: Json }, query: string): Set<string> | null {
  const needle = query.trim().toLowerCase();
  if (!needle) return null;
  const keep = new Set<string>();
  const addAll = (value: Json, path: string) => {
    keep.add(path);
    if (isBranch(value)) for (const [key, child] of Object.entries(value)) addAll(child, `${path}.${key}`);
  };
  const walk = (value: Json, path: string, key: string): boolean => {
    if (key.toLowerCase().includes(needle) || path.toLowerCase().includes(needle)) {
      addAll(value, path);
      return true;
    }
    let found = false;
    if (isBranch(value)) {
      for (const [childKey, child] of Object.entries(value)) {
        if (walk(child, `${path}.${childKey}`, childKey)) found = true;
      }
    } else if (formatValue(value).toLowerCase().includes(needle)) {
      found = true;
    }
    if (found) keep.add(path);
    return found;
  };
  for (const [key, value] of Object.entries(tree)) walk(value, key, key);
  return keep;
}
