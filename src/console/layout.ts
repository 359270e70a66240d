/**
 * The page every console view sits in: navigation, the style sheet, and the one small script
 * that keeps live regions fresh. Pages are whole HTML documents rendered on the server; a live
 * region (`data-live="<url>"`) is re-fetched as a fragment from the same routes and swapped in,
 * so the browser never computes state of its own.
 */
import { type Html, type HtmlValue, h, raw } from './html';

/** The console's sections, in the order the navigation lists them. */
export const SECTIONS = [
  { path: '/', label: 'Overview' },
  { path: '/sagas', label: 'Sagas' },
  { path: '/errors', label: 'Errors' },
  { path: '/firmware', label: 'Firmware' },
] as const;

/** Options of {@link page}. */
export interface PageOptions {
  /** The section highlighted in the navigation. */
  section?: (typeof SECTIONS)[number]['path'];
  /** The Temporal UI's address, linked from the navigation. */
  temporalUi?: string | null;
  /** HTTP status the page goes with (the route sets it; kept here for error pages). */
  status?: number;
}

// Colours meet WCAG AA (4.5:1) for text on their backgrounds; state is always also written out.
const STYLE = `
:root { --fg:#1b1f24; --muted:#4a5560; --bg:#ffffff; --panel:#f4f6f8; --line:#c9d1d9; --link:#0b57d0; --focus:#b45309;
  --red-bg:#ffe3e3; --red:#8a1111; --yellow-bg:#fff3bf; --yellow:#6b4e00; --green-bg:#d3f9d8; --green:#1b5e20; --grey-bg:#e9ecef; --grey:#343a40; }
* { box-sizing: border-box; }
html { font-size: clamp(15px, 0.55vw + 8px, 30px); }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg); background: var(--bg); line-height: 1.45; }
a { color: var(--link); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible, summary:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; z-index: 10; }
header { display: flex; gap: 1.5rem; align-items: baseline; padding: .6rem 1.2rem; background: #1b1f24; color: #fff; flex-wrap: wrap; }
header .brand { font-weight: 700; font-size: 1.15rem; color: #fff; text-decoration: none; }
header nav a { color: #e6edf3; margin-right: 1rem; text-decoration: none; padding: .2rem .1rem; }
header nav a[aria-current="page"] { border-bottom: 3px solid #ffd43b; color: #fff; }
main { padding: 1rem 1.2rem 3rem; max-width: 120rem; }
h1 { font-size: 1.5rem; margin: .3rem 0 .8rem; word-break: break-all; } h2 { font-size: 1.2rem; margin: 1.6rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); position: sticky; top: 0; }
th[scope="row"] { white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: .8rem; font-weight: 600; font-size: .9em; white-space: nowrap; }
.red { background: var(--red-bg); color: var(--red); } .yellow { background: var(--yellow-bg); color: var(--yellow); }
.green { background: var(--green-bg); color: var(--green); } .grey { background: var(--grey-bg); color: var(--grey); }
.muted { color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr)); gap: .8rem; }
.card { display: block; padding: .8rem 1rem; border: 1px solid var(--line); border-radius: .5rem; text-decoration: none; color: var(--fg); background: var(--panel); }
.card .n { font-size: 2.2rem; font-weight: 700; display: block; font-variant-numeric: tabular-nums; }
.card.alert { border: 2px solid var(--red); background: var(--red-bg); }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: 0 0 1rem; }
.facts dt { font-weight: 600; color: var(--muted); } .facts dd { margin: 0; }
.act { border: 2px solid var(--red); background: var(--red-bg); padding: .8rem 1rem; border-radius: .5rem; margin: .8rem 0; }
.act.approval { border-color: var(--yellow); background: var(--yellow-bg); }
.act p { margin: .2rem 0; } .act .buttons { margin-top: .4rem; }
.saga-top { display: grid; grid-template-columns: minmax(16rem, 26rem) 1fr; gap: 0 2rem; align-items: start; }
.saga-top h2 { margin-top: 0; }
@media (max-width: 900px) { .saga-top { grid-template-columns: 1fr; } }
.buttons { display: flex; gap: .6rem; flex-wrap: wrap; margin-top: .5rem; }
.button, button { display: inline-block; font: inherit; padding: .4rem 1rem; border-radius: .35rem; border: 2px solid #1b1f24; background: #fff; color: #1b1f24; cursor: pointer; text-decoration: none; }
button.primary, .button.primary { background: #1b1f24; color: #fff; }
form.filters { display: flex; gap: .8rem; flex-wrap: wrap; align-items: end; margin-bottom: .8rem; }
label { display: block; font-weight: 600; font-size: .9rem; }
input, select, textarea { font: inherit; padding: .3rem .45rem; border: 1px solid #6b7280; border-radius: .3rem; }
textarea { width: 100%; max-width: 40rem; min-height: 4rem; }
.field { margin: .7rem 0; } .hint { font-size: .85rem; color: var(--muted); }
.graph { overflow: auto; border: 1px solid var(--line); border-radius: .5rem; padding: .5rem; background: #fff; }
.graph svg { max-width: 100%; height: auto; }
.legend { display: flex; gap: .5rem; flex-wrap: wrap; margin: .4rem 0; font-size: .9rem; align-items: center; }
.swatch { display: inline-block; width: 1rem; height: 1rem; border: 1px solid #495057; vertical-align: middle; margin-right: .25rem; border-radius: .2rem; }
.bar { background: var(--grey-bg); border-radius: .3rem; height: 1rem; min-width: 10rem; overflow: hidden; }
.bar > span { display: block; height: 100%; background: #2f9e44; }
pre { white-space: pre-wrap; word-break: break-word; background: var(--panel); padding: .6rem; border-radius: .4rem; }
.error-box { border-left: 5px solid var(--red); background: var(--red-bg); padding: .6rem 1rem; }
.ok-box { border-left: 5px solid var(--green); background: var(--green-bg); padding: .6rem 1rem; }
.live-note { font-size: .8rem; color: var(--muted); }
.pager { display: flex; gap: 1rem; margin: .8rem 0; align-items: center; }
`;

