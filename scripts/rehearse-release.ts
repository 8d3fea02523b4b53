/**
 * `npm run release:rehearsal`: a release rehearsed on one machine, as production does it side by side
 * (docs/versioning.md, "Release procedure"), with real processes: a Temporal dev server and the Graph
 * sandbox on loopback ports, build A's worker (`npm run worker`, TEMPORAL_WORKER_SET_CURRENT=true),
 * onboardings waiting on A, build B's worker beside it (TEMPORAL_WORKER_SET_CURRENT unset), then the
 * operator's two commands: `temporal worker deployment set-current-version … --yes` and
 * `npm run release`. It waits until no run is left on A and A shows DRAINED, stops A's worker with
 * SIGTERM (it must exit), signs one WABA's terms on B, prints what it saw, and stops everything.
 *
 * The dev server shortens what it waits for (drainage shows within ~10 s, pollers are forgotten after
 * 10 s); every wait is bounded; exit code 0 when the rehearsal went as production should.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { freePort, startDevServer } from './dev-server';
import { temporalBinary } from './temporal-binary';
import { SANDBOX_DEFAULTS } from '../config';
import { createSandbox } from '../sandbox';
import { onboardingStartOptions } from '../workflows/start-options';
import { getStateQuery } from '../workflows/messages';
import { onboardingWorkflowId } from '../workflows/types';

const repo = path.resolve(__dirname, '..');
const DEPLOYMENT = 'mm-onboarding';
const TASK_QUEUE = 'mm-onboarding';
const [BUILD_A, BUILD_B] = ['rehearsal-a', 'rehearsal-b'];
const STEP_MS = 120_000;
const started = Date.now();
const say = (line: string) => console.log(`[rehearsal +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);

interface Child {
  name: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Each child leads its own process group, so a stop reaches `npm run worker`'s node too (killing npm alone orphans it). */
function run(name: string, command: string, args: string[], env: Record<string, string>): Child {
  const child = spawn(command, args, { cwd: repo, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, child, output: () => out, exited };
}

/** SIGTERM to the child's whole group, SIGKILL to what is left of it after `graceMs`. */
async function stopGroup(c: Child, graceMs = 15_000): Promise<void> {
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-c.child.pid!, signal);
    } catch {
      // ESRCH: the group is gone already.
    }
  };
  signalGroup('SIGTERM');
  await Promise.race([c.exited, new Promise((r) => setTimeout(r, graceMs))]);
  signalGroup('SIGKILL');
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = STEP_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (${last})` : ''}`);
}

