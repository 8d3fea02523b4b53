/** With tracing on, the API's JSON log lines name the span they were written in (telemetry/log-fields.ts). */
import { trace } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { consoleLogger } from '../../../api/http/logger';

const provider = new NodeTracerProvider();
beforeAll(() => provider.register());
afterAll(() => provider.shutdown());

test("a JSON log line written inside a span carries the span's trace_id and span_id; outside, none", async () => {
  const lines: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
  try {
    const parent = await trace.getTracer('test').startActiveSpan('request', async (span) => {
      await Promise.resolve(); // after an await too: the context follows async calls
      consoleLogger.info('webhook delivery', { outcome: 'accepted' });
      span.end();
      return span.spanContext();
    });
    consoleLogger.info('outside');
    expect(JSON.parse(lines[0])).toMatchObject({ message: 'webhook delivery', trace_id: parent.traceId, span_id: parent.spanId });
    expect(JSON.parse(lines[1])).not.toHaveProperty('trace_id');
  } finally {
    log.mockRestore();
  }
});
