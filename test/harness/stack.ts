/**
 * The shared harness for workflow tests: the suite's real Temporal dev server, the real workers on a
 * task queue of their own, and a Graph sandbox. Workflows are bundled once per test file.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { installQuietRuntime, quietHarnessLogger } from './quiet-logger';
import { closingConnection } from '../../temporal/closing-connection';
import { loadConfig, type Config } from '../../config';
import { createSandbox, type Sandbox, type SandboxOptions } from '../../sandbox';
import { createWorkers, type OnboardingWorkers } from '../../worker/worker';
import { workflowBundleOptions } from '../../worker/workflow-bundle';
import type { Activities } from '../../activities';
import { GraphUsage } from '../../graph';
import { onboardingWorkflowId, type OnboardingInput, type OnboardingState, type OnboardingStatus } from '../../workflows/types';
import { getStateQuery } from '../../workflows/messages';
import { onboardingStartOptions } from '../../api/partner/onboarding-client';

export const TEST_SECRETS = {
  accessToken: 'test-system-user-token',
  appId: 'test-app',
  appSecret: 'test-app-secret',
  verifyToken: 'test-verify-token',
  apiKey: 'test-api-key',
};

/** The service's environment for tests: a Temporal server, a task queue, the sandbox, the test secrets. */
export function testServiceEnv(
  where: { temporalAddress: string; taskQueue: string; graphUrl: string },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: where.temporalAddress,
    TEMPORAL_TASK_QUEUE: where.taskQueue,
    // A deployment of its own per stack: its version is made current without touching anyone else's.
    TEMPORAL_DEPLOYMENT_NAME: where.taskQueue,
    // Worker processes started from the entry point make their version current themselves.
    TEMPORAL_WORKER_SET_CURRENT: 'true',
    GRAPH_API_BASE_URL: where.graphUrl,
    META_ACCESS_TOKEN: TEST_SECRETS.accessToken,
    META_APP_ID: TEST_SECRETS.appId,
    META_APP_SECRET: TEST_SECRETS.appSecret,
    WEBHOOK_VERIFY_TOKEN: TEST_SECRETS.verifyToken,
    API_KEYS: TEST_SECRETS.apiKey,
    ...extra,
  };
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Bundled once per test file (each jest file has its own module registry). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ ...workflowBundleOptions, logger: quietLogger() });
  return bundle;
}

function quietLogger() {
  return quietHarnessLogger();
}

export interface Stack {
  config: Config;
  client: Client;
  connection: Connection;
  /** The workers' own connection (a client on it can start workflows eagerly on them). */
  workerConnection: NativeConnection;
  sandbox: Sandbox;
  sandboxUrl: string;
  /** The workers' view of Meta's usage headers (the API's /metrics shows it). */
  graphUsage: GraphUsage;
  /** Starts an onboarding workflow directly (as the API would). */
  start(input: OnboardingInput): Promise<WorkflowHandle>;
  state(wabaId: string): Promise<OnboardingState>;
  /** Polls the state until `predicate` holds (bounded). */
  waitForState(wabaId: string, predicate: (s: OnboardingState) => boolean, timeoutMs?: number): Promise<OnboardingState>;
  waitForStatus(wabaId: string, status: OnboardingStatus, timeoutMs?: number): Promise<OnboardingState>;
  /** Stops the workers only (to simulate a crash / restart); `startWorkers` brings them back. */
  stopWorkers(): Promise<void>;
  startWorkers(): Promise<void>;
  stop(): Promise<void>;
}

export interface StackOptions {
  sandbox?: Partial<SandboxOptions>;
  /** Extra environment; a function gets the sandbox's URL (e.g. for META_SDK_URL). */
  env?: Record<string, string> | ((sandboxUrl: string) => Record<string, string>);
  /** Activities to run instead of the service's own (a fault in Temporal itself, say); gets the stack's client. */
  activities?: (client: Client) => Partial<Activities>;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  installQuietRuntime();
  const address = process.env.TEMPORAL_TEST_ADDRESS;
  if (!address) throw new Error('TEMPORAL_TEST_ADDRESS is unset: run through jest (its globalSetup starts the dev server)');

  const sandbox = createSandbox({
    appId: TEST_SECRETS.appId,
    appSecret: TEST_SECRETS.appSecret,
    accessToken: TEST_SECRETS.accessToken,
    ...opts.sandbox,
  });
  const { url: sandboxUrl } = await sandbox.listen(0);
  const config = loadConfig(
    testServiceEnv(
      { temporalAddress: address, taskQueue: `test-${randomUUID()}`, graphUrl: sandboxUrl },
      { GRAPH_MAX_RPS: '1000', ...(typeof opts.env === 'function' ? opts.env(sandboxUrl) : opts.env) },
    ),
  );
  // Its retries end with the stack: a retry timer firing after stop() must not throw (temporal/closing-connection.ts).
  const connection = closingConnection({ address });
  await connection.ensureConnected();
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const workerConnection = await NativeConnection.connect({ address });
  const workflowBundleCode = await workflowBundle();
  const graphUsage = new GraphUsage(config.graph.maxRps);

  let workers: OnboardingWorkers | undefined;
  let running: Promise<void> | undefined;
  const startWorkers = async () => {
    workers = await createWorkers(config, workerConnection, client, {
      workflowBundle: workflowBundleCode,
      shutdownGraceTime: '1s',
      ...(opts.activities ? { activities: opts.activities(client) } : {}),
    }, graphUsage);
    running = workers.run();
    await workers.makeCurrent();
  };
  const stopWorkers = async () => {
    workers?.shutdown();
    await running;
    workers = undefined;
  };
  await startWorkers();

  const state = (wabaId: string) => client.workflow.getHandle(onboardingWorkflowId(wabaId)).query(getStateQuery);
  const waitForState = async (wabaId: string, predicate: (s: OnboardingState) => boolean, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    let last: OnboardingState | undefined;
    let lastError: unknown;
    while (Date.now() < deadline) {
      try {
        last = await state(wabaId);
        if (predicate(last)) return last;
      } catch (err) {
        lastError = err; // not started yet, or no worker has answered yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `timed out after ${timeoutMs} ms waiting on WABA ${wabaId}; last state: ${JSON.stringify(last)}${lastError && !last ? `; last error: ${lastError}` : ''}`,
    );
  };

  return {
    config,
    client,
    connection,
    workerConnection,
    sandbox,
    sandboxUrl,
    graphUsage,
    start: (input) => client.workflow.start('onboarding', onboardingStartOptions(input, config)),
    state,
    waitForState,
    waitForStatus: (wabaId, status, timeoutMs) => waitForState(wabaId, (s) => s.status === status, timeoutMs),
    stopWorkers,
    startWorkers,
    async stop() {
      await stopWorkers();
      await workerConnection.close();
      await connection.close();
      await sandbox.close();
    },
  };
}

/** Fast onboarding options: seconds instead of minutes and hours. */
export const FAST = { templateSyncGraceSeconds: 1, statusPollIntervalSeconds: 1 } as const;

/** Fast, but the status is read once and then hourly, so no poll can find the terms before a webhook does. */
export const WEBHOOK_ONLY = { ...FAST, statusPollIntervalSeconds: 3600 } as const;

/** The statuses an onboarding has been through, in order. */
export const statuses = (s: Pick<OnboardingState, 'history'>) => s.history.map((h) => h.status);
