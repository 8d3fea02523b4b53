import type { temporal } from '@temporalio/proto';
import { eventually, startAppHarness, type AppHarness } from '../../harness/app-harness';

/**
 * The insights read of a WABA with thousands of templates: read in pages, so no Temporal payload
 * (a page's result, its input, an activity's result) grows with the WABA. Temporal warns at 512 KB
 * and refuses at 2 MB; a page stays within PAYLOAD_BOUND, and the answer is the same as Meta's figures
 * for templates far past the first page.
 */

/** The largest payload any run of the read may write to its history (a quarter of Temporal's warning). */
const PAYLOAD_BOUND = 128 * 1024;
/**
 * Enough templates for many pages: every day of each has figures (and conversions), the densest read.
 * INSIGHTS_BOUND_TEMPLATES=10000 reads a book of the largest size (minutes; docs/benchmarks.md).
 */
const TEMPLATES = Number(process.env.INSIGHTS_BOUND_TEMPLATES ?? 2_000);

let h: AppHarness;
beforeAll(async () => {
  h = await startAppHarness({ sandbox: { templateSyncMs: 200 } });
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

const world = () => h.stack.sandbox.world;
const DAY_MS = 86_400_000;
const day = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY_MS).toISOString().slice(0, 10);

/** Bytes of every Payloads in an event (input, result, an activity's input or result), the largest. */
function largestPayload(event: temporal.api.history.v1.IHistoryEvent): number {
  let largest = 0;
  const walk = (value: unknown): void => {
    if (!value || typeof value !== 'object' || value instanceof Uint8Array) return;
    const payloads = (value as { payloads?: unknown }).payloads;
    if (Array.isArray(payloads)) {
      const bytes = payloads.reduce<number>((n, p: temporal.api.common.v1.IPayload) => {
        const metadata = Object.entries(p.metadata ?? {}).reduce((m, [k, v]) => m + k.length + (v?.length ?? 0), 0);
        return n + (p.data?.length ?? 0) + metadata;
      }, 0);
      largest = Math.max(largest, bytes);
    }
    for (const child of Object.values(value)) walk(child);
  };
  walk(event);
  return largest;
}

/**
 * A READY onboarding whose WABA then gets `count` marketing templates in the Graph fake: the insights
 * read lists them from Meta, as it would a real template book (the onboarding's own listing at READY,
 * answered first, saw one).
 */
async function readyWabaWith(count: number) {
  const waba = world().createWaba({ onboardingStatus: 'ONBOARDED' });
  await world().messaging.createTemplate(waba.id, { name: 'promo_0', notify: false });
  await h.http().post('/v1/onboardings').set(h.auth).send({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: { templateSyncGraceSeconds: 1, statusPollIntervalSeconds: 3600 } }).expect(201);
  await h.stack.waitForStatus(waba.id, 'READY', 60_000);
  await eventually(async () => world().findCalls({ endpoint: 'message_templates', wabaId: waba.id }).find((c) => c.status === 200), 30_000, "the onboarding's listing at READY");
  for (let i = 1; i < count; i++) await world().messaging.createTemplate(waba.id, { name: `promo_${i}`, notify: false });
  return { waba, templates: world().waba(waba.id).templates };
}

test(`a WABA with ${TEMPLATES} templates is read in pages: every payload under ${PAYLOAD_BOUND / 1024} KB, one Graph call per ad and listing page, the answer right past the first page`, async () => {
  const { waba, templates } = await readyWabaWith(TEMPLATES);
  const listingsBefore = world().countCalls({ endpoint: 'message_templates', wabaId: waba.id });

  const [since, until] = [day(89), day(0)];
  const started = Date.now();
  const res = await h.http().get(`/v1/onboardings/${waba.id}/insights?since=${since}&until=${until}`).set(h.auth);
  const readMs = Date.now() - started;
  expect(res.status).toBe(200);
  expect(res.body.source).toBe('insights');
  expect(res.body.templates).toHaveLength(TEMPLATES);
  expect(res.body.templates.map((t: { id: string }) => t.id)).toEqual(templates.map((t) => t.id));
  // The last template and one in the middle: read on pages far past the first, summed right.
  for (const template of [templates[TEMPLATES - 1], templates[Math.floor(TEMPLATES / 2) + 7]]) {
    const row = res.body.templates.find((t: { id: string }) => t.id === template.id);
    const expected = world().insights.total(template.id, since, until);
    expect(row).toMatchObject({
      name: template.name,
      sent: expected.sent,
      delivered: expected.delivered,
      read: expected.read,
      clicks: expected.clicks,
      spend: expected.spend,
      conversions: expected.conversions,
      purchaseValue: expected.purchaseValue,
    });
    expect(row.sent).toBeGreaterThan(0);
    // A window within the read: answered from the same days, no second read.
    const week = await h.http().get(`/v1/onboardings/${waba.id}/insights?since=${day(9)}&until=${day(3)}&template=${template.name}`).set(h.auth);
    expect(week.body.templates).toEqual([expect.objectContaining({ id: template.id, sent: world().insights.total(template.id, day(9), day(3)).sent })]);
  }

  // Graph calls: one listing call per 100 templates, one Insights call per ad, nothing read twice.
  expect(world().countCalls({ endpoint: 'message_templates', wabaId: waba.id }) - listingsBefore).toBe(Math.ceil(TEMPLATES / 100));
  expect(world().countCalls({ endpoint: 'ad_insights', wabaId: waba.id })).toBe(TEMPLATES);

  // Every run of the read, every event: its largest payload.
  const runs = await eventually(async () => {
    const found: string[] = [];
    for await (const run of h.stack.client.workflow.list({ query: `WorkflowId STARTS_WITH 'mm-insights:${waba.id}:' AND ExecutionStatus = 'Completed'` })) found.push(run.workflowId);
    // Each listing page of 100 is several pages of the read: more runs than listing pages.
    return found.length > Math.ceil(TEMPLATES / 100) ? found : undefined;
  }, 20_000, 'the read\'s pages in visibility');
  let largest = 0;
  for (const workflowId of runs) {
    const history = await h.stack.client.workflow.getHandle(workflowId).fetchHistory();
    for (const event of history.events ?? []) largest = Math.max(largest, largestPayload(event));
  }
  // The measure is real: a page holds tens of templates' 90 days (each about 3.7 kB here).
  expect(largest).toBeGreaterThan(30 * 1024);
  console.log(`insights read of ${TEMPLATES} templates: ${runs.length} pages in ${readMs} ms, largest payload ${largest} bytes`);
  expect(largest).toBeLessThan(PAYLOAD_BOUND);
}, 150 * TEMPLATES);

test('Insights refusing part way (a later page): the whole answer comes from template_analytics, one source for every template', async () => {
  const { waba, templates } = await readyWabaWith(150);
  // Meta stops answering Insights once the read lists its second page of templates (pages after the first).
  const messaging = world().messaging;
  const listTemplates = messaging.listTemplates.bind(messaging);
  let listings = 0;
  messaging.listTemplates = (wabaId, filter) => {
    if (wabaId === waba.id && ++listings === 2) world().insights.deprecated = true;
    return listTemplates(wabaId, filter);
  };
  try {
    const [since, until] = [day(30), day(1)];
    const res = await h.http().get(`/v1/onboardings/${waba.id}/insights?since=${since}&until=${until}`).set(h.auth);
    expect(res.status).toBe(200);
    expect(res.body.source).toBe('template_analytics');
    expect(res.body.templates).toHaveLength(150);
    for (const template of [templates[0], templates[149]]) {
      const row = res.body.templates.find((t: { id: string }) => t.id === template.id);
      expect(row).toMatchObject({ sent: world().insights.total(template.id, since, until).sent });
      expect(row).not.toHaveProperty('conversions');
    }
    // Insights answered the first listing page's templates before refusing: some ads were read, then refused.
    const adReads = world().findCalls({ endpoint: 'ad_insights', wabaId: waba.id });
    expect(adReads.filter((c) => c.status === 200).length).toBeGreaterThanOrEqual(100);
    expect(adReads.some((c) => c.status === 400)).toBe(true);
    // The log says why Insights did not answer, as for a refusal on the first page.
    const logged = h.logs.lines.find((l) => l.message === 'insights read from Meta' && l.meta?.wabaId === waba.id);
    expect(logged?.meta?.insightsRefusal).toEqual(expect.stringContaining('Conversion metrics'));
    // Every template again from template_analytics (10 a call), plus the refused page's own fallback.
    expect(world().countCalls({ endpoint: 'template_analytics', wabaId: waba.id })).toBeGreaterThanOrEqual(15);
  } finally {
    messaging.listTemplates = listTemplates;
    world().insights.deprecated = false;
  }
}, 180_000);
