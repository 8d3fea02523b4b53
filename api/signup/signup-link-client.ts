/**
 * What the hosted page asks of a link's run in Temporal (workflows/signup-link.ts): reserve it before
 * a code is exchanged, say how the attempt ended, and read whether it is used or locked. Every call
 * is bounded by the API's gRPC deadlines; a link run whose build has no worker polling (it lives
 * until the link expires, pinned to the build it started on) is a 503 within seconds.
 */
import { ApplicationFailure } from '@temporalio/common';
import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateStage, type Client } from '@temporalio/client';
import type { Config } from '../../config';
import {
  finishSignupAttemptUpdate,
  getSignupLinkQuery,
  reserveSignupLinkUpdate,
  SignupLinkRefusal,
  signupLinkWorkflowId,
  type SignupAttemptEnd,
  type SignupLinkState,
} from '../../workflows/signup-link';
import { ApiError, isQueryNotRegistered } from '../http/errors';
import { SharedAnswers } from '../http/shared-answers';
import type { OnboardingClient, TemporalTimeouts } from '../partner/onboarding-client';
import type { SignupLink } from './link-token';

/** Whose run it is, in an answer's words. */
const LINK_RUN = "this signup link's run";
/**
 * The hosted page needs no key, so its read of the link's run is shared: one query per link per this
 * long in a process, however often the page is loaded. An attempt this process finishes drops it at
 * once; one another process finished may show as open for that long (the attempt itself asks the
 * run, which refuses it).
 */
export const PAGE_STATE_KEEP_MS = 2_000;

export class SignupLinkClient {
  private readonly pageStates = new SharedAnswers<SignupLinkState | undefined>(PAGE_STATE_KEEP_MS);

  constructor(
    private readonly client: Client,
    private readonly config: Config,
    private readonly onboardings: OnboardingClient,
    private readonly timeouts: TemporalTimeouts,
  ) {}

  /**
   * Reserves the link for one attempt (update-with-start: the link's run starts with its first
   * attempt). A used or locked link is 410, one with an attempt under way 409.
   */
  async reserve(link: SignupLink, attemptId: string): Promise<SignupLinkState> {
    const startWorkflowOperation = new WithStartWorkflowOperation('signupLink', {
      workflowId: signupLinkWorkflowId(link.id),
      taskQueue: this.config.temporal.taskQueue,
      args: [{ linkId: link.id, expiresAt: new Date(link.exp * 1000).toISOString() }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      staticSummary: `Signup link ${link.id}`,
    });
    try {
      return await this.onboardings.within('updateWithStart', this.timeouts.updateMs, async () => {
        const update = await this.onboardings.accepted(this.handle(link.id), LINK_RUN, () =>
          this.client.workflow.startUpdateWithStart(reserveSignupLinkUpdate, { args: [{ attemptId }], waitForStage: WorkflowUpdateStage.ACCEPTED, startWorkflowOperation }),
        );
        return update.result();
      });
    } catch (err) {
      // The run has closed: the link's own expiry has passed.
      if (err instanceof WorkflowExecutionAlreadyStartedError) throw new ApiError(410, 'gone', 'this signup link has expired');
      throw refusalOf(err) ?? err;
    }
  }

  /** Ends the attempt: the link is used, refused once more (toward its lock), or simply free again. */
  async finish(linkId: string, end: SignupAttemptEnd): Promise<SignupLinkState> {
    const handle = this.handle(linkId);
    try {
      return await this.onboardings.within('update', this.timeouts.updateMs, async () => {
        const update = await this.onboardings.accepted(handle, LINK_RUN, () =>
          handle.startUpdate(finishSignupAttemptUpdate, { args: [end], waitForStage: WorkflowUpdateStage.ACCEPTED }),
        );
        return update.result();
      });
    } finally {
      // This process's page shows the link's new state at once (another process's within PAGE_STATE_KEEP_MS).
      this.pageStates.forget(linkId);
    }
  }

  /** The link's state for its page: state(), shared per link for PAGE_STATE_KEEP_MS (a failure is not kept). */
  pageState(linkId: string): Promise<SignupLinkState | undefined> {
    return this.pageStates.get(linkId, () => this.state(linkId));
  }

  /** The link's state in Temporal; undefined for a link nobody has tried yet. BuildNotPollingError when its run's build has no worker polling. */
  async state(linkId: string): Promise<SignupLinkState | undefined> {
    const handle = this.handle(linkId);
    try {
      return await this.onboardings.pollers.query(handle, LINK_RUN, this.timeouts.queryMs, () => handle.query(getSignupLinkQuery));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      // A run from before reservations (pinned to its build) answers no query: it was started as the link's "used" mark.
      if (isQueryNotRegistered(err)) return { linkId, expiresAt: '', attempts: 1, failedAttempts: 0, used: { wabaId: '', businessId: '', usedAt: '' } };
      throw err;
    }
  }

  private handle(linkId: string) {
    return this.client.workflow.getHandle(signupLinkWorkflowId(linkId));
  }
}

/** The link's own refusal of a reservation, as the API answers it. */
function refusalOf(err: unknown): ApiError | undefined {
  if (!(err instanceof WorkflowUpdateFailedError) || !(err.cause instanceof ApplicationFailure)) return undefined;
  switch (err.cause.type) {
    case SignupLinkRefusal.used:
    case SignupLinkRefusal.locked:
      return new ApiError(410, 'gone', err.cause.message);
    case SignupLinkRefusal.busy:
      return new ApiError(409, 'conflict', `${err.cause.message}; try again in a minute if it does not finish`);
  }
  return undefined;
}
