/**
 * One WABA's onboarding to the Marketing Messages API, from "unknown" to "ready to send through
 * /marketing_messages" (shared/seed/mm-api-onboarding.txt). Workflow id: `mm-onboarding:<wabaId>`.
 *
 *   check eligibility → the chosen path (Intent API, Embedded Signup, or manual acceptance)
 *   → wait for the terms to be signed → template-sync grace → READY
 *   → track the marketing templates and watch the account.
 *
 * Anything a person must fix parks the onboarding in NEEDS_ATTENTION until an operator asks for a
 * recheck (or Meta reinstates a banned account); it then starts again from a fresh reading of Meta's
 * status. A partner removal, offboarding or deletion ends it in OFFBOARDED. Nothing expected fails the run.
 */
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  accountEventSignal,
  cancelUpdate,
  getStateQuery,
  getTemplatesQuery,
  intentRequestedSignal,
  recheckUpdate,
  recordTemplateSendUpdate,
  setSettingsUpdate,
  submitSignupCodeUpdate,
  templateStatusSignal,
  termsSignedSignal,
  type CancelRequest,
  type IntentRequestedSignal,
  type SettingsRequest,
  type SignupCodeUpdate,
  type TemplateSendRequest,
} from './messages';
import {
  DEFAULT_OPTIONS,
  FINAL_STATUSES,
  OFFBOARDING_EVENTS,
  type CarriedOver,
  type OnboardingInput,
  type OnboardingState,
  type TemplateBook,
  type TermsSource,
} from './types';
import { applyTemplateStatus, findTemplate, mergeListing, recordSend, sendRecordDue, viewTemplate } from './template-readiness';
import { nextPollDelaySeconds, readOnboardingStatus, type EligibilityVerdict } from './eligibility';
import { OnboardingRecord } from './onboarding-record';
import { PartnerCallbackOutbox } from './partner-callback-outbox';
import { StatusReadBudget } from './graph-budget';
import { graph, NeedsAttention, onboardingActivities, signupCodeRejection } from './graph-calls';

/** Well under Temporal's ~50k events and 10k signals: continue as new at a quiet moment past this. */
const CONTINUE_AS_NEW_AFTER_EVENTS = 5_000;

/** Embedded Signup checks the token's permissions (debug_token) before using it. */
const PATCH_SIGNUP_PERMISSIONS = 'signup-token-permissions';

/** A signup code that arrives with the start is not reported as awaited while it is exchanged. */
const PATCH_SIGNUP_WITH_START = 'signup-with-start';

/** A recheck while the business's Intent answer has not come joins its request again (not only after a discovery). */
const PATCH_RECHECK_JOINS_INTENT = 'recheck-joins-intent';

class Expired extends Error {}
/** Nothing more can be done for the WABA (partner removed, offboarded, deleted). */
class Offboarded extends Error {}

/** A status read failed in a way a person must fix; it still answers the rechecks that asked for it. */
class StatusReadFailed extends NeedsAttention {
  constructor(
    message: string,
    readonly answersRechecksUpTo: number,
  ) {
    super(message);
  }
}

/** Marks the fix for rechecks during a persisting fault (released runs replay without it). */
const RECHECK_ANSWERED_BY_FAILING_READ = 'recheck-answered-by-failing-read';

