import type { z } from 'zod';
import { ApiError, type ErrorDetail } from './errors';

/**
 * Parses one part of a request with its zod schema, or throws a 400 whose details name every
 * failing field. Values are never echoed back (a body may hold an OAuth code).
 */
export function validate<S extends z.ZodType>(schema: S, value: unknown, where: ErrorDetail['in']): z.output<S> {
  const parsed = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (parsed.success) return parsed.data;
  const details: ErrorDetail[] = parsed.error.issues.flatMap((issue) => {
    const path = issue.path.map(String).join('.');
    // zod names unknown keys in the message, not the path: give each its own entry.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ in: where, path: path ? `${path}.${key}` : key, message: 'unknown field' }));
    }
    return [{ in: where, path: path || '(root)', message: issue.message }];
  });
  const fields = [...new Set(details.map((d) => `${d.in}.${d.path}`))].join(', ');
  throw new ApiError(400, 'invalid_request', `invalid request: ${fields}`, details);
}
