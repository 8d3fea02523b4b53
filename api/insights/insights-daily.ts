/**
 * A window's answer from a WABA's paged read (workflows/insights-daily-page.ts): the figures of the
 * window's days summed per template, the rates worked out from those sums, only the templates asked.
 * Pure: the reader keeps one read per WABA and answers every window and template set with it.
 */
import { dayNumber } from '../../graph/insights';
import { sumDays, type FiguredDays, type TemplateDays } from '../../workflows/insights-days';
import type { InsightsReport, InsightsSource, TemplateInsights } from '../../workflows/insights-types';
import type { InsightsWindow } from './insights-window';

export type InsightsAnswer = Omit<InsightsReport, 'insightsRefusal'>;

/** Every page of a WABA's read put together: its templates' days with figures over `since`..`until`. */
export interface WabaDays {
  wabaId: string;
  since: string;
  until: string;
  source: InsightsSource;
  templates: TemplateDays[];
  /** Why Insights was not the source, when it was tried (a refusal, a throttle). */
  insightsRefusal?: string;
}

/** Whether the read's days cover the window (a read made before midnight UTC does not cover today). */
export const covers = (report: { since: string; until: string }, window: InsightsWindow): boolean =>
  report.since <= window.since && window.until <= report.until;

export function answerFor(report: WabaDays, window: InsightsWindow): InsightsAnswer {
  const from = dayNumber(window.since) - dayNumber(report.since);
  const to = dayNumber(window.until) - dayNumber(report.since);
  const asked = window.templates ? new Set(window.templates) : undefined;
  return {
    wabaId: report.wabaId,
    since: window.since,
    until: window.until,
    source: report.source,
    templates: report.templates.filter((t) => !asked || asked.has(t.name)).map((t) => figuresOf(t, report.source, from, to)),
  };
}

/** A template Meta reported nothing for: zeros (Insights: no conversions either). */
const NOTHING: FiguredDays = { spans: [], sent: [], delivered: [], read: [], clicks: [] };

function figuresOf(t: TemplateDays, source: InsightsSource, from: number, to: number): TemplateInsights {
  const d = t.figures ?? NOTHING;
  const sum = (column: number[]) => round(sumDays(d, column, from, to), 6);
  const [sent, delivered, read, clicks] = [sum(d.sent), sum(d.delivered), sum(d.read), sum(d.clicks)];
  const spend = d.spend ? sum(d.spend) : undefined;
  const base = { name: t.name, language: t.language, id: t.id, ...(t.adId ? { adId: t.adId } : {}), sent, delivered, read, clicks };
  const costPerDelivered = spend !== undefined && delivered > 0 ? round(spend / delivered, 6) : undefined;
  if (source === 'template_analytics') {
    return dropUndefined({ ...base, spend: spend ?? 0, costPerDelivered });
  }
  return dropUndefined({
    ...base,
    spend,
    costPerDelivered,
    readRate: delivered > 0 ? round(read / delivered, 4) : undefined,
    readRateBenchmark: d.readRateBenchmark,
    clickRateBenchmark: d.clickRateBenchmark,
    conversions: Object.fromEntries(Object.entries(d.conversions ?? {}).map(([event, column]) => [event, sum(column)])),
    purchaseValue: d.purchaseValue ? sum(d.purchaseValue) : undefined,
  });
}

const round = (n: number, places: number) => Math.round(n * 10 ** places) / 10 ** places;

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
