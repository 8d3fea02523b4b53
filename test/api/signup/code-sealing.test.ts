/**
 * The Embedded Signup code through the API, end to end against the Graph sandbox: handed over,
 * exchanged at once, and never visible in plain text in workflow history or the logs.
 */
import { onboardingWorkflowId } from '../../../workflows/types';
import { startAppHarness, type AppHarness } from '../../harness/app-harness';
import { WEBHOOK_ONLY } from '../../harness/stack';

/** Terms come by webhook here (no poll may race them); the sync grace is compressed. */
const OPTIONS = WEBHOOK_ONLY;

let h: AppHarness;
const world = () => h.stack.sandbox.world;

beforeAll(async () => {
  h = await startAppHarness();
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

async function awaitingSignup(): Promise<string> {
  const waba = world().createWaba({ autoSign: false });
  const res = await h
    .http()
    .post('/v1/onboardings')
    .set(h.auth)
    .send({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'embedded_signup', options: OPTIONS });
  expect(res.status).toBe(201);
  await h.stack.waitForStatus(waba.id, 'AWAITING_SIGNUP');
  return waba.id;
}

const submit = (wabaId: string, body: object) => h.http().post(`/v1/onboardings/${wabaId}/embedded-signup`).set(h.auth).send(body);

test('the signup code is exchanged at once, and the onboarding goes on to READY', async () => {
  const wabaId = await awaitingSignup();
  const code = world().issueSignupCode(wabaId);

  const res = await submit(wabaId, { code });
  expect(res.status).toBe(200);
  expect(res.body.wabaId).toBe(wabaId);
  expect(world().waba(wabaId).subscribedApps).toContain(h.stack.config.meta.appId);
  expect(world().countCalls({ endpoint: 'oauth' })).toBeGreaterThan(0);

  await h.stack.waitForStatus(wabaId, 'AWAITING_TERMS');
  await world().signTerms(wabaId);
  const ready = await h.stack.waitForStatus(wabaId, 'READY');
  expect(ready.termsSource).toBe('webhook');

  // Signup is done: another code is refused by the workflow, as a conflict.
  const again = await submit(wabaId, { code: world().issueSignupCode(wabaId) });
  expect(again.status).toBe(409);
  expect(again.body.error.message).toMatch(/already complete/);
});

test('the code never appears in workflow history, in the logs, or in an error answer', async () => {
  const wabaId = await awaitingSignup();
  const code = world().issueSignupCode(wabaId);
  expect((await submit(wabaId, { code, phoneNumberId: '1234567890' })).status).toBe(200);

  const history = await h.stack.client.workflow.getHandle(onboardingWorkflowId(wabaId)).fetchHistory();
  // Payload data comes base64-encoded: decode it, so a plain-text code would be visible to the search.
  const historyText = JSON.stringify(history, (key, value: unknown) =>
    key === 'data' && typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : value,
  );
  expect(historyText).toContain('sealed:v1:');
  expect(historyText).not.toContain(code);
  expect(h.logs.text()).not.toContain(code);

  const invalid = await submit(wabaId, { code: `${code}-and-more`, phoneNumberId: 'not digits' });
  expect(invalid.status).toBe(400);
  expect(JSON.stringify(invalid.body)).not.toContain(code);
});

test('a code Meta rejects keeps the onboarding waiting for a fresh one, and says why', async () => {
  const wabaId = await awaitingSignup();
  const res = await submit(wabaId, { code: 'AQ-not-a-code-meta-issued' });
  expect(res.status).toBe(200);
  expect(res.body.status).toBe('AWAITING_SIGNUP');
  expect(res.body.statusReason).toMatch(/rejected the Embedded Signup code/);

  const fresh = await submit(wabaId, { code: world().issueSignupCode(wabaId) });
  expect(fresh.status).toBe(200);
  await h.stack.waitForStatus(wabaId, 'AWAITING_TERMS');
});

test('a code for an onboarding on another path, or for no onboarding, is refused', async () => {
  const waba = world().createWaba({ autoSign: false });
  await h.http().post('/v1/onboardings').set(h.auth).send({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: OPTIONS });
  const wrongPath = await submit(waba.id, { code: 'AQ-anything' });
  expect(wrongPath.status).toBe(409);
  expect(wrongPath.body.error.message).toMatch(/manual path/);

  const nobody = await submit('555555555555555', { code: 'AQ-anything' });
  expect(nobody.status).toBe(404);
  expect((await submit(waba.id, {})).body.error.details).toEqual([{ in: 'body', path: 'code', message: expect.any(String) }]);
});
