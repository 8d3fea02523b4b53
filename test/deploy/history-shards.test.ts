/**
 * The cluster's history shard count is chosen once, for growth, and said why: it can never change.
 * (`npm run test:production` checks the running cluster reports the same count.)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../harness/image-build';

const shipped = Number(/^\s*numHistoryShards:\s*(\d+)\s*$/m.exec(readFileSync(path.join(repoRoot, 'deploy/temporal/config/production.yaml'), 'utf8'))?.[1]);

test('production.yaml sizes numHistoryShards for growth: a power of two of at least 512', () => {
  expect(shipped).toBeGreaterThanOrEqual(512);
  expect(Math.log2(shipped) % 1).toBe(0);
});

test('docs/operations.md explains the count and that it can never change', () => {
  const ops = readFileSync(path.join(repoRoot, 'docs/operations.md'), 'utf8');
  const section = ops.slice(ops.indexOf('### History shards'));
  expect(section.length).toBeLessThan(ops.length);
  expect(section).toContain(`numHistoryShards: ${shipped}`);
  expect(section).toMatch(/can never (be )?change/);
});
