/**
 * /v1/onboardings: a partner starts an onboarding (one workflow per WABA: 201 when this call started
 * it, 200 with the one already running) and the partner's handles on it. Every input is
 * zod-validated before it reaches Temporal.
 */
import { Router } from 'express';
import { deriveSealingKey, seal } from '../../secrets/sealing';
import { FINAL_STATUSES, type OnboardingInput, type OnboardingState } from '../../workflows/types';
import type { Logger } from '../http/logger';
import type { OnboardingClient } from './onboarding-client';
import { RECHECK_PENDING_REASON } from './recheck-answer';
import type { WabaOwnerCheck } from './owner-check';
import { cancelBody, embeddedSignupBody, listOnboardingsQuery, startOnboardingBody, wabaIdParam } from './schemas';
import { validate } from '../http/validate';
import { streamExport, wantsExport } from './onboarding-export';

export function onboardingsRouter(onboardings: OnboardingClient, owners: WabaOwnerCheck, appSecret: string, log: Logger): Router {
  const router = Router();
  const sealingKey = deriveSealingKey(appSecret);

  router.post('/onboardings', async (req, res) => {
    const body = validate(startOnboardingBody, req.body, 'body');
    // A WABA's business is the owner Meta names (on the intent path, the business Meta emails).
    await owners.refuseOtherOwner(body.wabaId, body.businessId);
    const input: OnboardingInput = { ...body, origin: 'api' };
    let { started } = await onboardings.start(input);
    // A fresh run may not have answered its first query yet; what it starts from is known.
    let state = await onboardings.state(body.wabaId, started ? initialState(input) : undefined);
    if (!started && FINAL_STATUSES.includes(state.status) && (await onboardings.awaitClosed(body.wabaId))) {
      // The onboarding had ended (e.g. just cancelled) and was only closing: this asks for a new one.
      ({ started } = await onboardings.start(input));
      state = await onboardings.state(body.wabaId, started ? initialState(input) : undefined);
    }
    log.info(started ? 'onboarding started' : 'onboarding already running', { wabaId: body.wabaId, path: body.path });
    res.status(started ? 201 : 200).json(state);
  });

  router.get('/onboardings', async (req, res) => {
    const { format, ...filter } = validate(listOnboardingsQuery, req.query, 'query');
    if (wantsExport(req, format)) return streamExport(res, onboardings, filter, log);
    res.json(await onboardings.list(filter));
  });

  router.get('/onboardings/:wabaId', async (req, res) => {
    const { wabaId } = validate(wabaIdParam, req.params, 'params');
    res.json(await onboardings.state(wabaId));
  });

  router.post('/onboardings/:wabaId/embedded-signup', async (req, res) => {
    const { wabaId } = validate(wabaIdParam, req.params, 'params');
    const { code, phoneNumberId } = validate(embeddedSignupBody, req.body, 'body');
    // Sealed here, before it touches Temporal: workflow history only ever sees `sealed:v1:...`.
    const sealedCode = seal(code, sealingKey);
    const state = await onboardings.submitSignupCode(wabaId, { sealedCode, phoneNumberId });
    log.info('embedded signup code handed over', { wabaId, status: state.status });
    res.json(state);
  });

  router.post('/onboardings/:wabaId/recheck', async (req, res) => {
    const { wabaId } = validate(wabaIdParam, req.params, 'params');
    const answered = await onboardings.recheck(wabaId);
    if (answered) return res.json(answered);
    // Asked, but a read of the onboarding's own is still retrying a Graph fault and goes first: say so
    // now rather than leave the partner waiting for a gateway timeout.
    res.status(202).json({ ...(await onboardings.state(wabaId)), recheck: { status: 'pending', reason: RECHECK_PENDING_REASON } });
  });

  router.post('/onboardings/:wabaId/cancel', async (req, res) => {
    const { wabaId } = validate(wabaIdParam, req.params, 'params');
    // An empty POST (no JSON body) is a cancel without a reason.
    const { reason } = validate(cancelBody, req.body ?? {}, 'body');
    const state = await onboardings.cancel(wabaId, reason);
    log.info('onboarding cancelled', { wabaId });
    res.json(state);
  });

  return router;
}

function initialState(input: OnboardingInput): OnboardingState {
  return {
    wabaId: input.wabaId,
    businessId: input.businessId,
    path: input.path,
    status: 'CHECKING_ELIGIBILITY',
    ...(input.options?.messageActivitySharing !== undefined ? { messageActivitySharing: input.options.messageActivitySharing } : {}),
    history: [],
  };
}
