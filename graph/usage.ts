/**
 * Meta's own view of how much of the app's and each business's Graph allowance is used, from the
 * `X-App-Usage` and `X-Business-Use-Case-Usage` headers every answer carries (and the throttling
 * errors), and the pace that follows from it. The task-queue rate limit (GRAPH_MAX_RPS) is the
 * ceiling; this slows calls below it as Meta's figures approach 100 %, so a discovery of thousands
 * never runs into throttling.
 *
 * Pacing follows whose allowance Meta says it is: the app's (`X-App-Usage`, errors 4 and 17) slows
 * every call; a business's (`X-Business-Use-Case-Usage`, errors 80001–80014) slows only the calls that
 * count against that business, and while Meta asks it to wait (`estimated_time_to_regain_access`)
 * its calls are not made at all but handed back to be retried then. One throttled customer never
 * slows the others.
 *
 * One per process, shared by the Graph client (which reports every answer's headers and asks before
 * every call) and /metrics (which shows the figures).
 */
import { headerValue, type ResponseHeaders } from './response-headers';

export type UsageHeader = 'app' | 'business_use_case';

/** Below this, calls go at the full GRAPH_MAX_RPS. */
export const SLOW_DOWN_FROM_PERCENT = 75;
/**
 * Even at 100 % calls trickle on at this share of GRAPH_MAX_RPS (unless Meta said how long to wait:
 * then that business's calls wait that long).
 */
const SLOWEST_SHARE = 0.02;
/** A reading counts this long; Meta's figures are over a rolling hour, and every answer refreshes them. */
const READING_TTL_MS = 60_000;
/** Throttling of the whole app (Meta's "application request limit" and "user request limit"). */
export const APP_THROTTLING_CODES: ReadonlySet<number> = new Set([4, 17]);
/** Objects (WABAs, phone numbers) whose business the tracker remembers; the oldest are forgotten past it. */
const MAX_REMEMBERED_SUBJECTS = 100_000;

interface Reading {
  percent: number;
  at: number;
}

interface BusinessPace extends Reading {
  /** Epoch ms before which Meta asked for no calls (`estimated_time_to_regain_access`); 0: none. */
  regainAt: number;
  /** The next free turn of this business's own pace. */
  nextSlot: number;
  /** When its last paced call actually left (timers fire late on a busy machine). */
  lastDeparture: number;
}

export interface UsageSnapshot {
  /** Highest percentage Meta reported in the last minute, per header (0 when none). */
  percent: Record<UsageHeader, number>;
  /** Calls per second the app allows itself now (the app's usage; a business's slows only its own calls). */
  callsPerSecond: number;
  /** Businesses whose calls go slower than that now, or wait for Meta's regain time. */
  slowedBusinesses: number;
}

export class GraphUsage {
  private app?: Reading;
  private appNextSlot = 0;
  private appLastDeparture = 0;
  private readonly businesses = new Map<string, BusinessPace>();
  /** Graph object id (the first path segment of a call) → the business whose allowance it counts against. */
  private readonly businessOfSubject = new Map<string, string>();

