/**
 * The request target as the rack reads it: a path whose every segment decodes, and query
 * parameters that each route checks against the ones it takes. A malformed percent-escape is the
 * caller's mistake (400 `invalid-url`), not the rack's: the router would otherwise pass it on
 * half-decoded.
 */
import { RackFailure, invalidRequest } from '../store';

/** The query parameters of one request, checked by the route that handles it. */
export interface Query {
  /** Every parameter, each given at most once. */
  once(): Record<string, string>;
  /** As {@link once}, refusing any parameter not in `allowed` and requiring those in `required`. */
  only(allowed: readonly string[], required?: readonly string[]): Record<string, string | undefined>;
}

/** A 400 for a request target that cannot be read. */
export function badUrl(target: string, why: string): RackFailure {
  return new RackFailure({
    status: 400,
    code: 'invalid-url',
    errorClass: 'refused',
    message: `malformed URL ${JSON.stringify(target.slice(0, 200))}: ${why}; percent-encode each path segment and query value (encodeURIComponent)`,
  });
}

/**
 * Splits a request target (`/v1/…?…`) into its raw path and its query, refusing (400) a path
 * segment or query part that cannot be decoded.
 */
export function parseTarget(target: string): { path: string; query: Query } {
  const mark = target.indexOf('?');
  const path = mark < 0 ? target : target.slice(0, mark);
  const search = mark < 0 ? '' : target.slice(mark + 1);
  if (!path.startsWith('/')) throw badUrl(target, 'the path must start with /');
  const decode = (text: string, what: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      throw badUrl(target, `${what} ${JSON.stringify(text.slice(0, 100))} holds a broken percent-escape`);
    }
  };
  for (const segment of path.split('/')) decode(segment, 'path segment');
  const pairs = search
    .split('&')
    .filter(Boolean)
    .map((part) => {
      const eq = part.indexOf('=');
      const [name, value] = eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)];
      return [decode(name.replace(/\+/g, ' '), 'query parameter'), decode(value.replace(/\+/g, ' '), 'query value')] as const;
    });
  const once = () => {
    const seen: Record<string, string> = {};
    const repeated = new Set<string>();
    for (const [name, value] of pairs) {
      if (Object.hasOwn(seen, name)) repeated.add(name);
      seen[name] = value;
    }
    if (repeated.size > 0) {
      throw invalidRequest([...repeated].map((name) => ({ field: `query.${name}`, message: 'given more than once: give it once' })));
    }
    return seen;
  };
  const takes = (allowed: readonly string[]) => (allowed.length === 0 ? 'this route takes no query parameters' : `this route takes ${allowed.join(', ')}`);
  return {
    path,
    query: {
      once,
      only(allowed, required = []) {
        const params = once();
        const issues = [
          ...Object.keys(params)
            .filter((name) => !allowed.includes(name))
            .map((name) => ({ field: `query.${name}`, message: `unknown query parameter: ${takes(allowed)}` })),
          ...required.filter((name) => !params[name]).map((name) => ({ field: `query.${name}`, message: 'required: give it' })),
        ];
        if (issues.length > 0) throw invalidRequest(issues);
        return params;
      },
    },
  };
}
