import { traceFields } from '../../telemetry/log-fields';

/**
 * The API's logger: one JSON line per event. Callers pass only what is safe to keep in logs;
 * request bodies, codes, tokens, keys and signatures are never handed to it.
 * Temporal's `Logger` (from @temporalio/common) fits this shape, so a worker's logger can be reused.
 * A line written inside a traced request carries its `trace_id` and `span_id` (telemetry/log-fields.ts).
 */
export interface Logger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

const line = (level: string, message: string, meta?: Record<string, unknown>) =>
  JSON.stringify({ time: new Date().toISOString(), level, component: 'api', message, ...traceFields(), ...meta });

export const consoleLogger: Logger = {
  info: (message, meta) => console.log(line('info', message, meta)),
  warn: (message, meta) => console.warn(line('warn', message, meta)),
  error: (message, meta) => console.error(line('error', message, meta)),
};

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
