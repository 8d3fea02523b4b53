/**
 * GET /v1/onboardings/summary: how many onboardings are in each status and, of those in
 * NEEDS_ATTENTION, how many of each reason kind (workflows/attention-kinds.ts), from Temporal
 * visibility (the search attributes the onboardings write with their status). Nothing is kept long:
 * a summary is at most SUMMARY_MAX_AGE_MS old, and asks for the same filter while its counts run
 * share them, so a wall of dashboards costs one set of counts per filter, not one per ask.
 *
 * What a filter nobody asked for lately costs is bounded too. Visibility groups counts by
 * ExecutionStatus only, not by our search attributes, so one count per status and reason kind is 19
 * calls: fine for the one summary of every business, a lever for a stream of `businessId`s (50 new
 * ids made 906 counts in 15 s). A business's summary is tallied instead from one listing of its
 * onboardings, one call like GET /v1/onboardings?businessId=, as long as one page of
 * BUSINESS_LISTING_PAGE holds them all (a business owns a few WABAs; an id nobody owns, none); only a
 * business with more falls back to the 19 counts, and a caller cannot make one up.
 */
import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { OnboardingReasonKindKey, OnboardingStatusKey } from '../../temporal/search-attributes';
import { ATTENTION_KINDS, type AttentionKind } from '../../workflows/attention-kinds';
import { ONBOARDING_STATUSES, type OnboardingStatus } from '../../workflows/types';
import type { OnboardingClient } from './onboarding-client';
import { keyword, visibilityQuery } from './onboarding-list';
import { summaryQuery } from './schemas';
import { SharedAnswers } from '../http/shared-answers';
import { validate } from '../http/validate';

export interface OnboardingCounts {
  businessId?: string;
  /** Onboardings listed by GET /v1/onboardings with the same businessId: every status, running or ended. */
  total: number;
  byStatus: Record<OnboardingStatus, number>;
  needsAttentionByKind: Record<AttentionKind, number>;
}

/** One visibility count, bounded by the API's Temporal deadline. */
export type CountRuns = (query: string) => Promise<number>;

export function visibilityCounter(client: Client, namespace: string, calls: Pick<OnboardingClient, 'within'>, callMs: number): CountRuns {
  return async (query) => {
    const { count } = await calls.within('count', callMs, () => client.workflowService.countWorkflowExecutions({ namespace, query }));
    return Number(count ?? 0);
  };
}

/** One page of onboarding runs (their status and reason kind search attributes); `complete` when no page follows. */
export type ListRuns = (query: string, pageSize: number) => Promise<{ runs: ListedRun[]; complete: boolean }>;
export interface ListedRun {
  status?: string;
  reasonKind?: string;
}

export function visibilityLister(client: Client, namespace: string, calls: Pick<OnboardingClient, 'within'>, callMs: number): ListRuns {
  return async (query, pageSize) => {
    const response = await calls.within('list', callMs, () => client.workflowService.listWorkflowExecutions({ namespace, query, pageSize }));
    const runs = response.executions.map((execution) => {
      const fields = execution.searchAttributes?.indexedFields ?? {};
      return { status: keyword(fields, OnboardingStatusKey.name), reasonKind: keyword(fields, OnboardingReasonKindKey.name) };
    });
    return { runs, complete: !response.nextPageToken?.length };
  };
}

/** A business's onboardings listed in one page of at most this many (Temporal's own page ceiling). */
export const BUSINESS_LISTING_PAGE = 1_000;

/** The counts the 19 visibility counts would give, from the runs they count (listed with the same query). */
export function tallyOnboardings(runs: ListedRun[], businessId: string | undefined): OnboardingCounts {
  const byStatus = Object.fromEntries(ONBOARDING_STATUSES.map((s) => [s, 0])) as Record<OnboardingStatus, number>;
  const needsAttentionByKind = Object.fromEntries(ATTENTION_KINDS.map((k) => [k, 0])) as Record<AttentionKind, number>;
  for (const { status, reasonKind } of runs) {
    if (status !== undefined && status in byStatus) byStatus[status as OnboardingStatus]++;
    if (status === 'NEEDS_ATTENTION' && reasonKind !== undefined && reasonKind in needsAttentionByKind) needsAttentionByKind[reasonKind as AttentionKind]++;
  }
  return { ...(businessId ? { businessId } : {}), total: runs.length, byStatus, needsAttentionByKind };
}

export async function countOnboardings(count: CountRuns, businessId: string | undefined): Promise<OnboardingCounts> {
  const base = visibilityQuery({ businessId });
  const [total, statusCounts, kindCounts] = await Promise.all([
    count(base),
    Promise.all(ONBOARDING_STATUSES.map((status) => count(`${base} AND ${OnboardingStatusKey.name} = '${status}'`))),
    Promise.all(
      ATTENTION_KINDS.map((kind) =>
        count(`${base} AND ${OnboardingStatusKey.name} = 'NEEDS_ATTENTION' AND ${OnboardingReasonKindKey.name} = '${kind}'`),
      ),
    ),
  ]);
  return {
    ...(businessId ? { businessId } : {}),
    total,
    byStatus: Object.fromEntries(ONBOARDING_STATUSES.map((s, i) => [s, statusCounts[i]])) as Record<OnboardingStatus, number>,
    needsAttentionByKind: Object.fromEntries(ATTENTION_KINDS.map((k, i) => [k, kindCounts[i]])) as Record<AttentionKind, number>,
  };
}

/** Mounted before /onboardings/:wabaId, which would take "summary" for a WABA id. */
export const SUMMARY_MAX_AGE_MS = 5_000;

/**
 * The summary per filter, shared and at most maxAgeMs old: every business's from 19 visibility
 * counts, one business's from one listing (19 counts past BUSINESS_LISTING_PAGE onboardings).
 */
export class SummaryCounts {
  private readonly byFilter: SharedAnswers<OnboardingCounts>;

  constructor(
    private readonly count: CountRuns,
    private readonly list: ListRuns,
    maxAgeMs = SUMMARY_MAX_AGE_MS,
  ) {
    this.byFilter = new SharedAnswers(maxAgeMs);
  }

  get(businessId?: string): Promise<OnboardingCounts> {
    return this.byFilter.get(businessId ?? '', async () => {
      if (businessId !== undefined) {
        const page = await this.list(visibilityQuery({ businessId }), BUSINESS_LISTING_PAGE);
        if (page.complete) return tallyOnboardings(page.runs, businessId);
      }
      return countOnboardings(this.count, businessId);
    });
  }
}

export function onboardingSummaryRouter(count: CountRuns, list: ListRuns): Router {
  const router = Router();
  const summaries = new SummaryCounts(count, list);
  router.get('/onboardings/summary', async (req, res) => {
    const { businessId } = validate(summaryQuery, req.query, 'query');
    res.json(await summaries.get(businessId));
  });
  return router;
}

