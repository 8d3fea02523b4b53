import { WorkflowUpdateStage } from '@temporalio/client';
import { eventually, startAppHarness, type AppHarness } from '../harness/app-harness';
import { statuses } from '../harness/stack';
import { accountEventSignal, cancelUpdate } from '../../workflows/messages';
import { onboardingWorkflowId, type OnboardingState } from '../../workflows/types';

/**
 * The account's later life told truly (issue 31): after READY or after a park, the onboarding's
 * status follows what Meta says now, not terms signed before or a deadline fixed at the first start.
 * The real app (partner API and webhook receiver), workers, dev server and the Graph sandbox.
 */

let h: AppHarness;
beforeAll(async () => {
  h = await startAppHarness();
});
afterAll(async () => {
  await h?.stop();
});

const world = () => h.stack.sandbox.world;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** No polls of their own: only rechecks and webhooks move these onboardings. */
const QUIET = { templateSyncGraceSeconds: 1, statusPollIntervalSeconds: 3600 };

async function start(waba: { id: string; ownerBusinessId: string }, path: 'manual' | 'intent', options: Record<string, number> = QUIET): Promise<number> {
  await h.http().post('/v1/onboardings').set(h.auth).send({ wabaId: waba.id, businessId: waba.ownerBusinessId, path, options }).expect(201);
  return Date.now();
}
const recheck = (wabaId: string) => h.http().post(`/v1/onboardings/${wabaId}/recheck`).set(h.auth);
const get = async (wabaId: string): Promise<OnboardingState> => (await h.http().get(`/v1/onboardings/${wabaId}`).set(h.auth).expect(200)).body;
/** When the onboarding last entered `status` (workflow time, from its history). */
const enteredAt = (state: OnboardingState, status: string) => Date.parse(state.history.filter((e) => e.status === status).at(-1)!.at);

test('a READY WABA Meta reports ELIGIBLE again goes back down its path on a recheck, with a deadline of its own, and is READY again only on new terms', async () => {
  const deadline = 10;
  const waba = world().createWaba({ onboardingStatus: 'ONBOARDED', autoSign: false });
  const startedAt = await start(waba, 'manual', { ...QUIET, termsDeadlineSeconds: deadline });
  const ready = await h.stack.waitForStatus(waba.id, 'READY');
  expect(ready.termsSignedAt).toEqual(expect.any(String));

  // Longer than the terms deadline after the start, Meta no longer says ONBOARDED.
  await sleep(Math.max(0, startedAt + (deadline + 1) * 1000 - Date.now()));
  world().setStatus(waba.id, 'ELIGIBLE');
  const answered = await recheck(waba.id).expect(200);
  expect(answered.body.status).not.toBe('READY');
  const awaiting = await h.stack.waitForStatus(waba.id, 'AWAITING_TERMS');
  expect(statuses(awaiting).slice(-3)).toEqual(['READY', 'CHECKING_ELIGIBILITY', 'AWAITING_TERMS']);
  expect(awaiting.statusReason).toBeUndefined();
  expect(awaiting.history.at(-2)!.reason).toMatch(/Meta now reports ELIGIBLE.*terms signed before no longer stand/);
  // The terms it went READY on are no longer shown as standing.
  expect(awaiting).not.toHaveProperty('termsSignedAt');
  expect(awaiting).not.toHaveProperty('readyAt');

  // The business signs again: READY on these terms, well inside the new deadline.
  await world().signTerms(waba.id);
  const again = await h.stack.waitForState(waba.id, (s) => s.status === 'READY' && s.history.length > awaiting.history.length);
  expect(statuses(again).slice(-4)).toEqual(['CHECKING_ELIGIBILITY', 'AWAITING_TERMS', 'SYNCING_TEMPLATES', 'READY']);
  expect(again.termsSource).toBe('webhook');
  expect(Date.parse(again.termsSignedAt!)).toBeGreaterThan(Date.parse(ready.termsSignedAt!));
  expect(statuses(again)).not.toContain('EXPIRED');
}, 90_000);

