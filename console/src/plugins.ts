// Plugins as the console lists them (the builder's picker, the Plugins page): grouped by
// the category the service gives each one, in the service's order of categories, with
// what each permission lets a plugin do in words. Pure functions, unit-tested.

/** What grouping and searching read of a plugin. */
export interface Listed {
  name: string;
  kind: string;
  description?: string;
  category?: string;
  permissions?: string[];
}

export interface CategoryGroup<T> {
  category: string;
  plugins: T[];
}

/** The heading of a plugin the service gave no category (a service older than categories). */
export const UNCATEGORISED = 'Other';

/**
 * Groups plugins by category: categories in `order` (the service's `categories`) first, in
 * that order, then any other by name; empty categories are left out; plugins keep their
 * order within a category.
 */
export function groupByCategory<T extends Listed>(plugins: readonly T[], order: readonly string[] = []): CategoryGroup<T>[] {
  const groups = new Map<string, T[]>();
  for (const p of plugins) {
    const c = p.category || UNCATEGORISED;
    const list = groups.get(c);
    if (list) list.push(p);
    else groups.set(c, [p]);
  }
  const rank = (c: string) => {
    const i = order.indexOf(c);
    return i < 0 ? order.length : i;
  };
  return [...groups.entries()]
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([category, list]) => ({ category, plugins: list }));
}

/** Whether a plugin matches a search: every word in its name, description, category or permissions. */
export function matchesSearch(p: Listed, search: string): boolean {
  const words = search.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const text = [p.name, p.description ?? '', p.category ?? '', ...(p.permissions ?? [])].join(' ').toLowerCase();
  return words.every((w) => text.includes(w));
}

/** A permission in words. */
export function explain(p: string): string {
  if (p === 'state') return 'keep a small key/value state of its own';
  if (p === 'http:*') return 'call any External App Connector a step names (narrowed to that one per step)';
  if (p.startsWith('http:')) return `call the ${p.slice(5)} connector (its credential stays in the host)`;
  if (p.startsWith('jumpcloud:')) {
    const scope = p.slice(10);
    const read = scope.endsWith('.readonly');
    const what = scope.replace(/\.readonly$/, '').replace(/[._]/g, ' ');
    return `${read ? 'read' : 'read and change'} JumpCloud ${what}`;
  }
  return p;
}

/** What a plugin needs, in short: its permissions, or that it needs none. */
export function needs(p: Listed): string {
  const perms = p.permissions ?? [];
  return perms.length ? perms.join(', ') : 'no permissions';
}

/** A pack as the service names it: several plugins in one component. */
export interface PackRef {
  name: string;
  version: string;
  description: string;
}

/** A pack's id, `name@version`, as the API takes it to inspect or remove the pack. */
export function packId(pack: PackRef): string {
  return `${pack.name}@${pack.version}`;
}

/**
 * What an install answered, as the review shows it: the plugins installed (one, or each of
 * a pack's) and the pack when it was one. Anything else is refused rather than guessed at.
 */
export function installed<T extends { name: string }>(answer: unknown): { pack: PackRef | null; plugins: T[] } {
  if (answer && typeof answer === 'object') {
    const a = answer as { pack?: unknown; plugins?: unknown; name?: unknown };
    if (Array.isArray(a.plugins) && a.pack && typeof a.pack === 'object') {
      const pack = a.pack as PackRef;
      if (typeof pack.name === 'string' && typeof pack.version === 'string') return { pack, plugins: a.plugins as T[] };
    }
    if (typeof a.name === 'string' && !('plugins' in a)) return { pack: null, plugins: [answer as T] };
  }
  throw new Error('the service answered the install with neither a plugin nor a pack');
}

/** What was granted to which plugin, in one sentence. */
export function grantedText(results: readonly { name: string; version: string; grants?: string[] }[], pack: PackRef | null = null): string {
  const what = (p: { grants?: string[] }) => (p.grants ?? []).join(', ') || 'nothing';
  if (pack) return `Installed pack ${packId(pack)}: ${results.map((p) => `${p.name} granted ${what(p)}`).join('; ')}.`;
  return results.map((p) => `Installed ${p.name}@${p.version}, granted: ${what(p)}.`).join(' ');
}
