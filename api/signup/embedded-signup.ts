/**
 * Embedded Signup, both ways a partner can run it:
 * - its own page: `POST /v1/embedded-signup` with what Meta's popup returned, in one call;
 * - the service's hosted page: `POST /v1/signup-links` hands out a link for one customer
 *   (api/signup/hosted-page.ts serves it).
 */
import { Router } from 'express';
import type { Config } from '../../config';
import type { OnboardingOptions, OnboardingState } from '../../workflows/types';
import { ApiError } from '../http/errors';
import type { Logger } from '../http/logger';
import type { OnboardingClient } from '../partner/onboarding-client';
import { DEFAULT_SIGNUP_LINK_SECONDS, embeddedSignupStartBody, signupLinkBody } from '../partner/schemas';
import type { SignupLinkSigner } from './link-token';
import type { SignupPreflight } from './signup-preflight';
import { validate } from '../http/validate';

export interface SignupRequest {
  code: string;
  wabaId: string;
  /** The business the caller expects; refused (400 naming it) unless it is the WABA's owner on Meta. */
  businessId?: string;
  phoneNumberId?: string;
  options?: OnboardingOptions;
}

/**
 * Exchanges the code and checks the token and the WABA's owner first (signup-preflight.ts), then
 * starts or joins the WABA's Embedded Signup onboarding under Meta's owner with the checked token,
 * in one Temporal call. Nothing starts for a code, WABA or business that does not check out.
 */
export class EmbeddedSignup {
  constructor(
    private readonly onboardings: OnboardingClient,
    private readonly preflight: SignupPreflight,
    private readonly log: Logger,
  ) {}

  async signUp({ code, wabaId, businessId, phoneNumberId, options }: SignupRequest, via: string): Promise<{ started: boolean; state: OnboardingState }> {
    const { sealedToken, ownerBusinessId } = await this.preflight.check({ code, wabaId, businessId });
    const result = await this.onboardings.signUpWithStart(
      { wabaId, businessId: ownerBusinessId, path: 'embedded_signup', options, origin: 'api' },
      { sealedToken, phoneNumberId },
    );
    this.log.info('embedded signup', { via, wabaId, started: result.started, status: result.state.status });
    return result;
  }
}

export function embeddedSignupRouter(config: Config, signup: EmbeddedSignup, links: SignupLinkSigner, log: Logger): Router {
  const router = Router();

  router.post('/embedded-signup', async (req, res) => {
    const body = validate(embeddedSignupStartBody, req.body, 'body');
    const { started, state } = await signup.signUp(body, 'api');
    res.status(started ? 201 : 200).json(state);
  });

  router.post('/signup-links', async (req, res) => {
    const body = validate(signupLinkBody, req.body ?? {}, 'body');
    if (!config.embeddedSignup.configId) {
      throw new ApiError(501, 'not_implemented', 'signup links need META_ES_CONFIG_ID (the Facebook Login for Business configuration of the popup)');
    }
    const expiresAt = new Date(Date.now() + (body.expiresInSeconds ?? DEFAULT_SIGNUP_LINK_SECONDS) * 1000);
    const { token, link } = links.issue({
      exp: Math.floor(expiresAt.getTime() / 1000),
      businessId: body.businessId,
      partnerName: body.partnerName,
      options: body.options,
    });
    log.info('signup link issued', { id: link.id, businessId: body.businessId, expiresAt: expiresAt.toISOString() });
    res.status(201).json({ id: link.id, url: `${config.publicBaseUrl}/signup/${token}`, expiresAt: new Date(link.exp * 1000).toISOString() });
  });

  return router;
}
