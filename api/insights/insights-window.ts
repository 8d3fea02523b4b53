import { ApiError, type ErrorDetail } from '../http/errors';
import { DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS } from './insights-schemas';

const DAY_MS = 86_400_000;

export interface InsightsWindow {
  since: string;
  until: string;
  /** Sorted, without repeats; absent: every marketing template. */
  templates?: string[];
}

/**
 * The window the partner asked for, checked beyond its shape: real calendar days, `until` not before
 * `since`, at most 90 days. A 400 names the parameter at fault.
 */
export function insightsWindow(query: { since?: string; until?: string; template?: string | string[] }, now = Date.now()): InsightsWindow {
  const until = query.until ?? isoDay(now);
  const untilMs = dayMs(until, 'until');
  const since = query.since ?? isoDay(untilMs - (DEFAULT_WINDOW_DAYS - 1) * DAY_MS);
  const sinceMs = dayMs(since, 'since');
  if (untilMs < sinceMs) throw badParameter('until', `must not be before since (${since})`);
  const days = (untilMs - sinceMs) / DAY_MS + 1;
  if (days > MAX_WINDOW_DAYS) {
    throw badParameter(query.since ? 'since' : 'until', `the window is ${days} days; at most ${MAX_WINDOW_DAYS}`);
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
