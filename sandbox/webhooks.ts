import { createHmac } from 'node:crypto';
import { Agent, request } from 'undici';

/** `X-Hub-Signature-256`: HMAC-SHA256 of the exact body bytes with the app secret. */
export const hubSignature256 = (body: Buffer | string, appSecret: string) =>
  `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;

/** Meta still sends the SHA-1 header next to the SHA-256 one. */
const hubSignature = (body: Buffer | string, appSecret: string) =>
  `sha1=${createHmac('sha1', appSecret).update(body).digest('hex')}`;

export interface WebhookRetryPolicy {
  /** Tries in all, the first included. Default 5. */
  attempts: number;
  /** Wait before the second try; doubles after each. Default 200 ms (5 tries span about 3 s). */
  backoffMs: number;
  /** Per-try limit. Default 5 s. */
  timeoutMs: number;
}

export const DEFAULT_WEBHOOK_RETRY: WebhookRetryPolicy = { attempts: 5, backoffMs: 200, timeoutMs: 5_000 };

export interface WebhookAttempt {
  at: string;
  /** HTTP status of the receiver's answer; absent when none came. */
  status?: number;
  error?: string;
}

export interface WebhookDelivery {
  id: number;
  /** The exact bytes sent (and signed), as text. */
  body: string;
  signature: string;
  /** `value.event` of every change, in order. */
  events: string[];
  /** The WABA each change is about (`waba_info.waba_id`, else the entry id). */
  wabaIds: string[];
  state: 'pending' | 'delivered' | 'failed' | 'skipped' | 'aborted';
  attempts: WebhookAttempt[];
  /** The last answer's status, if any. */
  status?: number;
}

interface SenderOptions {
  appSecret: string;
  url?: string;
  retry?: Partial<WebhookRetryPolicy>;
  log: (msg: string) => void;
}

/**
 * Delivers signed webhooks like Meta: POSTs the body, retries a non-2xx answer with backoff. Unlike
 * Meta (which keeps trying for days) the number of tries is bounded, so tests end.
 */
export class WebhookSender {
  readonly deliveries: WebhookDelivery[] = [];
  url?: string;
  private readonly retry: WebhookRetryPolicy;
  private readonly agent = new Agent({ keepAliveTimeout: 1_000 });
  private readonly waits = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: SenderOptions) {
    this.url = options.url;
    this.retry = { ...DEFAULT_WEBHOOK_RETRY, ...options.retry };
  }

  async send(body: string): Promise<WebhookDelivery> {
    const delivery: WebhookDelivery = {
      id: this.nextId++,
      body,
      signature: hubSignature256(body, this.options.appSecret),
      ...summarise(body),
      state: 'pending',
      attempts: [],
    };
    this.deliveries.push(delivery);
    const url = this.url;
    if (!url) {
      delivery.state = 'skipped';
      this.options.log(`webhook #${delivery.id} (${delivery.events.join(', ')}) not sent: no webhook URL set`);
      return delivery;
    }
    for (let attempt = 1; attempt <= this.retry.attempts && !this.closed; attempt++) {
      if (attempt > 1) await this.wait(this.retry.backoffMs * 2 ** (attempt - 2));
      if (this.closed) break;
      const result = await this.post(url, body, delivery.signature);
      delivery.attempts.push(result);
      delivery.status = result.status;
      if (result.status !== undefined && result.status >= 200 && result.status < 300) {
        delivery.state = 'delivered';
        this.options.log(`webhook #${delivery.id} (${delivery.events.join(', ')}) delivered: HTTP ${result.status}`);
        return delivery;
      }
    }
    delivery.state = this.closed ? 'aborted' : 'failed';
    this.options.log(`webhook #${delivery.id} (${delivery.events.join(', ')}) ${delivery.state} after ${delivery.attempts.length} tries`);
    return delivery;
  }

  /** Stops retrying and closes connections; pending deliveries end as `aborted`. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waits) {
      clearTimeout(w.timer);
      w.resolve();
    }
    this.waits.clear();
    await this.agent.close();
  }

  /** Forget recorded deliveries (world reset); sending continues. */
  forget(): void {
    this.deliveries.length = 0;
  }

  private async post(url: string, body: string, signature: string): Promise<WebhookAttempt> {
    const at = new Date().toISOString();
    try {
      const bytes = Buffer.from(body, 'utf8');
      const res = await request(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'facebookexternalua',
          'x-hub-signature': hubSignature(bytes, this.options.appSecret),
          'x-hub-signature-256': signature,
        },
        body: bytes,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.retry.timeoutMs),
      });
      await res.body.dump();
      return { at, status: res.statusCode };
    } catch (err) {
      return { at, error: (err as Error).message };
    }
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const w = {
        resolve,
        timer: setTimeout(() => {
          this.waits.delete(w);
          resolve();
        }, ms),
      };
      this.waits.add(w);
    });
  }
}

function summarise(body: string): Pick<WebhookDelivery, 'events' | 'wabaIds'> {
  const events: string[] = [];
  const wabaIds: string[] = [];
  try {
    const parsed = JSON.parse(body) as { entry?: Array<{ id?: string; changes?: Array<{ value?: Record<string, unknown> }> }> };
    for (const entry of parsed.entry ?? []) {
      for (const change of entry.changes ?? []) {
        const value = change.value ?? {};
        events.push(String(value.event ?? '?'));
        const info = value.waba_info as { waba_id?: string } | undefined;
        wabaIds.push(String(info?.waba_id ?? entry.id ?? '?'));
      }
    }
  } catch {
    // Raw test bodies need not be JSON.
  }
  return { events, wabaIds };
}
