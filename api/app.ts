/**
 * The HTTP face of mm-onboarding: Meta's webhook receiver, the partner API (/v1), health, metrics and
 * the OpenAPI document. It holds no state of its own: everything durable lives in Temporal.
 */
import express from 'express';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { GraphUsage } from '../activities/graph';
import { requireApiKey } from './auth';
import { discoveriesRouter } from './discoveries';
import { DiscoveryClient } from './discovery-client';
import { errorHandler, notFoundHandler } from './errors';
import { healthRouter } from './health';
import { consoleLogger, type Logger } from './logger';
import { createMetrics } from './metrics';
import { DEFAULT_TIMEOUTS, OnboardingClient, type TemporalTimeouts } from './onboarding-client';
import { onboardingsRouter } from './onboardings';
import { openApiDocument } from './openapi';
import { webhookRouter } from './webhooks/receiver';

export type { Logger } from './logger';

export interface AppDeps {
  config: Config;
  client: Client;
  log?: Logger;
  /** gRPC deadlines of the calls to Temporal; tests shorten them. */
  timeouts?: Partial<TemporalTimeouts>;
  /** The workers' Graph usage tracker, when they run in this process: shown in /metrics. */
  graphUsage?: GraphUsage;
}

/** Partner request bodies are small; a bigger one is a mistake or an attack. */
const API_BODY_LIMIT = '64kb';

export function createApp({ config, client, log = consoleLogger, timeouts, graphUsage }: AppDeps): express.Express {
  const metrics = createMetrics(graphUsage);
  const limits = { ...DEFAULT_TIMEOUTS, ...timeouts };
  const onboardings = new OnboardingClient(client, config, metrics, limits);
  const discoveries = new DiscoveryClient(client, config, onboardings, limits);
  const openApi = JSON.stringify(openApiDocument());

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(metrics.middleware);

  // Before any body parser: the receiver reads its own raw bytes for the signature.
  app.use(webhookRouter({ config, client, metrics, log, callTimeoutMs: limits.callMs }));
  app.use(healthRouter(client, metrics));
  app.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(openApi);
  });

  const v1 = express.Router();
  v1.use(metrics.rememberMountPoint);
  v1.use(requireApiKey(config.apiKeys, log));
  v1.use(express.json({ limit: API_BODY_LIMIT }));
  v1.use(onboardingsRouter(onboardings, config.meta.appSecret, log));
  v1.use(discoveriesRouter(discoveries, log));
  app.use('/v1', v1);

  app.use(notFoundHandler);
  app.use(errorHandler(log));
  return app;
}
