/**
 * Reads a READY WABA's MM API performance for the insights route: at most one read of Meta per WABA
 * every 15 minutes, whatever windows and template sets it is asked for, however often and however
 * concurrently. The read takes every marketing template day by day over all the days Meta keeps
 * (retainedDays), and each window and template set is answered from it (insights-daily.ts).
 *
 *   onboarding (query: status, ads_read, the signup's sealed token) → this process's memory →
 *   the `insightsDailyPage` workflow, page after page (workflows/insights-daily-page.ts), whose Graph
 *   calls run on the Graph queue at the lowest priority
 *
 * A read is walked page by page so that no Temporal payload grows with the WABA: each page's run
 * answers a bounded part of the templates and where the next page starts. Concurrent asks share one
 * promise (single flight); API processes asking at once walk the same page ids and share each page's
 * run (the id names the WABA, the days, the source and the page). A failed read is remembered too, for FAILURE_MEMORY_MS or
 * as long as Meta asked to wait: while Graph is down, asks are answered its refusal (with Retry-After)
 * instead of each starting a read. The token stays sealed here: only the activity opens it.
 */
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { getInsightsAccessQuery, getStateQuery, type InsightsAccess } from '../../workflows/messages';
import type { TemplateDays } from '../../workflows/insights-days';
import {
  INSIGHTS_THROTTLED,
  insightsPageWorkflowId,
  type InsightsPage,
  type InsightsPageInput,
  type InsightsPageStart,
  type InsightsSource,
} from '../../workflows/insights-types';
import { onboardingWorkflowId } from '../../workflows/types';
import { ApiError, isQueryNotRegistered } from '../http/errors';
import type { BuildPollers } from '../http/build-pollers';
import type { Logger } from '../http/logger';
import { SharedAnswers } from '../http/shared-answers';
import { callWithin } from '../http/temporal-deadline';
import type { PartnerTokenCheck } from '../ops/meta-token-check';
import { notFound, onboardingOf } from '../partner/onboarding-client';
import { answerFor, covers, type InsightsAnswer, type WabaDays } from './insights-daily';
import { retainedDays, type InsightsWindow } from './insights-window';

export type { InsightsAnswer } from './insights-daily';

export const INSIGHTS_CACHE_MS = 15 * 60_000;
/** A failed read (Graph down, Meta refusing) answers asks this long without another read. */
export const FAILURE_MEMORY_MS = 30_000;
/** Templates' daily figures kept at most (at most about 8 kB each in memory); past it the oldest WABAs go first. */
const MAX_CACHED_TEMPLATES = 10_000;
/** A page's own ceiling: at most 11 rounds of Graph calls bounded at 20 s each, a fallback adds a second go. */
const PAGE_TIMEOUT_MS = 90_000;
/** Pages of one read at most: a page holds 10 templates or more, so this is past any real WABA (20,000 templates). */
const MAX_PAGES = 2_000;
const DEFAULT_RETRY_AFTER_MS = 60_000;
/** How long the onboarding's status (READY or not) is trusted without asking again. */
const ACCESS_MEMORY_MS = 5_000;

interface WabaRead {
  /** The days read. */
  range: { since: string; until: string };
  report: Promise<WabaDays>;
  /** Set once settled: the read (or its failure) answers until then. */
  expiresAt?: number;
  /** Templates in the answer (the memory's bound). */
  templates: number;
}

export interface InsightsReaderOptions {
  client: Client;
  /** The workflows' task queue (the read's activities go to its Graph queue). */
  taskQueue: string;
  partnerToken: PartnerTokenCheck;
  log: Logger;
  /** Deadline of the query to the onboarding. */
  queryMs: number;
  /** Tells an onboarding whose build has no worker polling (503 temporarily_unavailable) from a slow one. */
  pollers: BuildPollers;
  cacheMs?: number;
}

export class InsightsReader {
  private readonly reads = new Map<string, WabaRead>();
  private readonly accessOf = new SharedAnswers<InsightsAccess>(ACCESS_MEMORY_MS);
  private readonly cacheMs: number;

  constructor(private readonly options: InsightsReaderOptions) {
    this.cacheMs = options.cacheMs ?? INSIGHTS_CACHE_MS;
  }

