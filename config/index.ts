import { z } from 'zod';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { quotedValue } from './quoted-values';
import { SECRET_VARIABLES, withSecretFiles } from './secret-files';
import { tracingConfig, tracingEnvSchema, type TracingConfig } from './tracing';

export type { TracingConfig } from './tracing';

/**
 * The service's configuration, read once from the environment (docs/configuration.md).
 * Worker, API and scripts all take this object; nothing else reads process.env.
 */
export interface Config {
  port: number;
  /** Address the HTTP API (and a worker's metrics) listen on: loopback unless told otherwise (containers: 0.0.0.0). */
  host: string;
  temporal: {
    /** Unset: the start script runs an embedded dev server and fills this in. */
    address?: string;
    namespace: string;
    taskQueue: string;
    /** How to reach the cluster besides its address (Temporal's own environment configuration). */
    connection: TemporalConnectionSettings;
    /** The workers' Worker Deployment Version (temporal/deployment-version.ts, docs/versioning.md). */
    deployment: {
      /** TEMPORAL_DEPLOYMENT_NAME, default `mm-onboarding`. */
      name: string;
      /** TEMPORAL_WORKER_BUILD_ID; unset: `<package version>-<git short sha>` of the running code. */
      buildId?: string;
      /** TEMPORAL_WORKER_SET_CURRENT: a worker makes its version current once it polls (dev, tests, single-version stacks). */
      setCurrentOnStart: boolean;
      /** TEMPORAL_RELEASE_RATE: runs of older builds a release wakes or moves per second (workflows/release.ts). */
      releaseRatePerSecond: number;
      /** TEMPORAL_RELEASE_WATCH_SECONDS: how often a worker of a rollout checks whether its build was made current. */
      releaseWatchSeconds: number;
    };
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
  /** MM_SANDBOX=true (`npm start` without META_ACCESS_TOKEN): every Graph call goes to the built-in sandbox. */
  sandbox?: { port: number };
  /** A prebuilt workflow bundle (npm run build); unset, workers bundle from source. */
  workflowBundlePath?: string;
  /** The service's public origin, e.g. https://onboarding.example.com: signup links point here. */
  publicBaseUrl: string;
  /** The hosted Embedded Signup page. */
  embeddedSignup: {
    /** META_ES_CONFIG_ID; unset outside sandbox mode: signup links answer 501. */
    configId?: string;
    /** `extras.featureType` of the popup launch; undefined leaves it out. */
    featureType?: string;
    /** Where the page loads Facebook's JavaScript SDK from. */
    sdkUrl: string;
    /** Origins whose WA_EMBEDDED_SIGNUP messages the page believes: Meta's, or the sandbox's in sandbox mode. */
    messageOrigins: string[];
  };
  /** Bearer keys that may read sealed secrets through the codec endpoint; empty: the endpoint is off. */
  codec: { keys: string[]; corsOrigins: string[] };
  /** Bearer key a scraper must send for the API's /metrics; unset: /metrics is open. */
  metricsBearerToken?: string;
  /** Port of a worker process's Prometheus endpoint (the SDK's metrics and the service's own). */
  workerMetricsPort?: number;
  /** Workflows a worker keeps in memory between tasks (the SDK sizes it from the heap when unset). */
  workerMaxCachedWorkflows?: number;
  /** A discovery starts its next page only once the task queue's workflow-task backlog is at most this. */
  discoveryMaxTaskBacklog: number;
  /** No TEMPORAL_ADDRESS: the embedded dev server `npm start` runs. */
  devServer?: DevServerConfig;
  /** OpenTelemetry traces (OTEL_* variables, config/tracing.ts); undefined: off. */
  tracing?: TracingConfig;
}

/** API key, TLS and gRPC metadata for the Temporal connection, as `@temporalio/envconfig` reads them. */
export interface TemporalConnectionSettings {
  apiKey?: string;
  tls?: TLSConfig | boolean;
  metadata?: Record<string, string>;
}

export interface DevServerConfig {
  port: number;
  uiPort: number;
  /** SQLite file; relative paths are taken from the repository root. */
  dbFile: string;
}

/** Meta's JavaScript SDK and the origins its Embedded Signup popup posts messages from. */
export const META_SDK_URL = 'https://connect.facebook.net/en_US/sdk.js';
export const META_POPUP_ORIGINS = ['https://www.facebook.com', 'https://web.facebook.com'];
/** The seed's popup payload: `extras.featureType`. */
export const DEFAULT_ES_FEATURE_TYPE = 'whatsapp_business_app_onboarding';
/** Workflow tasks a discovery lets wait on the queue before it starts its next page. */
export const DEFAULT_DISCOVERY_MAX_TASK_BACKLOG = 200;

/** Credentials the sandbox accepts; public, so never accepted outside sandbox mode. */
export const SANDBOX_DEFAULTS = {
  port: 3100,
  accessToken: 'sandbox-access-token',
  appId: 'sandbox-app',
  appSecret: 'sandbox-app-secret',
  webhookVerifyToken: 'sandbox-verify-token',
  apiKey: 'sandbox-api-key',
  esConfigId: 'sandbox-es-config',
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

const commaList = optionalText.transform((s) =>
  s
    ?.split(',')
    .map((k) => k.trim())
    .filter(Boolean) ?? [],
);

const envSchema = z.object({
  MM_SANDBOX: optionalText.pipe(
    z.enum(['true', 'false', '1', '0'], { message: 'must be true or false' }).default('false').transform((s) => s === 'true' || s === '1'),
  ),
  PORT: port(3000),
  HOST: optionalText.pipe(z.union([z.ipv4(), z.ipv6(), z.literal('localhost')], { message: 'must be an IP address to listen on, e.g. 127.0.0.1 or 0.0.0.0' }).default('127.0.0.1')),
  TEMPORAL_ADDRESS: optionalText.pipe(
    z.string().regex(/^[\w.-]+:\d+$/, 'must be host:port, e.g. 127.0.0.1:7233').optional(),
  ),
  TEMPORAL_NAMESPACE: optionalText.pipe(z.string().default('default')),
  TEMPORAL_TASK_QUEUE: optionalText.pipe(z.string().default('mm-onboarding')),
  TEMPORAL_DEPLOYMENT_NAME: optionalText.pipe(
    z
      .string()
      .regex(/^[^.:]+$/, "must not contain '.' or ':'")
      .refine((s) => !s.startsWith('__'), "must not start with '__'")
      .default('mm-onboarding'),
  ),
  TEMPORAL_WORKER_BUILD_ID: optionalText.pipe(
    z.string().refine((s) => !s.startsWith('__'), "must not start with '__'").optional(),
  ),
  TEMPORAL_WORKER_SET_CURRENT: optionalText.pipe(
    z.enum(['true', 'false', '1', '0'], { message: 'must be true or false' }).default('false').transform((s) => s === 'true' || s === '1'),
  ),
  TEMPORAL_RELEASE_RATE: optionalText.pipe(
    z.coerce.number<string | undefined>({ message: 'must be a number' }).positive('must be greater than 0').max(1000, 'must be at most 1000').default(20),
  ),
  TEMPORAL_RELEASE_WATCH_SECONDS: optionalText.pipe(
    z.coerce.number<string | undefined>({ message: 'must be a whole number' }).int().min(1, 'must be at least 1').max(3600, 'must be at most 3600').default(30),
  ),
  GRAPH_API_BASE_URL: optionalText.pipe(httpUrl.optional()),
  GRAPH_API_VERSION: optionalText.pipe(
    z.string().regex(/^v\d+\.\d+$/, 'must look like v24.0').default('v24.0'),
  ),
  META_APP_ID: optionalText,
  META_APP_SECRET: optionalText,
  META_ACCESS_TOKEN: optionalText,
  WEBHOOK_VERIFY_TOKEN: optionalText,
  API_KEYS: commaList,
  CODEC_KEYS: commaList,
  CODEC_CORS_ORIGINS: commaList.pipe(z.array(httpUrl)),
  METRICS_BEARER_TOKEN: optionalText.pipe(
    z
      .string()
      .min(16, 'must be at least 16 characters')
      .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces (it is sent as "Authorization: Bearer <key>")')
      .optional(),
  ),
  WORKER_METRICS_PORT: optionalText.pipe(
    z.coerce.number<string | undefined>({ message: 'must be a port number' }).int().min(1).max(65535).optional(),
  ),
  WORKER_MAX_CACHED_WORKFLOWS: optionalText.pipe(
    z.coerce.number<string | undefined>({ message: 'must be a whole number' }).int().min(2, 'must be at least 2').optional(),
  ),
  DISCOVERY_MAX_TASK_BACKLOG: optionalText.pipe(
    z.coerce.number<string | undefined>({ message: 'must be a whole number' }).int().min(1, 'must be at least 1').default(DEFAULT_DISCOVERY_MAX_TASK_BACKLOG),
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
  PUBLIC_BASE_URL: optionalText.pipe(httpUrl.optional()),
  META_ES_CONFIG_ID: optionalText,
  META_ES_FEATURE_TYPE: optionalText,
  META_SDK_URL: optionalText.pipe(httpUrl.optional()),
  ...tracingEnvSchema,
});

type Env = Record<string, string | undefined>;

/**
 * Which process the configuration is for: each refuses to start without the settings it needs.
 * `api` answers partners and Meta's webhooks; `worker` calls Graph; `all` is both (`npm start`);
 * `release` is the operator's `npm run release`, which talks to Temporal only.
 */
export type ConfigRole = 'api' | 'worker' | 'all' | 'release';

/** The service name spans carry unless OTEL_SERVICE_NAME says otherwise. */
const SERVICE_NAMES: Record<ConfigRole, string> = {
  all: 'mm-onboarding',
  api: 'mm-onboarding-api',
  worker: 'mm-onboarding-worker',
  release: 'mm-onboarding-release',
};

/** What each role cannot run without outside sandbox mode. */
const REQUIRED: Record<ConfigRole, readonly string[]> = {
  worker: ['META_ACCESS_TOKEN', 'META_APP_ID', 'META_APP_SECRET'],
  api: ['META_ACCESS_TOKEN', 'META_APP_ID', 'META_APP_SECRET', 'WEBHOOK_VERIFY_TOKEN', 'API_KEYS'],
  all: ['META_ACCESS_TOKEN', 'META_APP_ID', 'META_APP_SECRET', 'WEBHOOK_VERIFY_TOKEN', 'API_KEYS'],
  release: [],
};

/** The sandbox's public values, by the variable each would stand in for. */
const SANDBOX_PUBLIC_VALUES: Record<string, string> = {
  META_ACCESS_TOKEN: SANDBOX_DEFAULTS.accessToken,
  META_APP_SECRET: SANDBOX_DEFAULTS.appSecret,
  WEBHOOK_VERIFY_TOKEN: SANDBOX_DEFAULTS.webhookVerifyToken,
  API_KEYS: SANDBOX_DEFAULTS.apiKey,
  CODEC_KEYS: SANDBOX_DEFAULTS.apiKey,
};

/**
 * `npm start`'s environment: without META_ACCESS_TOKEN (and no MM_SANDBOX of its own) it is the
 * one-command demo on the built-in sandbox, which `npm start` runs. No other entry point does this.
 */
export function withDemoSandbox(env: Env): Env {
  if (env.MM_SANDBOX?.trim() || env.META_ACCESS_TOKEN?.trim() || env.META_ACCESS_TOKEN_FILE?.trim()) return env;
  return { ...env, MM_SANDBOX: 'true' };
}

/**
 * The Temporal connection as Temporal's environment configuration defines it, so the API, the workers
 * and the scripts read TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_* and
 * TEMPORAL_PROFILE (a profile of TEMPORAL_CONFIG_FILE, default ~/.config/temporalio/temporal.toml)
 * exactly as the `temporal` CLI does.
 */
const EMPTY_IS_UNSET = /^TEMPORAL_(API_KEY|TLS(_\w+)?)$/;

function temporalEnvConfig(env: Env, problems: string[]) {
  try {
    // An empty API key or TLS setting is unset (compose passes `${VAR:-}` and empty secret files): to
    // envconfig an empty key would still turn TLS on, and an empty TEMPORAL_TLS would turn it off.
    const defined = Object.fromEntries(
      Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && !(EMPTY_IS_UNSET.test(e[0]) && e[1].trim() === '')),
    );
    const { connectionOptions, namespace } = loadClientConnectConfig({ overrideEnvVars: defined });
    return { connectionOptions, namespace };
  } catch (err) {
    problems.push(`Temporal connection settings (TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE / TEMPORAL_TLS_*): ${withoutExcerpt(err as Error)}`);
    return { connectionOptions: {}, namespace: undefined };
  }
}

/**
 * An error's first line: a TOML parse error goes on to quote the file's lines around the fault, which
 * may hold `api_key` or a TLS key; its line and column say where without them.
 */
function withoutExcerpt(err: Error & { line?: unknown; column?: unknown }): string {
  const first = err.message.split('\n')[0];
  return typeof err.line === 'number' && typeof err.column === 'number' ? `${first} (line ${err.line}, column ${err.column})` : first;
}

/**
 * Fails closed: outside sandbox mode (MM_SANDBOX=true, which only `npm start` turns on by itself)
 * every setting `role` needs must be given, and the sandbox's public values are refused.
 */
export function loadConfig(rawEnv: Env = process.env, options: { role?: ConfigRole } = {}): Config {
  const role = options.role ?? 'all';
  const fileProblems: string[] = [];
  const env = withSecretFiles(rawEnv, fileProblems);
  if (fileProblems.length) throw new ConfigError(fileProblems);
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0]);
        return `${name} ${issue.message}${quotedValue(name, env[name])}`; // a secret is named, never quoted
      }),
    );
  }
  const e = parsed.data;
  const sandbox = e.MM_SANDBOX;
  const problems: string[] = [];
  if (sandbox && e.META_ACCESS_TOKEN !== undefined) {
    problems.push('MM_SANDBOX=true and META_ACCESS_TOKEN are both set: the sandbox never gets the real token; unset one');
  }
  if (!sandbox) {
    const given = (name: string) => (name === 'API_KEYS' ? e.API_KEYS.length > 0 : env[name]?.trim());
    for (const name of REQUIRED[role]) {
      // `<NAME>_FILE` is offered only where it is read: the secrets (META_APP_ID is not one).
      const asFile = (SECRET_VARIABLES as readonly string[]).includes(name) ? `or ${name}_FILE; ` : '';
      if (!given(name)) problems.push(`${name} is required (${asFile}MM_SANDBOX=true runs against the built-in sandbox instead)`);
    }
    for (const [name, publicValue] of Object.entries(SANDBOX_PUBLIC_VALUES)) {
      const values = name === 'API_KEYS' ? e.API_KEYS : name === 'CODEC_KEYS' ? e.CODEC_KEYS : [env[name]?.trim()];
      if (values.includes(publicValue)) problems.push(`${name} holds the sandbox's public value, which is never accepted outside sandbox mode`);
    }
  }
  const temporalEnv = temporalEnvConfig(env, problems);
  const address = e.TEMPORAL_ADDRESS ?? temporalEnv.connectionOptions.address;
  if (address !== undefined && !/^[\w.-]+:\d+$/.test(address)) {
    problems.push(`TEMPORAL_ADDRESS (or the profile's address) must be host:port (got ${JSON.stringify(address)})`);
  }
  const { apiKey, tls, metadata } = temporalEnv.connectionOptions;
  // Missing settings outside sandbox mode are reported above.
  const required = (value: string | undefined, sandboxValue: string) => value ?? (sandbox ? sandboxValue : '');

  const config: Config = {
    port: e.PORT,
    host: e.HOST,
    temporal: {
      address,
      namespace: temporalEnv.namespace?.trim() || e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      connection: withoutUndefined({ apiKey, tls: asBuffers(tls ?? undefined), metadata: metadata as Record<string, string> | undefined }),
      deployment: withoutUndefined({
        name: e.TEMPORAL_DEPLOYMENT_NAME,
        buildId: e.TEMPORAL_WORKER_BUILD_ID,
        setCurrentOnStart: e.TEMPORAL_WORKER_SET_CURRENT,
        releaseRatePerSecond: e.TEMPORAL_RELEASE_RATE,
        releaseWatchSeconds: e.TEMPORAL_RELEASE_WATCH_SECONDS,
      }),
    },
    graph: {
      baseUrl: (
        e.GRAPH_API_BASE_URL ??
        (sandbox ? `http://127.0.0.1:${e.SANDBOX_PORT}` : 'https://graph.facebook.com')
      ).replace(/\/+$/, ''),
      version: e.GRAPH_API_VERSION,
      accessToken: required(e.META_ACCESS_TOKEN, SANDBOX_DEFAULTS.accessToken),
      maxRps: e.GRAPH_MAX_RPS,
    },
    meta: {
      appId: required(e.META_APP_ID, SANDBOX_DEFAULTS.appId),
      appSecret: required(e.META_APP_SECRET, SANDBOX_DEFAULTS.appSecret),
    },
    webhookVerifyToken: required(e.WEBHOOK_VERIFY_TOKEN, SANDBOX_DEFAULTS.webhookVerifyToken),
    apiKeys: e.API_KEYS,
    sandbox: sandbox ? { port: e.SANDBOX_PORT } : undefined,
    workflowBundlePath: e.WORKFLOW_BUNDLE_PATH,
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://127.0.0.1:${e.PORT}`).replace(/\/+$/, ''),
    embeddedSignup: embeddedSignupConfig(e, env, sandbox),
    codec: { keys: e.CODEC_KEYS, corsOrigins: e.CODEC_CORS_ORIGINS.map((o) => o.replace(/\/+$/, '')) },
    metricsBearerToken: e.METRICS_BEARER_TOKEN,
    workerMetricsPort: e.WORKER_METRICS_PORT,
    workerMaxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
    discoveryMaxTaskBacklog: e.DISCOVERY_MAX_TASK_BACKLOG,
    devServer: address
      ? undefined
      : { port: e.TEMPORAL_DEV_PORT, uiPort: e.TEMPORAL_UI_PORT, dbFile: e.TEMPORAL_DEV_DB_FILE },
    tracing: tracingConfig(e, SERVICE_NAMES[role]),
  };
  if (config.apiKeys.length === 0 && sandbox) config.apiKeys = [SANDBOX_DEFAULTS.apiKey];
  if (e.PARTNER_CALLBACK_URL && !e.PARTNER_CALLBACK_SECRET) {
    problems.push('PARTNER_CALLBACK_SECRET is required when PARTNER_CALLBACK_URL is set');
  } else if (!e.PARTNER_CALLBACK_URL && e.PARTNER_CALLBACK_SECRET) {
    problems.push('PARTNER_CALLBACK_URL is required when PARTNER_CALLBACK_SECRET is set');
  } else if (e.PARTNER_CALLBACK_URL && e.PARTNER_CALLBACK_SECRET) {
    config.partnerCallback = { url: e.PARTNER_CALLBACK_URL, secret: e.PARTNER_CALLBACK_SECRET };
  }
  if (config.codec.keys.some((k) => config.apiKeys.includes(k))) {
    problems.push('CODEC_KEYS must differ from API_KEYS: partners must never read sealed secrets');
  }
  if (config.metricsBearerToken && [...config.apiKeys, ...config.codec.keys].includes(config.metricsBearerToken)) {
    problems.push('METRICS_BEARER_TOKEN must differ from API_KEYS and CODEC_KEYS: a scraper needs no other access');
  }
  problems.push(...portClashes(config));
  if (problems.length) throw new ConfigError(problems);
  return config;
}

