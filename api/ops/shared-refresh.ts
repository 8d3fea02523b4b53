/**
 * A value that is expensive to compute (the onboarding counts behind /metrics), kept at most
 * `maxAgeMs` old. One refresh at a time: callers that arrive while one runs share its answer, so N
 * concurrent scrapes cost one set of visibility counts. A failed refresh is not kept; the next
 * caller after it starts a new one.
 */
export class SharedRefresh<T> {
  private value?: { at: number; data: T };
  private inFlight?: Promise<T>;

  constructor(
    private readonly compute: () => Promise<T>,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<T> {
    if (this.value && this.now() - this.value.at <= this.maxAgeMs) return Promise.resolve(this.value.data);
    this.inFlight ??= this.refresh();
    return this.inFlight;
  }

  private async refresh(): Promise<T> {
    try {
      const data = await this.compute();
      this.value = { at: this.now(), data };
      return data;
    } finally {
      this.inFlight = undefined;
    }
  }
}
