/**
 * docker-compose.yml resolved as Compose resolves it, without a Docker engine: YAML with merge keys,
 * then variable interpolation by the Compose Specification's rules (`$$`, `$VAR`, `${VAR}`,
 * `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`,
 * nested), then validation against the Compose Specification's JSON schema (the copy dclint ships).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from './image-build';

export type Env = Record<string, string | undefined>;

export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[] | string;
  depends_on?: Record<string, { condition: string }> | string[];
  environment?: Record<string, string | number | null> | string[];
  healthcheck?: { test: string[] | string };
  restart?: string;
  volumes?: string[];
  ports?: string[];
  expose?: string[];
  profiles?: string[];
  secrets?: Array<string | { source: string; target?: string }>;
}

export interface ComposeProject {
  name?: string;
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file?: string; environment?: string }>;
  volumes?: Record<string, unknown>;
}

/** What `docker compose config` reports when interpolation fails. */
export class ComposeError extends Error {}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

export function interpolate(text: string, env: Env, where: string): string {
  let out = '';
  for (let i = 0; i < text.length; ) {
    if (text[i] !== '$') {
      out += text[i++];
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '{') {
      let depth = 1;
      let j = i + 2;
      for (; j < text.length && depth > 0; j++) depth += text[j] === '{' ? 1 : text[j] === '}' ? -1 : 0;
      if (depth > 0) throw new ComposeError(`invalid interpolation format for ${where}: "${text}"`);
      out += substitute(text.slice(i + 2, j - 1), env, where, text);
      i = j;
    } else {
      const name = NAME.exec(text.slice(i + 1))?.[0];
      if (!name) throw new ComposeError(`invalid interpolation format for ${where}: "${text}"`);
      out += env[name] ?? '';
      i += 1 + name.length;
    }
  }
  return out;
}

function substitute(expr: string, env: Env, where: string, text: string): string {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/.exec(expr);
  if (!m) throw new ComposeError(`invalid interpolation format for ${where}: "${text}"`);
  const [, name, op, arg = ''] = m;
  const value = env[name];
  const unset = value === undefined;
  const empty = unset || value === '';
  const nested = () => interpolate(arg, env, where);
  switch (op) {
    case undefined:
      return value ?? '';
    case ':-':
      return empty ? nested() : value!;
    case '-':
      return unset ? nested() : value!;
    case ':?':
    case '?':
      if (op === ':?' ? empty : unset) throw new ComposeError(`error while interpolating ${where}: required variable ${name} is missing a value: ${nested()}`);
      return value!;
    case ':+':
      return empty ? '' : nested();
    default: // '+'
      return unset ? '' : nested();
  }
}

function interpolateTree(node: unknown, env: Env, where: string): unknown {
  if (typeof node === 'string') return interpolate(node, env, where);
  if (Array.isArray(node)) return node.map((item, i) => interpolateTree(item, env, `${where}[${i}]`));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateTree(v, env, where ? `${where}.${k}` : k)]));
  }
  return node;
}

let validator: ReturnType<Ajv['compile']> | undefined;
/** The Compose Specification's schema, as shipped in the dclint package (a devDependency). */
export function composeSchemaValidator() {
  if (!validator) {
    const schema = JSON.parse(readFileSync(path.join(repoRoot, 'node_modules', 'dclint', 'schemas', 'compose.schema.json'), 'utf8'));
    validator = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true, validateSchema: false }).compile(schema);
  }
  return validator;
}

/**
 * docker-compose.yml as `docker compose config` would see it with `env` as the shell environment
 * (and .env): throws ComposeError on a missing required variable or a schema violation.
 */
export function resolveCompose(env: Env, file = path.join(repoRoot, 'docker-compose.yml')): ComposeProject {
  const raw = parseYaml(readFileSync(file, 'utf8'), { merge: true }) as Record<string, unknown>;
  const project = interpolateTree(raw, env, '') as ComposeProject;
  const validate = composeSchemaValidator();
  if (!validate(project)) {
    throw new ComposeError(`does not match the Compose Specification: ${(validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`).join('; ')}`);
  }
  return project;
}

/** A service's environment as the container gets it (map or KEY=VALUE list; null values dropped). */
export function serviceEnvironment(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  const entries: Array<[string, unknown]> = Array.isArray(env)
    ? env.map((line) => [line.split('=')[0], line.includes('=') ? line.slice(line.indexOf('=') + 1) : undefined])
    : Object.entries(env);
  return Object.fromEntries(entries.filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => [k, String(v)]));
}

/** Where each of a service's secrets is mounted (/run/secrets/<target>) and the host file it comes from. */
export function serviceSecretMounts(project: ComposeProject, service: ComposeService, projectDir = repoRoot): Array<{ name: string; target: string; hostFile: string }> {
  return (service.secrets ?? []).map((s) => {
    const { source, target } = typeof s === 'string' ? { source: s, target: undefined } : s;
    const def = project.secrets?.[source];
    if (!def?.file) throw new ComposeError(`service refers to undefined secret ${source}`);
    return { name: source, target: `/run/secrets/${target ?? source}`, hostFile: path.resolve(projectDir, def.file) };
  });
}

/**
 * The environment a service's container would start with, with each Docker secret's /run/secrets path
 * replaced by the host file Docker would mount there, so an entry point can run natively.
 */
export function nativeServiceEnv(project: ComposeProject, serviceName: string): Record<string, string> {
  const service = project.services[serviceName];
  const env = serviceEnvironment(service);
  const mounts = new Map(serviceSecretMounts(project, service).map((m) => [m.target, m.hostFile]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, mounts.get(v) ?? v]));
}