// Re-fetches each live region's fragment and swaps it in; pauses while the tab is hidden. The
// server renders every fragment: nothing here knows what a saga is.
const SCRIPT = `
(() => {
  const regions = document.querySelectorAll('[data-live]');
  for (const region of regions) {
    const every = Number(region.dataset.every || 3000);
    const note = document.getElementById(region.dataset.note || '');
    const tick = async () => {
      if (!document.hidden) {
        try {
          const res = await fetch(region.dataset.live, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
          if (!res.ok) throw new Error('HTTP ' + res.status);
          const text = await res.text();
          // Swapping under a keyboard user's focus would throw it back to the top: hold the update.
          if (region.contains(document.activeElement) && document.activeElement !== region) {
            if (note) note.textContent = 'live: update held while focus is inside';
          } else {
            if (text !== region.dataset.last) { region.innerHTML = text; region.dataset.last = text; }
            if (note) note.textContent = 'live: updated ' + new Date().toLocaleTimeString();
          }
        } catch (err) {
          if (note) note.textContent = 'live updates failing (' + err.message + '); retrying';
        }
      }
      setTimeout(tick, every);
    };
    setTimeout(tick, every);
  }
})();
`;

/** A whole console page. */
export function page(title: string, body: HtmlValue, options: PageOptions = {}): Html {
  const nav = SECTIONS.map((s) => h`<a href="${s.path}"${options.section === s.path ? raw(' aria-current="page"') : ''}>${s.label}</a>`);
  const ui = options.temporalUi ? h`<a href="${options.temporalUi}" rel="noopener">Temporal UI ↗</a>` : '';
  return h`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · unwind console</title>
<style>${raw(STYLE)}</style>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header><a class="brand" href="/">unwind console</a><nav aria-label="Sections">${nav}${ui}</nav></header>
<main id="main" tabindex="-1">
${body}
</main>
<script>${raw(SCRIPT)}</script>
</body>
</html>`;
}

/**
 * A region the page keeps fresh: its content now, re-fetched from `url` every `everyMs`. A note
 * beside it says when it last updated (or that updates fail), for a wall screen left alone.
 */
export function liveRegion(id: string, url: string, content: HtmlValue, everyMs = 3_000): Html {
  return h`<p class="live-note" id="${id}-note" aria-live="off">live: updates every ${Math.round(everyMs / 1000)} s</p>
<div id="${id}" data-live="${url}" data-every="${everyMs}" data-note="${id}-note">${content}</div>`;
}
