import { waitUntil } from '../harness/wait';
import { FAST, startStack, statuses, WEBHOOK_ONLY, type Stack } from '../harness/stack';
import { recordHistory } from '../harness/histories';
import { CONTINUE_AS_NEW_SUGGESTED_AT } from '../harness/limits';
import { accountEventSignal, cancelUpdate, recheckUpdate, termsSignedSignal } from '../../workflows/messages';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});


describe('errors a person must fix', () => {
  test('an expired token parks the onboarding in NEEDS_ATTENTION, and a recheck resumes it', async () => {
    const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE' });
    stack.sandbox.world.injectFault({ endpoint: 'waba_status', wabaId: waba.id, kind: 'token_expired' });
    const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
    const parked = await stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');
    expect(parked.statusReason).toMatch(/^Graph API: .*access token/i);

    const resumed = await handle.executeUpdate(recheckUpdate);
    expect(resumed.eligibility).toBe('ELIGIBLE');
    await stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    await handle.signal(termsSignedSignal, { source: 'webhook' });
    const ready = await stack.waitForStatus(waba.id, 'READY');
    expect(statuses(ready)).toEqual(['CHECKING_ELIGIBILITY', 'NEEDS_ATTENTION', 'CHECKING_ELIGIBILITY', 'AWAITING_TERMS', 'SYNCING_TEMPLATES', 'READY']);
    await recordHistory('token-expired-then-recheck', handle);
  });

  test('a missing permission is not retried and needs attention', async () => {
    const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE' });
    stack.sandbox.world.injectFault({ endpoint: 'waba_status', wabaId: waba.id, kind: 'permission' });
    await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
    await stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');
    expect(stack.sandbox.world.countCalls({ endpoint: 'waba_status', wabaId: waba.id })).toBe(1);
  });

  test('transient errors and throttling are retried inside the activity, invisible to the onboarding', async () => {
    const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE' });
    stack.sandbox.world.injectFault({ endpoint: 'waba_status', wabaId: waba.id, kind: 'transient' });
    stack.sandbox.world.injectFault({ endpoint: 'waba_status', wabaId: waba.id, kind: 'server_error' });
    stack.sandbox.world.injectFault({ endpoint: 'phone_numbers', wabaId: waba.id, kind: 'throttle', regainAccessMinutes: 0 });
    await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
    const waiting = await stack.waitForStatus(waba.id, 'AWAITING_TERMS', 30_000);
    expect(statuses(waiting)).toEqual(['CHECKING_ELIGIBILITY', 'AWAITING_TERMS']);
    expect(stack.sandbox.world.countCalls({ endpoint: 'waba_status', wabaId: waba.id })).toBe(3);
    expect(stack.sandbox.world.countCalls({ endpoint: 'phone_numbers', wabaId: waba.id })).toBe(2);
  });
});

describe('account events', () => {
  test('a restriction while waiting for the terms needs attention; after a recheck the poll finds the terms', async () => {
    const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE' });
    const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
    await stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    await handle.signal(accountEventSignal, { event: 'ACCOUNT_RESTRICTION', detail: 'RESTRICTED_ADD_PHONE_NUMBER_ACTION' });
    const parked = await stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');
    expect(parked.statusReason).toBe('ACCOUNT_RESTRICTION: RESTRICTED_ADD_PHONE_NUMBER_ACTION');

    stack.sandbox.world.setStatus(waba.id, 'ONBOARDED'); // reinstated, and signed meanwhile
    await handle.executeUpdate(recheckUpdate);
    const ready = await stack.waitForStatus(waba.id, 'READY');
    expect(ready.termsSource).toBe('poll');
  });

  test('a violation after READY needs attention; the run stays open for what comes next', async () => {
    const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ONBOARDED' });
    const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST });
    await stack.waitForStatus(waba.id, 'READY');
    await handle.signal(accountEventSignal, { event: 'ACCOUNT_VIOLATION', detail: 'policy violation: SCAM' });
    const parked = await stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');
    expect(parked.statusReason).toBe('ACCOUNT_VIOLATION: policy violation: SCAM');
    expect((await handle.describe()).status.name).toBe('RUNNING');
  });
});

