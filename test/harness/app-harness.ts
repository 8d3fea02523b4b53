/**
 * The API test harness: the shared stack (real dev server, real workers on their own task queue,
 * Graph sandbox) plus the real Express app listening on 127.0.0.1, with the sandbox's signed
 * webhooks pointed at it. Log lines are captured so tests can check what is (and is not) logged.
 */
export { eventually } from './wait';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { Express } from 'express';
import { closeApp, createApp } from '../../api/app';
import { listen } from '../../api/server';
import type { Logger } from '../../api/http/logger';
import type { TemporalTimeouts } from '../../api/partner/onboarding-client';
import { WEBHOOK_PATH } from '../../api/webhooks/receiver';
import { signatureOf } from '../../api/webhooks/signature';
import { checkedAgent, servedDocumentChecker, type OpenApiChecker } from './openapi-check';
import { startStack, TEST_SECRETS, type Stack, type StackOptions } from './stack';

export { FAST, TEST_SECRETS } from './stack';

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  meta?: Record<string, unknown>;
}

/** Keeps every log line in memory (and prints none). */
export function capturingLogger(): Logger & { lines: LogLine[]; text(): string } {
  const lines: LogLine[] = [];
  return {
    lines,
    text: () => lines.map((l) => JSON.stringify(l)).join('\n'),
    info: (message, meta) => void lines.push({ level: 'info', message, meta }),
    warn: (message, meta) => void lines.push({ level: 'warn', message, meta }),
    error: (message, meta) => void lines.push({ level: 'error', message, meta }),
  };
}

export interface AppHarness {
  stack: Stack;
  app: Express;
  /** http://127.0.0.1:<port> of the listening app. */
  url: string;
  logs: ReturnType<typeof capturingLogger>;
  /** supertest against the listening app; every /v1 answer is checked against the served /openapi.json. */
  http(): ReturnType<typeof request>;
  /** The checker `http()` uses, built from the document the app serves. */
  openApi: OpenApiChecker;
  /** Authorization header with a valid key. */
  auth: { Authorization: string };
  /** POSTs `body` to the webhook route, signed with the app secret over exactly these bytes. */
  postWebhook(body: string): request.Test;
  stop(): Promise<void>;
}

export async function startAppHarness(
  opts: StackOptions & { timeouts?: Partial<TemporalTimeouts>; templateCacheMs?: number } = {},
): Promise<AppHarness> {
  const stack = await startStack(opts);
  const logs = capturingLogger();
  const app = createApp({ config: stack.config, client: stack.client, log: logs, timeouts: opts.timeouts, templateCacheMs: opts.templateCacheMs });
  let server: Server | undefined;
  let openApi: OpenApiChecker;
  try {
    // The server `npm start` runs, with its timeouts and error answers.
    server = await listen(app, 0, '127.0.0.1');
    openApi = await servedDocumentChecker(request(server));
  } catch (err) {
    server?.close();
    await closeApp(app);
    await stack.stop();
    throw err;
  }
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stack.sandbox.world.setWebhookUrl(`${url}${WEBHOOK_PATH}`);

  return {
    stack,
    app,
    url,
    logs,
    http: () => checkedAgent(request(url), openApi),
    openApi,
    auth: { Authorization: `Bearer ${TEST_SECRETS.apiKey}` },
    postWebhook: (body) => {
      const bytes = Buffer.from(body, 'utf8');
      return request(url)
        .post(WEBHOOK_PATH)
        .set('Content-Type', 'application/json')
        .set('X-Hub-Signature-256', signatureOf(bytes, stack.config.meta.appSecret))
        .send(body);
    },
    async stop() {
      const s = server!;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
      await closeApp(app);
      await stack.stop();
    },
  };
}

/** A webhook body in Meta's envelope with the given entries. */
export function webhookBody(entries: Array<{ id: string; time?: number; changes: Array<{ field: string; value: unknown }> }>): string {
  const time = Math.floor(Date.now() / 1000);
  return JSON.stringify({ object: 'whatsapp_business_account', entry: entries.map((e) => ({ time, ...e })) });
}
