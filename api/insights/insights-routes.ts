/** GET /v1/onboardings/:wabaId/insights: a READY WABA's MM API performance per marketing template. */
import { Router } from 'express';
import { validate } from '../http/validate';
import { wabaIdParam } from '../partner/schemas';
import type { RequestBudget } from './insights-budget';
import type { InsightsReader } from './insights-reader';
import { insightsQuery } from './insights-schemas';
import { insightsWindow } from './insights-window';

export function insightsRouter(reader: InsightsReader, budget: RequestBudget): Router {
  const router = Router();

  // Each key's budget first: an ask over it costs nothing but the 429.
  router.get('/onboardings/:wabaId/insights', budget.middleware(), async (req, res) => {
    const { wabaId } = validate(wabaIdParam, req.params, 'params');
    const window = insightsWindow(validate(insightsQuery, req.query, 'query'));
    // A refusal worth waiting out (Meta throttling, the onboarding's build not polling) is answered with its Retry-After.
    const { answer, maxAgeSeconds } = await reader.read(wabaId, window);
    res.set('Cache-Control', `private, max-age=${maxAgeSeconds}`);
    res.json(answer);
  });

  return router;
}
