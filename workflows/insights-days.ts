/**
 * The compact form of a template's daily figures, as the paged insights read carries them through
 * Temporal (activity results, page results) and the API keeps them: only the days with a figure,
 * each column a plain array over those days. A template that sent nothing is its name and ids alone,
 * and a busy one costs about 3.7 kB (Insights with conversions, 90 days), so a page of templates is
 * bounded by its byte budget (workflows/insights-daily-page.ts) whatever the WABA's size. Pure.
 */

/** Dense daily columns (graph/insights.ts DailySeries): entry i is day i of the read's range. */
export interface DenseDays {
  sent: number[];
  delivered: number[];
  read: number[];
  clicks: number[];
  /** Absent when Meta reported no spend. */
  spend?: number[];
  /** Insights only: website and app purchase values together. */
  purchaseValue?: number[];
  /** Insights only: conversion events by Meta's name without the `marketing_messages_` prefix. */
  conversions?: Record<string, number[]>;
  readRateBenchmark?: number;
  clickRateBenchmark?: number;
}

/**
 * The same columns over only the days with any figure: `spans` lists those days (day 0 is the read's
 * `since`), ascending, as runs `[first, count, first, count, …]` (every day of 90: `[0, 90]`), and
 * column entry j is the j-th of them.
 */
export interface FiguredDays extends DenseDays {
  spans: number[];
}

/** A template of a page: what the answer names it by, and its figures (absent: Meta reported none). */
export interface TemplateDays {
  name: string;
  language: string;
  id: string;
  adId?: string;
  figures?: FiguredDays;
}

/** Keeps the days where any column has a figure; undefined when there is none and nothing else to say. */
export function compactDays(dense: DenseDays): FiguredDays | undefined {
  const columns: number[][] = [dense.sent, dense.delivered, dense.read, dense.clicks];
  if (dense.spend) columns.push(dense.spend);
  if (dense.purchaseValue) columns.push(dense.purchaseValue);
  columns.push(...Object.values(dense.conversions ?? {}));
  const days: number[] = [];
  for (let i = 0; i < dense.sent.length; i++) if (columns.some((c) => (c[i] ?? 0) !== 0)) days.push(i);
  const benchmarks = {
    ...(dense.readRateBenchmark !== undefined ? { readRateBenchmark: dense.readRateBenchmark } : {}),
    ...(dense.clickRateBenchmark !== undefined ? { clickRateBenchmark: dense.clickRateBenchmark } : {}),
  };
  if (!days.length && !Object.keys(benchmarks).length && !dense.spend && !Object.keys(dense.conversions ?? {}).length) return undefined;
  const pick = (column: number[]) => days.map((i) => column[i] ?? 0);
  return {
    spans: spansOf(days),
    sent: pick(dense.sent),
    delivered: pick(dense.delivered),
    read: pick(dense.read),
    clicks: pick(dense.clicks),
    ...(dense.spend ? { spend: pick(dense.spend) } : {}),
    ...(dense.purchaseValue ? { purchaseValue: pick(dense.purchaseValue) } : {}),
    ...(dense.conversions ? { conversions: Object.fromEntries(Object.entries(dense.conversions).map(([event, c]) => [event, pick(c)])) } : {}),
    ...benchmarks,
  };
}

/** A column's sum over the days `from`..`to` (inclusive, day numbers of the read's range). */
export function sumDays(figures: FiguredDays, column: number[], from: number, to: number): number {
  let total = 0;
  let j = 0; // the column's entry for the span's first day
  for (let s = 0; s + 1 < figures.spans.length; s += 2) {
    const [first, count] = [figures.spans[s], figures.spans[s + 1]];
    for (let day = Math.max(first, from); day <= Math.min(first + count - 1, to); day++) total += column[j + day - first] ?? 0;
    j += count;
  }
  return total;
}

/** Ascending day numbers as runs of consecutive days. */
function spansOf(days: number[]): number[] {
  const spans: number[] = [];
  for (const day of days) {
    const last = spans.length - 2;
    if (last >= 0 && spans[last] + spans[last + 1] === day) spans[last + 1]++;
    else spans.push(day, 1);
  }
  return spans;
}
