import { describeConfig, loadConfig } from '../../config';
import { problemsOf } from '../harness/config-problems';

const demo = { MM_SANDBOX: 'true' };

describe('tracing settings (OTEL_*)', () => {
  test('tracing is off when no OTLP endpoint is set', () => {
    expect(loadConfig(demo).tracing).toBeUndefined();
    expect(loadConfig({ ...demo, OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' }).tracing).toBeUndefined();
    expect(describeConfig(loadConfig(demo)).tracing).toBe('off');
  });

  test('OTEL_EXPORTER_OTLP_ENDPOINT turns it on, spans going to its /v1/traces, named by process unless OTEL_SERVICE_NAME says otherwise', () => {
    const env = { ...demo, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' };
    expect(loadConfig(env).tracing).toEqual({
      serviceName: 'mm-onboarding',
      tracesUrl: 'http://collector:4318/v1/traces',
      headers: {},
      timeoutMs: 10_000,
      resourceAttributes: {},
      sampler: { name: 'parentbased_always_on', ratio: 1 },
    });
    expect(loadConfig(env, { role: 'api' }).tracing?.serviceName).toBe('mm-onboarding-api');
    expect(loadConfig(env, { role: 'worker' }).tracing?.serviceName).toBe('mm-onboarding-worker');
    expect(loadConfig({ ...env, OTEL_SERVICE_NAME: 'onboarding-eu' }).tracing?.serviceName).toBe('onboarding-eu');
  });

  test('the traces endpoint is taken as given; OTEL_TRACES_EXPORTER=otlp alone means the spec default endpoint', () => {
    const given = loadConfig({ ...demo, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b.example/otlp/traces' });
    expect(given.tracing?.tracesUrl).toBe('https://b.example/otlp/traces');
    expect(loadConfig({ ...demo, OTEL_TRACES_EXPORTER: 'otlp' }).tracing?.tracesUrl).toBe('http://localhost:4318/v1/traces');
  });

  test('OTEL_TRACES_EXPORTER=none and OTEL_SDK_DISABLED=true turn it off whatever else is set', () => {
    const env = { ...demo, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(loadConfig({ ...env, OTEL_TRACES_EXPORTER: 'none' }).tracing).toBeUndefined();
    expect(loadConfig({ ...env, OTEL_SDK_DISABLED: 'true' }).tracing).toBeUndefined();
  });

  test('headers, timeout, resource attributes and the sampler are read as the spec writes them', () => {
    const tracing = loadConfig({
      ...demo,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-team=onboarding, authorization=Bearer%20abc',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-team=traces',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=staging,service.name=from-resource',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    }).tracing;
    expect(tracing).toMatchObject({
      serviceName: 'from-resource',
      headers: { 'x-team': 'traces', authorization: 'Bearer abc' },
      timeoutMs: 2500,
      resourceAttributes: { 'deployment.environment': 'staging' },
      sampler: { name: 'parentbased_traceidratio', ratio: 0.25 },
    });
  });

  test('a bad value is refused and named; the exporter headers (often a key) are never quoted', () => {
    const problems = problemsOf({
      ...demo,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_TRACES_EXPORTER: 'zipkin',
      OTEL_TRACES_SAMPLER_ARG: '2',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%zz-secret-key',
    });
    expect(problems).toEqual([
      expect.stringMatching(/^OTEL_TRACES_EXPORTER must be otlp or none .*\(got "zipkin"\)$/),
      expect.stringMatching(/^OTEL_EXPORTER_OTLP_ENDPOINT must be an http\(s\) URL \(got "collector:4318"\)$/),
      expect.stringMatching(/^OTEL_EXPORTER_OTLP_PROTOCOL must be http\/protobuf .*\(got "grpc"\)$/),
      expect.stringMatching(/^OTEL_EXPORTER_OTLP_HEADERS has a value that is not percent-encoded \(key authorization\)$/),
      expect.stringMatching(/^OTEL_TRACES_SAMPLER_ARG must be from 0 to 1 \(got "2"\)$/),
    ]);
    expect(problems.join('\n')).not.toContain('secret-key');
  });

  test('the start-up banner names where spans go but never the exporter headers', () => {
    const described = describeConfig(
      loadConfig({ ...demo, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://user:pw@otlp.example/v1/traces?key=k', OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=hunter2' }),
    );
    expect(described.tracing).toEqual({ service: 'mm-onboarding', otlp: 'https://otlp.example/v1/traces', sampler: { name: 'parentbased_always_on', ratio: 1 } });
    expect(JSON.stringify(described)).not.toMatch(/hunter2|pw@|key=k/);
  });
});
