/**
 * A real Jaeger (v1.75.0's `jaeger`, built by scripts/ensure-jaeger.sh) for the traces test:
 * in-memory storage, OTLP/HTTP in, the query API out, every port on loopback and free.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../scripts/dev-server';
import { eventually } from './wait';

const repoRoot = path.resolve(__dirname, '..', '..');

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: Array<{ refType: string; traceID: string; spanID: string }>;
  processID: string;
  tags: Array<{ key: string; value: unknown }>;
}
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

export interface Jaeger {
  /** For OTEL_EXPORTER_OTLP_ENDPOINT. */
  otlpEndpoint: string;
  queryUrl: string;
  /** The query API's traces of `service` (GET /api/traces?service=...). */
  traces(service: string): Promise<JaegerTrace[]>;
  output(): string;
  stop(): Promise<void>;
}

export async function startJaeger(): Promise<Jaeger> {
  const binary = execFileSync('bash', [path.join(repoRoot, 'scripts/ensure-jaeger.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(await freePort());
  const [otlp, query, queryGrpc] = [...ports];
  const dir = mkdtempSync(path.join(tmpdir(), 'mm-jaeger-'));
  const config = path.join(dir, 'jaeger.yaml');
  writeFileSync(
    config,
    `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
  jaeger_query:
    enable_tracing: false
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:${query}
    grpc:
      endpoint: 127.0.0.1:${queryGrpc}
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${otlp}
processors:
  batch:
    timeout: 200ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`,
  );
  const child: ChildProcess = spawn(binary, ['--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  let exited: number | null | undefined;
  const gone = new Promise<void>((resolve) => child.once('exit', (code) => ((exited = code), resolve())));
  const queryUrl = `http://127.0.0.1:${query}`;
  const stop = async () => {
    if (exited === undefined) child.kill('SIGTERM');
    const timer = setTimeout(() => exited === undefined && child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await eventually(
      async () => {
        if (exited !== undefined) throw new Error(`jaeger exited (${exited})`);
        return (await fetch(`${queryUrl}/api/services`, { signal: AbortSignal.timeout(5_000) })).ok || undefined;
      },
      60_000,
      () => `jaeger's query API to answer:\n${out}`,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    otlpEndpoint: `http://127.0.0.1:${otlp}`,
    queryUrl,
    async traces(service) {
      const res = await fetch(`${queryUrl}/api/traces?service=${encodeURIComponent(service)}&lookback=1h&limit=100`, { signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`GET /api/traces answered ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { data: JaegerTrace[] | null }).data ?? [];
    },
    output: () => out,
    stop,
  };
}
