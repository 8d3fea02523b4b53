/**
 * The API's side of drift checks (workflows/drift-check.ts): when Meta refuses a `/marketing_messages`
 * send as if the WABA were not onboarded (131055), from a send or from a message status webhook, the
 * WABA's onboarding is asked to re-read its status. Each API process asks at most once per WABA per
 * hour (remembered here, so a burst of refusals costs one Temporal call); the workflow's validator
 * holds the same ceiling across processes and refuses the rest without writing anything (a refusal is
 * still a billed action, hence the memory here).
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { requestDriftCheckUpdate, type DriftCheckRequest } from '../../workflows/messages';
import { DRIFT_CHECK_INTERVAL_MS } from '../../workflows/drift-check';
import { BuildNotPollingError } from '../http/errors';
import type { Logger } from '../http/logger';
import type { Metrics } from '../ops/metrics';
import { onboardingOf, type OnboardingClient } from '../partner/onboarding-client';

/** Meta's codes for "this WABA is not onboarded to MM API" on `/marketing_messages`. */
export const NOT_ONBOARDED_CODES: readonly number[] = Object.freeze([131055]);
export const meansNotOnboarded = (code: number | undefined) => code !== undefined && NOT_ONBOARDED_CODES.includes(code);

/** After a failed ask (Temporal unreachable, the run's build not polling), the next refusal may ask again this much later. */
const RETRY_AFTER_FAILURE_MS = 60_000;
/** WABAs remembered; the oldest asks are forgotten first (the workflow still holds the ceiling). */
const MAX_REMEMBERED = 100_000;

export type DriftCheckResult = 'asked' | 'refused' | 'remembered' | 'no_onboarding' | 'no_poller' | 'failed';

export class DriftChecks {
  /** When this process last asked, by WABA (epoch ms). */
  private readonly askedAt = new Map<string, number>();

  constructor(
    private readonly onboardings: OnboardingClient,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /** Asks for a drift check unless this process asked within the hour; never throws, never waits on the caller's path. */
  ask(wabaId: string, request: DriftCheckRequest): void {
    const now = Date.now();
    const last = this.askedAt.get(wabaId);
    if (last !== undefined && now - last < DRIFT_CHECK_INTERVAL_MS) {
      this.metrics.driftChecks.inc({ cause: request.cause, result: 'remembered' });
      return;
    }
    this.askedAt.delete(wabaId);
    this.askedAt.set(wabaId, now);
    if (this.askedAt.size > MAX_REMEMBERED) this.askedAt.delete(this.askedAt.keys().next().value!);
    void this.send(wabaId, request, now).then((result) => {
      this.metrics.driftChecks.inc({ cause: request.cause, result });
    });
  }

  private async send(wabaId: string, request: DriftCheckRequest, now: number): Promise<DriftCheckResult> {
    const { onboardings } = this;
    const handle = onboardings.handle(wabaId);
    try {
      // The update's validator is the ceiling across processes: a refusal writes nothing (billed all the same). For a run
      // whose build has no worker polling the ask ends within seconds, not at the call's deadline.
      await onboardings.within('update', onboardings.timeouts.callMs, async () => {
        const update = await onboardings.accepted(handle, onboardingOf(wabaId), () =>
          handle.startUpdate(requestDriftCheckUpdate, { args: [request], waitForStage: WorkflowUpdateStage.ACCEPTED }),
        );
        return update.result();
      });
      this.log.info('drift check asked', { wabaId, cause: request.cause, graphCode: request.graphCode });
      return 'asked';
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) return 'refused'; // not READY, or checked within the hour
      if (err instanceof WorkflowNotFoundError) return 'no_onboarding';
      this.askedAt.set(wabaId, now - DRIFT_CHECK_INTERVAL_MS + RETRY_AFTER_FAILURE_MS);
      this.log.warn('could not ask for a drift check', { wabaId, error: err instanceof Error ? err.message : String(err) });
      return err instanceof BuildNotPollingError ? 'no_poller' : 'failed';
    }
  }
}
