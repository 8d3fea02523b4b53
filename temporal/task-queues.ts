/**
 * The service's task queues. Workflows and their bookkeeping activities run on the configured
 * TEMPORAL_TASK_QUEUE (config/index.ts); Graph calls run on their own queue beside it, so one
 * server-side rate limit (GRAPH_MAX_RPS) caps them across all workers.
 *
 * Pure (no Temporal client or worker code): the workflows import it too.
 */
export const graphTaskQueue = (taskQueue: string): string => `${taskQueue}-graph`;
