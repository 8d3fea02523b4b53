/**
 * Checks an answer of the partner API against the OpenAPI document the service serves: its status must
 * be documented for that route and method, and its JSON body must validate (Ajv, JSON Schema 2020-12,
 * which OpenAPI 3.1 uses). The app harness runs every /v1 answer through it, so /openapi.json and the
 * API cannot drift apart unnoticed.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';

export interface CheckedResponse {
  method: string;
  /** Path without the query string. */
  path: string;
  status: number;
  contentType?: string;
  body: unknown;
  text?: string;
}

interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
type OpenApiDocument = { paths: Record<string, Record<string, Operation>>; components?: unknown };

const DOC_ID = 'openapi.json';
const NDJSON = 'application/x-ndjson';

export class OpenApiChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly routes: Array<{ template: string; pattern: RegExp; literal: boolean }>;

  constructor(private readonly doc: OpenApiDocument) {
    // The whole document is one schema resource, so `#/components/schemas/...` refs resolve in it.
    this.ajv.addSchema({ ...doc, $id: DOC_ID } as object);
    this.routes = Object.keys(doc.paths).map((template) => ({
      template,
      pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      literal: !template.includes('{'),
    }));
  }

  /** Every way the response disagrees with the document (empty when it agrees). */
  problems(r: CheckedResponse): string[] {
    const what = `${r.method.toUpperCase()} ${r.path} → ${r.status}`;
    // Literal paths win over templated ones, as OpenAPI says.
    const route = this.routes.filter((x) => x.pattern.test(r.path)).sort((a, b) => Number(b.literal) - Number(a.literal))[0];
    const operation = route ? this.doc.paths[route.template][r.method.toLowerCase()] : undefined;
    if (!route || !operation) {
      // An unknown route (or method) is the API's JSON 404.
      if (r.status !== 404) return [`${what}: the route is not in /openapi.json`];
      return this.bodyProblems(what, r, '#/components/schemas/Error');
    }
    const responses = operation.responses ?? {};
    const key = String(r.status) in responses ? String(r.status) : 'default' in responses ? 'default' : undefined;
    if (!key) return [`${what}: status ${r.status} is not documented for ${r.method.toUpperCase()} ${route.template}`];
    const content = responses[key].content;
    if (!content) return r.text ? [`${what}: a body where the document says there is none`] : [];
    const pointerTo = (type: string) =>
      `#/${['paths', route.template, r.method.toLowerCase(), 'responses', key, 'content', type, 'schema'].map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;
    // NDJSON: each line is one document of the schema given for application/x-ndjson.
    if (r.contentType?.startsWith(NDJSON)) {
      if (!content[NDJSON]) return [`${what}: no ${NDJSON} content documented`];
      const lines = (r.text ?? '').split('\n').filter(Boolean);
      return lines.flatMap((line, i) => this.bodyProblems(`${what} line ${i + 1}`, { ...r, contentType: 'application/json', body: JSON.parse(line) }, pointerTo(NDJSON)));
    }
    if (!content['application/json']) return [`${what}: no application/json content documented`];
    return this.bodyProblems(what, r, pointerTo('application/json'));
  }

  private bodyProblems(what: string, r: CheckedResponse, pointer: string): string[] {
    if (!r.contentType?.startsWith('application/json')) return [`${what}: content-type ${r.contentType ?? '(none)'}, not application/json`];
    let validate = this.validators.get(pointer);
    if (!validate) {
      validate = this.ajv.getSchema(`${DOC_ID}${pointer}`);
      if (!validate) return [`${what}: no schema at ${pointer}`];
      this.validators.set(pointer, validate);
    }
    if (validate(r.body)) return [];
    return (validate.errors ?? []).map((e) => `${what}: body${e.instancePath} ${e.message ?? 'is invalid'}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
  }

  /** Throws, naming every problem, when the response disagrees with the document. */
  assert(r: CheckedResponse): void {
    const problems = this.problems(r);
    if (problems.length) throw new Error(`the answer does not match /openapi.json:\n  ${problems.join('\n  ')}`);
  }
}

type Agent = ReturnType<typeof import('supertest')>;
type Test = ReturnType<Agent['get']>;
const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'] as const;

/**
 * The same supertest agent, except that every answer from /v1/* is checked against the document when
 * it is awaited: a test that receives an undocumented answer fails, naming what differs.
 */
export function checkedAgent(agent: Agent, checker: OpenApiChecker): Agent {
  return new Proxy(agent, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || !(METHODS as readonly string[]).includes(prop)) return value;
      return (url: string) => checkedTest((value as (url: string) => Test).call(target, url), checker);
    },
  });
}

function checkedTest(test: Test, checker: OpenApiChecker): Test {
  const then = test.then.bind(test);
  test.then = ((onFulfilled, onRejected) =>
    then((res) => {
      const path = new URL(test.url).pathname;
      if (path.startsWith('/v1/')) {
        checker.assert({ method: test.method, path, status: res.status, contentType: res.headers['content-type'], body: res.body, text: res.text });
      }
      return res;
    }).then(onFulfilled, onRejected)) as Test['then'];
  return test;
}

/** A checker for the document `agent`'s app serves. */
export async function servedDocumentChecker(agent: Agent): Promise<OpenApiChecker> {
  const res = await agent.get('/openapi.json');
  if (res.status !== 200) throw new Error(`/openapi.json answered ${res.status}`);
  return new OpenApiChecker(res.body as OpenApiDocument);
}
