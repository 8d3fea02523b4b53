import type { Config } from '../config';
import { createSandbox, type Sandbox } from '../sandbox';
import { PersistedWorld } from '../sandbox/persistence';

/** How long the sandbox's customers take to "accept the terms" after an Intent request or a signup. */
const AUTO_SIGN_AFTER_MS = 5_000;
/** The demo's template-to-ad-account sync: shorter than any templateSyncGraceSeconds the examples use. */
const DEMO_TEMPLATE_SYNC_MS = 5_000;

/** The demo's first onboarding (sandbox/state.ts seedDemo: fixed ids). */
const DEMO = { wabaId: '200000000000001', businessId: '100000000000002' };

/**
 * Runs the built-in Graph sandbox for `npm start` without META_ACCESS_TOKEN, seeded with demo WABAs,
 * and says so loudly: nothing in this mode talks to Meta. Its world is kept in `stateFile` (beside the
 * dev server's state under .data/), so a restart finds what the onboardings Temporal kept were using.
 */
export async function startSandbox(config: Config, stateFile: string): Promise<{ sandbox: Sandbox; banner: string[]; close: () => Promise<void> }> {
  const sandbox = createSandbox({
    appId: config.meta.appId,
    appSecret: config.meta.appSecret,
    accessToken: config.graph.accessToken,
    webhookUrl: `http://127.0.0.1:${config.port}/webhooks/whatsapp`,
    autoSignTermsAfterMs: AUTO_SIGN_AFTER_MS,
    // Meta's sync takes up to 10 minutes; the demo's is short enough to watch a send pass the gate.
    templateSyncMs: DEMO_TEMPLATE_SYNC_MS,
  });
  const { persisted, restored } = PersistedWorld.open(sandbox.world, stateFile);
  if (!restored) sandbox.world.seedDemo();
  const close = async () => {
    persisted.close();
    await sandbox.close();
  };
  const { url } = await sandbox.listen(config.sandbox!.port).catch(async (err) => {
    await close();
    throw err;
  });
  const [key] = config.apiKeys;
  const bar = '='.repeat(100);
  const banner: string[] = [];
  const log = (line: string) => banner.push(line);
  log(bar);
  log(`SANDBOX MODE: META_ACCESS_TOKEN is unset, so every Graph call goes to the built-in sandbox at ${url}.`);
  log('Nothing here talks to Meta. Set META_ACCESS_TOKEN (and the other META_* settings) for production.');
  log(
    restored
      ? `Sandbox state restored from ${stateFile} (${sandbox.world.wabas.size} WABAs; delete the file, or .data/, to start afresh)`
      : `Demo WABAs: ${[...sandbox.world.wabas.keys()].join(', ')} (state kept in ${stateFile})`,
  );
  log('Try a full onboarding (the sandbox signs the terms ~5 s after the Intent request):');
  log(
    `  curl -s -X POST http://127.0.0.1:${config.port}/v1/onboardings -H 'Authorization: Bearer ${key}' ` +
      `-H 'Content-Type: application/json' -d '{"wabaId":"${DEMO.wabaId}","businessId":"${DEMO.businessId}",` +
      `"path":"intent","options":{"templateSyncGraceSeconds":10}}'`,
  );
  log(`  curl -s http://127.0.0.1:${config.port}/v1/onboardings/${DEMO.wabaId} -H 'Authorization: Bearer ${key}'`);
  log('Try the hosted Embedded Signup page (its popup is the sandbox\'s stand-in for Meta\'s): open the "url" this answers:');
  log(
    `  curl -s -X POST http://127.0.0.1:${config.port}/v1/signup-links -H 'Authorization: Bearer ${key}' ` +
      `-H 'Content-Type: application/json' -d '{"partnerName":"Sandbox Partner","options":{"templateSyncGraceSeconds":10}}'`,
  );
  log(`Sandbox controls (create WABAs, sign terms, inject faults): ${url}/_sandbox — see sandbox/README.md`);
  log(bar);
  return { sandbox, banner, close };
}
