/**
 * Prebuilds the workflow bundle so production workers start without webpack (WORKFLOW_BUNDLE_PATH):
 * a step of `npm run build` (scripts/build.ts), or on its own `tsx scripts/build-workflow-bundle.ts
 * [path]` (default dist/workflow-bundle.js).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowBundleOptions } from '../worker/workflow-bundle';

export async function buildWorkflowBundle(out: string): Promise<void> {
  const { code } = await bundleWorkflowCode(workflowBundleOptions);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, code);
  console.log(`workflow bundle: ${out} (${(code.length / 1024).toFixed(0)} KiB)`);
}

if (require.main === module) {
  buildWorkflowBundle(path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'dist', 'workflow-bundle.js'))).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
