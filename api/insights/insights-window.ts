import { ApiError, type ErrorDetail } from '../http/errors';
import { DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS, RETENTION_DAYS } from './insights-schemas';

const DAY_MS = 86_400_000;

export interface InsightsWindow {
  since: string;
  until: string;
  /** Sorted, without repeats; absent: every marketing template. */
  templates?: string[];
}

/**
 * The days Meta keeps figures for, on `now`'s UTC day: today and the RETENTION_DAYS - 1 before it.
 * Every window the API accepts lies within it, so one read of it answers them all.
 */
export function retainedDays(now = Date.now()): { since: string; until: string } {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  return { since: isoDay(today - (RETENTION_DAYS - 1) * DAY_MS), until: isoDay(today) };
}

/**
 * The window the partner asked for, checked beyond its shape: real calendar days within what Meta
 * keeps (not before its first retained day, not after today), `until` not before `since`, at most 90
 * days. A 400 names the parameter at fault.
 */
export function insightsWindow(query: { since?: string; until?: string; template?: string | string[] }, now = Date.now()): InsightsWindow {
  const retained = retainedDays(now);
  const until = query.until ?? retained.until;
  const untilMs = dayMs(until, 'until');
  if (until > retained.until) throw badParameter('until', `must not be after today (${retained.until}, UTC)`);
  const since = query.since ?? isoDay(untilMs - (DEFAULT_WINDOW_DAYS - 1) * DAY_MS);
  const sinceMs = dayMs(since, 'since');
  if (untilMs < sinceMs) throw badParameter('until', `must not be before since (${since})`);
  const days = (untilMs - sinceMs) / DAY_MS + 1;
  if (days > MAX_WINDOW_DAYS) {
    throw badParameter(query.since ? 'since' : 'until', `the window is ${days} days; at most ${MAX_WINDOW_DAYS}`);
  }
  if (since < retained.since) {
    throw badParameter(query.since ? 'since' : 'until', `Meta keeps template figures for ${RETENTION_DAYS} days: the window must start on ${retained.since} or later`);
  }
  const named = query.template === undefined ? undefined : [...new Set([query.template].flat())].sort();
  return { since, until, ...(named ? { templates: named } : {}) };
}

function dayMs(value: string, parameter: string): number {
  const ms = Date.parse(`${value}T00:00:00Z`);
  // Date.parse rolls 2026-02-30 over to March: a real day reads back the same.
  if (!Number.isFinite(ms) || isoDay(ms) !== value) throw badParameter(parameter, 'must be a date, YYYY-MM-DD');
  return ms;
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function badParameter(parameter: string, message: string): ApiError {
  const detail: ErrorDetail = { in: 'query', path: parameter, message };
  return new ApiError(400, 'invalid_request', `invalid request: query.${parameter}`, [detail]);
}
