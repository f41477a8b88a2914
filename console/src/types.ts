// The shapes of the /api/v1 answers the console reads (see /api/v1/openapi.json).

export type Seg = string | number;

export interface Problem {
  file: string;
  location: string;
  message: string;
  path: Seg[] | null;
  node: string | null;
  line: number | null;
  column: number | null;
}

export interface ValidationReport {
  valid: boolean;
  problems: Problem[];
  name: string | null;
  run_as: string | null;
  narrowest_role: string | null;
  broader_than_needed: boolean;
  scopes: string[];
}

export type NodeKind = 'trigger' | 'action' | 'condition' | 'join' | 'for_each' | 'parallel' | 'workflow' | 'connector';

export interface GraphNode {
  id: string;
  kind: NodeKind;
  label: string;
  detail: string;
  step_id?: string;
  path: Seg[];
  group?: string;
  badges?: string[];
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  label?: string;
}

export interface GraphGroup {
  id: string;
  kind: 'for_each' | 'parallel' | 'on_error';
  label: string;
  parent?: string;
  step: string;
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  groups: GraphGroup[];
}

export interface RunRow {
  id: string;
  workflow: string;
  status: string;
  trigger: string | null;
  started_at: string;
  finished_at: string | null;
}

export interface WorkflowRow {
  name: string;
  version: number;
  enabled: boolean;
  trigger: string;
  trigger_type?: string;
  next_fire?: string | null;
  run_as?: string;
  description?: string;
  created_at: string;
  updated_at: string;
  updated_by: string;
  last_run?: RunRow | null;
}

export interface WorkflowDetail extends WorkflowRow {
  document: Record<string, unknown>;
}

export interface Version {
  version: number;
  created_at: string;
  created_by: string;
}

export interface Template {
  name: string;
  category: string;
  description: string;
  trigger: string;
  plugins?: string[];
  source?: string;
  example_input?: unknown;
}

export interface PluginRow {
  name: string;
  version: string;
  kind: string;
  description?: string;
  digest?: string;
  bundled?: boolean;
  grants?: string[];
  permissions?: string[];
  /** The heading lists group it under (`categories` of the list gives their order). */
  category?: string;
  [k: string]: unknown;
}

/** `GET /api/v1/plugins`. */
export interface PluginList {
  plugins: PluginRow[];
  categories?: string[];
}

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  title?: string;
  format?: string;
  writeOnly?: boolean;
  additionalProperties?: boolean | JsonSchema;
  minimum?: number;
  maximum?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  const?: unknown;
  [k: string]: unknown;
};
