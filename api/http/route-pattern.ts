import type { Request, Response } from 'express';

/**
 * The route pattern a request was answered by (`/v1/onboardings/:wabaId`), never its path's values;
 * undefined when no route matched. Read once answered: Express resets req.baseUrl when an error
 * leaves a router, so the mount point kept in locals (api/ops/metrics.ts rememberMountPoint) comes first.
 */
export function routePattern(req: Request, res: Response): string | undefined {
  const base = (res.locals.routeBase as string | undefined) ?? req.baseUrl;
  return req.route?.path ? `${base}${String(req.route.path)}` : base || undefined;
}
