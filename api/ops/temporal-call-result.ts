/**
 * The `result` label of `mm_temporal_call_duration_seconds`: what happened, not just "error". A start
 * that finds its run already running (the documented 200 of POST /v1/onboardings) and a read of a run
 * that does not exist (a 404) are answers, not failures; nor is a run whose build has no worker
 * polling (`no_poller`: Temporal is fine, the run waits to be moved to the current build). Alerts on
 * `result="error"` see only the rest (deadlines, an unreachable or refusing Temporal).
 */
import { ScheduleNotFoundError, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { isBuildNotPolling } from '../http/errors';

export type TemporalCallResult = 'ok' | 'already_running' | 'not_found' | 'no_poller' | 'error';

const GRPC_NOT_FOUND = 5;
const GRPC_ALREADY_EXISTS = 6;

export function temporalCallResult(err: unknown): TemporalCallResult {
  if (err instanceof WorkflowExecutionAlreadyStartedError) return 'already_running';
  if (err instanceof WorkflowNotFoundError || err instanceof ScheduleNotFoundError) return 'not_found';
  if (isBuildNotPolling(err)) return 'no_poller';
  const code = (err as { code?: unknown; cause?: { code?: unknown } } | undefined)?.code ?? (err as { cause?: { code?: unknown } })?.cause?.code;
  if (code === GRPC_NOT_FOUND) return 'not_found';
  if (code === GRPC_ALREADY_EXISTS) return 'already_running';
  return 'error';
}
