import { INSIGHTS_ASKS_PER_MINUTE } from '../../../api/insights/insights-budget';
import { startAppHarness, TEST_SECRETS, type AppHarness } from '../../harness/app-harness';
import { WEBHOOK_ONLY } from '../../harness/stack';
import { historyAsText } from '../../harness/histories';
import { eventually } from '../../harness/wait';

/**
 * GET /v1/onboardings/:wabaId/insights end to end: the real app, workers and dev server, and the Graph
 * sandbox's deterministic Insights and template_analytics figures (sandbox/insights.ts).
 */

/** A second API key: its budget of insights asks is its own. */
const OTHER_KEY = 'insights-test-other-key';
let h: AppHarness;
beforeAll(async () => {
  h = await startAppHarness({ sandbox: { templateSyncMs: 200 }, env: { API_KEYS: `${TEST_SECRETS.apiKey},${OTHER_KEY}` } });
});
afterAll(async () => {
  await h?.stop();
});

const world = () => h.stack.sandbox.world;
const FAST = { templateSyncGraceSeconds: 1, statusPollIntervalSeconds: 3600 };
const DAY_MS = 86_400_000;
const day = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY_MS).toISOString().slice(0, 10);
const insights = (wabaId: string, query = '') => h.http().get(`/v1/onboardings/${wabaId}/insights${query}`).set(h.auth);
const graphReads = (wabaId: string) =>
  (['message_templates', 'ad_insights', 'template_analytics'] as const).reduce((n, endpoint) => n + world().countCalls({ endpoint, wabaId }), 0);

/** A READY onboarding (manual path, the partner's token) of an ONBOARDED WABA with marketing templates. */
async function readyWaba(templates = ['spring_sale', 'summer_sale']) {
  const waba = world().createWaba({ onboardingStatus: 'ONBOARDED' });
  for (const name of templates) await world().messaging.createTemplate(waba.id, { name, notify: false });
  await world().messaging.createTemplate(waba.id, { name: 'order_update', category: 'UTILITY', notify: false });
  const started = await h.http().post('/v1/onboardings').set(h.auth).send({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST });
  expect(started.status).toBe(201);
  await h.stack.waitForStatus(waba.id, 'READY');
  // The onboarding lists its templates once READY: answered before a test counts the read's Graph calls.
  await eventually(async () => world().findCalls({ endpoint: 'message_templates', wabaId: waba.id }).find((c) => c.status === 200), 30_000, "the onboarding's listing at READY");
  return { waba, templates: world().waba(waba.id).templates.filter((t) => t.category === 'MARKETING') };
}

/** A READY onboarding through Embedded Signup, whose token was granted `scopes`. */
async function signedUpWaba(scopes: string[]) {
  const waba = world().createWaba({ autoSign: false });
  await world().messaging.createTemplate(waba.id, { name: 'spring_sale', notify: false });
  const code = world().issueSignupCode(waba.id, { scopes });
  const signedUp = await h
    .http()
    .post('/v1/embedded-signup')
    .set(h.auth)
    .send({ code, wabaId: waba.id, businessId: waba.ownerBusinessId, options: { ...WEBHOOK_ONLY, templateSyncGraceSeconds: 1 } });
  expect(signedUp.status).toBe(201);
  expect(signedUp.body.insightsAvailable).toBe(scopes.includes('ads_read'));
  await h.stack.waitForStatus(waba.id, 'AWAITING_TERMS');
  await world().signTerms(waba.id);
  await h.stack.waitForStatus(waba.id, 'READY');
  return waba;
}

