// Pure helpers of the artifact and registry pages: grouping, resolving a version name, TTLs
// and model aliases.
import type { Artifact, ArtifactVersion, RegisteredModel } from "../api";
import { formatTime } from "../run/compare";

/** Artifacts grouped by type, types by name. */
export function groupByType(artifacts: readonly Artifact[]): [string, Artifact[]][] {
  const groups = new Map<string, Artifact[]>();
  for (const artifact of artifacts) {
    const group = groups.get(artifact.type) ?? [];
    group.push(artifact);
    groups.set(artifact.type, group);
  }
  for (const group of groups.values()) group.sort((a, b) => a.name.localeCompare(b.name));
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
}

/** The version a URL names: `v3`, or an alias (`latest`, `best`); null when none matches. */
export function findVersion(versions: readonly ArtifactVersion[], name: string): ArtifactVersion | null {
  return versions.find((v) => v.version === name) ?? versions.find((v) => v.aliases.includes(name)) ?? null;
}

/** The TTL line of a version: when it will be deleted, or that it will not. */
export function expiry(version: ArtifactVersion, now = Date.now()): string {
  if (!version.expires_at) return "none: kept until deleted";
  const left = Date.parse(version.expires_at) - now;
  const hours = left / 3_600_000;
  const when = hours < 0 ? "due now" : hours < 48 ? `in ${Math.max(1, Math.round(hours))} h` : `in ${Math.round(hours / 24)} days`;
  return `deleted ${formatTime(version.expires_at)} (${when})`;
}

/** Every alias of a model as `alias → version`, by alias. */
export function modelAliases(model: RegisteredModel): [string, string][] {
  const pairs: [string, string][] = [];
  for (const version of model.versions) for (const alias of version.aliases) pairs.push([alias, version.version]);
  return pairs.sort(([a], [b]) => a.localeCompare(b));
}

