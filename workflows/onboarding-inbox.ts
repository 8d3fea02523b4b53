/**
 * The onboarding's inbox: everything the outside world tells it, kept until the process is ready to
 * act on it. Signal, update and query handlers only write to the inbox (or to the WABA's own facts:
 * templates and settings) and answer from it; the phases (workflows/onboarding-phases/) read it when
 * they wake. A run that continues as new hands its inbox to the next, by type (`CarriedOver`).
 */
import { condition, setHandler } from '@temporalio/workflow';
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
import { OFFBOARDING_EVENTS, type CloudApiNumbers, type OnboardingInput, type TermsSource } from './types';
import { applyTemplateStatus, findTemplate, recordSend, sendRecordDue, viewTemplate } from './template-readiness';
import type { OnboardingRun } from './onboarding-phases/run';

export interface OnboardingInbox {
  /** The terms are signed: the first source heard wins (webhook, its legacy twin, or a read of ONBOARDED). */
  terms?: { source: TermsSource; at: string };
  /** The business's intent workflow says its Intent API request stands (or failed). */
  intent?: IntentRequestedSignal;
  /** An account event a person must look at (restriction, violation, ban), not acted on yet. */
  attention?: string;
  /** The WABA is gone for this service (partner removed, offboarded, deleted): the onboarding ends. */
  offboarded?: string;
  /** Rechecks asked for (by an operator, a REINSTATE or a good signup while parked) and answered by a status read. */
  rechecks: { asked: number; answered: number };
  /** The Embedded Signup code being exchanged right now (it lives 30 s: exchanged the moment it lands). */
  signup?: SignupCodeUpdate;
  /** Why the partner cancelled. */
  cancelReason?: string;
  /**
   * What the discovery that started this WABA already knew, each taken once by the first pass: its
   * status and numbers as its page listed them, and that it put the WABA on its business's Intent request.
   */
  discovery?: { status?: string; numbers?: CloudApiNumbers; joinedIntent?: boolean };
}

/** A new onboarding's inbox: empty, but for what its discovery knew. */
export function newInbox(input: OnboardingInput): OnboardingInbox {
  const { listedStatus: status, listedNumbers: numbers, intentJoined } = input;
  const discovery = { ...(status !== undefined ? { status } : {}), ...(numbers ? { numbers } : {}), ...(intentJoined ? { joinedIntent: true } : {}) };
  return { rechecks: { asked: 0, answered: 0 }, ...(Object.keys(discovery).length ? { discovery } : {}) };
}

/** Sets the handlers: each writes to the inbox (or the WABA's facts), or answers from them. */
export function listen(run: OnboardingRun): void {
  const { state, inbox, process } = run;
  const ended = () => {
    if (run.isFinal()) throw new Error(`the onboarding has ended (${state.status})`);
  };

  setHandler(getStateQuery, () => state);
  setHandler(getTemplatesQuery, () => run.templateBook());

  setHandler(termsSignedSignal, ({ source, at }) => {
    // The first source wins; duplicates and the legacy echo of the same signing change nothing.
    inbox.terms ??= { source, at: at ?? new Date().toISOString() };
  });

  setHandler(intentRequestedSignal, (signal) => {
    inbox.intent = signal;
  });

  setHandler(accountEventSignal, ({ event, detail, banState }) => {
    if (run.isFinal()) return;
    const reason = detail ? `${event}: ${detail}` : event;
    if ((OFFBOARDING_EVENTS as readonly string[]).includes(event)) {
      inbox.offboarded ??= reason;
    } else if (event === 'DISABLED_UPDATE' && banState === 'REINSTATE') {
      // The ban is lifted: a parked onboarding reads Meta's status at once, as a recheck would. Meta
      // repeats deliveries for days: the WABA's daily read budget bounds what the repeats can cost.
      if (state.status === 'NEEDS_ATTENTION' && run.statusReads.hasRoom(Date.now())) inbox.rechecks.asked++;
    } else {
      inbox.attention = reason;
    }
  });

  setHandler(
    recheckUpdate,
    async () => {
      const ticket = ++inbox.rechecks.asked;
      await condition(() => inbox.rechecks.answered >= ticket || run.isFinal());
      return state;
    },
    {
      validator: () => {
        ended();
        if (!run.statusReads.hasRoom(Date.now())) {
          throw new Error(`this WABA's daily budget of Graph status reads is spent; try after ${new Date(run.statusReads.nextAllowedAt()).toISOString()}`);
        }
      },
    },
  );

  setHandler(
    submitSignupCodeUpdate,
    async (code) => {
      // The signup desk (onboarding-phases/signup.ts) exchanges it, whatever phase the process is in.
      inbox.signup = code;
      await condition(() => inbox.signup === undefined);
      return state;
    },
    {
      validator: (_code: SignupCodeUpdate) => {
        if (state.path !== 'embedded_signup') throw new Error(`this onboarding follows the ${state.path} path, not embedded_signup`);
        ended();
        if (process.signupDone) throw new Error('Embedded Signup is already complete for this WABA');
        if (inbox.signup) throw new Error('another signup code is being exchanged right now');
      },
    },
  );

  setHandler(
    cancelUpdate,
    async (request) => {
      inbox.cancelReason = request.reason ?? 'cancelled by the partner';
      run.scope.cancel();
      await condition(() => state.status === 'CANCELLED');
      return state;
    },
    {
      validator: (_request: CancelRequest) => {
        if (run.isFinal()) throw new Error(`the onboarding has already ended (${state.status})`);
      },
    },
  );

  // ---- the WABA's own facts: its templates and settings, kept current whatever the phase ----------
  setHandler(templateStatusSignal, (change) => {
    if (!run.isFinal()) applyTemplateStatus(process.templates, change, new Date().toISOString());
  });

  setHandler(
    recordTemplateSendUpdate,
    ({ name, language, record }) => {
      const template = findTemplate(process.templates, name, language)!;
      recordSend(template, record, new Date().toISOString());
      return { recorded: record, template: viewTemplate(template, run.templateBook(), Date.now()) };
    },
    {
      // A refused update leaves nothing in history: only sends that change something cost a write.
      validator: ({ name, language, record }: TemplateSendRequest) => {
        const template = findTemplate(process.templates, name, language);
        if (!template) throw new Error(`no marketing template ${name} (${language}) is tracked for this WABA`);
        const due = sendRecordDue(template, run.templateBook(), Date.now());
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
    { validator: (_settings: SettingsRequest) => ended() },
  );
}
