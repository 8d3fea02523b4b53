import { WorkflowUpdateFailedError } from '@temporalio/client';
import { waitUntil } from '../harness/wait';
import { FAST, startStack, TEST_SECRETS, type Stack } from '../harness/stack';
import { historyAsText, recordHistory } from '../harness/histories';
import { cancelUpdate, getIntentStateQuery, recheckUpdate, resendIntentSignal, submitSignupCodeUpdate, termsSignedSignal } from '../../workflows/messages';
import { businessIntentWorkflowId } from '../../workflows/types';
import { deriveSealingKey, seal } from '../../secrets/sealing';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const sealingKey = deriveSealingKey(TEST_SECRETS.appSecret);
const intentState = (businessId: string) =>
  stack.client.workflow.getHandle(businessIntentWorkflowId(businessId)).query(getIntentStateQuery);

describe('Intent API path', () => {
  test.each(['same_request_id', 'already_sent'] as const)(
    'a business gets one request however many of its WABAs onboard at once (repeat answers %s)',
    async (repeatAnswer) => {
      const business = stack.sandbox.world.createBusiness({ repeatAnswer });
      const wabas = [1, 2, 3].map(() => stack.sandbox.world.createWaba({ ownerBusinessId: business.id }));
      await Promise.all(wabas.map((w) => stack.start({ wabaId: w.id, businessId: business.id, path: 'intent', options: FAST })));
      const states = await Promise.all(wabas.map((w) => stack.waitForStatus(w.id, 'AWAITING_TERMS')));

      expect(stack.sandbox.world.intentRequestCount(business.id)).toBe(1);
      const requestIds = new Set(states.map((s) => s.intentRequestId));
      expect(requestIds.size).toBe(1);
      expect([...requestIds][0]).toEqual(expect.any(String));
      for (const s of states) expect(s.history.map((h) => h.status)).toEqual(['CHECKING_ELIGIBILITY', 'REQUESTING_INTENT', 'AWAITING_TERMS']);

      // A WABA joining later hears that the request stands, without a second request.
      const late = stack.sandbox.world.createWaba({ ownerBusinessId: business.id });
      await stack.start({ wabaId: late.id, businessId: business.id, path: 'intent', options: FAST });
      await stack.waitForStatus(late.id, 'AWAITING_TERMS');
      expect(stack.sandbox.world.intentRequestCount(business.id)).toBe(1);

      // Only an operator's resend asks Meta again; the repeat answer counts as success.
      await stack.client.workflow.getHandle(businessIntentWorkflowId(business.id)).signal(resendIntentSignal);
      await waitUntil(async () => (await intentState(business.id)).requestCount === 2);
      expect(stack.sandbox.world.intentRequestCount(business.id)).toBe(2);
      expect((await intentState(business.id)).requested).toBe(true);
    },
  );

  test('the intent request survives a worker crash in the middle of the call', async () => {
    const business = stack.sandbox.world.createBusiness();
    const wabas = [1, 2].map(() => stack.sandbox.world.createWaba({ ownerBusinessId: business.id }));
    stack.sandbox.world.injectFault({ endpoint: 'intent', businessId: business.id, kind: 'latency', latencyMs: 1500 });
    await Promise.all(wabas.map((w) => stack.start({ wabaId: w.id, businessId: business.id, path: 'intent', options: FAST })));
    await waitUntil(() => stack.sandbox.world.findCalls({ endpoint: 'intent', businessId: business.id }).length > 0);

    await stack.stopWorkers(); // mid-call: Meta receives the request, the worker never records the answer
    await stack.startWorkers();

    const states = await Promise.all(wabas.map((w) => stack.waitForStatus(w.id, 'AWAITING_TERMS', 60_000)));
    expect(new Set(states.map((s) => s.intentRequestId)).size).toBe(1);
    // One logical request: a retry after the crash may reach Meta again, and its answer means the same request.
    const intent = await intentState(business.id);
    expect(intent).toMatchObject({ requested: true, requestCount: 1 });
    expect(stack.sandbox.world.business(business.id).intent.requestId).toBe(states[0].intentRequestId);
    await recordHistory('business-intent-after-worker-crash', stack.client.workflow.getHandle(businessIntentWorkflowId(business.id)));
    await recordHistory('intent-awaiting-terms-after-worker-crash', stack.client.workflow.getHandle(`mm-onboarding:${wabas[0].id}`));
  }, 90_000);

  test('an expired token on the intent call parks the WABAs in NEEDS_ATTENTION, and a recheck resends', async () => {
    const business = stack.sandbox.world.createBusiness();
    const waba = stack.sandbox.world.createWaba({ ownerBusinessId: business.id });
    stack.sandbox.world.injectFault({ endpoint: 'intent', businessId: business.id, kind: 'token_expired' });
    const handle = await stack.start({ wabaId: waba.id, businessId: business.id, path: 'intent', options: FAST });
    const parked = await stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');
    expect(parked.statusReason).toMatch(/Intent API request failed/);
    expect(stack.sandbox.world.intentRequestCount(business.id)).toBe(0);

    await handle.executeUpdate(recheckUpdate);
    const waiting = await stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    expect(waiting.intentRequestId).toEqual(expect.any(String));
    expect(stack.sandbox.world.intentRequestCount(business.id)).toBe(1);
  });

  test('terms arriving while the request is in flight move the WABA on', async () => {
    const business = stack.sandbox.world.createBusiness();
    const waba = stack.sandbox.world.createWaba({ ownerBusinessId: business.id });
    stack.sandbox.world.injectFault({ endpoint: 'intent', businessId: business.id, kind: 'latency', latencyMs: 3000 });
    const handle = await stack.start({ wabaId: waba.id, businessId: business.id, path: 'intent', options: FAST });
    await stack.waitForStatus(waba.id, 'REQUESTING_INTENT');
    await handle.signal(termsSignedSignal, { source: 'webhook' });
    const ready = await stack.waitForStatus(waba.id, 'READY');
    expect(ready.termsSource).toBe('webhook');
    await recordHistory('intent-terms-during-request', handle);
  });
});

