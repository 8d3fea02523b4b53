/**
 * One page of the paged read of a WABA's MM API performance: the next marketing templates in Meta's
 * order, day by day over all the days Meta keeps (api/insights/insights-window.ts), until the page's
 * figures reach PAGE_BUDGET_BYTES. The API walks the pages (api/insights/insights-reader.ts) and
 * answers every window and template set from them, reading each WABA at most once per 15 minutes.
 * Paged so that no payload grows with the WABA: a page's result, its input (the templates listed but
 * not read yet, at most one listing page) and each activity's result stay within about 150 kB
 * however many templates the WABA has (`test/api/insights/insights-bound.test.ts` measures them).
 *
 * Its Graph calls go at the lowest priority on the Graph queue: an onboarding's call waiting there is
 * dispatched before any of them, so the reads have only what the onboardings leave of the budget.
 *
 *   a listing page of templates with their ads (100) → Insights per ad, 10 at once (with ads_read)
 *   → else template_analytics, 10 ids a call; the rest of the listing page goes to the next page
 */
import { ActivityFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { graphTaskQueue } from '../temporal/task-queues';
import type { TemplateDays } from './insights-days';
import { failingOpenly } from './insights-read';
import { ANALYTICS_TEMPLATES_PER_CALL, type InsightsPage, type InsightsPageInput, type InsightsSource } from './insights-types';

/**
 * A page takes no further round of templates once its own figures reach this (JSON characters). It
 * can pass it by one round of 10 (about 40 kB with every day and conversion filled, 150 kB at the
 * very worst), and its `next` carries at most one listing page's names (about 10 kB).
 */
export const PAGE_BUDGET_BYTES = 64 * 1024;
/** Templates read in one round: 10 ads at once, or one template_analytics call (Meta's limit, 10 ids). */
const TEMPLATES_PER_ROUND = ANALYTICS_TEMPLATES_PER_CALL;
/** Priority keys run 1 (first) to 5 (last); onboardings' calls have the default, 3. */
export const INSIGHTS_PRIORITY_KEY = 5;

/** 3 attempts within 20 s per call, queue time included; throttling answered at once (not retried). */
export const insightsGraphReads = () =>
  proxyActivities<Activities>({
    taskQueue: graphTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '10s',
    scheduleToCloseTimeout: '20s',
    retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '4s', maximumAttempts: 3 },
    priority: { priorityKey: INSIGHTS_PRIORITY_KEY },
  });

export async function insightsDailyPage(input: InsightsPageInput): Promise<InsightsPage> {
  const { wabaId, sealedToken, since, until, start } = input;
  const range = { since, until };
  const reads = insightsGraphReads();

  // The templates left over from the last listing page first; else the next listing page.
  let listed: TemplateDays[];
  let after: string | undefined;
  if (start?.pending?.length) {
    [listed, after] = [start.pending, start.after];
  } else {
    const page = await failingOpenly(() => reads.listInsightsTemplatesPage({ wabaId, sealedToken, after: start?.after }));
    [listed, after] = [page.templates, page.after];
  }

  const byInsights = async (round: TemplateDays[]): Promise<TemplateDays[]> => {
    const figures = await Promise.all(round.map((t) => (t.adId ? reads.readAdInsightsDays({ adId: t.adId, sealedToken, range }) : null)));
    return round.map((t, i) => withFigures(t, figures[i]));
  };
  const byAnalytics = async (round: TemplateDays[]): Promise<TemplateDays[]> => {
    const templateIds = round.map((t) => t.id);
    const figures = await failingOpenly(() => reads.readTemplateAnalyticsDays({ wabaId, sealedToken, range, templateIds }));
    return round.map((t) => withFigures(t, figures[t.id]));
  };
  const page = (source: InsightsSource, read: { rows: TemplateDays[]; rest: TemplateDays[] }, insightsRefusal?: string): InsightsPage => {
    const next = read.rest.length ? { pending: read.rest, ...(after ? { after } : {}) } : after ? { after } : undefined;
    return { source, templates: read.rows, ...(next ? { next } : {}), ...(insightsRefusal ? { insightsRefusal } : {}) };
  };

  let refusal: string | undefined;
  if (input.adsRead) {
    try {
      return page('insights', await readWithinBudget(listed, byInsights));
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      // Permission, deprecation or throttling on the Insights API: the WABA's own analytics answer instead.
      refusal = err.cause?.message ?? err.message;
    }
  }
  return page('template_analytics', await readWithinBudget(listed, byAnalytics), refusal);
}

/** Rounds of TEMPLATES_PER_ROUND until the page's figures reach PAGE_BUDGET_BYTES; what is left is the next page's. */
async function readWithinBudget(
  listed: TemplateDays[],
  readRound: (round: TemplateDays[]) => Promise<TemplateDays[]>,
): Promise<{ rows: TemplateDays[]; rest: TemplateDays[] }> {
  const rows: TemplateDays[] = [];
  let bytes = 0;
  let i = 0;
  // Bounded: at most one listing page (100 templates), 10 a round.
  while (i < listed.length && bytes < PAGE_BUDGET_BYTES) {
    const round = await readRound(listed.slice(i, i + TEMPLATES_PER_ROUND));
    rows.push(...round);
    bytes += JSON.stringify(round).length;
    i += TEMPLATES_PER_ROUND;
  }
  return { rows, rest: listed.slice(i) };
}

function withFigures(t: TemplateDays, figures: TemplateDays['figures'] | null | undefined): TemplateDays {
  return { name: t.name, language: t.language, id: t.id, ...(t.adId ? { adId: t.adId } : {}), ...(figures ? { figures } : {}) };
}
