/**
 * What the API asks of Temporal about onboardings, each call bounded by a gRPC deadline so a dead
 * or slow Temporal turns into a quick 503, never a hung request.
 */
import { randomUUID } from 'node:crypto';
import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateStage,
  type Client,
  type WorkflowHandle,
  type WorkflowStartOptions,
} from '@temporalio/client';
import type { Config } from '../../config';
import {
  cancelUpdate,
  getStateQuery,
  getTemplatesQuery,
  recheckUpdate,
  recordTemplateSendUpdate,
  setSettingsUpdate,
  submitSignupCodeUpdate,
  type SettingsRequest,
  type SignupCodeUpdate,
  type TemplateSendRecorded,
  type TemplateSendRequest,
} from '../../workflows/messages';
import { BusinessIdKey, OnboardingPathKey, OnboardingStatusKey } from '../../temporal/search-attributes';
import { onboardingStartOptions } from '../../workflows/start-options';
import { callWithin } from '../http/temporal-deadline';
import { answerBy, recheckAnswerMs } from './recheck-answer';
import {
  onboardingWorkflowId,
  type OnboardingInput,
  type OnboardingPath,
  type OnboardingState,
  type OnboardingStatus,
  type TemplateBook,
} from '../../workflows/types';
import { ApiError, isTemporalUnavailable, isUpdateLostToTaskFailure } from '../http/errors';
import type { Metrics } from '../ops/metrics';
import { listOnboardings, ONBOARDING_WORKFLOW_TYPE, pageTokenKey, type ListFilter, type OnboardingPage } from './onboarding-list';

export interface TemporalTimeouts {
  /** Starts, signals, describes, lists. */
  callMs: number;
  /** Queries: answered by a worker, so they may wait for one to pick up the task. */
  queryMs: number;
  /** Updates run workflow code (an Embedded Signup exchange calls Graph): they get longer. */
  updateMs: number;
}

export const DEFAULT_TIMEOUTS: TemporalTimeouts = { callMs: 5_000, queryMs: 5_000, updateMs: 30_000 };

// Shared with the webhook receiver and the discovery's activities.
export { onboardingStartOptions } from '../../workflows/start-options';

/** Of the query's deadline, what is kept for the describe that stands in when no worker answers (a healthy describe takes milliseconds). */
const FALLBACK_DESCRIBE_MS = 1_000;

/** An update lost to a failed workflow task: tries in all, and the pause before the next (times the try). */
const UPDATE_TRIES = 5;
const UPDATE_RETRY_PAUSE_MS = 250;

export class OnboardingClient {
  private readonly pageTokenKey: Buffer;

  constructor(
    private readonly client: Client,
    private readonly config: Config,
    private readonly metrics: Metrics,
    private readonly timeouts: TemporalTimeouts,
  ) {
    this.pageTokenKey = pageTokenKey(config.meta.appSecret);
  }

  /** Runs `call` with a deadline on every gRPC request it makes (ending at it, retries or not), and times it. */
  within<T>(operation: string, ms: number, call: () => Promise<T>): Promise<T> {
    return this.metrics.timeTemporal(operation, () => callWithin(this.client, ms, call));
  }

  handle(wabaId: string): WorkflowHandle {
    return this.client.workflow.getHandle(onboardingWorkflowId(wabaId));
  }

  /**
   * Starts the WABA's onboarding. A running one is never replaced (conflict policy FAIL); a closed one
   * may be followed by a new run. Returns whether this call started it.
   */
  async start(input: OnboardingInput): Promise<{ started: boolean }> {
    return this.startUnlessRunning(ONBOARDING_WORKFLOW_TYPE, onboardingStartOptions(input, this.config));
  }

  /** Starts a run unless one with its workflow id is running (a closed one may be followed by a new run). */
  async startUnlessRunning(workflowType: string, options: WorkflowStartOptions): Promise<{ started: boolean }> {
    try {
      await this.within('start', this.timeouts.callMs, () =>
        this.client.workflow.start(workflowType, { ...options, workflowIdConflictPolicy: 'FAIL', workflowIdReusePolicy: 'ALLOW_DUPLICATE' }),
      );
      return { started: true };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return { started: false };
      throw err;
    }
  }

