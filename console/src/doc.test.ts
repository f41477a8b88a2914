// The document edits keep every byte outside what they change, on the commented templates.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatValue, insertStep, moveStep, parse, readValue, removeKey, removeStep, setValue, sourceRange, stepPaths, type Path } from './doc';

const examples = join(import.meta.dirname, '..', '..', 'examples');
const files = [
  ...readdirSync(join(examples, 'templates'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(examples, 'templates', f)),
  join(examples, 'provision-user.yaml'),
  join(examples, 'group-routing.yaml'),
  join(examples, 'onboarding.yaml'),
];

/** `after` equals `before` outside [from, to) of `before`. */
function onlyChangedWithin(before: string, after: string, from: number, to: number) {
  expect(after.slice(0, from)).toBe(before.slice(0, from));
  expect(after.slice(after.length - (before.length - to))).toBe(before.slice(to));
}

function valid(text: string) {
  const doc = parse(text);
  expect(doc.errors.map((e) => e.message)).toEqual([]);
}

describe.each(files)('%s', (file) => {
  const text = readFileSync(file, 'utf8');
  const steps = stepPaths(parse(text).toJSON());

  it('has comments and steps to edit', () => {
    expect(text).toContain('#');
    expect(steps.length).toBeGreaterThan(0);
  });

  it('an edit of one step changes only that step', () => {
    for (const { path, step } of steps) {
      const [from, to] = sourceRange(text, path)!;
      // A new field, then a changed one, then one removed.
      let edited = setValue(text, [...path, 'name'], 'Edited: step "one"');
      valid(edited);
      expect(readValue(edited, [...path, 'name'])).toBe('Edited: step "one"');
      onlyChangedWithin(text, edited, from, to + 40);
      edited = setValue(edited, [...path, 'timeout'], '45s');
      valid(edited);
      expect(readValue(edited, [...path, 'timeout'])).toBe('45s');
      if (step.with && typeof step.with === 'object' && !Array.isArray(step.with)) {
        const withText = setValue(text, [...path, 'with', 'note'], '${input.username}');
        valid(withText);
        expect(readValue(withText, [...path, 'with', 'note'])).toBe('${input.username}');
        expect(readValue(withText, [...path, 'with'])).toMatchObject(step.with as object);
        onlyChangedWithin(text, withText, from, to);
        const firstKey = Object.keys(step.with as object)[0];
        if (firstKey) {
          const changed = setValue(text, [...path, 'with', firstKey], 'changed value');
          valid(changed);
          expect(readValue(changed, [...path, 'with', firstKey])).toBe('changed value');
          onlyChangedWithin(text, changed, from, to);
        }
      }
      if ('retry' in step) {
        const removed = removeKey(text, [...path, 'retry']);
        valid(removed);
        expect(readValue(removed, [...path, 'retry'])).toBeUndefined();
        expect(readValue(removed, [...path, 'id'])).toBe(step.id);
        onlyChangedWithin(text, removed, from, to);
      }
    }
  });

  it('moving, inserting and removing steps keeps every comment', () => {
    const top = steps.filter((s) => s.path.length === 2);
    if (top.length >= 2) {
      const moved = moveStep(text, ['steps'], 0, 1);
      valid(moved);
      expect((readValue(moved, ['steps', 1, 'id']))).toBe(top[0].step.id);
      expect(moved.split('\n').sort()).toEqual(text.split('\n').sort());
      expect(moveStep(moved, ['steps'], 1, 0)).toBe(text);
      const last = moveStep(text, ['steps'], 0, top.length - 1);
      valid(last);
      expect(readValue(last, ['steps', top.length - 1, 'id'])).toBe(top[0].step.id);
      expect(moveStep(last, ['steps'], top.length - 1, 0)).toBe(text);
    }
    for (const at of [0, 1, top.length]) {
      if (at > top.length) continue;
      const added = insertStep(text, ['steps'], at, { id: 'added', uses: 'transform', with: { a: '${input.x}' } });
      valid(added);
      expect(readValue(added, ['steps', at])).toEqual({ id: 'added', uses: 'transform', with: { a: '${input.x}' } });
      expect(removeStep(added, ['steps'], at)).toBe(text);
    }
  });
});

describe('values', () => {
  it('are written so that YAML reads them back', () => {
    const cases: unknown[] = ['plain', '45s', '1e3', '0x1F', '2024-01-02', '12.5', '-3', '.5', '1_000', 'a: b', '${input.x}', '{{ x }}', 'true', '12', '', ' x', 'it\'s', '#x', 7, false, null, ['a', 1], { a: { b: [1, 'x y'] } }, 'line\nbreak'];
    for (const v of cases) {
      expect(parse(`k: ${formatValue(v)}\n`).toJSON()).toEqual({ k: v });
      expect(parse(`k: [${formatValue(v)}]\n`).toJSON()).toEqual({ k: [v] });
    }
  });

  it('a missing parent is created, flow maps grow in place', () => {
    const text = '# c\nsteps:\n  - id: a # keep\n    uses: x\n  - { id: b, uses: y }\n';
    const a = setValue(text, ['steps', 0, 'with', 'k'], 'v');
    expect(a).toBe('# c\nsteps:\n  - id: a # keep\n    uses: x\n    with: { k: v }\n  - { id: b, uses: y }\n');
    const b = setValue(a, ['steps', 1, 'with', 'k'], 1);
    expect(b).toBe('# c\nsteps:\n  - id: a # keep\n    uses: x\n    with: { k: v }\n  - { id: b, uses: y, with: { k: 1 } }\n');
    const c = setValue(b, ['steps', 0, 'with', 'j'], 2);
    expect(readValue(c, ['steps', 0, 'with'])).toEqual({ k: 'v', j: 2 });
    expect(removeKey(c, ['steps', 1, 'with'])).toBe(c.replace(', with: { k: 1 }', ''));
  });

  it('errors on what cannot be edited in place', () => {
    const path: Path = ['steps'];
    expect(() => removeStep('steps: [{id: a}, {id: b}]\n', path, 0)).toThrow(/one-line list/);
    expect(() => removeStep('steps:\n  - id: a\n', path, 0)).toThrow(/at least one/);
  });
});
