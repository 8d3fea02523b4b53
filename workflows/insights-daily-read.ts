/**
 * What API processes of the previous build start; this build's API reads in bounded pages instead
 * (workflows/insights-daily-page.ts). It stays registered so those processes still get their answer
 * during a rollout; its result grows with the WABA (about 3.8 kB a template).
 *
 * The daily read of a WABA's MM API performance: every marketing template, day by day over all the
 * days Meta keeps (api/insights/insights-window.ts), so the API answers any window and template set
 * from one read (api/insights/insights-daily.ts) and reads each WABA at most once per 15 minutes
 * whatever it is asked. A workflow so that every Graph call runs as an activity on the Graph queue,
 * under GRAPH_MAX_RPS and the usage pacing, and API processes asking at once share one run.
 *
 * Its Graph calls go at the lowest priority: an onboarding's call waiting on the Graph queue is
 * dispatched before any of them, so however many reads run, onboardings keep their pace and the
 * reads have only what the onboardings leave of the budget.
 *
 *   templates with their ads → Insights per ad, day by day (with ads_read) → else template_analytics, 10 ids a call
 */
import { ActivityFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { graphTaskQueue } from '../temporal/task-queues';
import { INSIGHTS_PRIORITY_KEY } from './insights-daily-page';
import { failingOpenly } from './insights-read';
import { ANALYTICS_TEMPLATES_PER_CALL, type InsightsDailyReadInput, type InsightsSource } from './insights-types';

type Answer<K extends keyof Activities> = Awaited<ReturnType<Activities[K]>>;
/** One template's figures day by day over the read's range (columns: entry i is day i). */
export type DailySeries = Answer<'readAdInsightsDaily'>;

export interface TemplateDaily {
  name: string;
  language: string;
  id: string;
  adId?: string;
  daily: DailySeries;
}

export interface InsightsDailyReport {
  wabaId: string;
  since: string;
  until: string;
  source: InsightsSource;
  templates: TemplateDaily[];
  /** Why Insights was not the source, when it was tried (a refusal, a throttle). */
  insightsRefusal?: string;
}

/** Ads read at once; the Graph queue's rate limit paces them further. */
const AD_READS_AT_ONCE = 10;

/** As the window read: 3 attempts within 20 s per call, queue time included; throttling answered at once. */
const graphReads = () =>
  proxyActivities<Activities>({
    taskQueue: graphTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '10s',
    scheduleToCloseTimeout: '20s',
    retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '4s', maximumAttempts: 3 },
    priority: { priorityKey: INSIGHTS_PRIORITY_KEY },
  });

export async function insightsDailyRead(input: InsightsDailyReadInput): Promise<InsightsDailyReport> {
  const { wabaId, sealedToken, since, until } = input;
  const range = { since, until };
  const reads = graphReads();
  const templates = await failingOpenly(() => reads.listInsightsTemplates({ wabaId, sealedToken }));
  const report = (source: InsightsSource, rows: TemplateDaily[], insightsRefusal?: string): InsightsDailyReport => ({
    wabaId,
    since,
    until,
    source,
    templates: rows,
    ...(insightsRefusal ? { insightsRefusal } : {}),
  });
  const row = (t: (typeof templates)[number], daily: DailySeries): TemplateDaily => ({
    name: t.name,
    language: t.language,
    id: t.id,
    ...(t.adId ? { adId: t.adId } : {}),
    daily,
  });
  const days = Math.round((Date.parse(`${until}T00:00:00Z`) - Date.parse(`${since}T00:00:00Z`)) / 86_400_000) + 1;
  const nothing = (conversions: boolean): DailySeries => {
    const zeros = () => new Array<number>(days).fill(0);
    return { sent: zeros(), delivered: zeros(), read: zeros(), clicks: zeros(), ...(conversions ? { conversions: {} } : { spend: zeros() }) };
  };

  let refusal: string | undefined;
  if (input.adsRead) {
    try {
      const byAd = new Map<string, DailySeries>();
      const withAds = templates.filter((t) => t.adId);
      // Bounded: one round per AD_READS_AT_ONCE templates, each read bounded by its retry policy.
      for (let i = 0; i < withAds.length; i += AD_READS_AT_ONCE) {
        const chunk = withAds.slice(i, i + AD_READS_AT_ONCE);
        const answers = await Promise.all(chunk.map((t) => reads.readAdInsightsDaily({ adId: t.adId!, sealedToken, range })));
        chunk.forEach((t, j) => byAd.set(t.adId!, answers[j]));
      }
      return report('insights', templates.map((t) => row(t, (t.adId && byAd.get(t.adId)) || nothing(true))));
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      // Permission, deprecation or throttling on the Insights API: the WABA's own analytics answer instead.
      refusal = err.cause?.message ?? err.message;
    }
  }

  const byTemplate: Record<string, DailySeries> = {};
  // Bounded: one call per ANALYTICS_TEMPLATES_PER_CALL templates.
  for (let i = 0; i < templates.length; i += ANALYTICS_TEMPLATES_PER_CALL) {
    const templateIds = templates.slice(i, i + ANALYTICS_TEMPLATES_PER_CALL).map((t) => t.id);
    Object.assign(byTemplate, await failingOpenly(() => reads.readTemplateAnalyticsDaily({ wabaId, sealedToken, range, templateIds })));
  }
  return report('template_analytics', templates.map((t) => row(t, byTemplate[t.id] ?? nothing(false))), refusal);
}
