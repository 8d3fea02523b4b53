import { z } from 'zod';

/**
 * MM API performance as Meta reports it, from its two surfaces: the Marketing API's Insights on each
 * template's ad (`GET /<AD_ID>/insights`, needs `ads_read`; conversions included) and the WhatsApp
 * Business Management API's `GET /<WABA_ID>/template_analytics` (no conversions). Meta writes the
 * Insights figures as strings ("2755"): they are numbers from here on.
 */

/** The Insights fields asked for, besides the conversion fields below. */
export const AD_INSIGHTS_FIELDS = [
  'marketing_messages_sent',
  'marketing_messages_delivered',
  'marketing_messages_read',
  'marketing_messages_link_btn_click',
  'marketing_messages_spend',
  'marketing_messages_cost_per_delivered',
  'marketing_messages_read_rate',
  'marketing_messages_read_rate_benchmark',
  'marketing_messages_click_rate_benchmark',
] as const;

/**
 * The conversion events (website: Meta Pixel or Conversions API; app: App Events), asked for by name.
 * Any other `marketing_messages_website_*` or `marketing_messages_app_*` field in the answer is kept too.
 */
export const AD_CONVERSION_FIELDS = [
  'marketing_messages_website_add_to_cart',
  'marketing_messages_website_initiate_checkout',
  'marketing_messages_website_purchase',
  'marketing_messages_website_purchase_values',
  'marketing_messages_app_add_to_cart',
  'marketing_messages_app_initiate_checkout',
  'marketing_messages_app_purchase',
  'marketing_messages_app_purchase_values',
] as const;

const CONVERSION_FIELD = /^marketing_messages_((?:website|app)_[a-z0-9_]+)$/;
/** Purchase values are money, not events: they add up to `purchaseValue`. */
const PURCHASE_VALUE = /_purchase_values?$/;

/** Graph numbers: strings or numbers; anything else (or nothing) is absent. */
const graphNumber = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) {
    ctx.addIssue({ code: 'custom', message: 'not a number' });
    return z.NEVER;
  }
  return n;
});

/** A Graph number field of a row as a number, or undefined: graphNumber's rule without a parse per field (a daily read has thousands). */
function numberField(row: Record<string, unknown>, field: string): number | undefined {
  const v = row[field];
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/**
 * One row of `/<AD_ID>/insights` (one per ad for the whole range, or per day): any object, its fields
 * read one by one (numberField); checked as a whole, not key by key (90 rows of 20 fields a daily read).
 */
export const adInsightsRow = z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'an object');
export const adInsightsAnswer = z.object({ data: z.array(adInsightsRow) });

export interface AdInsights {
  sent: number;
  delivered: number;
  read: number;
  clicks: number;
  spend?: number;
  costPerDelivered?: number;
  readRate?: number;
  readRateBenchmark?: number;
  clickRateBenchmark?: number;
  conversions: Record<string, number>;
  purchaseValue?: number;
}

/** Sums the answer's rows (Meta gives one for a range without a breakdown; none when nothing was sent). */
export function adInsightsOf(rows: Array<Record<string, unknown>>): AdInsights {
  const num = numberField;
  const sum = (field: string) => rows.reduce((total, row) => total + (num(row, field) ?? 0), 0);
  const last = (field: string) => rows.map((row) => num(row, field)).filter((v) => v !== undefined).at(-1);
  const conversions: Record<string, number> = {};
  let purchaseValue: number | undefined;
  for (const row of rows) {
    for (const field of Object.keys(row)) {
      const event = CONVERSION_FIELD.exec(field)?.[1];
      const value = num(row, field);
      if (!event || value === undefined) continue;
      if (PURCHASE_VALUE.test(event)) purchaseValue = (purchaseValue ?? 0) + value;
      else conversions[event] = (conversions[event] ?? 0) + value;
    }
  }
  return dropUndefined({
    sent: sum('marketing_messages_sent'),
    delivered: sum('marketing_messages_delivered'),
    read: sum('marketing_messages_read'),
    clicks: sum('marketing_messages_link_btn_click'),
    spend: last('marketing_messages_spend') === undefined ? undefined : round(sum('marketing_messages_spend')),
    costPerDelivered: last('marketing_messages_cost_per_delivered'),
    readRate: last('marketing_messages_read_rate'),
    readRateBenchmark: last('marketing_messages_read_rate_benchmark'),
    clickRateBenchmark: last('marketing_messages_click_rate_benchmark'),
    conversions,
    purchaseValue: purchaseValue === undefined ? undefined : round(purchaseValue),
  });
}

/** A `/<WABA_ID>/message_templates` row with the template's ad (Meta creates one per template at onboarding). */
export const templateWithAd = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  language: z.string().min(1),
  status: z.string().optional(),
  category: z.string().optional(),
  ad_id: z.union([z.string(), z.number().transform(String)]).optional(),
  ad_account_id: z.union([z.string(), z.number().transform(String)]).optional(),
});

export interface TemplateWithAd {
  id: string;
  name: string;
  language: string;
  category?: string;
  adId?: string;
  adAccountId?: string;
}

/** One daily point of `/<WABA_ID>/template_analytics`. */
const analyticsPoint = z.object({
  template_id: z.union([z.string(), z.number().transform(String)]),
  start: z.number().optional(),
  end: z.number().optional(),
  sent: graphNumber.optional(),
  delivered: graphNumber.optional(),
  read: graphNumber.optional(),
  clicked: z.array(z.object({ type: z.string().optional(), count: graphNumber.optional() })).optional(),
  cost: z.array(z.object({ type: z.string(), value: graphNumber.optional() })).optional(),
});
export const templateAnalyticsEntry = z.object({
  granularity: z.string().optional(),
  product_type: z.string().optional(),
  data_points: z.array(analyticsPoint),
});

