/**
 * Bounds the Graph status reads one onboarding makes per rolling day, whatever mix of backed-off polls
 * and operator rechecks asks for them. Pure: the workflow passes in its deterministic clock. Only
 * `record` changes the list: `hasRoom` is asked by update validators, which must change nothing.
 */
export const STATUS_READS_PER_DAY = 48;
const DAY_MS = 24 * 3600 * 1000;

export class StatusReadBudget {
  constructor(readonly recent: number[]) {}

  hasRoom(now: number): boolean {
    return this.withinDay(now).length < STATUS_READS_PER_DAY;
  }

  /** Counts a read, and forgets the reads a day old. */
  record(now: number): void {
    const kept = this.withinDay(now);
    this.recent.splice(0, this.recent.length, ...kept, now);
  }

  /** When the next read will be allowed (epoch ms); 0: now. */
  nextAllowedAt(now: number): number {
    const day = this.withinDay(now);
    return day.length < STATUS_READS_PER_DAY ? 0 : day[day.length - STATUS_READS_PER_DAY] + DAY_MS;
  }

  private withinDay(now: number): number[] {
    return this.recent.filter((at) => at > now - DAY_MS);
  }
}
