/**
 * The types of `ms` (3.0.0-canary.1, the version the Temporal SDK uses), declared here because
 * the package cannot give them to this project: its `exports` map has no `types` condition and
 * no `index.d.cts`/`index.d.mts` beside its builds, so under `moduleResolution: nodenext` its
 * own `dist/index.d.ts` is never found. Its signatures, as in that file; drop this when the
 * package publishes types `nodenext` can resolve.
 */
declare module 'ms' {
  /**
   * Text `ms` reads: a number, optionally followed by a unit (`ms`, `s`, `m`, `h`, `d`, `w`, `y`
   * and their long forms, any case), with or without a space. The package types it as a
   * template literal; here it is `string` on purpose: the SDK's own `Duration` type is built on
   * this name, and was `any` to this project while the package's types went unresolved, so the
   * exact type would newly refuse code that passes the SDK a `string` it built (the worker's
   * settings). Tightening it is a change of its own.
   */
  export type StringValue = string;
  interface Options {
    /** Verbose formatting (`2 hours` rather than `2h`). */
    long?: boolean;
  }
  /**
   * Parses `value` to milliseconds (`NaN` when it is not a duration), or formats a number of
   * milliseconds.
   *
   * @throws Error if `value` is an empty string, longer than 100 characters, or not finite
   */
  function ms(value: StringValue, options?: Options): number;
  function ms(value: number, options?: Options): string;
  export default ms;
}
