/**
 * Checking a command's flags before anything connects, and saying what is wrong with them in
 * the operator's words: the flag they typed (`--as`), never the schema's field (`approver`).
 *
 * Every command checks all its input before its first `context.rack()` or
 * `context.temporal()` call, so bad input exits 2 at once whether or not the servers are up:
 * - a flag checked alone: a commander `argParser` throwing `usageError(...)` (parse time);
 * - a required flag: `requiredOption` (commander; parse time);
 * - an empty value: refused for every option and argument by {@link refuseEmptyValues}
 *   (the program applies it to every command);
 * - a request a schema checks (the client or the rack would refuse it after connecting):
 *   {@link checkFlags} with the flag each field comes from, in the action before connecting.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { type CliError, usageError } from './exit-codes';

/** The flag (or argument) each request field comes from, e.g. `{ approver: '--as' }`; nested fields dotted. */
export type FlagNames = Readonly<Record<string, string>>;

/** Options of {@link checkFlags}. */
export interface CheckFlagsOptions {
  /** The command, for the hint: `see '<help> --help'`. */
  help?: string;
}

/**
 * Checks the request a command's flags make against `schema` (the same one the client or the
 * rack applies), before anything connects.
 *
 * @param flags the flag each field comes from; a field not listed is named as it is
 * @returns the parsed request
 * @throws a usage error (exit 2) naming every bad flag in plain words: `--cpus is required;
 *   --memory must be a whole number from 1 to 1024 (got 'x')`
 */
export function checkFlags<S extends z.ZodType>(schema: S, input: unknown, flags: FlagNames, options: CheckFlagsOptions = {}): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw flagsError(describeIssues(schema, input, result.error.issues, flags), options);
}

/** Every problem of `input` as {@link checkFlags} words it; empty when the request is good. */
export function flagProblems(schema: z.ZodType, input: unknown, flags: FlagNames): string[] {
  const result = schema.safeParse(input);
  return result.success ? [] : describeIssues(schema, input, result.error.issues, flags);
}

/** The usage error for `problems` (each already naming its flag): nothing was done. */
export function flagsError(problems: readonly string[], options: CheckFlagsOptions = {}): CliError {
  const help = options.help === undefined ? '' : ` (see '${options.help} --help')`;
  const named = new Set(problems.flatMap((p) => p.match(/--[a-z][\w-]*|<[\w-]+>/g) ?? []));
  return usageError(problems.join('; '), `fix the flag${named.size > 1 ? 's' : ''} named${help}; nothing was done`);
}

/**
 * Refuses an empty (or blank) value for every option and argument of `command` and its
 * subcommands, at parse time: no command means "nothing" by an empty string, and one passed on
 * would be refused only after connecting, or not at all.
 */
export function refuseEmptyValues(command: Command): void {
  const help = `(see '${commandPath(command)} --help')`;
  for (const option of command.options) {
    // Boolean flags take no value; optional values (`[value]`) may be left out, not given empty.
    if (!option.required && !option.optional) continue;
    const name = option.long ?? option.short ?? option.name();
    option.argParser(nonEmpty(name, option.mandatory ? `give one ${help}` : `give one, or leave ${name} out ${help}`, option.parseArg ?? asGiven(option)));
  }
  for (const argument of command.registeredArguments) {
    const name = `<${argument.name()}>`;
    argument.argParser(nonEmpty(name, argument.required ? `give one ${help}` : `give one, or leave it out ${help}`, argument.parseArg ?? asGiven(argument)));
  }
  for (const sub of command.commands) refuseEmptyValues(sub);
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function nonEmpty<T>(name: string, hint: string, parse: (value: string, previous: T) => T): (value: string, previous: T) => T {
  return (value, previous) => {
    if (value.trim() === '') throw usageError(`${name} must not be empty`, hint);
    return parse(value, previous);
  };
}

/** Commander's own handling of a value without a parser: as given, collected for a variadic one. */
function asGiven<T>(target: { variadic: boolean; defaultValue?: unknown }): (value: string, previous: T) => T {
  return (value, previous) => {
    if (!target.variadic) return value as T;
    return (previous === target.defaultValue || !Array.isArray(previous) ? [value] : [...(previous as unknown[]), value]) as T;
  };
}

// ---------------------------------------------------------------------------------------
// Plain words

// zod's own messages (as opposed to a schema's): these are reworded, a schema's are kept.
const ZOD_DEFAULT = /^(Invalid|Too (small|big)|Unrecognized)/;

type Issue = z.core.$ZodIssue;

function describeIssues(schema: z.ZodType, input: unknown, issues: readonly Issue[], flags: FlagNames): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    for (const line of describeIssue(schema, input, issue, flags)) if (!lines.includes(line)) lines.push(line);
  }
  return lines;
}

