import { FAST, startStack, statuses, type Stack } from '../harness/stack';
import { recordHistory } from '../harness/histories';
import { waitUntil } from '../harness/wait';
import { CONTINUE_AS_NEW_SUGGESTED_AT } from '../harness/limits';
import {
  accountEventSignal,
  getTemplatesQuery,
  recheckUpdate,
  recordTemplateSendUpdate,
  templateStatusSignal,
  termsSignedSignal,
} from '../../workflows/messages';
import { viewTemplate } from '../../workflows/template-readiness';
import { onboardingWorkflowId } from '../../workflows/types';

/** Life after READY: template tracking, and the account events that park, resume or end an onboarding. */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const book = (wabaId: string) => stack.client.workflow.getHandle(onboardingWorkflowId(wabaId)).query(getTemplatesQuery);
async function views(wabaId: string, now = Date.now()) {
  const b = await book(wabaId);
  return Object.fromEntries(b.templates.map((t) => [`${t.name}/${t.language}`, viewTemplate(t, b, now)]));
}

/** An ONBOARDED WABA with two approved marketing templates, a utility one and a paused one. */
async function readyWaba(options: Record<string, number> = FAST) {
  const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ONBOARDED' });
  const m = stack.sandbox.world.messaging;
  await m.createTemplate(waba.id, { name: 'spring_sale', notify: false });
  await m.createTemplate(waba.id, { name: 'spring_sale', language: 'fr', notify: false });
  await m.createTemplate(waba.id, { name: 'order_update', category: 'UTILITY', notify: false });
  await m.createTemplate(waba.id, { name: 'low_quality', status: 'PAUSED', notify: false });
  const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options });
  const ready = await stack.waitForStatus(waba.id, 'READY');
  await waitUntil(async () => (await book(waba.id)).templates.length > 0, 10_000, 'the templates listing');
  return { waba, handle, ready };
}

describe('templates', () => {
  test("the WABA's approved marketing templates are listed at READY and are ready a grace later", async () => {
    const { waba, handle, ready } = await readyWaba({ ...FAST, templateSyncGraceSeconds: 2 });
    const listedAt = Date.now();
    const b = await book(waba.id);
    expect(b.templates.map((t) => `${t.name}/${t.language}`).sort()).toEqual(['spring_sale/en_US', 'spring_sale/fr']);
    const before = await views(waba.id, listedAt);
    const readyAt = new Date(Date.parse(ready.readyAt!) + 2_000).toISOString();
    expect(before['spring_sale/en_US']).toMatchObject({ ready: false, readyAt });
    expect((await views(waba.id, Date.parse(readyAt)))['spring_sale/en_US'].ready).toBe(true);
    expect(stack.sandbox.world.countCalls({ endpoint: 'message_templates', wabaId: waba.id })).toBe(1);
    await recordHistory('templates-listed-at-ready', handle);
  });

  test('a template approved after READY is ready a grace after its approval; a paused one is not, with the reason', async () => {
    const { waba, handle } = await readyWaba();
    await handle.signal(templateStatusSignal, { name: 'summer_sale', language: 'en_US', id: '77', status: 'APPROVED' });
    await waitUntil(async () => (await book(waba.id)).templates.some((t) => t.name === 'summer_sale'));
    const approvedAt = Date.parse((await book(waba.id)).templates.find((t) => t.name === 'summer_sale')!.approvedAt!);
    const fresh = (await views(waba.id, approvedAt + 500))['summer_sale/en_US'];
    expect(fresh).toMatchObject({ ready: false, readyAt: new Date(approvedAt + 1_000).toISOString(), id: '77' });
    expect((await views(waba.id, approvedAt + 1_000))['summer_sale/en_US'].ready).toBe(true);

    await handle.signal(templateStatusSignal, { name: 'spring_sale', language: 'en_US', status: 'PAUSED', reason: 'Low quality' });
    await waitUntil(async () => (await views(waba.id))['spring_sale/en_US'].status === 'PAUSED');
    expect((await views(waba.id))['spring_sale/en_US']).toMatchObject({ ready: false, reason: 'PAUSED: Low quality' });
  });

  test('a send is recorded only when due: the workflow refuses the rest, and the refusals leave no history', async () => {
    const { waba, handle } = await readyWaba();
    await waitUntil(async () => (await views(waba.id))['spring_sale/en_US'].ready, 10_000, 'the template to be ready');
    const recorded = await handle.executeUpdate(recordTemplateSendUpdate, { args: [{ name: 'spring_sale', language: 'en_US', record: 'refresh' }] });
    expect(recorded).toMatchObject({ recorded: 'refresh', template: { ready: true, lastSentAt: expect.any(String) } });
    const eventsAfterFirst = (await handle.fetchHistory()).events!.length;
    for (const record of ['refresh', 'resync'] as const) {
      await expect(handle.executeUpdate(recordTemplateSendUpdate, { args: [{ name: 'spring_sale', language: 'en_US', record }] })).rejects.toThrow();
    }
    await expect(handle.executeUpdate(recordTemplateSendUpdate, { args: [{ name: 'unknown', language: 'en_US', record: 'refresh' }] })).rejects.toMatchObject({
      cause: { message: expect.stringMatching(/no marketing template unknown/) },
    });
    expect((await handle.fetchHistory()).events!.length).toBe(eventsAfterFirst);
  });

  test('the templates and their send records survive continue-as-new', async () => {
    const { waba, handle } = await readyWaba();
    await waitUntil(async () => (await views(waba.id))['spring_sale/en_US'].ready, 10_000, 'the template to be ready');
    await handle.executeUpdate(recordTemplateSendUpdate, { args: [{ name: 'spring_sale', language: 'en_US', record: 'refresh' }] });
    await handle.signal(templateStatusSignal, { name: 'spring_sale', language: 'fr', status: 'PAUSED', reason: 'Low quality' });
    const before = await book(waba.id);
    const firstRunId = (await handle.describe()).runId;
    for (let i = 0; i < CONTINUE_AS_NEW_SUGGESTED_AT; i++) await handle.signal(termsSignedSignal, { source: 'legacy_webhook' });
    const latest = stack.client.workflow.getHandle(handle.workflowId);
    await waitUntil(async () => (await latest.describe()).runId !== firstRunId, 30_000, 'continue-as-new');
    expect(await book(waba.id)).toEqual(before);
    // The new run does not list the templates again.
    expect(stack.sandbox.world.countCalls({ endpoint: 'message_templates', wabaId: waba.id })).toBe(1);
  }, 60_000);
});