describe('Embedded Signup path', () => {
  test('the code is exchanged at once, the app subscribed, and neither code nor token reaches history', async () => {
    const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE', autoSign: false });
    const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'embedded_signup', options: FAST });
    await stack.waitForStatus(waba.id, 'AWAITING_SIGNUP');

    const code = stack.sandbox.world.issueSignupCode(waba.id);
    const after = await handle.executeUpdate(submitSignupCodeUpdate, { args: [{ sealedCode: seal(code, sealingKey) }] });
    expect(after.statusReason).toMatch(/Embedded Signup complete/);
    await stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    expect(stack.sandbox.world.waba(waba.id).subscribedApps).toContain(TEST_SECRETS.appId);

    // Status reads for this WABA now use its own token, which must never appear in plain text.
    const history = await historyAsText(handle);
    expect(history).not.toContain(code);
    const minted = [...stack.sandbox.world.tokensOf(waba.id)];
    expect(minted).toHaveLength(1);
    expect(history).not.toContain(minted[0]);
    expect(history).toContain('sealed:v1:');

    await handle.signal(termsSignedSignal, { source: 'webhook' });
    await stack.waitForStatus(waba.id, 'READY');
    await recordHistory('embedded-signup-ready', handle);
  });

  test('a code Meta rejects is reported and the onboarding keeps waiting for a fresh one', async () => {
    const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE', autoSign: false });
    const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'embedded_signup', options: FAST });
    await stack.waitForStatus(waba.id, 'AWAITING_SIGNUP');

    const used = stack.sandbox.world.issueSignupCode(waba.id);
    stack.sandbox.world.redeemSignupCode(used); // someone already exchanged it
    const rejected = await handle.executeUpdate(submitSignupCodeUpdate, { args: [{ sealedCode: seal(used, sealingKey) }] });
    expect(rejected.status).toBe('AWAITING_SIGNUP');
    expect(rejected.statusReason).toMatch(/Meta rejected the Embedded Signup code/);

    const fresh = stack.sandbox.world.issueSignupCode(waba.id);
    await handle.executeUpdate(submitSignupCodeUpdate, { args: [{ sealedCode: seal(fresh, sealingKey) }] });
    await stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    await handle.executeUpdate(cancelUpdate, { args: [{}] });
    await recordHistory('embedded-signup-rejected-code-then-cancelled', handle);
  });

  test('a recheck while waiting for the code reads Meta at once; ONBOARDED moves the onboarding on', async () => {
    const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE', autoSign: false });
    const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'embedded_signup', options: FAST });
    await stack.waitForStatus(waba.id, 'AWAITING_SIGNUP');
    const reads = stack.sandbox.world.countCalls({ endpoint: 'waba_status', wabaId: waba.id });

    const answered = await handle.executeUpdate(recheckUpdate);
    expect(answered.status).toBe('AWAITING_SIGNUP');
    expect(stack.sandbox.world.countCalls({ endpoint: 'waba_status', wabaId: waba.id })).toBe(reads + 1);

    stack.sandbox.world.setStatus(waba.id, 'ONBOARDED'); // the customer finished elsewhere
    await handle.executeUpdate(recheckUpdate);
    const ready = await stack.waitForStatus(waba.id, 'READY');
    expect(ready.termsSource).toBe('poll');
  });

  test('a code for an onboarding on another path is refused without touching Meta', async () => {
    const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE' });
    const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST });
    await stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    const code = stack.sandbox.world.issueSignupCode(waba.id);
    const exchangesBefore = stack.sandbox.world.countCalls({ endpoint: 'oauth' });
    await expect(handle.executeUpdate(submitSignupCodeUpdate, { args: [{ sealedCode: seal(code, sealingKey) }] })).rejects.toThrow(
      WorkflowUpdateFailedError,
    );
    expect(stack.sandbox.world.countCalls({ endpoint: 'oauth' })).toBe(exchangesBefore);
    expect((await stack.state(waba.id)).status).toBe('AWAITING_TERMS');
  });
});
