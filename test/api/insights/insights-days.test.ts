import { compactDays, sumDays, type DenseDays } from '../../../workflows/insights-days';

/** The compact form the paged insights read carries: only days with figures, as runs, summed like the dense columns. */

const DAYS = 90;
const dense = (filled: (day: number) => boolean): DenseDays => {
  const column = (scale: number) => Array.from({ length: DAYS }, (_, d) => (filled(d) ? Math.round(scale * (d + 1) * 100) / 100 : 0));
  return {
    sent: column(10),
    delivered: column(9),
    read: column(5),
    clicks: column(1),
    spend: column(0.01),
    conversions: { website_purchase: column(2) },
    readRateBenchmark: 0.6,
  };
};
const denseSum = (column: number[], from: number, to: number) => column.slice(from, to + 1).reduce((n, v) => n + v, 0);

test('days without figures are left out, the rest kept as runs of days, and every window sums as the dense columns do', () => {
  // Two campaigns and a lone day: runs [3..9], [40], [70..89].
  const sends = (d: number) => (d >= 3 && d <= 9) || d === 40 || d >= 70;
  const full = dense(sends);
  const compact = compactDays(full)!;
  expect(compact.spans).toEqual([3, 7, 40, 1, 70, 20]);
  expect(compact.sent).toHaveLength(28);
  for (const [from, to] of [[0, 89], [0, 2], [3, 3], [5, 40], [9, 70], [41, 69], [80, 89], [40, 40]]) {
    expect(sumDays(compact, compact.sent, from, to)).toBe(denseSum(full.sent, from, to));
    expect(sumDays(compact, compact.conversions!.website_purchase, from, to)).toBe(denseSum(full.conversions!.website_purchase, from, to));
    expect(sumDays(compact, compact.spend!, from, to)).toBeCloseTo(denseSum(full.spend!, from, to), 9);
  }
  expect(compact.readRateBenchmark).toBe(0.6);
  // Every day filled: one run, the index costs two numbers.
  expect(compactDays(dense(() => true))!.spans).toEqual([0, DAYS]);
});

test('a template Meta reported nothing for has no figures at all; a reported spend of 0 is kept', () => {
  const nothing: DenseDays = { sent: Array(DAYS).fill(0), delivered: Array(DAYS).fill(0), read: Array(DAYS).fill(0), clicks: Array(DAYS).fill(0) };
  expect(compactDays(nothing)).toBeUndefined();
  expect(compactDays({ ...nothing, conversions: {} })).toBeUndefined();
  expect(compactDays({ ...nothing, spend: Array(DAYS).fill(0) })).toEqual({ spans: [], sent: [], delivered: [], read: [], clicks: [], spend: [] });
});