  /** The answer and how many more seconds it is good for (Cache-Control: max-age). */
  async read(wabaId: string, window: InsightsWindow): Promise<{ answer: InsightsAnswer; maxAgeSeconds: number }> {
    const access = await this.access(wabaId);
    if (access.status !== 'READY') {
      throw new ApiError(409, 'not_ready', `insights are read once the onboarding is READY; it is ${access.status}`);
    }
    let entry = this.reads.get(wabaId);
    if (!entry || (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) || !covers(entry.range, window)) {
      entry = this.startRead(wabaId, access);
    }
    let report: WabaDays;
    try {
      report = await entry.report;
    } catch (err) {
      throw stillRefused(err, entry.expiresAt);
    }
    const maxAgeSeconds = Math.max(0, Math.floor(((entry.expiresAt ?? Date.now() + this.cacheMs) - Date.now()) / 1000));
    return { answer: answerFor(report, window), maxAgeSeconds };
  }

  private startRead(wabaId: string, access: InsightsAccess): WabaRead {
    const range = retainedDays();
    const entry: WabaRead = { range, report: this.readFromMeta(wabaId, range, access), templates: 0 };
    entry.report.then(
      (report) => {
        entry.expiresAt = Date.now() + this.cacheMs;
        entry.templates = report.templates.length;
        this.trim();
      },
      (err) => {
        // Graph's refusal is remembered (as long as Meta asked to wait, if it said); anything else is not kept.
        if (err instanceof ApiError && (err.code === 'graph_error' || err.code === 'graph_throttled')) {
          entry.expiresAt = Date.now() + (err.retryAfterSeconds !== undefined ? err.retryAfterSeconds * 1000 : FAILURE_MEMORY_MS);
        } else if (this.reads.get(wabaId) === entry) {
          this.reads.delete(wabaId);
        }
      },
    );
    this.reads.delete(wabaId); // re-inserted last: the oldest reads are dropped first
    this.reads.set(wabaId, entry);
    return entry;
  }

  /**
   * The onboarding's status and token: one query per WABA however many asks wait on it (no history
   * event), its answer trusted for a few seconds like the send gate's readiness memory.
   */
  private access(wabaId: string): Promise<InsightsAccess> {
    return this.accessOf.get(wabaId, () => this.queryAccess(wabaId));
  }

  private async queryAccess(wabaId: string): Promise<InsightsAccess> {
    const { client, queryMs, pollers } = this.options;
    const handle = client.workflow.getHandle(onboardingWorkflowId(wabaId));
    try {
      return await pollers.query(handle, onboardingOf(wabaId), queryMs, () => handle.query(getInsightsAccessQuery));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound(wabaId);
      if (!isQueryNotRegistered(err)) throw err;
      // A run still on a build from before insights: its state, and the partner's own token.
      const state = await callWithin(client, queryMs, () => handle.query(getStateQuery));
      return { status: state.status };
    }
  }

  private async readFromMeta(wabaId: string, range: { since: string; until: string }, access: InsightsAccess): Promise<WabaDays> {
    const { log } = this.options;
    const base = { wabaId, ...(access.sealedToken ? { sealedToken: access.sealedToken } : {}), since: range.since, until: range.until };
    const started = performance.now();
    let read = await this.readPages(base, await this.adsRead(access));
    // Insights refused part way (a later page fell back): the whole WABA from template_analytics, as one source.
    if (read.mixed) read = { ...(await this.readPages(base, false)), insightsRefusal: read.insightsRefusal };
    const report: WabaDays = {
      ...range,
      wabaId,
      source: read.source,
      templates: read.templates,
      ...(read.insightsRefusal ? { insightsRefusal: read.insightsRefusal } : {}),
    };
    // Never the token: which source answered, and why Insights did not when it was tried.
    log.info('insights read from Meta', {
      wabaId,
      since: range.since,
      until: range.until,
      source: report.source,
      templates: report.templates.length,
      pages: read.pages,
      ms: Math.round(performance.now() - started),
      ...(report.insightsRefusal ? { insightsRefusal: report.insightsRefusal } : {}),
    });
    return report;
  }

