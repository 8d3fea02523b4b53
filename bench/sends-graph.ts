/**
 * bench:sends' Graph: the sandbox in a process of its own, as Meta is a remote service to the gate and
 * to a partner calling it directly alike. It makes one ONBOARDED WABA with `--templates` approved
 * marketing templates (synced 100 ms after creation), listens on 127.0.0.1 and prints one JSON line:
 * `{ url, wabaId, businessId, phoneNumberId, templates }`. It runs until SIGTERM.
 */
import { parseArgs } from 'node:util';
import { createSandbox } from '../sandbox';
import { boundedInt } from './common';

export const SEND_BENCH_SECRETS = { token: 'bench-token', appId: 'bench-app', appSecret: 'bench-app-secret', apiKey: 'bench-key' };

async function main() {
  const { values } = parseArgs({ options: { templates: { type: 'string', default: '10' } } });
  const templateCount = boundedInt(values.templates, 1, 100, 'templates');
  const sandbox = createSandbox({
    appId: SEND_BENCH_SECRETS.appId,
    appSecret: SEND_BENCH_SECRETS.appSecret,
    accessToken: SEND_BENCH_SECRETS.token,
    templateSyncMs: 100,
  });
  const { url } = await sandbox.listen(0);
  const waba = sandbox.world.createWaba({ onboardingStatus: 'ONBOARDED' });
  const templates = Array.from({ length: templateCount }, (_, i) => `bench_template_${i}`);
  for (const name of templates) await sandbox.world.messaging.createTemplate(waba.id, { name, notify: false });
  process.once('SIGTERM', () => void sandbox.close().then(() => process.exit(0)));
  console.log(JSON.stringify({ url, wabaId: waba.id, businessId: waba.ownerBusinessId, phoneNumberId: waba.phoneNumbers[0].id, templates }));
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
