/**
 * The run's readiness version: bumped whenever something a send reads changes (a template, a send
 * record, the WABA's settings) and written to the memo once per workflow task that changed it. The
 * send gate keeps what it read, stamped with (run id, version, status), and checks the stamp with a
 * describe, which Temporal Cloud does not bill, instead of a query, which it does. A status change
 * needs no bump: the OnboardingStatus search attribute the describe returns already says it.
 */
import { CancellationScope, condition, upsertMemo, workflowInfo } from '@temporalio/workflow';
import { READINESS_VERSION_MEMO } from '../temporal/memo-fields';

export class ReadinessVersion {
  /** Starts from what the memo says (a memo may be carried into a new run), so the two agree from the first task. */
  value: number;
  private written: number;

  constructor() {
    const inMemo = workflowInfo().memo?.[READINESS_VERSION_MEMO];
    this.value = this.written = typeof inMemo === 'number' ? inMemo : 0;
  }

  bump(): void {
    this.value++;
  }

  /** Ceiling: one memo write per workflow task in which the version moved (a burst of 50 webhooks in one task: one write). */
  publish(): void {
    void CancellationScope.nonCancellable(async () => {
      for (;;) {
        await condition(() => this.value !== this.written);
        this.written = this.value;
        upsertMemo({ [READINESS_VERSION_MEMO]: this.written });
      }
    });
  }
}
