import { Agent, request } from 'undici';
import { createSandbox, type Sandbox } from '../../sandbox';

/** The sandbox over HTTP: Meta-faithful Graph answers, and the `/_sandbox` control routes. */

const TOKEN = 'control-test-system-token';
let sandbox: Sandbox;
let url: string;
const agent = new Agent();

beforeAll(async () => {
  sandbox = createSandbox({ appId: 'app', appSecret: 'app-secret', accessToken: TOKEN, codeTtlMs: 5_000 });
  ({ url } = await sandbox.listen(0));
});

afterAll(async () => {
  await sandbox.close();
  await agent.close();
});

beforeEach(() => sandbox.world.reset());

async function call(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await request(`${url}${path}`, {
    method,
    dispatcher: agent,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: text ? (JSON.parse(text) as any) : undefined };
}

const graph = (path: string, token: string | null = TOKEN) =>
  call('GET', path, undefined, token === null ? {} : { authorization: `Bearer ${token}` });

describe('Graph answers like Meta', () => {
  test('a wrong token is OAuthException 190 on HTTP 400, in the error envelope', async () => {
    const waba = sandbox.world.createWaba();
    const res = await graph(`/v24.0/${waba.id}`, 'not-the-token');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: { message: expect.stringMatching(/Invalid OAuth access token/), type: 'OAuthException', code: 190, fbtrace_id: expect.stringMatching(/^[\w-]{11}$/) },
    });
    expect(res.headers['www-authenticate']).toMatch(/invalid_token/);
  });

  test('no token at all is code 104; the access_token query parameter works too', async () => {
    const waba = sandbox.world.createWaba();
    expect((await graph(`/v24.0/${waba.id}`, null)).body.error.code).toBe(104);
    expect((await graph(`/v24.0/${waba.id}?access_token=${TOKEN}`, null)).status).toBe(200);
  });

  test('an unknown object is code 100 subcode 33', async () => {
    const res = await graph('/v24.0/123456789012345/phone_numbers');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 100, error_subcode: 33, type: 'GraphMethodException' });
    expect(res.body.error.message).toMatch(/^Unsupported get request\. Object with ID '123456789012345' does not exist/);
  });

  test('a field the node does not have is code 100', async () => {
    const waba = sandbox.world.createWaba();
    const res = await graph(`/v24.0/${waba.id}?fields=id,favourite_colour`);
    expect(res.body.error).toMatchObject({ code: 100, message: '(#100) Tried accessing nonexisting field (favourite_colour) on node type (WhatsAppBusinessAccount)' });
  });

  test('any vN.N version is served; anything else is not', async () => {
    const waba = sandbox.world.createWaba();
    expect((await graph(`/v19.0/${waba.id}`)).status).toBe(200);
    expect((await graph(`/v25.0/${waba.id}`)).status).toBe(200);
    const unversioned = await graph(`/latest/${waba.id}`);
    expect(unversioned.status).toBe(400);
    expect(unversioned.body.error).toMatchObject({ code: 2500, message: expect.stringMatching(/^Unknown path components/) });
  });

  test('answers carry X-Business-Use-Case-Usage for the owning business', async () => {
    const waba = sandbox.world.createWaba();
    const res = await graph(`/v24.0/${waba.id}?fields=marketing_messages_onboarding_status`);
    expect(res.body).toEqual({ id: waba.id, marketing_messages_onboarding_status: 'ELIGIBLE' });
    const usage = JSON.parse(String(res.headers['x-business-use-case-usage']));
    expect(usage[waba.ownerBusinessId][0]).toMatchObject({ call_count: expect.any(Number), estimated_time_to_regain_access: 0 });
  });

  test('pages carry cursors, and next only while there is more', async () => {
    const waba = sandbox.world.createWaba({ phoneNumbers: 3 });
    const first = await graph(`/v24.0/${waba.id}/phone_numbers?limit=2`);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.paging).toEqual({ cursors: { before: expect.any(String), after: expect.any(String) }, next: expect.stringContaining('after=') });
    expect(first.body.paging.next).not.toContain(TOKEN);
    const second = await graph(`/v24.0/${waba.id}/phone_numbers?limit=2&after=${encodeURIComponent(first.body.paging.cursors.after)}`);
    expect(second.body.data).toHaveLength(1);
    expect(second.body.paging.next).toBeUndefined();
    expect(second.body.paging.previous).toBeDefined();
  });

  test('the portfolio\'s status is an object', async () => {
    const business = sandbox.world.createBusiness();
    const res = await graph(`/v24.0/${business.id}?fields=marketing_messages_onboarding_status`);
    expect(res.body).toEqual({ id: business.id, marketing_messages_onboarding_status: { status: 'NOT_STARTED' } });
  });

  test('a bad filter is code 100', async () => {
    const business = sandbox.world.createBusiness();
    const filtering = encodeURIComponent('[{"field":"name","operator":"IN","value":["x"]}]');
    const res = await graph(`/v24.0/${business.id}/client_whatsapp_business_accounts?filtering=${filtering}`);
    expect(res.body.error).toMatchObject({ code: 100 });
  });
});

