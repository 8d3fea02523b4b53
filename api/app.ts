/**
 * The HTTP face of mm-onboarding: Meta's webhook receiver, the partner API (/v1), health, metrics and
 * the OpenAPI document. It holds no state of its own: everything durable lives in Temporal.
 */
import express from 'express';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { requireApiKey } from './http/api-key-auth';
import { codecRouter } from './ops/codec-server';
import { discoveriesRouter } from './partner/discovery-routes';
import { BulkRecheckClient } from './partner/bulk-recheck-client';
import { bulkRechecksRouter } from './partner/bulk-recheck-routes';
import { EmbeddedSignup, embeddedSignupRouter } from './signup/embedded-signup';
import { DiscoveryClient } from './partner/discovery-client';
import { errorHandler, notFoundHandler } from './http/errors';
import { healthRouter } from './ops/health';
import { consoleLogger, type Logger } from './http/logger';
import { requestSpans } from './http/request-spans';
import { createMetrics } from './ops/metrics';
import { registerOnboardingGauges } from './ops/onboarding-gauges';
import { DEFAULT_TIMEOUTS, OnboardingClient, type TemporalTimeouts } from './partner/onboarding-client';
import { onboardingsRouter } from './partner/onboarding-routes';
import { onboardingSummaryRouter, visibilityCounter, visibilityLister } from './partner/onboarding-summary';
import { WabaOwnerCheck } from './partner/owner-check';
import { PartnerTokenCheck } from './ops/meta-token-check';
import { openApiDocument } from './ops/openapi';
import { createGraphClient, type GraphClient } from '../graph';
import { SendGate } from './sends/send-gate';
import { DriftChecks } from './sends/drift-check';
import { sendsRouter } from './sends/send-routes';
import { DEFAULT_TEMPLATE_CACHE_MS, TemplateReadiness } from './sends/template-readiness-cache';
import { templatesRouter } from './sends/template-routes';
import { WabaPhoneNumbers } from './sends/waba-phone-numbers';
import { SignupLinkSigner } from './signup/link-token';
import { signupPageRouter } from './signup/hosted-page';
import { SignupLinkClient } from './signup/signup-link-client';
import { SignupPreflight } from './signup/signup-preflight';
import { deriveSealingKey } from '../secrets/sealing';
import { webhookRouter } from './webhooks/receiver';
import { INSIGHTS_ASKS_PER_MINUTE, RequestBudget } from './insights/insights-budget';
import { InsightsReader } from './insights/insights-reader';
import { insightsRouter } from './insights/insights-routes';

export type { Logger } from './http/logger';

export interface AppDeps {
  config: Config;
  client: Client;
  log?: Logger;
  /** gRPC deadlines of the calls to Temporal; tests shorten them. */
  timeouts?: Partial<TemporalTimeouts>;
  /** How long the send gate trusts a WABA's template readiness before asking the onboarding again. */
  templateCacheMs?: number;
  /** The Graph client sends go through; one is made from the config (and closed by `closeApp`) otherwise. */
  graph?: GraphClient;
  /** META_ACCESS_TOKEN's permissions for /readyz; built from the config when not given. */
  partnerToken?: PartnerTokenCheck;
}

/** Partner request bodies are small; a bigger one is a mistake or an attack. */
const API_BODY_LIMIT = '64kb';

export function createApp({ config, client, log = consoleLogger, timeouts, templateCacheMs, graph, partnerToken }: AppDeps): express.Express {
  const metrics = createMetrics();
  registerOnboardingGauges(metrics.registry, client, config.temporal.namespace, config.temporal.deployment.name);
  const limits = { ...DEFAULT_TIMEOUTS, ...timeouts };
  const onboardings = new OnboardingClient(client, config, metrics, limits);
  const countRuns = visibilityCounter(client, config.temporal.namespace, onboardings, limits.callMs);
  const discoveries = new DiscoveryClient(client, config, onboardings, limits, countRuns);
  const bulkRechecks = new BulkRecheckClient(client, config, onboardings, limits, countRuns);
  const graphClient = graph ?? createGraphClient(config, { onError: (endpoint, code) => metrics.graphErrors.inc({ endpoint, code }) });
  const readiness = new TemplateReadiness(onboardings, metrics, log, templateCacheMs ?? DEFAULT_TEMPLATE_CACHE_MS);
  const drift = new DriftChecks(onboardings, metrics, log);
  const gate = new SendGate(readiness, graphClient, metrics, drift);
  const openApi = JSON.stringify(openApiDocument());
  const signup = new EmbeddedSignup(onboardings, new SignupPreflight(graphClient, deriveSealingKey(config.meta.appSecret)), log);
  const linkRuns = new SignupLinkClient(client, config, onboardings, limits);
  const links = new SignupLinkSigner(config.meta.appSecret);
  const tokenCheck = partnerToken ?? PartnerTokenCheck.fromConfig(config);
  const insights = new InsightsReader({ client, taskQueue: config.temporal.taskQueue, partnerToken: tokenCheck, log, queryMs: limits.queryMs, pollers: onboardings.pollers });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Only with tracing on: even OpenTelemetry's no-op span costs a context switch and two listeners per
  // request, a measurable share of a `messages` webhook's time (npm run bench:webhooks).
  if (config.tracing) app.use(requestSpans);
  app.use((_req, res, next) => {
    res.locals.receivedAt = performance.now(); // Server-Timing on sends counts from here
    next();
  });
  app.use(metrics.middleware);

  // Before any body parser: the receiver reads its own raw bytes for the signature.
  app.use(webhookRouter({ config, client, metrics, log, callTimeoutMs: limits.callMs, drift, accountEventHeard: (wabaId) => readiness.forget(wabaId) }));
  // /metrics costs Temporal visibility counts: with METRICS_BEARER_TOKEN set, only its scraper reads it.
  if (config.metricsBearerToken) app.get('/metrics', requireApiKey([config.metricsBearerToken], log));
  app.use(healthRouter(client, metrics, tokenCheck));
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
  v1.use(onboardingSummaryRouter(countRuns, visibilityLister(client, config.temporal.namespace, onboardings, limits.callMs)));
  v1.use(onboardingsRouter(onboardings, new WabaOwnerCheck(graphClient), config.meta.appSecret, log));
  v1.use(templatesRouter(readiness));
  v1.use(sendsRouter(gate, onboardings, readiness, new WabaPhoneNumbers(graphClient), log));
  v1.use(embeddedSignupRouter(config, signup, links, log));
  v1.use(discoveriesRouter(discoveries, log));
  v1.use(bulkRechecksRouter(bulkRechecks, log));
  v1.use(insightsRouter(insights, new RequestBudget(INSIGHTS_ASKS_PER_MINUTE)));
  app.use('/v1', v1);
  // Public: the hosted signup page, authorised by its signed link alone.
  app.use(signupPageRouter({ config, signup, linkRuns, links, log }));

  app.use(notFoundHandler);
  app.use(errorHandler(log));
  // The send path's connection pool to Graph, closed with the app (closeApp).
  if (!graph) app.locals.graphClient = graphClient;
  return app;
}

/** Releases what the app holds open besides its server: the send path's Graph connections. */
export async function closeApp(app: express.Express): Promise<void> {
  await (app.locals.graphClient as GraphClient | undefined)?.close();
}
