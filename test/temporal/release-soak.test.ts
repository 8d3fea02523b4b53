/**
 * Releases that never strand a run (docs/versioning.md): three releases in a row, side by side
 * (A → B → C → D: each build's workers start beside the last one's, take over, and the old ones stop
 * once their version is DRAINED), while partners keep sending and Meta keeps delivering terms webhooks.
 * Runs wait in every phase: READY and idle, AWAITING_TERMS, NEEDS_ATTENTION, REQUESTING_INTENT, a
 * business whose Intent request stands, an open signup link, a running discovery. After each release
 * no run is left on an older build and the old version is DRAINED within 2 minutes; no send is
 * answered 5xx, every terms webhook reaches its onboarding, no Intent request is sent twice, and the
 * retired versions are deleted.
 */
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../config';
import { createWorkers, type OnboardingWorkers } from '../../worker/worker';
import { startAppHarness, type AppHarness } from '../harness/app-harness';
import { FAST, testServiceEnv, WEBHOOK_ONLY, workflowBundle } from '../harness/stack';
import { eventually, waitUntil } from '../harness/wait';
import { RELEASES_NAMESPACE } from '../harness/limits';
import { temporal } from '@temporalio/proto';
import { discoveryStartOptions } from '../../workflows/start-options';
import { discoveryWorkflowId, type DiscoveryState } from '../../workflows/discovery-types';
import { getIntentStateQuery, getReleaseStateQuery } from '../../workflows/messages';
import { releaseWorkflowId } from '../../workflows/release-types';
import { businessIntentWorkflowId } from '../../workflows/types';
import { getSignupLinkQuery, signupLinkWorkflowId } from '../../workflows/signup-link';

const { VersionDrainageStatus } = temporal.api.enums.v1;
/** The releases' own namespace (test/harness/limits.ts), and a release pace for seconds-long tests. */
const RELEASE_ENV = { TEMPORAL_NAMESPACE: RELEASES_NAMESPACE, TEMPORAL_RELEASE_RATE: '100' };
const tag = randomUUID().slice(0, 6);
const BUILDS = ['a', 'b', 'c', 'd'].map((b) => `${b}-${tag}`);
/** Each release's ceiling on its old version showing DRAINED, and on its runs leaving it. */
const RELEASE_BOUND_MS = 120_000;

let h: AppHarness;
let deploymentName: string;
const running = new Map<string, { workers: OnboardingWorkers; run: Promise<void> }>();

beforeAll(async () => {
  h = await startAppHarness({ env: { ...RELEASE_ENV, TEMPORAL_WORKER_BUILD_ID: BUILDS[0] }, sandbox: { templateSyncMs: 200 }, templateCacheMs: 300 });
  deploymentName = h.stack.config.temporal.deployment.name;
}, 180_000);

afterAll(async () => {
  for (const { workers, run } of running.values()) {
    workers.shutdown();
    await run.catch(() => undefined);
  }
  await h?.stop();
});

const world = () => h.stack.sandbox.world;
const runsOn = async (buildId: string) =>
  (await h.stack.client.workflow.count(`ExecutionStatus = "Running" AND TemporalWorkerDeploymentVersion = "${deploymentName}:${buildId}"`)).count;

async function startBuild(buildId: string): Promise<OnboardingWorkers> {
  const config = loadConfig(
    testServiceEnv(
      { temporalAddress: process.env.TEMPORAL_TEST_ADDRESS!, taskQueue: h.stack.config.temporal.taskQueue, graphUrl: h.stack.sandboxUrl },
      { GRAPH_MAX_RPS: '1000', ...RELEASE_ENV, TEMPORAL_WORKER_BUILD_ID: buildId },
    ),
  );
  const workers = await createWorkers(config, h.stack.workerConnection, h.stack.client, { workflowBundle: await workflowBundle(), shutdownGraceTime: '1s' });
  running.set(buildId, { workers, run: workers.run() });
  return workers;
}

async function stopBuild(buildId: string): Promise<void> {
  if (buildId === BUILDS[0]) return h.stack.stopWorkers(); // A's are the harness's own
  const r = running.get(buildId)!;
  r.workers.shutdown();
  await r.run;
  running.delete(buildId);
}

/** The runs still on `builds`, for a failure's message. */
async function leftovers(builds: string[]): Promise<string> {
  const names: string[] = [];
  for (const b of builds) {
    for await (const w of h.stack.client.workflow.list({ query: `ExecutionStatus = "Running" AND TemporalWorkerDeploymentVersion = "${deploymentName}:${b}"` })) {
      names.push(`${w.workflowId} (${w.type}, ${b})`);
      if (names.length > 20) return names.join(', ');
    }
  }
  return names.join(', ');
}

