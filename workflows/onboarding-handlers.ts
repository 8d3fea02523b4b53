/**
 * The onboarding's signal, update and query handlers: each writes to the run's inbox
 * (workflows/onboarding-inbox.ts) or to the WABA's own facts (templates, settings), or answers from them.
 */
import { condition, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  accountEventSignal,
  cancelUpdate,
  getInsightsAccessQuery,
  getStateQuery,
  getTemplateReadinessQuery,
  getTemplatesReadinessQuery,
  MAX_TEMPLATE_READS_PER_QUERY,
  getTemplatesQuery,
  intentRequestedSignal,
  MAX_SEND_RECORDS_PER_UPDATE,
  recordTemplateSendsUpdate,
  recheckUpdate,
  recordTemplateSendUpdate,
  setSettingsUpdate,
  submitSignupCodeUpdate,
  templateCategorySignal,
  templateStatusSignal,
  termsSignedSignal,
  type CancelRequest,
  type SettingsRequest,
  type SignupCodeUpdate,
  type TemplateSendRequest,
  type TemplateSendsRecorded,
  type TemplateSendsRequest,
} from './messages';
import { OFFBOARDING_EVENTS } from './types';
import { applyTemplateStatus, findTemplate, recordSend, sendRecordDue, viewTemplate, type TemplateChangeResult } from './template-readiness';
import { noteNotTracked } from './template-cap';
import type { OnboardingRun } from './onboarding-phases/run';
import { applyTemplateCategory } from './template-category';
import { listenForDriftChecks } from './drift-check';
import { attentionReasons } from './attention-reasons';

