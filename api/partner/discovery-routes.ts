/**
 * /v1/discoveries (docs/api.md, "Discoveries"). A partner asks for every ELIGIBLE client WABA of its
 * business portfolio to be onboarded (Intent path unless told otherwise), once or repeatedly.
 */
import { Router } from 'express';
import { discoveryWorkflowId, newDiscoveryState, type DiscoveryInput } from '../../workflows/discovery-types';
import type { DiscoveryClient } from './discovery-client';
import type { Logger } from '../http/logger';
import { discoveryIdParam, startDiscoveryBody } from './schemas';
import { validate } from '../http/validate';

export function discoveriesRouter(discoveries: DiscoveryClient, log: Logger): Router {
  const router = Router();

  router.post('/discoveries', async (req, res) => {
    const body = validate(startDiscoveryBody, req.body, 'body');
    const input: DiscoveryInput = { businessId: body.businessId, path: body.path ?? 'intent', ...(body.options ? { options: body.options } : {}) };
    const { started } = await discoveries.start(input);
    const schedule = body.repeatEverySeconds === undefined ? undefined : await discoveries.keepRepeating(input, body.repeatEverySeconds);
    const state = await discoveries.state(discoveryWorkflowId(input.businessId), started ? newDiscoveryState(input, new Date().toISOString()) : undefined);
    log.info(started ? 'discovery started' : 'discovery already running', { businessId: input.businessId, repeatEverySeconds: body.repeatEverySeconds });
    res.status(started ? 202 : 200).json(schedule ? { ...state, schedule } : state);
  });

  router.get('/discoveries/:id', async (req, res) => {
    const { id } = validate(discoveryIdParam, req.params, 'params');
    res.json(await discoveries.state(id));
  });

  return router;
}