test("an intent-path WABA whose terms Meta withdrew asks its business again: REQUESTING_INTENT, a new request, then READY on the new terms", async () => {
  const business = world().createBusiness();
  const waba = world().createWaba({ ownerBusinessId: business.id, onboardingStatus: 'ELIGIBLE', autoSign: false });
  await start(waba, 'intent');
  const first = await h.stack.waitForStatus(waba.id, 'AWAITING_TERMS');
  expect(world().intentRequestCount(business.id)).toBe(1);
  await world().signTerms(waba.id);
  await h.stack.waitForStatus(waba.id, 'READY');

  // The request was answered (the business signed): for terms Meta withdrew, it no longer stands.
  world().setStatus(waba.id, 'ELIGIBLE');
  await recheck(waba.id).expect(200);
  const asked = await h.stack.waitForState(waba.id, (s) => s.status === 'AWAITING_TERMS' && s.history.length > first.history.length);
  expect(statuses(asked).slice(-4)).toEqual(['READY', 'CHECKING_ELIGIBILITY', 'REQUESTING_INTENT', 'AWAITING_TERMS']);
  expect(world().intentRequestCount(business.id)).toBe(2);
  expect(asked.intentRequestId).toEqual(expect.any(String));

  await world().signTerms(waba.id);
  const again = await h.stack.waitForState(waba.id, (s) => s.status === 'READY' && s.history.length > asked.history.length);
  expect(again.termsSource).toBe('webhook');
});

test('a recheck of a READY WABA that Meta reports pending parks it naming the status, instead of keeping READY', async () => {
  const waba = world().createWaba({ onboardingStatus: 'ONBOARDED', autoSign: false });
  await start(waba, 'manual');
  await h.stack.waitForStatus(waba.id, 'READY');
  world().setStatus(waba.id, 'PENDING_VALID_PAYMENT_METHOD');
  const answered = await recheck(waba.id).expect(200);
  expect(answered.body).toMatchObject({ status: 'NEEDS_ATTENTION', statusReason: expect.stringMatching(/Meta now reports PENDING_VALID_PAYMENT_METHOD/) });
  // The work queue counts it among what Meta's own status holds up.
  const row = await eventually(async () => {
    const list = await h.http().get('/v1/onboardings?status=NEEDS_ATTENTION').set(h.auth).expect(200);
    return (list.body.onboardings as Array<{ wabaId: string; reasonKind?: string }>).find((r) => r.wabaId === waba.id);
  }, 15_000, 'the parked row');
  expect(row.reasonKind).toBe('meta_status');

  // Fixed with the business: the next recheck finds it ONBOARDED and READY again.
  world().setStatus(waba.id, 'ONBOARDED');
  await recheck(waba.id).expect(200);
  const again = await h.stack.waitForState(waba.id, (s) => s.status === 'READY' && statuses(s).includes('NEEDS_ATTENTION'));
  expect(statuses(again).slice(-4)).toEqual(['NEEDS_ATTENTION', 'CHECKING_ELIGIBILITY', 'SYNCING_TEMPLATES', 'READY']);
});

test('a WABA parked before its terms for longer than the deadline gets a deadline of its own on the recheck that fixes it', async () => {
  const deadline = 10;
  const waba = world().createWaba({ onboardingStatus: 'ELIGIBLE', autoSign: false, phoneNumbers: [{ platformType: 'ON_PREMISE' }] });
  const startedAt = await start(waba, 'manual', { ...QUIET, termsDeadlineSeconds: deadline });
  const parked = await h.stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');
  expect(parked.statusReason).toMatch(/registered on Cloud API/);

  await sleep(Math.max(0, startedAt + (deadline + 1) * 1000 - Date.now()));
  world().waba(waba.id).phoneNumbers[0].platformType = 'CLOUD_API';
  await recheck(waba.id).expect(200);
  await h.stack.waitForStatus(waba.id, 'AWAITING_TERMS');

  // Never signed, it does expire, but a whole deadline after the pass that the recheck began.
  const expired = await h.stack.waitForStatus(waba.id, 'EXPIRED', 60_000);
  expect(statuses(expired).slice(-4)).toEqual(['NEEDS_ATTENTION', 'CHECKING_ELIGIBILITY', 'AWAITING_TERMS', 'EXPIRED']);
  expect(enteredAt(expired, 'EXPIRED') - enteredAt(expired, 'CHECKING_ELIGIBILITY')).toBeGreaterThanOrEqual(deadline * 1000);
}, 90_000);

