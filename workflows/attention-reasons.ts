/**
 * Every reason an onboarding is parked in NEEDS_ATTENTION for, worded once: the workflow code builds
 * each one here, attention-kinds.ts reads its kind back from these words, and the runbook
 * (docs/operations.md, "Runbooks") cites their beginnings, which
 * test/docs/runbook-reasons.test.ts checks against these builders. Pure: no imports.
 */

/** The start of every NEEDS_ATTENTION reason a drift check writes (a terms webhook then rechecks). */
export const DRIFT_REASON_PREFIX = 'drift check:';

/** What a READY WABA's re-read found, in the words both its reason and its new pass's say. */
export const noLongerOnboarded = (metaStatus: string | undefined) => `Meta now reports ${metaStatus}, no longer ONBOARDED for MM API`;

export const attentionReasons = Object.freeze({
  /** A Graph error a person must fix (token, permission): Meta's message names the code. */
  graphNeedsAttention: (graphMessage: string) => `Graph API: ${graphMessage}`,
  /** A 4xx Meta will answer the same way again. */
  graphRefused: (graphMessage: string) => `Graph API refused the request: ${graphMessage}`,
  /** Transient errors through every retry. */
  graphKeptFailing: (activityType: string, message: string) => `Graph API call ${activityType} kept failing: ${message}`,
  /** The business's Intent request failed: `error` is that request's own reason (one of the three above). */
  intentFailed: (error: string) => `Intent API request failed: ${error}`,
  /** Joining the business's Intent request (a signal-with-start) failed through every retry. */
  intentJoinFailed: (message: string) => `could not join the business's Intent request in Temporal: ${message}`,
  noCloudApiNumber: (numbersSeen: string[]) =>
    'no phone number of this WABA is registered on Cloud API; MM API reuses the Cloud API registration' +
    (numbersSeen.length ? `. Numbers found: ${numbersSeen.join(', ')}` : '. The WABA has no phone numbers'),
  signupTokenLacks: (missing: string[]) =>
    `the Embedded Signup token lacks ${missing.join(' and ')} for this WABA; the customer must complete Embedded Signup again and grant it`,
  signupTokenInvalid: () => 'Meta says the Embedded Signup token is not valid; the customer must complete Embedded Signup again',
  /** An `account_update` event (ACCOUNT_RESTRICTION, ACCOUNT_VIOLATION, DISABLED_UPDATE), with Meta's detail. */
  accountEvent: (event: string, detail?: string) => (detail ? `${event}: ${detail}` : event),
  /** A recheck of a READY WABA found Meta's status pending, restricted or ineligible (onboarding-phases/ready.ts). */
  metaNoLongerOnboarded: (metaStatus: string | undefined) =>
    `${noLongerOnboarded(metaStatus)}; sends through /marketing_messages are refused until it does: fix it with the business, then recheck`,
  /** After READY, Meta's status no longer says ONBOARDED (workflows/drift-check.ts). */
  drift: (metaStatus: string, by: string, graphCode: number) =>
    `${DRIFT_REASON_PREFIX} Meta reports ${metaStatus}, no longer ONBOARDED for MM API (${by} was refused with ${graphCode}); ` +
    'sends through /marketing_messages are refused until Meta says ONBOARDED again: fix it with the business, then recheck',
});
