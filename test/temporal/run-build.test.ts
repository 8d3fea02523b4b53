/**
 * Where a run's next task goes and whether a worker of that build polls (temporal/run-build.ts), on
 * the shapes the server answers with (enums as names, timestamps as seconds). The end-to-end story is
 * test/api/partner/old-build-answers.test.ts.
 */
import { buildPolls, POLLER_SEEN_WITHIN_MS, runTarget, type TaskQueueWorkers } from '../../temporal/run-build';

const NOW = Date.parse('2026-12-03T10:00:00Z');
const A = { deploymentName: 'mm-onboarding', buildId: 'a' };
const B = { deploymentName: 'mm-onboarding', buildId: 'b' };
const ts = (ms: number) => ({ seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 });
const poller = (version: typeof A | undefined, ago: number) => ({
  identity: 'worker@host',
  lastAccessTime: ts(NOW - ago),
  deploymentOptions: version ? { ...version, workerVersioningMode: 'WORKER_VERSIONING_MODE_VERSIONED' } : undefined,
});
const heartbeat = (version: typeof A, status: string, ago?: number) => ({
  deploymentVersion: version,
  status,
  ...(ago === undefined ? {} : { heartbeatAt: NOW - ago }),
});
const queue = (pollers: ReturnType<typeof poller>[], heartbeats?: ReturnType<typeof heartbeat>[], current = B): TaskQueueWorkers =>
  ({ queue: { pollers, versioningInfo: { currentDeploymentVersion: current } }, ...(heartbeats ? { heartbeats } : {}) }) as unknown as TaskQueueWorkers;

describe('runTarget', () => {
  test('a pinned run goes to its own build; an auto-upgrade one to the current; one without versioning to unversioned workers', () => {
    expect(runTarget({ behavior: 'VERSIONING_BEHAVIOR_PINNED', deploymentVersion: A } as never)).toEqual(A);
    expect(runTarget({ behavior: 1, deploymentVersion: A } as never)).toEqual(A);
    expect(runTarget({ behavior: 'VERSIONING_BEHAVIOR_AUTO_UPGRADE', deploymentVersion: A } as never)).toBe('current');
    expect(runTarget(undefined)).toBe('unversioned');
  });

  test('a move wins: a transition under way, a one-time move, an override', () => {
    expect(runTarget({ behavior: 'VERSIONING_BEHAVIOR_PINNED', deploymentVersion: A, versionTransition: { deploymentVersion: B } } as never)).toEqual(B);
    expect(runTarget({ behavior: 'VERSIONING_BEHAVIOR_PINNED', deploymentVersion: A, versioningOverride: { oneTime: { targetDeploymentVersion: B } } } as never)).toEqual(B);
    expect(runTarget({ behavior: 'VERSIONING_BEHAVIOR_PINNED', deploymentVersion: A, versioningOverride: { autoUpgrade: true } } as never)).toBe('current');
    expect(runTarget({ behavior: 'VERSIONING_BEHAVIOR_AUTO_UPGRADE', deploymentVersion: A, versioningOverride: { pinned: { version: B } } } as never)).toEqual(B);
  });
});

describe('buildPolls', () => {
  test("a build with a recent poller polls; one whose last poll is older than a live worker's long poll does not", () => {
    expect(buildPolls(A, queue([poller(A, 50_000)]), NOW)).toEqual({ buildId: 'a', polling: true });
    expect(buildPolls(A, queue([poller(A, POLLER_SEEN_WITHIN_MS + 1_000), poller(B, 1_000)]), NOW)).toEqual({ buildId: 'a', polling: false });
    expect(buildPolls(A, queue([]), NOW).polling).toBe(false);
  });

  test('workers that all said they were shutting down: their recent polls do not count, a poll after it does', () => {
    const stopped = [heartbeat(A, 'WORKER_STATUS_SHUTTING_DOWN', 5_000)];
    expect(buildPolls(A, queue([poller(A, 8_000)], stopped), NOW).polling).toBe(false);
    // Started again since (not heartbeating yet): its polls are newer than the shutdown.
    expect(buildPolls(A, queue([poller(A, 1_000)], stopped), NOW).polling).toBe(true);
    // Another worker of the build still runs.
    expect(buildPolls(A, queue([poller(A, 8_000)], [...stopped, heartbeat(A, 'WORKER_STATUS_RUNNING', 30_000)]), NOW).polling).toBe(true);
    // Heartbeats of another build say nothing of this one; no heartbeats at all leave the pollers to decide.
    expect(buildPolls(A, queue([poller(A, 8_000)], [heartbeat(B, 'WORKER_STATUS_SHUTTING_DOWN', 5_000)]), NOW).polling).toBe(true);
    expect(buildPolls(A, queue([poller(A, 8_000)]), NOW).polling).toBe(true);
    // A shutdown without its time (the list's newer, slimmer shape): no poll counts after it.
    expect(buildPolls(A, queue([poller(A, 1_000)], [heartbeat(A, 'WORKER_STATUS_SHUTDOWN')]), NOW).polling).toBe(false);
  });

  test('an auto-upgrade run follows the current version; unversioned runs, unversioned pollers', () => {
    expect(buildPolls('current', queue([poller(B, 1_000)]), NOW)).toEqual({ buildId: 'b', polling: true });
    expect(buildPolls('current', queue([poller(A, 1_000)]), NOW)).toEqual({ buildId: 'b', polling: false });
    expect(buildPolls('unversioned', queue([poller(undefined, 1_000)]), NOW).polling).toBe(true);
    expect(buildPolls('unversioned', queue([poller(A, 1_000)]), NOW).polling).toBe(false);
  });
});
