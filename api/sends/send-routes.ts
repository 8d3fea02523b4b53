/**
 * Sending marketing templates through the gate (api/sends/send-gate.ts), once the request is known to
 * be sane (api/sends/components-depth.ts) and its phone number the WABA's (api/sends/waba-phone-numbers.ts),
 * and the WABA's default for `message_activity_sharing` that sends carry.
 */
import { Router } from 'express';
import type { Logger } from '../http/logger';
import type { OnboardingClient } from '../partner/onboarding-client';
import { sendMessageBody, settingsBody, wabaIdParam } from '../partner/schemas';
import { checkComponentsDepth } from './components-depth';
import type { SendGate } from './send-gate';
import type { TemplateReadiness } from './template-readiness-cache';
import type { WabaPhoneNumbers } from './waba-phone-numbers';
import { validate } from '../http/validate';

export function sendsRouter(gate: SendGate, onboardings: OnboardingClient, readiness: TemplateReadiness, numbers: WabaPhoneNumbers, log: Logger): Router {
  const router = Router();

  router.post('/onboardings/:wabaId/messages', async (req, res) => {
    checkComponentsDepth(req.body); // before anything recurses into it
    const { wabaId } = validate(wabaIdParam, req.params, 'params');
    const body = validate(sendMessageBody, req.body, 'body');
    const timing: { graphMs?: number } = {};
    let result;
    try {
      await readiness.read(wabaId, body.template.name, body.template.language); // 404 for a WABA without an onboarding, before Graph is asked about it
      await numbers.check(wabaId, body.phoneNumberId); // a number of another WABA never sends on this one's readiness
      result = await gate.send(wabaId, body, timing);
    } catch (err) {
      gate.countIfUnavailable(err);
      throw err;
    }
    // The gate's own time (from the request's arrival, Graph's wait left out) and Graph's, for the partner's tracing.
    const total = performance.now() - (res.locals.receivedAt as number);
    const graph = timing.graphMs ?? 0;
    res.set('Server-Timing', `gate;dur=${(total - graph).toFixed(2)}, graph;dur=${graph.toFixed(2)}`);
    res.json(result);
  });

  router.put('/onboardings/:wabaId/settings', async (req, res) => {
    const { wabaId } = validate(wabaIdParam, req.params, 'params');
    const settings = validate(settingsBody, req.body, 'body');
    const state = await onboardings.setSettings(wabaId, settings);
    readiness.forget(wabaId); // this process's next send carries the new default; others once their describe sees the version move
    log.info('onboarding settings changed', { wabaId, messageActivitySharing: settings.messageActivitySharing });
    res.json(state);
  });

  return router;
}
