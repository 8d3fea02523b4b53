import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { PartnerCallbackEvent } from './types';
import type { Activities } from '../activities';
import { FailureType } from './failure-types';
import { partnerEndpointUpSignal } from './messages';
import { PartnerCallbackWaitingKey } from '../temporal/search-attributes';

/**
 * A few attempts for a blip (5 s, then 10 s; a Retry-After up to an hour is honoured); a partner down
 * longer is the endpoint's circuit's to probe (workflows/partner-callback-circuit.ts), not every
 * onboarding's: during an outage each status change costs these attempts, not 14 days of hourly ones.
 */
const { deliverPartnerCallback } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1 hour', maximumAttempts: 3 },
});

const { joinCallbackCircuit } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '5s', maximumInterval: '10 minutes' },
});

const { partnerCallbacksConfigured } = proxyLocalActivities<Activities>({ startToCloseTimeout: '5s' });

/** A waiter the circuit never told (its run lost, visibility behind) tries again itself after this: the weekly backstop. */
const WAIT_FOR_CIRCUIT_MS = 7 * 24 * 3600 * 1000;

export interface CallbackRefusal {
  eventId: string;
  status: number;
  at: string;
}

/**
 * Status-change events waiting for the partner's backend, delivered one at a time so they arrive in
 * order per WABA, by a loop that runs beside the onboarding and never holds it up. No event is
 * dropped for the endpoint being down: the head waits, the rest behind it.
 */
export class PartnerCallbackOutbox {
  constructor(
    readonly pending: PartnerCallbackEvent[],
    private readonly onRefused: (refusal: CallbackRefusal) => void,
    /** Where the run keeps the circuit it waits on, carried over to the next run. */
    private readonly waiting: { callbacksWaitingOn?: string } = {},
  ) {}

  /** Set once the worker says no PARTNER_CALLBACK_URL is configured: events are dropped as they come. */
  private off = false;
  /** The circuit said the endpoint answers again. */
  private endpointUp = false;

  enqueue(event: PartnerCallbackEvent): void {
    if (!this.off) this.pending.push(event);
  }

  /** Starts delivering; never cancelled, so CANCELLED itself still reaches the partner. */
  start(): void {
    setHandler(partnerEndpointUpSignal, () => {
      if (this.waiting.callbacksWaitingOn !== undefined) this.endpointUp = true;
    });
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
    // Ceiling: per status change, one delivery activity (3 attempts) per time the endpoint is found
    // down and once more after each wake; while down, the run waits (a timer a week at most).
    for (;;) {
      if (this.waiting.callbacksWaitingOn !== undefined) await this.waitForEndpoint();
      await condition(() => this.pending.length > 0);
      const event = this.pending[0];
      try {
        await deliverPartnerCallback(event);
      } catch (err) {
        if (endpointDown(err)) {
          // The endpoint's circuit probes it; this run waits for its word (the head stays first).
          const endpointKey = await joinCallbackCircuit(event);
          this.waiting.callbacksWaitingOn = endpointKey;
          upsertSearchAttributes([{ key: PartnerCallbackWaitingKey, value: endpointKey }]);
          continue;
        }
        this.onRefused({ eventId: event.id, status: refusalStatus(err), at: new Date().toISOString() });
      }
      this.pending.shift();
    }
  }

  private async waitForEndpoint(): Promise<void> {
    await condition(() => this.endpointUp, WAIT_FOR_CIRCUIT_MS);
    this.endpointUp = false;
    this.waiting.callbacksWaitingOn = undefined;
    upsertSearchAttributes([{ key: PartnerCallbackWaitingKey, value: null }]);
  }
}

/** Out of attempts without an answer (5xx, 429, 408, no connection, a timeout): the endpoint is down. */
function endpointDown(err: unknown): boolean {
  if (!(err instanceof ActivityFailure)) return false;
  const cause = err.cause;
  return !(cause instanceof ApplicationFailure && cause.nonRetryable) && !(cause instanceof ApplicationFailure && cause.type === FailureType.PartnerCallbackRejected);
}

function refusalStatus(err: unknown): number {
  if (!(err instanceof ActivityFailure)) throw err;
  const cause = err.cause;
  if (cause instanceof ApplicationFailure && cause.type === FailureType.PartnerCallbackRejected) {
    const details = cause.details?.[0] as { status?: number } | undefined;
    return details?.status ?? 0;
  }
  return 0; // refused for another reason (an event without an id): recorded like a refusal, status 0
}
