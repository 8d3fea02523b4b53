/**
 * One run of an onboarding: its state, its inbox, and the mechanics every phase shares (the one
 * interruptible wait, the status read, continue-as-new). Phases are in this folder; the story is in
 * workflows/onboarding.ts.
 */
import { allHandlersFinished, CancellationScope, condition, workflowInfo } from '@temporalio/workflow';
import {
  DEFAULT_OPTIONS,
  FINAL_STATUSES,
  type OnboardingOptions,
  type OnboardingState,
  type ProcessState,
  type TemplateBook,
  type TemplateBookHeader,
  type TemplateReadinessRead,
  type TemplatesReadinessRead,
  type WaitingPhase,
} from '../types';
import type { TemplateRef } from '../messages';
import { findTemplate } from '../template-readiness';
import { packTemplates, unpackTemplates } from '../template-handover';
import { ReadinessVersion } from '../readiness-version';
import { newInbox, type OnboardingInbox, type OnboardingRunInput } from '../onboarding-inbox';
import { readOnboardingStatus, type EligibilityVerdict } from '../eligibility';
import { OnboardingRecord } from '../onboarding-record';
import { PartnerCallbackOutbox } from '../partner-callback-outbox';
import { StatusReadBudget } from '../graph-budget';
import { graph, NeedsAttention, onboardingActivities } from '../graph-calls';
import { continueOnCurrentBuild, historyBytesNow, timeForNewRun } from '../build-moves';
import { BOUND_OF_EARLIER_RUNS, ONBOARDING_RUN_BOUND } from '../history-bounds';

/** The onboarding's phases, in the order of the process; NEEDS_ATTENTION (`attention`) leads back to `eligibility`. */
export type Phase = WaitingPhase;
/** What a phase hands on to: the next phase, or the end of the onboarding. */
export type Next = Phase | 'ended';

/** The terms were not signed by the deadline. */
export class Expired extends Error {}
/** Nothing more can be done for the WABA (partner removed, offboarded, deleted). */
export class Offboarded extends Error {}
/** A waiting phase woke to a long history or a new build: the onboarding goes on in a new run. */
export class TimeToMove extends Error {
  constructor(readonly phase: WaitingPhase) {
    super(`continue as new in ${phase}`);
  }
}
/** A status read failed in a way a person must fix; it still answers the rechecks that asked for it. */
export class StatusReadFailed extends NeedsAttention {
  constructor(
    message: string,
    readonly answersRechecksUpTo: number,
  ) {
    super(message);
  }
}

export interface WaitOptions {
  /** Wake after this long (the wait returns false). */
  seconds?: number;
  /** The terms' deadline applies: past it, the onboarding EXPIRES. */
  deadline?: boolean;
  /** Parked in NEEDS_ATTENTION: a new account event does not interrupt the wait. */
  parked?: boolean;
  /**
   * The phase that waits: the run may continue as new in it when it wakes to a long history or a new
   * build, and the wait wakes at least every `wakeEverySeconds` so a new build always reaches it.
   */
  movesIn?: WaitingPhase;
}

export class OnboardingRun {
  readonly options: OnboardingOptions & { [K in keyof typeof DEFAULT_OPTIONS]: number };
  readonly state: OnboardingState;
  readonly process: ProcessState;
  readonly inbox: OnboardingInbox;
  readonly outbox: PartnerCallbackOutbox;
  readonly record: OnboardingRecord;
  readonly statusReads: StatusReadBudget;
  /** Bumped when anything a send reads changes; in the memo for the send gate (workflows/readiness-version.ts). */
  readonly readiness = new ReadinessVersion();
  /** The process; the cancel update cancels it. */
  readonly scope = new CancellationScope();
  /** The history's bytes at this run's first task (the carried state): the bound counts what the run adds. */
  private readonly startBytes = historyBytesNow();

