/**
 * How each `marketing_messages_onboarding_status` value is read (docs/api.md, "Onboarding state").
 * Pure rules, shared by the workflow and its tests.
 */

export type EligibilityVerdict =
  /** The terms are already signed. */
  | { kind: 'onboarded' }
  | { kind: 'eligible' }
  /** Old on-behalf-of ownership: only the Intent API can onboard it. */
  | { kind: 'intent_only'; reason: string }
  /** Not terminal: wait, then read again. */
  | { kind: 'wait'; reason: string }
  | { kind: 'ineligible'; reason: string };

const WAIT_REASONS: Record<string, string> = Object.freeze({
  PENDING_VALID_PAYMENT_METHOD: 'waiting for a valid payment method on the WABA',
  PENDING_INTERNAL_SETUP: "waiting for Meta's internal setup of the WABA",
  INELIGIBLE_INACTIVE_OR_RESTRICTED: 'the WABA is inactive or restricted; this may clear when it is reinstated',
});

const INELIGIBLE_REASONS: Record<string, string> = Object.freeze({
  INELIGIBLE_COUNTRY_NOT_SUPPORTED: "the WABA's tax or owner business country is not supported",
  INELIGIBLE_USING_WHATSAPP_BUSINESS_APP: 'the number is on the WhatsApp Business app, not Cloud API',
});

export function readOnboardingStatus(
  status: string,
  field: 'marketing_messages_onboarding_status' | 'marketing_messages_lite_api_status',
): EligibilityVerdict {
  if (field === 'marketing_messages_lite_api_status') return readLegacyStatus(status);
  switch (status) {
    case 'ONBOARDED':
      return { kind: 'onboarded' };
    case 'ELIGIBLE':
      return { kind: 'eligible' };
    case 'INELIGIBLE_ON_BEHALF_OF_WABA':
      return {
        kind: 'intent_only',
        reason: `${status}: a WABA under on-behalf-of ownership can be onboarded only through the Intent path`,
      };
  }
  if (status in WAIT_REASONS) return { kind: 'wait', reason: `${status}: ${WAIT_REASONS[status]}` };
  if (status in INELIGIBLE_REASONS) return { kind: 'ineligible', reason: `${status}: ${INELIGIBLE_REASONS[status]}` };
  if (status.startsWith('INELIGIBLE')) return { kind: 'ineligible', reason: status };
  // A value Meta added after this code was written: keep it verbatim and look again later.
  return { kind: 'wait', reason: `${status}: unrecognised onboarding status; re-checking later` };
}

function readLegacyStatus(status: string): EligibilityVerdict {
  switch (status) {
    case 'ONBOARDED':
      return { kind: 'onboarded' };
    case 'ELIGIBLE':
      return { kind: 'eligible' };
    case 'INELIGIBLE':
      return { kind: 'ineligible', reason: 'INELIGIBLE (legacy marketing_messages_lite_api_status)' };
    default:
      return { kind: 'wait', reason: `${status} (legacy marketing_messages_lite_api_status); re-checking later` };
  }
}

/** The next wait between status reads: doubles from the configured interval up to a day. */
export function nextPollDelaySeconds(previous: number | undefined, first: number): number {
  const ceiling = 24 * 3600;
  return previous === undefined ? Math.min(first, ceiling) : Math.min(previous * 2, ceiling);
}
