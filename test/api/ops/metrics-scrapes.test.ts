import { COUNTS_MAX_AGE_MS } from '../../../api/ops/onboarding-gauges';
import { ONBOARDING_STATUSES } from '../../../workflows/types';
import { ATTENTION_KINDS } from '../../../workflows/attention-kinds';
import { eventually, FAST, startAppHarness, type AppHarness } from '../../harness/app-harness';
import { GAUGES_NAMESPACE } from '../../harness/limits';

/** /metrics is no lever on Temporal: its counts are shared and a few seconds old, and a key can close it. */

const SCRAPER_KEY = 'metrics-scraper-key-0123456789';
/**
 * One count per status and the stale AWAITING_TERMS count, one per build of the stack's deployment
 * (it has one), plus one per reason kind while any onboarding of the namespace (the suite's shared dev
 * server) is parked.
 */
const countsPerRefresh = (text: string) => {
  const parked = Number(/^mm_onboardings\{status="NEEDS_ATTENTION"\} (\d+)$/m.exec(text)?.[1]);
  return ONBOARDING_STATUSES.length + 1 + 1 + (parked > 0 ? ATTENTION_KINDS.length : 0);
};

let h: AppHarness;
beforeAll(async () => {
  // A namespace of its own: the gauges count the whole namespace, and other files change the counts.
  h = await startAppHarness({ env: { METRICS_BEARER_TOKEN: SCRAPER_KEY, TEMPORAL_NAMESPACE: GAUGES_NAMESPACE } });
});
afterAll(async () => {
  await h?.stop();
});
afterEach(() => jest.restoreAllMocks());

const scrape = (key?: string) => {
  const req = h.http().get('/metrics');
  return key === undefined ? req : req.set('Authorization', `Bearer ${key}`);
};

test('concurrent scrapes share one refresh of the onboarding counts', async () => {
  // Let any refresh from an earlier scrape age out, so these scrapes find no fresh counts.
  await new Promise((resolve) => setTimeout(resolve, COUNTS_MAX_AGE_MS + 100));
  const counts = jest.spyOn(h.stack.client.workflowService, 'countWorkflowExecutions');
  const answers = await Promise.all(Array.from({ length: 20 }, () => scrape(SCRAPER_KEY)));
  expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
  for (const a of answers) expect(a.text).toMatch(/^mm_onboardings\{status="NEEDS_ATTENTION"\} \d+$/m);
  // 20 scrapes, one set of visibility counts (uncached: 20 sets).
  const oneSet = countsPerRefresh(answers[0].text);
  expect(counts).toHaveBeenCalledTimes(oneSet);

  // Scrapes right after reuse those counts instead of asking again.
  await Promise.all(Array.from({ length: 5 }, () => scrape(SCRAPER_KEY).expect(200)));
  expect(counts).toHaveBeenCalledTimes(oneSet);
  expect((await scrape(SCRAPER_KEY)).text).toMatch(/^mm_onboardings_count_errors_total 0$/m);
}, 60_000);

test('the onboarding counts are refreshed within a few seconds of a change', async () => {
  const waba = h.stack.sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE', autoSign: false });
  const before = awaitingTerms((await scrape(SCRAPER_KEY)).text);
  await h.stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST });
  await h.stack.waitForStatus(waba.id, 'AWAITING_TERMS', 30_000);
  await eventually(async () => (awaitingTerms((await scrape(SCRAPER_KEY)).text) === before + 1 ? true : undefined), 3 * COUNTS_MAX_AGE_MS, 'the AWAITING_TERMS gauge');
}, 60_000);

test('with METRICS_BEARER_TOKEN set, /metrics answers 401 without that key', async () => {
  const none = await scrape();
  expect(none.status).toBe(401);
  expect(none.headers['www-authenticate']).toBe('Bearer');
  expect(none.body).toEqual({ error: { code: 'unauthorized', message: expect.stringContaining('Authorization: Bearer') } });
  expect((await scrape('wrong-key-0123456789abcdef')).status).toBe(401);
  // A partner's API key is no scraper's key.
  expect((await scrape(h.auth.Authorization.replace(/^Bearer /, ''))).status).toBe(401);
  expect((await scrape(SCRAPER_KEY)).status).toBe(200);
  // Only /metrics: health stays open for the orchestrator's probes.
  expect((await h.http().get('/healthz')).status).toBe(200);
  expect(h.logs.text()).not.toContain(SCRAPER_KEY);
});

function awaitingTerms(text: string): number {
  const m = /^mm_onboardings\{status="AWAITING_TERMS"\} (\d+)$/m.exec(text);
  if (!m) throw new Error('no AWAITING_TERMS gauge in /metrics');
  return Number(m[1]);
}
