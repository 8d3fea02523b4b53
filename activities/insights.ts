import { ApplicationFailure } from '@temporalio/common';
import { GraphThrottledError, type AdInsights, type DayRange, type GraphClient, type TemplateAnalytics, type TemplateWithAd } from '../graph';
import { unseal } from '../secrets/sealing';
import { compactDays, type FiguredDays, type TemplateDays } from '../workflows/insights-days';
import { INSIGHTS_THROTTLED } from '../workflows/insights-types';
import { asActivityFailure } from './graph-failures';

/** When Meta throttles without saying for how long. */
const DEFAULT_RETRY_AFTER_MS = 60_000;

/**
 * The insights read's Graph calls (workflows/insights-read.ts), one Graph read per activity so each
 * counts against GRAPH_MAX_RPS on the Graph queue. Throttling is not retried here: the partner is
 * told to come back (503 with Retry-After), or the read falls back to template_analytics.
 */
export function createInsightsActivities(graph: GraphClient, sealingKey: Buffer) {
  const tokenOf = (sealedToken?: string) => (sealedToken ? unseal(sealedToken, sealingKey) : undefined);

  return {
    /** The WABA's marketing templates (optionally only those named), each with its ad. */
    async listInsightsTemplates({ wabaId, sealedToken, names }: { wabaId: string; sealedToken?: string; names?: string[] }): Promise<TemplateWithAd[]> {
      const all = await insightsCall(() => graph.listTemplatesWithAds(wabaId, tokenOf(sealedToken)));
      return all.filter((t) => (t.category ?? 'MARKETING') === 'MARKETING' && (!names || names.includes(t.name)));
    },

    async readAdInsights({ adId, sealedToken, since, until }: { adId: string; sealedToken?: string; since: string; until: string }): Promise<AdInsights> {
      return insightsCall(() => graph.getAdInsights(adId, { since, until }, tokenOf(sealedToken)));
    },

    /**
     * One page of the WABA's marketing templates with their ads (the paged read,
     * workflows/insights-daily-page.ts): at most 100, and the cursor of the next page.
     */
    async listInsightsTemplatesPage({ wabaId, sealedToken, after }: { wabaId: string; sealedToken?: string; after?: string }): Promise<{ templates: TemplateDays[]; after?: string }> {
      const page = await insightsCall(() => graph.listTemplatesWithAdsPage(wabaId, { after }, tokenOf(sealedToken)));
      const templates = page.templates
        .filter((t) => (t.category ?? 'MARKETING') === 'MARKETING')
        .map((t) => ({ name: t.name, language: t.language, id: t.id, ...(t.adId ? { adId: t.adId } : {}) }));
      return { templates, ...(page.after ? { after: page.after } : {}) };
    },

    /** One ad's Insights over `range`, only the days with figures (workflows/insights-days.ts). */
    async readAdInsightsDays({ adId, sealedToken, range }: { adId: string; sealedToken?: string; range: DayRange }): Promise<FiguredDays | null> {
      return compactDays(await insightsCall(() => graph.getAdInsightsDaily(adId, range, tokenOf(sealedToken)))) ?? null;
    },

    /** `template_analytics` of at most 10 templates over `range`, only the days with figures. */
    async readTemplateAnalyticsDays(input: { wabaId: string; sealedToken?: string; range: DayRange; templateIds: string[] }): Promise<Record<string, FiguredDays>> {
      const dense = await insightsCall(() => graph.getTemplateAnalyticsDaily(input.wabaId, input.range, input.templateIds, tokenOf(input.sealedToken)));
      const out: Record<string, FiguredDays> = {};
      for (const [id, series] of Object.entries(dense)) {
        const figures = compactDays(series);
        if (figures) out[id] = figures;
      }
      return out;
    },

    async readTemplateAnalytics(input: { wabaId: string; sealedToken?: string; start: number; end: number; templateIds: string[] }): Promise<Record<string, TemplateAnalytics>> {
      const { wabaId, sealedToken, ...window } = input;
      return insightsCall(() => graph.getTemplateAnalytics(wabaId, window, tokenOf(sealedToken)));
    },
  };
}

async function insightsCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof GraphThrottledError) {
      throw ApplicationFailure.nonRetryable(err.message, INSIGHTS_THROTTLED, { retryAfterMs: err.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS });
    }
    throw asActivityFailure(err);
  }
}