/** A release's state and, for a failure's message, what its activities are doing (attempt, last failure, last heartbeat). */
async function releaseOf(buildId: string): Promise<string> {
  const handle = h.stack.client.workflow.getHandle(releaseWorkflowId({ deploymentName, buildId }));
  const state = await handle.query(getReleaseStateQuery).catch((err: unknown) => String(err));
  const pending = await handle.describe().then(
    (d) =>
      (d.raw.pendingActivities ?? []).map(
        (a) =>
          `${a.activityType?.name} state ${a.state} attempt ${a.attempt}, last heartbeat ${a.lastHeartbeatTime?.seconds ?? 'never'}, ` +
          `last failure ${a.lastFailure?.message ?? 'none'} on ${a.lastWorkerIdentity ?? '?'}`,
      ),
    (err: unknown) => [String(err)],
  );
  return `${JSON.stringify(state)}; pending activities: ${pending.join('; ') || 'none'}`;
}

async function versionSummaries() {
  const { workerDeploymentInfo } = await h.stack.client.workflowService.describeWorkerDeployment({ namespace: h.stack.config.temporal.namespace, deploymentName });
  return workerDeploymentInfo?.versionSummaries ?? [];
}

/** A READY onboarding with the approved marketing template the sends use. */
async function readyWaba() {
  const waba = world().createWaba({ onboardingStatus: 'ONBOARDED' });
  await world().messaging.createTemplate(waba.id, { name: 'spring_sale', notify: false });
  await h.http().post('/v1/onboardings').set(h.auth).send({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST }).expect(201);
  await h.stack.waitForStatus(waba.id, 'READY');
  await eventually(async () => {
    const t = await h.http().get(`/v1/onboardings/${waba.id}/templates/spring_sale?language=en_US`).set(h.auth);
    return t.status === 200 && t.body.ready ? true : undefined;
  }, 20_000, 'the template to be ready');
  return { id: waba.id, phone: waba.phoneNumbers[0].id };
}

const ready: Array<{ id: string; phone: string }> = [];
const awaitingTerms: string[] = [];
let parked: string;
let standing: { business: string; waba: string };
let requesting: { business: string; waba: string };
const link = { linkId: `soak-${tag}`, expiresAt: new Date(Date.now() + 24 * 3600_000).toISOString() };
let portfolio: string;
const DISCOVERED = 20;

