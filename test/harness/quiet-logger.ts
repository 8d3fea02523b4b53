/**
 * The workers' logger in tests: WARN and above, minus the activity failures the tests provoke on
 * purpose (the sandbox's injected Graph faults, and the expected outcomes activities report as
 * typed ApplicationFailures). Those are the bulk of a green run's output and say nothing a test does
 * not check; anything else (an activity's TypeError, a workflow task failure) still prints in full,
 * and so do jest's own failures. `MM_TEST_LOGS=all` prints everything.
 */
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import { GraphApiError } from '../../graph';
import { FailureType } from '../../workflows/failure-types';

/** The activity failure types the service throws for expected outcomes (activities/graph-failures.ts). */
const EXPECTED_FAILURE_TYPES: ReadonlySet<string> = new Set([...Object.values(FailureType), 'GraphThrottled']);

/** An activity-only worker (the Graph queue's) says so at every start: by design, not a problem. */
const EXPECTED_WARNINGS = [/^No workflows registered, not polling for workflow tasks/];

export function isExpectedActivityFailure(entry: Pick<LogEntry, 'level' | 'message' | 'meta'>): boolean {
  if (entry.level === 'WARN' && EXPECTED_WARNINGS.some((w) => w.test(entry.message))) return true;
  if (entry.level !== 'WARN' || entry.message !== 'Activity failed') return false;
  const err = entry.meta?.error;
  if (err instanceof GraphApiError) return true; // a retryable Graph error: the activity's retry policy takes it
  return err instanceof ApplicationFailure && err.type != null && EXPECTED_FAILURE_TYPES.has(err.type);
}

export function quietHarnessLogger(): DefaultLogger {
  const printer = new DefaultLogger('WARN');
  const everything = process.env.MM_TEST_LOGS === 'all';
  return new DefaultLogger('WARN', (entry) => {
    if (!everything && isExpectedActivityFailure(entry)) return;
    printer.log(entry.level, entry.message, entry.meta);
  });
}

declare global {
  // eslint-disable-next-line no-var
  var __mmQuietRuntime: boolean | undefined;
}

/**
 * Installs the SDK runtime with the quiet logger, once per test file (jest's setupFiles, and the
 * stack): without it, a file that only replays histories gets the SDK's INFO logger.
 */
export function installQuietRuntime(): void {
  if (globalThis.__mmQuietRuntime) return;
  Runtime.install({ logger: quietHarnessLogger() });
  globalThis.__mmQuietRuntime = true;
}
