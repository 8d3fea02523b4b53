/**
 * The workers' Worker Deployment Version, defined once (docs/versioning.md): the deployment's name
 * (TEMPORAL_DEPLOYMENT_NAME, default `mm-onboarding`) and the build id of this code (TEMPORAL_WORKER_BUILD_ID,
 * else `<package version>-<git short sha>`), and the one way to make that version the deployment's
 * Current Version once its workers poll. A versioned worker gets no tasks until its version is current
 * (or ramping), so whoever starts workers in dev and tests does that here, and production does it on
 * purpose (TEMPORAL_WORKER_SET_CURRENT=true on the worker, or `temporal worker deployment set-current-version`).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isGrpcServiceError, type Client } from '@temporalio/client';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import type { Config } from '../config';

export type { WorkerDeploymentVersion };

/** Every workflow is pinned to the build it started on; the onboarding moves at its continue-as-new. */
export const DEFAULT_VERSIONING_BEHAVIOR = 'PINNED' as const;

/** The version this process's workers declare. */
export function deploymentVersion(config: Pick<Config, 'temporal'>): WorkerDeploymentVersion {
  return { deploymentName: config.temporal.deployment.name, buildId: config.temporal.deployment.buildId ?? codeBuildId() };
}

/** `deploymentName:buildId`, as the CLI and the Web UI print a version. */
export function versionLabel(v: WorkerDeploymentVersion): string {
  return `${v.deploymentName}:${v.buildId}`;
}

/** The worker options that make a worker versioned, as this process's workers are. */
export function workerDeploymentOptions(config: Config) {
  return versionedWorkerOptions(deploymentVersion(config));
}

/** The worker options that make a worker declare `version` (also the bench's baseline worker). */
export function versionedWorkerOptions(version: WorkerDeploymentVersion) {
  return { useWorkerVersioning: true as const, version, defaultVersioningBehavior: DEFAULT_VERSIONING_BEHAVIOR };
}

let cachedBuildId: string | undefined;

/**
 * The build id of the code this process runs: `<package version>-<commit>`, the commit taken from
 * GIT_COMMIT (the image's build argument) or `git rev-parse` in the checkout. Without either (an
 * image built without the argument, a tarball): the prebuilt workflow bundle's content hash, else
 * `<package version>-local`, so two different bundles never share a build id by accident.
 */
export function codeBuildId(env: Record<string, string | undefined> = process.env): string {
  if (env === process.env && cachedBuildId) return cachedBuildId;
  const { root, version } = servicePackage();
  const commit = shortCommit(env.GIT_COMMIT) ?? gitCommit(root);
  const bundle = env.WORKFLOW_BUNDLE_PATH;
  const id = commit
    ? `${version}-${commit}`
    : bundle && existsSync(bundle)
      ? `${version}-bundle-${createHash('sha256').update(readFileSync(bundle)).digest('hex').slice(0, 10)}`
      : `${version}-local`;
  if (env === process.env) cachedBuildId = id;
  return id;
}

function shortCommit(sha: string | undefined): string | undefined {
  const s = sha?.trim();
  return s && /^[0-9a-f]{7,40}$/i.test(s) ? s.slice(0, 7).toLowerCase() : undefined;
}

function gitCommit(root: string): string | undefined {
  try {
    const out = execFileSync('git', ['rev-parse', '--short=7', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5_000,
    });
    return shortCommit(out);
  } catch {
    return undefined; // no git, or no repository (the image)
  }
}

/** The service's package.json, found upwards from here (source tree or dist/): its directory and version. */
function servicePackage(): { root: string; version: string } {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
      if (pkg.name === 'mm-onboarding') return { root: dir, version: String(pkg.version ?? '0.0.0') };
    } catch {
      // no (readable) package.json here: look one level up
    }
    dir = path.dirname(dir);
  }
  return { root: process.cwd(), version: '0.0.0' };
}

/** gRPC status codes worth another try while a version registers: DEADLINE_EXCEEDED, NOT_FOUND, FAILED_PRECONDITION, ABORTED, UNAVAILABLE. */
const RETRYABLE_CODES = [4, 5, 9, 10, 14];

