// Axis and tooltip number formats.

export function formatDuration(seconds: number): string {
  const s = Math.abs(seconds);
  const sign = seconds < 0 ? "-" : "";
  if (s < 60) return `${sign}${Number(s.toPrecision(3))}s`;
  if (s < 3600) return `${sign}${Math.floor(s / 60)}m${Math.round(s % 60) ? `${Math.round(s % 60)}s` : ""}`;
  if (s < 86400) return `${sign}${Math.floor(s / 3600)}h${Math.round((s % 3600) / 60) ? `${Math.round((s % 3600) / 60)}m` : ""}`;
  return `${sign}${Number((s / 86400).toPrecision(3))}d`;
}

/** A y tick with as many decimals as the tick spacing needs; exponents for very large or small values. */
export function formatTick(v: number | null, increment: number): string {
  if (v === null) return "";
  const step = Math.abs(increment) || Math.abs(v) || 1;
  const mag = Math.max(Math.abs(v), step);
  if (mag >= 1e5 || mag < 1e-3) {
    const digits = Math.min(6, Math.max(0, Math.floor(Math.log10(mag)) - Math.floor(Math.log10(step)) + 1));
    return v === 0 ? "0" : v.toExponential(digits).replace(/\.?0+e/, "e");
  }
  let decimals = 0;
  while (decimals < 10 && Math.abs(Math.round(step * 10 ** decimals) - step * 10 ** decimals) > 1e-6 * step * 10 ** decimals) decimals++;
  return v.toFixed(decimals);
}

/** A tick of a log axis (1, 2, 5, 10, ... style splits): two significant digits. */
export function formatLogTick(v: number | null): string {
  if (v === null) return "";
  const abs = Math.abs(v);
  if (abs !== 0 && (abs >= 1e5 || abs < 1e-3)) return v.toExponential(1).replace(/\.0e/, "e");
  return String(Number(v.toPrecision(2)));
}
