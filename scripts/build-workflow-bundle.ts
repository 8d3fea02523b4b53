/**
 * Prebuilds the workflow bundle (dist/workflow-bundle.js, or the path given as the first argument)
 * so production workers start without webpack (WORKFLOW_BUNDLE_PATH).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowBundleOptions } from '../worker/workflow-bundle';

async function main() {
  const { code } = await bundleWorkflowCode(workflowBundleOptions);
  const out = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'dist', 'workflow-bundle.js'));
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, code);
  console.log(`workflow bundle: ${out} (${(code.length / 1024).toFixed(0)} KiB)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
