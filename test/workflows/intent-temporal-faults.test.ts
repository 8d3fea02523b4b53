/**
 * The Intent path when Temporal itself fails a signal. The business's answer: a retry tells only the
 * WABAs not reached yet, one refused for good costs the others nothing, and a WABA never told hears
 * the answer on its own recheck. A WABA's join: retried while Temporal is unreachable, parked in
 * NEEDS_ATTENTION when refused, and joined again by the recheck.
 */
import { ServiceError, WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createBusinessIntentActivities, joinIntent, type IntentTellOutcome } from '../../activities/business-intent';
import { onboardingStartOptions } from '../../workflows/start-options';
import { getIntentStateQuery, recheckUpdate } from '../../workflows/messages';
import { businessIntentWorkflowId, onboardingWorkflowId } from '../../workflows/types';
import { recordHistory } from '../harness/histories';
import { startStack, WEBHOOK_ONLY, type Stack } from '../harness/stack';
import { eventually } from '../harness/wait';

/** gRPC codes: UNAVAILABLE is worth a retry; INVALID_ARGUMENT (e.g. past the signal limit) is refused for good. */
const UNAVAILABLE = 14;
const INVALID_ARGUMENT = 3;

/** The signals to an onboarding (by workflow id) that fail next, and with which gRPC code. */
const faults = new Map<string, { code: number; times: number }>();
const signalAttempts = new Map<string, number>();

/** Temporal's signal error as the client throws it: a ServiceError around the gRPC error. */
const grpcError = (code: number) => new ServiceError('Failed to signal Workflow', { cause: Object.assign(new Error(`gRPC ${code}`), { code }) });

/** `signal` of `handle`, failing as `faults` says for its workflow. */
async function faultySignal(workflowId: string, signal: () => Promise<void>): Promise<void> {
  signalAttempts.set(workflowId, (signalAttempts.get(workflowId) ?? 0) + 1);
  const fault = faults.get(workflowId);
  if (fault && fault.times > 0) {
    fault.times--;
    throw grpcError(fault.code);
  }
  await signal();
}

/** The stack's client, whose workflow signals (and signal-with-starts) fail as `faults` says. */
function faultyClient(client: Client): Client {
  const workflow = Object.create(client.workflow, {
    signalWithStart: {
      value: (...args: Parameters<Client['workflow']['signalWithStart']>) =>
        faultySignal(args[1].workflowId, async () => void (await client.workflow.signalWithStart(...args))),
    },
    getHandle: {
      value: (workflowId: string) => {
        const handle = client.workflow.getHandle(workflowId);
        return { ...handle, signal: (...args: Parameters<WorkflowHandle['signal']>) => faultySignal(workflowId, () => handle.signal(...args)) };
      },
    },
  });
  return Object.create(client, { workflow: { value: workflow } }) as Client;
}

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    activities: (client) => {
      const { tellIntentRequested, joinBusinessIntent } = createBusinessIntentActivities(faultyClient(client));
      return { tellIntentRequested, joinBusinessIntent };
    },
  });
});
afterAll(async () => {
  await stack?.stop();
});
afterEach(() => {
  faults.clear();
  signalAttempts.clear();
});

