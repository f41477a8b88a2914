// user-summary: a Sluice action plugin written in JavaScript, built into a WebAssembly
// component with `jco componentize` against the world `action-plugin` of wit/plugin.wit.
//
// It reads the organisation's users through the host's `jumpcloud` import (one page of
// 100 at a time, as JumpCloud serves them) and summarises them: how many there are, how
// many in each state, how many per value of a field (department unless told otherwise),
// and who is locked out or has no MFA configured. It only reads, so it declares
// `jumpcloud:users.readonly` and nothing else; the host refuses any other call.
//
// The contract, as jco maps it to JavaScript:
// - the export `action` is an object with `describe()` and `run(step, input)`;
// - WIT records are objects with camelCase fields (`inputSchema`, `stepId`), enums are
//   strings (`'action'`), `option<T>` is the value or `undefined`, tuples are arrays;
// - `run` returns the output (JSON text) for `ok`, and throws a `plugin-error` record for
//   `err`; an import whose result is `err` throws an error whose `payload` is the record.

import { call } from 'sluice:plugin/jumpcloud@0.2.0';
import { write } from 'sluice:plugin/log@0.2.0';

const NAME = 'user-summary';
const VERSION = '0.1.0';
const PERMISSIONS = ['jumpcloud:users.readonly'];
/** JumpCloud's largest page. */
const PAGE = 100;
/** The fields a summary may count by: plain text fields of a JumpCloud user. */
const GROUP_FIELDS = [
  'department',
  'location',
  'jobTitle',
  'company',
  'costCenter',
  'employeeType',
  'state',
];

const DRAFT = 'https://json-schema.org/draft/2020-12/schema';

/** The input's JSON Schema, as the Rust SDK derives it (draft 2020-12, titled). */
const INPUT_SCHEMA = {
  $schema: DRAFT,
  title: 'SummaryIn',
  type: 'object',
  additionalProperties: false,
  properties: {
    group_by: {
      description: 'The user field to count by.',
      type: 'string',
      enum: GROUP_FIELDS,
      default: 'department',
    },
    max: {
      description: 'Read at most this many users (default 1000).',
      type: 'integer',
      minimum: 1,
      maximum: 100000,
      default: 1000,
    },
  },
};

const COUNTS = { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } };
const NAMES = { type: 'array', items: { type: 'string' } };

/** The output's JSON Schema. */
const OUTPUT_SCHEMA = {
  $schema: DRAFT,
  title: 'SummaryOut',
  type: 'object',
  required: ['total', 'read', 'group_by', 'groups', 'states', 'locked', 'without_mfa'],
  properties: {
    total: { description: 'Users in the organisation.', type: 'integer', minimum: 0 },
    read: { description: 'Users read (at most `max`).', type: 'integer', minimum: 0 },
    group_by: { type: 'string' },
    groups: { ...COUNTS, description: 'Users per value of `group_by` ("" when unset).' },
    states: { ...COUNTS, description: 'Users per state (ACTIVATED, STAGED, SUSPENDED).' },
    locked: { ...NAMES, description: 'Usernames locked out by failed logins.' },
    without_mfa: { ...NAMES, description: 'Usernames of active users with no MFA configured.' },
  },
};

/** A `plugin-error` record; thrown from `run`, it becomes the step's error. */
function pluginError(code, message, retryable = false) {
  return { code, message, retryable, details: undefined };
}

