/**
 * `npm start` restarted as a new build (what every commit is: its own TEMPORAL_WORKER_BUILD_ID) against
 * the same dev database: the new build takes over in place. Within 60 s a WABA READY on the old build
 * sends and `GET` shows its history, a new WABA of a business whose Intent request ran on the old build
 * reaches AWAITING_TERMS without a second request, and a terms webhook for a WABA awaiting terms on the
 * old build brings it to READY; no run is left on the old version.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { killEverything, removeTmpDirs, restartNpmStart, spawnNpmStart, waitUntilServing, exitWithin } from '../harness/npm-start';
import { eventually } from '../harness/wait';

jest.setTimeout(300_000);
afterAll(() => killEverything());
afterAll(() => removeTmpDirs());

const json = async (res: Response) => ({ status: res.status, body: (await res.json().catch(() => undefined)) as any });
const tag = randomUUID().slice(0, 6);
const [OLD, NEW] = [`old-${tag}`, `new-${tag}`];

test('a restart as a new build moves every run of the old build: sends, GET, Intent and terms go on within 60 s', async () => {
  const first = await spawnNpmStart({ TEMPORAL_WORKER_BUILD_ID: OLD });
  await waitUntilServing(first);
  const api = `http://127.0.0.1:${first.ports.api}`;
  const sandbox = `http://127.0.0.1:${first.ports.sandbox}`;
  const auth = { authorization: 'Bearer sandbox-api-key' };
  const post = (url: string, body: unknown, withAuth = true) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(withAuth ? auth : {}) }, body: JSON.stringify(body) }).then(json);
  const get = (wabaId: string) => fetch(`${api}/v1/onboardings/${wabaId}`, { headers: auth }).then(json);
  const newWaba = async (body: object) => {
    const res = await post(`${sandbox}/_sandbox/wabas`, body, false);
    expect(res.status).toBe(201);
    return res.body as { id: string; phoneNumbers: Array<{ id: string }> };
  };
  const business = '7400000000000001';
  const fast = { templateSyncGraceSeconds: 1, statusPollIntervalSeconds: 3600 };

  // On the old build: a READY WABA with a marketing template, and one of `business` awaiting the terms after its Intent request.
  const ready = await newWaba({ onboardingStatus: 'ONBOARDED' });
  expect((await post(`${sandbox}/_sandbox/wabas/${ready.id}/templates`, { name: 'welcome', language: 'en_US' }, false)).status).toBe(201);
  expect((await post(`${api}/v1/onboardings`, { wabaId: ready.id, businessId: (await json(await fetch(`${sandbox}/_sandbox/wabas/${ready.id}`))).body.ownerBusinessId, path: 'manual', options: fast })).status).toBe(201);
  const waiting = await newWaba({ ownerBusinessId: business, autoSign: false });
  expect((await post(`${api}/v1/onboardings`, { wabaId: waiting.id, businessId: business, path: 'intent', options: fast })).status).toBe(201);
  await eventually(async () => ((await get(ready.id)).body?.status === 'READY' ? true : undefined), 60_000, 'READY on the old build');
  await eventually(async () => ((await get(waiting.id)).body?.status === 'AWAITING_TERMS' ? true : undefined), 60_000, 'AWAITING_TERMS on the old build');
  const send = () =>
    post(`${api}/v1/onboardings/${ready.id}/messages`, { phoneNumberId: ready.phoneNumbers[0].id, to: '+15550001111', template: { name: 'welcome', language: 'en_US' } });
  await eventually(async () => ((await send()).status === 200 ? true : undefined), 60_000, 'a send on the old build');
  const intentRequests = async () => (await json(await fetch(`${sandbox}/_sandbox/businesses/${business}`))).body.intent.requests as number;
  expect(await intentRequests()).toBe(1);

  const second = await restartNpmStart(first, { TEMPORAL_WORKER_BUILD_ID: NEW });
  const servingAt = Date.now();

  // Within 60 s of the new build serving: the READY WABA sends, GET has its history.
  const sent = await eventually(async () => {
    const res = await send();
    return res.status === 200 ? res : undefined;
  }, 60_000, () => `a send answered 200 after the restart: ${second.output().slice(-2000)}`);
  expect(sent.body.route).toBe('marketing_messages');
  const after = await get(ready.id);
  expect(after.status).toBe(200);
  expect(after.body.history.map((h: { status: string }) => h.status)).toContain('READY');
  // A new WABA of the same business joins the standing request: no second Intent request.
  const sibling = await newWaba({ ownerBusinessId: business, autoSign: false });
  expect((await post(`${api}/v1/onboardings`, { wabaId: sibling.id, businessId: business, path: 'intent', options: fast })).status).toBe(201);
  await eventually(async () => ((await get(sibling.id)).body?.status === 'AWAITING_TERMS' ? true : undefined), 60_000, 'the sibling AWAITING_TERMS');
  expect(await intentRequests()).toBe(1);
  // The terms webhook (the sandbox signs and delivers it) reaches the WABA that waited on the old build.
  expect((await post(`${sandbox}/_sandbox/wabas/${waiting.id}/sign-terms`, {}, false)).status).toBe(200);
  await eventually(async () => ((await get(waiting.id)).body?.status === 'READY' ? true : undefined), 60_000, 'READY after the terms webhook');
  expect(Date.now() - servingAt).toBeLessThan(120_000);

  // No run is left on the old version; the new build's release says how the runs moved.
  const connection = await Connection.connect({ address: `127.0.0.1:${first.ports.temporal}` });
  try {
    const client = new Client({ connection });
    const left = await client.workflow.count(`ExecutionStatus = "Running" AND TemporalWorkerDeploymentVersion = "mm-onboarding:${OLD}"`);
    expect(left.count).toBe(0);
  } finally {
    await connection.close();
  }
  expect(second.output()).toMatch(/release mm-release:mm-onboarding:new-\w+ started/);

  process.kill(second.npm.pid!, 'SIGTERM');
  expect(await exitWithin(second, 45_000)).toBe(0);
});