  constructor(readonly input: OnboardingRunInput) {
    const carried = input.carriedOver;
    this.options = { ...DEFAULT_OPTIONS, ...input.options };
    this.state = carried?.state ?? {
      wabaId: input.wabaId,
      businessId: input.businessId,
      path: input.path,
      status: 'CHECKING_ELIGIBILITY',
      messageActivitySharing: this.options.messageActivitySharing,
      history: [],
    };
    this.process = carried?.process ?? {
      expiresAt: Date.now() + this.options.termsDeadlineSeconds * 1000,
      pendingCallbacks: [],
      recentStatusReads: [],
      templates: [],
    };
    // Templates come packed from this build on, as objects from earlier builds (workflows/template-handover.ts).
    const packed = this.process.packedTemplates;
    if (packed) {
      this.process.templates = unpackTemplates(packed);
      delete this.process.packedTemplates;
    }
    this.inbox = carried?.inbox ?? newInbox(input);
    // An earlier build kept the signing in the inbox after recording it; it is spent (see `templateGrace`).
    if (this.inbox.terms && this.inbox.terms.at === this.state.termsSignedAt) delete this.inbox.terms;
    this.outbox = new PartnerCallbackOutbox(
      this.process.pendingCallbacks,
      (refusal) => {
        this.state.callbackFailure = refusal;
        this.record.describe();
      },
      this.process,
    );
    this.record = new OnboardingRecord(this.state, this.outbox, () => this.process.templatesNotTracked);
    this.statusReads = new StatusReadBudget(this.process.recentStatusReads);
  }

  /**
   * The terms deadline counts from now: each pass gets one of its own, so time parked in
   * NEEDS_ATTENTION for a person to fix something never spends it.
   */
  startTermsClock(): void {
    this.process.expiresAt = Date.now() + this.options.termsDeadlineSeconds * 1000;
  }

  isFinal(): boolean {
    return FINAL_STATUSES.includes(this.state.status);
  }

  rechecksPending(): boolean {
    return this.inbox.rechecks.answered < this.inbox.rechecks.asked;
  }

  /**
   * Every wait for the outside world goes through here. It also breaks for an offboarding (→
   * OFFBOARDED), an account event (→ NEEDS_ATTENTION), the deadline (→ EXPIRED) and, in a waiting
   * phase, a long history or a new build of the workers (→ continue as new, once no handler is
   * running). Returns true when `until` became true, false on timeout.
   */
  async wait(until: () => boolean, opts: WaitOptions = {}): Promise<boolean> {
    const { inbox } = this;
    const interrupted = () =>
      inbox.offboarded !== undefined || (!opts.parked && inbox.attention !== undefined) || (opts.movesIn !== undefined && this.timeToMove());
    let endsAt = opts.seconds === undefined ? undefined : Date.now() + opts.seconds * 1000;
    if (opts.deadline) endsAt = Math.min(endsAt ?? Infinity, this.process.expiresAt);
    const woken = () => until() || interrupted();
    const backstopMs = opts.movesIn === undefined ? Infinity : this.options.wakeEverySeconds * 1000;
    // Ceiling: one timer per backstop period until the wait's own end; each wake-up is one workflow task.
    for (;;) {
      const slice = Math.min(endsAt === undefined ? Infinity : Math.max(0, endsAt - Date.now()), backstopMs);
      const met = slice === Infinity ? await condition(woken).then(() => true) : await condition(woken, slice);
      if (inbox.offboarded !== undefined) throw new Offboarded(inbox.offboarded);
      if (!opts.parked && inbox.attention !== undefined) {
        const reason = inbox.attention;
        inbox.attention = undefined;
        throw new NeedsAttention(reason);
      }
      if (until()) return true;
      if (opts.movesIn !== undefined && this.timeToMove()) throw new TimeToMove(opts.movesIn);
      if (met) return false;
      if (endsAt !== undefined && Date.now() >= endsAt) {
        if (opts.deadline && Date.now() >= this.process.expiresAt) throw new Expired();
        return false;
      }
      // Only the backstop ended: nothing is due, wait on.
    }
  }

  /**
   * The history is long, or a newer build is current (Worker Versioning), and nothing is mid-way: no
   * handler running, no signup code in the exchange.
   */
  private timeToMove(): boolean {
    return timeForNewRun(this.input.historyBound ?? BOUND_OF_EARLIER_RUNS, this.startBytes) && this.inbox.signup === undefined && allHandlersFinished();
  }

