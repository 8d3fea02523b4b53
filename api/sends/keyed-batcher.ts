/**
 * One call in flight per key (a WABA, so one run): what is asked meanwhile waits and goes together in
 * the next call, up to `maxPerCall` at a time. The send gate's template reads (one query) and its send
 * records (one update) both go this way, so a burst of sends costs a WABA's run a few messages, not
 * one each, and never more than one of ours in flight.
 */

export interface Waiter<Item, Answer> {
  item: Item;
  answer: Promise<Answer>;
  /** With a promise: the waiter gets what it settles to (a fallback read of its own). */
  resolve(answer: Answer | PromiseLike<Answer>): void;
  reject(err: unknown): void;
}

export interface KeyedBatcherOptions<Item, Answer> {
  maxPerCall: number;
  /** Answers each waiter of the batch (at most maxPerCall); if it throws, those it left unanswered get its error. */
  call(key: string, batch: Array<Waiter<Item, Answer>>): Promise<void>;
  /** An item equal to one already waiting shares that one's answer. */
  same?(a: Item, b: Item): boolean;
  /** How long an idle key's first call waits for others to join it, given what waits (none: at once). */
  lingerMs?(waiting: Item[]): number;
}

interface Queue<Item, Answer> {
  waiting: Array<Waiter<Item, Answer>>;
  busy: boolean;
}

export class KeyedBatcher<Item, Answer> {
  private readonly queues = new Map<string, Queue<Item, Answer>>();

  constructor(private readonly options: KeyedBatcherOptions<Item, Answer>) {}

  add(key: string, item: Item): Promise<Answer> {
    let queue = this.queues.get(key);
    if (!queue) this.queues.set(key, (queue = { waiting: [], busy: false }));
    const { same } = this.options;
    const twin = same && queue.waiting.find((w) => same(w.item, item));
    if (twin) return twin.answer;
    let resolve!: Waiter<Item, Answer>['resolve'];
    let reject!: Waiter<Item, Answer>['reject'];
    const answer = new Promise<Answer>((res, rej) => ((resolve = res), (reject = rej)));
    queue.waiting.push({ item, answer, resolve, reject });
    if (!queue.busy) void this.drain(key, queue);
    return answer;
  }

  /** Ceiling: each call takes up to maxPerCall off the queue, which grows only by `add`. */
  private async drain(key: string, queue: Queue<Item, Answer>): Promise<void> {
    queue.busy = true;
    try {
      const linger = this.options.lingerMs?.(queue.waiting.map((w) => w.item)) ?? 0;
      if (linger > 0) await new Promise((r) => setTimeout(r, linger));
      while (queue.waiting.length > 0) {
        const batch = queue.waiting.splice(0, this.options.maxPerCall);
        // Settling a settled promise does nothing: only the waiters the call left unanswered get its error.
        await this.options.call(key, batch).catch((err: unknown) => batch.forEach((w) => w.reject(err)));
      }
    } finally {
      queue.busy = false;
      if (this.queues.get(key) === queue) this.queues.delete(key);
    }
  }
}
