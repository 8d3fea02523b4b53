/**
 * The onboarding's vocabulary, defined once (docs/api.md, "Onboarding state"). Pure: imported by
 * workflows, activities and the API alike.
 */

export const ONBOARDING_STATUSES = Object.freeze([
  'CHECKING_ELIGIBILITY',
  'INELIGIBLE',
  'AWAITING_SIGNUP',
  'REQUESTING_INTENT',
  'AWAITING_TERMS',
  'SYNCING_TEMPLATES',
  'READY',
  'NEEDS_ATTENTION',
  'CANCELLED',
  'EXPIRED',
  'OFFBOARDED',
] as const);
export type OnboardingStatus = (typeof ONBOARDING_STATUSES)[number];

/** Statuses after which the onboarding's workflow has ended. */
export const FINAL_STATUSES: readonly OnboardingStatus[] = Object.freeze(['INELIGIBLE', 'CANCELLED', 'EXPIRED', 'OFFBOARDED']);

export const ONBOARDING_PATHS = Object.freeze(['intent', 'embedded_signup', 'manual'] as const);
export type OnboardingPath = (typeof ONBOARDING_PATHS)[number];

export const TERMS_SOURCES = Object.freeze(['webhook', 'legacy_webhook', 'poll'] as const);
export type TermsSource = (typeof TERMS_SOURCES)[number];

export interface OnboardingOptions {
  /** Wait after the terms are signed, for Meta's template-to-ad-account sync. Default 600. */
  templateSyncGraceSeconds?: number;
  /** First re-check of the status field while waiting; backs off to at most a day. Default 3600. */
  statusPollIntervalSeconds?: number;
  /** Waiting for the terms longer than this ends in EXPIRED. Default 30 days. */
  termsDeadlineSeconds?: number;
  /** Intent API `solution_id`. */
  solutionId?: string;
  /** The WABA's recorded default for `message_activity_sharing`. */
  messageActivitySharing?: boolean;
  /** A template unused this long re-syncs on its next send. Default 7 days. */
  templateIdleSeconds?: number;
  /** No wait lasts longer than this without a workflow task, so a new build reaches the run (workflows/build-moves.ts). Default 7 days. */
  wakeEverySeconds?: number;
}

export const DEFAULT_OPTIONS = Object.freeze({
  templateSyncGraceSeconds: 600,
  statusPollIntervalSeconds: 3600,
  termsDeadlineSeconds: 30 * 24 * 3600,
  templateIdleSeconds: 7 * 24 * 3600,
  wakeEverySeconds: 7 * 24 * 3600,
} as const);

/** The WABA's numbers as far as MM API cares: how many are on Cloud API, and the others to name. */
export interface CloudApiNumbers {
  registered: number;
  others: Array<{ id: string; displayPhoneNumber?: string; platformType?: string }>;
}

/** How the service first heard of the onboarding. */
export type OnboardingOrigin = 'api' | 'webhook' | 'discovery';

export interface OnboardingInput {
  wabaId: string;
  businessId: string;
  path: OnboardingPath;
  options?: OnboardingOptions;
  origin?: OnboardingOrigin;
  /**
   * `marketing_messages_onboarding_status` as Meta listed it moments before the start (a discovery's
   * filtered page): the first eligibility check takes it instead of reading the same field again.
   */
  listedStatus?: string;
  /** The WABA's phone numbers as the same list gave them: the first Cloud API check takes them instead of a read. */
  listedNumbers?: CloudApiNumbers;
  /**
   * The discovery that started this onboarding has already put the WABA on its business's Intent
   * request (one signal per business and page): the first pass waits for the answer without joining.
   */
  intentJoined?: boolean;
  /**
   * How far this run's history may grow before it continues as new at a quiet moment: set by every
   * start (workflows/start-options.ts) and every continue-as-new; absent only on runs started by an
   * earlier build, which keep that build's bound so their histories replay.
   */
  historyBound?: { events: number; bytes?: number };
}

/** One drift check: when Meta's status was re-read, what it said, and what asked for it. */
export interface DriftCheck {
  at: string;
  /** `marketing_messages_onboarding_status` as read, verbatim. */
  metaStatus: string;
  cause?: 'send' | 'status_webhook';
}

export interface StatusChange {
  status: OnboardingStatus;
  at: string;
  reason?: string;
}

