import { startDevServer, type DevServer } from '../../scripts/dev-server';
import { CONTINUE_AS_NEW_SUGGESTED_AT, GAUGES_NAMESPACE, RELEASES_NAMESPACE } from './limits';

declare global {
  // eslint-disable-next-line no-var
  var __mmDevServer: DevServer | undefined;
}

/** One real Temporal dev server for the whole suite; test files reach it through TEMPORAL_TEST_ADDRESS. */
export default async function globalSetup(): Promise<void> {
  if (process.env.TEMPORAL_TEST_ADDRESS) return; // an outside server was given
  const server = await startDevServer({
    readyTimeoutMs: 120_000,
    // Releases move every open run of a deployment and keep runs churning for a minute: their tests
    // run in a namespace of their own (RELEASES_NAMESPACE), so namespace-wide counts elsewhere
    // (the /metrics gauges) see none of it.
    extraNamespaces: [RELEASES_NAMESPACE, GAUGES_NAMESPACE],
    // Low enough that a test can drive a run past it in seconds, high above any ordinary test run.
    dynamicConfig: {
      'limit.historyCount.suggestContinueAsNew': CONTINUE_AS_NEW_SUGGESTED_AT,
      // Every stack is a Worker Deployment of its own (test/harness/stack.ts); the default ceiling is 100 per namespace.
      'matching.maxDeployments': 1000,
      // Releases in seconds (test/temporal/release-*.test.ts): drainage shows within ~10 s instead of
      // ~6 min, and a stopped build's pollers are forgotten after 10 s instead of 5 min, so its
      // version can be deleted. Production keeps the defaults (docs/versioning.md).
      'matching.wv.VersionDrainageStatusVisibilityGracePeriod': '5s',
      'matching.wv.VersionDrainageStatusRefreshInterval': '5s',
      'matching.PollerHistoryTTL': '10s',
    },
  });
  globalThis.__mmDevServer = server;
  process.env.TEMPORAL_TEST_ADDRESS = server.address;
}
