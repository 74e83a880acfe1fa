// Which runs are hidden from the charts, as the URL keeps it: the hidden ids, or, when most
// runs are hidden ("hide all", "show only the first 10"), the ids still shown, so that a
// project of 10,000 runs does not put 10,000 ids in a link.

export type HiddenParam = string[] | { only: string[] };

/** The hidden ids among `runs` (and, in the list form, any other listed id). */
export function hiddenSet(param: HiddenParam, runs: readonly { id: string }[]): Set<string> {
  if (Array.isArray(param)) return new Set(param);
  const shown = new Set(param.only);
  return new Set(runs.filter((run) => !shown.has(run.id)).map((run) => run.id));
}

/** The shorter URL form of `hidden` for these runs; null when nothing is hidden. */
export function hiddenParam(hidden: ReadonlySet<string>, runs: readonly { id: string }[]): HiddenParam | null {
  if (hidden.size === 0) return null;
  const shown = runs.filter((run) => !hidden.has(run.id)).map((run) => run.id);
  return shown.length < hidden.size ? { only: shown } : [...hidden];
}
