/**
 * One call per key at a time in this process, its answer shared: concurrent callers with the same
 * key await the first caller's call instead of making their own, and callers shortly after it settled
 * get the same answer. The send gate records an idle template's re-sync this way (200 concurrent sends
 * made 200 Temporal updates; now one, the others routed by its answer), and the visibility counts
 * behind /metrics and GET /v1/onboardings/summary are kept a few seconds this way (a crowd of scrapes
 * or dashboards costs one set of counts).
 */
export class SharedAnswers<T> {
  private readonly answers = new Map<string, Promise<T>>();

  /** @param keepMs how long a settled answer still answers callers (a failed call is not kept). */
  constructor(private readonly keepMs: number) {}

  /** The shared answer, for callers that do not care whose call made it. */
  async get(key: string, call: () => Promise<T>): Promise<T> {
    return (await this.run(key, call)).answer;
  }

  /** Drops the answer kept for `key` (it is known to be out of date): the next caller asks again. */
  forget(key: string): void {
    this.answers.delete(key);
  }

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
