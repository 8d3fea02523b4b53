/**
 * One hosted Embedded Signup link, once used. The run is the link's durable "used" mark: the API
 * starts it (id `mm-signup-link:<linkId>`, never reused) when a signup through the link succeeds, so
 * every API process sees the mark, and it stays open until the link would have expired anyway.
 * Everything else about a link (expiry, business, options) travels signed in the link itself.
 */
import { sleep } from '@temporalio/workflow';

export interface SignupLinkUse {
  linkId: string;
  wabaId: string;
  businessId: string;
  usedAt: string;
  /** The link's own expiry, ISO 8601. */
  expiresAt: string;
}

export const signupLinkWorkflowId = (linkId: string) => `mm-signup-link:${linkId}`;

export async function signupLink(use: SignupLinkUse): Promise<SignupLinkUse> {
  const left = Date.parse(use.expiresAt) - Date.now();
  if (left > 0) await sleep(left);
  return use;
}
