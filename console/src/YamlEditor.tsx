// The YAML editor (CodeMirror 6): syntax highlighting, the validator's problems shown at
// their lines, and the same text as the graph (an edit in either shows in the other).
import { yaml } from '@codemirror/lang-yaml';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { Annotation, EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import { useEffect, useRef } from 'react';
import { sourceRange } from './doc';
import type { Problem } from './types';

/** Where a problem is in `text`: its line and column, else its path's node, else line 1. */
export function problemRange(text: string, p: Problem): { from: number; to: number } {
  const lines = text.split('\n');
  const offsetOfLine = (line: number) => lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
  if (p.line && p.line <= lines.length) {
    const start = offsetOfLine(p.line);
    const col = Math.max(0, (p.column ?? 1) - 1);
    const lineText = lines[p.line - 1];
    return { from: start + Math.min(col, lineText.length), to: start + lineText.length };
  }
  if (p.path) {
    const r = sourceRange(text, p.path);
    if (r) {
      const end = text.indexOf('\n', r[0]);
      return { from: r[0], to: end < 0 ? r[1] : Math.min(end, r[1]) };
    }
  }
  return { from: 0, to: Math.max(0, text.indexOf('\n')) };
}

/** Marks changes that came from outside the editor (not echoed back to onChange). */
const external = Annotation.define<boolean>();

export interface YamlEditorProps {
  value: string;
  onChange: (text: string) => void;
  problems: Problem[];
  readOnly?: boolean;
  /** Moves the cursor to this offset when it changes. */
  focus?: { at: number; n: number } | null;
}

export function YamlEditor({ value, onChange, problems, readOnly, focus }: YamlEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const changed = useRef(onChange);
  changed.current = onChange;
  // The last text the editor reported: a `value` equal to it is the echo of the editor's
  // own edit (possibly older than what the editor holds by now), not a change to apply.
  const emitted = useRef(value);

  useEffect(() => {
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          basicSetup,
          yaml(),
          lintGutter(),
          EditorState.readOnly.of(!!readOnly),
          EditorView.updateListener.of((u) => {
            if (u.docChanged && !u.transactions.some((t) => t.annotation(external))) {
              emitted.current = u.state.doc.toString();
              changed.current(emitted.current);
            }
          }),
          EditorView.contentAttributes.of({ 'aria-label': 'Workflow YAML', 'data-testid': 'yaml-editor' }),
        ],
      }),
    });
    view.current = v;
    return () => v.destroy();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // An edit made elsewhere (the graph's forms): apply only the changed span, so the
  // cursor and scroll stay where they were.
  useEffect(() => {
    const v = view.current;
    if (!v) return;
    if (value === emitted.current) return;
    emitted.current = value;
    const cur = v.state.doc.toString();
    if (cur === value) return;
    let start = 0;
    while (start < cur.length && start < value.length && cur[start] === value[start]) start++;
    let endA = cur.length;
    let endB = value.length;
    while (endA > start && endB > start && cur[endA - 1] === value[endB - 1]) {
      endA--;
      endB--;
    }
    v.dispatch({ changes: { from: start, to: endA, insert: value.slice(start, endB) }, annotations: external.of(true) });
  }, [value]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const text = v.state.doc.toString();
    const diagnostics: Diagnostic[] = problems.map((p) => {
      const { from, to } = problemRange(text, p);
      return { from, to: Math.max(from, to), severity: 'error', message: `${p.location}: ${p.message}`, source: 'sluice' };
    });
    v.dispatch(setDiagnostics(v.state, diagnostics));
  }, [problems, value]);

  useEffect(() => {
    const v = view.current;
    if (!v || !focus) return;
    const at = Math.min(focus.at, v.state.doc.length);
    v.dispatch({ selection: { anchor: at }, scrollIntoView: true });
    v.focus();
  }, [focus]);

  return <div className="yaml-editor" ref={host} />;
}
