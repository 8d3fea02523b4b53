/**
 * A restarted demo resumes like Temporal does: `npm start` keeps the sandbox's world under .data/
 * (beside the dev server's SQLite file), so the onboardings Temporal kept still find their WABAs.
 */
import { killEverything, removeTmpDirs, restartNpmStart, spawnNpmStart, waitUntilServing, exitWithin, type StartedNpm } from '../harness/npm-start';
import { eventually } from '../harness/wait';

jest.setTimeout(240_000);
afterAll(() => killEverything());
afterAll(() => removeTmpDirs());

const json = async (res: Response) => ({ status: res.status, body: (await res.json().catch(() => undefined)) as any });

test('after a restart the sandbox still has the WABA an onboarding waits on, and the onboarding reaches READY', async () => {
  const first = await spawnNpmStart();
  await waitUntilServing(first);
  const api = `http://127.0.0.1:${first.ports.api}`;
  const sandbox = `http://127.0.0.1:${first.ports.sandbox}`;
  const post = (url: string, body: unknown, auth = true) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: 'Bearer sandbox-api-key' } : {}) },
      body: JSON.stringify(body),
    }).then(json);
  const onboarding = async (s: StartedNpm, wabaId: string) =>
    (await json(await fetch(`http://127.0.0.1:${s.ports.api}/v1/onboardings/${wabaId}`, { headers: { authorization: 'Bearer sandbox-api-key' } }))).body;

  // A WABA of the partner's own making (not one of the seeded demo ones), whose customer signs only when told.
  const waba = await post(`${sandbox}/_sandbox/wabas`, { ownerBusinessId: '7300000000000001', autoSign: false }, false);
  expect(waba.status).toBe(201);
  const wabaId = waba.body.id as string;
  expect((await post(`${sandbox}/_sandbox/wabas/${wabaId}/templates`, { name: 'welcome', language: 'en_US' }, false)).status).toBe(201);
  const started = await post(`${api}/v1/onboardings`, {
    wabaId,
    businessId: '7300000000000001',
    path: 'intent',
    options: { templateSyncGraceSeconds: 1, statusPollIntervalSeconds: 2 },
  });
  expect(started.status).toBe(201);
  await eventually(async () => ((await onboarding(first, wabaId))?.status === 'AWAITING_TERMS' ? true : undefined), 60_000, 'AWAITING_TERMS');

  // The same ports and the same data dir: what a developer's second `npm start` gets.
  const second = await restartNpmStart(first);
  expect((await json(await fetch(`${sandbox}/_sandbox/wabas/${wabaId}`))).status).toBe(200);

  // The customer signs now: the onboarding the dev server kept goes on to READY, never NEEDS_ATTENTION.
  expect((await post(`${sandbox}/_sandbox/wabas/${wabaId}/sign-terms`, {}, false)).status).toBe(200);
  const done = await eventually(
    async () => {
      const state = await onboarding(second, wabaId);
      if (state?.status === 'NEEDS_ATTENTION') throw new Error(`NEEDS_ATTENTION after the restart: ${JSON.stringify(state)}`);
      return state?.status === 'READY' ? state : undefined;
    },
    90_000,
    'READY after the restart',
  );
  expect(done.status).toBe('READY');
  expect(second.output()).toContain('Sandbox state restored from');
  process.kill(second.npm.pid!, 'SIGTERM');
  expect(await exitWithin(second, 45_000)).toBe(0);
});