export interface TemplateAnalytics {
  sent: number;
  delivered: number;
  read: number;
  clicks: number;
  spend: number;
  /** Meta's own figure where it gives one, else spend / delivered. */
  costPerDelivered?: number;
}

/** The daily points summed per template id. */
export function templateAnalyticsOf(entries: Array<z.infer<typeof templateAnalyticsEntry>>): Record<string, TemplateAnalytics> {
  const out: Record<string, TemplateAnalytics> = {};
  for (const point of entries.flatMap((e) => e.data_points)) {
    const t = (out[point.template_id] ??= { sent: 0, delivered: 0, read: 0, clicks: 0, spend: 0 });
    t.sent += point.sent ?? 0;
    t.delivered += point.delivered ?? 0;
    t.read += point.read ?? 0;
    t.clicks += (point.clicked ?? []).reduce((n, c) => n + (c.count ?? 0), 0);
    t.spend += (point.cost ?? []).filter((c) => c.type === 'amount_spent').reduce((n, c) => n + (c.value ?? 0), 0);
  }
  for (const t of Object.values(out)) {
    t.spend = round(t.spend);
    if (t.delivered > 0) t.costPerDelivered = round(t.spend / t.delivered);
  }
  return out;
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const DAY_MS = 86_400_000;

/**
 * One template's figures day by day over a read's range: entry i of each column is the range's day i
 * (UTC), 0 where Meta reported nothing. Columns, not a row per day, so a WABA's 90 days of every
 * marketing template stay a small payload (about 4 kB per template).
 */
export interface DailySeries {
  sent: number[];
  delivered: number[];
  read: number[];
  clicks: number[];
  /** Absent when Meta reported no spend. */
  spend?: number[];
  /** Website and app purchase values together (Insights only). */
  purchaseValue?: number[];
  /** Insights only: conversion events by Meta's name without the `marketing_messages_` prefix. */
  conversions?: Record<string, number[]>;
  /** Insights only: Meta's benchmarks, the last reported. */
  readRateBenchmark?: number;
  clickRateBenchmark?: number;
}

/** A read's range of days, `since`..`until` inclusive (YYYY-MM-DD, UTC). */
export interface DayRange {
  since: string;
  until: string;
}

export const dayNumber = (day: string): number => Date.parse(`${day}T00:00:00Z`) / DAY_MS;
export const daysInRange = (range: DayRange): number => dayNumber(range.until) - dayNumber(range.since) + 1;

const zeros = (n: number) => new Array<number>(n).fill(0);

/** `/<AD_ID>/insights?time_increment=1` rows (one per day with sends) as columns over `range`. */
export function adInsightsDailyOf(rows: Array<Record<string, unknown>>, range: DayRange): DailySeries {
  const days = daysInRange(range);
  const first = dayNumber(range.since);
  const series: DailySeries = { sent: zeros(days), delivered: zeros(days), read: zeros(days), clicks: zeros(days), conversions: {} };
  const num = numberField;
  const add = (column: number[], i: number, value: number | undefined) => {
    if (value !== undefined) column[i] = round(column[i] + value);
  };
  for (const row of rows) {
    const i = typeof row.date_start === 'string' ? dayNumber(row.date_start) - first : NaN;
    if (!Number.isInteger(i) || i < 0 || i >= days) continue; // outside the range asked: not Meta's answer to it
    add(series.sent, i, num(row, 'marketing_messages_sent'));
    add(series.delivered, i, num(row, 'marketing_messages_delivered'));
    add(series.read, i, num(row, 'marketing_messages_read'));
    add(series.clicks, i, num(row, 'marketing_messages_link_btn_click'));
    const spend = num(row, 'marketing_messages_spend');
    if (spend !== undefined) add((series.spend ??= zeros(days)), i, spend);
    series.readRateBenchmark = num(row, 'marketing_messages_read_rate_benchmark') ?? series.readRateBenchmark;
    series.clickRateBenchmark = num(row, 'marketing_messages_click_rate_benchmark') ?? series.clickRateBenchmark;
    for (const field of Object.keys(row)) {
      const event = CONVERSION_FIELD.exec(field)?.[1];
      const value = num(row, field);
      if (!event || value === undefined) continue;
      if (PURCHASE_VALUE.test(event)) add((series.purchaseValue ??= zeros(days)), i, value);
      else add((series.conversions![event] ??= zeros(days)), i, value);
    }
  }
  return dropUndefined(series);
}

/** `template_analytics` daily points as columns over `range`, per template id. */
export function templateAnalyticsDailyOf(entries: Array<z.infer<typeof templateAnalyticsEntry>>, range: DayRange): Record<string, DailySeries> {
  const days = daysInRange(range);
  const first = dayNumber(range.since);
  const out: Record<string, DailySeries> = {};
  for (const point of entries.flatMap((e) => e.data_points)) {
    const i = point.start === undefined ? NaN : Math.floor((point.start * 1000) / DAY_MS) - first;
    if (!Number.isInteger(i) || i < 0 || i >= days) continue;
    const t = (out[point.template_id] ??= { sent: zeros(days), delivered: zeros(days), read: zeros(days), clicks: zeros(days), spend: zeros(days) });
    t.sent[i] += point.sent ?? 0;
    t.delivered[i] += point.delivered ?? 0;
    t.read[i] += point.read ?? 0;
    t.clicks[i] += (point.clicked ?? []).reduce((n, c) => n + (c.count ?? 0), 0);
    t.spend![i] = round(t.spend![i] + (point.cost ?? []).filter((c) => c.type === 'amount_spent').reduce((n, c) => n + (c.value ?? 0), 0));
  }
  return out;
}
