import type { WorkflowHandle } from '@temporalio/client';
import { FAST, startStack, type Stack } from '../harness/stack';
import { waitUntil } from '../harness/wait';
import { runSizes, type RunSize } from '../harness/history-sizes';
import { CONTINUE_AS_NEW_SUGGESTED_AT } from '../harness/limits';
import {
  accountEventSignal,
  getTemplatesQuery,
  recheckUpdate,
  recordTemplateSendUpdate,
  setSettingsUpdate,
  templateStatusSignal,
  termsSignedSignal,
} from '../../workflows/messages';
import { sendRecordDue } from '../../workflows/template-readiness';
import { ONBOARDING_RUN_BOUND } from '../../workflows/history-bounds';
import { STATUS_READS_PER_DAY } from '../../workflows/graph-budget';

/**
 * A READY onboarding lives for years and hears about every template webhook, send record, recheck and
 * settings change of its WABA. Each run stays within ONBOARDING_RUN_BOUND; past it the run continues
 * as new at its next quiet moment, so a query to an evicted run replays a short history.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

/**
 * What a run writes past the bound before it has moved: the workflow task that crossed it, and the
 * messages that land while it continues as new (Temporal then retries the move with them). The
 * drivers below await an update every round or two, as a send gate does: a few messages at a time.
 */
const OVERSHOOT = { events: 20, bytes: 16 * 1024 };

/** The webhook receiver's largest template change: a 512-character name, a 32-character language, a 300-character reason. */
const LONGEST_NAME = 'n'.repeat(512);
const LONGEST_LANGUAGE = 'l'.repeat(32);
const LONGEST_REASON = 'r'.repeat(300);

async function readyWaba(): Promise<WorkflowHandle> {
  const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ONBOARDED' });
  for (const name of ['spring_sale', 'summer_sale', 'autumn_sale']) await stack.sandbox.world.messaging.createTemplate(waba.id, { name, notify: false });
  // Sends are recorded every second (a seventh of the idle window): the busiest a send gate can make a run.
  const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: { ...FAST, templateIdleSeconds: 7 } });
  await stack.waitForStatus(waba.id, 'READY');
  await waitUntil(async () => (await handle.query(getTemplatesQuery)).templates.length === 3, 10_000, 'the templates listing');
  return handle;
}

/** Keeps the run busy with `oneRound` until it has continued as new `runs` times (bounded in rounds). */
async function keepBusy(handle: WorkflowHandle, runs: number, oneRound: (round: number) => Promise<void>): Promise<RunSize[]> {
  const first = (await handle.describe()).runId;
  let closed: RunSize[] = [];
  for (let round = 0; round < 2_000 && closed.length < runs; round++) {
    await oneRound(round);
    if (round % 20 === 19) closed = (await runSizes(stack.client, handle.workflowId, first)).filter((r) => r.nextRunId);
  }
  expect(closed.length).toBeGreaterThanOrEqual(runs);
  return runSizes(stack.client, handle.workflowId, first);
}

function report(label: string, runs: RunSize[]): void {
  const worst = (pick: (r: RunSize) => number) => Math.max(...runs.map(pick));
  console.log(
    `${label}: ${runs.length} runs; worst run ${worst((r) => r.events)} events, ${worst((r) => r.bytes)} bytes ` +
      `(${worst((r) => r.bytes - r.startBytes)} written by the run); largest hand-over ${worst((r) => r.handedOverBytes ?? 0)} bytes`,
  );
}

test('a READY run kept busy by sends, webhooks, rechecks and settings continues as new within its bound in events', async () => {
  const handle = await readyWaba();
  let rechecks = 0;
  let sharing = false;
  const runs = await keepBusy(handle, 3, async (round) => {
    const paused = round % 2 === 0;
    await handle.signal(templateStatusSignal, { name: 'summer_sale', language: 'en_US', status: paused ? 'PAUSED' : 'APPROVED', ...(paused ? { reason: 'Low quality' } : {}) });
    await handle.signal(termsSignedSignal, { source: 'legacy_webhook' });
    await handle.signal(accountEventSignal, { event: 'DISABLED_UPDATE', detail: 'ban state REINSTATE', banState: 'REINSTATE' });
    await handle.executeUpdate(setSettingsUpdate, { args: [{ messageActivitySharing: (sharing = !sharing) }] });
    const book = await handle.query(getTemplatesQuery);
    for (const t of book.templates) {
      const record = sendRecordDue(t, book, Date.now());
      if (record) await handle.executeUpdate(recordTemplateSendUpdate, { args: [{ name: t.name, language: t.language, record }] });
    }
    // Within the WABA's daily budget of status reads.
    if (round % 5 === 0 && rechecks < STATUS_READS_PER_DAY / 2) {
      rechecks++;
      await handle.executeUpdate(recheckUpdate);
    }
  });
  report('busy READY run, ordinary messages', runs);
  for (const run of runs) expect(run.events).toBeLessThanOrEqual(ONBOARDING_RUN_BOUND.events + OVERSHOOT.events);
  // The bound, not Temporal's suggestion (this server's: at CONTINUE_AS_NEW_SUGGESTED_AT events), ended each run.
  expect(ONBOARDING_RUN_BOUND.events + OVERSHOOT.events).toBeLessThan(CONTINUE_AS_NEW_SUGGESTED_AT);
  for (const run of runs) expect(run.bytes - run.startBytes).toBeLessThanOrEqual(ONBOARDING_RUN_BOUND.bytes + OVERSHOOT.bytes);
  expect(rechecks).toBeGreaterThan(0);
}, 120_000);

test("a READY run hearing the webhook receiver's largest template changes continues as new within its bound in bytes", async () => {
  const handle = await readyWaba();
  let sharing = false;
  const runs = await keepBusy(handle, 3, async (round) => {
    const paused = round % 2 === 0;
    await handle.signal(templateStatusSignal, {
      name: LONGEST_NAME,
      language: LONGEST_LANGUAGE,
      id: '9'.repeat(32),
      status: paused ? 'PAUSED' : 'APPROVED',
      ...(paused ? { reason: LONGEST_REASON } : {}),
    });
    if (round % 2 === 0) await handle.executeUpdate(setSettingsUpdate, { args: [{ messageActivitySharing: (sharing = !sharing) }] });
  });
  report("busy READY run, the receiver's largest messages", runs);
  const closed = runs.filter((r) => r.nextRunId);
  for (const run of runs) expect(run.bytes - run.startBytes).toBeLessThanOrEqual(ONBOARDING_RUN_BOUND.bytes + OVERSHOOT.bytes);
  // The bytes ended runs before the event bound did (on a busy machine more lands while one moves,
  // so not necessarily every one: each still stays within its bytes, above).
  expect(closed.some((run) => run.events < ONBOARDING_RUN_BOUND.events)).toBe(true);
}, 120_000);
