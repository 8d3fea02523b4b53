import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SearchAttributeType } from '@temporalio/common';
import { workflowBundleOptions } from '../../worker/workflow-bundle';
import { ROOT, valueClosure } from '../architecture/imports';

/**
 * The workflow modules are preloaded (worker/workflow-bundle.ts): one copy per worker thread, shared
 * by every run in it. A value one run could change at module level would leak into the others and
 * break determinism, so the modules may hold only functions, classes and frozen constants. The same
 * holds for the modules of other rooms they load (temporal/search-attributes.ts, ...): preloaded too.
 */
const WORKFLOWS_DIR = path.resolve(__dirname, '../../workflows');
// With the modules in sub-folders (onboarding-phases/), which the bundle preloads too, and the modules
// of other rooms they load.
const modules = [
  ...new Set([
    ...readdirSync(WORKFLOWS_DIR, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => `workflows/${f}`),
    ...valueClosure('workflows/index.ts'),
  ]),
].sort();

test('the workflow modules are what the bundle preloads', () => {
  expect(workflowBundleOptions.preloadModules).toEqual([workflowBundleOptions.workflowsPath]);
  expect(require.resolve(workflowBundleOptions.workflowsPath)).toBe(path.join(WORKFLOWS_DIR, 'index.ts'));
});

test.each(modules)('%s declares no module-level variable', (file) => {
  const source = readFileSync(path.join(ROOT, file), 'utf8');
  expect(source.split('\n').filter((line) => /^(export )?(let|var) /.test(line))).toEqual([]);
});

/** The SDK's message definitions and search attribute keys: descriptors it reads, never writes. */
const isSdkDescriptor = (value: object) => {
  const { type, name } = value as { type?: unknown; name?: unknown };
  return typeof name === 'string' && (['signal', 'query', 'update'].includes(type as string) || Object.values(SearchAttributeType).includes(type as never));
};

test.each(modules)('%s exports only frozen objects', (file) => {
  const exported: Record<string, unknown> = require(path.join(ROOT, file));
  const mutable = Object.entries(exported)
    .filter(([, value]) => typeof value === 'object' && value !== null && !isSdkDescriptor(value))
    .filter(([, value]) => !Object.isFrozen(value))
    .map(([name]) => name);
  expect(mutable).toEqual([]);
});
