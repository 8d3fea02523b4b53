/**
 * A send's `template.components` go to Meta as given, so they are serialised and validated by code
 * that recurses. Real components nest about ten levels (a carousel card's header image); a body
 * nested thousands deep only overflows the stack (RangeError). It is refused first, with a 400
 * naming the field, before validation, Temporal or Graph see it.
 */
import { ApiError } from '../http/errors';

/** Arrays and objects inside one another, `components` itself being level 1. */
export const MAX_COMPONENTS_DEPTH = 32;

/** Throws a 400 naming `template.components` when they nest deeper than MAX_COMPONENTS_DEPTH. */
export function checkComponentsDepth(body: unknown): void {
  const components = (body as { template?: { components?: unknown } } | null)?.template?.components;
  if (depthExceeds(components, MAX_COMPONENTS_DEPTH)) {
    const message = `must not nest deeper than ${MAX_COMPONENTS_DEPTH} levels of arrays and objects`;
    throw new ApiError(400, 'invalid_request', `invalid request: body.template.components ${message}`, [
      { in: 'body', path: 'template.components', message },
    ]);
  }
}

/** True when `value` nests more than `limit` arrays and objects. Iterative: it cannot overflow itself. */
function depthExceeds(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  // The body is at most 64 kB, so this walk visits at most that many values.
  const stack: Array<{ value: object; depth: number }> = [{ value, depth: 1 }];
  while (stack.length) {
    const { value: node, depth } = stack.pop()!;
    if (depth > limit) return true;
    for (const child of Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: depth + 1 });
    }
  }
  return false;
}
