// Edits of a workflow document that keep its text: each function finds the node to change
// with the `yaml` package's Document API (which knows every node's range in the source)
// and splices new text into that range only. Comments, key order, quoting and layout of
// everything else survive byte for byte, which re-serialising a model would not give.

import { isMap, isPair, isScalar, isSeq, parseDocument, stringify, type Document, type Node, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';

export type Path = (string | number)[];

export class EditError extends Error {}

export function parse(text: string): Document.Parsed {
  return parseDocument(text, { keepSourceTokens: false, prettyErrors: false, uniqueKeys: false });
}

/** The plain JavaScript value at `path`, or undefined. */
export function readValue(text: string, path: Path): unknown {
  const doc = parse(text);
  const node = doc.getIn(path, true) as Node | undefined;
  if (node === undefined || node === null) return undefined;
  return isScalar(node) ? node.value : (node as { toJSON(): unknown }).toJSON();
}

function lineStart(text: string, pos: number): number {
  return text.lastIndexOf('\n', pos - 1) + 1;
}

/** The position just after the newline ending the line that holds `pos`. */
function lineEnd(text: string, pos: number): number {
  const i = text.indexOf('\n', pos);
  return i < 0 ? text.length : i + 1;
}

function column(text: string, pos: number): number {
  return pos - lineStart(text, pos);
}

function splice(text: string, from: number, to: number, insert: string): string {
  return text.slice(0, from) + insert + text.slice(to);
}

const RESERVED = /^(true|false|yes|no|on|off|null|~|y|n)$/i;
/** What a YAML reader could take for a number or a date rather than text. */
const NUMBER = /^([-+]?([0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?|\.[0-9]+([eE][-+]?[0-9]+)?|0x[0-9a-f_]+|0o[0-7_]+|0b[01_]+|\.inf|\.nan)|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*)$/i;

/** A scalar as YAML, valid in block and flow context: plain when it can be, else JSON. */
export function formatScalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const s = String(v);
  if (/^[A-Za-z0-9_/][A-Za-z0-9_ ./@+-]*$/.test(s) && !s.endsWith(' ') && !RESERVED.test(s) && !NUMBER.test(s)) {
    return s;
  }
  return JSON.stringify(s);
}

/** Any value as flow-style YAML (one line; valid in any context). */
export function formatValue(v: unknown): string {
  if (Array.isArray(v)) return v.length === 0 ? '[]' : `[${v.map(formatValue).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 0) return '{}';
    return `{ ${entries.map(([k, x]) => `${formatScalar(k)}: ${formatValue(x)}`).join(', ')} }`;
  }
  return formatScalar(v);
}

function findPair(map: YAMLMap, key: string | number): Pair<Node, Node | null> | undefined {
  return (map.items as Pair<Node, Node | null>[]).find(
    (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(key),
  );
}

function rangeOf(node: Node | null | undefined): [number, number, number] | undefined {
  return (node as { range?: [number, number, number] } | null | undefined)?.range ?? undefined;
}

/** The end of a pair's or item's content (its value's, else its key's). */
function pairEnd(p: Pair<Node, Node | null>): number {
  const v = rangeOf(p.value);
  const k = rangeOf(p.key);
  return v ? v[1] : k ? k[1] : 0;
}

/** The position just after the `:` that follows a key. */
function afterColon(text: string, keyEnd: number): number {
  const i = text.indexOf(':', keyEnd);
  if (i < 0) throw new EditError('malformed mapping');
  return i + 1;
}

/** The node at `path`, which must exist. */
function nodeAt(doc: Document.Parsed, path: Path): Node {
  const node = path.length === 0 ? doc.contents : (doc.getIn(path, true) as Node | undefined);
  if (!node) throw new EditError(`nothing at ${path.join('.')}`);
  return node as Node;
}

/** Sets the value at `path`, adding the key (and missing parents) when absent. */
export function setValue(text: string, path: Path, value: unknown): string {
  if (path.length === 0) throw new EditError('cannot replace the whole document');
  const doc = parse(text);
  const key = path[path.length - 1];
  const parentPath = path.slice(0, -1);
  const parent = parentPath.length === 0 ? doc.contents : (doc.getIn(parentPath, true) as Node | undefined);
  if (parent === undefined || parent === null || (isScalar(parent) && parent.value === null)) {
    // A missing parent: set it to a mapping (or list) holding the value.
    if (parentPath.length === 0) throw new EditError('the document is empty');
    const holder = typeof key === 'number' ? [value] : { [key]: value };
    return setValue(text, parentPath, holder);
  }
  if (isMap(parent)) {
    const pair = findPair(parent, key);
    if (pair) return replacePairValue(text, pair, value);
    return addPair(text, parent, String(key), value);
  }
  if (isSeq(parent) && typeof key === 'number') {
    const item = parent.items[key] as Node | undefined;
    const r = rangeOf(item);
    if (item && r) {
      if ((isMap(item) || isSeq(item)) && !item.flow) throw new EditError('replace a block item by its fields');
      return splice(text, r[0], r[1], formatValue(value));
    }
    if (key === parent.items.length) return appendItem(text, parent, value);
  }
  throw new EditError(`cannot set ${path.join('.')}`);
}

function replacePairValue(text: string, pair: Pair<Node, Node | null>, value: unknown): string {
  const v = pair.value;
  const r = rangeOf(v);
  const k = rangeOf(pair.key);
  if (!k) throw new EditError('a key without a position');
  const blockCollection = v && (isMap(v) || isSeq(v)) && !v.flow;
  const empty = !v || !r || (isScalar(v) && v.value === null && r[0] === r[1]);
  if (empty || blockCollection) {
    // `key:` with nothing, or a block collection below it: the flow value goes after `:`.
    const start = afterColon(text, k[1]);
    let end = empty ? start : r![1];
    while (end > start && (text[end - 1] === '\n' || text[end - 1] === ' ')) end--;
    return splice(text, start, end, ` ${formatValue(value)}`);
  }
  return splice(text, r[0], r[1], formatValue(value));
}

function addPair(text: string, map: YAMLMap, key: string, value: unknown): string {
  const pairs = map.items as Pair<Node, Node | null>[];
  const entry = `${formatScalar(key)}: ${formatValue(value)}`;
  const r = rangeOf(map as unknown as Node);
  if (!r) throw new EditError('a mapping without a position');
  if (map.flow) {
    if (pairs.length === 0) {
      const open = text.indexOf('{', r[0]);
      const close = text.indexOf('}', open);
      return splice(text, open, close + 1, `{ ${entry} }`);
    }
    return splice(text, pairEnd(pairs[pairs.length - 1]), pairEnd(pairs[pairs.length - 1]), `, ${entry}`);
  }
  const first = rangeOf(pairs[0]?.key);
  if (!first) throw new EditError('an empty block mapping');
  const indent = ' '.repeat(column(text, first[0]));
  const last = pairEnd(pairs[pairs.length - 1]);
  const at = lineEnd(text, Math.max(last - 1, 0));
  const prefix = at === text.length && !text.endsWith('\n') ? '\n' : '';
  return splice(text, at, at, `${prefix}${indent}${entry}\n`);
}

function appendItem(text: string, seq: YAMLSeq, value: unknown): string {
  const items = seq.items as Node[];
  const r = rangeOf(seq as unknown as Node);
  if (!r) throw new EditError('a list without a position');
  if (seq.flow) {
    if (items.length === 0) {
      const open = text.indexOf('[', r[0]);
      const close = text.indexOf(']', open);
      return splice(text, open, close + 1, `[${formatValue(value)}]`);
    }
    const end = rangeOf(items[items.length - 1])![1];
    return splice(text, end, end, `, ${formatValue(value)}`);
  }
  const firstItem = rangeOf(items[0]);
  if (!firstItem) throw new EditError('an empty block list');
  const dash = text.lastIndexOf('-', firstItem[0]);
  const indent = ' '.repeat(column(text, dash));
  const at = lineEnd(text, Math.max(rangeOf(items[items.length - 1])![1] - 1, 0));
  const prefix = at === text.length && !text.endsWith('\n') ? '\n' : '';
  return splice(text, at, at, `${prefix}${indent}- ${formatValue(value)}\n`);
}

/** Removes the key at `path` (a no-op when it is absent). */
export function removeKey(text: string, path: Path): string {
  const doc = parse(text);
  const parent = path.length === 1 ? doc.contents : (doc.getIn(path.slice(0, -1), true) as Node | undefined);
  if (!parent || !isMap(parent)) return text;
  const pair = findPair(parent, path[path.length - 1]);
  if (!pair) return text;
  const k = rangeOf(pair.key)!;
  const end = pairEnd(pair);
  if (parent.flow) {
    const after = text.slice(end).match(/^\s*,\s*/);
    if (after) return splice(text, k[0], end + after[0].length, '');
    const before = text.slice(0, k[0]).match(/,\s*$/);
    return splice(text, before ? k[0] - before[0].length : k[0], end, '');
  }
  const start = lineStart(text, k[0]);
  const lead = text.slice(start, k[0]);
  const stop = lineEnd(text, Math.max(end - 1, k[1]));
  if (lead.trim() === '') return splice(text, start, stop, '');
  // The first key of a list item (`- retry: …`): keep the dash line's other keys valid.
  return splice(text, k[0], stop, '\n' + ' '.repeat(k[0] - start));
}

/** The text span of item `i` of a block list: its lines, with the comments just above. */
function itemSpan(text: string, seq: YAMLSeq, i: number): [number, number] {
  const item = seq.items[i] as Node;
  const r = rangeOf(item);
  if (!r) throw new EditError('a list item without a position');
  const dash = text.lastIndexOf('-', r[0]);
  let start = lineStart(text, dash);
  const indent = dash - start;
  // Comment lines directly above, at the dash's indentation, go with the item.
  for (;;) {
    if (start === 0) break;
    const prev = lineStart(text, start - 1);
    const line = text.slice(prev, start - 1);
    if (line.trim().startsWith('#') && line.length - line.trimStart().length === indent) start = prev;
    else break;
  }
  let end = lineEnd(text, Math.max(r[1] - 1, r[0]));
  // Trailing blank lines belong to the gap, not the item.
  while (end > r[1] && end > start && text.slice(lineStart(text, end - 1), end).trim() === '' && lineStart(text, end - 1) >= r[1]) {
    end = lineStart(text, end - 1);
  }
  return [start, end];
}

function blockSeq(doc: Document.Parsed, path: Path): YAMLSeq {
  const seq = nodeAt(doc, path);
  if (!isSeq(seq)) throw new EditError(`${path.join('.')} is not a list`);
  if (seq.flow) throw new EditError(`${path.join('.')} is a one-line list; write it as a block list to edit its steps`);
  return seq;
}

/** Removes step `index` of the step list at `seqPath`. */
export function removeStep(text: string, seqPath: Path, index: number): string {
  const doc = parse(text);
  const seq = blockSeq(doc, seqPath);
  if (seq.items.length <= 1) throw new EditError('a step list keeps at least one step');
  const [start, end] = itemSpan(text, seq, index);
  return splice(text, start, end, '');
}

/** Moves step `from` of the list at `seqPath` to position `to` (in the list after it). */
export function moveStep(text: string, seqPath: Path, from: number, to: number): string {
  if (from === to) return text;
  const doc = parse(text);
  const seq = blockSeq(doc, seqPath);
  if (to < 0 || to >= seq.items.length) throw new EditError('no such position');
  const [start, end] = itemSpan(text, seq, from);
  let piece = text.slice(start, end);
  if (!piece.endsWith('\n')) piece += '\n';
  const without = splice(text, start, end, '');
  const doc2 = parse(without);
  const seq2 = blockSeq(doc2, seqPath);
  if (to < seq2.items.length) {
    const [at] = itemSpan(without, seq2, to);
    return splice(without, at, at, piece);
  }
  const [, last] = itemSpan(without, seq2, seq2.items.length - 1);
  const sep = without.slice(0, last).endsWith('\n') ? '' : '\n';
  return splice(without, last, last, sep + piece);
}

/** Inserts a step (a plain object) at `index` of the list at `seqPath`, in block style. */
export function insertStep(text: string, seqPath: Path, index: number, step: Record<string, unknown>): string {
  const doc = parse(text);
  const seq = blockSeq(doc, seqPath);
  const firstItem = rangeOf(seq.items[0] as Node)!;
  const dash = text.lastIndexOf('-', firstItem[0]);
  const indent = ' '.repeat(dash - lineStart(text, dash));
  const block = stringify([step], { lineWidth: 0, flowCollectionPadding: true })
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => indent + l)
    .join('\n') + '\n';
  if (index < seq.items.length) {
    const [at] = itemSpan(text, seq, index);
    return splice(text, at, at, block);
  }
  const [, last] = itemSpan(text, seq, seq.items.length - 1);
  const sep = text.slice(0, last).endsWith('\n') ? '' : '\n';
  return splice(text, last, last, sep + block);
}

/** The source range `[from, to)` of the node at `path` (for highlighting), if any. */
export function sourceRange(text: string, path: Path): [number, number] | null {
  try {
    const doc = parse(text);
    const node = nodeAt(doc, path);
    const r = rangeOf(node);
    return r ? [r[0], r[1]] : null;
  } catch {
    return null;
  }
}

/** The 1-based line of a source offset. */
export function lineOf(text: string, pos: number): number {
  let n = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/** Every step of a document with its path, in document order (then, else, do, branches, handlers). */
export function stepPaths(value: unknown): { path: Path; step: Record<string, unknown> }[] {
  const out: { path: Path; step: Record<string, unknown> }[] = [];
  const walk = (steps: unknown, base: Path) => {
    if (!Array.isArray(steps)) return;
    steps.forEach((s, i) => {
      if (!s || typeof s !== 'object') return;
      const step = s as Record<string, unknown>;
      const p = [...base, i];
      out.push({ path: p, step });
      walk(step.then, [...p, 'then']);
      walk(step.else, [...p, 'else']);
      walk(step.do, [...p, 'do']);
      if (Array.isArray(step.parallel)) step.parallel.forEach((b, j) => walk(b, [...p, 'parallel', j]));
      if (Array.isArray(step.on_error)) walk(step.on_error, [...p, 'on_error']);
    });
  };
  walk((value as { steps?: unknown } | null)?.steps, ['steps']);
  return out;
}

/** A graph node id (`steps.2.then.0`) as a document path. */
export function nodePath(id: string): Path {
  return id.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}
