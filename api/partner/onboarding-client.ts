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
  type WorkflowUpdateHandle,
} from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import type { Config } from '../../config';
import {
  cancelUpdate,
  getStateQuery,
  getTemplateReadinessQuery,
  getTemplatesReadinessQuery,
  getTemplatesQuery,
  recheckUpdate,
  recordTemplateSendsUpdate,
  recordTemplateSendUpdate,
  setSettingsUpdate,
  submitSignupCodeUpdate,
  type SettingsRequest,
  type SignupCodeUpdate,
  type TemplateRef,
  type TemplateSendRecorded,
  type TemplateSendRequest,
  type TemplateSendsRecorded,
} from '../../workflows/messages';
import { READINESS_VERSION_MEMO } from '../../temporal/memo-fields';
import { OnboardingStatusKey } from '../../temporal/search-attributes';
import { onboardingStartOptions } from '../../workflows/start-options';
import { callWithin } from '../http/temporal-deadline';
import { answerBy, recheckAnswerMs } from './recheck-answer';
import { onboardingWorkflowId, type OnboardingInput, type OnboardingState, type OnboardingStatus, type TemplateBook, type TemplateReadinessRead, type TemplatesReadinessRead } from '../../workflows/types';
import { ApiError, isBuildNotPolling, isTemporalUnavailable, isUpdateLostToTaskFailure, NOT_POLLING_RETRY_AFTER_SECONDS, temporarilyUnavailable } from '../http/errors';
import { BuildPollers } from '../http/build-pollers';
import type { Metrics } from '../ops/metrics';
import {
  exportOnboardings,
  listOnboardings,
  ONBOARDING_WORKFLOW_TYPE,
  pageTokenKey,
  type ListFilter,
  type OnboardingPage,
  type OnboardingSummary,
} from './onboarding-list';

/** Which run answered a read, at which readiness version and status (workflows/readiness-version.ts). */
export interface ReadinessStamp {
  runId: string;
  version: number;
  status?: OnboardingStatus;
}

export interface TemporalTimeouts {
  /** Starts, signals, describes, lists. */
  callMs: number;
  /** Queries: answered by a worker, so they may wait for one to pick up the task. */
  queryMs: number;
  /** Updates run workflow code (an Embedded Signup exchange calls Graph): they get longer. */
  updateMs: number;
  /**
   * An update not answered within this long makes the API ask whether the run's build has a worker
   * polling (api/http/build-pollers.ts): a healthy one is accepted in milliseconds.
   */
  acceptMs: number;
}

export const DEFAULT_TIMEOUTS: TemporalTimeouts = { callMs: 5_000, queryMs: 5_000, updateMs: 30_000, acceptMs: 2_000 };

// Shared with the webhook receiver and the discovery's activities.
export { onboardingStartOptions } from '../../workflows/start-options';

/** An update lost to a failed workflow task: tries in all, and the pause before the next (times the try). */
const UPDATE_TRIES = 5;
const UPDATE_RETRY_PAUSE_MS = 250;

/** Whose run it is, in an answer's words. */
export const onboardingOf = (wabaId: string) => `WABA ${wabaId}'s onboarding`;

export class OnboardingClient {
  private readonly pageTokenKey: Buffer;
  /** Whether a run that does not answer has a worker of its build polling; shared with the API's other Temporal callers. */
  readonly pollers: BuildPollers;

