/**
 * One partner endpoint's circuit (id `mm-callback-circuit:<endpoint key>`, the key a hash of the
 * callback URL's host and path). While the endpoint is down, one probe at a time asks it, whatever the
 * number of onboardings with callbacks to deliver: each onboarding tries its event a few times
 * (workflows/partner-callback-outbox.ts), then joins the circuit (the first to join starts it, with its
 * event as the probe), marks itself waiting (search attribute PartnerCallbackWaiting) and waits. Once
 * the probe is answered (delivered, or refused: the endpoint answers either way), the circuit tells
 * every waiter, found by that attribute, and each delivers its events again, in order.
 *
 * The probe is a real event (never a made-up one the partner would not expect): it may reach the
 * partner twice, once from the probe and once from its own onboarding, with the same id.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { CallbackCircuitInput } from './types';
import { FailureType } from './failure-types';
import { continueOnCurrentBuild, listenForWakes, timeForNewRun } from './build-moves';

/** The probe: attempts at most hourly for a day, then the circuit may continue as new (a new build, a long history) and probe on. */
const { deliverPartnerCallback: probe } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1 hour' },
});

const { wakeCallbackWaiters } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** Visibility shows a waiter's attribute moments after it is written: the circuit tells again until a pass finds nobody. */
const WAKE_PASSES = 5;
const WAKE_PASS_GAP = '5 seconds';

export async function partnerCallbackCircuit(input: CallbackCircuitInput): Promise<void> {
  listenForWakes();
  // Ceiling: one probe activity at a time, its attempts at most hourly; a run per day of outage at most.
  for (;;) {
    try {
      await probe(input.probe);
      break;
    } catch (err) {
      if (answered(err)) break;
      if (timeForNewRun({ events: 1_000 })) return continueOnCurrentBuild<typeof partnerCallbackCircuit>(input);
    }
  }
  // Ceiling: WAKE_PASSES passes, each bounded by the waiters listed.
  for (let pass = 0; pass < WAKE_PASSES; pass++) {
    const told = await wakeCallbackWaiters({ endpointKey: input.endpointKey });
    if (told === 0 && pass > 0) return;
    await sleep(WAKE_PASS_GAP);
  }
}

/** The endpoint answered the probe with a refusal (a 4xx, a redirect): it is up. */
function answered(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === FailureType.PartnerCallbackRejected;
}
