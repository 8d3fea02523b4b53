/**
 * Bounds the Graph status reads one onboarding makes per rolling day, whatever mix of backed-off polls
 * and operator rechecks asks for them. Pure: the workflow passes in its deterministic clock.
 */
export const STATUS_READS_PER_DAY = 48;
const DAY_MS = 24 * 3600 * 1000;

export class StatusReadBudget {
  constructor(readonly recent: number[]) {}

  hasRoom(now: number): boolean {
    while (this.recent.length && this.recent[0] <= now - DAY_MS) this.recent.shift();
    return this.recent.length < STATUS_READS_PER_DAY;
  }

  record(now: number): void {
    this.recent.push(now);
  }

  /** When the next read will be allowed (epoch ms). */
  nextAllowedAt(): number {
    return this.recent.length < STATUS_READS_PER_DAY ? 0 : this.recent[0] + DAY_MS;
  }
}