export async function onboarding(input: OnboardingInput): Promise<OnboardingState> {
  const options = { ...DEFAULT_OPTIONS, ...input.options };
  const carried: CarriedOver = input.carriedOver ?? {
    state: {
      wabaId: input.wabaId,
      businessId: input.businessId,
      path: input.path,
      status: 'CHECKING_ELIGIBILITY',
      messageActivitySharing: options.messageActivitySharing,
      history: [],
    },
    expiresAt: Date.now() + options.termsDeadlineSeconds * 1000,
    pendingCallbacks: [],
    recentStatusReads: [],
  };
  const { state } = carried;
  carried.templates ??= [];
  const templates = carried.templates;
  const outbox = new PartnerCallbackOutbox(carried.pendingCallbacks, (refusal) => {
    state.callbackFailure = refusal;
    record.describe();
  });
  // A start that wrote the first status's search attributes (startContract 1) spares the run that write.
  const startContract = input.startContract ?? 0;
  const record = new OnboardingRecord(state, outbox, !input.carriedOver && startContract >= 1 ? 'CHECKING_ELIGIBILITY' : undefined);
  const statusReads = new StatusReadBudget(carried.recentStatusReads);
  outbox.start();

  // What the outside world tells the workflow, kept until the process is ready to act on it.
  let terms: { source: TermsSource; at: string } | undefined =
    carried.terms ?? (state.termsSignedAt ? { source: state.termsSource!, at: state.termsSignedAt } : undefined);
  let attention: string | undefined;
  let offboarded: string | undefined;
  // A discovery's list is as fresh as a read: only a new onboarding's first check takes it (its
  // status, its numbers), and only its first Intent request counts the discovery's join.
  let listedStatus = input.carriedOver ? undefined : input.listedStatus;
  let listedNumbers = input.carriedOver ? undefined : input.listedNumbers;
  let intentJoined = !input.carriedOver && input.intentJoined === true;
  let recheckRequests = 0;
  let recheckServed = 0;
  let intent: IntentRequestedSignal | undefined;
  let signupInProgress = false;
  let cancelReason: string | undefined;
  const onboardingScope = new CancellationScope();

  // ---- messages -----------------------------------------------------------------------------------
  setHandler(getStateQuery, () => state);

  setHandler(termsSignedSignal, ({ source, at }) => {
    // The first source wins; duplicates and the legacy echo of the same signing change nothing.
    terms ??= { source, at: at ?? new Date().toISOString() };
  });

  setHandler(accountEventSignal, ({ event, detail, banState }) => {
    if (isFinal()) return;
    const reason = detail ? `${event}: ${detail}` : event;
    if ((OFFBOARDING_EVENTS as readonly string[]).includes(event) && patched('offboarding-ends-onboarding')) {
      offboarded ??= reason;
      return;
    }
    if (event === 'DISABLED_UPDATE' && banState === 'REINSTATE' && patched('reinstatement-resumes')) {
      // The ban is lifted: a parked onboarding reads Meta's status at once, as a recheck would. Meta
      // repeats deliveries for days: the WABA's daily read budget bounds what the repeats can cost.
      if (state.status === 'NEEDS_ATTENTION' && statusReads.hasRoom(Date.now())) recheckRequests++;
      return;
    }
    attention = reason;
  });

  setHandler(getTemplatesQuery, () => templateBook());

  setHandler(templateStatusSignal, (change) => {
    if (isFinal()) return;
    applyTemplateStatus(templates, change, new Date().toISOString());
  });

  setHandler(
    recordTemplateSendUpdate,
    ({ name, language, record }) => {
      const template = findTemplate(templates, name, language)!;
      recordSend(template, record, new Date().toISOString());
      return { recorded: record, template: viewTemplate(template, templateBook(), Date.now()) };
    },
    {
      // A refused update leaves nothing in history: only sends that change something cost a write.
      validator: ({ name, language, record }: TemplateSendRequest) => {
        const template = findTemplate(templates, name, language);
        if (!template) throw new Error(`no marketing template ${name} (${language}) is tracked for this WABA`);
        const due = sendRecordDue(template, templateBook(), Date.now());
        if (due !== record) throw new Error(due === undefined ? 'nothing to record for this send' : `this send must record a ${due}, not a ${record}`);
      },
    },
  );

  setHandler(
    setSettingsUpdate,
    ({ messageActivitySharing }) => {
      if (messageActivitySharing === null) delete state.messageActivitySharing;
      else state.messageActivitySharing = messageActivitySharing;
      return state;
    },
    {
      validator: (_settings: SettingsRequest) => {
        if (isFinal()) throw new Error(`the onboarding has ended (${state.status})`);
      },
    },
  );

  setHandler(intentRequestedSignal, (signal) => {
    intent = signal;
  });

  setHandler(
    submitSignupCodeUpdate,
    async (code) => {
      signupInProgress = true;
      try {
        await exchangeSignupCode(code);
      } finally {
        signupInProgress = false;
      }
      return state;
    },
    {
      validator: (_code: SignupCodeUpdate) => {
        if (state.path !== 'embedded_signup') throw new Error(`this onboarding follows the ${state.path} path, not embedded_signup`);
        if (isFinal()) throw new Error(`the onboarding has ended (${state.status})`);
        if (carried.signupDone) throw new Error('Embedded Signup is already complete for this WABA');
        if (signupInProgress) throw new Error('another signup code is being exchanged right now');
      },
    },
  );

  setHandler(
    recheckUpdate,
    async () => {
      const ticket = ++recheckRequests;
      await condition(() => recheckServed >= ticket || isFinal());
      return state;
    },
    {
      validator: () => {
        if (isFinal()) throw new Error(`the onboarding has ended (${state.status})`);
        if (!statusReads.hasRoom(Date.now())) {
          throw new Error(`this WABA's daily budget of Graph status reads is spent; try after ${new Date(statusReads.nextAllowedAt()).toISOString()}`);
        }
      },
    },
  );

  setHandler(
    cancelUpdate,
    async (request) => {
      cancelReason = request.reason ?? 'cancelled by the partner';
      onboardingScope.cancel();
      await condition(() => state.status === 'CANCELLED');
      return state;
    },
    {
      validator: (_request: CancelRequest) => {
        if (isFinal()) throw new Error(`the onboarding has already ended (${state.status})`);
      },
    },
  );

  // ---- the process --------------------------------------------------------------------------------
  try {
    await onboardingScope.run(() => onboardFrom(input.carriedOver ? state.status : undefined));
  } catch (err) {
    if (err instanceof Expired) {
      record.moveTo('EXPIRED', `the terms were not signed within ${options.termsDeadlineSeconds} s`);
    } else if (err instanceof Offboarded) {
      record.moveTo('OFFBOARDED', err.message);
    } else if (isCancellation(err)) {
      await CancellationScope.nonCancellable(async () => {
        record.moveTo('CANCELLED', cancelReason ?? 'the workflow was cancelled');
      });
    } else {
      throw err;
    }
  }
  // Final: the partner still hears about it before the run closes.
  await CancellationScope.nonCancellable(async () => {
    await outbox.drained();
    await condition(allHandlersFinished);
  });
  return state;

  /** Runs the onboarding; after NEEDS_ATTENTION and a recheck, again from a fresh reading. */
  async function onboardFrom(resumeAt: OnboardingState['status'] | undefined): Promise<void> {
    // Ceiling: a pass starts only on the first run or after a recheck (awaitOperator), and every
    // recheck is answered by the first read of its pass, failing or not: one pass per recheck.
    for (;;) {
      try {
        if (resumeAt === 'NEEDS_ATTENTION') {
          resumeAt = undefined;
          await awaitOperator();
          continue;
        }
        const from = resumeAt;
        resumeAt = undefined;
        if (await onboardOnce(from)) return;
      } catch (err) {
        if (!(err instanceof NeedsAttention)) throw err;
        record.moveTo('NEEDS_ATTENTION', err.message);
        // The failed read answers the rechecks that asked for it, with the state it left: parked with
        // the new reason. Unanswered, they would start the next pass at once, and so on for ever.
        if (err instanceof StatusReadFailed && patched(RECHECK_ANSWERED_BY_FAILING_READ)) {
          recheckServed = Math.max(recheckServed, err.answersRechecksUpTo);
        }
        await awaitOperator();
      }
    }
  }

  /** One pass: eligibility → path → terms → grace → READY → watching. Returns true when the onboarding has ended. */
  async function onboardOnce(resumeAt?: OnboardingState['status']): Promise<boolean> {
    if (resumeAt !== 'AWAITING_TERMS' && resumeAt !== 'READY') {
      record.moveTo('CHECKING_ELIGIBILITY');
      const verdict = await checkEligibility();
      if (verdict.kind === 'ineligible') {
        record.moveTo('INELIGIBLE', verdict.reason);
        return true;
      }
      if (verdict.kind !== 'onboarded' && !terms) {
        await followPath();
        if (!terms) record.moveTo('AWAITING_TERMS');
        await awaitTermsSigned();
      }
    } else if (resumeAt === 'AWAITING_TERMS') {
      await awaitTermsSigned();
    }
    if (resumeAt !== 'READY') {
      markTermsSigned();
      carried.syncingSince = Date.now();
      record.moveTo('SYNCING_TEMPLATES', 'waiting for Meta to sync marketing templates to the ad account');
      await waitFor(() => false, options.templateSyncGraceSeconds);
      state.readyAt = new Date().toISOString();
      carried.syncingSince = undefined;
      record.moveTo('READY');
    }
    if (carried.templatesListedAt !== state.readyAt && (startContract >= 1 || patched('track-templates'))) await listTemplates();
    await watchAccount();
    return false; // unreachable: watching ends only by an exception (attention, cancel, continue-as-new)
  }

  /** Reads Meta's status until it says something final; waits out PENDING_* with backoff. */
  async function checkEligibility(): Promise<Exclude<EligibilityVerdict, { kind: 'wait' }>> {
    let delay: number | undefined;
    // Ceiling: backed-off reads (doubling up to a day) within the daily read budget, until the deadline.
    for (;;) {
      const verdict = listedStatus === undefined ? await readStatus() : takeListedStatus(listedStatus);
      if (verdict.kind === 'intent_only' && state.path !== 'intent') {
        return { kind: 'ineligible', reason: `${verdict.reason}; start it again with path "intent"` };
      }
      if (verdict.kind !== 'wait') {
        if (verdict.kind === 'eligible' || verdict.kind === 'intent_only') await requireCloudApiNumber();
        return verdict;
      }
      record.explain(verdict.reason);
      let recheck: boolean;
      do {
        delay = nextPollDelaySeconds(delay, options.statusPollIntervalSeconds);
        recheck = await waitFor(() => terms !== undefined || rechecksPending(), delay, { expires: true });
        if (terms) return { kind: 'onboarded' };
        // Backed-off polls stay within the WABA's daily budget too; an operator's recheck always reads.
      } while (!recheck && !statusReads.hasRoom(Date.now()) && patched(RECHECK_ANSWERED_BY_FAILING_READ));
    }
  }

  /** The status a discovery listed the WABA with, used once in place of a read. */
  function takeListedStatus(status: string): EligibilityVerdict {
    listedStatus = undefined;
    state.eligibility = status;
    return readOnboardingStatus(status, 'marketing_messages_onboarding_status');
  }

  async function requireCloudApiNumber(): Promise<void> {
    const listed = listedNumbers;
    listedNumbers = undefined;
    const numbers =
      listed ?? (await graph(() => onboardingActivities.checkCloudApiNumbers({ wabaId: state.wabaId, sealedToken: carried.sealedToken })));
    if (numbers.registered > 0) return;
    const seen = numbers.others.map((n) => `${n.displayPhoneNumber ?? n.id} (${n.platformType ?? 'unknown platform'})`);
    throw new NeedsAttention(
      'no phone number of this WABA is registered on Cloud API; MM API reuses the Cloud API registration' +
        (seen.length ? `. Numbers found: ${seen.join(', ')}` : '. The WABA has no phone numbers'),
    );
  }

  async function followPath(): Promise<void> {
    switch (state.path) {
      case 'intent':
        return requestIntent();
      case 'embedded_signup':
        return awaitSignup();
      case 'manual':
        return; // the business accepts the terms in WhatsApp Manager or the App Dashboard
    }
  }

  /** One Intent API request per business, shared by all its WABAs through the business's workflow. */
  async function requestIntent(): Promise<void> {
    record.moveTo('REQUESTING_INTENT', 'asking Meta to email the business admins the MM API terms');
    const join = () =>
      onboardingActivities.joinBusinessIntent({ businessId: state.businessId, wabaId: state.wabaId, solutionId: options.solutionId });
    // The discovery that started this WABA joined it already (its answer may even be here).
    let joinedByDiscovery = intentJoined;
    intentJoined = false;
    if (!joinedByDiscovery) {
      intent = undefined;
      await join();
    }
    // Ceiling: one read and at most one join per recheck (and the first join), until the deadline.
    do {
      await waitFor(() => intent !== undefined || terms !== undefined || rechecksPending(), undefined, { expires: true });
      if (rechecksPending()) {
        await readStatusForTerms();
        // No answer from the business yet: the discovery's join may never have landed (its page failed
        // for good), or the business could not tell this WABA. A recheck joins again and hears it.
        if (intent === undefined && !terms && (joinedByDiscovery || patched(PATCH_RECHECK_JOINS_INTENT))) {
          joinedByDiscovery = false;
          await join();
        }
      }
    } while (intent === undefined && !terms);
    if (terms) return;
    if (intent!.error) throw new NeedsAttention(`Intent API request failed: ${intent!.error}`);
    state.intentRequestId = intent!.requestId;
  }

  async function awaitSignup(): Promise<void> {
    // A code handed over with the start (update-with-start) may still be in the exchange: it never waits.
    if (!carried.signupDone && signupInProgress && patched(PATCH_SIGNUP_WITH_START)) {
      await waitFor(() => !signupInProgress, undefined, { expires: true });
    }
    if (carried.signupDone) return;
    record.moveTo('AWAITING_SIGNUP', 'waiting for the Embedded Signup code from the partner');
    // Ceiling: one read per recheck, until the deadline.
    do {
      await waitFor(() => carried.signupDone === true || terms !== undefined || rechecksPending(), undefined, { expires: true });
      if (rechecksPending()) await readStatusForTerms();
    } while (!carried.signupDone && !terms);
  }

  /** Reads Meta's status while waiting for the terms; ONBOARDED means they were signed. */
  async function readStatusForTerms(): Promise<EligibilityVerdict> {
    const verdict = await readStatus();
    if (verdict.kind === 'onboarded') terms ??= { source: 'poll', at: new Date().toISOString() };
    return verdict;
  }

  /**
   * Runs inside the update handler: the code lives 30 s, so it is exchanged the moment it arrives.
   * The token's permissions are checked before it is used: without both WhatsApp permissions for
   * this WABA the onboarding needs attention (the customer signs up again and grants them).
   */
  async function exchangeSignupCode({ sealedCode }: SignupCodeUpdate): Promise<void> {
    try {
      const { sealedToken } = await graph(() => onboardingActivities.exchangeSignupCode({ sealedCode }));
      if (patched(PATCH_SIGNUP_PERMISSIONS)) {
        const permissions = await graph(() => onboardingActivities.checkTokenPermissions({ wabaId: state.wabaId, sealedToken }));
        state.insightsAvailable = permissions.insightsAvailable;
        state.missingPermissions = permissions.missing.length ? permissions.missing : undefined;
        if (!permissions.valid || permissions.missing.length) {
          throw new NeedsAttention(
            permissions.valid
              ? `the Embedded Signup token lacks ${permissions.missing.join(' and ')} for this WABA; the customer must complete Embedded Signup again and grant it`
              : 'Meta says the Embedded Signup token is not valid; the customer must complete Embedded Signup again',
          );
        }
      }
      carried.sealedToken = sealedToken;
      await graph(() => onboardingActivities.subscribeApp({ wabaId: state.wabaId, sealedToken }));
      carried.signupDone = true;
      state.signupCompletedAt = new Date().toISOString();
      if (state.status === 'AWAITING_SIGNUP') record.explain('Embedded Signup complete; waiting for the terms');
      // Parked (e.g. for a permission the first signup lacked): a good signup is the fix, so go on.
      if (state.status === 'NEEDS_ATTENTION' && patched(PATCH_SIGNUP_PERMISSIONS)) recheckRequests++;
    } catch (err) {
      const rejection = signupCodeRejection(err);
      if (rejection === undefined) {
        if (!(err instanceof NeedsAttention)) throw err;
        if (state.status === 'NEEDS_ATTENTION') {
          record.explain(err.message);
          return;
        }
        // The process, waiting for the signup, parks in NEEDS_ATTENTION; answer once it has.
        attention ??= err.message;
        await condition(() => attention === undefined || state.status === 'NEEDS_ATTENTION' || isFinal());
        return;
      }
      record.explain(`Meta rejected the Embedded Signup code (${rejection}); waiting for a fresh code`);
    }
  }

  /** Ends on the first of: the terms webhook, its legacy twin, a poll that reads ONBOARDED, or the deadline. */
  async function awaitTermsSigned(): Promise<void> {
    let delay: number | undefined;
    // Ceiling: backed-off polls (doubling up to a day) within the daily read budget, until the deadline.
    while (!terms) {
      delay = nextPollDelaySeconds(delay, options.statusPollIntervalSeconds);
      const recheck = await waitFor(() => terms !== undefined || rechecksPending(), delay, { expires: true, mayContinueAsNew: true });
      if (terms) return;
      // Backed-off polls stay within the WABA's daily budget; an operator's recheck always reads.
      if (!recheck && !statusReads.hasRoom(Date.now())) continue;
      const verdict = await readStatusForTerms();
      if (verdict.kind !== 'onboarded') record.explain(verdict.kind === 'eligible' ? undefined : verdict.reason);
    }
  }

  function markTermsSigned(): void {
    terms ??= { source: 'poll', at: new Date().toISOString() }; // ONBOARDED at the first check
    state.termsSignedAt ??= terms.at;
    state.termsSource ??= terms.source;
  }

  /** From READY on, the WABA's approved marketing templates are tracked; webhooks keep them current. */
  async function listTemplates(): Promise<void> {
    const startedAt = new Date().toISOString();
    const listed = await graph(() => onboardingActivities.listMarketingTemplates({ wabaId: state.wabaId, sealedToken: carried.sealedToken }));
    templates.splice(0, templates.length, ...mergeListing(templates, listed, startedAt, new Date().toISOString()));
    carried.templatesListedAt = state.readyAt;
  }

  /** What the send gate reads: the WABA's status and readiness facts, one query, no history event. */
  function templateBook(): TemplateBook {
    const syncingUntil =
      state.status === 'SYNCING_TEMPLATES' && carried.syncingSince !== undefined
        ? new Date(carried.syncingSince + options.templateSyncGraceSeconds * 1000).toISOString()
        : undefined;
    const readyAt = syncingUntil ?? state.readyAt;
    return {
      wabaId: state.wabaId,
      status: state.status,
      ...(readyAt ? { readyAt } : {}),
      ...(state.messageActivitySharing !== undefined ? { messageActivitySharing: state.messageActivitySharing } : {}),
      templateSyncGraceSeconds: options.templateSyncGraceSeconds,
      templateIdleSeconds: options.templateIdleSeconds,
      templates,
    };
  }

  /** After READY the run stays open for the account's lifecycle events. */
  async function watchAccount(): Promise<never> {
    // Ceiling: one read per recheck (each within the daily budget); idle otherwise.
    for (;;) {
      await waitFor(() => rechecksPending(), undefined, { mayContinueAsNew: true });
      const verdict = await readStatus();
      record.explain(verdict.kind === 'onboarded' ? undefined : `Meta now reports ${state.eligibility}`);
    }
  }

  async function awaitOperator(): Promise<void> {
    // Only a recheck asked for after the last read ends this wait (the read answered the ones before
    // it, failing or not); its answer is the fresh status read the next pass starts with.
    await waitFor(() => rechecksPending(), undefined, { mayContinueAsNew: true, ignoreAttention: true });
    attention = undefined;
  }

  // ---- mechanics ----------------------------------------------------------------------------------

  /**
   * Reads Meta's status field; every read, failing or not, answers the rechecks asked before it
   * began, and counts against the WABA's daily read budget. A read a recheck waits on is the short,
   * bounded one; a read the process makes on its own retries longer (both ceilings in graph-calls).
   */
  async function readStatus(): Promise<EligibilityVerdict> {
    const answers = recheckRequests;
    const ref = { wabaId: state.wabaId, sealedToken: carried.sealedToken };
    statusReads.record(Date.now());
    const fixed = rechecksPending() && patched(RECHECK_ANSWERED_BY_FAILING_READ);
    let read;
    try {
      read = await graph(() => (fixed ? onboardingActivities.readOnboardingStatusNow(ref) : onboardingActivities.readOnboardingStatus(ref)));
    } catch (err) {
      if (err instanceof NeedsAttention && !(err instanceof StatusReadFailed)) throw new StatusReadFailed(err.message, answers);
      throw err;
    }
    state.eligibility = read.status;
    recheckServed = Math.max(recheckServed, answers);
    return readOnboardingStatus(read.status, read.field);
  }

  function rechecksPending(): boolean {
    return recheckServed < recheckRequests;
  }

  function isFinal(): boolean {
    return FINAL_STATUSES.includes(state.status);
  }

  /**
   * Every long wait goes through here: it also breaks for account events (→ NEEDS_ATTENTION), the
   * deadline (→ EXPIRED) and, where the process can resume from the current status, continue-as-new.
   * Returns true when `done` became true, false on timeout.
   */
  async function waitFor(
    done: () => boolean,
    timeoutSeconds: number | undefined,
    opts: { expires?: boolean; mayContinueAsNew?: boolean; ignoreAttention?: boolean } = {},
  ): Promise<boolean> {
    const interrupted = () =>
      offboarded !== undefined || (!opts.ignoreAttention && attention !== undefined) || (opts.mayContinueAsNew === true && historyIsLong());
    let timeoutMs = timeoutSeconds === undefined ? undefined : timeoutSeconds * 1000;
    if (opts.expires) {
      const left = Math.max(0, carried.expiresAt - Date.now());
      timeoutMs = timeoutMs === undefined ? left : Math.min(timeoutMs, left);
    }
    const met = await (timeoutMs === undefined ? condition(() => done() || interrupted()).then(() => true) : condition(() => done() || interrupted(), timeoutMs));
    if (offboarded !== undefined) throw new Offboarded(offboarded);
    if (!opts.ignoreAttention && attention !== undefined) {
      const reason = attention;
      attention = undefined;
      throw new NeedsAttention(reason);
    }
    if (done()) return true;
    if (opts.mayContinueAsNew && historyIsLong()) await continueAsNewHere();
    if (!met && opts.expires && Date.now() >= carried.expiresAt) throw new Expired();
    return false;
  }

  function historyIsLong(): boolean {
    const info = workflowInfo();
    return info.historyLength > CONTINUE_AS_NEW_AFTER_EVENTS || info.continueAsNewSuggested;
  }

  async function continueAsNewHere(): Promise<never> {
    await condition(allHandlersFinished);
    carried.terms = terms; // a signal that landed in this run must not be lost with it
    return continueAsNew<typeof onboarding>({ ...input, carriedOver: carried });
  }
}
