import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Metrics } from './metrics';
import { ApiError, sendError } from './errors';

const READINESS_DEADLINE_MS = 2_000;

/** Liveness (the process answers), readiness (Temporal answers too), and Prometheus metrics. */
export function healthRouter(client: Client, metrics: Metrics): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    try {
      await client.withDeadline(Date.now() + READINESS_DEADLINE_MS, () => client.workflowService.getSystemInfo({}));
      res.json({ status: 'ready', temporal: 'ok' });
    } catch {
      sendError(res, new ApiError(503, 'temporal_unavailable', 'Temporal does not answer'));
    }
  });

  router.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  return router;
}
