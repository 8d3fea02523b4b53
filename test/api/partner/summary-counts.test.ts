/**
 * GET /v1/onboardings/summary is no lever on Temporal: a crowd asking for the same filter costs one
 * set of visibility calls, a summary is at most SUMMARY_MAX_AGE_MS old, and a filter nobody asked
 * for lately costs one call, not 19 (issue 33: 50 new businessIds made 906 counts in 15 s). Every
 * business's summary takes 19 counts (the total, 11 statuses, 7 reason kinds); one business's, one
 * listing of its onboardings. The visibility here is a counting stand-in that answers counts and
 * listings from the same runs (the route's answers from the real visibility are in triage.test.ts).
 */
import { BUSINESS_LISTING_PAGE, countOnboardings, SummaryCounts, type CountRuns, type ListRuns } from '../../../api/partner/onboarding-summary';

interface Run {
  businessId: string;
  status: string;
  reasonKind?: string;
}

/** Visibility over `runs`: counts and listings filtered by the clauses the summary's queries use. */
function countingVisibility(runs: Run[] = []) {
  const counts: string[] = [];
  const listings: string[] = [];
  const clause = (query: string, name: string) => new RegExp(`${name} = '([^']*)'`).exec(query)?.[1];
  const matching = (query: string) =>
    runs.filter((run) => {
      const [business, status, kind] = [clause(query, 'BusinessId'), clause(query, 'OnboardingStatus'), clause(query, 'OnboardingReasonKind')];
      return (!business || run.businessId === business) && (!status || run.status === status) && (!kind || run.reasonKind === kind);
    });
  const count: CountRuns = async (query) => {
    counts.push(query);
    await new Promise((resolve) => setTimeout(resolve, 20));
    return matching(query).length;
  };
  const list: ListRuns = async (query, pageSize) => {
    listings.push(query);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const found = matching(query);
    return { runs: found.slice(0, pageSize).map(({ status, reasonKind }) => ({ status, reasonKind })), complete: found.length <= pageSize };
  };
  return { count, list, counts, listings, calls: () => counts.length + listings.length };
}

const business = '100000000000002';
const someRuns: Run[] = [
  { businessId: business, status: 'READY' },
  { businessId: business, status: 'READY' },
  { businessId: business, status: 'AWAITING_TERMS' },
  { businessId: business, status: 'NEEDS_ATTENTION', reasonKind: 'expired_token' },
  { businessId: business, status: 'NEEDS_ATTENTION', reasonKind: 'missing_permission' },
  // A reason kind left from an earlier park does not count outside NEEDS_ATTENTION.
  { businessId: business, status: 'CHECKING_ELIGIBILITY', reasonKind: 'expired_token' },
  { businessId: '100000000000003', status: 'READY' },
];

test('100 concurrent asks for one business share one listing; every business has its own 19 counts', async () => {
  const visibility = countingVisibility(someRuns);
  const summaries = new SummaryCounts(visibility.count, visibility.list, 60_000);
  const answers = await Promise.all(Array.from({ length: 100 }, () => summaries.get(business)));
  expect(visibility.listings).toHaveLength(1);
  expect(visibility.counts).toHaveLength(0);
  expect(new Set(answers).size).toBe(1);
  expect(answers[0]).toMatchObject({ businessId: business, total: 6, byStatus: { READY: 2, NEEDS_ATTENTION: 2 } });

  await summaries.get(business);
  expect(visibility.calls()).toBe(1); // from memory
  const all = await summaries.get(undefined);
  expect(visibility.counts).toHaveLength(19); // every business: counted, on its own
  expect(all.total).toBe(7);
});

test("one business's summary from its listing is the one its 19 counts give", async () => {
  const visibility = countingVisibility(someRuns);
  const listed = await new SummaryCounts(visibility.count, visibility.list, 0).get(business);
  expect(visibility.counts).toHaveLength(0);
  expect(listed).toEqual(await countOnboardings(visibility.count, business));
  expect(listed.needsAttentionByKind).toMatchObject({ expired_token: 1, missing_permission: 1, other: 0 });
  expect(listed.byStatus.CHECKING_ELIGIBILITY).toBe(1);
});

test('50 sequential asks for businessIds nobody asked for cost 50 visibility calls, not 950', async () => {
  const visibility = countingVisibility(someRuns);
  const summaries = new SummaryCounts(visibility.count, visibility.list, 60_000);
  const started = Date.now();
  for (let i = 0; i < 50; i++) expect((await summaries.get(String(700000000000000 + i))).total).toBe(0);
  console.log(`50 new businessIds: ${visibility.listings.length} listings, ${visibility.counts.length} counts, ${Date.now() - started} ms`);
  expect(visibility.calls()).toBe(50);
});

test('a business with more onboardings than one listing page holds is counted: 1 listing + 19 counts', async () => {
  const many = Array.from({ length: BUSINESS_LISTING_PAGE + 1 }, (_, i): Run => ({ businessId: business, status: i % 2 ? 'READY' : 'AWAITING_TERMS' }));
  const visibility = countingVisibility(many);
  const summary = await new SummaryCounts(visibility.count, visibility.list, 60_000).get(business);
  expect({ listings: visibility.listings.length, counts: visibility.counts.length }).toEqual({ listings: 1, counts: 19 });
  expect(summary).toMatchObject({ total: BUSINESS_LISTING_PAGE + 1, byStatus: { READY: 500, AWAITING_TERMS: 501 } });
});

test('a summary older than its age limit is read again', async () => {
  const visibility = countingVisibility();
  const summaries = new SummaryCounts(visibility.count, visibility.list, 0);
  await summaries.get();
  await new Promise((resolve) => setTimeout(resolve, 5));
  await summaries.get();
  expect(visibility.counts).toHaveLength(38);
});