/** The error for a non-2xx answer, with the codes the JumpCloud catalogue uses. */
function errorFor(status, body) {
  let message = body.slice(0, 200);
  try {
    const parsed = JSON.parse(body);
    if (parsed && typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // not JSON: the first 200 characters say what happened
  }
  const text = `listing users: JumpCloud answered ${status} (${message})`;
  if (status === 401) return pluginError('AUTHENTICATION_FAILED', text);
  if (status === 403) return pluginError('PERMISSION_DENIED', text);
  if (status === 429) return pluginError('API_RATE_LIMIT', text, true);
  if (status >= 500) return pluginError('JUMPCLOUD_UNAVAILABLE', text, true);
  return pluginError('JUMPCLOUD_REQUEST_FAILED', text);
}

/** The input, checked: unknown fields and wrong types are refused with INVALID_INPUT. */
function parseInput(text) {
  let input;
  try {
    input = JSON.parse(text);
  } catch (e) {
    throw pluginError('INVALID_INPUT', `input: not JSON (${e.message})`);
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw pluginError('INVALID_INPUT', 'input: expected an object');
  }
  for (const key of Object.keys(input)) {
    if (!(key in INPUT_SCHEMA.properties)) {
      throw pluginError('INVALID_INPUT', `input: unknown field \`${key}\``);
    }
  }
  const groupBy = input.group_by ?? 'department';
  if (!GROUP_FIELDS.includes(groupBy)) {
    throw pluginError('INVALID_INPUT', `group_by: one of ${GROUP_FIELDS.join(', ')}`);
  }
  const max = input.max ?? 1000;
  if (!Number.isInteger(max) || max < 1 || max > 100000) {
    throw pluginError('INVALID_INPUT', 'max: an integer from 1 to 100000');
  }
  return { groupBy, max };
}

/** Calls the host's `jumpcloud` import; a transport failure comes back as its record. */
function jumpcloud(request) {
  try {
    return call(request);
  } catch (e) {
    throw e && e.payload ? e.payload : pluginError('JUMPCLOUD_UNAVAILABLE', String(e), true);
  }
}

/** Every user, page by page, up to `max`; and the organisation's count. */
function listUsers(max) {
  const users = [];
  let total = 0;
  for (;;) {
    const limit = Math.min(PAGE, max - users.length);
    const response = jumpcloud({
      method: 'GET',
      path: '/api/systemusers',
      query: [
        ['limit', String(limit)],
        ['skip', String(users.length)],
        ['sort', '_id'],
      ],
      body: undefined,
    });
    if (response.status < 200 || response.status > 299) {
      throw errorFor(response.status, response.body);
    }
    let page;
    try {
      page = JSON.parse(response.body);
    } catch (e) {
      throw pluginError('JUMPCLOUD_BAD_RESPONSE', `JumpCloud answered with a body that is not JSON: ${e.message}`);
    }
    total = Number(page.totalCount ?? 0);
    const results = Array.isArray(page.results) ? page.results : [];
    users.push(...results);
    if (results.length < limit || users.length >= total || users.length >= max) break;
  }
  return { users: users.slice(0, max), total };
}

function count(map, key) {
  map[key] = (map[key] ?? 0) + 1;
}

/** The summary of a list of JumpCloud users (pure; the tests call it on fixtures). */
export function summarise(users, total, groupBy) {
  const groups = {};
  const states = {};
  const locked = [];
  const withoutMfa = [];
  for (const u of users) {
    const value = u[groupBy];
    count(groups, typeof value === 'string' ? value : value == null ? '' : String(value));
    count(states, typeof u.state === 'string' ? u.state : 'UNKNOWN');
    if (u.account_locked === true) locked.push(u.username);
    const active = u.state === 'ACTIVATED' && u.suspended !== true;
    const mfa = u.mfa && u.mfa.configured === true;
    if (active && !mfa && u.totp_enabled !== true) withoutMfa.push(u.username);
  }
  locked.sort();
  withoutMfa.sort();
  return {
    total,
    read: users.length,
    group_by: groupBy,
    groups,
    states,
    locked,
    without_mfa: withoutMfa,
  };
}

export const action = {
  describe() {
    return {
      name: NAME,
      version: VERSION,
      kind: 'action',
      description:
        'Summarises the organisation\'s users: counts per state and per department (or another field), ' +
        'and who is locked out or has no MFA. Read-only; written in JavaScript.',
      inputSchema: JSON.stringify(INPUT_SCHEMA),
      outputSchema: JSON.stringify(OUTPUT_SCHEMA),
      permissions: PERMISSIONS,
    };
  },

  run(step, inputText) {
    const { groupBy, max } = parseInput(inputText);
    const { users, total } = listUsers(max);
    write('info', `${step.stepId}: read ${users.length} of ${total} users, counted by ${groupBy}`);
    return JSON.stringify(summarise(users, total, groupBy));
  },
};