  /** Hands the state and the inbox to a new run, on the workers' current build, waiting in `phase`. */
  continueAsNew(phase: WaitingPhase): Promise<never> {
    const { wabaId, businessId, path, options, origin } = this.input;
    const next: OnboardingRunInput = {
      wabaId,
      businessId,
      path,
      ...(options ? { options } : {}),
      ...(origin ? { origin } : {}),
      historyBound: ONBOARDING_RUN_BOUND,
      carriedOver: { phase, state: this.state, process: { ...this.process, templates: [], packedTemplates: packTemplates(this.process.templates) }, inbox: this.inbox },
    };
    return continueOnCurrentBuild<(input: OnboardingRunInput) => Promise<OnboardingState>>(next);
  }

  /**
   * Reads Meta's status field; every read, failing or not, answers the rechecks asked before it
   * began, and counts against the WABA's daily read budget. A read a recheck waits on is the short,
   * bounded one; a read the process makes on its own retries longer (both ceilings in graph-calls).
   */
  async readStatus(): Promise<EligibilityVerdict> {
    const { rechecks } = this.inbox;
    const answers = rechecks.asked;
    const ref = { wabaId: this.state.wabaId, sealedToken: this.process.sealedToken };
    const urgent = this.rechecksPending();
    this.statusReads.record(Date.now());
    let read;
    try {
      read = await graph(() => (urgent ? onboardingActivities.readOnboardingStatusNow(ref) : onboardingActivities.readOnboardingStatus(ref)));
    } catch (err) {
      if (err instanceof NeedsAttention && !(err instanceof StatusReadFailed)) throw new StatusReadFailed(err.message, answers);
      throw err;
    }
    this.state.eligibility = read.status;
    rechecks.answered = Math.max(rechecks.answered, answers);
    return readOnboardingStatus(read.status, read.field);
  }

  /** Reads Meta's status while waiting for the terms; ONBOARDED means they were signed. */
  async readStatusForTerms(): Promise<EligibilityVerdict> {
    const verdict = await this.readStatus();
    if (verdict.kind === 'onboarded') this.inbox.terms ??= { source: 'poll', at: new Date().toISOString() };
    return verdict;
  }

  /** The whole book: the template routes read it (query `getTemplates`). */
  templateBook(): TemplateBook {
    return { ...this.bookHeader(), templates: this.process.templates };
  }

  /** What one send reads (query `getTemplateReadiness`): the WABA's facts and that template, stamped. */
  templateReadiness(name: string, language: string): TemplateReadinessRead {
    const template = findTemplate(this.process.templates, name, language);
    return { ...this.stampedHeader(), ...(template ? { template } : {}) };
  }

  /** What the sends of a moment read together (query `getTemplatesReadiness`): the same, for each template asked. */
  templatesReadiness(refs: readonly TemplateRef[]): TemplatesReadinessRead {
    return { ...this.stampedHeader(), templates: refs.map(({ name, language }) => findTemplate(this.process.templates, name, language) ?? null) };
  }

  private stampedHeader(): Omit<TemplateReadinessRead, 'template'> {
    // Listing at READY bumps no version (no memo write per onboarding): a read taken before it is not kept.
    const listing = this.state.status === 'READY' && this.process.templatesListedAt !== this.state.readyAt;
    return { ...this.bookHeader(), runId: workflowInfo().runId, version: this.readiness.value, ...(listing ? { listing: true as const } : {}) };
  }

  /** The WABA's status and the facts readiness depends on. */
  bookHeader(): TemplateBookHeader {
    const { state, process, options } = this;
    const syncingUntil =
      state.status === 'SYNCING_TEMPLATES' && process.syncingSince !== undefined
        ? new Date(process.syncingSince + options.templateSyncGraceSeconds * 1000).toISOString()
        : undefined;
    const readyAt = syncingUntil ?? state.readyAt;
    return {
      wabaId: state.wabaId,
      status: state.status,
      ...(readyAt ? { readyAt } : {}),
      ...(state.messageActivitySharing !== undefined ? { messageActivitySharing: state.messageActivitySharing } : {}),
      templateSyncGraceSeconds: options.templateSyncGraceSeconds,
      templateIdleSeconds: options.templateIdleSeconds,
      ...(process.templatesNotTracked ? { templatesNotTracked: process.templatesNotTracked } : {}),
    };
  }
}
