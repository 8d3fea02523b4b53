/**
 * What each run of a workflow id wrote, as the server stores it: for the tests that hold long-lived
 * runs to their history bounds (workflows/build-moves.ts) and bound what one run hands the next.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface RunSize {
  runId: string;
  /** History events. */
  events: number;
  /** The history's bytes (the History protobuf, as the server counts them). */
  bytes: number;
  /** The history's bytes at the run's first workflow task: its input, i.e. what the previous run handed over. */
  startBytes: number;
  /** Bytes of the input the run handed to the next (its continue-as-new), when it continued as new. */
  handedOverBytes?: number;
  /** The run that took over, when it continued as new. */
  nextRunId?: string;
}

/** Each run of the id, first to latest, following continue-as-new (at most `maxRuns`). */
export async function runSizes(client: Client, workflowId: string, firstRunId: string, maxRuns = 200): Promise<RunSize[]> {
  const runs: RunSize[] = [];
  let runId: string | undefined = firstRunId;
  while (runId !== undefined && runs.length < maxRuns) {
    const run = sizeOf(runId, (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? []);
    runs.push(run);
    runId = run.nextRunId;
  }
  return runs;
}

export function sizeOf(runId: string, events: HistoryEvent[]): RunSize {
  const firstTask = events.find((e) => e.workflowTaskStartedEventAttributes)?.workflowTaskStartedEventAttributes;
  const moved = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes;
  return {
    runId,
    events: events.length,
    bytes: temporal.api.history.v1.History.encode({ events }).finish().length,
    startBytes: Number(firstTask?.historySizeBytes ?? 0),
    ...(moved
      ? {
          handedOverBytes: temporal.api.common.v1.Payloads.encode(moved.input ?? {}).finish().length,
          ...(moved.newExecutionRunId ? { nextRunId: moved.newExecutionRunId } : {}),
        }
      : {}),
  };
}
