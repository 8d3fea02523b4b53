/**
 * GRAPH_MAX_RPS is one limiter only on a Graph task queue of one partition (docs/operations.md#one-graph-budget-under-load):
 * the production cluster's dynamic config and the dev server both say so.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DEV_SERVER_DYNAMIC_CONFIG } from '../../scripts/dev-server';
import { loadConfig } from '../../config';
import { graphTaskQueue } from '../../temporal/task-queues';
import { repoRoot } from '../harness/image-build';

type Constrained = { value: unknown; constraints?: Record<string, unknown> }[];
const KEYS = ['matching.numTaskqueueReadPartitions', 'matching.numTaskqueueWritePartitions'];

test('production: the Graph queue of the default TEMPORAL_TASK_QUEUE (and of test:production) has one partition, no other queue is changed', () => {
  const dynamic = parseYaml(readFileSync(path.join(repoRoot, 'deploy/temporal/config/dynamicconfig/production.yaml'), 'utf8')) as Record<string, Constrained>;
  const defaultQueue = loadConfig({ MM_SANDBOX: 'true' }).temporal.taskQueue;
  for (const key of KEYS) {
    expect(dynamic[key]).toEqual(
      expect.arrayContaining([
        { value: 1, constraints: { taskQueueName: graphTaskQueue(defaultQueue) } },
        { value: 1, constraints: { taskQueueName: graphTaskQueue('mm-onboarding-production-test') } },
      ]),
    );
    for (const entry of dynamic[key]) expect(String(entry.constraints?.taskQueueName)).toMatch(/-graph$/);
  }
});

test('dev server: one partition per task queue (it cannot constrain a value to one queue)', () => {
  for (const key of KEYS) expect(DEV_SERVER_DYNAMIC_CONFIG[key]).toBe(1);
});
