/**
 * /v1/rechecks (docs/api.md, "POST /v1/rechecks"): recheck every onboarding parked in NEEDS_ATTENTION of a
 * business, of a reason kind, or both, in one call. Answered 202 with how many matched and the bulk
 * recheck's id; GET /v1/rechecks/<id> follows it.
 */
import { Router } from 'express';
import { bulkRecheckWorkflowId, newBulkRecheckState } from '../../workflows/bulk-recheck-types';
import { ApiError } from '../http/errors';
import type { Logger } from '../http/logger';
import { validate } from '../http/validate';
import type { BulkRecheckClient } from './bulk-recheck-client';
import { bulkRecheckBody, bulkRecheckIdParam } from './schemas';

export function bulkRechecksRouter(rechecks: BulkRecheckClient, log: Logger): Router {
  const router = Router();

  router.post('/rechecks', async (req, res) => {
    const filter = validate(bulkRecheckBody, req.body ?? {}, 'body');
    if (filter.businessId === undefined && filter.reasonKind === undefined) {
      const message = 'give businessId, reasonKind or both';
      throw new ApiError(400, 'invalid_request', `businessId: ${message}`, [{ in: 'body', path: 'businessId', message }]);
    }
    const id = bulkRecheckWorkflowId(filter);
    const { started, input } = await rechecks.start(filter);
    const state = await rechecks.state(id, started ? newBulkRecheckState(input, new Date().toISOString()) : undefined);
    log.info(started ? 'bulk recheck started' : 'bulk recheck already running', { id, matched: state.matched });
    res.location(`/v1/rechecks/${id}`).status(started ? 202 : 200).json(state);
  });

  router.get('/rechecks/:id', async (req, res) => {
    const { id } = validate(bulkRecheckIdParam, req.params, 'params');
    res.json(await rechecks.state(id));
  });

  return router;
}
