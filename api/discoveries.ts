/**
 * /v1/discoveries: finding every ELIGIBLE client WABA of a business and onboarding each. Not built
 * yet: requests are authenticated and validated as they will be, then answered 501.
 */
import { Router } from 'express';
import { ApiError } from './errors';
import { discoveryIdParam, startDiscoveryBody } from './schemas';
import { validate } from './validate';

const notYet = () => new ApiError(501, 'not_implemented', 'discoveries are not available yet; start onboardings one WABA at a time');

export function discoveriesRouter(): Router {
  const router = Router();

  router.post('/discoveries', (req) => {
    validate(startDiscoveryBody, req.body, 'body');
    throw notYet();
  });

  router.get('/discoveries/:id', (req) => {
    validate(discoveryIdParam, req.params, 'params');
    throw notYet();
  });

  return router;
}
