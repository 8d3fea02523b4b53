/**
 * Everything that can be said to, or asked of, the onboarding workflows. The API and the webhook
 * receiver import these definitions; the workflows implement them.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AccountAttentionEvent, BusinessIntentState, OnboardingState, OnboardingStatus, TemplateBook, TemplateReadinessRead, TemplatesReadinessRead, TrackedTemplate } from './types';
import type { SendRecord, TemplateStatusChange, TemplateView } from './template-readiness';
import type { DiscoveryState } from './discovery-types';
import type { BulkRecheckState } from './bulk-recheck-types';
import type { TemplateCategoryChange } from './template-category';
import type { ReleaseState } from './release-types';

export interface TermsSignedSignal {
  source: 'webhook' | 'legacy_webhook';
  /** The webhook entry's `time`, ISO 8601, when Meta gave one. */
  at?: string;
  /** Legacy AD_ACCOUNT_LINKED only: read-only background metadata. */
  adAccountId?: string;
}
/** `MM_LITE_TERMS_SIGNED` or the legacy `AD_ACCOUNT_LINKED` arrived for this WABA. */
export const termsSignedSignal = defineSignal<[TermsSignedSignal]>('termsSigned');

export interface AccountEventSignal {
  event: AccountAttentionEvent;
  /** Human-readable detail from the webhook (restriction type, ban state, ...). */
  detail?: string;
  /** DISABLED_UPDATE only: `ban_info.waba_ban_state` (DISABLE, REINSTATE, ...). */
  banState?: string;
  at?: string;
}
/** A restriction, ban or offboarding event for this WABA. */
export const accountEventSignal = defineSignal<[AccountEventSignal]>('accountEvent');

export interface IntentRequestedSignal {
  businessId: string;
  requestId?: string;
  /** Set when Meta refused the request in a way a person must fix. */
  error?: string;
}
/** From the business's intent workflow: the Intent API request stands (or failed). */
export const intentRequestedSignal = defineSignal<[IntentRequestedSignal]>('intentRequested');

/** Either a code for the desk to exchange, or the token the API already exchanged it for (and checked). */
export type SignupCodeUpdate = {
  phoneNumberId?: string;
} & (
  | {
      /** The Embedded Signup OAuth code, sealed (secrets/sealing.ts) so history never holds it. */
      sealedCode: string;
      sealedToken?: undefined;
    }
  | {
      /** The token the code was exchanged for before anything started (api/signup/signup-preflight.ts), sealed. */
      sealedToken: string;
      sealedCode?: undefined;
    }
);
/** Hands over the Embedded Signup code; resolves once it has been exchanged (or rejected). */
export const submitSignupCodeUpdate = defineUpdate<OnboardingState, [SignupCodeUpdate]>('submitSignupCode');

/** Re-reads the status from Graph now; also resumes an onboarding parked in NEEDS_ATTENTION. */
export const recheckUpdate = defineUpdate<OnboardingState, []>('recheck');

/** Cancels the onboarding: its status becomes CANCELLED. */
export const cancelUpdate = defineUpdate<OnboardingState, [CancelRequest]>('cancel');
export interface CancelRequest {
  reason?: string;
}

export const getStateQuery = defineQuery<OnboardingState>('getState');

/** What an insights read needs of the onboarding: its status, `ads_read`, the signup's token (sealed; no history event). */
export interface InsightsAccess {
  status: OnboardingStatus;
  insightsAvailable?: boolean;
  sealedToken?: string;
}
export const getInsightsAccessQuery = defineQuery<InsightsAccess>('getInsightsAccess');

/** A `message_template_status_update` webhook for one of the WABA's templates. */
export const templateStatusSignal = defineSignal<[TemplateStatusChange]>('templateStatus');

/** The whole template book (no history event; a query is still a billed action): the template routes read it. */
export const getTemplatesQuery = defineQuery<TemplateBook>('getTemplates');

export interface TemplateRef {
  name: string;
  language: string;
}
/** What one send needs to decide: the WABA's facts and that one template, stamped (types.ts, TemplateReadinessRead). */
export const getTemplateReadinessQuery = defineQuery<TemplateReadinessRead, [TemplateRef]>('getTemplateReadiness');
/** At most this many templates in one `getTemplatesReadiness` (each a tracked template, well under 1 KB). */
export const MAX_TEMPLATE_READS_PER_QUERY = 100;
/**
 * The sends of one WABA that read at the same moment (a burst of first sends across its templates):
 * one query for all of them, where one a template queued 50 queries on the run (each billed).
 */
export const getTemplatesReadinessQuery = defineQuery<TemplatesReadinessRead, [{ templates: TemplateRef[] }]>('getTemplatesReadiness');

