/**
 * The HTTP face of mm-onboarding: Meta's webhook receiver, the partner API (/v1), health, metrics and
 * the OpenAPI document. It holds no state of its own: everything durable lives in Temporal.
 */
import express from 'express';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { requireApiKey } from './auth';
import { discoveriesRouter } from './discoveries';
import { EmbeddedSignup, embeddedSignupRouter } from './embedded-signup';
import { errorHandler, notFoundHandler } from './errors';
import { healthRouter } from './health';
import { consoleLogger, type Logger } from './logger';
import { createMetrics } from './metrics';
import { DEFAULT_TIMEOUTS, OnboardingClient, type TemporalTimeouts } from './onboarding-client';
import { onboardingsRouter } from './onboardings';
import { PartnerTokenCheck } from './partner-token';
import { openApiDocument } from './openapi';
import { SignupLinkSigner } from './signup-link-token';
import { signupPageRouter } from './signup-page';
import { deriveSealingKey } from '../secrets/sealing';
import { webhookRouter } from './webhooks/receiver';

export type { Logger } from './logger';

export interface AppDeps {
  config: Config;
  client: Client;
  log?: Logger;
  /** gRPC deadlines of the calls to Temporal; tests shorten them. */
  timeouts?: Partial<TemporalTimeouts>;
  /** META_ACCESS_TOKEN's permissions for /readyz; built from the config when not given. */
  partnerToken?: PartnerTokenCheck;
}

/** Partner request bodies are small; a bigger one is a mistake or an attack. */
const API_BODY_LIMIT = '64kb';

export function createApp({ config, client, log = consoleLogger, timeouts, partnerToken }: AppDeps): express.Express {
  const metrics = createMetrics();
  const limits = { ...DEFAULT_TIMEOUTS, ...timeouts };
  const onboardings = new OnboardingClient(client, config, metrics, limits);
  const openApi = JSON.stringify(openApiDocument());
  const signup = new EmbeddedSignup(onboardings, deriveSealingKey(config.meta.appSecret), log);
  const links = new SignupLinkSigner(config.meta.appSecret);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(metrics.middleware);

  // Before any body parser: the receiver reads its own raw bytes for the signature.
  app.use(webhookRouter({ config, client, metrics, log, callTimeoutMs: limits.callMs }));
  app.use(healthRouter(client, metrics, partnerToken ?? PartnerTokenCheck.fromConfig(config)));
  app.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(openApi);
  });

  const v1 = express.Router();
  v1.use(metrics.rememberMountPoint);
  v1.use(requireApiKey(config.apiKeys, log));
  v1.use(express.json({ limit: API_BODY_LIMIT }));
  v1.use(onboardingsRouter(onboardings, config.meta.appSecret, log));
  v1.use(embeddedSignupRouter(config, signup, links, log));
  v1.use(discoveriesRouter());
  app.use('/v1', v1);
  // Public: the hosted signup page, authorised by its signed link alone.
  app.use(signupPageRouter({ config, signup, onboardings, links, log }));

  app.use(notFoundHandler);
  app.use(errorHandler(log));
  return app;
}
