/** With tracing on, each API request is a SERVER span named by its route pattern (api/http/request-spans.ts). */
import express from 'express';
import request from 'supertest';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { requestSpans } from '../../../api/http/request-spans';

const spans = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
beforeAll(() => provider.register());
afterAll(() => provider.shutdown());
beforeEach(() => spans.reset());

const app = express();
app.use(requestSpans);
const v1 = express.Router();
v1.get('/onboardings/:wabaId', (_req, res) => void res.status(404).json({ error: 'not_found' }));
app.use('/v1', v1);
app.get('/healthz', (_req, res) => void res.send('ok'));
app.post('/boom', () => {
  throw new Error('boom');
});
app.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => void res.status(500).end());

test('a request is one SERVER span named by method and route pattern, with its status; never the path values or the query', async () => {
  await request(app).get('/v1/onboardings/123456789?token=s3cr3t').set('authorization', 'Bearer k3y').expect(404);
  const [span] = spans.getFinishedSpans();
  expect(span.name).toBe('GET /v1/onboardings/:wabaId');
  expect(span.attributes).toEqual({ 'http.request.method': 'GET', 'http.route': '/v1/onboardings/:wabaId', 'http.response.status_code': 404 });
  expect(JSON.stringify(span.attributes)).not.toMatch(/123456789|s3cr3t|k3y/);
});

test("a caller's traceparent is continued; a 5xx marks the span failed", async () => {
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  await request(app).post('/boom').set('traceparent', `00-${traceId}-b7ad6b7169203331-01`).expect(500);
  const [span] = spans.getFinishedSpans();
  expect({ name: span.name, traceId: span.spanContext().traceId, parent: span.parentSpanId, status: span.status.code }).toEqual({
    name: 'POST /boom',
    traceId,
    parent: 'b7ad6b7169203331',
    status: 2,
  });
});

test('health probes are not traced', async () => {
  await request(app).get('/healthz').expect(200);
  expect(spans.getFinishedSpans()).toEqual([]);
});
