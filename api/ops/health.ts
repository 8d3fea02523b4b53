import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Metrics } from './metrics';
import { ApiError, sendError } from '../http/errors';
import type { PartnerTokenCheck } from './meta-token-check';
import { searchAttributesServed } from '../../temporal/search-attribute-registration';
import { callWithin } from '../http/temporal-deadline';

const READINESS_DEADLINE_MS = 2_000;

/**
 * Liveness (the process answers), readiness (Temporal answers and serves the project's search
 * attributes, and META_ACCESS_TOKEN has the permissions the service needs), and Prometheus metrics.
 */
export function healthRouter(client: Client, metrics: Metrics, partnerToken: PartnerTokenCheck): Router {
  const router = Router();
  // Once served, the attributes stay served: later probes skip the visibility query.
  let attributesServed = false;

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const token = partnerToken.status();
    try {
      await callWithin(client, READINESS_DEADLINE_MS, () => client.workflowService.getSystemInfo({}));
    } catch {
      return sendError(res, new ApiError(503, 'temporal_unavailable', 'Temporal does not answer'));
    }
    if (!attributesServed) {
      // A fresh namespace (or one whose attributes were just registered) refuses every start until it serves them.
      const probe = await callWithin(client, READINESS_DEADLINE_MS, () =>
        searchAttributesServed(client.connection, client.options.namespace),
      );
      if (!probe.served) {
        return sendError(res, new ApiError(503, 'search_attributes_unavailable', `Temporal does not serve the search attributes yet: ${probe.reason}`));
      }
      attributesServed = true;
    }
    const permissions = await token;
    if (permissions.kind === 'missing_permission') return sendError(res, new ApiError(503, 'missing_permission', permissions.message));
    res.json({
      status: 'ready',
      temporal: 'ok',
      metaToken: permissions.kind === 'ok' ? 'ok' : 'unknown',
      ...(permissions.kind === 'ok' ? { insightsAvailable: permissions.insightsAvailable } : {}),
    });
  });

  router.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  return router;
}