describe('control routes', () => {
  test('build a world, onboard through Graph, and read the call log', async () => {
    const business = await call('POST', '/_sandbox/businesses', { name: 'Acme', repeatAnswer: 'already_sent' });
    expect(business.status).toBe(201);
    const waba = await call('POST', '/_sandbox/wabas', {
      ownerBusinessId: business.body.id,
      partnerBusinessId: '999000999000999',
      onboardingStatus: 'PENDING_INTERNAL_SETUP',
      phoneNumbers: [{ platformType: 'ON_PREMISE' }, { platformType: 'CLOUD_API' }],
    });
    expect(waba.status).toBe(201);
    expect(waba.body.id).toMatch(/^\d{15}$/);
    expect(waba.body.phoneNumbers.map((n: { platformType: string }) => n.platformType)).toEqual(['ON_PREMISE', 'CLOUD_API']);

    expect((await call('POST', `/_sandbox/wabas/${waba.body.id}/status`, { status: 'ELIGIBLE' })).body.onboardingStatus).toBe('ELIGIBLE');

    const code = await call('POST', `/_sandbox/wabas/${waba.body.id}/signup-codes`);
    expect(code.status).toBe(201);
    const exchange = await call('GET', `/v24.0/oauth/access_token?client_id=app&client_secret=app-secret&code=${encodeURIComponent(code.body.code)}`);
    expect(exchange.body).toEqual({ access_token: expect.any(String), token_type: 'bearer' });

    await call('POST', `/v24.0/${business.body.id}/onboard_partners_to_mm_lite`, { solution_id: '1' }, { authorization: `Bearer ${TOKEN}` });
    const repeat = await call('POST', `/v24.0/${business.body.id}/onboard_partners_to_mm_lite`, {}, { authorization: `Bearer ${TOKEN}` });
    expect(repeat.body.error.message).toMatch(/already/i);

    const calls = await call('GET', `/_sandbox/calls?endpoint=intent&businessId=${business.body.id}`);
    expect(calls.body.count).toBe(2);
    expect(calls.body.calls.map((c: { status: number }) => c.status)).toEqual([200, 400]);

    const signed = await call('POST', `/_sandbox/wabas/${waba.body.id}/sign-terms`, { legacy: true });
    expect(signed.body.deliveries.map((d: { events: string[] }) => d.events)).toEqual([['MM_LITE_TERMS_SIGNED'], ['AD_ACCOUNT_LINKED']]);
    expect((await call('GET', '/_sandbox/deliveries')).body.deliveries).toHaveLength(2);
  });

  test('faults over HTTP, "Infinity" included, until cleared', async () => {
    const waba = sandbox.world.createWaba();
    const fault = await call('POST', '/_sandbox/faults', { endpoint: 'waba_status', wabaId: waba.id, kind: 'throttle', regainAccessMinutes: 2, times: 'Infinity' });
    expect(fault.status).toBe(201);
    expect(fault.body).toMatchObject({ kind: 'throttle', remaining: 'Infinity' });
    for (let i = 0; i < 3; i++) {
      const res = await graph(`/v24.0/${waba.id}`);
      expect(res.body.error.code).toBe(80008);
      expect(JSON.parse(String(res.headers['x-business-use-case-usage']))[waba.ownerBusinessId][0].estimated_time_to_regain_access).toBe(2);
    }
    expect((await call('DELETE', '/_sandbox/faults')).status).toBe(204);
    expect((await graph(`/v24.0/${waba.id}`)).status).toBe(200);
  });

  test('a bad body is a 400 naming every bad field', async () => {
    const res = await call('POST', '/_sandbox/wabas', { onboardingStatus: 5, phoneNumbers: 'many', colour: 'red' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['colour', 'onboardingStatus', 'phoneNumbers']);
    expect(res.body.error.message).toMatch(/onboardingStatus/);

    const fault = await call('POST', '/_sandbox/faults', { kind: 'earthquake', endpoint: 'nowhere' });
    expect(fault.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['endpoint', 'kind']);
  });

  test('unknown WABAs are 404, taken ids 409', async () => {
    expect((await call('POST', '/_sandbox/wabas/123/sign-terms', {})).status).toBe(404);
    const waba = sandbox.world.createWaba();
    expect((await call('POST', '/_sandbox/wabas', { id: waba.id })).status).toBe(409);
  });

  test('account events and reset', async () => {
    const waba = sandbox.world.createWaba();
    const res = await call('POST', `/_sandbox/wabas/${waba.id}/events`, { event: 'ACCOUNT_VIOLATION', extra: { violation_info: { violation_type: 'ADULT' } } });
    expect(res.body.delivery).toMatchObject({ events: ['ACCOUNT_VIOLATION'], state: 'skipped' });
    expect(JSON.parse(res.body.delivery.body).entry[0].changes[0].value.violation_info).toEqual({ violation_type: 'ADULT' });
    expect((await call('POST', '/_sandbox/reset')).status).toBe(204);
    expect((await call('GET', '/_sandbox/world')).body).toMatchObject({ businesses: [], wabas: [], faults: [] });
  });

  test('the demo world has the statuses the start script names', async () => {
    const demo = await call('POST', '/_sandbox/seed-demo');
    expect(demo.status).toBe(201);
    expect(sandbox.world.waba(demo.body.wabaIds.acmeEligible).onboardingStatus).toBe('ELIGIBLE');
    expect(sandbox.world.waba(demo.body.wabaIds.acmeEligible).ownerBusinessId).toBe(demo.body.businessIds[0]);
    const clients = await graph(`/v24.0/${demo.body.partnerBusinessId}/client_whatsapp_business_accounts?fields=id,marketing_messages_onboarding_status`);
    expect(clients.body.data).toHaveLength(Object.keys(demo.body.wabaIds).length);
  });

  test('the demo ids are the same every time, and seeding twice is a conflict', async () => {
    expect((await call('POST', '/_sandbox/reset')).status).toBe(204);
    const first = await call('POST', '/_sandbox/seed-demo');
    expect((await call('POST', '/_sandbox/seed-demo')).status).toBe(409);
    expect((await call('POST', '/_sandbox/reset')).status).toBe(204);
    const again = await call('POST', '/_sandbox/seed-demo');
    expect(again.body).toEqual(first.body);
  });
});
