/**
 * `/webhooks/whatsapp`: Meta's verification handshake (GET) and its signed deliveries (POST).
 *
 *   raw bytes → HMAC check → JSON → zod envelope → one Temporal call per relevant change, all awaited
 *   → 200; 503 if any could not be handed over, so Meta delivers again (duplicates are harmless).
 */
import express, { Router, type ErrorRequestHandler } from 'express';
import type { Client } from '@temporalio/client';
import type { Config } from '../../config';
import { ApiError, sendError } from '../errors';
import { sameSecret } from '../constant-time';
import type { Logger } from '../logger';
import type { DeliveryOutcome, Metrics } from '../metrics';
import { handOff, type Deliverable } from './handoff';
import { actionsOf, WABA_OBJECT, webhookEnvelope } from './payload';
import { hasValidSignature, SIGNATURE_HEADER } from './signature';

export const WEBHOOK_PATH = '/webhooks/whatsapp';
export const WEBHOOK_BODY_LIMIT = '1mb';

export interface ReceiverDeps {
  config: Config;
  client: Client;
  metrics: Metrics;
  log: Logger;
  callTimeoutMs: number;
}

export function webhookRouter(deps: ReceiverDeps): Router {
  const { config, metrics, log } = deps;
  const router = Router();
  const delivered = (outcome: DeliveryOutcome, meta: Record<string, unknown> = {}) => {
    metrics.webhookDeliveries.inc({ outcome });
    if (outcome === 'accepted' || outcome === 'ignored') log.info('webhook delivery', { outcome, ...meta });
    else log.warn('webhook delivery', { outcome, ...meta });
  };

  router.get(WEBHOOK_PATH, (req, res) => {
    const mode = req.query['hub.mode'];
    const token = req.query['hub.verify_token'];
    const challenge = req.query['hub.challenge'];
    if (mode !== 'subscribe' || typeof token !== 'string' || !sameSecret(token, config.webhookVerifyToken)) {
      log.warn('webhook verification refused', { mode: typeof mode === 'string' ? mode : undefined });
      return sendError(res, new ApiError(403, 'forbidden', 'verification token mismatch'));
    }
    if (typeof challenge !== 'string' || challenge.length === 0 || challenge.length > 1024) {
      return sendError(res, new ApiError(400, 'invalid_request', 'hub.challenge is missing'));
    }
    log.info('webhook verified');
    res.set('X-Content-Type-Options', 'nosniff').type('text/plain').send(challenge);
  });

  router.post(
    WEBHOOK_PATH,
    // Every content type is read as bytes: the signature covers the body exactly as sent.
    express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT }),
    async (req, res) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (!hasValidSignature(raw, req.get(SIGNATURE_HEADER), config.meta.appSecret)) {
        delivered('unauthorized', { bytes: raw.length, signature: req.get(SIGNATURE_HEADER) ? 'wrong' : 'missing' });
        return sendError(res, new ApiError(401, 'unauthorized', 'missing or invalid X-Hub-Signature-256'));
      }

      let json: unknown;
      try {
        json = JSON.parse(raw.toString('utf8'));
      } catch {
        delivered('malformed', { bytes: raw.length, reason: 'not JSON' });
        return sendError(res, new ApiError(400, 'invalid_request', 'the body is not valid JSON'));
      }
      const envelope = webhookEnvelope.safeParse(json);
      if (!envelope.success) {
        delivered('malformed', { bytes: raw.length, reason: 'not a webhook envelope' });
        return sendError(res, new ApiError(400, 'invalid_request', 'the body is not a webhook envelope (object, entry[].changes[])'));
      }
      if (envelope.data.object !== WABA_OBJECT) {
        // Well-formed and signed, just not ours: acknowledge so Meta does not retry it for days.
        delivered('ignored', { object: envelope.data.object.slice(0, 64) });
        return res.status(200).json({ received: 0 });
      }

      const actions = actionsOf(envelope.data);
      const deliverable: Deliverable[] = [];
      for (const action of actions) {
        if (action.kind === 'ignore' || action.kind === 'invalid') {
          // Retrying cannot fix these: count them, and acknowledge with the rest.
          metrics.webhookChanges.inc({ event: action.event, outcome: action.kind === 'ignore' ? 'ignored' : 'invalid' });
          if (action.kind === 'invalid') log.warn('webhook change not usable', { event: action.event, reason: action.reason });
        } else {
          deliverable.push(action);
        }
      }

      const results = await handOff(
        { client: deps.client, config, callTimeoutMs: deps.callTimeoutMs, timeTemporal: metrics.timeTemporal },
        deliverable,
      );
      for (const r of results) metrics.webhookChanges.inc({ event: r.action.event, outcome: r.outcome });
      const failed = results.filter((r) => r.outcome === 'failed');
      const summary = {
        changes: actions.length,
        handedOver: results.length - failed.length,
        noOnboarding: results.filter((r) => r.outcome === 'no_onboarding').length,
        ignored: actions.length - deliverable.length,
        wabas: [...new Set(deliverable.map((a) => a.wabaId))].slice(0, 20),
      };
      if (failed.length) {
        const first = failed[0] as { error: unknown };
        delivered('unavailable', {
          ...summary,
          failed: failed.length,
          error: first.error instanceof Error ? `${first.error.name}: ${first.error.message}` : String(first.error),
        });
        // Meta retries non-2xx deliveries: everything in this one is safe to apply twice.
        return sendError(res, new ApiError(503, 'temporal_unavailable', 'could not hand every change to Temporal; retry'));
      }
      delivered(deliverable.length ? 'accepted' : 'ignored', summary);
      res.status(200).json({ received: actions.length });
    },
  );

  // Errors of the raw-body reader (over the size cap, aborted upload) on this route, counted as deliveries.
  const bodyErrors: ErrorRequestHandler = (err, req, res, next) => {
    if (req.path !== WEBHOOK_PATH || res.headersSent) return next(err);
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') {
      delivered('too_large', { limit: WEBHOOK_BODY_LIMIT });
      return sendError(res, new ApiError(413, 'payload_too_large', `webhook bodies are limited to ${WEBHOOK_BODY_LIMIT}`));
    }
    delivered('malformed', { reason: type ?? 'unreadable body' });
    next(err);
  };
  router.use(bodyErrors);

  return router;
}
