// A form generated from a JSON Schema: the run form (typed values from the trigger's
// input_schema) and a step's `with:` (where any field may hold a template such as
// `${input.username}` or `{{ … }}`, so fields stay text where a template may go).
// Write-only fields (`writeOnly`, `format: password`) are masked.
import { useState } from 'react';
import type { Path } from './doc';
import type { JsonSchema } from './types';

export type Mode = 'run' | 'step';

export interface SchemaFormProps {
  schema: JsonSchema;
  value: unknown;
  /** A field changed; `undefined` removes it. */
  onField: (path: Path, value: unknown) => void;
  mode: Mode;
  idPrefix?: string;
}

const isTemplate = (s: string) => s.includes('${') || s.includes('{{');

function typeOf(s: JsonSchema): string | undefined {
  if (Array.isArray(s.type)) return s.type.find((t) => t !== 'null');
  if (s.type) return s.type;
  if (s.properties) return 'object';
  if (s.enum) return 'enum';
  return undefined;
}

export function masked(s: JsonSchema): boolean {
  return s.writeOnly === true || s.format === 'password';
}

/** Text typed into a number field: a number, or (a template, a half-typed value) the text. */
function numberOrText(text: string): unknown {
  if (text.trim() === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) && !isTemplate(text) ? n : text;
}

export function SchemaForm({ schema, value, onField, mode, idPrefix = 'f' }: SchemaFormProps) {
  return <ObjectFields schema={schema} value={value} onField={onField} mode={mode} path={[]} idPrefix={idPrefix} />;
}

function ObjectFields({ schema, value, onField, mode, path, idPrefix }: { schema: JsonSchema; value: unknown; onField: SchemaFormProps['onField']; mode: Mode; path: Path; idPrefix: string }) {
  const obj = (value && typeof value === 'object' && !Array.isArray(value) ? value : {}) as Record<string, unknown>;
  const props = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const names = Object.keys(props);
  if (names.length === 0) {
    return <JsonField value={value} onChange={(v) => onField(path, v)} id={`${idPrefix}-json`} label="Value (JSON)" />;
  }
  return (
    <div className="form-fields">
      {names.map((name) => (
        <Field
          key={name}
          name={name}
          schema={props[name]}
          required={required.has(name)}
          value={obj[name]}
          onField={onField}
          mode={mode}
          path={[...path, name]}
          idPrefix={idPrefix}
        />
      ))}
    </div>
  );
}

