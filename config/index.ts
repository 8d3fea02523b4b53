import { z } from 'zod';

/**
 * The service's configuration, read once from the environment (README "Configuration").
 * Worker, API and scripts all take this object; nothing else reads process.env.
 */
export interface Config {
  port: number;
  temporal: {
    /** Unset: the start script runs an embedded dev server and fills this in. */
    address?: string;
    namespace: string;
    taskQueue: string;
  };
  graph: {
    baseUrl: string;
    version: string;
    accessToken: string;
    /** Global ceiling on Graph calls per second across all workers. */
    maxRps: number;
  };
  meta: { appId: string; appSecret: string };
  webhookVerifyToken: string;
  apiKeys: string[];
  partnerCallback?: { url: string; secret: string };
  /** No META_ACCESS_TOKEN: every Graph call goes to the built-in sandbox. */
  sandbox?: { port: number };
  /** A prebuilt workflow bundle (npm run build); unset, workers bundle from source. */
  workflowBundlePath?: string;
  /** No TEMPORAL_ADDRESS: the embedded dev server `npm start` runs. */
  devServer?: DevServerConfig;
}

export interface DevServerConfig {
  port: number;
  uiPort: number;
  /** SQLite file; relative paths are taken from the repository root. */
  dbFile: string;
}

/** Credentials the sandbox accepts; never valid against Meta. */
export const SANDBOX_DEFAULTS = {
  port: 3100,
  accessToken: 'sandbox-access-token',
  appId: 'sandbox-app',
  appSecret: 'sandbox-app-secret',
  webhookVerifyToken: 'sandbox-verify-token',
  apiKey: 'sandbox-api-key',
} as const;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

const optionalText = z
  .string()
  .transform((s) => s.trim())
  .optional()
  .transform((s) => (s ? s : undefined));

const port = (fallback: number) =>
  optionalText.pipe(
    z.coerce
      .number<string | undefined>({ message: 'must be a port number' })
      .int('must be a whole number')
      .min(1, 'must be between 1 and 65535')
      .max(65535, 'must be between 1 and 65535')
      .default(fallback),
  );

const httpUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' });

