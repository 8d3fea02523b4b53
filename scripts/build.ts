/**
 * `npm run build [-- <outDir>]` (default dist/): everything `node <outDir>/api/main.js` and
 * `node <outDir>/worker/main.js` need besides node_modules, the one build the image runs (Dockerfile)
 * and test/deploy/ runs natively: the compiled code (tsc -p tsconfig.build.json), the prebuilt
 * workflow bundle (<outDir>/workflow-bundle.js), and the run-time files tsc does not copy.
 */
import { execFile } from 'node:child_process';
import { cpSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildWorkflowBundle } from './build-workflow-bundle';

const repoRoot = path.resolve(__dirname, '..');

/** Folders the compiled code reads beside itself at run time: the hosted signup page's files, the SDK stand-in's. */
export const BUILD_ASSET_DIRS = ['api/signup/assets', 'sandbox/js-sdk-assets'];

async function main(): Promise<void> {
  const outDir = path.resolve(process.argv[2] ?? path.join(repoRoot, 'dist'));
  const tsc = require.resolve('typescript/bin/tsc');
  await Promise.all([
    promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: repoRoot, maxBuffer: 1 << 24 }).catch(
      (err: { stdout?: string }) => {
        throw new Error(`tsc failed:\n${err.stdout ?? err}`);
      },
    ),
    buildWorkflowBundle(path.join(outDir, 'workflow-bundle.js')),
  ]);
  for (const assets of BUILD_ASSET_DIRS) cpSync(path.join(repoRoot, assets), path.join(outDir, assets), { recursive: true });
  console.log(`build: ${outDir}`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