  /**
   * Waits (at most one call deadline) for the WABA's current run to close. An onboarding that has
   * ended stays open a moment to deliver its last partner callback.
   */
  async awaitClosed(wabaId: string): Promise<boolean> {
    try {
      await this.within('result', this.timeouts.callMs, () => this.handle(wabaId).result());
      return true;
    } catch (err) {
      // A run that failed, was cancelled or terminated has closed too.
      return !isTemporalUnavailable(err) && !(err instanceof WorkflowNotFoundError);
    }
  }

  /**
   * The onboarding's state from its own query (running or closed runs alike). When no worker answers
   * in time, `fallback` (or the search attributes, which Temporal itself holds) stands in, so a busy
   * worker degrades the answer instead of failing it. Query and fallback share one deadline: with
   * Temporal down, the answer is a 503 after `queryMs`, not after two deadlines in a row.
   */
  async state(wabaId: string, fallback?: OnboardingState): Promise<OnboardingState> {
    const handle = this.handle(wabaId);
    const describeMs = fallback ? 0 : Math.min(FALLBACK_DESCRIBE_MS, Math.floor(this.timeouts.queryMs / 5));
    try {
      return await this.within('query', this.timeouts.queryMs - describeMs, () => handle.query(getStateQuery));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound(wabaId);
      if (!isTemporalUnavailable(err) && !isQueryNotAnswerable(err)) throw err;
      if (fallback) return fallback;
      return this.stateFromSearchAttributes(wabaId, describeMs);
    }
  }

  private async stateFromSearchAttributes(wabaId: string, deadlineMs: number): Promise<OnboardingState> {
    const description = await this.within('describe', deadlineMs, () => this.handle(wabaId).describe()).catch(
      (err: unknown) => {
        throw err instanceof WorkflowNotFoundError ? notFound(wabaId) : err;
      },
    );
    const attrs = description.typedSearchAttributes;
    return {
      wabaId,
      businessId: attrs.get(BusinessIdKey) ?? '',
      path: (attrs.get(OnboardingPathKey) as OnboardingPath | undefined) ?? 'manual',
      status: (attrs.get(OnboardingStatusKey) as OnboardingStatus | undefined) ?? 'CHECKING_ELIGIBILITY',
      history: [],
    };
  }

  /** What the send gate decides with: one query, answered by a worker, no history event. */
  async templateBook(wabaId: string): Promise<TemplateBook> {
    try {
      return await this.within('query', this.timeouts.queryMs, () => this.handle(wabaId).query(getTemplatesQuery));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound(wabaId);
      throw err;
    }
  }

  /** Records a send the workflow's validator agrees is due; a refusal (WorkflowUpdateFailedError) writes nothing. */
  recordTemplateSend(wabaId: string, send: TemplateSendRequest): Promise<TemplateSendRecorded> {
    return this.within('update', this.timeouts.updateMs, () => this.handle(wabaId).executeUpdate(recordTemplateSendUpdate, { args: [send] }));
  }

  setSettings(wabaId: string, settings: SettingsRequest): Promise<OnboardingState> {
    return this.update(wabaId, 'setSettings', (h) => h.executeUpdate(setSettingsUpdate, { args: [settings] }));
  }

  submitSignupCode(wabaId: string, code: SignupCodeUpdate): Promise<OnboardingState> {
    return this.update(wabaId, 'submitSignupCode', (h) => h.executeUpdate(submitSignupCodeUpdate, { args: [code] }));
  }

