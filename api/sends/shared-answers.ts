/**
 * One call per key at a time in this process, its answer shared: concurrent callers with the same
 * key await the first caller's call instead of making their own, and callers shortly after it settled
 * get the same answer. The send gate records an idle template's re-sync this way: 200 concurrent sends
 * made 200 Temporal updates (one written, 199 refused by the validator, queued one behind another);
 * now they make one, and the others are routed by its answer.
 */
export class SharedAnswers<T> {
  private readonly answers = new Map<string, Promise<T>>();

  /** @param keepMs how long a settled answer still answers callers (a failed call is not kept). */
  constructor(private readonly keepMs: number) {}

  /** `first`: this caller's call made the answer; otherwise it is another caller's. */
  async run(key: string, call: () => Promise<T>): Promise<{ first: boolean; answer: T }> {
    const shared = this.answers.get(key);
    if (shared) return { first: false, answer: await shared };
    const answer = call();
    this.answers.set(key, answer);
    const drop = () => {
      if (this.answers.get(key) === answer) this.answers.delete(key);
    };
    // The map holds only calls in flight and answers younger than keepMs: its size is bounded by the sends of the last keepMs.
    answer.then(
      () => setTimeout(drop, this.keepMs).unref(),
      drop,
    );
    return { first: true, answer: await answer };
  }
}
