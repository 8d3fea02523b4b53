/**
 * `npm run release`: the one command of a rollout made by hand (docs/versioning.md). Once the new
 * build is the deployment's Current Version (`temporal worker deployment set-current-version ... --yes`),
 * it starts that build's release, the same one a worker with TEMPORAL_WORKER_SET_CURRENT=true starts
 * by itself: every open run pinned to an older build is woken (or, where its build has no workers
 * left, moved after a replay proof) at TEMPORAL_RELEASE_RATE per second, and drained versions nobody
 * polls are deleted. It follows the release until it is done, printing its progress; Ctrl-C leaves
 * it running (the Web UI shows it as `mm-release:<deployment>:<build>`).
 *
 *   npm run release                 the deployment's current build
 *   npm run release -- --no-wait    start it and return
 *
 * Temporal's settings as the service reads them (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
 * TLS, TEMPORAL_DEPLOYMENT_NAME, TEMPORAL_TASK_QUEUE); no Meta setting is needed. The workers of the
 * current build run the release: start them first.
 */
import { Client } from '@temporalio/client';
import { ConfigError, loadConfig } from '../config';
import { connectClient } from '../temporal/connection';
import { currentVersion, versionLabel } from '../temporal/deployment-version';
import { startRelease } from '../worker/release';
import { getReleaseStateQuery } from '../workflows/messages';
import type { ReleaseState } from '../workflows/release-types';

/** How long the command follows a release (it goes on without the command). */
const FOLLOW_MS = 6 * 3600_000;

async function main(): Promise<number> {
  const config = loadConfig(process.env, { role: 'release' });
  const connection = await connectClient(config);
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const version = await currentVersion(client, config.temporal.namespace, config.temporal.deployment.name);
    if (!version) {
      console.error(`deployment ${config.temporal.deployment.name} has no current version: make the new build current first (docs/versioning.md)`);
      return 1;
    }
    const handle = await startRelease({ client, config, version, log: (line) => console.log(line) }, false);
    if (process.argv.includes('--no-wait')) return 0;
    let printed = '';
    // Ceiling: FOLLOW_MS of queries, one every 2 s.
    for (const until = Date.now() + FOLLOW_MS; Date.now() < until; ) {
      const state: ReleaseState = await handle.query(getReleaseStateQuery);
      const line = summary(state);
      if (line !== printed) console.log((printed = line));
      if (state.status === 'DONE') return state.left > 0 ? 2 : 0;
      if (state.status === 'REPLACED') return 0; // the newer build's release goes on (its summary says which)
      await new Promise((r) => setTimeout(r, 2_000));
    }
    console.log(`still running after ${FOLLOW_MS / 3600_000} h; follow ${handle.workflowId} in the Web UI`);
    return 0;
  } finally {
    await connection.close();
  }

  function summary(s: ReleaseState): string {
    if (s.replacedBy) return `REPLACED ${versionLabel(s.target)}: ${versionLabel({ ...s.target, buildId: s.replacedBy })} is current now; follow its release`;
    const last = s.passes.at(-1);
    const moved = last ? `${last.found} run(s) on older builds: ${last.movedThemselves} moved themselves, ${last.moved} moved by replay proof, ${last.refused} refused; ${s.left} left` : 'listing runs';
    const versions = s.deleted.length || s.kept.length ? `; versions deleted: ${s.deleted.join(', ') || 'none'}, kept: ${s.kept.join(', ') || 'none'}` : '';
    return `${s.status} ${versionLabel(s.target)} pass ${s.passes.length}: ${moved}${versions}`;
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof ConfigError ? err.message : `release failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
