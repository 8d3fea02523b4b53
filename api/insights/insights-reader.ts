/**
 * Reads a READY WABA's MM API performance for the insights route: at most one read of Meta per WABA,
 * window and template set every 15 minutes, however often and however concurrently it is asked.
 *
 *   onboarding (query: status, ads_read, the signup's sealed token) → this process's memory →
 *   the `insightsRead` workflow (workflows/insights-read.ts), whose Graph calls run on the Graph queue
 *
 * Concurrent asks share one promise (single flight); API processes asking at once share one workflow
 * run (its id names the WABA, window and set). The token stays sealed here: only the activity opens it.
 */
import { createHash } from 'node:crypto';
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { getInsightsAccessQuery, getStateQuery, type InsightsAccess } from '../../workflows/messages';
import { INSIGHTS_THROTTLED, insightsWorkflowId, type InsightsReadInput, type InsightsReport } from '../../workflows/insights-types';
import { onboardingWorkflowId } from '../../workflows/types';
import { ApiError } from '../http/errors';
import type { BuildPollers } from '../http/build-pollers';
import type { Logger } from '../http/logger';
import { SharedAnswers } from '../http/shared-answers';
import { callWithin } from '../http/temporal-deadline';
import type { PartnerTokenCheck } from '../ops/meta-token-check';
import { notFound, onboardingOf } from '../partner/onboarding-client';
import type { InsightsWindow } from './insights-window';
import { insightsCacheKey } from './insights-cache-key';

export const INSIGHTS_CACHE_MS = 15 * 60_000;
/** Answers kept at most; past it the oldest go first (each is a few kB). */
const MAX_CACHED_ANSWERS = 10_000;
/** The read's own ceiling: its activities are bounded at 20 s each, a fallback adds a second round. */
const READ_TIMEOUT_MS = 90_000;
const DEFAULT_RETRY_AFTER_MS = 60_000;
/** How long the onboarding's status (READY or not) is trusted without asking again. */
const ACCESS_MEMORY_MS = 5_000;

export type InsightsAnswer = Omit<InsightsReport, 'insightsRefusal'>;

interface CachedAnswer {
  /** Set once the read has answered; until then asks share the read in flight. */
  expiresAt?: number;
  answer: Promise<InsightsAnswer>;
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
  private readonly answers = new Map<string, CachedAnswer>();
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
    const key = insightsCacheKey(wabaId, window);
    let entry = this.answers.get(key);
    if (!entry || (entry.expiresAt !== undefined && entry.expiresAt <= Date.now())) {
      const fresh: CachedAnswer = { answer: this.readFromMeta(wabaId, window, access, key) };
      fresh.answer.then(
        () => void (fresh.expiresAt = Date.now() + this.cacheMs),
        () => void (this.answers.get(key) === fresh && this.answers.delete(key)), // a failure is not kept
      );
      this.remember(key, fresh);
      entry = fresh;
    }
    const answer = await entry.answer;
    const maxAgeSeconds = Math.max(0, Math.floor(((entry.expiresAt ?? Date.now() + this.cacheMs) - Date.now()) / 1000));
    return { answer, maxAgeSeconds };
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
      if ((err as { name?: unknown })?.name !== 'QueryNotRegisteredError') throw err;
      // A run still on a build from before insights: its state, and the partner's own token.
      const state = await callWithin(client, queryMs, () => handle.query(getStateQuery));
      return { status: state.status };
    }
  }

  private async readFromMeta(wabaId: string, window: InsightsWindow, access: InsightsAccess, key: string): Promise<InsightsAnswer> {
    const { client, taskQueue, log } = this.options;
    const input: InsightsReadInput = {
      wabaId,
      ...(access.sealedToken ? { sealedToken: access.sealedToken } : {}),
      adsRead: await this.adsRead(access),
      since: window.since,
      until: window.until,
      ...(window.templates ? { templates: window.templates } : {}),
    };
    const started = performance.now();
    let report: InsightsReport;
    try {
      report = await callWithin(client, READ_TIMEOUT_MS, () =>
        client.workflow.execute('insightsRead', {
          taskQueue,
          workflowId: insightsWorkflowId(wabaId, createHash('sha256').update(key).digest('hex').slice(0, 24)),
          args: [input],
          // Another API process reading the same window right now: wait for its run instead of starting one.
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowExecutionTimeout: READ_TIMEOUT_MS,
        }),
      );
    } catch (err) {
      throw refusalOf(err);
    }
    const { insightsRefusal, ...answer } = report;
    // Never the token: which source answered, and why Insights did not when it was tried.
    log.info('insights read from Meta', {
      wabaId,
      since: window.since,
      until: window.until,
      source: answer.source,
      templates: answer.templates.length,
      ms: Math.round(performance.now() - started),
      ...(insightsRefusal ? { insightsRefusal } : {}),
    });
    return answer;
  }

  /** `ads_read` on the token the read uses: the signup's (from its permission check), else META_ACCESS_TOKEN's. */
  private async adsRead(access: InsightsAccess): Promise<boolean> {
    if (access.sealedToken) return access.insightsAvailable !== false;
    const status = await this.options.partnerToken.status();
    // Unknown (debug_token did not answer): try Insights; a refusal falls back anyway.
    return status.kind === 'ok' ? status.insightsAvailable : status.kind === 'unknown';
  }

  private remember(key: string, entry: CachedAnswer): void {
    this.answers.delete(key);
    if (this.answers.size >= MAX_CACHED_ANSWERS) {
      const now = Date.now();
      for (const [k, e] of this.answers) if (e.expiresAt !== undefined && e.expiresAt <= now) this.answers.delete(k);
      // Still full: the oldest go (Map keeps insertion order).
      for (const k of this.answers.keys()) {
        if (this.answers.size < MAX_CACHED_ANSWERS) break;
        this.answers.delete(k);
      }
    }
    this.answers.set(key, entry);
  }
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
