// The shapes of the /api/v1 answers the console reads, by the names its pages use: each is
// a schema of the API's OpenAPI document (/api/v1/openapi.json), from the types generated
// into api-schema.ts (`npm run api-schema`), never written by hand.
import type { components } from './api-schema';

type Schemas = components['schemas'];

/** A segment of a path into the document: a mapping key or a list index. */
export type Seg = Schemas['DocPath'][number];

export type Problem = Schemas['Problem'];
export type ValidationReport = Schemas['ValidationReport'];

export type Graph = Schemas['Graph'];
export type GraphNode = Schemas['GraphNode'];
export type GraphEdge = Schemas['GraphEdge'];
export type GraphGroup = Schemas['GraphGroup'];
export type NodeKind = GraphNode['kind'];

export type Role = Schemas['Role'];
export type WorkflowDocument = Schemas['WorkflowDocument'];
export type WorkflowRecord = Schemas['WorkflowRecord'];
export type WorkflowRow = Schemas['WorkflowRow'];
export type WorkflowList = Schemas['WorkflowList'];
export type WorkflowDetail = Schemas['WorkflowDetail'];
export type Version = Schemas['Version'];
export type VersionList = Schemas['VersionList'];
export type VersionDetail = Schemas['VersionDetail'];
export type PinState = Schemas['PinState'];

export type RunStatus = Schemas['RunStatus'];
export type RunRow = Schemas['RunRow'];
export type RunList = Schemas['RunList'];
export type RunRecord = Schemas['Run'];
export type RunDetail = Schemas['RunDetail'];
export type RunStarted = Schemas['RunStarted'];
export type RunRetried = Schemas['RunRetried'];
export type FailureReport = Schemas['FailureReport'];
export type StepRecord = Schemas['StepRecord'];
export type Attempt = Schemas['Attempt'];
export type StepResult = Schemas['StepResult'];
export type StepError = Schemas['StepError'];
export type HostCall = Schemas['HostCall'];
export type LogLine = Schemas['LogLine'];

export type Template = Schemas['TemplateRow'];
export type TemplateList = Schemas['TemplateList'];
export type TemplateDetail = Schemas['TemplateDetail'];

export type PluginRow = Schemas['Plugin'];
export type PluginList = Schemas['PluginList'];
export type PluginDetail = Schemas['PluginDetail'];
export type Pack = Schemas['Pack'];
export type PackInstalled = Schemas['PackInstalled'];

export type ConnectorRow = Schemas['Connector'];
export type ConnectorList = Schemas['ConnectorList'];
export type ConnectorInput = Schemas['ConnectorInput'];
export type TokenRow = Schemas['Token'];
export type TokenList = Schemas['TokenList'];
export type NodeList = Schemas['NodeList'];
export type TokenCreated = Schemas['TokenCreated'];
export type AuditEntry = Schemas['AuditEntry'];
export type AuditLog = Schemas['AuditLog'];

/**
 * A JSON Schema as plugins and workflows give them (a plugin's input, a trigger's
 * `input_schema`): the keywords the console's forms read. The API passes these through as
 * any JSON, so they have no schema of their own in the document.
 */
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