function embeddedSignupConfig(e: z.output<typeof envSchema>, env: Env, sandbox: boolean): Config['embeddedSignup'] {
  // In sandbox mode the sandbox serves a stand-in for Meta's SDK that plays the popup offline.
  const sdkUrl = e.META_SDK_URL ?? (sandbox ? `http://127.0.0.1:${e.SANDBOX_PORT}/sdk.js` : META_SDK_URL);
  return {
    configId: e.META_ES_CONFIG_ID ?? (sandbox ? SANDBOX_DEFAULTS.esConfigId : undefined),
    // Set but empty: the payload leaves featureType out.
    featureType: env.META_ES_FEATURE_TYPE === undefined ? DEFAULT_ES_FEATURE_TYPE : e.META_ES_FEATURE_TYPE,
    sdkUrl,
    messageOrigins: sandbox ? [new URL(sdkUrl).origin] : META_POPUP_ORIGINS,
  };
}

/** envconfig reads certificates as Uint8Array; the gRPC client of @temporalio/client accepts only Buffers. */
function asBuffers(tls: TLSConfig | boolean | undefined): TLSConfig | boolean | undefined {
  if (typeof tls !== 'object') return tls;
  const buf = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b));
  return withoutUndefined({
    ...tls,
    serverRootCACertificate: buf(tls.serverRootCACertificate),
    clientCertPair: tls.clientCertPair && { crt: buf(tls.clientCertPair.crt)!, key: buf(tls.clientCertPair.key)! },
  });
}

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** How the service authenticates to Temporal, in words (never the key or the certificates). */
export function describeTemporalAuth(settings: TemporalConnectionSettings): string {
  const tls = settings.tls;
  const mtls = typeof tls === 'object' && tls.clientCertPair !== undefined;
  const parts = [settings.apiKey ? 'API key' : undefined, mtls ? 'mTLS' : tls ? 'TLS' : 'plaintext'];
  return parts.filter(Boolean).join(' + ');
}

