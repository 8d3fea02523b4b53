/**
 * Worker Versioning end to end (docs/versioning.md), on the suite's real dev server: onboardings start
 * on build A and stay pinned there; build B, whose `onboarding` issues a command A's never does (it
 * upserts a memo, test/temporal/fixtures/build-b-workflows.ts), becomes the deployment's Current
 * Version beside A's still-polling workers; A's runs go on under A's code until a waiting phase wakes
 * and continues as new with AUTO_UPGRADE, and the next run is B's. The CLI shows both versions.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { loadConfig } from '../../config';
import { createWorkers, type OnboardingWorkers } from '../../worker/worker';
import { currentVersion } from '../../temporal/deployment-version';
import { FAST, startStack, statuses, testServiceEnv, WEBHOOK_ONLY, type Stack } from '../harness/stack';
import { getStateQuery, templateStatusSignal, termsSignedSignal } from '../../workflows/messages';
import { onboardingWorkflowId, type OnboardingState } from '../../workflows/types';
import type { OnboardingRunInput } from '../../workflows/onboarding-inbox';
import { BUILD_B_MEMO } from './fixtures/build-b-workflows';

const { VersioningBehavior, ContinueAsNewVersioningBehavior } = temporal.api.enums.v1;
const tag = randomUUID().slice(0, 8);
const BUILD_A = `build-a-${tag}`;
const BUILD_B = `build-b-${tag}`;

let stack: Stack;
let deploymentName: string;
let workersB: OnboardingWorkers | undefined;
let runningB: Promise<void> | undefined;
let bundleB: ReturnType<typeof bundleWorkflowCode>;

beforeAll(async () => {
  // B's bundle is built while A's stack starts (A's bundle is the harness's, from workflows/).
  const fixture = require.resolve('./fixtures/build-b-workflows');
  bundleB = bundleWorkflowCode({ workflowsPath: fixture, preloadModules: [fixture], logger: new DefaultLogger('WARN') });
  bundleB.catch(() => undefined); // awaited in the test that needs it
  stack = await startStack({ env: { TEMPORAL_WORKER_BUILD_ID: BUILD_A } });
  deploymentName = stack.config.temporal.deployment.name;
}, 180_000);

afterAll(async () => {
  workersB?.shutdown();
  await runningB;
  await stack?.stop();
});

/** Build B's workers (workflows and Graph activities) on A's task queue and deployment, with their own build id. */
async function startBuildB(): Promise<OnboardingWorkers> {
  const config = loadConfig(
    testServiceEnv(
      { temporalAddress: process.env.TEMPORAL_TEST_ADDRESS!, taskQueue: stack.config.temporal.taskQueue, graphUrl: stack.sandboxUrl },
      { GRAPH_MAX_RPS: '1000', TEMPORAL_WORKER_BUILD_ID: BUILD_B },
    ),
  );
  const workers = await createWorkers(config, stack.workerConnection, stack.client, { workflowBundle: await bundleB, shutdownGraceTime: '1s' });
  runningB = workers.run();
  return workers;
}

interface RunVersioning {
  runId: string;
  status: string;
  behavior: string;
  buildId: string | undefined;
  memo: Record<string, unknown> | undefined;
  /** How the run's continue-as-new predecessor asked it to start (set on runs that continued as new). */
  continueAsNewBehavior: string | undefined;
}

/** The client hands enums over as names or numbers depending on the path; names either way. */
function enumName(e: Record<number, string>, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'number' ? e[value] : String(value);
}

/** The carried-over part of a continue-as-new's input: what build A handed to the next run. */
function carriedOver(attrs: { input?: temporal.api.common.v1.IPayloads | null } | null | undefined) {
  const payload = attrs?.input?.payloads?.[0];
  return payload ? (defaultPayloadConverter.fromPayload<OnboardingRunInput>(payload).carriedOver ?? {}) : undefined;
}

async function versioningOf(client: Client, workflowId: string, runId?: string): Promise<RunVersioning> {
  const d = await client.workflow.getHandle(workflowId, runId).describe();
  const info = d.raw.workflowExecutionInfo?.versioningInfo;
  return {
    runId: d.runId,
    status: d.status.name,
    behavior: enumName(VersioningBehavior, info?.behavior) ?? 'none',
    buildId: info?.deploymentVersion?.buildId ?? undefined,
    memo: d.memo,
    continueAsNewBehavior: enumName(ContinueAsNewVersioningBehavior, info?.continueAsNewInitialVersioningBehavior),
  };
}

/**
 * What a run's history shows: the build of every completed workflow task, failed tasks, and B's memo
 * command (the one that writes B's key: every build writes the memo's status reason too).
 */
