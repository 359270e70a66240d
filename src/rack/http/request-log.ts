/**
 * One log line per request: method, path, status, duration, idempotency key and, for a
 * failure, its code and message. A refusal is an expected answer: one `info` line, no stack.
 * An injected fault or a busy database (5xx the caller retries) is a `warn` line; anything else
 * answered 5xx is a bug in the simulator, logged at `error` with its stack. At `debug` the line
 * also carries the request and response bodies.
 */
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../logging';
import { IDEMPOTENCY_HEADER, type RackHttpEnv } from './env';

/** A middleware writing one line per request to `log`. */
export function requestLog(log: Logger): MiddlewareHandler<RackHttpEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const status = c.res.status;
    const failure = c.get('failure');
    const key = c.req.header(IDEMPOTENCY_HEADER);
    const line: Record<string, unknown> = {
      method: c.req.method,
      path: c.get('path') ?? new URL(c.req.url).pathname,
      status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      ...(key !== undefined && { key }),
      ...(failure !== undefined && { code: failure.code, class: failure.errorClass, error: failure.message }),
    };
    if (log.isLevelEnabled('debug')) {
      const body = c.get('requestBody');
      if (body !== undefined && body !== '') line.requestBody = body;
      line.responseBody = c.get('responseBody');
    }
    const message = `${line.method} ${line.path} ${status}`;
    const cause = c.get('cause');
    if (cause !== undefined) log.error({ ...line, err: cause }, message);
    else if (status >= 500) log.warn(line, message);
    else log.info(line, message);
  };
}
