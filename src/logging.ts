/**
 * unwind's structured logs: one JSON line per event (pino), for the rack simulator and, later,
 * the worker. The level comes from `UNWIND_LOG_LEVEL` (default `info`); `debug` brings back the
 * detail (request and response bodies) that `info` leaves out.
 */
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/** The levels `UNWIND_LOG_LEVEL` takes, most verbose first; `silent` logs nothing. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The level `text` names, in any case (so the SDK's `WARN` and `ERROR` work too); `info` when
 * it is unset or empty.
 *
 * @throws Error naming `variable` and the levels it takes, for anything else.
 */
export function parseLogLevel(text: string | undefined, variable = 'UNWIND_LOG_LEVEL'): LogLevel {
  if (text === undefined || text.trim() === '') return 'info';
  const level = text.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new Error(`${variable}=${text} is not a log level: set it to one of ${LOG_LEVELS.join(', ')} (any case)`);
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The level; `UNWIND_LOG_LEVEL` (default `info`) unless told. */
  level?: LogLevel;
  /** Where lines go; stdout (written synchronously) unless told: tests pass a stream to read them. */
  destination?: DestinationStream;
}

/**
 * A logger whose lines carry `name` (e.g. `rack`), an ISO timestamp and the pid.
 *
 * @throws Error when `UNWIND_LOG_LEVEL` is not one of {@link LOG_LEVELS}.
 */
export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  const level = options.level ?? parseLogLevel(process.env.UNWIND_LOG_LEVEL);
  const settings = { name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  // Synchronous writes: lines reach stdout in the order of their events, and none is lost at exit.
  return pino(settings, options.destination ?? pino.destination({ dest: 1, sync: true }));
}

/** A logger that writes nothing: what library code logs to unless given one. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
