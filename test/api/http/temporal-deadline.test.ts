/**
 * api/http/temporal-deadline.ts: a Temporal call answers at its deadline even while the client's own gRPC retries
 * would sleep past it (they check the deadline only after their current backoff, up to 5 s).
 */
import type { Client } from '@temporalio/client';
import { callWithin, DeadlineExceededError } from '../../../api/http/temporal-deadline';
import { toApiError } from '../../../api/http/errors';

/** A client whose calls run as given, recording the deadline they were handed. */
function fakeClient() {
  const deadlines: number[] = [];
  const client = {
    withDeadline: <T>(deadline: number, fn: () => Promise<T>) => (deadlines.push(deadline), fn()),
  } as unknown as Client;
  return { client, deadlines };
}

test('a call still retrying at its deadline is answered DEADLINE_EXCEEDED (a 503) a moment after it', async () => {
  const { client, deadlines } = fakeClient();
  let finish!: () => void;
  const retrying = new Promise<void>((resolve) => (finish = resolve)); // Temporal down: the SDK keeps retrying
  const startedAt = Date.now();
  const answer = await callWithin(client, 300, () => retrying).catch((err: unknown) => err);
  const tookMs = Date.now() - startedAt;
  expect(answer).toBeInstanceOf(DeadlineExceededError);
  expect(toApiError(answer)).toMatchObject({ status: 503, code: 'temporal_unavailable' });
  expect(tookMs).toBeGreaterThanOrEqual(300);
  expect(tookMs).toBeLessThan(300 + 100 + 1_000); // the grace (100 ms at this deadline), and room for a loaded machine
  expect(deadlines[0] - startedAt).toBeGreaterThanOrEqual(300); // Temporal's own deadline is the same one
  expect(deadlines[0] - startedAt).toBeLessThan(350);
  finish(); // the abandoned call ending later changes nothing
});

test('a call that answers in time answers as it would without the guard, errors included', async () => {
  const { client } = fakeClient();
  await expect(callWithin(client, 1_000, async () => 'state')).resolves.toBe('state');
  const refused = new Error('the validator refused');
  await expect(callWithin(client, 1_000, async () => Promise.reject(refused))).rejects.toBe(refused);
});