describe('GET /v1/onboardings/:wabaId/insights', () => {
  test('with ads_read the figures come from the Insights API on each template ad, numbers and conversions as numbers', async () => {
    const { waba, templates } = await readyWaba();
    const [since, until] = [day(10), day(1)];
    const res = await insights(waba.id, `?since=${since}&until=${until}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ wabaId: waba.id, since, until, source: 'insights' });
    expect(res.body.templates.map((t: { name: string }) => t.name).sort()).toEqual(['spring_sale', 'summer_sale']);
    for (const template of templates) {
      const row = res.body.templates.find((t: { id: string }) => t.id === template.id);
      const expected = world().insights.total(template.id, since, until);
      const bench = world().insights.benchmarks(template.id);
      expect(row).toEqual({
        name: template.name,
        language: 'en_US',
        id: template.id,
        adId: world().insights.adIdOf(world().waba(waba.id), template),
        sent: expected.sent,
        delivered: expected.delivered,
        read: expected.read,
        clicks: expected.clicks,
        spend: expected.spend,
        costPerDelivered: expect.any(Number),
        readRate: expect.any(Number),
        readRateBenchmark: bench.readRate,
        clickRateBenchmark: bench.clickRate,
        conversions: expected.conversions,
        purchaseValue: expected.purchaseValue,
      });
      expect(typeof row.conversions.website_purchase).toBe('number');
      expect(row.conversions.website_purchase).toBeGreaterThan(0);
    }
    expect(world().countCalls({ endpoint: 'ad_insights', wabaId: waba.id })).toBe(2);
    expect(world().countCalls({ endpoint: 'template_analytics', wabaId: waba.id })).toBe(0);
    expect(res.headers['cache-control']).toMatch(/^private, max-age=(89\d|900)$/);

    const one = await insights(waba.id, `?since=${since}&until=${until}&template=summer_sale`);
    expect(one.status).toBe(200);
    expect(one.body.templates).toHaveLength(1);
    expect(one.body.templates[0].name).toBe('summer_sale');
  });

  test('one read of Meta per WABA whatever the window and template set: concurrent and later asks share it', async () => {
    const { waba, templates } = await readyWaba();
    const query = `?since=${day(20)}&until=${day(2)}`;
    const answers = await Promise.all(Array.from({ length: 20 }, () => insights(waba.id, query)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    const afterFirst = graphReads(waba.id);
    expect(world().countCalls({ endpoint: 'message_templates', wabaId: waba.id })).toBe(2); // the onboarding's listing at READY, then this read
    expect(world().countCalls({ endpoint: 'ad_insights', wabaId: waba.id })).toBe(2); // each ad's 90 days, one page

    const again = await insights(waba.id, query);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(answers[0].body);
    expect(Number(/max-age=(\d+)/.exec(again.headers['cache-control'])![1])).toBeLessThanOrEqual(900);

    // Forty one-day windows, concurrent, and template sets of every kind: all answered from the same read, each right.
    const oneDays = await Promise.all(Array.from({ length: 40 }, (_, i) => insights(waba.id, `?since=${day(i + 1)}&until=${day(i + 1)}`)));
    expect(oneDays.map((a) => a.status)).toEqual(Array(40).fill(200));
    oneDays.forEach((res, i) => {
      for (const template of templates) {
        const row = res.body.templates.find((t: { id: string }) => t.id === template.id);
        expect(row.sent).toBe(world().insights.total(template.id, day(i + 1), day(i + 1)).sent);
      }
    });
    const one = await insights(waba.id, `${query}&template=spring_sale`);
    expect(one.body.templates.map((t: { name: string }) => t.name)).toEqual(['spring_sale']);
    const unknown = await insights(waba.id, `${query}&template=${'x'.repeat(400)}`);
    expect(unknown.status).toBe(200);
    expect(unknown.body.templates).toEqual([]);
    const whole = await insights(waba.id, `?since=${day(89)}&until=${day(0)}`);
    expect(whole.body.templates[0].sent).toBe(world().insights.total(whole.body.templates[0].id, day(89), day(0)).sent);
    expect(graphReads(waba.id)).toBe(afterFirst);

    // One insights workflow for all of it.
    const runs = await eventually(async () => {
      const found = [];
      for await (const run of h.stack.client.workflow.list({ query: `WorkflowId STARTS_WITH 'mm-insights:${waba.id}:'` })) found.push(run.workflowId);
      return found.length ? found : undefined;
    }, 10_000, 'the insights read in visibility');
    expect(runs).toHaveLength(1);
  });

  test('Graph down: the refusal is remembered, so repeated asks make one read of Meta, not one each', async () => {
    const { waba } = await readyWaba(['spring_sale']);
    const listings = () => world().countCalls({ endpoint: 'message_templates', wabaId: waba.id });
    const before = listings();
    world().injectFault({ endpoint: 'message_templates', wabaId: waba.id, kind: 'server_error', times: Infinity });
    try {
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await insights(waba.id, `?since=${day(i + 3)}&until=${day(i + 1)}`));
      expect(answers.map((a) => a.status)).toEqual(Array(5).fill(502));
      expect(answers.map((a) => a.body.error.code)).toEqual(Array(5).fill('graph_error'));
      for (const a of answers) expect(Number(a.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // One read: its listing tried 3 times (the activity's retries), never again for the four asks after it.
      expect(listings() - before).toBe(3);
    } finally {
      world().clearFaults();
    }
  });

  test("a template name is Meta's (lower case letters, digits, _): `spring_sale,summer_sale` is a 400 naming template, so no ask gets another's answer", async () => {
    const { waba } = await readyWaba();
    const query = `?since=${day(12)}&until=${day(2)}`;
    const names = (res: { body: { templates: Array<{ name: string }> } }) => res.body.templates.map((t) => t.name).sort();
    // One name with a comma in it: never a template of Meta's, and never a cache key shared with the two names.
    const comma = await insights(waba.id, `${query}&template=spring_sale%2Csummer_sale`);
    expect(comma.status).toBe(400);
    expect(comma.body.error.details).toEqual([{ in: 'query', path: 'template', message: 'must be a template name (lower case letters, digits, _)' }]);
    const both = await insights(waba.id, `${query}&template=spring_sale&template=summer_sale`);
    expect(both.status).toBe(200);
    expect(names(both)).toEqual(['spring_sale', 'summer_sale']);
    const inList = await insights(waba.id, `${query}&template=spring_sale&template=summer_sale%2Cx`);
    expect(inList.status).toBe(400);
    expect(inList.body.error.details.map((d: { path: string }) => d.path)).toEqual(['template.1']);
  });

  test('in deprecated mode Insights refuses and template_analytics answers, 10 template ids a call, without conversions', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `promo_${i}`);
    const { waba, templates } = await readyWaba(names);
    world().insights.deprecated = true;
    try {
      const [since, until] = [day(30), day(1)];
      const res = await insights(waba.id, `?since=${since}&until=${until}`);
      expect(res.status).toBe(200);
      expect(res.body.source).toBe('template_analytics');
      expect(res.body.templates).toHaveLength(12);
      for (const template of templates) {
        const row = res.body.templates.find((t: { id: string }) => t.id === template.id);
        const expected = world().insights.total(template.id, since, until);
        expect(row).toMatchObject({ name: template.name, sent: expected.sent, delivered: expected.delivered, read: expected.read, clicks: expected.clicks, spend: expected.spend });
        expect(row).not.toHaveProperty('conversions');
      }
      expect(world().countCalls({ endpoint: 'template_analytics', wabaId: waba.id })).toBe(2);
      expect(world().findCalls({ endpoint: 'ad_insights', wabaId: waba.id }).every((c) => c.status === 400)).toBe(true);
    } finally {
      world().insights.deprecated = false;
    }
  });

  test("the WABA's own signup token is used, with its own ads_read or without, and never reaches a log", async () => {
    const ALL = ['whatsapp_business_management', 'whatsapp_business_messaging', 'ads_read'];
    const withoutAds = await signedUpWaba(ALL.slice(0, 2));
    const withAds = await signedUpWaba(ALL);
    // The partner's token has no ads_read now: Insights that answer were read with the WABA's own token.
    world().systemTokenScopes = ALL.slice(0, 2);
    try {
      const plain = await insights(withoutAds.id, `?since=${day(7)}&until=${day(1)}`);
      expect(plain.status).toBe(200);
      expect(plain.body.source).toBe('template_analytics');
      expect(plain.body.templates[0]).not.toHaveProperty('conversions');
      expect(world().countCalls({ endpoint: 'ad_insights', wabaId: withoutAds.id })).toBe(0);
      expect(world().countCalls({ endpoint: 'template_analytics', wabaId: withoutAds.id })).toBe(1);

      const rich = await insights(withAds.id, `?since=${day(7)}&until=${day(1)}`);
      expect(rich.status).toBe(200);
      expect(rich.body.source).toBe('insights');
      expect(rich.body.templates[0].conversions).toEqual(world().insights.total(rich.body.templates[0].id, day(7), day(1)).conversions);
    } finally {
      world().systemTokenScopes = ALL;
    }
    const tokens = [...world().tokensOf(withoutAds.id), ...world().tokensOf(withAds.id)];
    expect(tokens).toHaveLength(2);
    expect(h.logs.text()).toContain('insights read from Meta');
    for (const token of tokens) expect(h.logs.text()).not.toContain(token);
    // Nor the read's own history: its input carries the token sealed, only the activity opens it.
    const runs = await eventually(async () => {
      const found = [];
      for await (const run of h.stack.client.workflow.list({ query: `WorkflowType = 'insightsDailyPage' AND WorkflowId STARTS_WITH 'mm-insights:${withAds.id}:'` })) found.push(run);
      return found.length ? found : undefined;
    }, 10_000, 'the insights read in visibility');
    const history = await historyAsText(h.stack.client.workflow.getHandle(runs[0].workflowId));
    expect(history).toContain('sealed:v1:');
    for (const token of tokens) expect(history).not.toContain(token);
  });

  test('an onboarding that is not READY answers 409 not_ready; an unknown WABA 404', async () => {
    const waba = world().createWaba({ onboardingStatus: 'ELIGIBLE', autoSign: false });
    await h.http().post('/v1/onboardings').set(h.auth).send({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST }).expect(201);
    await h.stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    const res = await insights(waba.id);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('not_ready');
    expect(res.body.error.message).toContain('AWAITING_TERMS');
    expect(graphReads(waba.id)).toBe(0);
    expect((await insights('999999999999999')).status).toBe(404);
  });

  test('a bad window is a 400 naming the parameter: over 90 days, before the days Meta keeps, in the future, until before since, not a date', async () => {
    const wabaId = '200000000000099';
    const cases: Array<[string, string]> = [
      [`?since=${day(120)}&until=${day(1)}`, 'since'],
      [`?since=${day(91)}`, 'since'],
      [`?since=${day(90)}&until=${day(80)}`, 'since'],
      ['?since=0000-01-01&until=0000-01-01', 'since'],
      [`?until=${day(100)}`, 'until'],
      [`?since=${day(1)}&until=${day(-1)}`, 'until'],
      ['?since=9999-12-31&until=9999-12-31', 'until'],
      [`?since=${day(3)}&until=${day(5)}`, 'until'],
      ['?since=2026-02-30', 'since'],
      ['?until=yesterday', 'until'],
      [`?since=2026-13-01&until=${day(1)}`, 'since'],
      ['?window=7', 'window'],
    ];
    for (const [query, parameter] of cases) {
      const res = await insights(wabaId, query);
      expect({ query, status: res.status, code: res.body.error?.code }).toEqual({ query, status: 400, code: 'invalid_request' });
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual([parameter]);
    }
    const outside = await insights(wabaId, `?since=${day(95)}&until=${day(90)}`);
    expect(outside.body.error.details[0].message).toBe(`Meta keeps template figures for 90 days: the window must start on ${day(89)} or later`);
    // 90 days exactly, up to today, is fine as a window (the WABA is unknown: 404, not 400).
    expect((await insights(wabaId, `?since=${day(89)}&until=${day(0)}`)).status).toBe(404);
  });

  test('/openapi.json documents the route: its query, the answer, 409, 429 and 503 with Retry-After', async () => {
    const doc = (await h.http().get('/openapi.json')).body;
    const get = doc.paths['/v1/onboardings/{wabaId}/insights'].get;
    expect(get.parameters.map((p: { name: string }) => p.name)).toEqual(['wabaId', 'since', 'until', 'template']);
    expect(Object.keys(get.responses)).toEqual(expect.arrayContaining(['200', '400', '404', '409', '429', '502', '503']));
    expect(get.responses['503'].headers).toHaveProperty('Retry-After');
    expect(get.responses['429'].headers).toHaveProperty('Retry-After');
    expect(doc.components.schemas.Insights.properties.source.enum).toEqual(['insights', 'template_analytics']);
  });

  test("Meta's throttling answers 503 graph_throttled with Retry-After", async () => {
    const { waba } = await readyWaba(['spring_sale']);
    world().insights.deprecated = true;
    try {
      // Meta asks the business to wait 3 s.
      world().injectFault({ endpoint: 'template_analytics', wabaId: waba.id, kind: 'throttle', regainAccessMinutes: 0.05 });
      const query = `?since=${day(5)}&until=${day(1)}`;
      const res = await insights(waba.id, query);
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('graph_throttled');
      expect(res.headers['retry-after']).toBe('3');
      // Asked again at once: the Graph pacing holds the business's calls back, nothing reaches Meta.
      const calls = world().countCalls({ endpoint: 'template_analytics', wabaId: waba.id });
      const held = await insights(waba.id, query);
      expect(held.status).toBe(503);
      expect(Number(held.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(world().countCalls({ endpoint: 'template_analytics', wabaId: waba.id })).toBe(calls);
      // Remembered only as long as Meta asked: once it lets go, the next ask reads again.
      await new Promise((r) => setTimeout(r, 3_500));
      const later = await insights(waba.id, query);
      expect(later.status).toBe(200);
      expect(later.body.source).toBe('template_analytics');
    } finally {
      world().insights.deprecated = false;
    }
  });

  test('each API key has its own budget of insights asks: past it, 429 rate_limited with Retry-After, before any other work', async () => {
    const other = { Authorization: `Bearer ${OTHER_KEY}` };
    // Far more than a minute's budget at once (a bad query: it would cost nothing but its 400 anyway).
    const asks = INSIGHTS_ASKS_PER_MINUTE + 40;
    const answers = await Promise.all(Array.from({ length: asks }, () => h.http().get('/v1/onboardings/200000000000099/insights?until=yesterday').set(other)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 400).length).toBeGreaterThanOrEqual(INSIGHTS_ASKS_PER_MINUTE);
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(limited.length + statuses.filter((s) => s === 400).length).toBe(asks);
    expect(limited[0].body.error.code).toBe('rate_limited');
    expect(Number(limited[0].headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited[0].body.error.details.retryAfterSeconds).toBe(Number(limited[0].headers['retry-after']));
    // The other key is untouched.
    expect((await insights('200000000000099', '?until=yesterday')).status).toBe(400);
  });
});