/** Sets the handlers: each writes to the inbox (or the WABA's facts), or answers from them. */
export function listen(run: OnboardingRun): void {
  const { state, inbox, process } = run;
  const ended = () => {
    if (run.isFinal()) throw new Error(`the onboarding has ended (${state.status})`);
  };

  setHandler(getStateQuery, () => state);
  setHandler(getTemplatesQuery, () => run.templateBook());
  setHandler(getTemplateReadinessQuery, ({ name, language }) => run.templateReadiness(name, language));
  setHandler(getTemplatesReadinessQuery, ({ templates }) => {
    if (templates.length > MAX_TEMPLATE_READS_PER_QUERY) throw new Error(`at most ${MAX_TEMPLATE_READS_PER_QUERY} templates a read, not ${templates.length}`);
    return run.templatesReadiness(templates);
  });
  setHandler(getInsightsAccessQuery, () => ({
    status: state.status,
    ...(state.insightsAvailable !== undefined ? { insightsAvailable: state.insightsAvailable } : {}),
    ...(process.sealedToken ? { sealedToken: process.sealedToken } : {}),
  }));

  setHandler(termsSignedSignal, ({ source, at }) => {
    const signedAt = at ?? new Date().toISOString();
    // Signed and recorded already (syncing, READY, or parked with the signing it went READY on): a
    // duplicate, the legacy echo, or a redelivery changes nothing. The first source of a signing wins.
    if (state.status === 'SYNCING_TEMPLATES' || state.status === 'READY' || inbox.terms) return;
    if (state.termsSignedAt !== undefined && !(Date.parse(signedAt) > Date.parse(state.termsSignedAt))) return;
    inbox.terms = { source, at: signedAt };
    // Parked (a drift check, an Intent request that failed, ...): Meta saying the terms are signed is
    // worth a fresh read, which resumes the onboarding when Meta says ONBOARDED.
    if (state.status === 'NEEDS_ATTENTION' && !run.rechecksPending() && run.statusReads.hasRoom(Date.now())) inbox.rechecks.asked++;
  });

  setHandler(intentRequestedSignal, (signal) => {
    inbox.intent = signal;
  });

  setHandler(accountEventSignal, ({ event, detail, banState }) => {
    if (run.isFinal()) return;
    const reason = attentionReasons.accountEvent(event, detail);
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
          throw new Error(`this WABA's daily budget of Graph status reads is spent; try after ${new Date(run.statusReads.nextAllowedAt(Date.now())).toISOString()}`);
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
      // Usually CANCELLED; but the run may end another way first (offboarded, expired, ineligible in
      // the same workflow task): the answer is then that ending, and the run can still close.
      await condition(() => run.isFinal());
      return state;
    },
    {
      validator: (_request: CancelRequest) => {
        if (run.isFinal()) throw new Error(`the onboarding has already ended (${state.status})`);
      },
    },
  );

  // ---- the WABA's own facts: its templates and settings, kept current whatever the phase ----------
  /** What a template webhook did: a change bumps the readiness version; an approved template that did not fit is said. */
  const changed = (result: TemplateChangeResult, t: { name: string; language: string }, nowIso: string) => {
    if (result === 'unchanged') return;
    if (result === 'not_tracked') {
      noteNotTracked(process, t, nowIso);
      run.record.describe();
    }
    run.readiness.bump();
  };

  setHandler(templateStatusSignal, (change) => {
    if (run.isFinal()) return;
    const now = new Date().toISOString();
    changed(applyTemplateStatus(process.templates, change, now), change, now);
  });

  setHandler(templateCategorySignal, (change) => {
    if (run.isFinal()) return;
    const now = new Date().toISOString();
    changed(applyTemplateCategory(process.templates, change, now), change, now);
  });

  listenForDriftChecks(run);

  /** Why this send record is not due now, or undefined when it is. */
  const notDue = ({ name, language, record }: TemplateSendRequest): string | undefined => {
    const template = findTemplate(process.templates, name, language);
    if (!template) return `no marketing template ${name} (${language}) is tracked for this WABA`;
    const due = sendRecordDue(template, run.bookHeader(), Date.now());
    if (due !== record) return due === undefined ? 'nothing to record for this send' : `this send must record a ${due}, not a ${record}`;
    return undefined;
  };

  setHandler(
    recordTemplateSendUpdate,
    ({ name, language, record }) => {
      const template = findTemplate(process.templates, name, language)!;
      recordSend(template, record, new Date().toISOString());
      run.readiness.bump();
      return { recorded: record, template: viewTemplate(template, run.bookHeader(), Date.now()) };
    },
    {
      // A refused update leaves nothing in history, though Temporal Cloud bills it like an accepted one.
      validator: (send: TemplateSendRequest) => {
        const why = notDue(send);
        if (why) throw new Error(why);
      },
    },
  );

  setHandler(
    recordTemplateSendsUpdate,
    ({ sends }): TemplateSendsRecorded => {
      const now = new Date().toISOString();
      const results = sends.map((send): TemplateSendsRecorded['results'][number] => {
        const { name, language, record } = send;
        const why = notDue(send); // an earlier record in this batch may have made a duplicate not due
        if (why) return { name, language, refused: why };
        const template = findTemplate(process.templates, name, language)!;
        recordSend(template, record, now);
        return { name, language, recorded: record, template: viewTemplate(template, run.bookHeader(), Date.now()), tracked: { ...template } };
      });
      run.readiness.bump();
      return { runId: workflowInfo().runId, version: run.readiness.value, results };
    },
    {
      // Refused (billed, no history event) only when nothing in the batch is due, or it is malformed.
      validator: (request: TemplateSendsRequest) => {
        const sends: unknown = request?.sends;
        if (!Array.isArray(sends) || sends.length === 0 || sends.length > MAX_SEND_RECORDS_PER_UPDATE) {
          throw new Error(`sends must list 1 to ${MAX_SEND_RECORDS_PER_UPDATE} send records`);
        }
        for (const s of sends as TemplateSendRequest[]) {
          if (typeof s?.name !== 'string' || typeof s.language !== 'string' || (s.record !== 'resync' && s.record !== 'refresh')) {
            throw new Error('each send record needs a name, a language and a record (resync or refresh)');
          }
        }
        const whyNot = (sends as TemplateSendRequest[]).map(notDue);
        if (whyNot.every((why) => why !== undefined)) throw new Error(`nothing to record: ${[...new Set(whyNot)].slice(0, 3).join('; ')}`);
      },
    },
  );

  setHandler(
    setSettingsUpdate,
    ({ messageActivitySharing }) => {
      if (messageActivitySharing === null) delete state.messageActivitySharing;
      else state.messageActivitySharing = messageActivitySharing;
      run.readiness.bump(); // sends carry it
      return state;
    },
    { validator: (_settings: SettingsRequest) => ended() },
  );
}