  constructor(
    private readonly maxCallsPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Takes in one answer's usage headers (success or error alike). `subject` is the object the call
   * was about (WABA, business, phone number id): Meta's business header tells whose allowance it is.
   */
  observe(headers: ResponseHeaders, subject?: string): void {
    const at = this.now();
    const app = parseJson(headerValue(headers, 'x-app-usage'));
    if (app && typeof app === 'object') this.app = { percent: highestPercent(app), at };
    const entries = businessUseCaseEntries(headers);
    for (const [businessId, list] of entries) {
      const pace = this.pace(businessId);
      pace.percent = Math.max(0, ...list.map(highestPercent));
      pace.at = at;
      // Meta's latest word on the business: a wait it asks for now, or none any more.
      const regainMs = Math.max(0, ...list.map(regainAccessMsOf));
      pace.regainAt = regainMs > 0 ? at + regainMs : 0;
    }
    if (subject && entries.length === 1) this.remember(subject, entries[0][0]);
  }

  /**
   * A throttling error on a call about `subject`: the app's (codes 4, 17) slows every call; any other
   * slows that subject's business, which also waits `retryAfterMs` when Meta said how long.
   */
  throttled(subject: string | undefined, code: number | undefined, retryAfterMs?: number): void {
    const at = this.now();
    if (code !== undefined && APP_THROTTLING_CODES.has(code)) {
      this.app = { percent: Math.max(100, this.app?.percent ?? 0), at };
      return;
    }
    if (!subject) return;
    const pace = this.pace(this.businessOfSubject.get(subject) ?? subject);
    pace.percent = Math.max(100, pace.percent);
    pace.at = at;
    if (retryAfterMs) pace.regainAt = Math.max(pace.regainAt, at + retryAfterMs);
  }

  snapshot(): UsageSnapshot {
    const now = this.now();
    this.forgetOld(now);
    let business = 0;
    let slowedBusinesses = 0;
    for (const pace of this.businesses.values()) {
      const percent = now - pace.at <= READING_TTL_MS ? pace.percent : 0;
      business = Math.max(business, percent);
      if (percent >= SLOW_DOWN_FROM_PERCENT || pace.regainAt > now) slowedBusinesses++;
    }
    const app = this.appPercent(now);
    return { percent: { app, business_use_case: business }, callsPerSecond: this.rateFor(app), slowedBusinesses };
  }

  /**
   * Reserves the turn of the next call about `subject` and returns how long to wait for it (ms), or,
   * when that would be longer than `maxWaitMs` (or Meta asked the subject's business to wait),
   * reserves nothing and returns `{ retryAfterMs }` so the caller gives its slot back and comes again
   * later. The app's pace applies to every call, a business's only to its own.
   */
  reserve(maxWaitMs: number, subject?: string): { waitMs: number } | { retryAfterMs: number } {
    const now = this.now();
    this.forgetOld(now);
    const businessId = subject === undefined ? undefined : (this.businessOfSubject.get(subject) ?? subject);
    const business = businessId === undefined ? undefined : this.businesses.get(businessId);
    if (business && business.regainAt > now) return { retryAfterMs: business.regainAt - now };

    const appUsage = this.appPercent(now);
    const businessUsage = business && now - business.at <= READING_TTL_MS ? business.percent : 0;
    const appSlowed = appUsage >= SLOW_DOWN_FROM_PERCENT;
    const businessSlowed = businessUsage >= SLOW_DOWN_FROM_PERCENT;
    if (!appSlowed && !businessSlowed) return { waitMs: 0 };
    const slot = Math.max(now, appSlowed ? this.appNextSlot : 0, businessSlowed ? business!.nextSlot : 0);
    if (slot - now > maxWaitMs) return { retryAfterMs: slot - now };
    if (appSlowed) this.appNextSlot = slot + 1000 / this.rateFor(appUsage);
    if (businessSlowed) business!.nextSlot = slot + 1000 / this.rateFor(businessUsage);
    return { waitMs: slot - now };
  }

  /**
   * Called when a paced call is about to leave (its reserved turn has come): how much longer it must
   * wait so that it leaves at least one pace after the previous paced call actually left, or 0, and
   * then its departure is recorded. A turn's timer that fired late (a busy machine) would otherwise let
   * the next call leave right behind it: the pace holds between departures, not only between turns.
   */
  depart(subject?: string): number {
    const now = this.now();
    const businessId = subject === undefined ? undefined : (this.businessOfSubject.get(subject) ?? subject);
    const business = businessId === undefined ? undefined : this.businesses.get(businessId);
    const appUsage = this.appPercent(now);
    const businessUsage = business && now - business.at <= READING_TTL_MS ? business.percent : 0;
    const appSlowed = appUsage >= SLOW_DOWN_FROM_PERCENT;
    const businessSlowed = businessUsage >= SLOW_DOWN_FROM_PERCENT;
    const earliest = Math.max(
      appSlowed ? this.appLastDeparture + 1000 / this.rateFor(appUsage) : 0,
      businessSlowed ? business!.lastDeparture + 1000 / this.rateFor(businessUsage) : 0,
    );
    if (earliest > now) return earliest - now;
    if (appSlowed) {
      this.appLastDeparture = now;
      this.appNextSlot = Math.max(this.appNextSlot, now + 1000 / this.rateFor(appUsage));
    }
    if (businessSlowed) {
      business!.lastDeparture = now;
      business!.nextSlot = Math.max(business!.nextSlot, now + 1000 / this.rateFor(businessUsage));
    }
    return 0;
  }

  /** Full speed up to 75 %, then linearly down to a trickle at 100 %. */
  private rateFor(usage: number): number {
    if (usage < SLOW_DOWN_FROM_PERCENT) return this.maxCallsPerSecond;
    const share = Math.max(SLOWEST_SHARE, (100 - usage) / (100 - SLOW_DOWN_FROM_PERCENT));
    return this.maxCallsPerSecond * share;
  }

  private appPercent(now: number): number {
    return this.app && now - this.app.at <= READING_TTL_MS ? this.app.percent : 0;
  }

  private pace(businessId: string): BusinessPace {
    let pace = this.businesses.get(businessId);
    if (!pace) {
      pace = { percent: 0, at: 0, regainAt: 0, nextSlot: 0, lastDeparture: 0 };
      this.businesses.set(businessId, pace);
    }
    return pace;
  }

  private remember(subject: string, businessId: string): void {
    this.businessOfSubject.delete(subject); // re-inserted last: the oldest entries go first
    this.businessOfSubject.set(subject, businessId);
    if (this.businessOfSubject.size > MAX_REMEMBERED_SUBJECTS) {
      this.businessOfSubject.delete(this.businessOfSubject.keys().next().value!);
    }
  }

  /** A business Meta has said nothing about for a minute, and whose wait is over, is forgotten. */
  private forgetOld(now: number): void {
    for (const [businessId, pace] of this.businesses) {
      if (now - pace.at > READING_TTL_MS && pace.regainAt <= now && pace.nextSlot <= now) this.businesses.delete(businessId);
    }
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
    for (const entry of entries) longest = Math.max(longest, regainAccessMsOf(entry));
  }
  return longest;
}

function regainAccessMsOf(entry: object): number {
  const minutes = Number((entry as { estimated_time_to_regain_access?: unknown }).estimated_time_to_regain_access);
  return Number.isFinite(minutes) && minutes > 0 ? minutes * 60_000 : 0;
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
