import type { BundleOptions } from '@temporalio/worker';

const workflowsPath = require.resolve('../workflows');

/**
 * How the workflow code is bundled: the same for the development worker, the prebuilt production
 * bundle (`npm run build`) and the tests. The workflow modules are preloaded: a worker thread
 * evaluates them once and every run shares them, where otherwise each run (and each replay after a
 * cache eviction) evaluates and keeps its own copy. At 2,000 onboardings that cut the worker's CPU by
 * a tenth and its memory by 65 KB per cached run (`npm run bench:bulk`). It is safe because the
 * modules keep no per-run state: functions, classes and frozen constants only, which
 * test/workflows/workflow-modules.test.ts holds them to.
 */
export const workflowBundleOptions = {
  workflowsPath,
  preloadModules: [workflowsPath],
} satisfies Pick<BundleOptions, 'workflowsPath' | 'preloadModules'>;