test('no READY without a Cloud API number: a WABA parked for it stays parked when Meta says ONBOARDED, until a number is on Cloud API', async () => {
  const waba = world().createWaba({ onboardingStatus: 'ELIGIBLE', autoSign: false, phoneNumbers: [{ platformType: 'ON_PREMISE', displayPhoneNumber: '+1 555 0199' }] });
  await start(waba, 'manual');
  await h.stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');

  // The business signed anyway (Meta's own flow): Meta says ONBOARDED, the only number is still ON_PREMISE.
  world().setStatus(waba.id, 'ONBOARDED');
  await recheck(waba.id).expect(200);
  const still = await h.stack.waitForState(waba.id, (s) => statuses(s).filter((x) => x === 'NEEDS_ATTENTION').length === 2);
  expect(still.statusReason).toMatch(/registered on Cloud API.*\+1 555 0199 \(ON_PREMISE\)/);
  expect(statuses(still)).not.toContain('SYNCING_TEMPLATES');

  world().waba(waba.id).phoneNumbers[0].platformType = 'CLOUD_API';
  await recheck(waba.id).expect(200);
  await h.stack.waitForStatus(waba.id, 'READY');
});

test("the terms webhook resumes every WABA a failed Intent request parked, not only the one that was rechecked", async () => {
  const business = world().createBusiness();
  const [first, second] = [1, 2].map(() => world().createWaba({ ownerBusinessId: business.id, autoSign: false }));
  // Until it is fixed: the second WABA may join after the first request failed, and must fail too.
  world().injectFault({ endpoint: 'intent', businessId: business.id, kind: 'permission', times: 1_000 });
  await start(first, 'intent');
  await start(second, 'intent');
  for (const waba of [first, second]) {
    const parked = await h.stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');
    expect(parked.statusReason).toMatch(/Intent API request failed/);
  }

  // The permission is fixed; one of them is rechecked, which sends the request again.
  world().clearFaults();
  await recheck(first.id).expect(200);
  await h.stack.waitForStatus(first.id, 'AWAITING_TERMS');
  // The business signs for both: Meta's webhooks resume the other one too.
  await world().signTerms(first.id, { batchWith: [second.id] });
  for (const waba of [first, second]) {
    const ready = await h.stack.waitForStatus(waba.id, 'READY');
    expect(ready).toMatchObject({ termsSource: 'webhook', termsSignedAt: expect.any(String) });
  }
  expect(statuses(await get(second.id)).slice(-4)).toEqual(['NEEDS_ATTENTION', 'CHECKING_ELIGIBILITY', 'SYNCING_TEMPLATES', 'READY']);
});

test('a cancel accepted in the same workflow task as an offboarding answers with the ending, and the run closes', async () => {
  const waba = world().createWaba({ onboardingStatus: 'ELIGIBLE', autoSign: false });
  await start(waba, 'manual');
  await h.stack.waitForStatus(waba.id, 'AWAITING_TERMS');
  const handle = h.stack.client.workflow.getHandle(onboardingWorkflowId(waba.id));

  // With no worker, both wait for the same workflow task: the offboarding first, then the cancel.
  await h.stack.stopWorkers();
  await handle.signal(accountEventSignal, { event: 'PARTNER_REMOVED' });
  const cancel = handle.startUpdate(cancelUpdate, { args: [{ reason: 'customer left' }], waitForStage: WorkflowUpdateStage.ACCEPTED });
  cancel.catch(() => undefined);
  await sleep(1_000); // the update reaches the server before a worker can take the task
  await h.stack.startWorkers();

  const answer = await (await cancel).result();
  expect(['OFFBOARDED', 'CANCELLED']).toContain(answer.status);
  await handle.result();
  expect((await get(waba.id)).status).toBe(answer.status);
});
