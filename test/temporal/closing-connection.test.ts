/**
 * The test stacks' client connection (test/harness/closing-connection.ts): a call still retrying when
 * its stack closes the connection ends CANCELLED, instead of its retry timer throwing "Channel has been
 * shut down" after the file's tests have passed (it failed whole test files now and then).
 */
import { Connection } from '@temporalio/client';
import { freePort } from '../../scripts/dev-server';
import { closingInterceptors } from '../harness/closing-connection';

test('a call whose retry fires after the connection closed ends CANCELLED, not in a throw from its retry timer', async () => {
  // Nothing listens there: every attempt is UNAVAILABLE, which the client's interceptor retries.
  let closed = false;
  const connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}`, interceptors: closingInterceptors(() => closed) });
  const call = connection.workflowService.getSystemInfo({}).then(
    () => 'answered',
    (err: unknown) => err,
  );
  await new Promise((r) => setTimeout(r, 300)); // the first attempts fail and a retry is scheduled
  closed = true;
  await connection.close();
  const outcome = await Promise.race([call, new Promise((r) => setTimeout(() => r('still retrying'), 10_000))]);
  expect(outcome).toMatchObject({ code: 1, details: 'the test stack closed its connection' });
});

test('a call first made after the connection closed ends CANCELLED, not in a throw from the retry interceptor', async () => {
  let closed = false;
  const connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}`, interceptors: closingInterceptors(() => closed) });
  closed = true;
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
    expect(outcome).toMatchObject({ code: 1, details: 'the test stack closed its connection' });
    expect(thrown).toEqual([]);
  } finally {
    process.off('uncaughtException', onUncaught);
    await connection.close();
  }
});
