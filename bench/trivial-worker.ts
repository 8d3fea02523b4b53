/**
 * The baseline's worker process: same connection and worker settings as the service's, the trivial
 * workflow only. On the bench's "go" (an IPC message) it also starts and signals the runs the bench
 * asks for (TRIVIAL_RUNS, a JSON plan): from here, on this worker's connection, as the service's
 * worker starts onboardings (bench/trivial-driver.ts).
 */
import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { WORKFLOW_WORKER_TUNING } from '../worker/worker';
import { createTrivialDriver, type TrivialRunsPlan } from './trivial-driver';
import { makeVersionCurrent, versionedWorkerOptions } from '../temporal/deployment-version';

async function main() {
  const address = process.env.TEMPORAL_ADDRESS!;
  const taskQueue = process.env.TEMPORAL_TASK_QUEUE!;
  const connection = await NativeConnection.connect({ address });
  const version = { deploymentName: taskQueue, buildId: 'baseline' };
  const fail = (err: unknown) => {
    console.error('the trivial runs could not all be started and signalled:', err);
    process.exit(1);
  };
  const plan: TrivialRunsPlan | undefined = process.env.TRIVIAL_RUNS ? JSON.parse(process.env.TRIVIAL_RUNS) : undefined;
  const driver = plan && createTrivialDriver(new Client({ connection }), taskQueue, plan, fail);
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: require.resolve('./trivial-workflow'),
    shutdownGraceTime: '5s',
    ...WORKFLOW_WORKER_TUNING,
    // The service's WORKER_MAX_CACHED_WORKFLOWS, so both sides of the ratio keep the same cache.
    ...(process.env.WORKER_MAX_CACHED_WORKFLOWS ? { maxCachedWorkflows: Number(process.env.WORKER_MAX_CACHED_WORKFLOWS) } : {}),
    sinks: { baseline: { firstTaskDone: { fn: (info) => driver?.firstTaskDone(info.workflowId) } } },
    // Versioned like the service's workers (a deployment per run, named after its task queue), so the
    // baseline pays the same matching costs.
    workerDeploymentOptions: versionedWorkerOptions(version),
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => worker.shutdown());
  if (driver) {
    process.channel?.unref(); // the bench's channel alone does not keep this process up
    process.once('message', () => void driver.startAll().catch(fail));
  }
  const running = worker.run();
  await makeVersionCurrent(new Client({ connection }), 'default', version, { taskQueues: [taskQueue] }).catch(fail);
  await running;
  await connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
