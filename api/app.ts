/**
 * The HTTP face of mm-onboarding: Meta's webhook receiver, the partner API (/v1), health, metrics and
 * the OpenAPI document. It holds no state of its own: everything durable lives in Temporal.
 */
import express from 'express';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { requireApiKey } from './auth';
import { codecRouter } from './codec';
import { deriveSealingKey } from '../activities/secrets';
import { discoveriesRouter } from './discoveries';
import { errorHandler, notFoundHandler } from './errors';
import { healthRouter } from './health';
import { consoleLogger, type Logger } from './logger';
import { createMetrics } from './metrics';
import { registerOnboardingGauges } from './onboarding-gauges';
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
}

/** Partner request bodies are small; a bigger one is a mistake or an attack. */
const API_BODY_LIMIT = '64kb';

export function createApp({ config, client, log = consoleLogger, timeouts }: AppDeps): express.Express {
  const metrics = createMetrics();
  registerOnboardingGauges(metrics.registry, client, config.temporal.namespace);
  const limits = { ...DEFAULT_TIMEOUTS, ...timeouts };
  const onboardings = new OnboardingClient(client, config, metrics, limits);
  const openApi = JSON.stringify(openApiDocument());

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(metrics.middleware);

  // Before any body parser: the receiver reads its own raw bytes for the signature.
  app.use(webhookRouter({ config, client, metrics, log, callTimeoutMs: limits.callMs }));
  app.use(healthRouter(client, metrics));
  // Operators' codec endpoint for the Web UI: only when CODEC_KEYS names who may read sealed secrets.
  if (config.codec.keys.length) {
    app.use(codecRouter({ keys: config.codec.keys, corsOrigins: config.codec.corsOrigins, sealingKey: deriveSealingKey(config.meta.appSecret), log }));
  }
  app.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(openApi);
  });

  const v1 = express.Router();
  v1.use(metrics.rememberMountPoint);
  v1.use(requireApiKey(config.apiKeys, log));
  v1.use(express.json({ limit: API_BODY_LIMIT }));
  v1.use(onboardingsRouter(onboardings, config.meta.appSecret, log));
  v1.use(discoveriesRouter());
  app.use('/v1', v1);

  app.use(notFoundHandler);
  app.use(errorHandler(log));
  return app;
}