function describeIssue(root: z.ZodType, input: unknown, issue: Issue, flags: FlagNames): string[] {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${flagOf([...path, key], flags)} is not taken here`);
  }
  const flag = flagOf(path, flags);
  const value = valueAt(input, path);
  const schema = schemaAt(root, path);
  if (value === undefined && issue.code === 'invalid_type') return [`${flag} is required`];

  const got = shown(value);
  const rangeIssue = ['invalid_type', 'too_small', 'too_big', 'not_multiple_of'].includes(issue.code);
  if (schema instanceof z.ZodNumber && rangeIssue) return [`${flag} must be ${numberRule(schema)}${got ? ` (got ${got})` : ''}`];
  if (schema instanceof z.ZodEnum && (issue.code === 'invalid_value' || issue.code === 'invalid_type')) return [`${flag} must be one of ${schema.options.join(', ')}${got ? ` (got ${got})` : ''}`];

    // A refinement may be about several fields (`a + b must be at most 1`): the value alone says little.
  if (!ZOD_DEFAULT.test(issue.message)) return [ownMessage(issue.message, path, flag, flags, issue.code === 'custom' ? undefined : got)];
  if (schema instanceof z.ZodString || typeof value === 'string') {
    if (issue.code === 'too_small' && Number(issue.minimum) <= 1) return [`${flag} must not be empty`];
    if (issue.code === 'too_small') return [`${flag} must be at least ${issue.minimum} characters (got ${String(value).length})`];
    if (issue.code === 'too_big') return [`${flag} must be at most ${issue.maximum} characters (got ${String(value).length})`];
    if (issue.code === 'invalid_type') return [`${flag} must be text${got ? ` (got ${got})` : ''}`];
  }
  if (issue.code === 'too_small' && issue.origin === 'array') return [`give ${flag} at least ${issue.minimum} time${Number(issue.minimum) === 1 ? '' : 's'}`];
  if (issue.code === 'too_big' && issue.origin === 'array') return [`give ${flag} at most ${issue.maximum} times`];
  return [`${flag}: ${issue.message.replace(/^Invalid input: /, '')}${got ? ` (got ${got})` : ''}`];
}

/**
 * A schema's own message, with the fields it mentions named by their flags:
 * `approver must name who decides` → `--as must name who decides`, `transientRate +
 * ambiguousRate …` → `--rate + --ambiguous-rate …`, `expected a duration …` → `--every must be
 * a duration …`, `must be …` → `--flag must be …`; otherwise `--flag: <message>`.
 */
function ownMessage(message: string, path: readonly string[], flag: string, flags: FlagNames, got: string | undefined): string {
  const own = path.at(-1);
  // A message opening with its own field's name: `approver must …`.
  let text = own !== undefined && message.startsWith(`${own} `) ? `${flag}${message.slice(own.length)}` : message;
  // Field names written as identifiers (`transientRate`), never plain words (`name`, `reason`).
  for (const [field, name] of Object.entries(flags)) {
    const leaf = field.split('.').at(-1)!;
    const sameLeaf = Object.keys(flags).filter((f) => f.split('.').at(-1) === leaf);
    if (!/^[a-z]+[A-Z0-9][A-Za-z0-9]*$/.test(leaf) || (sameLeaf.length > 1 && field !== path.join('.'))) continue;
    text = text.replace(new RegExp(`(?<![\\w.-])${leaf}(?![\\w-])`, 'g'), name);
  }
  const typed = got?.startsWith("'") ? got.slice(1, -1) : got;
  const withGot = typed !== undefined && !text.includes(typed) ? ` (got ${got})` : '';
  if (text.startsWith('expected ')) return `${flag} must be ${text.slice('expected '.length)}${withGot}`;
  if (/^(must|is|should|cannot) /.test(text)) return `${flag} ${text}${withGot}`;
  if (text.includes(flag)) return `${text}${withGot}`;
  return `${flag}: ${text}${withGot}`;
}

/** `a whole number from 1 to 64`, `a number of at least 0`, … */
function numberRule(schema: z.ZodNumber): string {
  const kind = schema.isInt ? 'a whole number' : 'a number';
  const min = Number.isFinite(schema.minValue) && Math.abs(schema.minValue ?? Infinity) < Number.MAX_SAFE_INTEGER ? schema.minValue : null;
  const max = Number.isFinite(schema.maxValue) && Math.abs(schema.maxValue ?? Infinity) < Number.MAX_SAFE_INTEGER ? schema.maxValue : null;
  if (min !== null && max !== null) return `${kind} from ${min} to ${max}`;
  if (min !== null) return `${kind} of at least ${min}`;
  if (max !== null) return `${kind} of at most ${max}`;
  return kind;
}

/** The flag of the field at `path`: its own, else that of the nearest parent with one (`approvers.1` → `--approver`). */
function flagOf(path: readonly string[], flags: FlagNames): string {
  for (let end = path.length; end > 0; end--) {
    const flag = flags[path.slice(0, end).join('.')];
    if (flag !== undefined) return flag;
  }
  return path.join('.') || 'the input';
}

function valueAt(input: unknown, path: readonly string[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** The schema of the field at `path`, looking through optional, default, nullable and pipes. */
function schemaAt(root: z.ZodType, path: readonly string[]): z.ZodType | undefined {
  let schema: z.ZodType | undefined = unwrap(root);
  for (const key of path) {
    if (schema instanceof z.ZodObject) schema = (schema.shape as Record<string, z.ZodType>)[key];
    else if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
    else return undefined;
    schema = schema && unwrap(schema);
  }
  return schema;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let depth = 0; depth < 10; depth++) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault || s instanceof z.ZodPrefault) {
      s = s.unwrap() as z.ZodType;
    } else if (s instanceof z.ZodPipe) s = s.in as z.ZodType;
    else if (s instanceof z.ZodReadonly) s = s.unwrap() as z.ZodType;
    else break;
  }
  return s;
}

/** A value as the operator typed it: `'abc'`, `65`; nothing for blanks, objects and lists. */
function shown(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim() === '') return undefined;
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}
