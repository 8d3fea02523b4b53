import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { controlRoutes } from './control-routes';
import { FaultBook } from './faults';
import { graphRoutes } from './graph-routes';
import { jsSdkRoutes } from './js-sdk';
import { SandboxWorld } from './state';
import { WebhookSender, type WebhookRetryPolicy } from './webhooks';

export interface SandboxOptions {
  appId: string;
  appSecret: string;
  /** The partner's system-user token: good for every call. */
  accessToken: string;
  /** Informational: every vN.N path is served. */
  version?: string;
  /** Where `account_update` webhooks go; settable later with `world.setWebhookUrl`. */
  webhookUrl?: string;
  /** Auto mode: sign the terms this long after an Intent request or a signup (code exchange / subscribed_apps). */
  autoSignTermsAfterMs?: number;
  /** Embedded Signup code lifetime. Default 30 000 (Meta's 30 seconds). */
  codeTtlMs?: number;
  /** Template-to-ad-account sync after onboarding, approval or an idle template's reuse. Default 600 000 (10 minutes). */
  templateSyncMs?: number;
  /** A template unused this long on /marketing_messages re-syncs on its next send. Default 7 days. */
  templateIdleMs?: number;
  /** Webhook tries; defaults to 5 tries over about 3 s. */
  webhookRetry?: Partial<WebhookRetryPolicy>;
  log?: (msg: string) => void;
}

export interface Sandbox {
  app: express.Express;
  world: SandboxWorld;
  /** Listens on 127.0.0.1; port 0 (the default) picks a free one. */
  listen(port?: number): Promise<{ url: string }>;
  /** Stops the server, timers and webhook retries. */
  close(): Promise<void>;
}

/** A stateful fake of the Graph endpoints the service uses. The app never imports this. */
export function createSandbox(opts: SandboxOptions): Sandbox {
  const log = opts.log ?? (() => {});
  const faults = new FaultBook();
  const webhooks = new WebhookSender({ appSecret: opts.appSecret, url: opts.webhookUrl, retry: opts.webhookRetry, log });
  const world = new SandboxWorld(
    {
      appId: opts.appId,
      accessToken: opts.accessToken,
      codeTtlMs: opts.codeTtlMs ?? 30_000,
      autoSignTermsAfterMs: opts.autoSignTermsAfterMs,
      messaging: { syncMs: opts.templateSyncMs ?? 600_000, idleMs: opts.templateIdleMs ?? 7 * 24 * 3600 * 1000 },
      log,
    },
    faults,
    webhooks,
  );
  const graph = graphRoutes(world, faults, { appId: opts.appId, appSecret: opts.appSecret, accessToken: opts.accessToken, log });

  const app = express();
  app.disable('x-powered-by');
  app.use('/_sandbox', controlRoutes(world));
  app.use(jsSdkRoutes(world));
  app.use(graph.router);

  let server: Server | undefined;

  return {
    app,
    world,
    listen(port = 0) {
      return new Promise((resolve, reject) => {
        const s = app.listen(port, '127.0.0.1', (err?: Error) => {
          if (err) return reject(err);
          server = s;
          const { port: actual } = s.address() as AddressInfo;
          log(`Graph sandbox listening on http://127.0.0.1:${actual}`);
          resolve({ url: `http://127.0.0.1:${actual}` });
        });
        s.once('error', reject);
      });
    },
    async close() {
      world.stopTimers();
      graph.close();
      await webhooks.close();
      if (server) {
        const s = server;
        server = undefined;
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        });
      }
    },
  };
}

export { SandboxWorld } from './state';
export type {
  CallFilter,
  GraphCall,
  NewBusiness,
  NewPhoneNumber,
  NewWaba,
  RepeatAnswer,
  SandboxBusiness,
  SandboxPhoneNumber,
  SandboxWaba,
  PlannedSignup,
  SignTermsOptions,
} from './state';
export { ALL_SCOPES } from './state';
export { FAULT_KINDS, GRAPH_ENDPOINTS, type Fault, type FaultKind, type FaultSpec, type GraphEndpoint } from './faults';
export { ACCOUNT_EVENTS, metaJson, type AccountEvent, type WebhookBody } from './payloads';
export { type NewTemplate, type SandboxTemplate, type SentMessageRecord } from './messaging';
export { hubSignature256, type WebhookDelivery, type WebhookRetryPolicy } from './webhooks';
export { INTENT_ALREADY_SENT_SUBCODE, OAUTH_CODE_EXPIRED_SUBCODE, OAUTH_CODE_INVALID_SUBCODE, OAUTH_CODE_USED_SUBCODE } from './meta-errors';
