import type { Config } from './index';

/** How long an entry point in sandbox mode waits for its sandbox (started beside it) to answer. */
const SANDBOX_WAIT_MS = 10_000;

/**
 * Sandbox mode only beside a running sandbox: an entry point given MM_SANDBOX=true (the image, `npm
 * run worker`) checks that the Graph sandbox answers at its Graph URL before it starts, instead of
 * serving the sandbox's public credentials while every Graph call is refused. `npm start` starts its
 * own sandbox and does not need this.
 */
export async function assertSandboxRunning(config: Config, waitMs = SANDBOX_WAIT_MS): Promise<void> {
  if (!config.sandbox) return;
  const url = `${config.graph.baseUrl}/_sandbox/world`;
  const deadline = Date.now() + waitMs;
  let last = '';
  for (let attempt = 0; attempt < 100 && Date.now() < deadline; attempt++) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      const body = (await res.json().catch(() => undefined)) as { wabas?: unknown } | undefined;
      if (res.ok && Array.isArray(body?.wabas)) return;
      last = `HTTP ${res.status}, not the sandbox`;
    } catch (err) {
      last = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(
    `MM_SANDBOX=true but no Graph sandbox answers at ${config.graph.baseUrl} (${last}). Sandbox mode runs only ` +
      'beside its sandbox (`npm start` starts one); for Meta set META_ACCESS_TOKEN, META_APP_ID, META_APP_SECRET ' +
      '(and for the API WEBHOOK_VERIFY_TOKEN, API_KEYS) and leave MM_SANDBOX unset.',
  );
}
