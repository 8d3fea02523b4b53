/**
 * Meta's own view of how much of the app's and each business's Graph allowance is used, from the
 * `X-App-Usage` and `X-Business-Use-Case-Usage` headers every answer carries, and the pace that
 * follows from it. The task-queue rate limit (GRAPH_MAX_RPS) is the ceiling; this slows the calls
 * below it as Meta's figures approach 100 %, so a discovery of thousands never runs into throttling.
 *
 * One per process, shared by the Graph client (which reports every answer's headers and asks before
 * every call) and /metrics (which shows the figures).
 */
import { headerValue, type ResponseHeaders } from './response-headers';

export type UsageHeader = 'app' | 'business_use_case';

/** Below this, calls go at the full GRAPH_MAX_RPS. */
export const SLOW_DOWN_FROM_PERCENT = 75;
/**
 * Even at 100 % calls trickle on at this share of GRAPH_MAX_RPS. A throttled call itself waits out
 * Meta's `estimated_time_to_regain_access` (its retry is scheduled after it); other calls, perhaps
 * for other businesses, are only slowed, never stopped.
 */
const SLOWEST_SHARE = 0.02;
/** A reading counts this long; Meta's figures are over a rolling hour, and every answer refreshes them. */
const READING_TTL_MS = 60_000;

interface Reading {
  percent: number;
  at: number;
}

export interface UsageSnapshot {
  /** Highest percentage Meta reported in the last minute, per header (0 when none). */
  percent: Record<UsageHeader, number>;
  /** Calls per second allowed now. */
  callsPerSecond: number;
}

export class GraphUsage {
  private readonly readings: Record<UsageHeader, Map<string, Reading>> = { app: new Map(), business_use_case: new Map() };
  private nextSlot = 0;

  constructor(
    private readonly maxCallsPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes in one answer's usage headers (success or error alike). */
  observe(headers: ResponseHeaders): void {
    const at = this.now();
    const app = parseJson(headerValue(headers, 'x-app-usage'));
    if (app && typeof app === 'object') this.readings.app.set('app', { percent: highestPercent(app), at });
    for (const [businessId, entries] of businessUseCaseEntries(headers)) {
      this.readings.business_use_case.set(businessId, { percent: Math.max(0, ...entries.map(highestPercent)), at });
    }
  }

  snapshot(): UsageSnapshot {
    const now = this.now();
    const percent = { app: this.highest('app', now), business_use_case: this.highest('business_use_case', now) };
    return { percent, callsPerSecond: this.rateFor(Math.max(percent.app, percent.business_use_case)) };
  }

  /**
   * Reserves the next call's turn and returns how long to wait for it (ms), or, when that would be
   * longer than `maxWaitMs`, reserves nothing and returns `{ retryAfterMs }` so the caller gives its
   * slot back and comes again later.
   */
  reserve(maxWaitMs: number): { waitMs: number } | { retryAfterMs: number } {
    const now = this.now();
    const { percent } = this.snapshot();
    const usage = Math.max(percent.app, percent.business_use_case);
    if (usage < SLOW_DOWN_FROM_PERCENT) return { waitMs: 0 };
    const interval = 1000 / this.rateFor(usage);
    const slot = Math.max(now, this.nextSlot);
    if (slot - now > maxWaitMs) return { retryAfterMs: slot - now };
    this.nextSlot = slot + interval;
    return { waitMs: slot - now };
  }

  /** Full speed up to 75 %, then linearly down to a trickle at 100 %. */
  private rateFor(usage: number): number {
    if (usage < SLOW_DOWN_FROM_PERCENT) return this.maxCallsPerSecond;
    const share = Math.max(SLOWEST_SHARE, (100 - usage) / (100 - SLOW_DOWN_FROM_PERCENT));
    return this.maxCallsPerSecond * share;
  }

  private highest(header: UsageHeader, now: number): number {
    let top = 0;
    for (const [key, reading] of this.readings[header]) {
      if (now - reading.at > READING_TTL_MS) this.readings[header].delete(key);
      else top = Math.max(top, reading.percent);
    }
    return top;
  }
}

/** `X-Business-Use-Case-Usage`: `{ "<business id>": [{ type, call_count, …, estimated_time_to_regain_access }] }`. */
export function businessUseCaseEntries(headers: ResponseHeaders): Array<[string, object[]]> {
  const parsed = parseJson(headerValue(headers, 'x-business-use-case-usage'));
  if (!parsed || typeof parsed !== 'object') return [];
  return Object.entries(parsed)
    .filter((e): e is [string, unknown[]] => Array.isArray(e[1]))
    .map(([businessId, entries]) => [businessId, entries.filter((x): x is object => !!x && typeof x === 'object')]);
}

/** The longest `estimated_time_to_regain_access` (minutes) over every entry, in ms; 0 when none. */
export function longestRegainAccessMs(headers: ResponseHeaders): number {
  let longest = 0;
  for (const [, entries] of businessUseCaseEntries(headers)) {
    for (const entry of entries) {
      const minutes = Number((entry as { estimated_time_to_regain_access?: unknown }).estimated_time_to_regain_access);
      if (Number.isFinite(minutes)) longest = Math.max(longest, minutes * 60_000);
    }
  }
  return longest;
}

/** `call_count`, `total_cputime`, `total_time`: Meta throttles on whichever reaches 100 first. */
function highestPercent(entry: object): number {
  let top = 0;
  for (const key of ['call_count', 'total_cputime', 'total_time']) {
    const v = Number((entry as Record<string, unknown>)[key]);
    if (Number.isFinite(v)) top = Math.max(top, v);
  }
  return top;
}

function parseJson(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // a malformed header is Meta's problem, not a reason to fail the call
  }
}
