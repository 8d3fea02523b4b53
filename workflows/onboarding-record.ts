import { setCurrentDetails, upsertMemo, upsertSearchAttributes, uuid4, workflowInfo } from '@temporalio/workflow';
import type { OnboardingState, OnboardingStatus, TemplatesNotTracked } from './types';
import { MAX_TRACKED_TEMPLATES } from './template-cap';
import { BusinessIdKey, OnboardingPathKey, OnboardingStatusKey, RetiredStatusReasonKey, WabaIdKey } from '../temporal/search-attributes';
import { memoReason, STATUS_REASON_MEMO } from '../temporal/memo-fields';
import { triageAttributes } from './triage-attributes';
import { attentionKindOf } from './attention-kinds';
import type { PartnerCallbackOutbox } from './partner-callback-outbox';
import { countStatusMove, moveFrom } from './funnel-metrics';

/** Enough to read a long life without letting the state grow without bound across continue-as-new. */
const HISTORY_LIMIT = 200;

/**
 * The one place an onboarding's status changes: it records the history, updates the search
 * attributes, the reason list rows read (the memo) and the Temporal UI's current details, queues
 * the partner callback, and counts the change on the workers' metrics (funnel-metrics.ts).
 */
export class OnboardingRecord {
  constructor(
    readonly state: OnboardingState,
    private readonly outbox: PartnerCallbackOutbox,
    /** Approved templates the onboarding could not track: shown, never silent (workflows/template-cap.ts). */
    private readonly notTracked?: () => TemplatesNotTracked | undefined,
  ) {}

  get status(): OnboardingStatus {
    return this.state.status;
  }

  moveTo(status: OnboardingStatus, reason?: string): void {
    const { state } = this;
    const previousStatus = state.history.length ? state.status : null;
    const at = new Date().toISOString();
    const leaving = moveFrom(state.history, state.status);
    state.status = status;
    state.statusReason = reason;
    state.history.push(reason ? { status, at, reason } : { status, at });
    if (state.history.length > HISTORY_LIMIT) state.history.splice(0, state.history.length - HISTORY_LIMIT);
    // Written only when they change: the start already wrote CHECKING_ELIGIBILITY's (start-options.ts).
    const attributes = [
      { key: OnboardingStatusKey, value: status },
      { key: WabaIdKey, value: state.wabaId },
      { key: BusinessIdKey, value: state.businessId },
      { key: OnboardingPathKey, value: state.path },
    ];
    const written = workflowInfo().typedSearchAttributes;
    // Only these four decide whether to write (as before the triage attributes existed): the triage
    // attributes ride along in the same upsert, so no run gains a command (test/histories replay).
    if (attributes.some(({ key, value }) => written.get(key) !== value)) {
      upsertSearchAttributes([...attributes, ...triageAttributes(state, at)]);
    }
    this.listReason();
    this.outbox.enqueue({
      id: uuid4(),
      type: 'onboarding.status_changed',
      wabaId: state.wabaId,
      businessId: state.businessId,
      status,
      previousStatus,
      ...(reason ? { reason } : {}),
      at,
    });
    this.describe();
    countStatusMove({ ...leaving, path: state.path, to: status, at });
  }

  /** A new reason within the same status (e.g. a rejected signup code): no history entry, no callback. */
  explain(reason: string | undefined): void {
    this.state.statusReason = reason;
    this.listReason();
    this.describe();
  }

  /**
   * A run carried over from an earlier run: the Web UI's details again, and what list rows read brought
   * up to date. An older build's run hands over neither the reason in the memo (Temporal passes on the
   * memo a run started with) nor a visibility row PostgreSQL can store (the retired Text attribute).
   */
  resume(): void {
    if (workflowInfo().typedSearchAttributes.get(RetiredStatusReasonKey) !== undefined) {
      upsertSearchAttributes([{ key: RetiredStatusReasonKey, value: null }]);
    }
    this.listReason();
    this.describe();
  }

  /**
   * The reason a list row shows, in the memo (never indexed: any text is safe), written when it
   * changes; a status's standing reason is not written (list rows know it: temporal/memo-fields.ts).
   */
  private listReason(): void {
    const listed = memoReason(this.state.status, this.state.statusReason);
    if (workflowInfo().memo?.[STATUS_REASON_MEMO] !== listed) upsertMemo({ [STATUS_REASON_MEMO]: listed });
  }

  describe(): void {
    const s = this.state;
    // Short lines: the Web UI's details panel cuts a long first line off. The status (and, parked,
    // the reason kind the list can be filtered by) stand alone; the reason has a paragraph of its own.
    const lines = [
      `**${s.status}**${s.status === 'NEEDS_ATTENTION' ? ` · ${attentionKindOf(s.statusReason)}` : ''}`,
      ...(s.statusReason ? [s.statusReason] : []),
      `WABA ${s.wabaId} · business ${s.businessId} · path ${s.path}`,
    ];
    if (s.eligibility) lines.push(`onboarding status on Meta: ${s.eligibility}`);
    if (s.termsSignedAt) lines.push(`terms signed ${s.termsSignedAt} (${s.termsSource})`);
    if (s.readyAt) lines.push(`ready since ${s.readyAt}`);
    if (s.lastDriftCheck) lines.push(`last drift check ${s.lastDriftCheck.at}: Meta says ${s.lastDriftCheck.metaStatus}`);
    const notTracked = this.notTracked?.();
    if (notTracked) {
      lines.push(`${notTracked.count} approved template(s) not tracked (more than ${MAX_TRACKED_TEMPLATES}), the last ${notTracked.last.name} (${notTracked.last.language}) at ${notTracked.last.at}`);
    }
    if (s.callbackFailure) {
      lines.push(`partner callback ${s.callbackFailure.eventId} refused with HTTP ${s.callbackFailure.status}`);
    }
    setCurrentDetails(lines.join('\n\n'));
  }
}