/** The ports this process listens on, each with the variable that sets it. */
export function listeningPorts(config: Config): Array<{ port: number; variable: string }> {
  return [
    { port: config.port, variable: 'PORT' },
    ...(config.workerMetricsPort ? [{ port: config.workerMetricsPort, variable: 'WORKER_METRICS_PORT' }] : []),
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
    listen: `${config.host}:${config.port}`,
    temporal: {
      address: config.temporal.address,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      deployment: config.temporal.deployment,
      auth: describeTemporalAuth(config.temporal.connection),
    },
    graph: { baseUrl: config.graph.baseUrl, version: config.graph.version, maxRps: config.graph.maxRps },
    metaAppId: config.meta.appId,
    apiKeys: `${config.apiKeys.length} key(s)`,
    partnerCallback: config.partnerCallback ? { url: redactUrl(config.partnerCallback.url) } : 'off',
    sandbox: config.sandbox ? `on (port ${config.sandbox.port})` : 'off',
    publicBaseUrl: config.publicBaseUrl,
    embeddedSignup: { configId: config.embeddedSignup.configId ?? 'unset (signup links off)', sdkUrl: config.embeddedSignup.sdkUrl },
    codec: config.codec.keys.length ? `${config.codec.keys.length} key(s)` : 'off',
    metrics: config.metricsBearerToken ? 'bearer key' : 'open',
    devServer: config.devServer ?? 'off (TEMPORAL_ADDRESS is set)',
    // The exporter's headers often hold a vendor's key: never shown.
    tracing: config.tracing ? { service: config.tracing.serviceName, otlp: redactUrl(config.tracing.tracesUrl), sampler: config.tracing.sampler } : 'off',
  };
}

/** Query strings and credentials in a URL may carry secrets. */
export function redactUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}
