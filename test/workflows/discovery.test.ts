import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { startStack, WEBHOOK_ONLY, type Stack } from '../harness/stack';
import { eventually, waitUntil } from '../harness/wait';
import { recordHistory } from '../harness/histories';
import { createDiscoveryActivities, workflowTaskBacklog } from '../../activities/discovery';
import { GraphClient } from '../../graph';
import { cancelUpdate, getIntentStateQuery, recheckUpdate, termsSignedSignal } from '../../workflows/messages';
import { discoveryWorkflowId, type DiscoveredWaba, type DiscoveryInput, type DiscoveryState, type PageStartOutcome } from '../../workflows/discovery-types';
import type { Config } from '../../config';
import { discoveryStartOptions, onboardingStartOptions } from '../../workflows/start-options';
import { businessIntentWorkflowId, onboardingWorkflowId } from '../../workflows/types';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const world = () => stack.sandbox.world;

/** Starts a discovery as the API does, with a page size of its own. */
function startDiscovery(input: Omit<DiscoveryInput, 'path'> & { path?: DiscoveryInput['path'] }) {
  return stack.client.workflow.start('discovery', {
    ...discoveryStartOptions({ path: 'intent', options: WEBHOOK_ONLY, ...input }),
    taskQueue: stack.config.temporal.taskQueue,
  });
}

/** A partner portfolio whose client WABAs have these statuses, in list order, owned round-robin by `owners`. */
function portfolio(statuses: string[], owners = 1) {
  const partner = world().createBusiness();
  const ends = Array.from({ length: owners }, () => world().createBusiness());
  const wabas = statuses.map((onboardingStatus, i) =>
    world().createWaba({ partnerBusinessId: partner.id, ownerBusinessId: ends[i % owners].id, onboardingStatus }),
  );
  return { partner, ends, wabas, eligible: wabas.filter((w) => w.onboardingStatus === 'ELIGIBLE') };
}

/** The page's WABAs as a discovery lists them. */
const listed = (wabas: Array<{ id: string; ownerBusinessId: string }>): DiscoveredWaba[] =>
  wabas.map((w) => ({ wabaId: w.id, businessId: w.ownerBusinessId }));

/**
 * One page's start activity, run as an attempt of a discovery runs it (manual path, webhook-only
 * options), with the clients and config given (the stack's by default).
 */
function startPage(
  discoveryKey: string,
  wabas: DiscoveredWaba[],
  opts: { attempt?: number; client?: Client; eagerStarter?: Client; config?: Config; heartbeats?: unknown[] } = {},
): Promise<PageStartOutcome> {
  const graph = new GraphClient({ baseUrl: stack.sandboxUrl, version: 'v24.0', accessToken: 'unused', appId: 'unused', appSecret: 'unused' });
  const { startDiscoveredOnboardings } = createDiscoveryActivities(graph, opts.client ?? stack.client, opts.config ?? stack.config, opts.eagerStarter);
  const env = new MockActivityEnvironment({ attempt: opts.attempt ?? 1 });
  env.on('heartbeat', (details: unknown) => opts.heartbeats?.push(details));
  const run = env.run(startDiscoveredOnboardings, {
    discoveryKey,
    path: 'manual' as const,
    options: WEBHOOK_ONLY,
    wabas,
  }) as Promise<PageStartOutcome>;
  return run.finally(() => graph.close());
}

