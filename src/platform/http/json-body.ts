// The JSON body parser of every route: Fastify's own (prototype-poisoning checks included), plus one
// rule of ours. PostgreSQL refuses U+0000 in text, so a string carrying it would fail deep in a query
// as a 500; it is refused here, once for all routes, as a validation error naming the field.
import type { FastifyInstance } from 'fastify';
import { DomainError } from '../errors/domain-error.ts';

export function installJsonBodyParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parse(request, body as string, (err: Error | null, value?: unknown) => {
      if (err) return done(err, undefined);
      // JSON can carry U+0000 only as this escape: most bodies are cleared without a walk.
      const field = (body as string).includes('\\u0000') ? fieldWithNul(value) : undefined;
      if (field === undefined) return done(null, value);
      done(
        new DomainError('VALIDATION_FAILED', `Invalid body: ${field}`, {
          fields: [{ field, message: 'must not contain the NUL character (U+0000)' }],
        }),
        undefined,
      );
    });
  });
}

/**
 * The path (`a.b.0`, as validation errors name fields) of the first string or key holding U+0000;
 * `body` when it is the body itself. A loop with parent links, not recursion or copied paths: a body
 * nested half a million deep is valid JSON and must not cost more than its size.
 */
export function fieldWithNul(value: unknown): string | undefined {
  interface Node {
    value: unknown;
    key?: string;
    parent?: Node;
  }
  const name = (node: Node | undefined) => {
    const keys: string[] = [];
    for (let n = node; n?.key !== undefined; n = n.parent) keys.push(n.key);
    return keys.length ? keys.reverse().join('.') : 'body';
  };
  const stack: Node[] = [{ value }];
  while (stack.length) {
    const node = stack.pop()!;
    const v = node.value;
    if (typeof v === 'string') {
      if (v.includes('\0')) return name(node);
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], key: String(i), parent: node });
    } else if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      if (keys.some((key) => key.includes('\0'))) return name(node);
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push({ value: (v as Record<string, unknown>)[keys[i]!], key: keys[i], parent: node });
      }
    }
  }
  return undefined;
}
