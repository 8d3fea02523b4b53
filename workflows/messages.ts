/**
 * Everything that can be said to, or asked of, the onboarding workflows. The API and the webhook
 * receiver import these definitions; the workflows implement them.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AccountAttentionEvent, BusinessIntentState, OnboardingState } from './types';
import type { DiscoveryState } from './discovery-types';

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

export interface SignupCodeUpdate {
  /** The Embedded Signup OAuth code, sealed (activities/secrets) so history never holds it. */
  sealedCode: string;
  phoneNumberId?: string;
}
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

/** Per-business intent workflow: a WABA of the business wants the request to stand. */
export const joinIntentSignal = defineSignal<[{ wabaId: string; solutionId?: string }]>('joinIntent');
/** Operator asks for the Intent API request to be sent again. */
export const resendIntentSignal = defineSignal<[]>('resendIntent');
export const getIntentStateQuery = defineQuery<BusinessIntentState>('getIntentState');

/** A discovery's progress (pages, found, started, ...). */
export const getDiscoveryStateQuery = defineQuery<DiscoveryState>('getDiscoveryState');
