/**
 * Runs `fn` over `items`, `size` at a time (enough for speed, few enough not to flood the Temporal
 * frontend), and answers the results in the items' order. `afterBatch` hears how many are done after
 * each batch: the activity's heartbeat, so a crashed worker's work is retried within seconds.
 */
export async function mapInBatches<T, R>(items: T[], size: number, fn: (item: T) => Promise<R>, afterBatch: (done: number) => void): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    results.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
    afterBatch(results.length);
  }
  return results;
}