  constructor(
    private readonly client: Client,
    private readonly config: Config,
    private readonly metrics: Metrics,
    readonly timeouts: TemporalTimeouts,
  ) {
    this.pageTokenKey = pageTokenKey(config.meta.appSecret);
    this.pollers = new BuildPollers(client, config.temporal.namespace, metrics.timeTemporal);
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
   * The onboarding's state from its own query (running or closed runs alike). `fallback` answers for
   * a run this request has just started, which may not have run its first task yet. Otherwise a run
   * that cannot answer is a 503, never a state without its history: `temporarily_unavailable` when
   * no worker of its build polls (or its worker refuses the query), `temporal_unavailable` when
   * Temporal is slow. The check shares the query's deadline: one deadline in all, not two in a row.
   */
  async state(wabaId: string, fallback?: OnboardingState): Promise<OnboardingState> {
    if (fallback) {
      try {
        return await this.within('query', this.timeouts.queryMs, () => this.handle(wabaId).query(getStateQuery));
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw notFound(wabaId);
        if (isTemporalUnavailable(err) || isQueryRefused(err)) return fallback;
        throw err;
      }
    }
    try {
      return await this.query(wabaId, getStateQuery);
    } catch (err) {
      // An onboarding that ended on a build long gone (a release moves only open runs) answers from
      // its result, which needs no worker: an ended WABA stays readable across every release.
      if (isBuildNotPolling(err)) {
        const ended = await this.endedState(wabaId);
        if (ended) return ended;
        throw err;
      }
      // Its build polls, yet its worker refused the query (a failing task, say): unavailable, not a 500.
      if (isTemporalUnavailable(err) || !isQueryRefused(err)) throw err;
      throw temporarilyUnavailable(`${onboardingOf(wabaId)} did not answer its query (${err instanceof Error ? err.message : String(err)}); try again in ${NOT_POLLING_RETRY_AFTER_SECONDS} s`);
    }
  }

  /** The state an ended onboarding returned (its run completed); undefined while it runs, or when it ended otherwise. */
  private async endedState(wabaId: string): Promise<OnboardingState | undefined> {
    const handle = this.handle(wabaId);
    const description = await this.within('describe', this.timeouts.callMs, () => handle.describe());
    if (description.status.name !== 'COMPLETED') return undefined;
    return this.within('result', this.timeouts.callMs, () => handle.result() as Promise<OnboardingState>);
  }

  /** One query of the WABA's run (api/http/build-pollers.ts): 404 for an unknown WABA, BuildNotPollingError for a run whose build has no worker polling. */
  private async query<T>(wabaId: string, query: QueryDefinition<T>): Promise<T> {
    const handle = this.handle(wabaId);
    try {
      return await this.pollers.query(handle, onboardingOf(wabaId), this.timeouts.queryMs, () => handle.query(query));
    } catch (err) {
      throw err instanceof WorkflowNotFoundError ? notFound(wabaId) : err;
    }
  }

  /** The whole template book (the template routes): one query, answered by a worker, no history event, one billed action. */
  templateBook(wabaId: string): Promise<TemplateBook> {
    return this.query(wabaId, getTemplatesQuery);
  }

  /** What one send decides with: the WABA's facts and one template, stamped (a billed query; the gate keeps it). */
  templateReadiness(wabaId: string, template: TemplateRef): Promise<TemplateReadinessRead> {
    const handle = this.handle(wabaId);
    return this.pollers
      .query(handle, onboardingOf(wabaId), this.timeouts.queryMs, () => handle.query(getTemplateReadinessQuery, template))
      .catch((err: unknown) => {
        throw err instanceof WorkflowNotFoundError ? notFound(wabaId) : err;
      });
  }

  /** What the sends of one WABA read at one moment: the same facts and stamp, and each template asked (one billed query). */
  templatesReadiness(wabaId: string, templates: TemplateRef[]): Promise<TemplatesReadinessRead> {
    const handle = this.handle(wabaId);
    return this.pollers
      .query(handle, onboardingOf(wabaId), this.timeouts.queryMs, () => handle.query(getTemplatesReadinessQuery, { templates }))
      .catch((err: unknown) => {
        throw err instanceof WorkflowNotFoundError ? notFound(wabaId) : err;
      });
  }

  /**
   * The run's stamp, from a describe (Temporal Cloud bills no action for it, nor needs a worker): its
   * run id, the readiness version in its memo and its OnboardingStatus search attribute.
   */
  async readinessStamp(wabaId: string): Promise<ReadinessStamp> {
    const handle = this.handle(wabaId);
    try {
      const d = await this.within('describe', this.timeouts.callMs, () => handle.describe());
      const version = d.memo?.[READINESS_VERSION_MEMO];
      return { runId: d.runId, version: typeof version === 'number' ? version : 0, status: d.typedSearchAttributes.get(OnboardingStatusKey) as OnboardingStatus | undefined };
    } catch (err) {
      throw err instanceof WorkflowNotFoundError ? notFound(wabaId) : err;
    }
  }

  /** Records the due sends of one WABA in one update; a refusal (WorkflowUpdateFailedError: nothing due) writes nothing, though it is billed. */
  recordTemplateSends(wabaId: string, sends: TemplateSendRequest[]): Promise<TemplateSendsRecorded> {
    const handle = this.handle(wabaId);
    return this.within('update', this.timeouts.updateMs, async () => {
      const update = await this.accepted(handle, onboardingOf(wabaId), () =>
        handle.startUpdate(recordTemplateSendsUpdate, { args: [{ sends }], waitForStage: WorkflowUpdateStage.ACCEPTED }),
      );
      return update.result();
    });
  }

  /** Records one send (a run of a build before `recordTemplateSends`); a refusal (WorkflowUpdateFailedError) writes nothing, though it is billed. */
  recordTemplateSend(wabaId: string, send: TemplateSendRequest): Promise<TemplateSendRecorded> {
    const handle = this.handle(wabaId);
    return this.within('update', this.timeouts.updateMs, async () => {
      const update = await this.accepted(handle, onboardingOf(wabaId), () =>
        handle.startUpdate(recordTemplateSendUpdate, { args: [send], waitForStage: WorkflowUpdateStage.ACCEPTED }),
      );
      return update.result();
    });
  }

  /**
   * Sends an update to a run and waits for its acceptance (`start` asks for the ACCEPTED stage):
   * a 503 within seconds when no worker of the run's build polls (api/http/build-pollers.ts).
   */
  accepted<U>(handle: WorkflowHandle, subject: string, start: () => Promise<U>): Promise<U> {
    return this.pollers.accepted(handle, subject, this.timeouts.acceptMs, start);
  }

  setSettings(wabaId: string, settings: SettingsRequest): Promise<OnboardingState> {
    return this.update(wabaId, 'setSettings', (h) => h.startUpdate(setSettingsUpdate, { args: [settings], waitForStage: WorkflowUpdateStage.ACCEPTED }));
  }

  submitSignupCode(wabaId: string, code: SignupCodeUpdate): Promise<OnboardingState> {
    return this.update(wabaId, 'submitSignupCode', (h) => h.startUpdate(submitSignupCodeUpdate, { args: [code], waitForStage: WorkflowUpdateStage.ACCEPTED }));
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
    // A run it joins may be on a build whose workers are gone: then a 503 within seconds, not a 30 s wait.
    const state = await this.within('updateWithStart', this.timeouts.updateMs, async () => {
      const update = await this.accepted(this.handle(input.wabaId), onboardingOf(input.wabaId), () =>
        this.client.workflow.startUpdateWithStart(submitSignupCodeUpdate, { args: [code], waitForStage: WorkflowUpdateStage.ACCEPTED, startWorkflowOperation }),
      );
      return update.result();
    });
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
    return this.update(
      wabaId,
      'recheck',
      (h, updateId) => h.startUpdate(recheckUpdate, { updateId, waitForStage: WorkflowUpdateStage.ACCEPTED }),
      (update) => answerBy(update.result(), answerDeadline),
    );
  }

  cancel(wabaId: string, reason?: string): Promise<OnboardingState> {
    return this.update(wabaId, 'cancel', (h, updateId) => h.startUpdate(cancelUpdate, { args: [{ reason }], updateId, waitForStage: WorkflowUpdateStage.ACCEPTED }));
  }

  /**
   * Starts an update (`start` asks for its acceptance; see `accepted`), then waits for its result
   * (`finish`, by default the whole result).
   * An update to a closed run fails like an unknown workflow; tell "ended" (409) from "never was" (404).
   * An update the server lost to a failed workflow task is sent again, at most UPDATE_TRIES times in
   * all and within the same deadline, under one update id (Temporal runs an id once).
   */
  private update<T = OnboardingState>(
    wabaId: string,
    operation: string,
    start: (handle: WorkflowHandle, updateId: string) => Promise<WorkflowUpdateHandle<T>>,
  ): Promise<T>;
  private update<T, R>(
    wabaId: string,
    operation: string,
    start: (handle: WorkflowHandle, updateId: string) => Promise<WorkflowUpdateHandle<T>>,
    finish: (update: WorkflowUpdateHandle<T>) => Promise<R>,
  ): Promise<R>;
  private async update<T, R>(
    wabaId: string,
    operation: string,
    start: (handle: WorkflowHandle, updateId: string) => Promise<WorkflowUpdateHandle<T>>,
    finish?: (update: WorkflowUpdateHandle<T>) => Promise<R>,
  ): Promise<T | R> {
    const handle = this.handle(wabaId);
    const updateId = randomUUID();
    const send = async (): Promise<T | R> => {
      for (let attempt = 1; ; attempt++) {
        try {
          const update = await this.accepted(handle, onboardingOf(wabaId), () => start(handle, updateId));
          return await (finish ? finish(update) : update.result());
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

  /** Every onboarding the filter matches, page after page of visibility, handed to `write` row by row. */
  export(filter: Omit<ListFilter, 'pageSize' | 'pageToken'>, write: (row: OnboardingSummary) => Promise<void>): Promise<void> {
    return exportOnboardings(this.client, this.config.temporal.namespace, filter, (call) => this.within('list', this.timeouts.callMs, call), write);
  }
}

/** A query a run's worker did not answer: not registered there, rejected, or failing in the worker. */
function isQueryRefused(err: unknown): boolean {
  const name = (err as { name?: unknown })?.name;
  return name === 'QueryNotRegisteredError' || name === 'QueryRejectedError' || name === 'ServiceError';
}

export function notFound(wabaId: string): ApiError {
  return new ApiError(404, 'not_found', `no onboarding for WABA ${wabaId}`);
}