describe("the account's life", () => {
  test('a ban parks a READY WABA; its REINSTATE makes the onboarding read the status at once and be READY again', async () => {
    const { waba, handle } = await readyWaba();
    await stack.sandbox.world.emitAccountEvent(waba.id, 'DISABLED_UPDATE'); // Meta's side: restricted
    await handle.signal(accountEventSignal, { event: 'DISABLED_UPDATE', detail: 'ban state DISABLE', banState: 'DISABLE' });
    const parked = await stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');
    expect(parked.statusReason).toBe('DISABLED_UPDATE: ban state DISABLE');
    const readsWhileParked = stack.sandbox.world.countCalls({ endpoint: 'waba_status', wabaId: waba.id });

    await stack.sandbox.world.emitAccountEvent(waba.id, 'DISABLED_UPDATE', { ban_info: { waba_ban_state: 'REINSTATE' } });
    await handle.signal(accountEventSignal, { event: 'DISABLED_UPDATE', detail: 'ban state REINSTATE', banState: 'REINSTATE' });
    const again = await stack.waitForState(waba.id, (s) => s.status === 'READY' && s.history.length > parked.history.length);
    expect(statuses(again).slice(-4)).toEqual(['NEEDS_ATTENTION', 'CHECKING_ELIGIBILITY', 'SYNCING_TEMPLATES', 'READY']);
    expect(stack.sandbox.world.countCalls({ endpoint: 'waba_status', wabaId: waba.id })).toBe(readsWhileParked + 1);
    await recordHistory('ready-banned-then-reinstated', handle);
  });

  test('a REINSTATE for a WABA that is not parked changes nothing', async () => {
    const { waba, handle, ready } = await readyWaba();
    await handle.signal(accountEventSignal, { event: 'DISABLED_UPDATE', detail: 'ban state REINSTATE', banState: 'REINSTATE' });
    await handle.executeUpdate(recheckUpdate); // a later update, so the signal has been handled
    const after = await stack.state(waba.id);
    expect(after).toMatchObject({ status: 'READY', history: ready.history });
  });

  test.each(['PARTNER_REMOVED', 'ACCOUNT_OFFBOARDED', 'ACCOUNT_DELETED'] as const)('%s ends a READY onboarding in OFFBOARDED', async (event) => {
    const { handle } = await readyWaba();
    await handle.signal(accountEventSignal, { event, detail: 'from the test' });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'OFFBOARDED', statusReason: `${event}: from the test` });
    expect(statuses(result).slice(-2)).toEqual(['READY', 'OFFBOARDED']);
    if (event === 'ACCOUNT_OFFBOARDED') await recordHistory('ready-then-offboarded', handle);
  });

  test('an offboarding also ends an onboarding parked in NEEDS_ATTENTION', async () => {
    const { waba, handle } = await readyWaba();
    await handle.signal(accountEventSignal, { event: 'ACCOUNT_RESTRICTION' });
    await stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');
    await handle.signal(accountEventSignal, { event: 'ACCOUNT_DELETED' });
    expect(await handle.result()).toMatchObject({ status: 'OFFBOARDED', statusReason: 'ACCOUNT_DELETED' });
  });
});
