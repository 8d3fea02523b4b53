/**
 * How long an onboarding run's history may grow (pure: the API's start options name it too).
 */
import type { HistoryBound } from './build-moves';

/**
 * A run continues as new at its first quiet moment past this. An open run is replayed whole by every
 * query, update or signal once the workers' cache has evicted it (100k open runs never fit a cache):
 * a full Intent onboarding is ~60 events / 11 KB, and a READY run kept busy by webhooks, sends and
 * rechecks stays within ~this much per run, measured in test/workflows/history-bounds.test.ts.
 */
export const ONBOARDING_RUN_BOUND: Readonly<Required<HistoryBound>> = Object.freeze({ events: 250, bytes: 64 * 1024 });
/**
 * The bound of a run whose input names none: runs started before `historyBound` existed keep the
 * bound they were started under, so their histories replay on this build (an in-place release can
 * move them); they take ONBOARDING_RUN_BOUND at their next continue-as-new.
 */
export const BOUND_OF_EARLIER_RUNS: Readonly<HistoryBound> = Object.freeze({ events: 5_000 });

