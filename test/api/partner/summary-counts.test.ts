/**
 * GET /v1/onboardings/summary is no lever on Temporal: a crowd asking for the same filter costs one
 * set of visibility counts (19: the total, 11 statuses, 7 reason kinds), and a summary is at most
 * SUMMARY_MAX_AGE_MS old. The counts here are a counting stand-in for visibility (the route's
 * answers from the real visibility are in triage.test.ts).
 */
import { SummaryCounts, type CountRuns } from '../../../api/partner/onboarding-summary';

function countingVisibility() {
  const queries: string[] = [];
  const count: CountRuns = async (query) => {
    queries.push(query);
    await new Promise((resolve) => setTimeout(resolve, 20));
    return query.includes("'READY'") ? 7 : 1;
  };
  return { count, queries };
}

test('100 concurrent asks for one filter share one set of 19 counts; another filter has its own', async () => {
  const visibility = countingVisibility();
  const summaries = new SummaryCounts(visibility.count, 60_000);
  const answers = await Promise.all(Array.from({ length: 100 }, () => summaries.get('100000000000002')));
  expect(visibility.queries).toHaveLength(19);
  expect(new Set(answers).size).toBe(1);
  expect(answers[0].byStatus.READY).toBe(7);
  expect(answers[0].businessId).toBe('100000000000002');

  await summaries.get('100000000000002');
  expect(visibility.queries).toHaveLength(19); // from memory
  await summaries.get(undefined);
  expect(visibility.queries).toHaveLength(38); // every business: counted on its own
});

test('a summary older than its age limit is counted again', async () => {
  const visibility = countingVisibility();
  const summaries = new SummaryCounts(visibility.count, 0);
  await summaries.get();
  await new Promise((resolve) => setTimeout(resolve, 5));
  await summaries.get();
  expect(visibility.queries).toHaveLength(38);
});
