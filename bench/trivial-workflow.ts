/**
 * The baseline of `npm run bench:bulk`: a workflow with the onboarding's happy-path signals and timers
 * and nothing else (no activities, no search attributes, no state): wait for "intent requested" under
 * the 30-day terms deadline, wait for "terms signed" under an hour-long poll timer (both cancelled by
 * their signal), then the grace timer.
 *
 * Its first task tells its worker (a sink: no history, no server call), which then sends the intent
 * answer: an onboarding's answer, too, comes after its first task (its start is eager, and its
 * business answers later). Signals sent before the first task would be taken with it, and the
 * baseline would skip a task and both timers the onboardings have.
 */
import { condition, defineSignal, proxySinks, setHandler, sleep, type Sinks } from '@temporalio/workflow';

export const intentRequested = defineSignal('intentRequested');
export const termsSigned = defineSignal('termsSigned');

export interface BaselineSinks extends Sinks {
  baseline: { firstTaskDone(): void };
}
const { baseline } = proxySinks<BaselineSinks>();

export async function trivialOnboarding(graceSeconds: number): Promise<void> {
  let intent = false;
  let terms = false;
  setHandler(intentRequested, () => void (intent = true));
  setHandler(termsSigned, () => void (terms = true));
  baseline.firstTaskDone();
  await condition(() => intent, '30 days');
  await condition(() => terms, '1 hour');
  await sleep(graceSeconds * 1000);
}