const envSchema = z.object({
  PORT: port(3000),
  TEMPORAL_ADDRESS: optionalText.pipe(
    z.string().regex(/^[\w.-]+:\d+$/, 'must be host:port, e.g. 127.0.0.1:7233').optional(),
  ),
  TEMPORAL_NAMESPACE: optionalText.pipe(z.string().default('default')),
  TEMPORAL_TASK_QUEUE: optionalText.pipe(z.string().default('mm-onboarding')),
  GRAPH_API_BASE_URL: optionalText.pipe(httpUrl.optional()),
  GRAPH_API_VERSION: optionalText.pipe(
    z.string().regex(/^v\d+\.\d+$/, 'must look like v24.0').default('v24.0'),
  ),
  META_APP_ID: optionalText,
  META_APP_SECRET: optionalText,
  META_ACCESS_TOKEN: optionalText,
  WEBHOOK_VERIFY_TOKEN: optionalText,
  API_KEYS: optionalText.transform((s) =>
    s
      ?.split(',')
      .map((k) => k.trim())
      .filter(Boolean),
  ),
  GRAPH_MAX_RPS: optionalText.pipe(
    z.coerce.number<string | undefined>({ message: 'must be a number' }).positive('must be greater than 0').default(10),
  ),
  PARTNER_CALLBACK_URL: optionalText.pipe(httpUrl.optional()),
  PARTNER_CALLBACK_SECRET: optionalText,
  SANDBOX_PORT: port(SANDBOX_DEFAULTS.port),
  TEMPORAL_DEV_PORT: port(7233),
  TEMPORAL_UI_PORT: port(8233),
  TEMPORAL_DEV_DB_FILE: optionalText.pipe(z.string().default('.data/temporal.sqlite')),
  WORKFLOW_BUNDLE_PATH: optionalText,
});

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0]);
        const raw = env[name];
        return `${name} ${issue.message}${raw === undefined ? '' : ` (got ${JSON.stringify(raw)})`}`;
      }),
    );
  }
  const e = parsed.data;
  const sandbox = e.META_ACCESS_TOKEN === undefined;
  const problems: string[] = [];
  const required = (name: keyof typeof e, value: string | undefined, sandboxValue: string) => {
    if (value !== undefined) return value;
    if (sandbox) return sandboxValue;
    problems.push(`${name} is required when META_ACCESS_TOKEN is set`);
    return '';
  };

  const config: Config = {
    port: e.PORT,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
    },
    graph: {
      baseUrl: (
        e.GRAPH_API_BASE_URL ??
        (sandbox ? `http://127.0.0.1:${e.SANDBOX_PORT}` : 'https://graph.facebook.com')
      ).replace(/\/+$/, ''),
      version: e.GRAPH_API_VERSION,
      accessToken: e.META_ACCESS_TOKEN ?? SANDBOX_DEFAULTS.accessToken,
      maxRps: e.GRAPH_MAX_RPS,
    },
    meta: {
      appId: required('META_APP_ID', e.META_APP_ID, SANDBOX_DEFAULTS.appId),
      appSecret: required('META_APP_SECRET', e.META_APP_SECRET, SANDBOX_DEFAULTS.appSecret),
    },
    webhookVerifyToken: required(
      'WEBHOOK_VERIFY_TOKEN',
      e.WEBHOOK_VERIFY_TOKEN,
      SANDBOX_DEFAULTS.webhookVerifyToken,
    ),
    apiKeys: e.API_KEYS?.length ? e.API_KEYS : [],
    sandbox: sandbox ? { port: e.SANDBOX_PORT } : undefined,
    workflowBundlePath: e.WORKFLOW_BUNDLE_PATH,
    devServer: e.TEMPORAL_ADDRESS
      ? undefined
      : { port: e.TEMPORAL_DEV_PORT, uiPort: e.TEMPORAL_UI_PORT, dbFile: e.TEMPORAL_DEV_DB_FILE },
  };
  if (config.apiKeys.length === 0) {
    if (sandbox) config.apiKeys = [SANDBOX_DEFAULTS.apiKey];
    else problems.push('API_KEYS is required when META_ACCESS_TOKEN is set (comma-separated bearer keys)');
  }
  if (e.PARTNER_CALLBACK_URL && !e.PARTNER_CALLBACK_SECRET) {
    problems.push('PARTNER_CALLBACK_SECRET is required when PARTNER_CALLBACK_URL is set');
  } else if (!e.PARTNER_CALLBACK_URL && e.PARTNER_CALLBACK_SECRET) {
    problems.push('PARTNER_CALLBACK_URL is required when PARTNER_CALLBACK_SECRET is set');
  } else if (e.PARTNER_CALLBACK_URL && e.PARTNER_CALLBACK_SECRET) {
    config.partnerCallback = { url: e.PARTNER_CALLBACK_URL, secret: e.PARTNER_CALLBACK_SECRET };
  }
  problems.push(...portClashes(config));
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/** The ports this process listens on, each with the variable that sets it. */
export function listeningPorts(config: Config): Array<{ port: number; variable: string }> {
  return [
    { port: config.port, variable: 'PORT' },
    ...(config.sandbox ? [{ port: config.sandbox.port, variable: 'SANDBOX_PORT' }] : []),
    ...(config.devServer
      ? [
          { port: config.devServer.port, variable: 'TEMPORAL_DEV_PORT' },
          { port: config.devServer.uiPort, variable: 'TEMPORAL_UI_PORT' },
        ]
      : []),
  ];
}

function portClashes(config: Config): string[] {
  const byPort = new Map<number, string[]>();
  for (const { port, variable } of listeningPorts(config)) byPort.set(port, [...(byPort.get(port) ?? []), variable]);
  return [...byPort]
    .filter(([, variables]) => variables.length > 1)
    .map(([port, variables]) => `${variables.join(' and ')} are both ${port}; each needs a port of its own`);
}

/** Logs the config without secrets, for start-up banners. */
export function describeConfig(config: Config): Record<string, unknown> {
  return {
    port: config.port,
    temporal: config.temporal,
    graph: { baseUrl: config.graph.baseUrl, version: config.graph.version, maxRps: config.graph.maxRps },
    metaAppId: config.meta.appId,
    apiKeys: `${config.apiKeys.length} key(s)`,
    partnerCallback: config.partnerCallback ? { url: redactUrl(config.partnerCallback.url) } : 'off',
    sandbox: config.sandbox ? `on (port ${config.sandbox.port})` : 'off',
    devServer: config.devServer ?? 'off (TEMPORAL_ADDRESS is set)',
  };
}

/** Query strings and credentials in a URL may carry secrets. */
export function redactUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}
