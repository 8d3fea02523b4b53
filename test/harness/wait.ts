/** Bounded polling for tests: every wait has a deadline and says what it was waiting for. */

/**
 * Polls `probe` until it returns a value (not undefined), at most `timeoutMs`. `what` may be a
 * function, read only on timeout (e.g. a child process's output at that moment).
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  what: string | (() => string) = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}${lastError ? `: ${String(lastError)}` : ''}`);
}

/** Waits until `check` holds. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  what: string | (() => string) = 'condition',
): Promise<void> {
  await eventually(async () => ((await check()) ? true : undefined), timeoutMs, what);
}
