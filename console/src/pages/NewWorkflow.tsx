// New workflow: choose the trigger, a name and a description; the builder opens on a
// starting document (commented, valid once a step is configured).
import { useState, type FormEvent } from 'react';
import { navigate } from '../router';

const KINDS = [
  ['manual', 'Manual', 'Run by hand, from a form built from its input schema'],
  ['event', 'Event', 'Started by a Directory Insights event'],
  ['schedule', 'Schedule', 'Started on a cron schedule'],
  ['webhook', 'Webhook', 'Started by a signed POST to /hooks/NAME'],
] as const;

const TRIGGERS: Record<string, string> = {
  manual: `trigger:
  type: manual
  input_schema:
    type: object
    required: [username]
    properties:
      username: { type: string, description: The user's JumpCloud username }
`,
  event: `trigger:
  type: event
  event_type: user_create        # a Directory Insights event type
`,
  schedule: `trigger:
  type: schedule
  cron: "0 0 9 * * Mon-Fri"      # sec min hour day month weekday
  timezone: UTC
`,
  webhook: `trigger:
  type: webhook
`,
};

/** The document a new workflow starts from. */
export function starter(kind: string, name: string, description: string): string {
  const input = kind === 'manual' ? '${input.username}' : kind === 'event' ? '${input.resource.username}' : 'hello';
  return `# ${description || name}
version: 1
name: ${name}
description: ${JSON.stringify(description)}
${TRIGGERS[kind]}run_as: Read Only              # the JumpCloud role the run's calls are checked against
steps:
  - id: first_step
    uses: transform
    with: { message: "${input}" }
`;
}

export const DRAFT_KEY = 'sluice.draft';

export function NewWorkflowPage() {
  const [kind, setKind] = useState('manual');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const valid = /^[a-z0-9][a-z0-9-]*$/.test(name);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!valid) return;
    sessionStorage.setItem(DRAFT_KEY, starter(kind, name, description));
    navigate('/builder');
  };
  return (
    <div className="page narrow">
      <h1>New workflow</h1>
      <form onSubmit={submit} className="card">
        <fieldset className="choices">
          <legend>Trigger</legend>
          {KINDS.map(([k, label, help]) => (
            <label key={k} className={`choice ${kind === k ? 'chosen' : ''}`}>
              <input type="radio" name="kind" value={k} checked={kind === k} onChange={() => setKind(k)} />
              <strong>{label}</strong>
              <span className="muted small">{help}</span>
            </label>
          ))}
        </fieldset>
        <label htmlFor="wf-name">Name</label>
        <input id="wf-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="lower-case-with-dashes" />
        {name && !valid && <div className="help bad">Use lower-case letters, digits and `-`.</div>}
        <label htmlFor="wf-description">Description</label>
        <input id="wf-description" value={description} onChange={(e) => setDescription(e.target.value)} />
        <div className="actions">
          <button type="submit" className="primary" disabled={!valid}>
            Create and open the builder
          </button>
        </div>
      </form>
    </div>
  );
}
