/**
 * The baseline of `npm run bench:bulk`: a workflow with the onboarding's happy-path signals and timers
 * and nothing else (no activities, no search attributes, no state): wait for "intent requested", wait
 * for "terms signed" under an hour-long poll timer (cancelled by the signal), then the grace timer.
 */
import { condition, defineSignal, setHandler, sleep } from '@temporalio/workflow';

export const intentRequested = defineSignal('intentRequested');
export const termsSigned = defineSignal('termsSigned');

export async function trivialOnboarding(graceSeconds: number): Promise<void> {
  let intent = false;
  let terms = false;
  setHandler(intentRequested, () => void (intent = true));
  setHandler(termsSigned, () => void (terms = true));
  await condition(() => intent);
  await condition(() => terms, '1 hour');
  await sleep(graceSeconds * 1000);
}