const world = () => stack.sandbox.world;
const answersIn = async (wabaId: string) =>
  ((await stack.client.workflow.getHandle(onboardingWorkflowId(wabaId)).fetchHistory()).events ?? []).filter(
    (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'intentRequested',
  ).length;
const businessHandle = (businessId: string) => stack.client.workflow.getHandle(businessIntentWorkflowId(businessId));

/** Three WABAs of one business, started as a discovery starts them and put on its request with one join. */
async function threeJoinedWabas() {
  const business = world().createBusiness();
  const wabas = [1, 2, 3].map(() => world().createWaba({ ownerBusinessId: business.id, onboardingStatus: 'ELIGIBLE' }));
  for (const w of wabas) {
    await stack.client.workflow.start(
      'onboarding',
      onboardingStartOptions(
        { wabaId: w.id, businessId: business.id, path: 'intent', origin: 'discovery', listedStatus: 'ELIGIBLE', intentJoined: true, options: WEBHOOK_ONLY },
        stack.config,
      ),
    );
  }
  return { business, wabas, join: () => joinIntent(stack.client, stack.config.temporal.taskQueue, { businessId: business.id, wabaIds: wabas.map((w) => w.id) }) };
}

describe('a retried tell', () => {
  test('signals only the WABAs its last attempt did not reach; an ended onboarding is not retried', async () => {
    const fake = {
      workflow: {
        getHandle: (workflowId: string) => ({
          signal: () =>
            faultySignal(workflowId, async () => {
              if (workflowId === 'mm-onboarding:ended') throw new WorkflowNotFoundError('ended', workflowId, undefined);
            }),
        }),
      },
    } as unknown as Client;
    const { tellIntentRequested } = createBusinessIntentActivities(fake);
    const ids = ['a', 'b', 'ended', 'refused', 'c'];
    faults.set(onboardingWorkflowId('b'), { code: UNAVAILABLE, times: 1 });
    faults.set(onboardingWorkflowId('refused'), { code: INVALID_ARGUMENT, times: Infinity });
    const answer = { businessId: 'x', requestId: 'r' };

    const first = new MockActivityEnvironment({ attempt: 1 });
    let progress: unknown;
    first.on('heartbeat', (details: unknown) => (progress = details));
    await expect(first.run(tellIntentRequested, { wabaIds: ids, answer })).rejects.toThrow(/1 of 5 WABAs not told yet/);
    expect(progress).toEqual({ next: 5, retry: ['b'], refused: ['refused'] });

    signalAttempts.clear();
    const second = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: progress });
    const outcome: IntentTellOutcome = await second.run(tellIntentRequested, { wabaIds: ids, answer });
    expect(outcome).toEqual({ refused: ['refused'] });
    expect([...signalAttempts.keys()]).toEqual([onboardingWorkflowId('b')]);
  });
});

describe("a business's answer when Temporal fails some signals", () => {
  test('Temporal unavailable for one WABA: the tell retries that WABA alone, and the others hold one answer each', async () => {
    const { business, wabas, join } = await threeJoinedWabas();
    const [told, stuck, alsoTold] = wabas;
    faults.set(onboardingWorkflowId(stuck.id), { code: UNAVAILABLE, times: Infinity });
    await join();
    await stack.waitForStatus(told.id, 'AWAITING_TERMS');
    await stack.waitForStatus(alsoTold.id, 'AWAITING_TERMS');

    // The fault stays over several attempts: each one tries the stuck WABA only.
    const attempt = await eventually(async () => {
      const { raw } = await businessHandle(business.id).describe();
      const a = raw.pendingActivities?.[0]?.attempt ?? 0;
      return a >= 3 ? a : undefined;
    }, 30_000, 'the third attempt of the tell');
    expect(signalAttempts.get(onboardingWorkflowId(stuck.id))).toBeGreaterThanOrEqual(attempt - 1);
    expect(signalAttempts.get(onboardingWorkflowId(told.id))).toBe(1);
    expect(signalAttempts.get(onboardingWorkflowId(alsoTold.id))).toBe(1);

    // It clears: the next attempt tells the stuck WABA, and every WABA heard the answer exactly once.
    faults.clear();
    await stack.waitForStatus(stuck.id, 'AWAITING_TERMS', 30_000);
    for (const w of wabas) expect(await answersIn(w.id)).toBe(1);
    expect(world().intentRequestCount(business.id)).toBe(1);
    expect((await businessHandle(business.id).query(getIntentStateQuery)).tellError).toBeUndefined();
  }, 60_000);

  test('a WABA Temporal refuses for good costs the others nothing, and hears the answer on its recheck', async () => {
    const business = world().createBusiness();
    const wabas = [1, 2, 3].map(() => world().createWaba({ ownerBusinessId: business.id, onboardingStatus: 'ELIGIBLE' }));
    const [told, refused, alsoTold] = wabas;
    faults.set(onboardingWorkflowId(refused.id), { code: INVALID_ARGUMENT, times: 1 });
    // Started as a partner starts them: each joins the business's request itself.
    for (const w of wabas) await stack.start({ wabaId: w.id, businessId: business.id, path: 'intent', options: WEBHOOK_ONLY });
    await stack.waitForStatus(told.id, 'AWAITING_TERMS');
    await stack.waitForStatus(alsoTold.id, 'AWAITING_TERMS');
    const intent = await eventually(async () => {
      const s = await businessHandle(business.id).query(getIntentStateQuery);
      return s.tellError ? s : undefined;
    }, 10_000, "the business's record of the refused WABA");
    expect(intent.tellError).toContain(refused.id);
    expect((await stack.state(refused.id)).status).toBe('REQUESTING_INTENT');
    // No retry: a refusal for good is not tried again by the tell.
    expect(signalAttempts.get(onboardingWorkflowId(refused.id))).toBe(1);

    // An operator's recheck joins the request again; the answer comes, with no second request to Meta.
    await stack.client.workflow.getHandle(onboardingWorkflowId(refused.id)).executeUpdate(recheckUpdate);
    const waiting = await stack.waitForStatus(refused.id, 'AWAITING_TERMS');
    expect(waiting.intentRequestId).toEqual(expect.any(String));
    for (const w of wabas) expect(await answersIn(w.id)).toBe(1);
    expect(world().intentRequestCount(business.id)).toBe(1);
    await recordHistory('intent-answer-heard-on-recheck', stack.client.workflow.getHandle(onboardingWorkflowId(refused.id)));
    await recordHistory('business-intent-tell-refused', businessHandle(business.id));
  });
});