test('runs wait in every phase on build A', async () => {
  for (let i = 0; i < 3; i++) ready.push(await readyWaba());
  for (let i = 0; i < 9; i++) {
    const waba = world().createWaba({ autoSign: false });
    await h.stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
    awaitingTerms.push(waba.id);
  }
  const noNumber = world().createWaba({ phoneNumbers: 0 });
  parked = noNumber.id;
  await h.stack.start({ wabaId: parked, businessId: noNumber.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
  const s = world().createWaba({ autoSign: false });
  standing = { business: s.ownerBusinessId, waba: s.id };
  await h.stack.start({ wabaId: s.id, businessId: s.ownerBusinessId, path: 'intent', options: WEBHOOK_ONLY });
  await h.stack.client.workflow.start('signupLink', { workflowId: signupLinkWorkflowId(link.linkId), taskQueue: h.stack.config.temporal.taskQueue, args: [link] });

  for (const id of awaitingTerms) await h.stack.waitForStatus(id, 'AWAITING_TERMS');
  await h.stack.waitForStatus(parked, 'NEEDS_ATTENTION');
  await h.stack.waitForStatus(standing.waba, 'AWAITING_TERMS');
  expect(world().intentRequestCount(standing.business)).toBe(1);
}, 180_000);

test('three releases side by side (A → B → C → D) while sends and terms webhooks flow: nothing stranded, nothing lost', async () => {
  // Traffic for the whole test: a send every 200 ms, a terms webhook every 2 s (bounded in count and time).
  const sends: number[] = [];
  const failedSends: string[] = [];
  const signed: string[] = [];
  let trafficOn = true;
  const trafficUntil = Date.now() + 9 * 60_000;
  const sending = (async () => {
    for (let i = 0; trafficOn && i < 3_000 && Date.now() < trafficUntil; i++) {
      const w = ready[i % ready.length];
      const res = await h.http().post(`/v1/onboardings/${w.id}/messages`).set(h.auth)
        .send({
          phoneNumberId: w.phone,
          to: '+15550001111',
          template: { name: 'spring_sale', language: 'en_US', components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }] }] },
        });
      sends.push(res.status);
      if (res.status !== 200 && failedSends.length < 5) failedSends.push(`${res.status} ${JSON.stringify(res.body)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const signing = (async () => {
    for (const id of awaitingTerms) {
      if (!trafficOn || Date.now() > trafficUntil) break;
      await world().signTerms(id);
      signed.push(id);
      await new Promise((r) => setTimeout(r, 2_000));
    }
  })();

  const timings: string[] = [];
  try {
    for (let r = 1; r < BUILDS.length; r++) {
      const [from, to] = [BUILDS[r - 1], BUILDS[r]];
      if (r === 1) {
        // Just before B: a discovery that pages slowly, and a WABA whose business's Intent request is held at Meta.
        portfolio = world().createBusiness().id;
        for (let i = 0; i < DISCOVERED; i++) world().createWaba({ autoSign: false, partnerBusinessId: portfolio });
        world().injectFault({ endpoint: 'client_wabas', businessId: portfolio, kind: 'latency', latencyMs: 1_000, times: Infinity });
        await h.stack.client.workflow.start('discovery', {
          ...discoveryStartOptions({ businessId: portfolio, path: 'manual', options: WEBHOOK_ONLY, pageSize: 2 }),
          taskQueue: h.stack.config.temporal.taskQueue,
        });
        const held = world().createWaba({ autoSign: false });
        requesting = { business: held.ownerBusinessId, waba: held.id };
        world().injectFault({ endpoint: 'intent', businessId: held.ownerBusinessId, kind: 'latency', latencyMs: 6_000, times: 1 });
        await h.stack.start({ wabaId: held.id, businessId: held.ownerBusinessId, path: 'intent', options: WEBHOOK_ONLY });
        await h.stack.waitForStatus(held.id, 'REQUESTING_INTENT');
      }
      const startedAt = Date.now();
      const workers = await startBuild(to);
      await workers.takeOver({ release: { passIntervalSeconds: 2, deleteIntervalSeconds: 3, maxDeleteTries: 60 } });
      await waitUntil(async () => (await Promise.all(BUILDS.slice(0, r).map(runsOn))).every((n) => n === 0), RELEASE_BOUND_MS, `no open run left on ${BUILDS.slice(0, r).join(', ')}`).catch(
        async (err: Error) => {
          throw new Error(`${err.message}; left: ${await leftovers(BUILDS.slice(0, r))}; release: ${await releaseOf(to)}`);
        },
      );
      const movedIn = Date.now() - startedAt;
      await waitUntil(async () => {
        const old = (await versionSummaries()).find((v) => v.deploymentVersion?.buildId === from);
        return !old || old.drainageStatus === VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINED;
      }, RELEASE_BOUND_MS - movedIn, `${from} to show DRAINED`);
      timings.push(`${from} → ${to}: runs moved in ${(movedIn / 1000).toFixed(1)} s, ${from} DRAINED after ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
      await stopBuild(from);
      // Another WABA of the business whose request stands joins it on the new build: no second request.
      const sibling = world().createWaba({ autoSign: false, ownerBusinessId: standing.business });
      await h.stack.start({ wabaId: sibling.id, businessId: standing.business, path: 'intent', options: WEBHOOK_ONLY });
      await h.stack.waitForStatus(sibling.id, 'AWAITING_TERMS');
    }
  } finally {
    trafficOn = false;
    await Promise.all([sending, signing]);
  }
  // eslint-disable-next-line no-console
  console.log(`release soak: ${timings.join('; ')}; ${sends.length} sends (${sends.filter((s) => s === 200).length} answered 200), ${signed.length} terms webhooks`);

  expect(sends.length).toBeGreaterThan(50);
  expect(failedSends).toEqual([]);
  expect(sends.filter((s) => s >= 500)).toEqual([]);
  expect(signed.length).toBeGreaterThanOrEqual(5);
  for (const id of signed) await h.stack.waitForStatus(id, 'READY', 30_000);
  expect(world().intentRequestCount(standing.business)).toBe(1);
  await h.stack.waitForStatus(requesting.waba, 'AWAITING_TERMS', 30_000);
  expect(world().intentRequestCount(requesting.business)).toBe(1);
  expect((await h.stack.client.workflow.getHandle(businessIntentWorkflowId(standing.business)).query(getIntentStateQuery)).requestCount).toBe(1);

  // The runs of every phase are on D, and answer there.
  const last = BUILDS.at(-1)!;
  // Named, not counted: a run on an old build says which run and which build.
  expect(await leftovers(BUILDS.slice(0, -1))).toBe('');
  expect((await h.stack.state(parked)).status).toBe('NEEDS_ATTENTION');
  const linkRun = h.stack.client.workflow.getHandle(signupLinkWorkflowId(link.linkId));
  expect((await linkRun.query(getSignupLinkQuery)).linkId).toBe(link.linkId);
  expect((await linkRun.describe()).raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId).toBe(last);
  // Completed on whichever build it was on last: its result needs no worker of that build.
  const discoveryRun = h.stack.client.workflow.getHandle(discoveryWorkflowId(portfolio));
  const discovery: DiscoveryState = await eventually(
    async () => ((await discoveryRun.describe()).status.name === 'COMPLETED' ? await discoveryRun.result() : undefined),
    60_000,
    'the discovery to complete',
  );
  expect(discovery).toMatchObject({ found: DISCOVERED, started: DISCOVERED, failed: 0 });

  // Versions do not pile up: the retired ones are deleted once drained and no longer polled.
  await waitUntil(async () => (await versionSummaries()).every((v) => v.deploymentVersion?.buildId === last), 90_000, 'only the last build left in the deployment').catch(
    async (err: Error) => {
      const versions = (await versionSummaries()).map((v) => `${v.deploymentVersion?.buildId}: status ${v.status}, drainage ${v.drainageStatus}`);
      throw new Error(`${err.message}; versions: ${versions.join('; ')}; release: ${await releaseOf(last)}`);
    },
  );
}, 900_000);
