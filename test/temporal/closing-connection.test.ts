/**
 * The client connection of the API, the scripts and the test stacks (temporal/closing-connection.ts):
 * a call still retrying when the connection closes ends CANCELLED, instead of its retry timer throwing
 * "Channel has been shut down" (which made `npm start` exit 1 on SIGTERM, and failed test files after
 * their tests had passed).
 */
import { freePort } from '../../scripts/dev-server';
import { CLOSED_DETAILS, closingConnection } from '../../temporal/closing-connection';
import { connectClient } from '../../temporal/connection';
import { loadConfig } from '../../config';
import { testServiceEnv } from '../harness/stack';

test('a call whose retry fires after the connection closed ends CANCELLED, not in a throw from its retry timer', async () => {
  // Nothing listens there: every attempt is UNAVAILABLE, which the client's interceptor retries.
  const connection = closingConnection({ address: `127.0.0.1:${await freePort()}` });
  const call = connection.workflowService.getSystemInfo({}).then(
    () => 'answered',
    (err: unknown) => err,
  );
  await new Promise((r) => setTimeout(r, 300)); // the first attempts fail and a retry is scheduled
  await connection.close();
  const outcome = await Promise.race([call, new Promise((r) => setTimeout(() => r('still retrying'), 10_000))]);
  expect(outcome).toMatchObject({ code: 1, details: CLOSED_DETAILS });
});

test('a call first made after the connection closed ends CANCELLED, not in a throw from the retry interceptor', async () => {
  const connection = closingConnection({ address: `127.0.0.1:${await freePort()}` });
  await connection.close();
  const thrown: unknown[] = [];
  const onUncaught = (err: unknown) => thrown.push(err);
  process.on('uncaughtException', onUncaught);
  try {
    const outcome = await Promise.race([
      connection.workflowService.getSystemInfo({}).then(
        () => 'answered',
        (err: unknown) => err,
      ),
      new Promise((r) => setTimeout(() => r('no answer'), 10_000)),
    ]);
    expect(outcome).toMatchObject({ code: 1, details: CLOSED_DETAILS });
    expect(thrown).toEqual([]);
  } finally {
    process.off('uncaughtException', onUncaught);
  }
});

test("the API's and the scripts' connection (connectClient) is such a connection: closed, its calls end CANCELLED", async () => {
  const config = loadConfig(testServiceEnv({ temporalAddress: process.env.TEMPORAL_TEST_ADDRESS!, taskQueue: 'closing-connection', graphUrl: 'http://127.0.0.1:9' }));
  const connection = await connectClient(config);
  expect(await connection.workflowService.getSystemInfo({})).toBeDefined();
  await connection.close();
  const outcome = await connection.workflowService.getSystemInfo({}).then(
    () => 'answered',
    (err: unknown) => err,
  );
  expect(outcome).toMatchObject({ code: 1, details: CLOSED_DETAILS });
});
