/**
 * One read of a WABA's MM API performance for one window and template set: what API processes of the
 * previous build start (their reader keyed its memory by window). This build's API reads a WABA's
 * days once, page by page, and answers every window from them (workflows/insights-daily-page.ts); this stays
 * registered so an API process of the previous build still gets its answer during a rollout.
 *
 *   templates with their ads → Insights per ad (with ads_read) → else template_analytics, 10 ids a call
 */
import { ActivityFailure, ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { graphTaskQueue } from '../temporal/task-queues';
import {
  ANALYTICS_TEMPLATES_PER_CALL,
  unixWindow,
  type InsightsReadInput,
  type InsightsReport,
  type TemplateInsights,
} from './insights-types';

type Answer<K extends keyof Activities> = Awaited<ReturnType<Activities[K]>>;
type TemplateWithAd = Answer<'listInsightsTemplates'>[number];
type AdInsights = Answer<'readAdInsights'>;
type TemplateAnalytics = Answer<'readTemplateAnalytics'>[string];

/** Ads read at once; the Graph queue's rate limit paces them further. */
const AD_READS_AT_ONCE = 10;

/**
 * A partner waits on the answer. Ceiling: 3 attempts within 20 s per read, queue time included;
 * throttling is not retried (the activity marks it non-retryable) but answered at once.
 */
const graphReads = () =>
  proxyActivities<Activities>({
    taskQueue: graphTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '10s',
    scheduleToCloseTimeout: '20s',
    retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '4s', maximumAttempts: 3 },
  });

export async function insightsRead(input: InsightsReadInput): Promise<InsightsReport> {
  const { wabaId, sealedToken, since, until } = input;
  const reads = graphReads();
  const templates = await failingOpenly(() => reads.listInsightsTemplates({ wabaId, sealedToken, names: input.templates }));
  const report = (source: InsightsReport['source'], rows: TemplateInsights[], insightsRefusal?: string): InsightsReport => ({
    wabaId,
    since,
    until,
    source,
    templates: rows,
    ...(insightsRefusal ? { insightsRefusal } : {}),
  });

  let refusal: string | undefined;
  if (input.adsRead) {
    try {
      const byAd = new Map<string, AdInsights>();
      const withAds = templates.filter((t) => t.adId);
      // Bounded: one round per AD_READS_AT_ONCE templates, each read bounded by its retry policy.
      for (let i = 0; i < withAds.length; i += AD_READS_AT_ONCE) {
        const chunk = withAds.slice(i, i + AD_READS_AT_ONCE);
        const answers = await Promise.all(chunk.map((t) => reads.readAdInsights({ adId: t.adId!, sealedToken, since, until })));
        chunk.forEach((t, j) => byAd.set(t.adId!, answers[j]));
      }
      return report('insights', templates.map((t) => fromInsights(t, t.adId ? byAd.get(t.adId) : undefined)));
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      // Permission, deprecation or throttling on the Insights API: the WABA's own analytics answer instead.
      refusal = err.cause?.message ?? err.message;
    }
  }

  const { start, end } = unixWindow(since, until);
  const byTemplate: Record<string, TemplateAnalytics> = {};
  // Bounded: one call per ANALYTICS_TEMPLATES_PER_CALL templates.
  for (let i = 0; i < templates.length; i += ANALYTICS_TEMPLATES_PER_CALL) {
    const templateIds = templates.slice(i, i + ANALYTICS_TEMPLATES_PER_CALL).map((t) => t.id);
    Object.assign(byTemplate, await failingOpenly(() => reads.readTemplateAnalytics({ wabaId, sealedToken, start, end, templateIds })));
  }
  return report('template_analytics', templates.map((t) => fromAnalytics(t, byTemplate[t.id])), refusal);
}

function fromInsights(t: TemplateWithAd, a: AdInsights | undefined): TemplateInsights {
  return {
    name: t.name,
    language: t.language,
    id: t.id,
    ...(t.adId ? { adId: t.adId } : {}),
    ...(a ?? { sent: 0, delivered: 0, read: 0, clicks: 0, conversions: {} }),
  };
}

function fromAnalytics(t: TemplateWithAd, a: TemplateAnalytics | undefined): TemplateInsights {
  const figures = a ?? { sent: 0, delivered: 0, read: 0, clicks: 0, spend: 0 };
  return {
    name: t.name,
    language: t.language,
    id: t.id,
    ...(t.adId ? { adId: t.adId } : {}),
    ...figures,
  };
}

/** An activity's failure ends the read with the same type and details, so the API can tell throttling apart. */
export async function failingOpenly<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) {
      throw ApplicationFailure.nonRetryable(cause.message, cause.type ?? 'GraphReadFailed', ...(cause.details ?? []));
    }
    throw ApplicationFailure.nonRetryable(cause?.message ?? err.message, 'GraphReadFailed');
  }
}
