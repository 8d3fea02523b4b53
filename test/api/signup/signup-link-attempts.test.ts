/**
 * A signup link's attempts, as an attacker holding the link would make them: one link connects one
 * WABA however many completions race, a bogus code or a stranger's WABA id starts nothing and counts
 * toward the link's lock, and a WABA's business is the one Meta names as its owner. And as an outage
 * would make them: attempts Meta failed never lock the link, however many.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { onboardingWorkflowId } from '../../../workflows/types';
import { ATTEMPTS_PER_RUN, getSignupLinkQuery, MAX_FAILED_SIGNUP_ATTEMPTS, signupLinkWorkflowId } from '../../../workflows/signup-link';
import { startAppHarness, type AppHarness } from '../../harness/app-harness';
import { PAGE_STATE_KEEP_MS } from '../../../api/signup/signup-link-client';
import { WEBHOOK_ONLY } from '../../harness/stack';

let h: AppHarness;
const world = () => h.stack.sandbox.world;

beforeAll(async () => {
  h = await startAppHarness({ env: { META_ES_CONFIG_ID: 'test-es-config', PUBLIC_BASE_URL: 'https://onboarding.example.com' } });
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

// A test that fails part-way leaves no fault behind for the next.
afterEach(() => world().clearFaults());

/** A fresh link's token. */
async function newLinkToken(body: object = {}): Promise<string> {
  const res = await h.http().post('/v1/signup-links').set(h.auth).send({ options: WEBHOOK_ONLY, ...body });
  expect(res.status).toBe(201);
  return (res.body.url as string).split('/signup/')[1];
}
const complete = (token: string, body: object) => h.http().post(`/signup/${token}/complete`).send(body);
const onboardingExists = (wabaId: string) =>
  h.stack.client.workflow
    .getHandle(onboardingWorkflowId(wabaId))
    .describe()
    .then(
      () => true,
      (err: unknown) => {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      },
    );

test('two completions racing through one link connect one WABA: the other is refused (409 or 410)', async () => {
  const token = await newLinkToken();
  const [a, b] = [1, 2].map(() => world().createWaba({ autoSign: false }));
  const answers = await Promise.all([a, b].map((w) => complete(token, { code: world().issueSignupCode(w.id), wabaId: w.id, businessId: w.ownerBusinessId })));

  const statuses = answers.map((r) => r.status).sort();
  expect(statuses[0]).toBe(201);
  expect([409, 410]).toContain(statuses[1]);
  const refused = answers.find((r) => r.status !== 201)!;
  expect(refused.body.error.code).toMatch(/^(conflict|gone)$/);
  expect((await Promise.all([a, b].map((w) => onboardingExists(w.id)))).filter(Boolean)).toHaveLength(1);

  // And afterwards the link is used up for everyone.
  const late = world().createWaba({ autoSign: false });
  expect((await complete(token, { code: world().issueSignupCode(late.id), wabaId: late.id })).status).toBe(410);
  expect((await h.http().get(`/signup/${token}`)).status).toBe(410);
});

test('a bogus code starts nothing: 400 naming code, no workflow, no call past the exchange; failed attempts lock the link', async () => {
  const token = await newLinkToken();
  const wabaIds = Array.from({ length: MAX_FAILED_SIGNUP_ATTEMPTS }, (_, i) => `7700${Date.now()}${i}`);
  for (const [i, wabaId] of wabaIds.entries()) {
    const res = await complete(token, { code: `bogus-${i}`, wabaId, businessId: '100000000000999' });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ in: 'body', path: 'code' })]);
    expect(JSON.stringify(res.body)).not.toContain(`bogus-${i}`);
  }
  for (const wabaId of wabaIds) {
    expect(await onboardingExists(wabaId)).toBe(false);
    expect(world().findCalls({ wabaId })).toEqual([]);
  }

  // Locked: even a good code no longer goes through this link.
  const waba = world().createWaba({ autoSign: false });
  const locked = await complete(token, { code: world().issueSignupCode(waba.id), wabaId: waba.id });
  expect(locked.status).toBe(410);
  expect(locked.body.error.message).toMatch(new RegExp(`locked after ${MAX_FAILED_SIGNUP_ATTEMPTS} refused signups`));
  expect(await onboardingExists(waba.id)).toBe(false);
  expect((await h.http().get(`/signup/${token}`)).status).toBe(410);
});