export interface OnboardingState {
  wabaId: string;
  businessId: string;
  path: OnboardingPath;
  status: OnboardingStatus;
  statusReason?: string;
  /** `marketing_messages_onboarding_status` as last read, verbatim. */
  eligibility?: string;
  termsSignedAt?: string;
  termsSource?: TermsSource;
  readyAt?: string;
  /** Intent API request that covers this WABA's business. */
  intentRequestId?: string;
  messageActivitySharing?: boolean;
  /** Embedded Signup: when the code was exchanged and the app subscribed with a token that has the permissions. */
  signupCompletedAt?: string;
  /** Embedded Signup: false when the customer did not grant `ads_read` (no Insights API metrics). */
  insightsAvailable?: boolean;
  /** Embedded Signup: required permissions the customer did not grant for this WABA (the onboarding needs attention). */
  missingPermissions?: string[];
  /** A partner callback the partner refused (4xx), so a person can look. */
  callbackFailure?: { eventId: string; status: number; at: string };
  /** The last drift check (a re-read of Meta's status after Meta refused a send as "not onboarded"). */
  lastDriftCheck?: DriftCheck;
  history: StatusChange[];
}

/** `account_update` events after which nothing more can be done for the WABA: the onboarding ends in OFFBOARDED. */
export const OFFBOARDING_EVENTS = Object.freeze(['PARTNER_REMOVED', 'ACCOUNT_OFFBOARDED', 'ACCOUNT_DELETED'] as const);

/** `account_update` events other than the terms that change an onboarding. */
export const ACCOUNT_ATTENTION_EVENTS = Object.freeze([
  'ACCOUNT_RESTRICTION',
  'ACCOUNT_VIOLATION',
  'DISABLED_UPDATE',
  'PARTNER_REMOVED',
  'ACCOUNT_OFFBOARDED',
  'ACCOUNT_DELETED',
] as const);
export type AccountAttentionEvent = (typeof ACCOUNT_ATTENTION_EVENTS)[number];

/**
 * Meta's ids are decimal digits. Only such an id becomes a workflow id or a Keyword search attribute
 * (WabaId, BusinessId): SQL visibility stores 255 characters of either, and a longer value fails the row.
 */
export const isMetaId = (id: string): boolean => /^\d{1,32}$/.test(id);

export const onboardingWorkflowId = (wabaId: string) => `mm-onboarding:${wabaId}`;
export const businessIntentWorkflowId = (businessId: string) => `mm-intent:${businessId}`;

/**
 * What only the process needs besides the state it shows: the deadline, the signup's token, the
 * callbacks still owed, the day's status reads and the templates it tracks.
 */
export interface ProcessState {
  /** Absolute deadline (epoch ms) for the terms; after it the onboarding EXPIRES. */
  expiresAt: number;
  /** Embedded Signup token, sealed (never plain text in history). */
  sealedToken?: string;
  signupDone?: boolean;
  /** Partner callbacks not yet delivered, in order. */
  pendingCallbacks: PartnerCallbackEvent[];
  /** The partner endpoint's circuit the callbacks wait on (workflows/partner-callback-circuit.ts), while it is down. */
  callbacksWaitingOn?: string;
  /** Graph status reads in the last day (epoch ms), for the per-WABA daily budget. */
  recentStatusReads: number[];
  /** The WABA's marketing templates, tracked from READY on (a run hands them on packed, below). */
  templates: TrackedTemplate[];
  /** The templates as handed over by continue-as-new since packing began (workflows/template-handover.ts); earlier builds hand `templates`. */
  packedTemplates?: PackedTemplates;
  /** Approved templates the onboarding could not track (over MAX_TRACKED_TEMPLATES): never dropped silently. */
  templatesNotTracked?: TemplatesNotTracked;
  /** The `readyAt` at which the templates were last listed: a run continued at READY does not list again. */
  templatesListedAt?: string;
  /** When the last drift check was asked for (epoch ms): at most one an hour. */
  lastDriftCheckAskedAt?: number;
  /** When the current SYNCING_TEMPLATES wait began (epoch ms), so the WABA's ready time is known ahead. */
  syncingSince?: number;
  /** Meta withdrew the terms the WABA went READY on: its next Intent join asks for a request still pending on Meta. */
  renewIntent?: boolean;
}

/**
 * The onboarding's phases. Each waits for the outside world at some point, and a run may continue as
 * new in any of them (a long history, a new build): the next run resumes that phase's wait.
 */
export type WaitingPhase = 'eligibility' | 'path' | 'terms' | 'grace' | 'attention' | 'watching';

/**
 * One marketing template as the workflow tracks it: Meta's status plus the facts readiness is computed
 * from (workflows/template-readiness.ts). Times are ISO 8601.
 */
