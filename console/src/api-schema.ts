// The types of the Sluice API, generated from runtime/src/api/openapi.json by
// console/scripts/api-schema.mjs (openapi-typescript). Do not edit: change the document and
// run `npm run api-schema`; the unit tests fail while this file is stale.

export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness, the node, and queue state */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Serving */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Health"];
                    };
                };
                /** @description Shutting down, or the database the store is in cannot be reached */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Health"];
                    };
                };
                default: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics (`sluice_` prefix) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Text exposition format 0.0.4 */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/plain": string;
                    };
                };
                default: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/hooks/{workflow}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Start a webhook-triggered workflow
         * @description Standard Webhooks: `webhook-id` (the message id), `webhook-timestamp` (Unix seconds) and `webhook-signature` (space-separated `v1,<base64 HMAC-SHA256 of id.timestamp.body>` entries under the key that the workflow's `whsec_` signing secret encodes in base64; one right entry is enough). A timestamp more than the tolerance (`--webhook-tolerance`, 5 min) from the service's clock is refused, and each message id starts at most one run: sent again, it gets 409. A name with no enabled webhook workflow gets the same 401 as a bad signature. The body is the run's input (JSON). Answers 202 with the run id, or, when the trigger sets `respond_with_output`, the run's output (200) or its failure report (500).
         */
        post: {
            parameters: {
                query?: never;
                header: {
                    /** @description The message id (1-256 visible ASCII characters); a sender's retry repeats it */
                    "webhook-id": string;
                    /** @description When the message was sent, in Unix seconds */
                    "webhook-timestamp": string;
                    /** @description v1,<base64>, space-separated when there are several */
                    "webhook-signature": string;
                };
                path: {
                    /** @description The workflow's name */
                    workflow: string;
                };
                cookie?: never;
            };
            /** @description The run's input (JSON); an empty body is `{}` */
            requestBody?: {
                content: {
                    "application/json": unknown;
                };
            };
            responses: {
                /** @description The run's output (respond_with_output) */
                200: {
                    headers: {
                        /** @description The run */
                        "x-sluice-run-id"?: string;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": unknown;
                    };
                };
                /** @description Accepted: the run id (and, with respond_with_output, a run that did not finish in time) */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WebhookAccepted"];
                    };
                };
                /** @description The signed body is not JSON (BAD_JSON); or a path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Bad or missing signature, or no enabled webhook workflow by that name (BAD_SIGNATURE); or a timestamp outside the tolerance (WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE); no run */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description The body did not arrive within --body-read-timeout (REQUEST_BODY_TIMEOUT) */
                408: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description This webhook-id was already accepted (WEBHOOK_REPLAYED); no run */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description The run queue is full (QUEUE_FULL) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description The run failed (respond_with_output): its status, output and failure report */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WebhookFailed"] | components["schemas"]["Error"];
                    };
                };
                /** @description Shutting down (SHUTTING_DOWN) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                default: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This document */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description This document (OpenAPI 3.1) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            [key: string]: unknown;
                        };
                    };
                };
                default: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/workflows": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List workflows
         * @description `{"workflows": [...]}`: each workflow's record (name, version, enabled, trigger, created_at, updated_at, updated_by) with what an overview shows: `description`, `run_as`, `trigger_type` (manual, schedule, event, webhook), `next_fire` (a schedule's next fire time, RFC 3339, else null) and `last_run` (its newest run among the service's newest 1,000 runs, as in `GET /api/v1/runs`, else null).
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WorkflowList"];
                    };
                };
                401: components["responses"]["Unauthorized"];
                default: components["responses"]["Error"];
            };
        };
        put?: never;
        /**
         * Create a workflow
         * @description Validated in full first. A webhook workflow's signing secret is generated and returned once as `webhook_secret` (`whsec_` and base64, the Standard Webhooks form).
         */
        post: operations["createWorkflow"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/workflows/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A workflow: current version, enabled flag and document */
        get: operations["getWorkflow"];
        /**
         * Save a new version
         * @description Validated in full first; the enabled flag is kept.
         */
        put: operations["updateWorkflow"];
        post?: never;
        /** Delete a workflow and its versions (its runs stay) */
        delete: operations["deleteWorkflow"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/workflows/{name}/versions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A workflow's versions */
        get: operations["listWorkflowVersions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/workflows/{name}/versions/{version}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One version: document and source text */
        get: operations["getWorkflowVersion"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/workflows/{name}/enable": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Enable: triggers fire and runs may start */
        post: operations["enableWorkflow"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/workflows/{name}/disable": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Disable: triggers stop firing; manual runs are refused */
        post: operations["disableWorkflow"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/workflows/{name}/webhook-secret": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Rotate a webhook workflow's signing secret (returned once) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The workflow's name */
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The new signing secret, shown once */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WebhookSecret"];
                    };
                };
                /** @description No SLUICE_SECRET_KEY (SECRET_KEY_MISSING); or a path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                401: components["responses"]["Unauthorized"];
                /** @description No such workflow (WORKFLOW_NOT_FOUND) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Not a webhook workflow (NOT_A_WEBHOOK) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                default: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/workflows/{name}/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Start a run with input JSON
         * @description The input is checked against the trigger's input schema (defaults filled in).
         */
        post: operations["startRun"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List runs, newest first */
        get: {
            parameters: {
                query?: {
                    /** @description Only this workflow's runs */
                    workflow?: string;
                    /** @description Only runs in this status */
                    status?: components["schemas"]["RunStatus"];
                    /** @description Page size (default 50) */
                    limit?: number;
                    /** @description The `next` of the previous page */
                    after?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["RunList"];
                    };
                };
                /** @description An unknown status (BAD_REQUEST); or an unknown or malformed query parameter (BAD_QUERY) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                401: components["responses"]["Unauthorized"];
                default: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/runs/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A run and its per-step journal (inputs, outputs, errors, logs, host calls, timings) */
        get: operations["getRun"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/runs/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Cancel a run (an executing run stops before its next step) */
        post: operations["cancelRun"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/runs/{id}/retry": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Retry a finished run, pinned to its workflow version
         * @description `{"from": "failed_step"}` (default) replays the steps that succeeded and runs the rest; `{"from": "start"}` runs everything again.
         */
        post: operations["retryRun"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/runs/{id}/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Resume an unfinished run that nothing in the service is running, from its last journaled step
         * @description For a run left unfinished by an earlier process and held at start (`sluice serve --no-resume`), or one whose execution stopped on an error: steps already journaled are not run again. `resumable` in `GET /api/v1/runs/{id}` says whether a run can be. Audited as `run.resume`.
         */
        post: operations["resumeRun"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/plugins": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Bundled and installed plugins */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Every plugin, bundled first, and the categories in the order lists show them */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["PluginList"];
                    };
                };
                401: components["responses"]["Unauthorized"];
                default: components["responses"]["Error"];
            };
        };
        put?: never;
        /**
         * Install a plugin component
         * @description The body is the component (`.wasm`). Grants must be among the permissions it declares. A component carrying a signature that does not verify is always refused; with `require_signature`, or while the standing policy (`PUT /api/v1/trust`) is on, so is one not signed by a trusted key. A pack is installed as a unit, one record per plugin.
         */
        post: {
            parameters: {
                query?: {
                    /** @description Comma-separated permissions to grant, each declared by the plugin; for a pack, `PERM` goes to each of its plugins that declares it and `PLUGIN=PERM` to that plugin alone */
                    grant?: string;
                    /** @description Replace an installed version */
                    replace?: boolean;
                    /** @description Keys the plugin's state may hold (default 10000) */
                    state_max_keys?: number;
                    /** @description Bytes (keys plus values) the plugin's state may hold (default 16 MiB) */
                    state_max_bytes?: number;
                    /** @description NAME or NAME@VERSION of an installed plugin whose state this one takes over; by default a different component starts with empty state */
                    adopt_state?: string;
                    /** @description Refuse the component unless a trusted key signed it (wasmsign2's embedded signature; `sluice plugin sign`) */
                    require_signature?: boolean;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            /** @description The component (`.wasm`), at most 64 MiB */
            requestBody: {
                content: {
                    "application/wasm": string;
                };
            };
            responses: {
                /** @description Installed: its record, or for a pack the pack and its plugins' records */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Plugin"] | components["schemas"]["PackInstalled"];
                    };
                };
                /** @description Not a Sluice plugin component, a signature that does not verify (SIGNATURE_INVALID), an invalid manifest, a grant it does not declare, or a bad query parameter; or an unknown or malformed query parameter (BAD_QUERY) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                401: components["responses"]["Unauthorized"];
                /** @description Not signed by a trusted key while signatures are required: unsigned (SIGNATURE_REQUIRED), or signed by a key not trusted (SIGNATURE_UNTRUSTED); nothing was installed */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `adopt_state` names no installed plugin (PLUGIN_NOT_FOUND) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description That version is installed (PLUGIN_ALREADY_INSTALLED), or a bundled plugin has the name (PLUGIN_BUNDLED); or a pack named like a plugin, or a plugin named like a pack (PLUGIN_NAME_TAKEN) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Larger than 64 MiB (BODY_TOO_LARGE) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                default: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/plugins/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Inspect a plugin (record and manifest) or a pack (its plugins' records) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /**
                     * @description `name` (its highest version) or `name@version`, of a plugin or of a pack
                     * @example transform
                     */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A plugin's record and manifest, or a pack and its plugins' records */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["PluginDetail"] | components["schemas"]["PackInstalled"];
                    };
                };
                /** @description A path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                401: components["responses"]["Unauthorized"];
                /** @description No such plugin (PLUGIN_NOT_FOUND) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                default: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        /** Remove an installed plugin, or an installed pack as a unit */
        delete: {
            parameters: {
                query?: {
                    /** @description Remove it even while enabled saved workflows pin it (their runs then fail) */
                    force?: boolean;
                };
                header?: never;
                path: {
                    /** @description `name@version` of a plugin or of a pack */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Removed */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description A path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH); or an unknown or malformed query parameter (BAD_QUERY) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                401: components["responses"]["Unauthorized"];
                /** @description No such plugin installed (PLUGIN_NOT_FOUND) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Bundled with Sluice (PLUGIN_BUNDLED); or pinned by enabled saved workflows, which the message lists (PLUGIN_PINNED); or a plugin of a pack, which is removed with its pack (PLUGIN_IN_PACK) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                default: components["responses"]["Error"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/plugins/{id}/grants": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Set what an installed plugin is granted, without uploading it again
         * @description Each grant must be a permission the plugin declares; `[]` revokes all. With `digest`, refused (409 `PLUGIN_CHANGED`) when the installed component is no longer the one whose permissions were reviewed. Audited as `plugin.grant`.
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description `name@version` */
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["GrantsInput"];
                };
            };
            responses: {
                /** @description Its record */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Plugin"];
                    };
                };
                /** @description A grant it does not declare (PLUGIN_GRANT_NOT_DECLARED), or a bad body; or a path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                401: components["responses"]["Unauthorized"];
                /** @description Not installed (PLUGIN_NOT_FOUND) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description Bundled (PLUGIN_BUNDLED), or another component than the one reviewed (PLUGIN_CHANGED) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                default: components["responses"]["Error"];
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/trust": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The keys trusted to sign plugins, and whether installs require such a signature
         * @description Keys are added and removed with `sluice trust add` / `remove`.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Trust"];
                    };
                };
                401: components["responses"]["Unauthorized"];
                default: components["responses"]["Error"];
            };
        };
        /**
         * Turn the require-signatures install policy on or off
         * @description While on, every install (API and CLI) must be signed by a trusted key; bundled plugins are part of the binary and always trusted. Audited as `trust.policy`.
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["TrustPolicyInput"];
                };
            };
            responses: {
                /** @description The policy as set, with the trusted keys */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Trust"];
                    };
                };
                /** @description A bad body (BAD_JSON, BAD_REQUEST) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                401: components["responses"]["Unauthorized"];
                default: components["responses"]["Error"];
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/connectors": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** External App Connectors (credentials shown as ****) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ConnectorList"];
                    };
                };
                401: components["responses"]["Unauthorized"];
                default: components["responses"]["Error"];
            };
        };
        put?: never;
        /**
         * Define a connector
         * @description Fields as `sluice connector show --json` prints them, plus `secret` (sealed at once, never returned) and `replace`. Also refused: a default header that is the credential header of `auth`.
         */
        post: operations["createConnector"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/connectors/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A connector */
        get: operations["getConnector"];
        put?: never;
        post?: never;
        /** Remove a connector and its credential */
        delete: operations["deleteConnector"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/roles": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Custom roles */
        get: operations["listRoles"];
        put?: never;
        /**
         * Define a custom role
         * @description Audited as `role.save`. A replaced role applies to runs that start afterwards.
         */
        post: operations["createRole"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/roles/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A custom role */
        get: operations["getRole"];
        put?: never;
        post?: never;
        /**
         * Delete a custom role
         * @description Refused while the current version of a saved workflow runs as the role (nothing is changed). Audited as `role.remove`.
         */
        delete: operations["deleteRole"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/secrets": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Secret names (values are write-only) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Secret names (`connector.NAME` and `webhook.NAME` are kept for connectors and webhook workflows) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SecretList"];
                    };
                };
                401: components["responses"]["Unauthorized"];
                default: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/secrets/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Write a secret (sealed under SLUICE_SECRET_KEY) */
        put: operations["putSecret"];
        post?: never;
        /** Delete a secret */
        delete: operations["deleteSecret"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/templates": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The template catalogue */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The catalogue, by category */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["TemplateList"];
                    };
                };
                401: components["responses"]["Unauthorized"];
                default: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/templates/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A template: source and example input */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /**
                     * @description The template's name
                     * @example offboarding
                     */
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["TemplateDetail"];
                    };
                };
                /** @description A path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                401: components["responses"]["Unauthorized"];
                /** @description No such template (TEMPLATE_NOT_FOUND) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                default: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/tokens": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Admin API tokens (names, never the tokens) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["TokenList"];
                    };
                };
                401: components["responses"]["Unauthorized"];
                default: components["responses"]["Error"];
            };
        };
        put?: never;
        /** Create a token (returned once) */
        post: operations["createToken"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/tokens/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revoke a token */
        delete: operations["revokeToken"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The audit log, newest first: who, what, when */
        get: {
            parameters: {
                query?: {
                    /** @description How many entries (default 100) */
                    limit?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AuditLog"];
                    };
                };
                /** @description An unknown or malformed query parameter (BAD_QUERY) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                401: components["responses"]["Unauthorized"];
                default: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/validate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Validate a workflow document without saving it
         * @description Runs every check a save runs (sub-workflows are the stored ones) and answers 200 whether the document is valid or not; nothing is saved or audited. Each problem carries its step path, the graph node of its step, and its line and column where the text shows them (a document that cannot be parsed gives one problem at the parse error).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            /** @description Any text: a workflow document, YAML or JSON, valid or not (an empty body is an empty document, reported as a problem). */
            requestBody?: {
                content: {
                    "application/yaml": unknown;
                    /**
                     * @example {
                     *       "version": 1,
                     *       "name": "hello",
                     *       "description": "Builds an account record from a new hire's name.",
                     *       "trigger": {
                     *         "type": "manual",
                     *         "input_schema": {
                     *           "type": "object",
                     *           "required": [
                     *             "first_name",
                     *             "last_name"
                     *           ],
                     *           "properties": {
                     *             "first_name": {
                     *               "type": "string",
                     *               "minLength": 1
                     *             },
                     *             "last_name": {
                     *               "type": "string",
                     *               "minLength": 1
                     *             },
                     *             "domain": {
                     *               "type": "string",
                     *               "default": "example.com"
                     *             }
                     *           }
                     *         }
                     *       },
                     *       "run_as": "Read Only",
                     *       "vars": {
                     *         "company": "Acme"
                     *       },
                     *       "steps": [
                     *         {
                     *           "id": "account",
                     *           "uses": "transform",
                     *           "with": {
                     *             "username": "{{ (input.first_name[0] ~ input.last_name) | lower }}",
                     *             "email": "{{ input.first_name | lower }}.{{ input.last_name | lower }}@${input.domain}",
                     *             "display_name": "${input.first_name} ${input.last_name} ({{ vars.company }})"
                     *           }
                     *         }
                     *       ],
                     *       "output": {
                     *         "username": "${steps.account.output.username}",
                     *         "email": "${steps.account.output.email}",
                     *         "display_name": "${steps.account.output.display_name}"
                     *       }
                     *     }
                     */
                    "application/json": unknown;
                };
            };
            responses: {
                /** @description The validation report */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ValidationReport"];
                    };
                };
                /** @description The body is not UTF-8 text (BAD_BODY) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                401: components["responses"]["Unauthorized"];
                default: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/graph": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The graph of a workflow document
         * @description Nodes, edges and groups derived from the document's steps, for drawing: the trigger first, an `if` as a condition whose `then` and `else` branches meet at a join, `for_each` and `parallel` as groups, sub-workflow and connector steps as their own kinds, `on_error` handlers as groups hanging off their step. Nothing is positioned: the console lays it out. Nothing is saved.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            /** @description The workflow document, YAML or JSON (`version: 1`; unknown fields are errors). */
            requestBody: {
                content: {
                    "application/yaml": unknown;
                    /**
                     * @example {
                     *       "version": 1,
                     *       "name": "hello",
                     *       "description": "Builds an account record from a new hire's name.",
                     *       "trigger": {
                     *         "type": "manual",
                     *         "input_schema": {
                     *           "type": "object",
                     *           "required": [
                     *             "first_name",
                     *             "last_name"
                     *           ],
                     *           "properties": {
                     *             "first_name": {
                     *               "type": "string",
                     *               "minLength": 1
                     *             },
                     *             "last_name": {
                     *               "type": "string",
                     *               "minLength": 1
                     *             },
                     *             "domain": {
                     *               "type": "string",
                     *               "default": "example.com"
                     *             }
                     *           }
                     *         }
                     *       },
                     *       "run_as": "Read Only",
                     *       "vars": {
                     *         "company": "Acme"
                     *       },
                     *       "steps": [
                     *         {
                     *           "id": "account",
                     *           "uses": "transform",
                     *           "with": {
                     *             "username": "{{ (input.first_name[0] ~ input.last_name) | lower }}",
                     *             "email": "{{ input.first_name | lower }}.{{ input.last_name | lower }}@${input.domain}",
                     *             "display_name": "${input.first_name} ${input.last_name} ({{ vars.company }})"
                     *           }
                     *         }
                     *       ],
                     *       "output": {
                     *         "username": "${steps.account.output.username}",
                     *         "email": "${steps.account.output.email}",
                     *         "display_name": "${steps.account.output.display_name}"
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["WorkflowDocument"];
                };
            };
            responses: {
                /** @description The graph */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Graph"];
                    };
                };
                /** @description The document cannot be parsed (WORKFLOW_PARSE_ERROR, with `error.details.problems` as in a validation report) or is not UTF-8 (BAD_BODY) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                401: components["responses"]["Unauthorized"];
                default: components["responses"]["Error"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/nodes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The nodes sharing the store: alive or not, the leader, the runs each holds */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["NodeList"];
                    };
                };
                401: components["responses"]["Unauthorized"];
                default: components["responses"]["Error"];
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        Attempt: {
            attempt: number;
            input: unknown;
            result: components["schemas"]["StepResult"];
            logs: components["schemas"]["LogLine"][];
            calls: components["schemas"]["HostCall"][];
            /** Format: date-time */
            started_at: string;
            duration_us: number;
        };
        AuditEntry: {
            /** Format: date-time */
            at: string;
            /** @description The token's name */
            who: string;
            /** @description `workflow.create`, `run.start`, `plugin.install`, … */
            action: string;
            target: string;
            detail: {
                [key: string]: unknown;
            };
        };
        AuditLog: {
            entries: components["schemas"]["AuditEntry"][];
        };
        Condition: {
            uses: string;
            with?: unknown;
        };
        /** @description A connector definition as stored, with whether its credential is. */
        Connector: {
            /** @enum {integer} */
            version: 1;
            name: string;
            base_url: string;
            auth: components["schemas"]["ConnectorAuth"];
            headers: {
                [key: string]: string;
            };
            allow_hosts: string[];
            allow_http: boolean;
            timeout_ms: number;
            max_response_bytes: number;
            /** Format: date-time */
            created_at: string;
            /**
             * @description Whether its credential is stored; never the credential
             * @enum {string}
             */
            credential: "none" | "****" | "missing";
        };
        ConnectorAuth: {
            /** @enum {string} */
            type: "none";
        } | {
            /** @enum {string} */
            type: "header";
            header: string;
        } | {
            /** @enum {string} */
            type: "bearer";
        } | {
            /** @enum {string} */
            type: "basic";
            user: string;
        } | {
            /** @enum {string} */
            type: "path";
        };
        /** @description A connector definition. `secret` (sealed at once, never returned) is required when `auth` takes a credential and refused with `none`. */
        ConnectorInput: {
            name: string;
            /** @description `https://host[:port][/path]`; plain http for loopback, or any host with `allow_http`; no query, fragment or credentials */
            base_url: string;
            auth: components["schemas"]["ConnectorAuth"];
            /** @description Sent with every call; not a header the host sets (credentials, Host, Cookie, framing) nor the credential header of `auth` */
            headers?: {
                [key: string]: string;
            };
            /** @description Hosts requests and redirects may reach beyond the base URL's */
            allow_hosts?: string[];
            /** @description Allow a plain http base URL on any host */
            allow_http?: boolean;
            /** @description Default 30000 */
            timeout_ms?: number | null;
            /** @description Default 1 MiB */
            max_response_bytes?: number | null;
            secret?: string | null;
            /** @description Replace a connector of that name */
            replace?: boolean;
        } & (unknown & unknown);
        ConnectorList: {
            connectors: components["schemas"]["Connector"][];
        };
        /** @description A path into the document: mapping keys and list indices, e.g. ["steps", 2, "then", 0]. */
        DocPath: (string | number)[];
        /** @description Every error the service answers with. */
        Error: {
            error: {
                /** @description Stable: scripts and the console match on it */
                code: string;
                /** @description For people; may change */
                message: string;
                /** @description Per code, e.g. `problems` for WORKFLOW_INVALID */
                details?: {
                    [key: string]: unknown;
                };
            };
        };
        ErrorTexts: {
            impact?: string | null;
            remediation?: string | null;
            recommended_actions?: string[] | null;
        };
        EventTrigger: {
            /** @enum {string} */
            type: "event";
            /** @description A Directory Insights event type, or `run.succeeded` / `run.failed` */
            event_type: string;
            /** @description A template over the event; the run starts when it is truthy */
            condition?: unknown;
        };
        FailedStep: {
            step: string;
            path: string;
            /** @description Scalar fields of `details` are repeated beside the code. */
            error: {
                /** @description The error's symbolic code, e.g. GROUP_NOT_FOUND */
                type: string;
                /** @description Its stable number, e.g. ERR-GRP-001 (docs/errors.md); null for a code a plugin defines that the table does not list */
                code: string | null;
                /**
                 * @description Where the error came from
                 * @enum {string}
                 */
                origin: "plugin" | "host";
                message: string;
                /** Format: date-time */
                timestamp: string;
                details: unknown;
            } & {
                [key: string]: string | number | boolean | null;
            };
            impact: string;
            remediation: string;
            handled: boolean;
        };
        /** @description What completed, what failed and what to do; the workflow's own `report:` fields are added beside these. */
        FailureReport: {
            /** @enum {boolean} */
            success: false;
            partial_completion: boolean;
            completed_steps: string[];
            failed_steps: components["schemas"]["FailedStep"][];
            manual_intervention_required: boolean;
            recommended_actions: string[];
        } & {
            [key: string]: unknown;
        };
        GrantsInput: {
            /** @description The permissions granted from now on (each declared by the plugin); `[]` revokes all */
            grants: string[];
            /** @description sha256 (hex) of the reviewed component: refused when the installed one is another */
            digest?: string | null;
        };
        Graph: {
            nodes: components["schemas"]["GraphNode"][];
            edges: components["schemas"]["GraphEdge"][];
            groups: components["schemas"]["GraphGroup"][];
        };
        GraphEdge: {
            id: string;
            source: string;
            target: string;
            /** @description `then`, `else`, `each`, `branch N`, `on error` */
            label?: string;
        };
        GraphGroup: {
            id: string;
            /** @enum {string} */
            kind: "for_each" | "parallel" | "on_error";
            label: string;
            parent?: string;
            /** @description The node id of the step owning the group */
            step: string;
        };
        GraphNode: {
            /** @description `trigger`, the step's path (`steps.2.then.0`), or `<path>/join` for where branches meet */
            id: string;
            /** @enum {string} */
            kind: "trigger" | "action" | "condition" | "join" | "for_each" | "parallel" | "workflow" | "connector";
            /** @description The step's name, or its id */
            label: string;
            /** @description The plugin, the connector call, the list or the sub-workflow */
            detail: string;
            step_id?: string;
            path: components["schemas"]["DocPath"];
            /** @description The innermost group holding the node */
            group?: string;
            /** @description `when`, `retry N`, `timeout D`, `on_error continue` */
            badges?: string[];
        };
        Health: {
            /** @enum {string} */
            status: "ok" | "shutting_down" | "database_unavailable";
            version: string;
            /** @description This node's id (`--node-id`). */
            node: string;
            /** @description Whether this node runs the scheduler and the event poller (always, alone on sled). */
            leader: boolean;
            queued: number;
            running: number;
            /** @description Why the database cannot be reached (with `database_unavailable`). */
            error?: string;
        };
        /** @description One brokered call; never credentials or bodies. */
        HostCall: {
            /** @enum {string} */
            kind: "jumpcloud" | "http" | "state";
            method: string;
            /** @description The path (JumpCloud), `connector:path` (HTTP) or key (state) */
            target: string;
            status?: number;
            error?: string;
            latency_us: number;
            /** @description Attempts the broker made, when it retried */
            attempts?: number;
        };
        /** @description Limits changed at install; unset ones keep the defaults. */
        LimitOverrides: {
            timeout_ms?: number;
            memory_bytes?: number;
            max_input_bytes?: number;
            max_output_bytes?: number;
            max_log_bytes?: number;
        };
        LogLine: {
            /** @enum {string} */
            level: "trace" | "debug" | "info" | "warn" | "error";
            /** @enum {string} */
            source: "log" | "stdout" | "stderr";
            message: string;
        };
        Manifest: {
            name: string;
            version: string;
            /** @enum {string} */
            kind: "action" | "condition" | "connector";
            description: string;
            /** @description JSON Schema */
            input_schema: unknown;
            /** @description JSON Schema */
            output_schema: unknown;
            permissions: string[];
        };
        ManualTrigger: {
            /** @enum {string} */
            type: "manual";
            /** @description The JSON Schema run inputs are checked against (defaults filled in) */
            input_schema?: unknown;
        };
        /** @description A plugin's record: what it declares and what it was granted. */
        Plugin: {
            name: string;
            /** @description SemVer */
            version: string;
            /** @enum {string} */
            kind: "action" | "condition" | "connector";
            description: string;
            /** @description sha256 of the component, hex */
            digest: string;
            /** @description What the plugin declares it needs */
            permissions: string[];
            /** @description What it is granted (a subset of permissions) */
            grants: string[];
            limits: components["schemas"]["LimitOverrides"];
            bundled: boolean;
            /** @description RFC 3339; empty for bundled plugins */
            installed_at: string;
            state: components["schemas"]["PluginState"];
            signer: components["schemas"]["Signer"];
            /** @description The category lists group it under: bundled plugins Users, Groups, Devices, Applications & policies, Directory Insights, Provisioning, General or Connectors; installed plugins Installed (the list's `categories` gives the order) */
            category: string;
            /** @description The pack the plugin came in; absent for a component holding one plugin */
            pack?: components["schemas"]["Pack"];
        };
        PluginDetail: {
            plugin: components["schemas"]["Plugin"];
            manifest: components["schemas"]["Manifest"];
        };
        PluginList: {
            plugins: components["schemas"]["Plugin"][];
            /** @description The categories in the order lists show them */
            categories: string[];
        };
        PluginState: {
            /** @description The component whose state this is; empty: kept under the plugin's name */
            namespace: string;
            quota: {
                max_keys: number;
                max_bytes: number;
            };
        };
        Problem: {
            /** @description The document (`workflow NAME`) or the sub-workflow the problem is in */
            file: string;
            /** @description As validation words it: `workflow`, `trigger.cron`, `run_as`, `steps[1] notify > then[0] mail`, `document` for a parse error */
            location: string;
            message: string;
            path: components["schemas"]["DocPath"] | null;
            /** @description The id of the graph node of the step the problem is about (`steps.1.then.0`) */
            node: string | null;
            /** @description 1-based, where the text shows it */
            line: number | null;
            column: number | null;
        };
        Retry: {
            /** @description Attempts in all, the first included */
            attempts: number;
            /** @description First backoff (`500ms`, `2s`), doubled each retry */
            backoff?: string | null;
            codes?: string[];
        };
        /**
         * @description The role a workflow runs as: one of JumpCloud's predefined administrator roles (`Administrator With Billing`, `Administrator`, `Manager`, `Help Desk`, `Read Only`, `Billing Only`, `Command Runner`, `Command Runner With Billing`) or the name of a custom role (`GET /api/v1/roles`).
         * @example Manager
         * @example Onboarding
         */
        Role: string;
        /** @description A run as stored, with the workflow version it runs. */
        Run: {
            id: string;
            workflow: string;
            status: components["schemas"]["RunStatus"];
            doc: components["schemas"]["WorkflowDocument"];
            /** @description The sub-workflows it calls, as they were when it started */
            subworkflows: {
                [key: string]: components["schemas"]["WorkflowDocument"];
            };
            /** @description Write-only fields are redacted once it ends */
            input: unknown;
            trigger: components["schemas"]["RunTrigger"];
            /** Format: date-time */
            started_at: string;
            /** Format: date-time */
            finished_at: string | null;
            /** @description Null until it succeeds or partially completes */
            output: unknown;
            report: components["schemas"]["FailureReport"] | null;
            /** @description How many times execution was (re)started */
            executions: number;
            /** @description What each `uses:` text resolved to: the saved version's pins, and what the run resolved itself when it started; left out when empty */
            pins?: {
                [key: string]: components["schemas"]["Pin"];
            };
        };
        RunCancelling: {
            run_id: string;
            /** @enum {string} */
            status: "cancelling";
            note: string;
        };
        RunDetail: {
            run: components["schemas"]["Run"];
            steps: components["schemas"]["StepRecord"][];
            /** @description Unfinished and nothing in the service is running it (held at start, or its execution stopped): `POST /api/v1/runs/{id}/resume` continues it */
            resumable: boolean;
        };
        RunList: {
            runs: components["schemas"]["RunRow"][];
            /** @description Pass as `after` for the next page; null on the last page */
            next: string | null;
        };
        RunResumed: {
            run_id: string;
            workflow: string;
            /** @enum {string} */
            status: "queued" | "running";
        };
        RunRetried: {
            run_id: string;
            retry_of: string;
            workflow: string;
            status: components["schemas"]["RunStatus"];
        };
        /** @description A run as lists show it. */
        RunRow: {
            id: string;
            workflow: string;
            status: components["schemas"]["RunStatus"];
            /** @description What started it: `manual`, `schedule`, `event`, `webhook`, `retry`, … */
            trigger: string | null;
            /** Format: date-time */
            started_at: string;
            /** Format: date-time */
            finished_at: string | null;
        };
        RunStarted: {
            run_id: string;
            workflow: string;
            version: number;
            status: components["schemas"]["RunStatus"];
        };
        /** @enum {string} */
        RunStatus: "queued" | "running" | "succeeded" | "failed" | "partially_completed" | "cancelled";
        /** @description What started the run; its fields depend on `type`. */
        RunTrigger: {
            /** @description `manual`, `schedule`, `event`, `webhook`, `retry`, … */
            type: string;
            workflow_trigger?: string;
            /** Format: date-time */
            at?: string;
            started_by?: string;
            workflow_version?: number;
            fire_time?: string;
            cron?: string;
            timezone?: string;
            event_type?: string;
            event_id?: string;
            webhook_id?: string;
            /** Format: date-time */
            received_at?: string;
            retry_of?: string;
            /** @enum {string} */
            from?: "failed_step" | "start";
            original_trigger?: {
                [key: string]: unknown;
            };
        } & {
            [key: string]: unknown;
        };
        ScheduleTrigger: {
            /** @enum {string} */
            type: "schedule";
            /** @description Cron with seconds, e.g. `0 0 9 * * Mon-Fri` */
            cron: string;
            /** @description IANA timezone (default UTC) */
            timezone?: string;
            /**
             * @description Default `skip`
             * @enum {string}
             */
            misfire?: "skip" | "run_once";
        };
        SecretInput: {
            value: string;
        };
        SecretList: {
            secrets: string[];
        };
        /** @description One step; which kind it is (action, `if`, `for_each`, `parallel`, `workflow`, `connector`) is checked by validation. */
        Step: {
            id: string;
            name?: string | null;
            /** @description A template; the step runs only when it is truthy */
            when?: unknown;
            /** @description Action: `plugin` or `plugin@version` */
            uses?: string | null;
            /** @description The plugin's input, templated */
            with?: unknown;
            if?: components["schemas"]["Condition"] | null;
            then?: components["schemas"]["Step"][] | null;
            else?: components["schemas"]["Step"][] | null;
            /** @description A list template */
            for_each?: unknown;
            item?: string | null;
            concurrency?: number | null;
            do?: components["schemas"]["Step"][] | null;
            parallel?: components["schemas"]["Step"][][] | null;
            /** @description A sub-workflow by name */
            workflow?: string | null;
            /** @description The sub-workflow's input */
            input?: unknown;
            /** @description An External App Connector call */
            connector?: string | null;
            method?: string | null;
            path?: string | null;
            headers?: unknown;
            query?: unknown;
            body?: unknown;
            expect?: number[] | null;
            retry?: components["schemas"]["Retry"] | null;
            /** @description A duration: `30s`, `2m` */
            timeout?: string | null;
            on_error?: ("fail" | "continue") | components["schemas"]["Step"][] | null;
            impact?: string | null;
            remediation?: string | null;
            recommended_actions?: string[] | null;
            /** @description Report texts per error code */
            errors?: {
                [key: string]: components["schemas"]["ErrorTexts"];
            };
        };
        StepError: {
            code: string;
            message: string;
            retryable: boolean;
            details?: unknown;
            /** @enum {string} */
            origin: "plugin" | "host";
        };
        /** @description One step's record in the run's journal. */
        StepRecord: {
            /** @description Where the step is in the run (`notify`, `users[2].add`) */
            path: string;
            step: string;
            /** @enum {string} */
            kind: "action" | "condition" | "connector";
            attempts: components["schemas"]["Attempt"][];
            result: components["schemas"]["StepResult"];
            /** Format: date-time */
            finished_at: string;
        };
        StepResult: {
            output: unknown;
        } | {
            error: components["schemas"]["StepError"];
        };
        TemplateDetail: {
            name: string;
            category: string;
            description: string;
            /** @description The workflow's YAML, comments and all */
            source: string;
            /** @description An input that runs it against the sandbox */
            example_input: unknown;
        };
        TemplateList: {
            templates: components["schemas"]["TemplateRow"][];
        };
        TemplateRow: {
            name: string;
            category: string;
            /** @description As in the workflow list: `manual`, `schedule CRON (TZ)`, … */
            trigger: string;
            run_as: components["schemas"]["Role"];
            description: string;
            /** @description The plugins its steps use */
            plugins: string[];
        };
        Token: {
            name: string;
            /** Format: date-time */
            created_at: string;
            /** @description The token's first characters, to tell tokens apart */
            hint: string;
        };
        TokenCreated: {
            name: string;
            /** Format: date-time */
            created_at: string;
            /** @description The token's first characters, to tell tokens apart */
            hint: string;
            /** @description Shown once */
            token: string;
        };
        TokenInput: {
            /** @description Lower-case letters, digits, `.`, `_` and `-` (1-64) */
            name: string;
        };
        TokenList: {
            tokens: components["schemas"]["Token"][];
        };
        Trigger: components["schemas"]["ManualTrigger"] | components["schemas"]["ScheduleTrigger"] | components["schemas"]["EventTrigger"] | components["schemas"]["WebhookTrigger"];
        ValidationReport: {
            valid: boolean;
            problems: components["schemas"]["Problem"][];
            name: string | null;
            /** @description The document's `run_as`: a predefined role or a custom role's name */
            run_as: string | null;
            /** @description The narrowest role (predefined, or custom: the one granting the fewest scopes) granting every JumpCloud scope the document's plugins (and sub-workflows') were granted */
            narrowest_role: string | null;
            /** @description `run_as` grants more than the narrowest role */
            broader_than_needed: boolean;
            /** @description The JumpCloud scopes the document needs */
            scopes: string[];
        };
        Version: {
            version: number;
            /** Format: date-time */
            created_at: string;
            created_by: string;
        };
        VersionDetail: {
            name: string;
            version: number;
            /** Format: date-time */
            created_at: string;
            created_by: string;
            document: components["schemas"]["WorkflowDocument"];
            /** @description The text the version was saved from (comments and all) */
            source: string;
            /** @description What each `uses:` text resolved to when the version was saved */
            pins: {
                [key: string]: components["schemas"]["Pin"];
            };
        };
        VersionList: {
            name: string;
            versions: components["schemas"]["Version"][];
        };
        WebhookAccepted: {
            run_id: string;
            status: components["schemas"]["RunStatus"];
            /** @description When the run did not finish within --webhook-wait */
            note?: string;
        };
        WebhookFailed: {
            run_id: string;
            status: components["schemas"]["RunStatus"];
            output: unknown;
            report: components["schemas"]["FailureReport"] | null;
        };
        WebhookSecret: {
            name: string;
            /** @description A webhook workflow's new signing secret, shown once (when a save created it) */
            webhook_secret: string;
        };
        WebhookTrigger: {
            /** @enum {string} */
            type: "webhook";
            /** @description Answer with the run's output instead of 202 and the run id */
            respond_with_output?: boolean;
        };
        /** @description What one `uses:` resolved to: the plugin, its version and its component's sha256 */
        Pin: {
            name: string;
            version: string;
            digest: string;
            bundled: boolean;
            /** @description In a run: why the run did not use the pinned component as pinned, and what it used */
            note?: string;
        };
        /** @description A pin of a saved workflow's current version, with what the registry now holds */
        PinState: {
            /** @description The `uses:` text */
            uses: string;
            name: string;
            version: string;
            digest: string;
            bundled: boolean;
            note?: string;
            /** @description A newer version of the plugin is installed or bundled, or `name@version` is now a different component; saving the workflow again pins what `uses:` resolves to then */
            update_available: boolean;
            /** @description What `uses:` would resolve to if the workflow were saved now, when that differs */
            latest?: {
                version: string;
                digest: string;
            };
            /** @description Whether runs can use the pinned plugin (false once it was removed) */
            available: boolean;
        };
        WorkflowDetail: {
            name: string;
            version: number;
            enabled: boolean;
            /** @description `manual`, `schedule CRON (TZ)`, `event TYPE` or `webhook` */
            trigger: string;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
            /** @description The token that saved the current version or toggled it */
            updated_by: string;
            description: string;
            run_as: components["schemas"]["Role"];
            document: components["schemas"]["WorkflowDocument"];
            /** @description What the current version pins, one entry per `uses:` text */
            pins: components["schemas"]["PinState"][];
            /** @description Whether any pin has an update available */
            update_available: boolean;
            /** @description A webhook workflow's new signing secret, shown once (when a save created it) */
            webhook_secret?: string;
        };
        /** @description A workflow document (`version: 1`; unknown fields are errors). Parsing checks this shape; saving also validates the steps, plugins, templates and role (see `POST /api/v1/validate`). */
        WorkflowDocument: {
            /**
             * @description The document format version
             * @enum {integer}
             */
            version: 1;
            /** @description Saving also needs lower-case letters, digits and `-` (1-64, not starting with `-`) */
            name: string;
            description?: string;
            trigger: components["schemas"]["Trigger"];
            run_as: components["schemas"]["Role"];
            /** @description Default true */
            enabled?: boolean;
            /** @description Organisation variables, `vars` in templates */
            vars?: {
                [key: string]: unknown;
            };
            steps: components["schemas"]["Step"][];
            /** @description The run's output, templated; default: the last step's output */
            output?: unknown;
            /** @description Fields added to the failure report, templated */
            report?: unknown;
            /**
             * @description When the journal is flushed (default `step`)
             * @enum {string}
             */
            durability?: "step" | "run";
        };
        WorkflowList: {
            workflows: components["schemas"]["WorkflowRow"][];
        };
        /** @description A stored workflow: its current version and whether its triggers fire. */
        WorkflowRecord: {
            name: string;
            version: number;
            enabled: boolean;
            /** @description `manual`, `schedule CRON (TZ)`, `event TYPE` or `webhook` */
            trigger: string;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
            /** @description The token that saved the current version or toggled it */
            updated_by: string;
        };
        /** @description A workflow as the list shows it; `description`, `run_as`, `trigger_type` and `next_fire` are left out when its current version cannot be read. */
        WorkflowRow: {
            name: string;
            version: number;
            enabled: boolean;
            /** @description `manual`, `schedule CRON (TZ)`, `event TYPE` or `webhook` */
            trigger: string;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
            /** @description The token that saved the current version or toggled it */
            updated_by: string;
            description?: string;
            run_as?: components["schemas"]["Role"];
            /** @enum {string} */
            trigger_type?: "manual" | "schedule" | "event" | "webhook";
            /**
             * Format: date-time
             * @description A schedule's next fire time
             */
            next_fire?: string | null;
            /** @description Whether a plugin the current version pins has an update available (see `GET /api/v1/workflows/{name}`) */
            update_available?: boolean;
            last_run: components["schemas"]["RunRow"] | null;
        };
        /** @description A custom role: a named set of JumpCloud scopes a workflow can run as (a write scope also grants its `.readonly` form). */
        CustomRole: {
            name: string;
            description: string;
            /** @description Sorted, each once */
            scopes: ("administrators" | "administrators.readonly" | "applications" | "applications.readonly" | "authn" | "authn.readonly" | "commandrunner.legacy" | "commands" | "commands.readonly" | "commands.schedule" | "directories" | "directories.readonly" | "directoryinsights" | "groups" | "groups.readonly" | "mdm" | "mdm.readonly" | "mfa" | "mfa.readonly" | "organizations" | "organizations.readonly" | "organizations.billing" | "radius" | "radius.readonly" | "settings.readonly" | "subscriptions.readonly" | "systems" | "systems.readonly" | "users" | "users.readonly")[];
            /** @description RFC 3339 */
            created_at: string;
        };
        /** @description A custom role to define (checked as `sluice role add` checks it). */
        CustomRoleInput: {
            /** @description 1-64 letters, digits, spaces, `.`, `-` and `_`, starting and ending with a letter or digit; not a predefined role's name in any case */
            name: string;
            /** @description At most 500 characters, no control characters */
            description?: string;
            /** @description JumpCloud scope names (`users`, `groups.readonly`; a `jumpcloud:` prefix is accepted); a write scope also grants its `.readonly` form */
            scopes: ("administrators" | "administrators.readonly" | "applications" | "applications.readonly" | "authn" | "authn.readonly" | "commandrunner.legacy" | "commands" | "commands.readonly" | "commands.schedule" | "directories" | "directories.readonly" | "directoryinsights" | "groups" | "groups.readonly" | "mdm" | "mdm.readonly" | "mfa" | "mfa.readonly" | "organizations" | "organizations.readonly" | "organizations.billing" | "radius" | "radius.readonly" | "settings.readonly" | "subscriptions.readonly" | "systems" | "systems.readonly" | "users" | "users.readonly" | "jumpcloud:administrators" | "jumpcloud:administrators.readonly" | "jumpcloud:applications" | "jumpcloud:applications.readonly" | "jumpcloud:authn" | "jumpcloud:authn.readonly" | "jumpcloud:commandrunner.legacy" | "jumpcloud:commands" | "jumpcloud:commands.readonly" | "jumpcloud:commands.schedule" | "jumpcloud:directories" | "jumpcloud:directories.readonly" | "jumpcloud:directoryinsights" | "jumpcloud:groups" | "jumpcloud:groups.readonly" | "jumpcloud:mdm" | "jumpcloud:mdm.readonly" | "jumpcloud:mfa" | "jumpcloud:mfa.readonly" | "jumpcloud:organizations" | "jumpcloud:organizations.readonly" | "jumpcloud:organizations.billing" | "jumpcloud:radius" | "jumpcloud:radius.readonly" | "jumpcloud:settings.readonly" | "jumpcloud:subscriptions.readonly" | "jumpcloud:systems" | "jumpcloud:systems.readonly" | "jumpcloud:users" | "jumpcloud:users.readonly")[];
            /** @description Replace an existing role of this name */
            replace?: boolean;
        };
        CustomRoleList: {
            roles: components["schemas"]["CustomRole"][];
        };
        /** @description Who signed the component, as checked at install: `bundled` (part of the sluice binary), `trusted` (signed by the trusted key `key`), `untrusted` (the signature verifies, but its key is not trusted), `unsigned` (no signature, or installed before signatures were checked) */
        Signer: {
            /** @enum {string} */
            status: "bundled" | "trusted" | "untrusted" | "unsigned";
            /** @description The trusted key's name, as it was when the plugin was installed (trusted) */
            key?: string;
            /** @description The signing key's fingerprint (trusted, untrusted) */
            fingerprint?: string;
        };
        /** @description A key trusted to sign plugins (`sluice trust add`) */
        TrustedKey: {
            name: string;
            /** @description As `sluice plugin keygen` prints it */
            public_key: string;
            fingerprint: string;
            /** @description RFC 3339 */
            added_at: string;
        };
        /** @description The trusted keys and the install policy */
        Trust: {
            /** @description Whether every install (API and CLI) must be signed by a trusted key */
            require_signatures: boolean;
            keys: components["schemas"]["TrustedKey"][];
        };
        TrustPolicyInput: {
            /** @description Whether every install (API and CLI) must be signed by a trusted key */
            require_signatures: boolean;
        };
        /** @description A pack: several plugins in one component, installed, signed and removed as a unit. */
        Pack: {
            name: string;
            /** @description SemVer */
            version: string;
            description: string;
        };
        /** @description A pack: the pack, and the record of each of its plugins, each granted on its own. */
        PackInstalled: {
            pack: components["schemas"]["Pack"];
            plugins: components["schemas"]["Plugin"][];
        };
        Node: {
            id: string;
            /** @description Where the node's API answers, as it was bound. */
            url: string;
            version: string;
            started_at: string;
            /** @description When it last renewed its leases. */
            seen_at: string;
            /** @description When its leases lapse unless renewed. */
            expires_at: string;
            alive: boolean;
            leader_of: "leader"[];
            /** @description Unfinished runs it holds leases on. */
            runs: number;
        };
        NodeList: {
            /** @description The id of the node that answered. */
            node: string;
            /** @description Whether the store is a database several nodes may share. */
            shared: boolean;
            /** @description How long a lease lasts unless renewed (null alone on sled). */
            lease_seconds: number | null;
            nodes: components["schemas"]["Node"][];
        };
    };
    responses: {
        /** @description An error (`{"error": {"code", "message", "details"}}`) */
        Error: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description No valid admin API token (UNAUTHORIZED) */
        Unauthorized: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
    };
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    createWorkflow: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** @description The workflow document, YAML or JSON (`version: 1`; unknown fields are errors). */
        requestBody: {
            content: {
                "application/yaml": unknown;
                /**
                 * @example {
                 *       "version": 1,
                 *       "name": "hello",
                 *       "description": "Builds an account record from a new hire's name.",
                 *       "trigger": {
                 *         "type": "manual",
                 *         "input_schema": {
                 *           "type": "object",
                 *           "required": [
                 *             "first_name",
                 *             "last_name"
                 *           ],
                 *           "properties": {
                 *             "first_name": {
                 *               "type": "string",
                 *               "minLength": 1
                 *             },
                 *             "last_name": {
                 *               "type": "string",
                 *               "minLength": 1
                 *             },
                 *             "domain": {
                 *               "type": "string",
                 *               "default": "example.com"
                 *             }
                 *           }
                 *         }
                 *       },
                 *       "run_as": "Read Only",
                 *       "vars": {
                 *         "company": "Acme"
                 *       },
                 *       "steps": [
                 *         {
                 *           "id": "account",
                 *           "uses": "transform",
                 *           "with": {
                 *             "username": "{{ (input.first_name[0] ~ input.last_name) | lower }}",
                 *             "email": "{{ input.first_name | lower }}.{{ input.last_name | lower }}@${input.domain}",
                 *             "display_name": "${input.first_name} ${input.last_name} ({{ vars.company }})"
                 *           }
                 *         }
                 *       ],
                 *       "output": {
                 *         "username": "${steps.account.output.username}",
                 *         "email": "${steps.account.output.email}",
                 *         "display_name": "${steps.account.output.display_name}"
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["WorkflowDocument"];
            };
        };
        responses: {
            /** @description Created (version 1); `webhook_secret` for a webhook workflow */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WorkflowDetail"];
                };
            };
            /** @description Not UTF-8 (BAD_BODY), not a workflow document (WORKFLOW_PARSE_ERROR), invalid (WORKFLOW_INVALID: `error.details.problems` lists every problem), or a webhook workflow without SLUICE_SECRET_KEY (SECRET_KEY_MISSING); nothing is saved */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description A workflow of that name exists (WORKFLOW_EXISTS) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            default: components["responses"]["Error"];
        };
    };
    getWorkflow: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The workflow's name
                 * @example hello
                 */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WorkflowDetail"];
                };
            };
            /** @description A path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description No such workflow (WORKFLOW_NOT_FOUND) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            default: components["responses"]["Error"];
        };
    };
    updateWorkflow: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The workflow's name
                 * @example hello
                 */
                name: string;
            };
            cookie?: never;
        };
        /** @description The workflow document, YAML or JSON (`version: 1`; unknown fields are errors). */
        requestBody: {
            content: {
                "application/yaml": unknown;
                /**
                 * @example {
                 *       "version": 1,
                 *       "name": "hello",
                 *       "description": "Builds an account record from a new hire's name.",
                 *       "trigger": {
                 *         "type": "manual",
                 *         "input_schema": {
                 *           "type": "object",
                 *           "required": [
                 *             "first_name",
                 *             "last_name"
                 *           ],
                 *           "properties": {
                 *             "first_name": {
                 *               "type": "string",
                 *               "minLength": 1
                 *             },
                 *             "last_name": {
                 *               "type": "string",
                 *               "minLength": 1
                 *             },
                 *             "domain": {
                 *               "type": "string",
                 *               "default": "example.com"
                 *             }
                 *           }
                 *         }
                 *       },
                 *       "run_as": "Read Only",
                 *       "vars": {
                 *         "company": "Acme"
                 *       },
                 *       "steps": [
                 *         {
                 *           "id": "account",
                 *           "uses": "transform",
                 *           "with": {
                 *             "username": "{{ (input.first_name[0] ~ input.last_name) | lower }}",
                 *             "email": "{{ input.first_name | lower }}.{{ input.last_name | lower }}@${input.domain}",
                 *             "display_name": "${input.first_name} ${input.last_name} ({{ vars.company }})"
                 *           }
                 *         }
                 *       ],
                 *       "output": {
                 *         "username": "${steps.account.output.username}",
                 *         "email": "${steps.account.output.email}",
                 *         "display_name": "${steps.account.output.display_name}"
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["WorkflowDocument"];
            };
        };
        responses: {
            /** @description Saved as a new version */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WorkflowDetail"];
                };
            };
            /** @description Not UTF-8 (BAD_BODY), not a workflow document (WORKFLOW_PARSE_ERROR), invalid (WORKFLOW_INVALID, with `error.details.problems`), named otherwise than the path (WORKFLOW_NAME_MISMATCH), or a webhook workflow without SLUICE_SECRET_KEY (SECRET_KEY_MISSING); nothing is saved; or a path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description No such workflow (WORKFLOW_NOT_FOUND) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            default: components["responses"]["Error"];
        };
    };
    deleteWorkflow: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The workflow's name */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description A path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description No such workflow (WORKFLOW_NOT_FOUND) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            default: components["responses"]["Error"];
        };
    };
    listWorkflowVersions: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The workflow's name
                 * @example hello
                 */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["VersionList"];
                };
            };
            /** @description A path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description No such workflow (WORKFLOW_NOT_FOUND) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            default: components["responses"]["Error"];
        };
    };
    getWorkflowVersion: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The workflow's name
                 * @example hello
                 */
                name: string;
                /** @example 1 */
                version: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["VersionDetail"];
                };
            };
            /** @description A path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description No such workflow or version (WORKFLOW_NOT_FOUND, WORKFLOW_VERSION_NOT_FOUND) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            default: components["responses"]["Error"];
        };
    };
    enableWorkflow: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The workflow's name
                 * @example hello
                 */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WorkflowRecord"];
                };
            };
            /** @description A path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description No such workflow (WORKFLOW_NOT_FOUND) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            default: components["responses"]["Error"];
        };
    };
    disableWorkflow: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The workflow's name */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WorkflowRecord"];
                };
            };
            /** @description A path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description No such workflow (WORKFLOW_NOT_FOUND) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            default: components["responses"]["Error"];
        };
    };
    startRun: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The workflow's name
                 * @example hello
                 */
                name: string;
            };
            cookie?: never;
        };
        /** @description The run's input: any JSON the trigger's `input_schema` admits; an empty body is `{}` */
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "first_name": "Ada",
                 *       "last_name": "Lovelace"
                 *     }
                 */
                "application/json": unknown;
            };
        };
        responses: {
            /** @description Accepted: queued */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RunStarted"];
                };
            };
            /** @description Not JSON (BAD_JSON), or the input does not match the trigger's input schema (INVALID_INPUT); or a path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description No such workflow (WORKFLOW_NOT_FOUND) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The workflow is disabled (WORKFLOW_DISABLED) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The run queue is full (QUEUE_FULL); nothing is recorded */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Shutting down (SHUTTING_DOWN) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            default: components["responses"]["Error"];
        };
    };
    getRun: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The run id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The run and its journal */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RunDetail"];
                };
            };
            /** @description A path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description No such run (RUN_NOT_FOUND) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            default: components["responses"]["Error"];
        };
    };
    cancelRun: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The run id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Cancelling */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RunCancelling"];
                };
            };
            /** @description A path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description No such run (RUN_NOT_FOUND) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description It has finished (RUN_FINISHED) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            default: components["responses"]["Error"];
        };
    };
    retryRun: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The run id */
                id: string;
            };
            cookie?: never;
        };
        /** @description An empty body is `{}`: from the failed step */
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "from": "start"
                 *     }
                 */
                "application/json": {
                    /**
                     * @description `failed_step` (default): replay the steps that succeeded; `start`: run everything again
                     * @enum {string|null}
                     */
                    from?: "failed_step" | "start" | null;
                };
            };
        };
        responses: {
            /** @description Accepted: the new run */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RunRetried"];
                };
            };
            /** @description A bad body (BAD_JSON, BAD_REQUEST); or a path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description No such run (RUN_NOT_FOUND) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description It has not finished (RUN_NOT_FINISHED), or its write-only input was not kept (RUN_INPUT_NOT_KEPT) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The run queue is full (QUEUE_FULL) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Shutting down (SHUTTING_DOWN) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            default: components["responses"]["Error"];
        };
    };
    resumeRun: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The run id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Accepted: it is queued again */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RunResumed"];
                };
            };
            /** @description A path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description No such run (RUN_NOT_FOUND) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Finished (RUN_FINISHED), or already queued or executing (RUN_ACTIVE) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The run queue is full (QUEUE_FULL) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Shutting down (SHUTTING_DOWN) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            default: components["responses"]["Error"];
        };
    };
    createConnector: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** @description The connector */
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "jira",
                 *       "base_url": "https://acme.atlassian.net",
                 *       "auth": {
                 *         "type": "basic",
                 *         "user": "automation@acme.com"
                 *       },
                 *       "secret": "an-api-token",
                 *       "headers": {
                 *         "Accept": "application/json"
                 *       },
                 *       "replace": true
                 *     }
                 */
                "application/json": components["schemas"]["ConnectorInput"];
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Connector"];
                };
            };
            /** @description Invalid (CONNECTOR_INVALID, BAD_JSON), or a credential without SLUICE_SECRET_KEY (SECRET_KEY_MISSING, SECRET_KEY_INVALID) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description A connector of that name exists (CONNECTOR_EXISTS) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            default: components["responses"]["Error"];
        };
    };
    getConnector: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example jira */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Connector"];
                };
            };
            /** @description A path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description No such connector (CONNECTOR_NOT_FOUND) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            default: components["responses"]["Error"];
        };
    };
    deleteConnector: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description A path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description No such connector (CONNECTOR_NOT_FOUND) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            default: components["responses"]["Error"];
        };
    };
    listRoles: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CustomRoleList"];
                };
            };
            401: components["responses"]["Unauthorized"];
            default: components["responses"]["Error"];
        };
    };
    createRole: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** @description The role */
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "Onboarding",
                 *       "description": "Creates users and puts them in groups",
                 *       "scopes": [
                 *         "users",
                 *         "groups"
                 *       ]
                 *     }
                 */
                "application/json": components["schemas"]["CustomRoleInput"];
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CustomRole"];
                };
            };
            /** @description Invalid (ROLE_INVALID, BAD_JSON) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description A role of that name exists and `replace` is not set (ROLE_EXISTS) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            default: components["responses"]["Error"];
        };
    };
    getRole: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The custom role's name
                 * @example Onboarding
                 */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CustomRole"];
                };
            };
            /** @description A path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description No such custom role (ROLE_NOT_FOUND) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            default: components["responses"]["Error"];
        };
    };
    deleteRole: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The custom role's name */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description A path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description No such custom role (ROLE_NOT_FOUND) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description A saved workflow runs as the role (ROLE_IN_USE); the error names them */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            default: components["responses"]["Error"];
        };
    };
    putSecret: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description Lower-case letters, digits, `.`, `_` and `-` (1-64)
                 * @example ldap.password
                 */
                name: string;
            };
            cookie?: never;
        };
        /** @description {"value": "…"} */
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "value": "s3cret"
                 *     }
                 */
                "application/json": components["schemas"]["SecretInput"];
            };
        };
        responses: {
            /** @description Written */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description A bad name (SECRET_NAME_INVALID), a bad body (BAD_JSON, BAD_REQUEST), or no SLUICE_SECRET_KEY (SECRET_KEY_MISSING, SECRET_KEY_INVALID); or a path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            401: components["responses"]["Unauthorized"];
            default: components["responses"]["Error"];
        };
    };
    deleteSecret: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description A path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description No such secret (SECRET_NOT_FOUND) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            default: components["responses"]["Error"];
        };
    };
    createToken: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** @description {"name": "…"} */
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "ci"
                 *     }
                 */
                "application/json": components["schemas"]["TokenInput"];
            };
        };
        responses: {
            /** @description Created: the token, shown once */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenCreated"];
                };
            };
            /** @description A bad name (TOKEN_BAD_NAME), or a bad body (BAD_JSON, BAD_REQUEST) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description A token of that name exists (TOKEN_EXISTS) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            default: components["responses"]["Error"];
        };
    };
    revokeToken: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Revoked */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description A path parameter that is not text once percent-decoded, or not a number where one is expected (BAD_PATH) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            401: components["responses"]["Unauthorized"];
            /** @description No such token (TOKEN_NOT_FOUND) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            default: components["responses"]["Error"];
        };
    };
}
