import type { Config } from '../config';
import { createSandbox, type Sandbox } from '../sandbox';

/** How long the sandbox's customers take to "accept the terms" after an Intent request or a signup. */
const AUTO_SIGN_AFTER_MS = 5_000;
/** The demo's template-to-ad-account sync: shorter than any templateSyncGraceSeconds the examples use. */
const DEMO_TEMPLATE_SYNC_MS = 5_000;

/**
 * Runs the built-in Graph sandbox for `npm start` without META_ACCESS_TOKEN, seeded with demo WABAs,
 * and says so loudly: nothing in this mode talks to Meta.
 */
export async function startSandbox(config: Config): Promise<{ sandbox: Sandbox; banner: string[] }> {
  const sandbox = createSandbox({
    appId: config.meta.appId,
    appSecret: config.meta.appSecret,
    accessToken: config.graph.accessToken,
    webhookUrl: `http://127.0.0.1:${config.port}/webhooks/whatsapp`,
    autoSignTermsAfterMs: AUTO_SIGN_AFTER_MS,
    // Meta's sync takes up to 10 minutes; the demo's is short enough to watch a send pass the gate.
    templateSyncMs: DEMO_TEMPLATE_SYNC_MS,
  });
  const { url } = await sandbox.listen(config.sandbox!.port);
  const demo = sandbox.world.seedDemo();
  const [key] = config.apiKeys;
  const bar = '='.repeat(100);
  const banner: string[] = [];
  const log = (line: string) => banner.push(line);
  log(bar);
  log(`SANDBOX MODE: META_ACCESS_TOKEN is unset, so every Graph call goes to the built-in sandbox at ${url}.`);
  log('Nothing here talks to Meta. Set META_ACCESS_TOKEN (and the other META_* settings) for production.');
  log(`Demo WABAs: ${JSON.stringify(demo.wabaIds)}`);
  log('Try a full onboarding (the sandbox signs the terms ~5 s after the Intent request):');
  log(
    `  curl -s -X POST http://127.0.0.1:${config.port}/v1/onboardings -H 'Authorization: Bearer ${key}' ` +
      `-H 'Content-Type: application/json' -d '{"wabaId":"${demo.wabaIds.acmeEligible}","businessId":"${demo.businessIds[0]}",` +
      `"path":"intent","options":{"templateSyncGraceSeconds":10}}'`,
  );
  log(`  curl -s http://127.0.0.1:${config.port}/v1/onboardings/${demo.wabaIds.acmeEligible} -H 'Authorization: Bearer ${key}'`);
  log('Try the hosted Embedded Signup page (its popup is the sandbox\'s stand-in for Meta\'s): open the "url" this answers:');
  log(
    `  curl -s -X POST http://127.0.0.1:${config.port}/v1/signup-links -H 'Authorization: Bearer ${key}' ` +
      `-H 'Content-Type: application/json' -d '{"partnerName":"Sandbox Partner","options":{"templateSyncGraceSeconds":10}}'`,
  );
  log(`Sandbox controls (create WABAs, sign terms, inject faults): ${url}/_sandbox — see sandbox/README.md`);
  log(bar);
  return { sandbox, banner };
}
