/**
 * GET /v1/onboardings/summary: how many onboardings are in each status and, of those in
 * NEEDS_ATTENTION, how many of each reason kind (workflows/attention-kinds.ts), from Temporal
 * visibility counts (the search attributes the onboardings write with their status). Nothing is
 * kept long: a summary is at most SUMMARY_MAX_AGE_MS old, and asks for the same filter while its
 * counts run share them, so a wall of dashboards costs one set of counts per filter, not one per ask.
 */
import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { OnboardingReasonKindKey, OnboardingStatusKey } from '../../temporal/search-attributes';
import { ATTENTION_KINDS, type AttentionKind } from '../../workflows/attention-kinds';
import { ONBOARDING_STATUSES, type OnboardingStatus } from '../../workflows/types';
import type { OnboardingClient } from './onboarding-client';
import { visibilityQuery } from './onboarding-list';
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

/** The summary per filter, shared and at most maxAgeMs old (19 visibility counts a refresh). */
export class SummaryCounts {
  private readonly byFilter: SharedAnswers<OnboardingCounts>;

  constructor(
    private readonly count: CountRuns,
    maxAgeMs = SUMMARY_MAX_AGE_MS,
  ) {
    this.byFilter = new SharedAnswers(maxAgeMs);
  }

  get(businessId?: string): Promise<OnboardingCounts> {
    return this.byFilter.get(businessId ?? '', () => countOnboardings(this.count, businessId));
  }
}

export function onboardingSummaryRouter(count: CountRuns): Router {
  const router = Router();
  const summaries = new SummaryCounts(count);
  router.get('/onboardings/summary', async (req, res) => {
    const { businessId } = validate(summaryQuery, req.query, 'query');
    res.json(await summaries.get(businessId));
  });
  return router;
}

