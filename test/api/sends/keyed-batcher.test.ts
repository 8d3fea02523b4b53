/**
 * The send gate's per-WABA batching (api/sends/keyed-batcher.ts): one call in flight per key, what is
 * asked meanwhile goes together in the next call (never more than the maximum), equal items share an
 * answer, and a call that fails answers its unanswered waiters with its error.
 */
import { KeyedBatcher, type Waiter } from '../../../api/sends/keyed-batcher';

/** A batcher whose calls answer each item doubled, after `release()` for calls held open. */
function doubling(options: { maxPerCall?: number; hold?: boolean; same?: boolean; lingerMs?: number } = {}) {
  const calls: Array<{ key: string; items: number[] }> = [];
  const held: Array<() => void> = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const batcher = new KeyedBatcher<number, number>({
    maxPerCall: options.maxPerCall ?? 100,
    call: async (key, batch: Array<Waiter<number, number>>) => {
      calls.push({ key, items: batch.map((w) => w.item) });
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      if (options.hold) await new Promise<void>((r) => held.push(r));
      inFlight--;
      for (const w of batch) w.resolve(w.item * 2);
    },
    ...(options.same ? { same: (a: number, b: number) => a === b } : {}),
    ...(options.lingerMs ? { lingerMs: () => options.lingerMs! } : {}),
  });
  const releaseOne = async () => {
    while (held.length === 0) await new Promise((r) => setImmediate(r));
    held.shift()!();
  };
  return { batcher, calls, releaseOne, mostInFlight: () => mostInFlight };
}

test('what a key asks while its call is in flight goes together in the next call, one call at a time', async () => {
  const { batcher, calls, releaseOne, mostInFlight } = doubling({ hold: true });
  const first = batcher.add('waba-1', 1);
  const meanwhile = [2, 3, 4].map((n) => batcher.add('waba-1', n));
  await releaseOne();
  await releaseOne();
  expect(await first).toBe(2);
  expect(await Promise.all(meanwhile)).toEqual([4, 6, 8]);
  expect(calls).toEqual([
    { key: 'waba-1', items: [1] },
    { key: 'waba-1', items: [2, 3, 4] },
  ]);
  expect(mostInFlight()).toBe(1);
});

test('a call takes at most maxPerCall items; the rest go in the calls after it', async () => {
  const { batcher, calls, releaseOne } = doubling({ maxPerCall: 2, hold: true });
  const answers = [1, 2, 3, 4, 5].map((n) => batcher.add('waba-1', n));
  for (let i = 0; i < 3; i++) await releaseOne();
  expect(await Promise.all(answers)).toEqual([2, 4, 6, 8, 10]);
  expect(calls.map((c) => c.items)).toEqual([[1], [2, 3], [4, 5]]);
});

test('keys do not wait on each other', async () => {
  const { batcher, calls, releaseOne, mostInFlight } = doubling({ hold: true });
  const a = batcher.add('waba-1', 1);
  const b = batcher.add('waba-2', 2);
  await releaseOne();
  await releaseOne();
  expect(await Promise.all([a, b])).toEqual([2, 4]);
  expect(calls.map((c) => c.key).sort()).toEqual(['waba-1', 'waba-2']);
  expect(mostInFlight()).toBe(2);
});

test('an item equal to one waiting shares its answer, and is not sent twice', async () => {
  const { batcher, calls, releaseOne } = doubling({ hold: true, same: true });
  void batcher.add('waba-1', 9);
  const [x, y] = [batcher.add('waba-1', 5), batcher.add('waba-1', 5)];
  await releaseOne();
  await releaseOne();
  expect(await Promise.all([x, y])).toEqual([10, 10]);
  expect(calls[1].items).toEqual([5]);
});

test('an idle key lingers before its first call, so what falls due just after joins it', async () => {
  const { batcher, calls } = doubling({ lingerMs: 30 });
  const first = batcher.add('waba-1', 1);
  await new Promise((r) => setTimeout(r, 5));
  const second = batcher.add('waba-1', 2);
  expect(await Promise.all([first, second])).toEqual([2, 4]);
  expect(calls).toEqual([{ key: 'waba-1', items: [1, 2] }]);
});

test('a call that throws answers the waiters it left unanswered with its error, and the key recovers', async () => {
  let fail = true;
  const batcher = new KeyedBatcher<number, number>({
    maxPerCall: 10,
    lingerMs: () => 5, // both items in one call
    call: async (_key, batch) => {
      if (fail) {
        batch[0].resolve(0); // answered before the failure: keeps its answer
        throw new Error('Temporal unavailable');
      }
      for (const w of batch) w.resolve(w.item);
    },
  });
  const answers = [1, 2].map((n) => batcher.add('waba-1', n).catch((err: Error) => err.message));
  expect(await Promise.all(answers)).toEqual([0, 'Temporal unavailable']);
  fail = false;
  expect(await batcher.add('waba-1', 3)).toBe(3);
});
