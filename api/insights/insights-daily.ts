/**
 * A window's answer from a WABA's daily read (workflows/insights-daily-read.ts): the figures of the
 * window's days summed per template, the rates worked out from those sums, only the templates asked.
 * Pure: the reader keeps one daily read per WABA and answers every window and template set with it.
 */
import { dayNumber } from '../../graph/insights';
import type { DailySeries, InsightsDailyReport, TemplateDaily } from '../../workflows/insights-daily-read';
import type { InsightsReport, TemplateInsights } from '../../workflows/insights-types';
import type { InsightsWindow } from './insights-window';

export type InsightsAnswer = Omit<InsightsReport, 'insightsRefusal'>;

/** Whether the read's days cover the window (a read made before midnight UTC does not cover today). */
export const covers = (report: { since: string; until: string }, window: InsightsWindow): boolean =>
  report.since <= window.since && window.until <= report.until;

export function answerFor(report: InsightsDailyReport, window: InsightsWindow): InsightsAnswer {
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

function figuresOf(t: TemplateDaily, source: InsightsReport['source'], from: number, to: number): TemplateInsights {
  const d: DailySeries = t.daily;
  const sum = (column: number[]) => round(column.slice(from, to + 1).reduce((n, v) => n + v, 0), 6);
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
