/**
 * The onboarding funnel over time, counted by the workflows themselves through the SDK's workflow
 * metric meter (names and units: temporal/worker-metrics.ts). Replay-safe (nothing is emitted while a
 * worker replays) and no Temporal write: no command, no event, nothing a history replay could miss.
 */
import { metricMeter } from '@temporalio/workflow';
import {
  AWAITING_TERMS_METRIC,
  DISCOVERY_OUTCOMES,
  DISCOVERY_OUTCOMES_METRIC,
  NO_PREVIOUS_STATUS,
  STATUS_TRANSITIONS_METRIC,
  TIME_TO_READY_METRIC,
} from '../temporal/worker-metrics';
import type { PageStartOutcome } from './discovery-types';
import type { OnboardingPath, OnboardingStatus, StatusChange } from './types';

export interface StatusMove {
  path: OnboardingPath;
  from: OnboardingStatus | null;
  to: OnboardingStatus;
  /** When the onboarding entered `from` (its last history entry). */
  fromSince?: string;
  /** Whether the onboarding had been READY before (its history says so). */
  wasReady: boolean;
  /**
   * When the onboarding started: its first status change, carried from run to run. (The SDK's
   * workflowInfo().startTime is this run's start, which a continue-as-new resets.)
   */
  startedAt?: string;
  at: string;
}

export function countStatusMove(move: StatusMove): void {
  const { path, from, to, at } = move;
  metricMeter.createCounter(STATUS_TRANSITIONS_METRIC, undefined, 'Onboarding status changes, by from, to and path').add(1, {
    from: from ?? NO_PREVIOUS_STATUS,
    to,
    path,
  });
  const now = Date.parse(at);
  if (to === 'READY' && !move.wasReady && move.startedAt) {
    seconds(TIME_TO_READY_METRIC, "Seconds from an onboarding's start to its first READY, by path", now - Date.parse(move.startedAt), path);
  }
  if (from === 'AWAITING_TERMS' && to !== 'AWAITING_TERMS' && move.fromSince) {
    seconds(AWAITING_TERMS_METRIC, 'Seconds an onboarding spent in AWAITING_TERMS, observed as it left, by path', now - Date.parse(move.fromSince), path);
  }
}

/** What the move leaves behind, read before the record changes the state. */
export function moveFrom(history: readonly StatusChange[], status: OnboardingStatus): Pick<StatusMove, 'from' | 'fromSince' | 'wasReady' | 'startedAt'> {
  const last = history[history.length - 1];
  // The history keeps its last 200 changes: past that, its first entry is no longer the start, and an
  // onboarding that went through 200 changes has long been READY once (nothing is counted then).
  return {
    from: history.length ? status : null,
    ...(last ? { fromSince: last.at } : {}),
    wasReady: history.some((h) => h.status === 'READY'),
    ...(history[0] ? { startedAt: history[0].at } : {}),
  };
}

/** One page's WABAs by what starting their onboarding came to. */
export function countDiscoveryOutcomes(outcome: PageStartOutcome): void {
  const counter = metricMeter.createCounter(DISCOVERY_OUTCOMES_METRIC, undefined, 'WABAs a discovery listed, by what starting their onboarding came to');
  const counts: Record<(typeof DISCOVERY_OUTCOMES)[number], number> = {
    started: outcome.started,
    already_running: outcome.alreadyRunning,
    failed: outcome.failed,
  };
  for (const name of DISCOVERY_OUTCOMES) if (counts[name] > 0) counter.add(counts[name], { outcome: name });
}

function seconds(name: string, description: string, ms: number, path: OnboardingPath): void {
  if (!Number.isFinite(ms) || ms < 0) return;
  metricMeter.createHistogram(name, 'float', 's', description).record(ms / 1000, { path });
}
