/**
 * `/metrics` names each Temporal call's result for what happened: the documented 200 "already
 * running" start is `already_running`, a read of a WABA nobody onboards `not_found`, and neither is
 * counted as `error`. Real app, dev server and sandbox.
 */
import { FAST, startAppHarness, type AppHarness } from '../../harness/app-harness';

let h: AppHarness;
beforeAll(async () => {
  h = await startAppHarness();
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

/** The count of `mm_temporal_call_duration_seconds` for one operation and result (0 when absent). */
async function calls(operation: string, result: string): Promise<number> {
  const text = (await h.http().get('/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(`mm_temporal_call_duration_seconds_count{operation="${operation}",result="${result}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

test('an already-running start counts as already_running and an unknown WABA as not_found, never as error', async () => {
  const waba = h.stack.sandbox.world.createWaba({ autoSign: false });
  const body = { wabaId: waba.id, businessId: waba.ownerBusinessId, path: 'manual', options: FAST };
  expect((await h.http().post('/v1/onboardings').set(h.auth).send(body)).status).toBe(201);
  await h.stack.waitForStatus(waba.id, 'AWAITING_TERMS');
  const startErrors = await calls('start', 'error');
  const describeErrors = await calls('describe', 'error');
  const queryErrors = await calls('query', 'error');

  expect((await h.http().post('/v1/onboardings').set(h.auth).send(body)).status).toBe(200);
  expect(await calls('start', 'already_running')).toBeGreaterThanOrEqual(1);
  expect(await calls('start', 'error')).toBe(startErrors);

  expect((await h.http().get('/v1/onboardings/999999999999997').set(h.auth)).status).toBe(404);
  expect((await calls('query', 'not_found')) + (await calls('describe', 'not_found'))).toBeGreaterThanOrEqual(1);
  expect(await calls('query', 'error')).toBe(queryErrors);
  expect(await calls('describe', 'error')).toBe(describeErrors);
});
