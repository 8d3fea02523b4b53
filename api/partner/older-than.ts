/**
 * `olderThan` of GET /v1/onboardings: onboardings in their status since before a moment, given as a
 * duration before now (`90s`, `30m`, `12h`, `7d`, `2w`, or ISO 8601's `P7D`, `PT12H30M`) or as an ISO
 * 8601 timestamp with its zone (`2026-12-01T00:00:00Z`).
 */
const SHORT = /^(\d{1,6})([smhdw])$/;
const ISO_DURATION = /^P(?:(\d{1,5})W|(?:(\d{1,5})D)?(?:T(?:(\d{1,6})H)?(?:(\d{1,6})M)?(?:(\d{1,8})S)?)?)$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** The cutoff (epoch ms) `value` names at `now`, or undefined when it is neither a duration nor a timestamp. */
export function olderThanCutoff(value: string, now: number): number | undefined {
  const short = SHORT.exec(value);
  if (short) return now - Number(short[1]) * UNIT_SECONDS[short[2]] * 1000;
  const iso = ISO_DURATION.exec(value);
  if (iso && /\d/.test(value) && !value.endsWith('T')) {
    const [, w, d, h, m, s] = iso.map((x) => Number(x ?? 0));
    return now - (w * 604_800 + d * 86_400 + h * 3600 + m * 60 + s) * 1000;
  }
  if (!TIMESTAMP.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isFinite(at) ? at : undefined;
}
