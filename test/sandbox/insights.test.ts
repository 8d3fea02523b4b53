import { Agent, request } from 'undici';
import { createSandbox, type Sandbox } from '../../sandbox';

/** The sandbox's MM API performance surfaces over HTTP: Insights on a template's ad, template_analytics, the deprecated mode. */

const TOKEN = 'insights-test-system-token';
let sandbox: Sandbox;
let url: string;
const agent = new Agent();

beforeAll(async () => {
  sandbox = createSandbox({ appId: 'app', appSecret: 'app-secret', accessToken: TOKEN });
  ({ url } = await sandbox.listen(0));
});
afterAll(async () => {
  await sandbox.close();
  await agent.close();
});
beforeEach(() => sandbox.world.reset());

async function call(method: 'GET' | 'PUT', path: string, body?: unknown) {
  const res = await request(`${url}${path}`, {
    method,
    dispatcher: agent,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text ? (JSON.parse(text) as any) : undefined };
}

async function onboardedWaba(templates: number) {
  const waba = sandbox.world.createWaba({ onboardingStatus: 'ONBOARDED' });
  for (let i = 0; i < templates; i++) await sandbox.world.messaging.createTemplate(waba.id, { name: `promo_${i}`, notify: false });
  return waba;
}

const FIELDS = 'marketing_messages_sent,marketing_messages_delivered,marketing_messages_website_purchase';
const range = encodeURIComponent(JSON.stringify({ since: '2026-10-01', until: '2026-10-31' }));

test("an onboarded WABA's templates carry their ad, whose Insights are Meta's field names with figures as strings", async () => {
  const waba = await onboardedWaba(1);
  const listed = await call('GET', `/v24.0/${waba.id}/message_templates?fields=name,language,category,ad_id,ad_account_id`);
  const [template] = listed.body.data;
  expect(template).toMatchObject({ name: 'promo_0', ad_id: expect.stringMatching(/^\d+$/), ad_account_id: `act_${waba.id}` });
  const pending = sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE' });
  await sandbox.world.messaging.createTemplate(pending.id, { name: 'early', notify: false });
  expect((await call('GET', `/v24.0/${pending.id}/message_templates?fields=name,ad_id`)).body.data[0]).not.toHaveProperty('ad_id');

  const res = await call('GET', `/v24.0/${template.ad_id}/insights?fields=${FIELDS}&time_range=${range}`);
  expect(res.status).toBe(200);
  const total = sandbox.world.insights.total(template.id, '2026-10-01', '2026-10-31');
  expect(res.body.data).toEqual([
    {
      marketing_messages_sent: String(total.sent),
      marketing_messages_delivered: String(total.delivered),
      marketing_messages_website_purchase: String(total.conversions.website_purchase),
      date_start: '2026-10-01',
      date_stop: '2026-10-31',
    },
  ]);
});

test('with time_increment=1 Insights answer a row per day, paged by limit and after', async () => {
  const waba = await onboardedWaba(1);
  const template = sandbox.world.waba(waba.id).templates[0];
  const adId = sandbox.world.insights.adIdOf(sandbox.world.waba(waba.id), template)!;
  const first = await call('GET', `/v24.0/${adId}/insights?fields=${FIELDS}&time_range=${range}&time_increment=1&limit=20`);
  expect(first.status).toBe(200);
  expect(first.body.data).toHaveLength(20);
  expect(first.body.data[0]).toEqual({
    marketing_messages_sent: String(sandbox.world.insights.daily(template.id, '2026-10-01').sent),
    marketing_messages_delivered: String(sandbox.world.insights.daily(template.id, '2026-10-01').delivered),
    marketing_messages_website_purchase: String(sandbox.world.insights.daily(template.id, '2026-10-01').conversions.website_purchase),
    date_start: '2026-10-01',
    date_stop: '2026-10-01',
  });
  const rest = await call('GET', `/v24.0/${adId}/insights?fields=${FIELDS}&time_range=${range}&time_increment=1&limit=20&after=${first.body.paging.cursors.after}`);
  expect(rest.body.data.map((r: { date_start: string }) => r.date_start)).toEqual(Array.from({ length: 11 }, (_, i) => `2026-10-${String(21 + i)}`));
  expect(rest.body.paging.next).toBeUndefined();
  expect((await call('GET', `/v24.0/${adId}/insights?fields=${FIELDS}&time_range=${range}&time_increment=7`)).body.error.code).toBe(100);
});

test('Insights need ads_read (code 200), and deprecated mode refuses them (code 12) until turned off', async () => {
  const waba = await onboardedWaba(1);
  const adId = sandbox.world.insights.adIdOf(sandbox.world.waba(waba.id), sandbox.world.waba(waba.id).templates[0])!;
  const ask = () => call('GET', `/v24.0/${adId}/insights?fields=${FIELDS}&time_range=${range}`);
  sandbox.world.systemTokenScopes = ['whatsapp_business_management', 'whatsapp_business_messaging'];
  expect((await ask()).body.error.code).toBe(200);
  sandbox.world.systemTokenScopes = ['whatsapp_business_management', 'whatsapp_business_messaging', 'ads_read'];

  expect((await call('PUT', '/_sandbox/insights', { deprecated: 'yes' })).status).toBe(400);
  expect((await call('PUT', '/_sandbox/insights', { deprecated: true })).body).toEqual({ deprecated: true });
  const refused = await ask();
  expect(refused.status).toBe(400);
  expect(refused.body.error.code).toBe(12);
  await call('PUT', '/_sandbox/insights', { deprecated: false });
  expect((await ask()).status).toBe(200);
});

test('template_analytics answers daily points for at most 10 template ids of MM API sends', async () => {
  const waba = await onboardedWaba(11);
  const ids = sandbox.world.waba(waba.id).templates.map((t) => t.id);
  const start = Date.parse('2026-10-01T00:00:00Z') / 1000;
  const end = start + 3 * 86_400;
  const ask = (templateIds: string[], productType = 'marketing_messages_lite_api') =>
    call(
      'GET',
      `/v24.0/${waba.id}/template_analytics?start=${start}&end=${end}&granularity=DAILY&product_type=${productType}` +
        `&metric_types=SENT,DELIVERED,READ,CLICKED,COST&template_ids=${encodeURIComponent(JSON.stringify(templateIds))}`,
    );
  const res = await ask(ids.slice(0, 2));
  expect(res.status).toBe(200);
  const points = res.body.data[0].data_points;
  expect(points).toHaveLength(6); // 2 templates × 3 days
  expect(points[0]).toMatchObject({ template_id: ids[0], start, sent: sandbox.world.insights.daily(ids[0], '2026-10-01').sent });
  expect((await ask(ids)).body.error.code).toBe(100);
  expect((await ask(ids.slice(0, 1), 'cloud_api')).body.error.code).toBe(100);
});