export interface TemplateSendRequest {
  name: string;
  language: string;
  /** What the gate believes is due; the workflow decides with its own state. */
  record: SendRecord;
}
export interface TemplateSendRecorded {
  /** `resync`: this send is the first after an idle window and starts Meta's re-sync. */
  recorded: SendRecord;
  template: TemplateView;
}
/**
 * One send record at a time: what builds before `recordTemplateSends` were asked, still answered for an
 * API process of such a build. The validator refuses anything not due: a refusal leaves no history
 * event, but Temporal Cloud bills it as an action like an accepted one.
 */
export const recordTemplateSendUpdate = defineUpdate<TemplateSendRecorded, [TemplateSendRequest]>('recordTemplateSend');

/** At most this many records in one `recordTemplateSends`: a WABA's midnight burst of first sends is one update. */
export const MAX_SEND_RECORDS_PER_UPDATE = 500;
export interface TemplateSendsRequest {
  sends: TemplateSendRequest[];
}
export interface TemplateSendsRecorded {
  /** The run and its readiness version after these records (types.ts, TemplateReadinessRead). */
  runId: string;
  version: number;
  /** One per send asked, in order: what was recorded, or why nothing was. */
  results: Array<{ name: string; language: string; recorded?: SendRecord; template?: TemplateView; tracked?: TrackedTemplate; refused?: string }>;
}
/**
 * The send gate records the sends that are due, in one update per WABA however many templates are
 * due at once (a run takes at most 10 updates in flight): the first send after an idle window (which
 * starts a re-sync) and the daily refresh of `lastSentAt`. The validator refuses a batch in which
 * nothing is due (billed, but no history event); otherwise the due ones are recorded and the rest say why not.
 */
export const recordTemplateSendsUpdate = defineUpdate<TemplateSendsRecorded, [TemplateSendsRequest]>('recordTemplateSends');

export interface SettingsRequest {
  /** The WABA's default for `message_activity_sharing` on sends; null: none (Meta's WABA setting applies). */
  messageActivitySharing: boolean | null;
}
export const setSettingsUpdate = defineUpdate<OnboardingState, [SettingsRequest]>('setSettings');

/**
 * Per-business intent workflow: WABAs of the business want the request to stand. One WABA joins
 * (`wabaId`), or a discovery's page of the business's WABAs at once (`wabaIds`). `renew`: the WABA's
 * terms no longer stand on Meta (it was READY, Meta says ELIGIBLE again), so a request answered
 * before does not stand for it: the business asks Meta again unless a request is pending there.
 */
export const joinIntentSignal = defineSignal<[{ wabaId?: string; wabaIds?: string[]; solutionId?: string; renew?: boolean }]>('joinIntent');
/** Operator asks for the Intent API request to be sent again. */
export const resendIntentSignal = defineSignal<[]>('resendIntent');
export const getIntentStateQuery = defineQuery<BusinessIntentState>('getIntentState');

/** A bulk recheck's progress (listed, asked, refused, ...). */
export const getBulkRecheckStateQuery = defineQuery<BulkRecheckState>('getBulkRecheckState');

/** A discovery's progress (pages, found, started, ...). */
export const getDiscoveryStateQuery = defineQuery<DiscoveryState>('getDiscoveryState');

/** Why the send gate or the webhook receiver asks for a drift check: Meta refused as if the WABA were not onboarded. */
export interface DriftCheckRequest {
  /** `send`: a /marketing_messages send was refused; `status_webhook`: a message status carried the error. */
  cause: 'send' | 'status_webhook';
  /** Meta's error code (131055). */
  graphCode: number;
}
export interface DriftCheckAccepted {
  askedAt: string;
}
/**
 * Asks a READY onboarding to re-read its status from Meta (a drift check). The validator refuses it
 * (no history event, though a billed action) unless the WABA is READY, no check is pending, and none was asked for within the
 * hour: the ceiling across every API process.
 */
export const requestDriftCheckUpdate = defineUpdate<DriftCheckAccepted, [DriftCheckRequest]>('requestDriftCheck');

/** A completed or impending `template_category_update` for one of the WABA's templates. */
export const templateCategorySignal = defineSignal<[TemplateCategoryChange]>('templateCategory');

/**
 * A release woke this run (workflows/build-moves.ts): it changes nothing but gives the run a workflow
 * task, on which the server says whether a newer build is current; a waiting run then continues as new
 * onto it. Every long-lived workflow (onboarding, business Intent, signup link, discovery) handles it.
 */
export const wakeForNewBuildSignal = defineSignal<[]>('wakeForNewBuild');

/** A release's progress (workflows/release.ts): passes over the runs of older builds, versions deleted. */
export const getReleaseStateQuery = defineQuery<ReleaseState>('getReleaseState');

/** A partner endpoint's circuit (workflows/partner-callback-circuit.ts): the endpoint answers again, deliver. */
export const partnerEndpointUpSignal = defineSignal<[]>('partnerEndpointUp');
