import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { HISTORIES_DIR } from '../harness/histories';
import { workflowBundle } from '../harness/stack';

/**
 * Histories recorded from real runs (RECORD_HISTORIES=1 npx jest test/workflows) must replay on the
 * current workflow code without a nondeterminism error: running onboardings survive every deploy.
 */
const recorded = readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json')).sort();

test('there are recorded histories to replay', () => {
  expect(recorded.length).toBeGreaterThanOrEqual(8);
});

test.each(recorded)('%s replays on the current workflow code', async (file) => {
  // The same JSON the Temporal UI and CLI export; the replayer reads it as is.
  const history: unknown = JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8'));
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file);
});
