/**
 * The insights read's vocabulary (GET /v1/onboardings/:wabaId/insights): what the API asks the
 * `insightsDailyRead` workflow (and, from API processes of the previous build, `insightsRead`) for
 * and what it answers. Pure: imported by the workflow, activities and the API.
 */

export type InsightsSource = 'insights' | 'template_analytics';

export interface InsightsReadInput {
  wabaId: string;
  /** The WABA's own Embedded Signup token, sealed; else the partner's system-user token is used. */
  sealedToken?: string;
  /** The token used has `ads_read`: the Marketing API's Insights are tried first. */
  adsRead: boolean;
  /** YYYY-MM-DD, inclusive, UTC. */
  since: string;
  until: string;
  /** Template names to report on; absent: every marketing template of the WABA. */
  templates?: string[];
}

export interface TemplateInsights {
  name: string;
  language: string;
  id: string;
  adId?: string;
  sent: number;
  delivered: number;
  read: number;
  clicks: number;
  spend?: number;
  costPerDelivered?: number;
  readRate?: number;
  readRateBenchmark?: number;
  clickRateBenchmark?: number;
  conversions?: Record<string, number>;
  purchaseValue?: number;
}

export interface InsightsReport {
  wabaId: string;
  since: string;
  until: string;
  source: InsightsSource;
  templates: TemplateInsights[];
  /** Why Insights was not the source, when it was tried (a refusal, a throttle). */
  insightsRefusal?: string;
}

/** The failure type a throttled insights read ends with; its details carry `{ retryAfterMs }`. */
export const INSIGHTS_THROTTLED = 'InsightsThrottled';

/** At most this many template ids go into one `template_analytics` call (Meta's limit). */
export const ANALYTICS_TEMPLATES_PER_CALL = 10;

/** `since`..`until` as Unix seconds: from the start of `since` to the end of `until` (UTC). */
export function unixWindow(since: string, until: string): { start: number; end: number } {
  return { start: Date.parse(`${since}T00:00:00Z`) / 1000, end: Date.parse(`${until}T00:00:00Z`) / 1000 + 86_400 };
}

export const insightsWorkflowId = (wabaId: string, key: string) => `mm-insights:${wabaId}:${key}`;

/** The daily read: every marketing template of the WABA, day by day over `since`..`until` (all Meta keeps). */
export interface InsightsDailyReadInput {
  wabaId: string;
  sealedToken?: string;
  adsRead: boolean;
  /** YYYY-MM-DD, inclusive, UTC. */
  since: string;
  until: string;
}

/** One daily read per WABA and range: API processes asking at once share its run. */
export const insightsDailyWorkflowId = (wabaId: string, since: string, until: string) => `mm-insights:${wabaId}:daily:${since}:${until}`;