/** The deployment's Current Version; undefined while it has none (or no deployment of that name yet). */
export async function currentVersion(client: Client, namespace: string, deploymentName: string): Promise<WorkerDeploymentVersion | undefined> {
  try {
    const { workerDeploymentInfo } = await client.workflowService.describeWorkerDeployment({ namespace, deploymentName });
    return currentOf(workerDeploymentInfo);
  } catch (err) {
    if (isGrpcServiceError(err) && err.code === 5) return undefined; // NOT_FOUND
    throw err;
  }
}

type DeploymentInfo = Awaited<ReturnType<Client['workflowService']['describeWorkerDeployment']>>['workerDeploymentInfo'];

/** The Current Version a describe of the deployment names, if any. */
function currentOf(info: DeploymentInfo): WorkerDeploymentVersion | undefined {
  const current = info?.routingConfig?.currentDeploymentVersion;
  return current?.deploymentName && current.buildId ? { deploymentName: current.deploymentName, buildId: current.buildId } : undefined;
}

export interface MakeCurrentOptions {
  /** The task queues this version's workers poll: the version counts as registered once all are in it. */
  taskQueues: string[];
  /** Bounded wait for the workers' first polls to register the version. */
  timeoutMs?: number;
  log?: (line: string) => void;
  /** Stop waiting (the workers failed); checked between attempts. */
  aborted?: () => boolean;
}

/**
 * Makes `version` the Current Version of its deployment, waiting (bounded) until the server has
 * registered it with all of `taskQueues`, which happens on the workers' first polls. A version that is
 * already current is left alone. Returns whether it changed anything.
 */
export async function makeVersionCurrent(
  client: Client,
  namespace: string,
  version: WorkerDeploymentVersion,
  { taskQueues, timeoutMs = 60_000, log, aborted }: MakeCurrentOptions,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const service = client.workflowService;
  let lastProblem = 'not registered yet';
  for (let attempt = 1; ; attempt++) {
    if (aborted?.()) throw new Error(`stopped waiting for ${versionLabel(version)} to register: the workers stopped`);
    try {
      const { workerDeploymentInfo: info } = await service.describeWorkerDeployment({
        namespace,
        deploymentName: version.deploymentName,
      });
      const current = currentOf(info);
      if (current?.deploymentName === version.deploymentName && current.buildId === version.buildId) return false;
      const registered = info?.versionSummaries?.some(
        (s) => s.deploymentVersion?.buildId === version.buildId && s.deploymentVersion?.deploymentName === version.deploymentName,
      );
      if (registered) {
        const { workerDeploymentVersionInfo: vi } = await service.describeWorkerDeploymentVersion({
          namespace,
          deploymentVersion: { deploymentName: version.deploymentName, buildId: version.buildId },
        });
        const have = new Set((vi?.taskQueueInfos ?? []).map((t) => t.name));
        const missing = taskQueues.filter((q) => !have.has(q));
        if (missing.length === 0) {
          await service.setWorkerDeploymentCurrentVersion({
            namespace,
            deploymentName: version.deploymentName,
            buildId: version.buildId,
            identity: `mm-onboarding@${process.pid}`,
          });
          log?.(`made ${versionLabel(version)} the current version of deployment ${version.deploymentName}`);
          return true;
        }
        lastProblem = `task queues not registered yet: ${missing.join(', ')}`;
      }
    } catch (err) {
      // NOT_FOUND: no poll has reached the server yet. FAILED_PRECONDITION / ABORTED: a concurrent
      // change of the deployment (another worker of the same build doing the same); try again.
      const retryable =
        isGrpcServiceError(err) &&
        RETRYABLE_CODES.includes(err.code);
      if (!retryable) throw err;
      lastProblem = err.details || err.message;
    }
    if (Date.now() > deadline) {
      throw new Error(`${versionLabel(version)} was not registered with its task queues within ${timeoutMs} ms (${lastProblem})`);
    }
    if (attempt === 10) log?.(`waiting for ${versionLabel(version)} to register (${lastProblem})`);
    await new Promise((r) => setTimeout(r, Math.min(100 * attempt, 1_000)));
  }
}