async function hasOnboarding(wabaId: string): Promise<boolean> {
  try {
    await stack.client.workflow.getHandle(onboardingWorkflowId(wabaId)).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** Runs of the WABA's onboarding workflow id, from visibility (eventually consistent: waits for `expected`). */
async function runsOf(wabaId: string): Promise<number> {
  let runs = 0;
  for await (const _ of stack.client.workflow.list({ query: `WorkflowId = "${onboardingWorkflowId(wabaId)}"` })) runs++;
  return runs;
}

describe('discovery', () => {
  test('pages through short and empty pages until paging.next is absent, starting one onboarding per ELIGIBLE WABA under its end business', async () => {
    // Page size 3 over 16 client WABAs: Meta filters after cutting, so page 2 is empty and others short.
    const E = 'ELIGIBLE';
    const statuses = [E, E, E, 'ONBOARDED', 'INELIGIBLE_COUNTRY_NOT_SUPPORTED', 'PENDING_VALID_PAYMENT_METHOD', E, E, E, 'ONBOARDED', E, E, E, E, 'INELIGIBLE_INACTIVE_OR_RESTRICTED', E];
    const { partner, ends, wabas, eligible } = portfolio(statuses, 3);
    expect(eligible).toHaveLength(11);

    const handle = await startDiscovery({ businessId: partner.id, pageSize: 3 });
    const result: DiscoveryState = await handle.result();
    expect(result).toMatchObject({ status: 'COMPLETED', pages: 6, found: 11, started: 11, alreadyRunning: 0, failed: 0 });
    expect(result.completedAt).toEqual(expect.any(String));

    const states = await Promise.all(eligible.map((w) => stack.waitForStatus(w.id, 'AWAITING_TERMS', 60_000)));
    for (const [i, s] of states.entries()) expect(s.businessId).toBe(eligible[i].ownerBusinessId);
    // The page was filtered on ELIGIBLE a moment ago and carried each WABA's numbers: neither is read again.
    for (const w of eligible) {
      expect(world().countCalls({ endpoint: 'waba_status', wabaId: w.id })).toBe(0);
      expect(world().countCalls({ endpoint: 'phone_numbers', wabaId: w.id })).toBe(0);
    }
    for (const waba of wabas.filter((w) => w.onboardingStatus !== E)) expect(await hasOnboarding(waba.id)).toBe(false);
    // One Intent API request per end business, none to the partner's own portfolio.
    for (const end of ends) expect(world().intentRequestCount(end.id)).toBe(1);
    expect(world().intentRequestCount(partner.id)).toBe(0);
    expect(world().countCalls({ endpoint: 'client_wabas', businessId: partner.id })).toBe(6);

    // Operators find it in the Web UI by its search attributes.
    await eventually(async () => {
      const n = await stack.client.workflow.count(`WorkflowType = "discovery" AND BusinessId = "${partner.id}" AND DiscoveryStatus = "COMPLETED"`);
      return n.count === 1 ? true : undefined;
    }, 15_000, 'the discovery to be listed as COMPLETED');
    await recordHistory('discovery-short-pages', handle);
  }, 90_000);

  test('an onboarding already running for a WABA is left alone and counted', async () => {
    const { partner, eligible } = portfolio(['ELIGIBLE', 'ELIGIBLE']);
    const [mine, theirs] = eligible;
    await stack.start({ wabaId: mine.id, businessId: mine.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
    const before = await stack.waitForStatus(mine.id, 'AWAITING_TERMS');

    const result: DiscoveryState = await (await startDiscovery({ businessId: partner.id })).result();
    expect(result).toMatchObject({ status: 'COMPLETED', pages: 1, found: 2, started: 1, alreadyRunning: 1, failed: 0 });
    const after = await stack.state(mine.id);
    expect(after.path).toBe('manual');
    expect(after.history).toEqual(before.history);
    expect(await runsOf(mine.id)).toBe(1);
    await stack.waitForStatus(theirs.id, 'AWAITING_TERMS');
  });

  test('one discovery per portfolio at a time: a second start while it runs is refused by its workflow id', async () => {
    const { partner } = portfolio(['ELIGIBLE']);
    world().injectFault({ endpoint: 'client_wabas', businessId: partner.id, kind: 'latency', latencyMs: 1500 });
    const first = await startDiscovery({ businessId: partner.id });
    await expect(startDiscovery({ businessId: partner.id })).rejects.toThrow(/already started/i);
    expect(first.workflowId).toBe(discoveryWorkflowId(partner.id));
    expect((await first.result()).started).toBe(1);
  });

  test('the history stays bounded: a long list continues as new between pages with its counts carried over', async () => {
    // 60 one-WABA pages write more events than the test server's continue-as-new suggestion (300).
    const statuses = Array.from({ length: 60 }, (_, i) => (i % 20 === 7 ? 'ELIGIBLE' : 'ONBOARDED'));
    const { partner, eligible } = portfolio(statuses);
    const handle = await startDiscovery({ businessId: partner.id, pageSize: 1 });
    const result: DiscoveryState = await handle.result();
    expect(result).toMatchObject({ status: 'COMPLETED', pages: 60, found: 3, started: 3, alreadyRunning: 0, failed: 0 });
    const latest = await stack.client.workflow.getHandle(handle.workflowId).describe();
    expect(latest.runId).not.toBe(handle.firstExecutionRunId);
    expect(latest.historyLength).toBeLessThan(400);
    for (const w of eligible) expect(await hasOnboarding(w.id)).toBe(true);
  }, 120_000);

  test('a list Meta refuses (expired token) ends the discovery FAILED with the reason', async () => {
    const { partner } = portfolio(['ELIGIBLE']);
    world().injectFault({ endpoint: 'client_wabas', businessId: partner.id, kind: 'token_expired' });
    const result: DiscoveryState = await (await startDiscovery({ businessId: partner.id })).result();
    expect(result).toMatchObject({ status: 'FAILED', pages: 0, found: 0, started: 0 });
    expect(result.error).toMatch(/Error validating access token/);
  });

  test('a worker killed mid-discovery: no WABA started twice, none skipped, exact counts', async () => {
    const statuses = Array.from({ length: 30 }, (_, i) => (i % 6 === 5 ? 'ONBOARDED' : 'ELIGIBLE'));
    const { partner, ends, eligible } = portfolio(statuses, 3);
    // Each page takes a while, so the crash lands in the middle of the discovery.
    world().injectFault({ endpoint: 'client_wabas', businessId: partner.id, kind: 'latency', latencyMs: 700, times: Infinity });
    const handle = await startDiscovery({ businessId: partner.id, pageSize: 10 });
    await eventually(async () => ((await hasOnboarding(eligible[0].id)) ? true : undefined), 30_000, 'the first onboardings');

    await stack.stopWorkers();
    const midway = await handle.describe();
    expect(midway.status.name).toBe('RUNNING');
    await stack.startWorkers();

    const result: DiscoveryState = await handle.result();
    world().clearFaults();
    expect(result).toMatchObject({ status: 'COMPLETED', pages: 3, found: eligible.length, started: eligible.length, alreadyRunning: 0, failed: 0 });
    for (const w of eligible) await eventually(async () => ((await runsOf(w.id)) === 1 ? true : undefined), 15_000, `one run for WABA ${w.id}`);
    for (const end of ends) {
      await waitUntil(async () => (await stack.client.workflow.getHandle(businessIntentWorkflowId(end.id)).query(getIntentStateQuery)).requested, 30_000);
      expect(world().intentRequestCount(end.id)).toBe(1);
    }
  }, 120_000);

  test('a retried page counts the onboardings its crashed attempt started as started, and starts none twice', async () => {
    const { partner, eligible } = portfolio(['ELIGIBLE', 'ELIGIBLE', 'ELIGIBLE', 'ELIGIBLE']);
    const [early, endedEarly, late, someoneElses] = listed(eligible);
    const discoveryKey = `test-run-${partner.id}:0`;

    // The first attempt started two onboardings before its worker died; one has ended since.
    await startPage(discoveryKey, [early, endedEarly]);
    await stack.waitForStatus(endedEarly.wabaId, 'AWAITING_TERMS');
    await stack.client.workflow.getHandle(onboardingWorkflowId(endedEarly.wabaId)).executeUpdate(cancelUpdate, { args: [{}] });
    await stack.client.workflow.getHandle(onboardingWorkflowId(endedEarly.wabaId)).result();
    await stack.start({ wabaId: someoneElses.wabaId, businessId: someoneElses.businessId, path: 'manual', options: WEBHOOK_ONLY });
    const runIds = await Promise.all([early, endedEarly].map(async (w) => (await stack.client.workflow.getHandle(onboardingWorkflowId(w.wabaId)).describe()).runId));

    const retried = await startPage(discoveryKey, [early, endedEarly, late, someoneElses], { attempt: 2 });
    expect(retried).toEqual({ started: 3, alreadyRunning: 1, failed: 0 });
    const runIdsAfter = await Promise.all([early, endedEarly].map(async (w) => (await stack.client.workflow.getHandle(onboardingWorkflowId(w.wabaId)).describe()).runId));
    expect(runIdsAfter).toEqual(runIds);
    expect(await hasOnboarding(late.wabaId)).toBe(true);
  });

  test('a listed WABA whose ids are not Meta ids is counted failed and never started: its Keyword attributes would not fit a visibility row', async () => {
    const { partner, eligible } = portfolio(['ELIGIBLE']);
    const [good] = listed(eligible);
    const tooLong = { wabaId: '9'.repeat(300), businessId: good.businessId };
    const notDigits = { wabaId: '2000000000000099', businessId: "biz:'quoted'" };

    const outcome = await startPage(`test-run-${partner.id}:0`, [good, tooLong, notDigits]);
    expect(outcome).toEqual({ started: 1, alreadyRunning: 0, failed: 2 });
    expect(await hasOnboarding(good.wabaId)).toBe(true);
    expect(await hasOnboarding(tooLong.wabaId)).toBe(false);
    expect(await hasOnboarding(notDigits.wabaId)).toBe(false);
  });
});

describe('a discovery paces itself on the task queue', () => {
  test("a page starts only once the workers have caught up with the queue's workflow-task backlog", async () => {
    const { eligible } = portfolio(['ELIGIBLE', 'ELIGIBLE', 'ELIGIBLE']);
    const others = [1, 2, 3].map(() => world().createWaba());
    // No worker: three new onboardings leave three workflow tasks waiting on the queue.
    await stack.stopWorkers();
    let workersBack = false;
    try {
      for (const w of others) await stack.start({ wabaId: w.id, businessId: w.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
      // Temporal's statistics lag a little (they are cached): wait until they show the three.
      const { namespace, taskQueue } = stack.config.temporal;
      await eventually(async () => (((await workflowTaskBacklog(stack.client, namespace, taskQueue)) ?? 0) >= 3 ? true : undefined), 30_000, 'the backlog');

      let done = false;
      const heartbeats: unknown[] = [];
      const page = startPage('paced:0', listed(eligible), { config: { ...stack.config, discoveryMaxTaskBacklog: 2 }, heartbeats }).finally(
        () => (done = true),
      );
      await new Promise((r) => setTimeout(r, 3_000));
      expect(done).toBe(false);
      // The Web UI shows what the page waits for (the pending activity's heartbeat details).
      expect(heartbeats).toContainEqual({ waitingForWorkers: { backlog: expect.any(Number), limit: 2 } });
      for (const w of eligible) expect(await hasOnboarding(w.id)).toBe(false);

      // The workers come back and drain the queue: the page goes ahead.
      await stack.startWorkers();
      workersBack = true;
      await expect(page).resolves.toEqual({ started: 3, alreadyRunning: 0, failed: 0 });
      for (const w of eligible) expect(await hasOnboarding(w.id)).toBe(true);
      expect(heartbeats.at(-1)).toEqual({ started: 3, of: 3 });
    } finally {
      if (!workersBack) await stack.startWorkers(); // the tests after this one need them
    }
  }, 60_000);
});

describe('a discovery that cannot read the backlog', () => {
  test('starts its page unpaced rather than failing', async () => {
    const { eligible } = portfolio(['ELIGIBLE']);
    // A namespace whose API key may start workflows but not describe task queues.
    const refused = Object.create(stack.client, {
      workflowService: { value: { describeTaskQueue: () => Promise.reject(Object.assign(new Error('PERMISSION_DENIED'), { code: 7 })) } },
    }) as Client;
    const outcome = await startPage('unpaced:0', listed(eligible), { client: refused, config: { ...stack.config, discoveryMaxTaskBacklog: 1 } });
    expect(outcome).toEqual({ started: 1, alreadyRunning: 0, failed: 0 });
  });
});

describe('a discovered onboarding starts on the worker that started it', () => {
  test('with a client on the workers\' connection, the first task comes back with the start (eager start)', async () => {
    const { eligible } = portfolio(['ELIGIBLE', 'ELIGIBLE']);
    const eagerStarter = new Client({ connection: stack.workerConnection, namespace: stack.config.temporal.namespace });
    const outcome = await startPage('eager:0', listed(eligible), { eagerStarter });
    expect(outcome).toMatchObject({ started: 2, failed: 0 });
    expect(outcome.eagerlyStarted).toBeGreaterThan(0);
    for (const w of eligible) await stack.waitForStatus(w.id, 'AWAITING_TERMS');
  });
});

describe('a discovered WABA costs no call the page already answered', () => {
  test("a page's WABAs of one business join its Intent request with one signal, and run no join or numbers call of their own", async () => {
    const { partner, ends, eligible } = portfolio(['ELIGIBLE', 'ELIGIBLE', 'ELIGIBLE', 'ELIGIBLE']);
    const result: DiscoveryState = await (await startDiscovery({ businessId: partner.id })).result();
    expect(result).toMatchObject({ status: 'COMPLETED', started: 4 });
    const waiting = await Promise.all(eligible.map((w) => stack.waitForStatus(w.id, 'AWAITING_TERMS')));
    for (const s of waiting) expect(s.intentRequestId).toEqual(expect.any(String));
    expect(world().intentRequestCount(ends[0].id)).toBe(1);

    const intentHandle = stack.client.workflow.getHandle(businessIntentWorkflowId(ends[0].id));
    const intentEvents = (await intentHandle.fetchHistory()).events!;
    const joins = intentEvents.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'joinIntent');
    expect(joins).toHaveLength(1);
    // The business tells its four WABAs in one activity, not with a pair of signal events per WABA.
    expect(intentEvents.filter((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes)).toHaveLength(0);
    const told = intentEvents.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'tellIntentRequested');
    expect(told).toHaveLength(1);
    const onboarding = stack.client.workflow.getHandle(onboardingWorkflowId(eligible[0].id));
    await onboarding.signal(termsSignedSignal, { source: 'webhook' });
    await stack.waitForStatus(eligible[0].id, 'READY');
    const events = (await onboarding.fetchHistory()).events!;
    const activities = events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    expect(activities).toEqual(['listMarketingTemplates']);
    for (const w of eligible) expect(world().countCalls({ endpoint: 'phone_numbers', wabaId: w.id })).toBe(0);
    // Each status is written to the search attributes once (the start wrote the first), and no patch
    // marker (each would bring a search-attribute write of its own) is on the way to READY.
    const written = events.flatMap((e) => {
      const field = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.OnboardingStatus;
      return field?.data ? [JSON.parse(Buffer.from(field.data).toString('utf8'))] : [];
    });
    expect(written).toEqual(['REQUESTING_INTENT', 'AWAITING_TERMS', 'SYNCING_TEMPLATES', 'READY']);
    expect(events.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes)).toHaveLength(written.length);
    expect(events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')).toEqual([]);
    await recordHistory('discovered-intent-ready', onboarding);
    await recordHistory('business-intent-joined-by-discovery', intentHandle);
  });

  test('numbers the page shows none of on Cloud API park the WABA without a read; a list cut short is read in full', async () => {
    const partner = world().createBusiness();
    const onApp = world().createWaba({ partnerBusinessId: partner.id, phoneNumbers: [{ platformType: 'NOT_APPLICABLE', displayPhoneNumber: '+1 555 0199' }] });
    // 25 numbers on the nested page, none on Cloud API; the 26th is: only a full read finds it.
    const cutShort = world().createWaba({
      partnerBusinessId: partner.id,
      phoneNumbers: [...Array.from({ length: 25 }, () => ({ platformType: 'NOT_APPLICABLE' })), { platformType: 'CLOUD_API' }],
    });
    await (await startDiscovery({ businessId: partner.id })).result();

    const parked = await stack.waitForStatus(onApp.id, 'NEEDS_ATTENTION');
    expect(parked.statusReason).toMatch(/no phone number of this WABA is registered on Cloud API.*\+1 555 0199 \(NOT_APPLICABLE\)/);
    expect(world().countCalls({ endpoint: 'phone_numbers', wabaId: onApp.id })).toBe(0);
    await stack.waitForStatus(cutShort.id, 'AWAITING_TERMS');
    // Read in full by the onboarding's own check: its two pages of numbers.
    expect(world().countCalls({ endpoint: 'phone_numbers', wabaId: cutShort.id })).toBe(2);
  });

  test("a recheck of a WABA whose discovery's join never landed joins it itself", async () => {
    // An onboarding started as a discovery starts it, but the page's join is lost (its page failed for good).
    const { ends, eligible } = portfolio(['ELIGIBLE']);
    const [waba] = eligible;
    await stack.client.workflow.start('onboarding', {
      ...onboardingStartOptions(
        { wabaId: waba.id, businessId: ends[0].id, path: 'intent', origin: 'discovery', listedStatus: 'ELIGIBLE', intentJoined: true, options: WEBHOOK_ONLY },
        stack.config,
      ),
    });
    await stack.waitForStatus(waba.id, 'REQUESTING_INTENT');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(world().intentRequestCount(ends[0].id)).toBe(0);

    await stack.client.workflow.getHandle(onboardingWorkflowId(waba.id)).executeUpdate(recheckUpdate);
    const waiting = await stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    expect(waiting.intentRequestId).toEqual(expect.any(String));
    expect(world().intentRequestCount(ends[0].id)).toBe(1);
  });
});

describe('the Intent API request per end business', () => {
  test("a business whose status on Meta is already REQUEST_SENT gets no second request, even with this service's state lost", async () => {
    const business = world().createBusiness();
    const [first, second] = [1, 2].map(() => world().createWaba({ ownerBusinessId: business.id }));
    await stack.start({ wabaId: first.id, businessId: business.id, path: 'intent', options: WEBHOOK_ONLY });
    await stack.waitForStatus(first.id, 'AWAITING_TERMS');
    expect(world().intentRequestCount(business.id)).toBe(1);
    expect(world().business(business.id).onboarding.status).toBe('REQUEST_SENT');

    // The service forgets the business's request (a new namespace, a wiped database).
    await stack.client.workflow.getHandle(businessIntentWorkflowId(business.id)).terminate('state lost');
    await stack.start({ wabaId: second.id, businessId: business.id, path: 'intent', options: WEBHOOK_ONLY });
    await stack.waitForStatus(second.id, 'AWAITING_TERMS');
    expect(world().intentRequestCount(business.id)).toBe(1);
    const intent = await stack.client.workflow.getHandle(businessIntentWorkflowId(business.id)).query(getIntentStateQuery);
    expect(intent).toMatchObject({ requested: true, requestCount: 0, statusOnMeta: 'REQUEST_SENT' });
    await recordHistory('business-intent-request-standing-on-meta', stack.client.workflow.getHandle(businessIntentWorkflowId(business.id)));
  });

  test('a business that has already signed the terms on Meta is not asked again', async () => {
    const business = world().createBusiness({ onboardingStatus: 'TERM_OF_SERVICE_SIGNED' });
    const waba = world().createWaba({ ownerBusinessId: business.id });
    await stack.start({ wabaId: waba.id, businessId: business.id, path: 'intent', options: WEBHOOK_ONLY });
    await stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    expect(world().intentRequestCount(business.id)).toBe(0);
  });
});