async function main(): Promise<void> {
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    const server = await startDevServer({
      dynamicConfig: {
        'matching.wv.VersionDrainageStatusVisibilityGracePeriod': '5s',
        'matching.wv.VersionDrainageStatusRefreshInterval': '5s',
        'matching.PollerHistoryTTL': '10s',
      },
    });
    cleanups.unshift(() => server.stop());
    const sandbox = createSandbox({ appId: SANDBOX_DEFAULTS.appId, appSecret: SANDBOX_DEFAULTS.appSecret, accessToken: SANDBOX_DEFAULTS.accessToken });
    const sandboxPort = await freePort();
    await sandbox.listen(sandboxPort);
    cleanups.unshift(() => sandbox.close());
    say(`Temporal dev server on ${server.address}, Graph sandbox on 127.0.0.1:${sandboxPort}`);

    const env = (buildId: string, setCurrent: boolean) => ({
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      TEMPORAL_DEPLOYMENT_NAME: DEPLOYMENT,
      TEMPORAL_WORKER_BUILD_ID: buildId,
      TEMPORAL_WORKER_SET_CURRENT: String(setCurrent),
      TEMPORAL_RELEASE_WATCH_SECONDS: '5',
      MM_SANDBOX: 'true',
      SANDBOX_PORT: String(sandboxPort),
      WORKER_METRICS_PORT: '',
    });
    const workers: Child[] = [];
    cleanups.unshift(async () => {
      await Promise.all(workers.map((w) => stopGroup(w)));
    });
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

    const connection = await Connection.connect({ address: server.address });
    cleanups.unshift(() => connection.close());
    const client = new Client({ connection });
    const service = client.workflowService;
    const describe = async () => (await service.describeWorkerDeployment({ namespace: 'default', deploymentName: DEPLOYMENT })).workerDeploymentInfo;
    const currentBuild = async () => (await describe())?.routingConfig?.currentDeploymentVersion?.buildId;
    const openRunsOn = async (buildId: string) =>
      (await client.workflow.count(`ExecutionStatus = "Running" AND TemporalWorkerDeploymentVersion = "${DEPLOYMENT}:${buildId}"`)).count;

    // 1. Build A, alone, making itself current.
    const a = run('worker A', npm, ['run', 'worker'], env(BUILD_A, true));
    workers.push(a);
    await until('build A to be current', async () => (await currentBuild()) === BUILD_A);
    say(`build ${BUILD_A}: worker polling (npm run worker, pid ${a.child.pid}), current version`);

    // 2. Onboardings waiting on A: READY, AWAITING_TERMS, NEEDS_ATTENTION.
    const world = sandbox.world;
    const wabas = {
      ready: world.createWaba({ onboardingStatus: 'ONBOARDED' }),
      terms: world.createWaba({ autoSign: false }),
      parked: world.createWaba({ phoneNumbers: 0 }),
    };
    for (const w of Object.values(wabas)) {
      await client.workflow.start('onboarding', onboardingStartOptions({ wabaId: w.id, businessId: w.ownerBusinessId, path: 'manual', options: { templateSyncGraceSeconds: 1, statusPollIntervalSeconds: 3600 } }, { temporal: { taskQueue: TASK_QUEUE } }));
    }
    const statusOf = async (id: string) => (await client.workflow.getHandle(onboardingWorkflowId(id)).query(getStateQuery)).status;
    await until('the onboardings to wait on A', async () =>
      (await statusOf(wabas.ready.id)) === 'READY' && (await statusOf(wabas.terms.id)) === 'AWAITING_TERMS' && (await statusOf(wabas.parked.id)) === 'NEEDS_ATTENTION');
    say(`3 onboardings waiting on ${BUILD_A} (READY, AWAITING_TERMS, NEEDS_ATTENTION); open runs on A: ${await openRunsOn(BUILD_A)}`);

    // 3. Build B beside it: it polls, and waits to be made current.
    const b = run('worker B', npm, ['run', 'worker'], env(BUILD_B, false));
    workers.push(b);
    await until(`build ${BUILD_B} to register`, async () => (await describe())?.versionSummaries?.some((v) => v.deploymentVersion?.buildId === BUILD_B));
    say(`build ${BUILD_B}: worker polling beside A (TEMPORAL_WORKER_SET_CURRENT unset)`);

    // 4. The operator: make B current, then start its release.
    const cli = run('set-current-version', temporalBinary(), ['worker', 'deployment', 'set-current-version', '--deployment-name', DEPLOYMENT, '--build-id', BUILD_B, '--yes', '--address', server.address], {});
    if ((await cli.exited) !== 0) throw new Error(`set-current-version failed: ${cli.output()}`);
    const releasedAt = Date.now();
    say(`temporal worker deployment set-current-version --deployment-name ${DEPLOYMENT} --build-id ${BUILD_B} --yes`);
    const release = run('npm run release', npm, ['run', '--silent', 'release', '--', '--no-wait'], { TEMPORAL_ADDRESS: server.address, TEMPORAL_DEPLOYMENT_NAME: DEPLOYMENT, TEMPORAL_TASK_QUEUE: TASK_QUEUE });
    if ((await release.exited) !== 0) throw new Error(`npm run release failed: ${release.output()}`);
    say(`npm run release: ${release.output().trim().split('\n').at(-1)}`);

    // 5. Every run leaves A; A drains; its worker stops on SIGTERM.
    await until('no open run left on A', async () => (await openRunsOn(BUILD_A)) === 0);
    say(`no open run left on ${BUILD_A} after ${((Date.now() - releasedAt) / 1000).toFixed(1)} s`);
    const { VersionDrainageStatus } = temporal.api.enums.v1;
    await until(`${BUILD_A} to show DRAINED`, async () =>
      (await describe())?.versionSummaries?.find((v) => v.deploymentVersion?.buildId === BUILD_A)?.drainageStatus === VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINED);
    say(`${BUILD_A} DRAINED after ${((Date.now() - releasedAt) / 1000).toFixed(1)} s`);
    a.child.kill('SIGTERM');
    const code = await Promise.race([a.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000))]);
    if (code === 'hung') throw new Error('worker A (npm run worker) did not exit within 30 s of SIGTERM');
    say(`worker A stopped on SIGTERM (exit ${code})`);

    // 6. The runs go on on B.
    await world.signTerms(wabas.terms.id);
    await client.workflow.getHandle(onboardingWorkflowId(wabas.terms.id)).signal('termsSigned', { source: 'webhook' });
    await until('the terms to bring the WABA to READY on B', async () => (await statusOf(wabas.terms.id)) === 'READY');
    say(`a terms signal took ${wabas.terms.id} to READY on ${BUILD_B}; ${wabas.ready.id} ${await statusOf(wabas.ready.id)}, ${wabas.parked.id} ${await statusOf(wabas.parked.id)}`);
    const versions = (await describe())?.versionSummaries?.map((v) => v.deploymentVersion?.buildId);
    say(`deployment ${DEPLOYMENT}: current ${await currentBuild()}, versions ${versions?.join(', ')}`);
    say('rehearsal passed');
  } finally {
    for (const c of cleanups) await c().catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`rehearsal failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