function Field({ name, schema, required, value, onField, mode, path, idPrefix }: { name: string; schema: JsonSchema; required: boolean; value: unknown; onField: SchemaFormProps['onField']; mode: Mode; path: Path; idPrefix: string }) {
  const id = `${idPrefix}-${path.join('-')}`;
  const t = typeOf(schema);
  const label = (
    <label htmlFor={id}>
      {schema.title ?? name}
      {required && <span className="required" title="required"> *</span>}
    </label>
  );
  const help = schema.description ? <div className="help">{schema.description}</div> : null;
  const placeholder = schema.default !== undefined ? `default: ${JSON.stringify(schema.default)}` : undefined;
  const set = (v: unknown) => onField(path, v);
  const templated = typeof value === 'string' && isTemplate(value);

  if (schema.enum && !templated) {
    return (
      <div className="field">
        {label}
        <select id={id} value={value === undefined ? '' : JSON.stringify(value)} onChange={(e) => set(e.target.value === '' ? undefined : JSON.parse(e.target.value))}>
          <option value="">{schema.default !== undefined ? `(default: ${String(schema.default)})` : '—'}</option>
          {schema.enum.map((o) => (
            <option key={JSON.stringify(o)} value={JSON.stringify(o)}>
              {String(o)}
            </option>
          ))}
        </select>
        {help}
      </div>
    );
  }
  if (t === 'boolean' && !templated) {
    if (mode === 'run') {
      const checked = value === undefined ? schema.default === true : value === true;
      return (
        <div className="field field-check">
          <input id={id} type="checkbox" checked={checked} onChange={(e) => set(e.target.checked)} />
          {label}
          {help}
        </div>
      );
    }
    return (
      <div className="field">
        {label}
        <select id={id} value={value === undefined ? '' : String(value)} onChange={(e) => set(e.target.value === '' ? undefined : e.target.value === 'true')}>
          <option value="">{schema.default !== undefined ? `(default: ${String(schema.default)})` : '—'}</option>
          <option value="true">true</option>
          <option value="false">false</option>
        </select>
        {help}
      </div>
    );
  }
  if (t === 'object' && schema.properties && !templated) {
    return (
      <fieldset className="field-object">
        <legend>
          {schema.title ?? name}
          {required && <span className="required"> *</span>}
        </legend>
        {help}
        <ObjectFields schema={schema} value={value} onField={onField} mode={mode} path={path} idPrefix={idPrefix} />
      </fieldset>
    );
  }
  if (t === 'array' && !templated) {
    const items = schema.items ?? {};
    const it = typeOf(items);
    if (it === 'string' || it === 'integer' || it === 'number' || it === undefined) {
      const list = Array.isArray(value) ? value : [];
      return (
        <div className="field">
          {label}
          <div className="array" id={id}>
            {list.map((v, i) => (
              <div className="array-row" key={i}>
                <input
                  aria-label={`${name} ${i + 1}`}
                  value={v === undefined || v === null ? '' : String(v)}
                  onChange={(e) => {
                    const next = [...list];
                    next[i] = it === 'string' || it === undefined ? e.target.value : numberOrText(e.target.value);
                    set(next);
                  }}
                />
                <button type="button" className="small" onClick={() => set(list.filter((_, j) => j !== i))} aria-label={`remove ${name} ${i + 1}`}>
                  ×
                </button>
              </div>
            ))}
            <button type="button" className="small" onClick={() => set([...list, it === 'string' || it === undefined ? '' : 0])}>
              + add
            </button>
          </div>
          {help}
        </div>
      );
    }
    return (
      <div className="field">
        {label}
        <JsonField value={value} onChange={set} id={id} label={name} />
        {help}
      </div>
    );
  }
  if (t === 'object' || (t === undefined && !templated && value !== undefined && typeof value === 'object')) {
    return (
      <div className="field">
        {label}
        <JsonField value={value} onChange={set} id={id} label={name} />
        {help}
      </div>
    );
  }
  // Strings, numbers, templates.
  const text = value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  return (
    <div className="field">
      {label}
      <input
        id={id}
        type={masked(schema) ? 'password' : 'text'}
        autoComplete={masked(schema) ? 'new-password' : 'off'}
        inputMode={(t === 'integer' || t === 'number') && mode === 'run' ? 'decimal' : undefined}
        placeholder={placeholder ?? (mode === 'step' ? 'value or ${template}' : undefined)}
        value={text}
        onChange={(e) => {
          const s = e.target.value;
          if (s === '') set(undefined);
          else if (t === 'integer' || t === 'number') set(numberOrText(s));
          else set(s);
        }}
      />
      {help}
    </div>
  );
}

/** Free-form JSON for what a typed field cannot show; applied when it parses. */
export function JsonField({ value, onChange, id, label }: { value: unknown; onChange: (v: unknown) => void; id: string; label: string }) {
  const [text, setText] = useState(() => (value === undefined ? '' : JSON.stringify(value, null, 2)));
  const [bad, setBad] = useState<string | null>(null);
  return (
    <>
      <textarea
        id={id}
        aria-label={label}
        className="json-input"
        rows={Math.min(12, Math.max(2, text.split('\n').length))}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim() === '') {
            setBad(null);
            onChange(undefined);
            return;
          }
          try {
            onChange(JSON.parse(e.target.value));
            setBad(null);
          } catch (err) {
            setBad(String((err as Error).message));
          }
        }}
      />
      {bad && <div className="help bad">Not JSON yet: {bad}</div>}
    </>
  );
}

/** Sets `value` at `path` in a plain object, immutably (undefined removes). */
export function setIn(obj: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const [k, ...rest] = path;
  const base: Record<string, unknown> = obj && typeof obj === 'object' && !Array.isArray(obj) ? { ...(obj as Record<string, unknown>) } : {};
  const next = setIn(base[k as string], rest, value);
  if (next === undefined) delete base[k as string];
  else base[k as string] = next;
  return base;
}