test("a code for WABA A posted with a victim's WABA id B creates nothing for B (403 naming wabaId)", async () => {
  const token = await newLinkToken();
  const mine = world().createWaba({ autoSign: false });
  const victim = world().createWaba({ autoSign: false });
  const res = await complete(token, { code: world().issueSignupCode(mine.id), wabaId: victim.id, businessId: mine.ownerBusinessId });
  expect(res.status).toBe(403);
  expect(res.body.error.details[0]).toMatchObject({ in: 'body', path: 'wabaId' });
  expect(await onboardingExists(victim.id)).toBe(false);
  expect(await onboardingExists(mine.id)).toBe(false);

  // The link stays usable for its rightful signup, under the owner Meta names.
  const ok = await complete(token, { code: world().issueSignupCode(victim.id), wabaId: victim.id, businessId: mine.ownerBusinessId });
  expect(ok.status).toBe(201);
  expect((await h.stack.state(victim.id)).businessId).toBe(victim.ownerBusinessId);
});

test("a WABA's business comes from Meta: a link or a partner naming another business is refused, naming businessId", async () => {
  const waba = world().createWaba({ autoSign: false });
  const other = world().createBusiness();
  const linked = await complete(await newLinkToken({ businessId: other.id }), { code: world().issueSignupCode(waba.id), wabaId: waba.id });
  expect(linked.status).toBe(400);
  expect(linked.body.error.details[0].path).toBe('businessId');

  const partner = await h
    .http()
    .post('/v1/embedded-signup')
    .set(h.auth)
    .send({ code: world().issueSignupCode(waba.id), wabaId: waba.id, businessId: other.id, options: WEBHOOK_ONLY });
  expect(partner.status).toBe(400);
  expect(partner.body.error.details[0].path).toBe('businessId');
  expect(await onboardingExists(waba.id)).toBe(false);
});

test('a link marked used before reservations existed (its run started with the use) stays used', async () => {
  const token = await newLinkToken();
  const [, payload] = token.split('.');
  const { id, exp } = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { id: string; exp: number };
  const waba = world().createWaba({ autoSign: false });
  await h.stack.client.workflow.start('signupLink', {
    workflowId: signupLinkWorkflowId(id),
    taskQueue: h.stack.config.temporal.taskQueue,
    args: [{ linkId: id, wabaId: waba.id, businessId: waba.ownerBusinessId, usedAt: new Date().toISOString(), expiresAt: new Date(exp * 1000).toISOString() }],
  });
  expect((await h.http().get(`/signup/${token}`)).status).toBe(410);
  const other = world().createWaba({ autoSign: false });
  const res = await complete(token, { code: world().issueSignupCode(other.id), wabaId: other.id });
  expect(res.status).toBe(410);
  expect(await onboardingExists(other.id)).toBe(false);
});

/** The link's id, from its token (`v1.<payload>.<mac>`). */
const linkIdOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { id: string }).id;

test("Meta's outage never locks a link: more attempts answered 502 than a run takes, then a good code signs up", async () => {
  const token = await newLinkToken();
  const outage = ATTEMPTS_PER_RUN + 5;
  world().injectFault({ endpoint: 'oauth', kind: 'server_error', times: outage });
  for (let i = 0; i < outage; i++) {
    const waba = world().createWaba({ autoSign: false });
    const res = await complete(token, { code: world().issueSignupCode(waba.id), wabaId: waba.id });
    expect([i, res.status, res.body.error?.code]).toEqual([i, 502, 'graph_error']);
  }
  expect((await h.http().get(`/signup/${token}`)).status).toBe(200);

  const waba = world().createWaba({ autoSign: false });
  const ok = await complete(token, { code: world().issueSignupCode(waba.id), wabaId: waba.id });
  expect(ok.status).toBe(201);
  expect(await onboardingExists(waba.id)).toBe(true);

  // Its history stays bounded: the link continued as new, its counts carried over.
  const handle = h.stack.client.workflow.getHandle(signupLinkWorkflowId(linkIdOf(token)));
  expect(await handle.query(getSignupLinkQuery)).toMatchObject({ attempts: outage + 1, failedAttempts: 0, used: { wabaId: waba.id } });
  const runs: string[] = [];
  for await (const run of h.stack.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) runs.push(run.status.name);
  expect(runs.filter((s) => s === 'CONTINUED_AS_NEW').length).toBeGreaterThanOrEqual(1);
});

