// Grouping plugins by category, searching them, and permissions in words.
import { describe, expect, it } from 'vitest';
import { explain, grantedText, groupByCategory, installed, matchesSearch, needs, packId, UNCATEGORISED, type Listed } from './plugins';

const p = (name: string, category?: string, extra: Partial<Listed> = {}): Listed => ({ name, kind: 'action', category, ...extra });

describe('groupByCategory', () => {
  const order = ['Users', 'Groups', 'Devices', 'General', 'Connectors', 'Installed'];

  it('follows the service order, leaves out empty categories and keeps the order within one', () => {
    const groups = groupByCategory([p('jira', 'Connectors'), p('user-get', 'Users'), p('transform', 'General'), p('user-create', 'Users'), p('hostile', 'Installed')], order);
    expect(groups.map((g) => g.category)).toEqual(['Users', 'General', 'Connectors', 'Installed']);
    expect(groups[0].plugins.map((x) => x.name)).toEqual(['user-get', 'user-create']);
  });

  it('puts a category the order does not know after the known ones, by name', () => {
    const groups = groupByCategory([p('b', 'Zeta'), p('a', 'Alpha'), p('c', 'Installed'), p('d', 'Users')], order);
    expect(groups.map((g) => g.category)).toEqual(['Users', 'Installed', 'Alpha', 'Zeta']);
  });

  it('lists a plugin without a category under a heading of its own, and works without an order', () => {
    const groups = groupByCategory([p('x'), p('y', 'Users'), p('z', '')]);
    expect(groups.map((g) => [g.category, g.plugins.map((q) => q.name)])).toEqual([
      [UNCATEGORISED, ['x', 'z']],
      ['Users', ['y']],
    ]);
    expect(groupByCategory([], order)).toEqual([]);
  });
});

describe('matchesSearch', () => {
  const plugin = p('user-create', 'Users', { description: 'Creates a JumpCloud user', permissions: ['jumpcloud:users'] });

  it('matches every word in the name, description, category or permissions, ignoring case', () => {
    expect(matchesSearch(plugin, '')).toBe(true);
    expect(matchesSearch(plugin, '  ')).toBe(true);
    expect(matchesSearch(plugin, 'CREATE')).toBe(true);
    expect(matchesSearch(plugin, 'jumpcloud user')).toBe(true);
    expect(matchesSearch(plugin, 'users')).toBe(true);
    expect(matchesSearch(plugin, 'jumpcloud:users')).toBe(true);
    expect(matchesSearch(plugin, 'create group')).toBe(false);
  });
});

describe('permissions in words', () => {
  it('explains each kind of permission', () => {
    expect(explain('state')).toBe('keep a small key/value state of its own');
    expect(explain('http:*')).toContain('any External App Connector');
    expect(explain('http:jira')).toBe('call the jira connector (its credential stays in the host)');
    expect(explain('jumpcloud:users.readonly')).toBe('read JumpCloud users');
    expect(explain('jumpcloud:user_groups')).toBe('read and change JumpCloud user groups');
    expect(explain('something-else')).toBe('something-else');
  });

  it('says what a plugin needs, or that it needs nothing', () => {
    expect(needs(p('a', 'Users', { permissions: ['jumpcloud:users', 'state'] }))).toBe('jumpcloud:users, state');
    expect(needs(p('b'))).toBe('no permissions');
  });
});

describe('packs', () => {
  const pack = { name: 'acme', version: '0.1.0', description: 'Acme user tools' };
  const email = { name: 'acme-user-email', version: '0.1.0', grants: ['jumpcloud:users.readonly'] };
  const probe = { name: 'acme-user-probe', version: '0.1.0', grants: [] };

  it('names a pack as the API takes it', () => {
    expect(packId(pack)).toBe('acme@0.1.0');
  });

  it('reads an install answer as one plugin or as a pack and its plugins', () => {
    expect(installed({ name: 'hostile', version: '1.0.0', kind: 'action' })).toEqual({ pack: null, plugins: [{ name: 'hostile', version: '1.0.0', kind: 'action' }] });
    expect(installed({ pack, plugins: [email, probe] })).toEqual({ pack, plugins: [email, probe] });
    // A plugin record that names its pack is still one plugin.
    expect(installed({ ...email, pack })).toEqual({ pack: null, plugins: [{ ...email, pack }] });
  });

  it('refuses an answer that is neither', () => {
    for (const bad of [null, 'x', 42, {}, { plugins: [email] }, { pack: { name: 'acme' }, plugins: [] }, { pack, plugins: 'no' }, { name: 7 }]) {
      expect(() => installed(bad)).toThrow('neither a plugin nor a pack');
    }
  });

  it('says what was granted to which plugin', () => {
    expect(grantedText([email, probe], pack)).toBe('Installed pack acme@0.1.0: acme-user-email granted jumpcloud:users.readonly; acme-user-probe granted nothing.');
    expect(grantedText([{ name: 'hostile', version: '1.0.0', grants: ['state', 'http:allowed'] }])).toBe('Installed hostile@1.0.0, granted: state, http:allowed.');
    expect(grantedText([{ name: 'hostile', version: '1.0.0' }])).toBe('Installed hostile@1.0.0, granted: nothing.');
  });
});