export interface TrackedTemplate {
  name: string;
  language: string;
  id?: string;
  /** Meta's template status, verbatim: APPROVED, PAUSED, DISABLED, REJECTED, PENDING_DELETION, DELETED, ... */
  status: string;
  /** Meta's reason for a status other than APPROVED. */
  reason?: string;
  /** When the approval was heard of (webhook); absent for templates listed at READY (approved before it). */
  approvedAt?: string;
  /** Last send through /marketing_messages as recorded (at most once a day, so up to a day early). */
  lastSentAt?: string;
  /** The first send after an idle window: Meta re-syncs the template from then. */
  resyncStartedAt?: string;
  /** Meta's category when it is no longer MARKETING (a completed `template_category_update`); absent: MARKETING. */
  category?: string;
  /** An impending category change Meta announced: the category it will get, and when. */
  upcomingCategory?: { category: string; at?: string };
  /** Workflow time of the last change, so a webhook newer than a listing wins over it. */
  updatedAt: string;
}

/** Approved templates past the cap, counted and named (the last one) so the refusal is said, not silent. */
export interface TemplatesNotTracked {
  count: number;
  last: { name: string; language: string; at: string };
}

/** Templates as one run hands them to the next: rows of values (workflows/template-handover.ts). */
export interface PackedTemplates {
  format: 1;
  /** Times are ms after this (epoch ms). */
  base: number;
  rows: Array<Array<string | number>>;
}

/** The WABA-level facts readiness depends on. */
export interface TemplateBookHeader {
  wabaId: string;
  status: OnboardingStatus;
  /** When the WABA became READY (or, while SYNCING_TEMPLATES, when it will). */
  readyAt?: string;
  messageActivitySharing?: boolean;
  templateSyncGraceSeconds: number;
  templateIdleSeconds: number;
  templatesNotTracked?: TemplatesNotTracked;
}

/** The whole book (query `getTemplates`): the template routes read it; sends read one template (`TemplateReadinessRead`). */
export interface TemplateBook extends TemplateBookHeader {
  templates: TrackedTemplate[];
}

/**
 * What a send reads (query `getTemplateReadiness`): the WABA's facts and the one template it sends,
 * stamped with the run and its readiness version, which the run also keeps in its memo: the API
 * checks the stamp with a describe (no action) instead of reading again (api/sends/template-readiness-cache.ts).
 */
export interface TemplateReadinessRead extends TemplateBookHeader {
  runId: string;
  version: number;
  /** Absent: the WABA tracks no such template. */
  template?: TrackedTemplate;
  /** READY, and the templates are still being listed (moments): a read to use once, not keep. */
  listing?: true;
}

/**
 * What several sends of one WABA read at once (query `getTemplatesReadiness`): the same facts and
 * stamp, and each asked template in the order asked (null: the WABA tracks no such template).
 */
export interface TemplatesReadinessRead extends Omit<TemplateReadinessRead, 'template'> {
  templates: Array<TrackedTemplate | null>;
}

/** A partner endpoint's circuit (workflows/partner-callback-circuit.ts). */
export interface CallbackCircuitInput {
  /** A hash of the callback URL's host and path (activities/partner-callback-circuit.ts). */
  endpointKey: string;
  /** The event the circuit probes the endpoint with: the head of the onboarding that started it. */
  probe: PartnerCallbackEvent;
}
export const callbackCircuitWorkflowId = (endpointKey: string) => `mm-callback-circuit:${endpointKey}`;

/** Partner callbacks (docs/partner-callbacks.md): one status change, as POSTed to the partner's backend. */
export interface PartnerCallbackEvent {
  /** Stable across retries, unique per change: partners dedupe on it. */
  id: string;
  type: 'onboarding.status_changed';
  wabaId: string;
  businessId: string;
  status: OnboardingStatus;
  previousStatus: OnboardingStatus | null;
  reason?: string;
  at: string;
}

export interface BusinessIntentInput {
  businessId: string;
  /** The backstop wake-up (workflows/build-moves.ts); a week by default. */
  wakeEverySeconds?: number;
  carriedOver?: BusinessIntentState;
}

export interface BusinessIntentState {
  businessId: string;
  /** The request stands (Meta answered a request_id or "already sent"). */
  requested: boolean;
  requestId?: string;
  solutionId?: string;
  /** Intent API calls made (one per send, however many WABAs joined). */
  requestCount: number;
  /** The business's `marketing_messages_onboarding_status.status` on Meta, as last read before a send. */
  statusOnMeta?: string;
  lastError?: string;
  /** The last time some waiting WABAs could not be told (their recheck joins again and hears it). */
  tellError?: string;
  /** WABAs waiting to hear about the request. */
  waiting: string[];
}
