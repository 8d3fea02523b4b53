/**
 * Embedded Signup end to end through the API, against the Graph sandbox: the one-call signup
 * (update-with-start), the token permission preflight, signup links and the hosted page's routes,
 * and the partner token in /readyz.
 */
import request from 'supertest';
import { WorkflowNotFoundError } from '@temporalio/client';
import { createApp } from '../../../api/app';
import { ALL_SCOPES } from '../../../sandbox';
import { SignupLinkSigner } from '../../../api/signup/link-token';
import { onboardingWorkflowId } from '../../../workflows/types';
import { capturingLogger, startAppHarness, TEST_SECRETS, type AppHarness } from '../../harness/app-harness';
import { historyAsText, recordHistory } from '../../harness/histories';
import { statuses, WEBHOOK_ONLY } from '../../harness/stack';

let h: AppHarness;
const world = () => h.stack.sandbox.world;

beforeAll(async () => {
  h = await startAppHarness({ env: { META_ES_CONFIG_ID: 'test-es-config', PUBLIC_BASE_URL: 'https://onboarding.example.com' } });
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

const signUp = (body: object) => h.http().post('/v1/embedded-signup').set(h.auth).send(body);
const newLink = (body: object = {}) => h.http().post('/v1/signup-links').set(h.auth).send(body);
/** The token part of a link's url. */
const tokenOf = (url: string) => url.split('/signup/')[1];

describe('POST /v1/embedded-signup', () => {
  test('starts the onboarding and exchanges the code in the same call: 201 with the state after the exchange', async () => {
    const waba = world().createWaba({ autoSign: false });
    const code = world().issueSignupCode(waba.id);
    const res = await signUp({ code, wabaId: waba.id, businessId: waba.ownerBusinessId, options: WEBHOOK_ONLY });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ wabaId: waba.id, path: 'embedded_signup', insightsAvailable: true });
    expect(res.body.signupCompletedAt).toEqual(expect.any(String));
    expect(world().waba(waba.id).subscribedApps).toContain(TEST_SECRETS.appId);

    const awaiting = await h.stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    // The code was in before the process reached the signup step: it never waited for one.
    expect(statuses(awaiting)).not.toContain('AWAITING_SIGNUP');
    const handle = h.stack.client.workflow.getHandle(onboardingWorkflowId(waba.id));
    expect(await historyAsText(handle)).not.toContain(code);
    expect(h.logs.text()).not.toContain(code);
    await recordHistory('embedded-signup-update-with-start', handle);
  });

  test('joins an onboarding that is already waiting for the code: 200', async () => {
    const waba = world().createWaba({ autoSign: false });
    const started = await h
      .http()
      .post('/v1/onboardings')
      .set(h.auth)
      .send({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'embedded_signup', options: WEBHOOK_ONLY });
    expect(started.status).toBe(201);
    await h.stack.waitForStatus(waba.id, 'AWAITING_SIGNUP');

    const res = await signUp({ code: world().issueSignupCode(waba.id), wabaId: waba.id, businessId: waba.ownerBusinessId });
    expect(res.status).toBe(200);
    expect(res.body.signupCompletedAt).toEqual(expect.any(String));
    await h.stack.waitForStatus(waba.id, 'AWAITING_TERMS');
  });

  test('a token without a required permission for this WABA parks the onboarding, naming it; a good signup resumes it', async () => {
    const waba = world().createWaba({ autoSign: false });
    const code = world().issueSignupCode(waba.id, { scopes: ['whatsapp_business_management', 'ads_read'] });
    const res = await signUp({ code, wabaId: waba.id, businessId: waba.ownerBusinessId, options: WEBHOOK_ONLY });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('NEEDS_ATTENTION');
    expect(res.body.statusReason).toMatch(/lacks whatsapp_business_messaging/);
    expect(res.body.missingPermissions).toEqual(['whatsapp_business_messaging']);
    expect(res.body.signupCompletedAt).toBeUndefined();
    // The app is not subscribed with a token that cannot do the job.
    expect(world().waba(waba.id).subscribedApps).toEqual([]);

    const again = await signUp({ code: world().issueSignupCode(waba.id), wabaId: waba.id, businessId: waba.ownerBusinessId });
    expect(again.status).toBe(200);
    expect(again.body.signupCompletedAt).toEqual(expect.any(String));
    const resumed = await h.stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    expect(resumed.missingPermissions).toBeUndefined();
    await recordHistory('embedded-signup-missing-permission-then-resumed', h.stack.client.workflow.getHandle(onboardingWorkflowId(waba.id)));
  });

  test('a token whose permissions cover another WABA only creates nothing for this one: 403 naming wabaId', async () => {
    const waba = world().createWaba({ autoSign: false });
    const other = world().createWaba({ autoSign: false });
    const code = world().issueSignupCode(waba.id);
    // Meta's granular scopes name the WABAs a permission covers: this token's cover `waba`, not `other`.
    const res = await signUp({ code, wabaId: other.id, businessId: other.ownerBusinessId, options: WEBHOOK_ONLY });
    expect(res.status).toBe(403);
    expect(res.body.error.details[0]).toMatchObject({ in: 'body', path: 'wabaId' });
    await expect(h.stack.client.workflow.getHandle(onboardingWorkflowId(other.id)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  test('without ads_read the onboarding goes on and says insightsAvailable: false', async () => {
    const waba = world().createWaba({ autoSign: false });
    const code = world().issueSignupCode(waba.id, { scopes: ['whatsapp_business_management', 'whatsapp_business_messaging'] });
    const res = await signUp({ code, wabaId: waba.id, businessId: waba.ownerBusinessId, options: WEBHOOK_ONLY });
    expect(res.status).toBe(201);
    expect(res.body.insightsAvailable).toBe(false);
    const awaiting = await h.stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    expect(awaiting.insightsAvailable).toBe(false);
  });

  test('bad input names the field; an onboarding on another path refuses the code (409)', async () => {
    const bad = await signUp({ code: 'AQ-x', wabaId: 'abc' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['businessId', 'wabaId']);
    expect(JSON.stringify(bad.body)).not.toContain('AQ-x');

    const waba = world().createWaba({ autoSign: false });
    await h.http().post('/v1/onboardings').set(h.auth).send({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
    const conflict = await signUp({ code: world().issueSignupCode(waba.id), wabaId: waba.id, businessId: waba.ownerBusinessId });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.message).toMatch(/manual path/);
  });
});

describe('signup links', () => {
  test('a link is 201 { id, url, expiresAt } on PUBLIC_BASE_URL, 7 days by default and at most 30', async () => {
    const before = Date.now();
    const res = await newLink({ businessId: '1234567890' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(String), url: expect.stringMatching(/^https:\/\/onboarding\.example\.com\/signup\/v1\./), expiresAt: expect.any(String) });
    const days = (Date.parse(res.body.expiresAt) - before) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThan(7.01);

    const tooLong = await newLink({ expiresInSeconds: 31 * 24 * 3600 });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.details[0].path).toBe('expiresInSeconds');
    expect((await h.http().post('/v1/signup-links').send({})).status).toBe(401);
  });

  test('without META_ES_CONFIG_ID (outside sandbox mode) links answer 501', async () => {
    const config = { ...h.stack.config, embeddedSignup: { ...h.stack.config.embeddedSignup, configId: undefined } };
    const app = createApp({ config, client: h.stack.client, log: capturingLogger() });
    const res = await request(app).post('/v1/signup-links').set(h.auth).send({});
    expect(res.status).toBe(501);
    expect(res.body.error.message).toMatch(/META_ES_CONFIG_ID/);
  });

  test("the page launches Meta's popup with the seed's payload and carries no key or secret", async () => {
    const { body } = await newLink({ partnerName: 'Acme <Messaging>' });
    const page = await h.http().get(`/signup/${tokenOf(body.url)}`);
    expect(page.status).toBe(200);
    expect(page.type).toBe('text/html');
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'none'; script-src 'self' https:\/\/connect\.facebook\.net;/);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    for (const secret of [TEST_SECRETS.apiKey, TEST_SECRETS.appSecret, TEST_SECRETS.accessToken]) expect(page.text).not.toContain(secret);
    expect(page.text).toContain('Acme &lt;Messaging&gt;');
    expect(page.text).not.toContain('<Messaging>');
    const config = JSON.parse(/<script type="application\/json" id="signup-config">(.*?)<\/script>/s.exec(page.text)![1]);
    expect(config.login).toEqual({
      config_id: 'test-es-config',
      response_type: 'code',
      override_default_response_type: true,
      extras: {
        featureType: 'whatsapp_business_app_onboarding',
        sessionInfoVersion: '3',
        features: [{ name: 'marketing_messages_lite' }],
        version: 'v3',
      },
    });
    expect(config.appId).toBe(TEST_SECRETS.appId);
    const script = await h.http().get('/signup-assets/signup.js');
    expect(script.status).toBe(200);
    expect(script.text).toContain('WA_EMBEDDED_SIGNUP');
  });

  test('an empty META_ES_FEATURE_TYPE leaves featureType out of the payload', async () => {
    const config = { ...h.stack.config, embeddedSignup: { ...h.stack.config.embeddedSignup, featureType: undefined } };
    const app = createApp({ config, client: h.stack.client, log: capturingLogger() });
    const { body } = await newLink();
    const page = await request(app).get(`/signup/${tokenOf(body.url)}`);
    const config2 = JSON.parse(/id="signup-config">(.*?)<\/script>/s.exec(page.text)![1]);
    expect(config2.login.extras).toEqual({ sessionInfoVersion: '3', features: [{ name: 'marketing_messages_lite' }], version: 'v3' });
  });

  test('completing through the link onboards the WABA and uses the link up, for every API process', async () => {
    const waba = world().createWaba({ autoSign: false });
    const { body: link } = await newLink({ options: WEBHOOK_ONLY });
    const token = tokenOf(link.url);
    const complete = (code: string) =>
      h.http().post(`/signup/${token}/complete`).send({ code, wabaId: waba.id, businessId: waba.ownerBusinessId, phoneNumberId: waba.phoneNumbers[0].id });

    const done = await complete(world().issueSignupCode(waba.id));
    expect(done.status).toBe(201);
    expect(done.body).toEqual({ wabaId: waba.id, status: expect.any(String), signupComplete: true });
    await h.stack.waitForStatus(waba.id, 'AWAITING_TERMS');

    // Another API process (same secret, same Temporal) knows the link and that it is used.
    const other = createApp({ config: h.stack.config, client: h.stack.client, log: capturingLogger() });
    const page = await request(other).get(`/signup/${token}`);
    expect(page.status).toBe(410);
    expect(page.text).toContain('already been used');
    expect(page.text).not.toMatch(/at .*\.ts:\d+/);
    const reuse = await request(other).post(`/signup/${token}/complete`).send({ code: 'AQ-again', wabaId: waba.id, businessId: waba.ownerBusinessId });
    expect(reuse.status).toBe(410);
    expect(reuse.body.error.code).toBe('gone');
  });

  test("a failed exchange leaves the link usable; a signup the link does not name a business for takes Meta's owner, not the popup's", async () => {
    const waba = world().createWaba({ autoSign: false });
    const { body: link } = await newLink({ options: WEBHOOK_ONLY });
    const token = tokenOf(link.url);
    const rejected = await h.http().post(`/signup/${token}/complete`).send({ code: 'AQ-not-issued', wabaId: waba.id, businessId: waba.ownerBusinessId });
    expect(rejected.status).toBe(400);
    expect(rejected.body.error.details[0].path).toBe('code');
    expect((await h.http().get(`/signup/${token}`)).status).toBe(200);

    const ok = await h.http().post(`/signup/${token}/complete`).send({ code: world().issueSignupCode(waba.id), wabaId: waba.id, businessId: '999000999000' });
    expect(ok.status).toBe(201);
    expect(ok.body.signupComplete).toBe(true);
    expect((await h.stack.state(waba.id)).businessId).toBe(waba.ownerBusinessId);
  });

  test('unknown, tampered and expired links get a plain page (404 / 410), never a stack trace', async () => {
    const unknown = await h.http().get('/signup/not-a-link');
    expect(unknown.status).toBe(404);
    expect(unknown.type).toBe('text/html');
    expect(unknown.text).toContain('This link does not work');

    const { body } = await newLink({ businessId: '111' });
    const [v, payload, signature] = tokenOf(body.url).split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), businessId: '222' })).toString('base64url');
    expect((await h.http().get(`/signup/${v}.${forged}.${signature}`)).status).toBe(404);

    const expired = new SignupLinkSigner(TEST_SECRETS.appSecret).issue({ exp: Math.floor(Date.now() / 1000) - 1, partnerName: 'Acme' });
    const page = await h.http().get(`/signup/${expired.token}`);
    expect(page.status).toBe(410);
    expect(page.text).toContain('This link has expired');
    expect(page.text).toContain('Ask Acme for a new signup link');
    const complete = await h.http().post(`/signup/${expired.token}/complete`).send({ code: 'AQ-x', wabaId: '1', businessId: '2' });
    expect(complete.status).toBe(410);
  });
});

describe('the partner token', () => {
  test('/readyz answers 503 naming a permission META_ACCESS_TOKEN lacks, and 200 once it has it', async () => {
    world().systemTokenScopes = ['whatsapp_business_management'];
    const app = createApp({ config: h.stack.config, client: h.stack.client, log: capturingLogger() });
    const missing = await request(app).get('/readyz');
    expect(missing.status).toBe(503);
    expect(missing.body.error).toEqual({ code: 'missing_permission', message: expect.stringContaining('whatsapp_business_messaging') });

    world().systemTokenScopes = ['whatsapp_business_management', 'whatsapp_business_messaging'];
    const fresh = createApp({ config: h.stack.config, client: h.stack.client, log: capturingLogger() });
    const ready = await request(fresh).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', metaToken: 'ok', insightsAvailable: false });
    world().systemTokenScopes = [...ALL_SCOPES];
  });
});