async function historyOf(handle: WorkflowHandle) {
  const { events } = await handle.fetchHistory();
  const all = events ?? [];
  return {
    taskBuilds: [...new Set(all.flatMap((e) => (e.workflowTaskCompletedEventAttributes ? [e.workflowTaskCompletedEventAttributes.deploymentVersion?.buildId] : [])))],
    failedTasks: all.filter((e) => e.workflowTaskFailedEventAttributes).map((e) => e.workflowTaskFailedEventAttributes?.failure?.message),
    buildBMarks: all.filter((e) => Object.keys(BUILD_B_MEMO).some((key) => key in (e.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields ?? {}))).length,
    timers: all.filter((e) => e.timerStartedEventAttributes).length,
    continuedAsNew: all.find((e) => e.workflowExecutionContinuedAsNewEventAttributes)?.workflowExecutionContinuedAsNewEventAttributes,
  };
}

/** Polls until the workflow's latest run is a new one (after `runId`) and `ok` holds of it; bounded. */
async function waitForNextRun(wabaId: string, runId: string, ok: (v: RunVersioning, s: OnboardingState) => boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await versioningOf(stack.client, onboardingWorkflowId(wabaId));
      if (v.runId !== runId) {
        const s = await stack.client.workflow.getHandle(onboardingWorkflowId(wabaId), v.runId).query(getStateQuery);
        last = { ...v, status: s.status };
        if (ok(v, s)) return { versioning: v, state: s };
      } else last = v;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for a new run of WABA ${wabaId}; last: ${JSON.stringify(last)}`);
}

/** The onboardings of the story, started on A. */
const runs = {} as Record<'termsSigned' | 'termsLeft' | 'ready', { wabaId: string; firstRunId: string }>;

describe('Worker Versioning: onboardings move from build A to build B at their continue-as-new', () => {
  test('onboardings started on build A are pinned to A, waiting for the terms or READY', async () => {
    expect(await currentVersion(stack.client, stack.config.temporal.namespace, deploymentName)).toEqual({ deploymentName, buildId: BUILD_A });
    const start = async (key: keyof typeof runs, status: 'ELIGIBLE' | 'ONBOARDED', options: typeof FAST | typeof WEBHOOK_ONLY) => {
      const waba = stack.sandbox.world.createWaba({ onboardingStatus: status });
      const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options });
      runs[key] = { wabaId: waba.id, firstRunId: (await handle.describe()).runId };
    };
    await start('termsSigned', 'ELIGIBLE', WEBHOOK_ONLY);
    await start('termsLeft', 'ELIGIBLE', WEBHOOK_ONLY);
    await start('ready', 'ONBOARDED', FAST);
    await stack.waitForStatus(runs.termsSigned.wabaId, 'AWAITING_TERMS');
    await stack.waitForStatus(runs.termsLeft.wabaId, 'AWAITING_TERMS');
    await stack.waitForStatus(runs.ready.wabaId, 'READY');

    for (const { wabaId, firstRunId } of Object.values(runs)) {
      const v = await versioningOf(stack.client, onboardingWorkflowId(wabaId));
      expect(v).toMatchObject({ runId: firstRunId, status: 'RUNNING', behavior: 'VERSIONING_BEHAVIOR_PINNED', buildId: BUILD_A });
      expect(v.memo?.build).toBeUndefined();
    }
  });

  test('build B becomes current beside A: new onboardings start on B and run its code, A\'s runs stay on A', async () => {
    workersB = await startBuildB();
    expect(await workersB.makeCurrent({ timeoutMs: 60_000 })).toBe(true);
    expect(await currentVersion(stack.client, stack.config.temporal.namespace, deploymentName)).toEqual({ deploymentName, buildId: BUILD_B });

    const waba = stack.sandbox.world.createWaba({ onboardingStatus: 'ELIGIBLE' });
    const handle = await stack.start({ wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: WEBHOOK_ONLY });
    await stack.waitForStatus(waba.id, 'AWAITING_TERMS');
    expect(await versioningOf(stack.client, handle.workflowId)).toMatchObject({
      behavior: 'VERSIONING_BEHAVIOR_PINNED',
      buildId: BUILD_B,
      memo: expect.objectContaining(BUILD_B_MEMO),
    });

    for (const { wabaId, firstRunId } of Object.values(runs)) {
      expect(await versioningOf(stack.client, onboardingWorkflowId(wabaId))).toMatchObject({ runId: firstRunId, status: 'RUNNING', buildId: BUILD_A });
    }
  }, 120_000);

  test('an AWAITING_TERMS run on A takes its terms signal under A\'s code, then continues as new onto B at its next wait, where it becomes READY', async () => {
    const { wabaId, firstRunId } = runs.termsSigned;
    const first = stack.client.workflow.getHandle(onboardingWorkflowId(wabaId), firstRunId);
    await first.signal(termsSignedSignal, { source: 'webhook', at: '2026-12-03T03:00:00.000Z' });

    const next = await waitForNextRun(wabaId, firstRunId, (v, s) => v.buildId === BUILD_B && s.status === 'READY');
    // The new run is B's: pinned to B (where AUTO_UPGRADE put it), and B's command shows.
    expect(next.versioning).toMatchObject({ status: 'RUNNING', behavior: 'VERSIONING_BEHAVIOR_PINNED', buildId: BUILD_B, memo: expect.objectContaining(BUILD_B_MEMO) });
    expect(statuses(next.state)).toEqual(['CHECKING_ELIGIBILITY', 'AWAITING_TERMS', 'SYNCING_TEMPLATES', 'READY']);
    expect(next.state).toMatchObject({ termsSource: 'webhook', termsSignedAt: '2026-12-03T03:00:00.000Z' });

    // The first run did all of that on A, with A's code (no memo command), and no task failed.
    const a = await historyOf(first);
    expect(a.taskBuilds).toEqual([BUILD_A]);
    expect(a.failedTasks).toEqual([]);
    expect(a.buildBMarks).toBe(0);
    expect(a.timers).toBe(1); // the terms wait; the template grace is the next wait, a safe point to move at
    // A recorded the terms and handed over in `grace`; AUTO_UPGRADE is what put the next run on B, which waited out the grace.
    expect(a.continuedAsNew?.newExecutionRunId).toBe(next.versioning.runId);
    expect(carriedOver(a.continuedAsNew)).toMatchObject({ phase: 'grace', state: { status: 'SYNCING_TEMPLATES' } });
    expect(next.versioning.continueAsNewBehavior).toBe('CONTINUE_AS_NEW_VERSIONING_BEHAVIOR_AUTO_UPGRADE');
    expect((await versioningOf(stack.client, first.workflowId, firstRunId)).status).toBe('CONTINUED_AS_NEW');

    const b = await historyOf(stack.client.workflow.getHandle(first.workflowId, next.versioning.runId));
    expect(b.taskBuilds).toEqual([BUILD_B]);
    expect(b.failedTasks).toEqual([]);
    expect(b.buildBMarks).toBe(1);
  });

  test('a READY run on A wakes to a template status signal and continues as new onto B, its state carried over', async () => {
    const { wabaId, firstRunId } = runs.ready;
    const first = stack.client.workflow.getHandle(onboardingWorkflowId(wabaId), firstRunId);
    const before = await first.query(getStateQuery);
    await first.signal(templateStatusSignal, { name: 'summer_sale', language: 'en_US', id: '77', status: 'APPROVED' });

    const next = await waitForNextRun(wabaId, firstRunId, (v) => v.buildId === BUILD_B);
    expect(next.versioning).toMatchObject({ behavior: 'VERSIONING_BEHAVIOR_PINNED', buildId: BUILD_B, memo: expect.objectContaining(BUILD_B_MEMO) });
    expect(next.state).toMatchObject({ status: 'READY', readyAt: before.readyAt, history: before.history });

    const a = await historyOf(first);
    expect(a.taskBuilds).toEqual([BUILD_A]);
    expect(a.failedTasks).toEqual([]);
    expect(a.buildBMarks).toBe(0);
    expect(a.continuedAsNew?.newExecutionRunId).toBe(next.versioning.runId);
    expect(carriedOver(a.continuedAsNew)).toMatchObject({ phase: 'watching' });
    expect(next.versioning.continueAsNewBehavior).toBe('CONTINUE_AS_NEW_VERSIONING_BEHAVIOR_AUTO_UPGRADE');
  });

  test('an onboarding that does not wake stays on A; the CLI shows the deployment with both versions', async () => {
    const { wabaId, firstRunId } = runs.termsLeft;
    expect(await versioningOf(stack.client, onboardingWorkflowId(wabaId))).toMatchObject({ runId: firstRunId, status: 'RUNNING', buildId: BUILD_A });
    expect((await stack.state(wabaId)).status).toBe('AWAITING_TERMS'); // A's workers still answer for it

    const bin = execFileSync(path.join(__dirname, '../../scripts/ensure-temporal.sh'), { encoding: 'utf8', timeout: 30_000 }).trim();
    const out = execFileSync(bin, ['worker', 'deployment', 'describe', '--name', deploymentName, '--address', process.env.TEMPORAL_TEST_ADDRESS!], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    // eslint-disable-next-line no-console
    console.log(`temporal worker deployment describe --name ${deploymentName}\n${out}`);
    expect(out).toContain(BUILD_A);
    expect(out).toContain(BUILD_B);
    // A is no longer current and still has a pinned run open (termsLeft): draining, not drained.
    expect(out).toMatch(new RegExp(`${BUILD_A}\\s+draining`));
    const currentLine = out.split('\n').find((l) => /Current ?Version/i.test(l) && /BuildI[dD]|:/.test(l) && l.includes('build-'));
    expect(currentLine).toContain(BUILD_B);
  });
});
