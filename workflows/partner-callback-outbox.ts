import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  proxyActivities,
  proxyLocalActivities,
} from '@temporalio/workflow';
import type { PartnerCallbackEvent } from './types';
import type { Activities } from '../activities';
import { FailureType } from './failure-types';

const { deliverPartnerCallback } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  // Retried with backoff for days while the partner's endpoint is down (docs/partner-callbacks.md: for days, not minutes).
  scheduleToCloseTimeout: '14 days',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1 hour' },
});

const { partnerCallbacksConfigured } = proxyLocalActivities<Activities>({ startToCloseTimeout: '5s' });

export interface CallbackRefusal {
  eventId: string;
  status: number;
  at: string;
}

/**
 * Status-change events waiting for the partner's backend, delivered one at a time so they arrive in
 * order per WABA, by a loop that runs beside the onboarding and never holds it up.
 */
export class PartnerCallbackOutbox {
  constructor(
    readonly pending: PartnerCallbackEvent[],
    private readonly onRefused: (refusal: CallbackRefusal) => void,
  ) {}

  /** Set once the worker says no PARTNER_CALLBACK_URL is configured: events are dropped as they come. */
  private off = false;

  enqueue(event: PartnerCallbackEvent): void {
    if (!this.off) this.pending.push(event);
  }

  /** Starts delivering; never cancelled, so CANCELLED itself still reaches the partner. */
  start(): void {
    void CancellationScope.nonCancellable(() => this.deliver());
  }

  drained(): Promise<void> {
    return condition(() => this.pending.length === 0);
  }

  private async deliver(): Promise<void> {
    await condition(() => this.pending.length > 0);
    if (!(await partnerCallbacksConfigured())) {
      // No PARTNER_CALLBACK_URL: nobody to tell, no activity per status change in the history, and
      // no loop left to wake up for each one (later events are dropped as they come).
      this.off = true;
      this.pending.splice(0);
      return;
    }
    // Ceiling: one delivery activity per status change (each retried for at most 14 days, then
    // recorded and dropped); status changes are themselves bounded by the onboarding's loops.
    for (;;) {
      await condition(() => this.pending.length > 0);
      const event = this.pending[0];
      try {
        await deliverPartnerCallback(event);
      } catch (err) {
        const refusal = refusalOf(err);
        if (!refusal) throw err;
        this.onRefused({ eventId: event.id, status: refusal.status, at: new Date().toISOString() });
      }
      this.pending.shift();
    }
  }
}

function refusalOf(err: unknown): { status: number } | undefined {
  if (!(err instanceof ActivityFailure)) return undefined;
  const cause = err.cause;
  if (cause instanceof ApplicationFailure && cause.type === FailureType.PartnerCallbackRejected) {
    const details = cause.details?.[0] as { status?: number } | undefined;
    return { status: details?.status ?? 0 };
  }
  // Out of retries after days of a partner being down: recorded like a refusal, status 0.
  return { status: 0 };
}