describe('cancelling', () => {
  test('the cancel update ends the onboarding in CANCELLED with the reason', async () => {
    const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE' });
    const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
    await stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    const cancelled = await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'customer changed their mind' }] });
    expect(cancelled).toMatchObject({ status: 'CANCELLED', statusReason: 'customer changed their mind' });
    const result = await handle.result();
    expect(statuses(result)).toEqual(['CHECKING_ELIGIBILITY', 'AWAITING_TERMS', 'CANCELLED']);
    await expect(handle.executeUpdate(cancelUpdate, { args: [{}] })).rejects.toThrow();
    await recordHistory('manual-cancelled', handle);
  });

  test("cancelling the run from Temporal (the UI's Cancel) also ends in CANCELLED, not a failure", async () => {
    const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE' });
    const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
    await stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    await handle.cancel();
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'CANCELLED', statusReason: 'the workflow was cancelled' });
  });
});

describe('long lives', () => {
  test('a run whose history grows long continues as new at a quiet moment and keeps its state', async () => {
    const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE' });
    const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
    await stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    await handle.signal(termsSignedSignal, { source: 'webhook', at: '2026-11-25T10:00:00.000Z' });
    const ready = await stack.waitForStatus(waba.id, 'READY');
    const firstRunId = (await handle.describe()).runId;

    // Meta repeats deliveries for days: duplicates after READY, past the server's continue-as-new hint.
    for (let i = 0; i < CONTINUE_AS_NEW_SUGGESTED_AT; i++) await handle.signal(termsSignedSignal, { source: 'legacy_webhook' });

    const latest = stack.client.workflow.getHandle(handle.workflowId);
    await waitUntil(async () => (await latest.describe()).runId !== firstRunId);
    const carried = await stack.state(waba.id);
    expect(carried).toEqual(ready);

    // The new run still listens.
    await latest.signal(accountEventSignal, { event: 'ACCOUNT_RESTRICTION' });
    const parked = await stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');
    expect(statuses(parked)).toEqual([...statuses(ready), 'NEEDS_ATTENTION']);
    expect(parked.termsSource).toBe('webhook');
    await recordHistory('continued-as-new-after-ready', latest);
  }, 60_000);

  test('terms signed while parked are not lost when the parked run continues as new', async () => {
    const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE' });
    const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
    await stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    await handle.signal(accountEventSignal, { event: 'ACCOUNT_RESTRICTION' });
    await stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');
    const parkedRunId = (await handle.describe()).runId;

    // The terms arrive while parked: the read they ask for fails (a permission lost meanwhile), so the
    // onboarding stays parked with them; then Meta's repeats push the parked run past continue-as-new.
    stack.sandbox.world.injectFault({ endpoint: 'waba_status', wabaId: waba.id, kind: 'permission' });
    await handle.signal(termsSignedSignal, { source: 'webhook', at: '2026-11-25T10:00:00.000Z' });
    await stack.waitForState(waba.id, (s) => s.status === 'NEEDS_ATTENTION' && /^Graph API/.test(s.statusReason ?? ''));
    for (let i = 0; i < CONTINUE_AS_NEW_SUGGESTED_AT; i++) await handle.signal(termsSignedSignal, { source: 'legacy_webhook' });
    const latest = stack.client.workflow.getHandle(handle.workflowId);
    await waitUntil(async () => (await latest.describe()).runId !== parkedRunId);
    // The reason list rows read goes along in the memo: the new run writes nothing to carry it.
    const { statusReason } = await stack.state(waba.id);
    expect(statusReason).toMatch(/^Graph API/);
    expect((await latest.describe()).memo).toMatchObject({ statusReason });
    expect((await latest.fetchHistory()).events?.filter((e) => e.workflowPropertiesModifiedEventAttributes)).toEqual([]);

    await latest.executeUpdate(recheckUpdate);
    const ready = await stack.waitForStatus(waba.id, 'READY');
    expect(ready).toMatchObject({ termsSource: 'webhook', termsSignedAt: '2026-11-25T10:00:00.000Z' });
  }, 60_000);
});
