/**
 * The insights read's vocabulary (GET /v1/onboardings/:wabaId/insights): what the API asks the
 * `insightsDailyPage` workflow for, page by page, and what it answers (and, from API processes of
 * the previous build, `insightsRead`). Pure: imported by the workflows,
 * activities and the API.
 */

import type { TemplateDays } from './insights-days';

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

/** Where a page of the paged read starts: templates left over from the last listing page, then Meta's cursor. */
export interface InsightsPageStart {
  /** Templates listed but not read yet (at most one listing page, 100). */
  pending?: TemplateDays[];
  /** The cursor of the next listing page; absent with `pending`: none left after them. */
  after?: string;
}

/** A page of the paged read (workflows/insights-daily-page.ts): what the API asks for each page. */
export interface InsightsPageInput extends InsightsDailyReadInput {
  /** Absent: the first page. */
  start?: InsightsPageStart;
}

export interface InsightsPage {
  source: InsightsSource;
  /** Every template of the page, in Meta's order; figures only for days Meta reported. */
  templates: TemplateDays[];
  /** Where the next page starts; absent on the last page. */
  next?: InsightsPageStart;
  /** Why Insights was not the source, when it was tried (a refusal, a throttle). */
  insightsRefusal?: string;
}

/**
 * Page `page` of the paged read of `since`..`until` from `source` (the fallback reads its pages
 * anew): API processes asking at once walk the same ids and share each page's run.
 */
export const insightsPageWorkflowId = (wabaId: string, since: string, until: string, source: InsightsSource, page: number) =>
  `mm-insights:${wabaId}:days:${since}:${until}:${source}:${page}`;
