/** The baseline's worker process: same connection and worker settings as the service's, the trivial workflow only. */
import { NativeConnection, Worker } from '@temporalio/worker';
import { WORKFLOW_WORKER_TUNING } from '../worker/worker';

async function main() {
  const address = process.env.TEMPORAL_ADDRESS!;
  const taskQueue = process.env.TEMPORAL_TASK_QUEUE!;
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: require.resolve('./trivial-workflow'),
    shutdownGraceTime: '5s',
    ...WORKFLOW_WORKER_TUNING,
    // The service's WORKER_MAX_CACHED_WORKFLOWS, so both sides of the ratio keep the same cache.
    ...(process.env.WORKER_MAX_CACHED_WORKFLOWS ? { maxCachedWorkflows: Number(process.env.WORKER_MAX_CACHED_WORKFLOWS) } : {}),
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => worker.shutdown());
  await worker.run();
  await connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
