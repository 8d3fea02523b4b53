/**
 * What one WABA may cost when Meta keeps failing: every fault kind the sandbox offers, with rechecks
 * and webhooks in between, under a ceiling of Graph calls and history events per WABA. A throttle
 * that keeps coming back within a recheck's bound parks like the rest (one Meta asks minutes for is
 * waited out instead: test/api/partner/recheck-during-fault.test.ts).
 */
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { FAULT_KINDS } from '../../sandbox/faults';
import { STATUS_READS_PER_DAY } from '../../workflows/graph-budget';
import { recheckUpdate, termsSignedSignal } from '../../workflows/messages';
import type { OnboardingState } from '../../workflows/types';
import { recordHistory } from '../harness/histories';
import { startStack, WEBHOOK_ONLY, type Stack } from '../harness/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

/** A recheck's read gives up within 20 s (graph-calls); the rest is slack for a loaded machine. */
const RECHECK_ANSWER_MS = 25_000;
/** One read per recheck, at most 4 attempts each. */
const CALLS_PER_RECHECK = 4;
/** Seen: about 45 events for a whole journey with three rechecks; a storm makes hundreds a second. */
const HISTORY_EVENTS_CEILING = 120;

const world = () => stack.sandbox.world;
const statusCalls = (wabaId: string) => world().countCalls({ endpoint: 'waba_status', wabaId });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function timedRecheck(handle: WorkflowHandle): Promise<{ state: OnboardingState; ms: number }> {
  const startedAt = Date.now();
  const state = await handle.executeUpdate(recheckUpdate);
  return { state, ms: Date.now() - startedAt };
}

async function historyLength(handle: WorkflowHandle): Promise<number> {
  return (await handle.fetchHistory()).events?.length ?? 0;
}

/** The error kinds park the onboarding; latency only slows the answer down. */
const PARKS: Record<Exclude<(typeof FAULT_KINDS)[number], 'slipped_cursor'>, boolean> = {
  transient: true,
  server_error: true,
  throttle: true,
  app_throttle: true,
  token_expired: true,
  permission: true,
  latency: false,
};

// slipped_cursor is a list's paging fault (test/workflows/discovery.test.ts), not a status read's.
const STATUS_READ_FAULTS = FAULT_KINDS.filter((kind): kind is keyof typeof PARKS => kind !== 'slipped_cursor');

test.each(STATUS_READ_FAULTS)('a %s fault that never clears costs a bounded number of Graph calls and events', async (kind) => {
  const waba = world().createWaba({ onboardingStatus: 'ELIGIBLE' });
  const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
  await stack.waitForStatus(waba.id, 'AWAITING_TERMS');
  // A throttle's business waits out Meta's regain time (3 s here) before its next call, rechecks included.
  world().injectFault({ endpoint: 'waba_status', wabaId: waba.id, kind, times: Infinity, latencyMs: 2_000, regainAccessMinutes: 0.05 });

  // Two rechecks while the fault stays: each answers promptly with the state after its one read.
  for (let i = 0; i < 2; i++) {
    const before = statusCalls(waba.id);
    const { state, ms } = await timedRecheck(handle);
    expect(ms).toBeLessThan(RECHECK_ANSWER_MS);
    expect(state.status).toBe(PARKS[kind] ? 'NEEDS_ATTENTION' : 'AWAITING_TERMS');
    if (PARKS[kind]) expect(state.statusReason).toMatch(/Graph API/);
    const spent = statusCalls(waba.id) - before;
    expect(spent).toBeGreaterThanOrEqual(1);
    expect(spent).toBeLessThanOrEqual(CALLS_PER_RECHECK);
    // Left alone, nothing reads Graph for this WABA.
    await pause(2_000);
    expect(statusCalls(waba.id)).toBe(before + spent);
  }

  // A terms webhook while parked is kept, and asks one read as a recheck would (it may resume the
  // onboarding); the fault stays, so it parks again and reads nothing more.
  const beforeWebhook = statusCalls(waba.id);
  await handle.signal(termsSignedSignal, { source: 'webhook' });
  if (PARKS[kind]) await stack.waitForState(waba.id, (s) => s.status === 'NEEDS_ATTENTION' && s.history.filter((e) => e.status === 'NEEDS_ATTENTION').length === 3);
  await pause(1_000);
  const spentOnWebhook = statusCalls(waba.id) - beforeWebhook;
  expect(spentOnWebhook).toBeLessThanOrEqual(PARKS[kind] ? CALLS_PER_RECHECK : 0);
  await pause(2_000);
  expect(statusCalls(waba.id)).toBe(beforeWebhook + spentOnWebhook);

  // Fixed: the next recheck resumes the onboarding, and the webhook's terms carry it to READY.
  world().clearFaults();
  if (PARKS[kind]) await timedRecheck(handle);
  await stack.waitForStatus(waba.id, 'READY');

  expect(statusCalls(waba.id)).toBeLessThanOrEqual(1 + 4 * CALLS_PER_RECHECK);
  expect(await historyLength(handle)).toBeLessThanOrEqual(HISTORY_EVENTS_CEILING);
  if (kind === 'token_expired') await recordHistory('recheck-while-token-stays-expired', handle);
}, 90_000);

test('a fault present from the start parks once and reads nothing more until a recheck', async () => {
  const waba = world().createWaba({ onboardingStatus: 'ELIGIBLE' });
  world().injectFault({ endpoint: 'waba_status', wabaId: waba.id, kind: 'permission', times: Infinity });
  const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
  await stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');
  const { state } = await timedRecheck(handle);
  expect(state).toMatchObject({ status: 'NEEDS_ATTENTION', statusReason: expect.stringMatching(/permission/i) });
  await pause(3_000);
  expect(statusCalls(waba.id)).toBe(2);
  const state2 = await stack.state(waba.id);
  // Two entries: the first parking and the recheck's pass; never one per read of a storm.
  expect(state2.history.filter((h) => h.status === 'NEEDS_ATTENTION')).toHaveLength(2);
  expect(await historyLength(handle)).toBeLessThanOrEqual(HISTORY_EVENTS_CEILING);
});

test("failing reads count against the WABA's daily read budget: past it, a recheck is refused with the time", async () => {
  const waba = world().createWaba({ onboardingStatus: 'ELIGIBLE' });
  world().injectFault({ endpoint: 'waba_status', wabaId: waba.id, kind: 'permission', times: Infinity });
  const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
  await stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');

  let answered = 0;
  let refusal: unknown;
  for (let i = 0; i < STATUS_READS_PER_DAY + 5 && !refusal; i++) {
    try {
      await handle.executeUpdate(recheckUpdate);
      answered++;
    } catch (err) {
      refusal = err;
    }
  }
  expect(refusal).toBeInstanceOf(WorkflowUpdateFailedError);
  expect((refusal as WorkflowUpdateFailedError).cause?.message).toMatch(/daily budget of Graph status reads is spent; try after \d{4}-/);
  expect(answered).toBe(STATUS_READS_PER_DAY - 1); // the first read at the start counted too
  expect(statusCalls(waba.id)).toBe(STATUS_READS_PER_DAY);
}, 90_000);
