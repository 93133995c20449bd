/*
 * Escaping for examples/demo/demoPage.ts. Device names, messages and narration are data: every
 * piece of text reaches the page through one of these, never raw.
 */

const ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text for element content and for attribute values (quoted with `"`), in HTML and SVG alike. */
export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);

/** `name="value"` pairs, each value escaped; `undefined` values are left out. */
export function attributes(pairs: Readonly<Record<string, string | number | undefined>>): string {
  return Object.entries(pairs)
    .filter((pair): pair is [string, string | number] => pair[1] !== undefined)
    .map(([name, value]) => ` ${name}="${escapeHtml(String(value))}"`)
    .join("");
}

/**
 * JSON inside `<script type="application/json">`: `<` is written as `\u003c` so no string in
 * the data can close the element, and U+2028/U+2029 are escaped for older parsers.
 */
export const inlineJson = (value: unknown): string =>
  JSON.stringify(value)
    .replaceAll("<", "\\u003c")
    .replaceAll("\u2028", "\\u2028")
    .replaceAll("\u2029", "\\u2029");
