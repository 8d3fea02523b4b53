import type { BundleOptions } from '@temporalio/worker';

const workflowsPath = require.resolve('../workflows');
/** Tracing's workflow interceptors: inert for a run started without trace context (telemetry/workflow-interceptors.ts). */
const tracingInterceptors = require.resolve('../telemetry/workflow-interceptors');

/**
 * How the workflow code is bundled: the same for the development worker, the prebuilt production
 * bundle (`npm run build`) and the tests. The workflow modules are preloaded: a worker thread
 * evaluates them once and every run shares them, where otherwise each run (and each replay after a
 * cache eviction) evaluates and keeps its own copy. At 2,000 onboardings that cut the worker's CPU by
 * a tenth and its memory by 65 KB per cached run (`npm run bench:bulk`). It is safe because the
 * modules keep no per-run state: functions, classes and frozen constants only, which
 * test/workflows/workflow-modules.test.ts holds them to. The interceptor modules are in every bundle,
 * so a prebuilt one traces when its worker does.
 */
export const workflowBundleOptions = {
  workflowsPath,
  preloadModules: [workflowsPath],
  workflowInterceptorModules: [tracingInterceptors],
} satisfies Pick<BundleOptions, 'workflowsPath' | 'preloadModules' | 'workflowInterceptorModules'>;
