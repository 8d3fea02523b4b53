/**
 * The `ApplicationFailure` types activities throw for expected outcomes. Activities classify Graph
 * errors once (graph/); workflows branch on these names, never on Graph error codes.
 */
export const FailureType = Object.freeze({
  /** 190 token, 10 / 200–299 permissions, or a prerequisite a person must fix. Not retried. */
  GraphNeedsAttention: 'GraphNeedsAttention',
  /** Meta refused the Embedded Signup code (expired, already used). */
  SignupCodeRejected: 'SignupCodeRejected',
  /** Meta refused a request for another reason (bad parameter...). Not retried. */
  GraphRequestRejected: 'GraphRequestRejected',
  /** Meta throttles the call (the app, or the business it counts against); retried after Meta's own delay when it gave one. */
  GraphThrottled: 'GraphThrottled',
  /** The partner's callback endpoint answered a 4xx (not 408/429) or a redirect. */
  PartnerCallbackRejected: 'PartnerCallbackRejected',
} as const);
export type FailureType = (typeof FailureType)[keyof typeof FailureType];
