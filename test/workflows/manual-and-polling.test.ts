import { FAST, startStack, statuses, WEBHOOK_ONLY, type Stack } from '../harness/stack';
import { historyAsText, recordHistory } from '../harness/histories';
import { recheckUpdate, termsSignedSignal } from '../../workflows/messages';
import { OnboardingStatusKey, WabaIdKey } from '../../temporal/search-attributes';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});


describe('manual path and the terms', () => {
  test('an eligible WABA waits for the terms webhook, syncs templates, and becomes READY', async () => {
    const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE' });
    const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
    await stack.waitForStatus(waba.id, 'AWAITING_TERMS');

    await handle.signal(termsSignedSignal, { source: 'webhook', at: '2026-11-25T10:00:00.000Z' });
    const ready = await stack.waitForStatus(waba.id, 'READY');

    expect(statuses(ready)).toEqual(['CHECKING_ELIGIBILITY', 'AWAITING_TERMS', 'SYNCING_TEMPLATES', 'READY']);
    expect(ready).toMatchObject({ termsSource: 'webhook', termsSignedAt: '2026-11-25T10:00:00.000Z', eligibility: 'ELIGIBLE' });
    expect(Date.parse(ready.readyAt!)).toBeGreaterThanOrEqual(Date.parse(ready.history[2].at) + 1000);

    // What an operator sees in the Web UI: a summary, current details in words, filterable attributes.
    const description = await handle.describe();
    expect(await description.staticSummary()).toBe(`MM API onboarding of WABA ${waba.id} (business ${waba.ownerBusinessId}) via manual, from api`);
    const metadata = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toMatch(/^\*\*READY\*\*\n\nWABA \d+ · business \d+ · path manual[\s\S]*terms signed 2026-11-25T10:00:00.000Z \(webhook\)/);
    expect(description.typedSearchAttributes.get(OnboardingStatusKey)).toBe('READY');
    expect(description.typedSearchAttributes.get(WabaIdKey)).toBe(waba.id);
    // No PARTNER_CALLBACK_URL here: the history holds no callback activity per status change.
    expect(await historyAsText(handle)).not.toContain('deliverPartnerCallback');
  });

  test('a duplicate terms webhook and its legacy twin change nothing', async () => {
    const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE' });
    const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: { ...WEBHOOK_ONLY, templateSyncGraceSeconds: 2 } });
    await stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    await handle.signal(termsSignedSignal, { source: 'legacy_webhook', at: '2026-11-25T10:00:00.000Z' });
    await handle.signal(termsSignedSignal, { source: 'webhook', at: '2026-11-25T10:00:01.000Z' });
    await handle.signal(termsSignedSignal, { source: 'legacy_webhook', at: '2026-11-25T10:00:02.000Z' });
    const ready = await stack.waitForStatus(waba.id, 'READY');
    await handle.signal(termsSignedSignal, { source: 'webhook' });
    const after = await stack.state(waba.id);

    expect(statuses(after)).toEqual(['CHECKING_ELIGIBILITY', 'AWAITING_TERMS', 'SYNCING_TEMPLATES', 'READY']);
    expect(after.termsSource).toBe('legacy_webhook');
    expect(after.termsSignedAt).toBe(ready.termsSignedAt);
  });

  test('a WABA already ONBOARDED at the first check goes straight to SYNCING_TEMPLATES', async () => {
    const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ONBOARDED' });
    await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST });
    const ready = await stack.waitForStatus(waba.id, 'READY');
    expect(statuses(ready)).toEqual(['CHECKING_ELIGIBILITY', 'SYNCING_TEMPLATES', 'READY']);
    expect(ready.termsSource).toBe('poll');
  });

  test('polling notices the terms when no webhook comes', async () => {
    const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE' });
    await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST });
    await stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    stack.sandbox.world.setStatus(waba.id, 'ONBOARDED');
    const ready = await stack.waitForStatus(waba.id, 'READY');
    expect(ready.termsSource).toBe('poll');
  });

  test('the legacy field is read when the current one is absent', async () => {
    const waba = stack.sandbox.world.createWaba({ onboardingStatus: null, legacyStatus: 'ONBOARDED' });
    await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST });
    const ready = await stack.waitForStatus(waba.id, 'READY');
    expect(ready.eligibility).toBe('ONBOARDED');
  });

  test('without the terms by the deadline the onboarding EXPIRES and the run ends', async () => {
    const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE' });
    const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: { ...FAST, termsDeadlineSeconds: 3 } });
    const result = await handle.result();
    expect(result.status).toBe('EXPIRED');
    expect(statuses(result)).toEqual(['CHECKING_ELIGIBILITY', 'AWAITING_TERMS', 'EXPIRED']);
    await recordHistory('manual-expired', handle);
  });
});

describe('eligibility', () => {
  test.each([
    ['INELIGIBLE_COUNTRY_NOT_SUPPORTED', /country/],
    ['INELIGIBLE_USING_WHATSAPP_BUSINESS_APP', /WhatsApp Business app/],
  ])('%s ends in INELIGIBLE with the reason', async (status, reason) => {
    const waba = stack.sandbox.world.createWaba({ onboardingStatus: status });
    const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'INELIGIBLE', eligibility: status });
    expect(result.statusReason).toMatch(reason);
  });

  test('an on-behalf-of WABA can only go through the Intent path, and says so', async () => {
    const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'INELIGIBLE_ON_BEHALF_OF_WABA' });
    const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'embedded_signup', options: FAST });
    const result = await handle.result();
    expect(result.status).toBe('INELIGIBLE');
    expect(result.statusReason).toMatch(/only through the Intent path.*"intent"/);
  });

  test('PENDING_* and unknown values wait and re-check until eligible', async () => {
    const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'PENDING_VALID_PAYMENT_METHOD' });
    await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST });
    const waiting = await stack.waitForState(waba.id, (s) => s.statusReason?.startsWith('PENDING_VALID_PAYMENT_METHOD') === true);
    expect(waiting.status).toBe('CHECKING_ELIGIBILITY');

    stack.sandbox.world.setStatus(waba.id, 'SOMETHING_META_ADDED_LATER');
    const unknown = await stack.waitForState(waba.id, (s) => s.eligibility === 'SOMETHING_META_ADDED_LATER');
    expect(unknown.status).toBe('CHECKING_ELIGIBILITY');

    stack.sandbox.world.setStatus(waba.id, 'ELIGIBLE');
    await stack.waitForStatus(waba.id, 'AWAITING_TERMS', 30_000);
    stack.sandbox.world.setStatus(waba.id, 'ONBOARDED');
    await stack.waitForStatus(waba.id, 'READY');
    await recordHistory('pending-then-polled-ready', stack.client.workflow.getHandle(`mm-onboarding:${waba.id}`));
  });

  test('a WABA without a Cloud API number needs attention, and a recheck resumes it once fixed', async () => {
    const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE', phoneNumbers: [{ platformType: 'ON_PREMISE', displayPhoneNumber: '+1 555 0100' }] });
    const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST });
    const parked = await stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');
    expect(parked.statusReason).toMatch(/registered on Cloud API.*\+1 555 0100 \(ON_PREMISE\)/);

    stack.sandbox.world.waba(waba.id).phoneNumbers[0].platformType = 'CLOUD_API';
    await handle.executeUpdate(recheckUpdate);
    await stack.waitForStatus(waba.id, 'AWAITING_TERMS');
  });
});