  /**
   * Every page of one read, in order: the first page's source holds for the rest (a fallback on the
   * first page reads the rest from template_analytics at once); a later page that falls back says so.
   */
  private async readPages(
    base: Omit<InsightsPageInput, 'adsRead' | 'start'>,
    adsRead: boolean,
  ): Promise<{ source: InsightsSource; templates: TemplateDays[]; pages: number; mixed: boolean; insightsRefusal?: string }> {
    const templates: TemplateDays[] = [];
    let source: InsightsSource | undefined;
    let insightsRefusal: string | undefined;
    let start: InsightsPageStart | undefined;
    for (let n = 0; n < MAX_PAGES; n++) {
      const page = await this.readPage({ ...base, adsRead: adsRead && source !== 'template_analytics', ...(start ? { start } : {}) }, source ?? (adsRead ? 'insights' : 'template_analytics'), n);
      if (source === 'insights' && page.source !== source) return { source: page.source, templates, pages: n + 1, mixed: true, insightsRefusal: page.insightsRefusal };
      source ??= page.source;
      insightsRefusal ??= page.insightsRefusal;
      templates.push(...page.templates);
      if (!page.next) return { source, templates, pages: n + 1, mixed: false, ...(insightsRefusal ? { insightsRefusal } : {}) };
      start = page.next;
    }
    throw new ApiError(502, 'graph_error', `Meta's template list of WABA ${base.wabaId} did not end within ${MAX_PAGES} pages`, {});
  }

  private async readPage(input: InsightsPageInput, source: InsightsSource, n: number): Promise<InsightsPage> {
    const { client, taskQueue } = this.options;
    try {
      return await callWithin(client, PAGE_TIMEOUT_MS, () =>
        client.workflow.execute('insightsDailyPage', {
          taskQueue,
          workflowId: insightsPageWorkflowId(input.wabaId, input.since, input.until, source, n),
          args: [input],
          // Another API process reading the same WABA right now: wait for its run instead of starting one.
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowExecutionTimeout: PAGE_TIMEOUT_MS,
        }),
      );
    } catch (err) {
      throw refusalOf(err);
    }
  }

  /** `ads_read` on the token the read uses: the signup's (from its permission check), else META_ACCESS_TOKEN's. */
  private async adsRead(access: InsightsAccess): Promise<boolean> {
    if (access.sealedToken) return access.insightsAvailable !== false;
    const status = await this.options.partnerToken.status();
    // Unknown (debug_token did not answer): try Insights; a refusal falls back anyway.
    return status.kind === 'ok' ? status.insightsAvailable : status.kind === 'unknown';
  }

  /** Past MAX_CACHED_TEMPLATES: expired reads go, then the oldest (Map keeps insertion order). */
  private trim(): void {
    let total = 0;
    for (const e of this.reads.values()) total += e.templates;
    if (total <= MAX_CACHED_TEMPLATES) return;
    const now = Date.now();
    for (const [wabaId, e] of this.reads) {
      if (total <= MAX_CACHED_TEMPLATES) return;
      if (e.expiresAt !== undefined && e.expiresAt <= now) (this.reads.delete(wabaId), (total -= e.templates));
    }
    for (const [wabaId, e] of this.reads) {
      if (total <= MAX_CACHED_TEMPLATES) return;
      if (e.expiresAt !== undefined) (this.reads.delete(wabaId), (total -= e.templates));
    }
  }
}

/** A remembered refusal, its Retry-After counting down to when the next ask reads again. */
function stillRefused(err: unknown, expiresAt: number | undefined): unknown {
  if (!(err instanceof ApiError) || expiresAt === undefined) return err;
  const seconds = Math.max(1, Math.ceil((expiresAt - Date.now()) / 1000));
  const details = err.code === 'graph_throttled' ? { retryAfterSeconds: seconds } : err.details;
  return new ApiError(err.status, err.code, err.message, details, seconds);
}

/** Throttling → 503 graph_throttled (details.retryAfterSeconds, and Retry-After); other refusals → 502. */
function refusalOf(err: unknown): unknown {
  if (!(err instanceof WorkflowFailedError)) return err;
  const cause = err.cause;
  if (cause instanceof ApplicationFailure && cause.type === INSIGHTS_THROTTLED) {
    const retryAfterMs = (cause.details?.[0] as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
    const seconds = Math.max(1, Math.ceil((typeof retryAfterMs === 'number' ? retryAfterMs : DEFAULT_RETRY_AFTER_MS) / 1000));
    return new ApiError(503, 'graph_throttled', `Meta is throttling this business's Graph calls; retry in ${seconds} s`, { retryAfterSeconds: seconds }, seconds);
  }
  const type = cause instanceof ApplicationFailure ? cause.type : undefined;
  return new ApiError(502, 'graph_error', `Meta refused the insights read: ${cause?.message ?? err.message}`, type ? { type } : {});
}