test('only refused codes count toward the lock, across runs, and the refusal says how many were refused', async () => {
  const token = await newLinkToken();
  const bogus = async (n: number) => {
    for (let i = 0; i < n; i++) expect((await complete(token, { code: `bogus-${Date.now()}-${i}`, wabaId: `7710${Date.now()}${i}` })).status).toBe(400);
  };
  // One refusal short of the lock, then an outage long enough that the link continues as new.
  await bogus(MAX_FAILED_SIGNUP_ATTEMPTS - 1);
  world().injectFault({ endpoint: 'oauth', kind: 'server_error', times: ATTEMPTS_PER_RUN });
  for (let i = 0; i < ATTEMPTS_PER_RUN; i++) {
    const waba = world().createWaba({ autoSign: false });
    expect((await complete(token, { code: world().issueSignupCode(waba.id), wabaId: waba.id })).status).toBe(502);
  }
  await bogus(1);

  const waba = world().createWaba({ autoSign: false });
  const locked = await complete(token, { code: world().issueSignupCode(waba.id), wabaId: waba.id });
  expect(locked.status).toBe(410);
  expect(locked.body.error.message).toMatch(new RegExp(`locked after ${MAX_FAILED_SIGNUP_ATTEMPTS} refused signups`));
  expect(await onboardingExists(waba.id)).toBe(false);
});

test('a locked link is reissued with the same request: a new link for the same business and options works', async () => {
  const waba = world().createWaba({ autoSign: false });
  const request = { businessId: waba.ownerBusinessId, partnerName: 'Acme Messaging', options: { ...WEBHOOK_ONLY, templateSyncGraceSeconds: 7 } };
  const first = await newLinkToken(request);
  for (let i = 0; i < MAX_FAILED_SIGNUP_ATTEMPTS; i++) await complete(first, { code: `junk-${i}`, wabaId: waba.id });
  expect((await h.http().get(`/signup/${first}`)).status).toBe(410);

  const second = await newLinkToken(request);
  expect(linkIdOf(second)).not.toBe(linkIdOf(first));
  const ok = await complete(second, { code: world().issueSignupCode(waba.id), wabaId: waba.id });
  expect(ok.status).toBe(201);
  expect(await h.stack.state(waba.id)).toMatchObject({ businessId: waba.ownerBusinessId, path: 'embedded_signup' });
  // The locked link stays locked.
  expect((await complete(first, { code: world().issueSignupCode(waba.id), wabaId: waba.id })).status).toBe(410);
});

test("the link's page, which needs no key, shares one read of the link's run: 50 loads cost one Temporal query, not 50", async () => {
  const token = await newLinkToken();
  expect((await complete(token, { code: 'bogus', wabaId: '770000000000777' })).status).toBe(400); // the run exists now
  const queries = async () => {
    const text = (await h.http().get('/metrics')).text;
    return text
      .split('\n')
      .filter((l) => l.startsWith('mm_temporal_call_duration_seconds_count{operation="query"'))
      .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
  };
  const before = await queries();
  const started = Date.now();
  for (let i = 0; i < 50; i++) expect((await h.http().get(`/signup/${token}`)).status).toBe(200);
  const elapsed = Date.now() - started;
  const made = (await queries()) - before;
  // One read per PAGE_STATE_KEEP_MS at most, however many loads fall into it.
  expect(made).toBeGreaterThanOrEqual(1);
  expect(made).toBeLessThanOrEqual(1 + Math.floor(elapsed / PAGE_STATE_KEEP_MS));
  expect(made).toBeLessThan(50);
});