describe("a WABA's join when Temporal fails it", () => {
  /** The attempt each of the onboarding's joinBusinessIntent activities started with (its last). */
  const joinAttempts = async (wabaId: string) => {
    const events = (await stack.client.workflow.getHandle(onboardingWorkflowId(wabaId)).fetchHistory()).events ?? [];
    const joins = new Set(
      events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'joinBusinessIntent').map((e) => String(e.eventId)),
    );
    return events
      .filter((e) => joins.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId)))
      .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
  };

  test('Temporal unavailable: the join is retried and the onboarding goes on', async () => {
    const business = world().createBusiness();
    const waba = world().createWaba({ ownerBusinessId: business.id, onboardingStatus: 'ELIGIBLE' });
    faults.set(businessIntentWorkflowId(business.id), { code: UNAVAILABLE, times: 2 });
    await stack.start({ wabaId: waba.id, businessId: business.id, path: 'intent', options: WEBHOOK_ONLY });
    await stack.waitForStatus(waba.id, 'AWAITING_TERMS', 30_000);
    expect(signalAttempts.get(businessIntentWorkflowId(business.id))).toBe(3);
    expect(await joinAttempts(waba.id)).toEqual([3]);
  });

  test('refused for good: the onboarding parks in NEEDS_ATTENTION at once, and a recheck joins again', async () => {
    const business = world().createBusiness();
    const waba = world().createWaba({ ownerBusinessId: business.id, onboardingStatus: 'ELIGIBLE' });
    faults.set(businessIntentWorkflowId(business.id), { code: INVALID_ARGUMENT, times: Infinity });
    await stack.start({ wabaId: waba.id, businessId: business.id, path: 'intent', options: WEBHOOK_ONLY });
    const parked = await stack.waitForStatus(waba.id, 'NEEDS_ATTENTION');
    expect(parked.statusReason).toMatch(/could not join the business's Intent request in Temporal: Temporal refused the join/);
    expect(signalAttempts.get(businessIntentWorkflowId(business.id))).toBe(1);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(signalAttempts.get(businessIntentWorkflowId(business.id))).toBe(1);

    faults.clear();
    await stack.client.workflow.getHandle(onboardingWorkflowId(waba.id)).executeUpdate(recheckUpdate);
    await stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    expect(world().intentRequestCount(business.id)).toBe(1);
    await recordHistory('intent-join-refused-then-rechecked', stack.client.workflow.getHandle(onboardingWorkflowId(waba.id)));
  });
});