  /**
   * Embedded Signup in one call: starts the WABA's onboarding, or joins the running one, and hands it
   * the code in the same request (update-with-start), so the 30-second code never waits for a start.
   * Resolves with the state after the exchange, and whether this call started the run.
   */
  async signUpWithStart(input: OnboardingInput, code: SignupCodeUpdate): Promise<{ started: boolean; state: OnboardingState }> {
    // Tells "this call started the run" from "it joined one": only a run this call started carries its id.
    const startedBy = randomUUID();
    const startWorkflowOperation = new WithStartWorkflowOperation(ONBOARDING_WORKFLOW_TYPE, {
      ...onboardingStartOptions(input, this.config),
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      memo: { startedBy },
    });
    const state = await this.within('updateWithStart', this.timeouts.updateMs, () =>
      this.client.workflow.executeUpdateWithStart(submitSignupCodeUpdate, { args: [code], startWorkflowOperation }),
    );
    const handle = await startWorkflowOperation.workflowHandle();
    const description = await this.within('describe', this.timeouts.callMs, () => handle.describe()).catch(() => undefined);
    return { started: description?.memo?.startedBy === startedBy, state };
  }

  /**
   * Asks for a recheck and waits for the status read that answers it, at most recheckAnswerMs.
   * `undefined`: the onboarding accepted the recheck but no read has answered it yet (a read already
   * retrying a Graph fault goes first); the recheck stays asked.
   */
  recheck(wabaId: string): Promise<OnboardingState | undefined> {
    const answerDeadline = Date.now() + recheckAnswerMs(this.timeouts.updateMs);
    return this.update(wabaId, 'recheck', async (h, updateId) => {
      const update = await h.startUpdate(recheckUpdate, { updateId, waitForStage: WorkflowUpdateStage.ACCEPTED });
      return answerBy(update.result(), answerDeadline);
    });
  }

  cancel(wabaId: string, reason?: string): Promise<OnboardingState> {
    return this.update(wabaId, 'cancel', (h, updateId) => h.executeUpdate(cancelUpdate, { args: [{ reason }], updateId }));
  }

  /**
   * An update to a closed run fails like an unknown workflow; tell "ended" (409) from "never was" (404).
   * An update the server lost to a failed workflow task is sent again, at most UPDATE_TRIES times in
   * all and within the same deadline, under one update id (Temporal runs an id once).
   */
  private async update<T = OnboardingState>(
    wabaId: string,
    operation: string,
    call: (handle: WorkflowHandle, updateId: string) => Promise<T>,
  ): Promise<T> {
    const handle = this.handle(wabaId);
    const updateId = randomUUID();
    const send = async (): Promise<T> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await call(handle, updateId);
        } catch (err) {
          if (attempt >= UPDATE_TRIES || !isUpdateLostToTaskFailure(err)) throw err;
          await new Promise((r) => setTimeout(r, UPDATE_RETRY_PAUSE_MS * attempt));
        }
      }
    };
    try {
      return await this.within(operation, this.timeouts.updateMs, send);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      const description = await this.within('describe', this.timeouts.callMs, () => handle.describe()).catch(
        (describeErr: unknown) => {
          throw describeErr instanceof WorkflowNotFoundError ? notFound(wabaId) : describeErr;
        },
      );
      const status = description.typedSearchAttributes.get(OnboardingStatusKey);
      throw new ApiError(409, 'conflict', `the onboarding has already ended (${status ?? description.status.name})`);
    }
  }

  /** One page of onboardings from Temporal visibility. */
  list(filter: ListFilter): Promise<OnboardingPage> {
    return listOnboardings(this.client, this.config.temporal.namespace, filter, this.pageTokenKey, (call) =>
      this.within('list', this.timeouts.callMs, call),
    );
  }
}

function isQueryNotAnswerable(err: unknown): boolean {
  // QueryNotRegisteredError (no first task yet on older servers), QueryRejectedError, a failing worker.
  const name = (err as { name?: unknown })?.name;
  return name === 'QueryNotRegisteredError' || name === 'QueryRejectedError' || name === 'ServiceError';
}

export function notFound(wabaId: string): ApiError {
  return new ApiError(404, 'not_found', `no onboarding for WABA ${wabaId}`);
}
