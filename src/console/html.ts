/**
 * HTML built as text with every value escaped: `h` is a tagged template whose interpolations
 * are escaped unless they are {@link Html} already (another `h` template, or `raw` markup the
 * console made itself, such as Graphviz's SVG). Saga ids, step names and error messages come
 * from the rack and operators: escaping by default is what keeps them text.
 */

/** Markup that is safe to insert as is. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** What an interpolation may be: text (escaped), markup, nothing, or a list of these. */
export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for an element's content or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('');
  return escapeHtml(String(value));
}

/** The tagged template: `h\`<td>${name}</td>\`` escapes `name`. `false`, `null` and `undefined` render nothing. */
export function h(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** Markup the console made itself (never text from outside). */
export function raw(markup: string): Html {
  return new Html(markup);
}
