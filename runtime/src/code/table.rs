//! The table of error codes: the only place a code's string is spelled. Numbers are
//! `ERR-<AREA>-<NNN>`, never reused or changed once given; a new code takes the next
//! number of its area. After a change, regenerate `docs/errors.md` with
//! `SLUICE_BLESS=1 cargo test --profile suite --locked --workspace --lib code::`.
//!
//! Columns: variant = string, number, who emits it, HTTP status (`-`: not an API answer),
//! exit code, whether a retry can help, and what it means and what to do.

use super::codes;

codes! {
    // GEN: general.
    InternalError = "INTERNAL_ERROR", "ERR-GEN-001", Both, http 500, exit 1, retry No,
        "A fault inside Sluice or a bundled plugin (a bug, not the workflow's doing) stopped \
         the step, the run or the request; the process and other runs go on. Report it with \
         the run's id and `sluice runs show` output.";
    InvalidInput = "INVALID_INPUT", "ERR-GEN-002", Both, http 400, exit 2, retry No,
        "The input does not match what was expected: the workflow's `input_schema` (API, \
         `sluice run`, a sub-workflow step) or a plugin's input type (a catalogue plugin \
         refusing a field). The message names the field; correct the input and start again.";
    IoError = "IO_ERROR", "ERR-GEN-003", Host, http 500, exit 1, retry No,
        "A file could not be read or written (a plugin's component, the data directory). \
         Check the path, its permissions and the free disk space.";
    RandomUnavailable = "RANDOM_UNAVAILABLE", "ERR-GEN-004", Both, http 500, exit 1, retry No,
        "The operating system gave no randomness (for a token, a webhook secret or a \
         password). Check the host's entropy source (`getrandom`); nothing was created.";
    WasmConfig = "ENGINE_CONFIG", "ERR-GEN-005", Host, http 500, exit 1, retry No,
        "wasmtime (which runs the plugins) could not be configured with the limits given (memory, \
         instance pool, threads). Lower the limits or fix the settings named in the message.";
    NotFound = "NOT_FOUND", "ERR-GEN-006", Both, http 404, exit 1, retry No,
        "The API has no such endpoint (see `/api/v1/openapi.json`), or a catalogue plugin \
         did not find the JumpCloud object it was given (a user, a device). Check the path, \
         or the name or id in the step's input.";
    Conflict = "CONFLICT", "ERR-GEN-007", Catalogue, http -, exit 1, retry No,
        "JumpCloud refused a change that conflicts with what exists (its 409). Read the \
         message, look at the object in JumpCloud, and change the input.";
    PermissionDenied = "PERMISSION_DENIED", "ERR-GEN-008", Both, http -, exit 1, retry No,
        "A call was refused for lack of permission: the plugin made a host call its grants \
         and the workflow's `run_as` role do not cover (the call never left the host), or \
         JumpCloud answered 403. Grant the scope named in the message, choose a broader \
         `run_as`, or give the API key's administrator the right.";
    TypeMismatch = "TYPE_MISMATCH", "ERR-GEN-009", Catalogue, http -, exit 1, retry No,
        "The `compare` plugin could not compare its operands (e.g. a number with a text). \
         Make both sides the same type in the step's `with:`.";
    InvalidOutput = "INVALID_OUTPUT", "ERR-GEN-010", Catalogue, http -, exit 1, retry No,
        "A plugin built with the SDK could not serialize its output. A fault of the plugin: \
         report it to its author.";

    // API: the service's requests.
    BadRequest = "BAD_REQUEST", "ERR-API-001", Host, http 400, exit 2, retry No,
        "The request body is not what the endpoint takes (a field missing, of the wrong \
         type, or unknown). The OpenAPI document (`/api/v1/openapi.json`) describes each \
         body; send it as described.";
    BadJson = "BAD_JSON", "ERR-API-002", Host, http 400, exit 2, retry No,
        "The request body is not valid JSON. Send a JSON document (the message gives the \
         position of the problem).";
    BadBody = "BAD_BODY", "ERR-API-003", Host, http 400, exit 2, retry No,
        "The workflow document in the body is not UTF-8 text. Send the YAML or JSON as UTF-8.";
    BadQuery = "BAD_QUERY", "ERR-API-004", Host, http 400, exit 2, retry No,
        "A query parameter the API document does not allow, or out of its range (e.g. \
         `limit`). Correct the query string.";
    BadPath = "BAD_PATH", "ERR-API-005", Host, http 400, exit 2, retry No,
        "A path parameter that is not text once percent-decoded, or not a number where one \
         is expected. Correct the URL.";
    Unauthorized = "UNAUTHORIZED", "ERR-API-006", Host, http 401, exit 2, retry No,
        "No valid admin API token: send `Authorization: Bearer <token>`, with a token from \
         `sluice token create --name NAME`.";
    RequestBodyTimeout = "REQUEST_BODY_TIMEOUT", "ERR-API-007", Host, http 408, exit 1, retry Yes,
        "The request body did not arrive within `--body-read-timeout` of its headers; the \
         connection is closed. Send the body promptly, or raise the timeout.";
    QueueFull = "QUEUE_FULL", "ERR-API-008", Host, http 429, exit 1, retry Yes,
        "The service's run queue is full; nothing was started. Retry later, or raise the \
         service's queue and concurrency limits.";
    ShuttingDown = "SHUTTING_DOWN", "ERR-API-009", Host, http 503, exit 1, retry Yes,
        "The service is stopping and takes no new runs. Retry once it is back.";

    // HOK: inbound webhooks.
    BadSignature = "BAD_SIGNATURE", "ERR-HOK-001", Host, http 401, exit 1, retry No,
        "A webhook without a right Standard Webhooks signature, or for a name with no \
         enabled webhook workflow (the two answers are the same on purpose). Sign with the \
         workflow's secret (`POST /api/v1/workflows/NAME/webhook-secret` rotates it).";
    WebhookTimestampOutOfTolerance = "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE", "ERR-HOK-002", Host,
        http 401, exit 1, retry No,
        "The webhook's timestamp is too far from the service's clock: a message sent again \
         later, or a sender whose clock is off. Fix the sender's clock, or send a new message.";
    WebhookReplayed = "WEBHOOK_REPLAYED", "ERR-HOK-003", Host, http 409, exit 1, retry No,
        "This webhook message id was already accepted; each id starts one run. Nothing to \
         do, unless a new event was meant: give it a new id.";
    NotAWebhook = "NOT_A_WEBHOOK", "ERR-HOK-004", Host, http 409, exit 1, retry No,
        "A webhook secret was asked for a workflow whose trigger is not a webhook. Change \
         the trigger to `webhook`, or do not ask for a secret.";

    // WFL: workflows and their steps.
    WorkflowParseError = "WORKFLOW_PARSE_ERROR", "ERR-WFL-001", Host, http 400, exit 2, retry No,
        "The document is not a workflow (not YAML or JSON, or not of the workflow's shape). \
         The message gives the line; see docs/workflows.md.";
    WorkflowInvalid = "WORKFLOW_INVALID", "ERR-WFL-002", Host, http 400, exit 2, retry No,
        "The workflow parses but is invalid; `error.details.problems` (or `sluice validate`) \
         lists every problem with its location. Fix them; nothing was saved.";
    WorkflowExists = "WORKFLOW_EXISTS", "ERR-WFL-003", Host, http 409, exit 2, retry No,
        "A workflow of that name exists. Save a new version of it with `PUT`, or choose \
         another name.";
    WorkflowNotFound = "WORKFLOW_NOT_FOUND", "ERR-WFL-004", Host, http 404, exit 1, retry No,
        "No workflow of that name is saved (or a `workflow:` step names one that is not). \
         Check the name (`GET /api/v1/workflows`).";
    WorkflowVersionNotFound = "WORKFLOW_VERSION_NOT_FOUND", "ERR-WFL-005", Host, http 404,
        exit 1, retry No,
        "The workflow has no such version. List its versions and pick one that exists.";
    WorkflowNameMismatch = "WORKFLOW_NAME_MISMATCH", "ERR-WFL-006", Host, http 400, exit 2,
        retry No,
        "The document's `name` differs from the name in the path. Make them the same.";
    WorkflowDisabled = "WORKFLOW_DISABLED", "ERR-WFL-007", Host, http 409, exit 1, retry No,
        "The workflow is disabled and starts no runs. Enable it first \
         (`POST /api/v1/workflows/NAME/enable`).";
    TemplateError = "TEMPLATE_ERROR", "ERR-WFL-008", Host, http -, exit 1, retry No,
        "A template in the step looked up an undefined name or a missing field; the message \
         gives the location and the template. Fix the template or provide the field.";
    InvalidStep = "INVALID_STEP", "ERR-WFL-009", Host, http -, exit 1, retry No,
        "A step the run reached has no kind it can execute. Validate the workflow \
         (`sluice validate`) and fix the step.";
    SubworkflowFailed = "SUBWORKFLOW_FAILED", "ERR-WFL-010", Host, http -, exit 1, retry Depends,
        "A `workflow:` step's sub-workflow failed; `details` holds its failure report, whose \
         own codes say what to do. Retryable when its failure was.";
    TemplateNotFound = "TEMPLATE_NOT_FOUND", "ERR-WFL-011", Host, http 404, exit 2, retry No,
        "No ready-made workflow of that name. `sluice template list` lists them.";
    TemplateBroken = "TEMPLATE_BROKEN", "ERR-WFL-012", Host, http 500, exit 1, retry No,
        "A ready-made workflow bundled with Sluice does not parse: a fault of this build. \
         Report it.";

    // RUN: runs.
    RunNotFound = "RUN_NOT_FOUND", "ERR-RUN-001", Host, http 404, exit 2, retry No,
        "No run has that id. `sluice runs list` (or `GET /api/v1/runs`) lists them.";
    RunFinished = "RUN_FINISHED", "ERR-RUN-002", Host, http 409, exit 2, retry No,
        "The run has ended, so it cannot be resumed or cancelled. Retry it from the failed \
         step (`POST /api/v1/runs/ID/retry`) or start a new one.";
    RunActive = "RUN_ACTIVE", "ERR-RUN-003", Host, http 409, exit 1, retry Yes,
        "The run is queued or executing; it cannot be resumed now. Wait for it to end.";
    RunNotFinished = "RUN_NOT_FINISHED", "ERR-RUN-004", Host, http 409, exit 1, retry Yes,
        "Only a run that has ended in failure can be retried. Wait for it to end, or cancel it.";
    RunInputNotKept = "RUN_INPUT_NOT_KEPT", "ERR-RUN-005", Host, http 409, exit 1, retry No,
        "The run's write-only input was not kept, so it cannot be retried. Start a new run \
         with the input.";

    // PLG: plugins — installing and loading, then the sandbox's limits on a step.
    PluginNotWasm = "PLUGIN_NOT_WASM", "ERR-PLG-001", Host, http 400, exit 2, retry No,
        "The file is not WebAssembly (no `\\0asm` header). Give the `.wasm` component the \
         plugin's build produced.";
    PluginNotComponent = "PLUGIN_NOT_COMPONENT", "ERR-PLG-002", Host, http 400, exit 2, retry No,
        "The file is a core WebAssembly module, not a component. Build the plugin for \
         `wasm32-wasip2` (`cargo build --target wasm32-wasip2`).";
    PluginUnknownWorld = "PLUGIN_UNKNOWN_WORLD", "ERR-PLG-003", Host, http 400, exit 2, retry No,
        "The component does not target a Sluice world. Build it against the `sluice:plugin` \
         WIT package (the SDK does); see docs/plugins.md.";
    PluginInvalidManifest = "PLUGIN_INVALID_MANIFEST", "ERR-PLG-004", Host, http 400, exit 2,
        retry No,
        "The plugin's manifest (what `describe()` returns) is invalid; the message lists \
         each problem. Fix the plugin.";
    PluginCompileFailed = "PLUGIN_COMPILE_FAILED", "ERR-PLG-005", Host, http 400, exit 2,
        retry No,
        "The component could not be compiled for this machine. Rebuild it with a supported \
         toolchain; the message gives the compiler's reason.";
    PluginInstantiationFailed = "PLUGIN_INSTANTIATION_FAILED", "ERR-PLG-006", Host, http 500,
        exit 1, retry No,
        "The component could not be instantiated (e.g. the instance pool is exhausted, or \
         it imports what the host does not provide). Lower concurrency, or rebuild the \
         plugin against the current WIT.";
    PluginDescribeFailed = "PLUGIN_DESCRIBE_FAILED", "ERR-PLG-007", Host, http 500, exit 1,
        retry No,
        "The plugin's `describe()` failed, so its manifest is unknown. Fix the plugin.";
    PluginGrantNotDeclared = "PLUGIN_GRANT_NOT_DECLARED", "ERR-PLG-008", Host, http 400, exit 2,
        retry No,
        "A grant the plugin does not declare was asked for. Grant only what it declares \
         (`sluice plugin inspect` lists it).";
    PluginNotFound = "PLUGIN_NOT_FOUND", "ERR-PLG-009", Host, http 404, exit 2, retry No,
        "No plugin of that name (and version) is installed or bundled. `sluice plugin list` \
         lists them.";
    PluginAlreadyInstalled = "PLUGIN_ALREADY_INSTALLED", "ERR-PLG-010", Host, http 409, exit 2,
        retry No,
        "That plugin version is installed. Remove it first, or install with `--replace`.";
    PluginVersionRequired = "PLUGIN_VERSION_REQUIRED", "ERR-PLG-011", Host, http 400, exit 2,
        retry No,
        "Several versions match; give the plugin as `NAME@VERSION`.";
    PluginBundled = "PLUGIN_BUNDLED", "ERR-PLG-012", Host, http 409, exit 2, retry No,
        "The plugin is bundled with Sluice: it cannot be removed or replaced, and it is \
         granted exactly what it declares. Install a plugin of another name instead.";
    PluginChanged = "PLUGIN_CHANGED", "ERR-PLG-013", Host, http 409, exit 1, retry No,
        "The component whose permissions were reviewed is no longer the one installed. \
         Review the installed one and send its digest.";
    PluginTimeout = "PLUGIN_TIMEOUT", "ERR-PLG-014", Host, http -, exit 1, retry No,
        "The call passed its deadline (guest code and host calls together). Check the \
         service the step calls, or raise the step's `timeout:` or the plugin's \
         `--timeout-ms`, within the ceiling.";
    PluginMemoryLimit = "PLUGIN_MEMORY_LIMIT", "ERR-PLG-015", Host, http -, exit 1, retry No,
        "The plugin asked for more linear memory (or table space) than its cap. Install it \
         with a larger `--memory-mb`, or give it smaller input.";
    PluginTrap = "PLUGIN_TRAP", "ERR-PLG-016", Host, http -, exit 1, retry No,
        "The plugin trapped: a panic, an abort, a stack overflow, an invalid operation. The \
         step's log holds the panic message; fix the plugin.";
    PluginOutputTooLarge = "PLUGIN_OUTPUT_TOO_LARGE", "ERR-PLG-017", Host, http -, exit 1,
        retry No,
        "The output is over the plugin's output limit. Raise `--max-output-bytes`, or have \
         the step return less.";
    PluginInputTooLarge = "PLUGIN_INPUT_TOO_LARGE", "ERR-PLG-018", Host, http -, exit 1,
        retry No,
        "The input is over the plugin's input limit; the plugin was not called. Raise \
         `--max-input-bytes`, or pass less.";
    PluginLogLimit = "PLUGIN_LOG_LIMIT", "ERR-PLG-019", Host, http -, exit 1, retry No,
        "Log lines, stdout and stderr together passed the log limit. Raise \
         `--max-log-bytes`, or log less.";
    PluginInvalidOutput = "PLUGIN_INVALID_OUTPUT", "ERR-PLG-020", Host, http -, exit 1, retry No,
        "The plugin returned text that is not JSON, or a step's output is not what its \
         `if:` expects. Fix the plugin, or the step.";
    PluginCallLimit = "PLUGIN_CALL_LIMIT", "ERR-PLG-021", Host, http -, exit 1, retry No,
        "The plugin made more host calls in one step than allowed. Split the work over \
         several steps (e.g. `for_each`).";
    PluginInvalidError = "PLUGIN_INVALID_ERROR", "ERR-PLG-022", Host, http -, exit 1, retry No,
        "The plugin returned an error the host cannot pass on: a code not of the form \
         `^[A-Z][A-Z0-9_]{0,63}$`, or an error larger than the output limit. Fix the plugin.";
    PluginPinned = "PLUGIN_PINNED", "ERR-PLG-023", Host, http 409, exit 2, retry No,
        "Enabled saved workflows pin this plugin version (the message lists them); removing \
         it would break their runs. Save them again after installing the version they \
         should use, disable them, or remove with `--force`.";
    PluginInPack = "PLUGIN_IN_PACK", "ERR-PLG-024", Host, http 409, exit 2, retry No,
        "The plugin came in a pack, which is installed, signed and removed as a unit. Remove \
         the pack (`sluice plugin remove PACK@VERSION`), or install a version of the pack \
         without the plugin.";
    PluginNameTaken = "PLUGIN_NAME_TAKEN", "ERR-PLG-025", Host, http 409, exit 2, retry No,
        "Plugins and packs share one set of names, and this name is taken: a pack named like \
         an installed or bundled plugin, or a plugin named like a pack. Rename the pack or \
         the plugin; nothing was installed.";
    PluginIsPack = "PLUGIN_IS_PACK", "ERR-PLG-026", Host, http 400, exit 2, retry No,
        "The file holds a pack (several plugins) where one plugin is needed. Name one of its \
         plugins (`--member NAME`), or install the pack and use its plugins by name.";
    PluginNotInPack = "PLUGIN_NOT_IN_PACK", "ERR-PLG-027", Catalogue, http -, exit 1, retry No,
        "A pack built with the SDK was asked to call a plugin it does not hold, or with the \
         wrong kind. The host calls only the plugins a pack described, each by its kind, so \
         this comes from calling the component by hand; name one of its plugins.";

    // SIG: plugin signatures and trusted keys.
    SignatureRequired = "SIGNATURE_REQUIRED", "ERR-SIG-001", Host, http 403, exit 2, retry No,
        "The component is not signed, and installs require a signature by a trusted key \
         (`--require-signature`, or `sluice trust require-signatures on`). Sign it with \
         `sluice plugin sign`, trust the key with `sluice trust add`; nothing was installed.";
    SignatureUntrusted = "SIGNATURE_UNTRUSTED", "ERR-SIG-002", Host, http 403, exit 2,
        retry No,
        "The component's signature verifies, but its key (named by fingerprint) is not \
         trusted, and installs require a trusted signer. Trust the publisher's key with \
         `sluice trust add NAME PUBKEY` if you trust them; nothing was installed.";
    SignatureInvalid = "SIGNATURE_INVALID", "ERR-SIG-003", Host, http 400, exit 2, retry No,
        "The component carries a signature that does not verify: it was changed after it was \
         signed, or the signature is damaged (or names no key to check it with, and no \
         trusted key signed it). Refused whatever the policy; get the component again.";
    TrustKeyInvalid = "TRUST_KEY_INVALID", "ERR-SIG-004", Host, http 400, exit 2, retry No,
        "A public key must be `ed25519:` and the 32-byte key in base64, as `sluice plugin \
         keygen` prints it. Copy the key whole.";
    TrustKeyExists = "TRUST_KEY_EXISTS", "ERR-SIG-005", Host, http 409, exit 2, retry No,
        "A trusted key of that name exists, or the key is trusted under another name (the \
         message names it). Remove it first, or choose another name.";
    TrustKeyNotFound = "TRUST_KEY_NOT_FOUND", "ERR-SIG-006", Host, http 404, exit 2, retry No,
        "No trusted key of that name. `sluice trust list` lists them.";
    TrustNameInvalid = "TRUST_NAME_INVALID", "ERR-SIG-007", Host, http 400, exit 2, retry No,
        "A trusted key's name must be 1 to 64 lower-case letters, digits, `.`, `-` or `_`.";
    SigningKeyInvalid = "SIGNING_KEY_INVALID", "ERR-SIG-008", Host, http -, exit 2, retry No,
        "The key file is not an Ed25519 secret key (`sluice plugin keygen --out` writes one; \
         a PEM private key works too), or the file to sign is not WebAssembly.";

    // STO: the store and plugin state.
    StoreError = "STORE_ERROR", "ERR-STO-001", Host, http 500, exit 1, retry No,
        "The data directory's store failed to read or write. Check the disk and the data \
         directory's permissions; the message gives the cause.";
    StoreLocked = "STORE_LOCKED", "ERR-STO-002", Host, http 500, exit 1, retry Yes,
        "Another Sluice process holds the data directory. Stop it (e.g. `sluice serve`), or \
         use another `--data-dir`.";
    StoreCorrupt = "STORE_CORRUPT", "ERR-STO-003", Host, http 500, exit 1, retry No,
        "A record in the store cannot be read back. Restore the data directory from a \
         backup; report it if it recurs.";
    StateQuota = "STATE_QUOTA", "ERR-STO-004", Host, http 500, exit 1, retry No,
        "The plugin's state quota is full; nothing was written. Install it with larger \
         `--state-max-keys` or `--state-max-bytes`, or have it delete keys.";
    StateLimit = "STATE_LIMIT", "ERR-STO-005", Host, http -, exit 1, retry No,
        "A state key or value is over its size limit; nothing was written. Store less per key.";
    StateUnavailable = "STATE_UNAVAILABLE", "ERR-STO-006", Host, http -, exit 1, retry Yes,
        "The plugin's state could not be read or written just now. Retry; check the store if \
         it persists.";
    StoreUnavailable = "STORE_UNAVAILABLE", "ERR-STO-007", Host, http 503, exit 1, retry Yes,
        "The PostgreSQL database the store is kept in cannot be reached (it is down, \
         restarting, or the network to it is). The request was not completed; retry. Runs pause and go \
         on from their journal once it is back.";
    StoreNotEmpty = "STORE_NOT_EMPTY", "ERR-STO-008", Host, http -, exit 2, retry No,
        "`sluice store copy` copies only into a database that holds no records yet, so \
         nothing is mixed or overwritten; nothing was copied. Name a new database, or a new \
         schema of one (`?options=-csearch_path%3DNAME` in the URL).";
    StoreCopyMismatch = "STORE_COPY_MISMATCH", "ERR-STO-009", Host, http -, exit 1, retry No,
        "After `sluice store copy`, a table does not hold as many records in the database as \
         in the data dir (the printed table shows which). The message says whether the \
         destination kept what was written; if it did, drop it and copy again.";

    // SEC: secrets.
    SecretKeyMissing = "SECRET_KEY_MISSING", "ERR-SEC-001", Host, http 400, exit 2, retry No,
        "Secrets (and webhook signing secrets) are sealed under `SLUICE_SECRET_KEY`, which is \
         not set. Set it (create one with `sluice secret keygen`) and start again.";
    SecretKeyInvalid = "SECRET_KEY_INVALID", "ERR-SEC-002", Host, http 400, exit 2, retry No,
        "`SLUICE_SECRET_KEY` is not a key `sluice secret keygen` makes. Set it to the key \
         the secrets were sealed under.";
    SecretUndecryptable = "SECRET_UNDECRYPTABLE", "ERR-SEC-003", Host, http 500, exit 1,
        retry No,
        "A stored secret cannot be opened with this `SLUICE_SECRET_KEY`. Use the key it was \
         sealed under, or store the secret again.";
    SecretNameInvalid = "SECRET_NAME_INVALID", "ERR-SEC-004", Host, http 400, exit 2, retry No,
        "A secret's name must be lower-case letters, digits, `.`, `-` and `_`. Rename it.";
    SecretStoreError = "SECRET_STORE_ERROR", "ERR-SEC-005", Host, http 500, exit 1, retry No,
        "A secret could not be sealed or stored (no randomness, or the store failed). See \
         the message and `STORE_ERROR`.";
    SecretNotFound = "SECRET_NOT_FOUND", "ERR-SEC-006", Host, http 404, exit 2, retry No,
        "No secret of that name is stored. `sluice secret list` lists them.";

    // ROL: custom roles.
    RoleInvalid = "ROLE_INVALID", "ERR-ROL-001", Host, http 400, exit 2, retry No,
        "The role's definition is invalid: a bad or predefined name, no scope, or an unknown \
         scope. See docs/roles.md.";
    RoleNotFound = "ROLE_NOT_FOUND", "ERR-ROL-002", Host, http 404, exit 2, retry No,
        "No custom role of that name. `sluice role list` lists them.";
    RoleExists = "ROLE_EXISTS", "ERR-ROL-003", Host, http 409, exit 2, retry No,
        "A custom role of that name exists. Replace it explicitly, or choose another name.";
    RoleInUse = "ROLE_IN_USE", "ERR-ROL-004", Host, http 409, exit 2, retry No,
        "A saved workflow runs as this role, so it cannot be removed. Change those \
         workflows' `run_as` first; the message names them.";

    // TOK: admin API tokens.
    TokenBadName = "TOKEN_BAD_NAME", "ERR-TOK-001", Host, http 400, exit 2, retry No,
        "A token's name must be 1 to 64 letters, digits, `.`, `-` or `_`. Choose another.";
    TokenExists = "TOKEN_EXISTS", "ERR-TOK-002", Host, http 409, exit 2, retry No,
        "A token of that name exists. Revoke it first, or choose another name.";
    TokenNotFound = "TOKEN_NOT_FOUND", "ERR-TOK-003", Host, http 404, exit 2, retry No,
        "No token of that name. `sluice token list` lists them.";

    // CON: connectors and outbound HTTP.
    ConnectorInvalid = "CONNECTOR_INVALID", "ERR-CON-001", Host, http 400, exit 2, retry No,
        "The connector's definition is invalid (name, base URL, authentication, hosts). \
         The message names the problem; see docs/connectors.md.";
    ConnectorNotFound = "CONNECTOR_NOT_FOUND", "ERR-CON-002", Host, http 404, exit 2, retry No,
        "No connector of that name is defined. `sluice connector list` lists them; define it \
         with `sluice connector add`.";
    ConnectorExists = "CONNECTOR_EXISTS", "ERR-CON-003", Host, http 409, exit 2, retry No,
        "A connector of that name exists. Add it with `--replace`, or choose another name.";
    ConnectorClientError = "CONNECTOR_CLIENT_ERROR", "ERR-CON-004", Host, http -, exit 1,
        retry No,
        "The HTTP client for connectors could not be built (TLS roots). Check the host's \
         certificates.";
    ConnectorSecretMissing = "CONNECTOR_SECRET_MISSING", "ERR-CON-005", Host, http -, exit 1,
        retry No,
        "The connector authenticates with a credential, but none is stored. Store it \
         (`sluice secret set connector.NAME`).";
    ConnectorSecretUnavailable = "CONNECTOR_SECRET_UNAVAILABLE", "ERR-CON-006", Host, http -,
        exit 1, retry No,
        "The connector's credential cannot be opened: start with the same \
         `SLUICE_SECRET_KEY` it was sealed under.";
    ConnectorHostNotAllowed = "CONNECTOR_HOST_NOT_ALLOWED", "ERR-CON-007", Host, http -, exit 1,
        retry No,
        "A request or redirect left the connector's base URL host and its allowed hosts. \
         Add the host with `--allow-host` if it is meant.";
    ConnectorTimeout = "CONNECTOR_TIMEOUT", "ERR-CON-008", Host, http -, exit 1, retry Yes,
        "The external application did not answer within the connector's timeout. Check that \
         it is up, then retry the run from the failed step.";
    ConnectorUnreachable = "CONNECTOR_UNREACHABLE", "ERR-CON-009", Host, http -, exit 1,
        retry Yes,
        "The external application could not be reached. Check that it is up and its address, \
         then retry the run from the failed step.";
    ConnectorRequestFailed = "CONNECTOR_REQUEST_FAILED", "ERR-CON-010", Host, http -, exit 1,
        retry Depends,
        "The request through the connector failed on the way (retryable) or was redirected \
         to an invalid location (not). The message says which.";
    ConnectorResponseTooLarge = "CONNECTOR_RESPONSE_TOO_LARGE", "ERR-CON-011", Host, http -,
        exit 1, retry No,
        "The answer passed the connector's size cap. Raise `--max-response-bytes`, or ask \
         for less.";
    ConnectorTooManyRedirects = "CONNECTOR_TOO_MANY_REDIRECTS", "ERR-CON-012", Host, http -,
        exit 1, retry No,
        "The application redirected too many times. Point the connector at the final URL.";
    InvalidConnector = "INVALID_CONNECTOR", "ERR-CON-013", Host, http -, exit 1, retry No,
        "A connector plugin step's `connector` is not exactly one defined connector's name. \
         Name one connector.";
    InvalidConnectorPath = "INVALID_CONNECTOR_PATH", "ERR-CON-014", Host, http -, exit 1,
        retry No,
        "A connector step's path template did not render to a path. Fix the template.";
    InvalidRequest = "INVALID_REQUEST", "ERR-CON-015", Both, http -, exit 1, retry No,
        "The request the step described is not valid (method, path, header, body, or a state \
         key). The message names the part; fix the step's input.";
    HttpStatus = "HTTP_STATUS", "ERR-CON-016", Catalogue, http -, exit 1, retry Depends,
        "The application answered with a status the step did not expect; retryable on 429 \
         and 5xx. `details` holds the status and body.";
    UnexpectedResponse = "UNEXPECTED_RESPONSE", "ERR-CON-017", Catalogue, http -, exit 1,
        retry No,
        "The application's answer is not of the shape the plugin expects. Check the \
         connector points at the right application and API version.";
    InvalidEmail = "INVALID_EMAIL", "ERR-CON-018", Catalogue, http -, exit 1, retry No,
        "An email address was refused before anything was sent. Correct the address.";

    // JCL: the JumpCloud API.
    JumpcloudNotConfigured = "JUMPCLOUD_NOT_CONFIGURED", "ERR-JCL-001", Host, http -, exit 1,
        retry No,
        "No JumpCloud API is configured for this runtime. Set `SLUICE_JUMPCLOUD_API_KEY` (or \
         a service account), or use the sandbox; see docs/jumpcloud.md.";
    JumpcloudUnavailable = "JUMPCLOUD_UNAVAILABLE", "ERR-JCL-002", Both, http -, exit 1,
        retry Yes,
        "JumpCloud did not answer, or answered with server errors, after every retry. Check \
         status.jumpcloud.com, then retry the run from the failed step.";
    ApiRateLimit = "API_RATE_LIMIT", "ERR-JCL-003", Catalogue, http -, exit 1, retry Yes,
        "JumpCloud's rate limit refused the calls after every retry. Wait a few minutes \
         (lower `SLUICE_JUMPCLOUD_RATE_LIMIT` or run fewer workflows at once if it recurs), \
         then retry the run from the failed step.";
    AuthenticationFailed = "AUTHENTICATION_FAILED", "ERR-JCL-004", Both, http -, exit 1,
        retry Depends,
        "JumpCloud refused the API key or the service account's credentials (or its token \
         endpoint gave no answer: retryable). Check `SLUICE_JUMPCLOUD_API_KEY` or the \
         service account, and that its administrator is active.";
    JumpcloudRequestFailed = "JUMPCLOUD_REQUEST_FAILED", "ERR-JCL-005", Catalogue, http -,
        exit 1, retry No,
        "JumpCloud refused a request with a status no other code covers. The message \
         quotes JumpCloud's answer; correct the input it names.";
    JumpcloudBadResponse = "JUMPCLOUD_BAD_RESPONSE", "ERR-JCL-006", Catalogue, http -, exit 1,
        retry No,
        "JumpCloud's answer could not be read as the plugin expects. Report it with the run's \
         log.";
    OrganizationNotFound = "ORGANIZATION_NOT_FOUND", "ERR-JCL-007", Catalogue, http -, exit 1,
        retry No,
        "JumpCloud does not know the organization. Check `SLUICE_JUMPCLOUD_ORG_ID`.";

    // USR: JumpCloud users.
    UserAlreadyExists = "USER_ALREADY_EXISTS", "ERR-USR-001", Catalogue, http -, exit 1,
        retry No,
        "A JumpCloud user with that username or email exists; nothing was changed. Use the \
         existing account, or choose another username.";
    InvalidUsernameFormat = "INVALID_USERNAME_FORMAT", "ERR-USR-002", Catalogue, http -, exit 1,
        retry No,
        "The username is not one JumpCloud accepts. Correct it (the message gives the rule).";
    InvalidEmailFormat = "INVALID_EMAIL_FORMAT", "ERR-USR-003", Catalogue, http -, exit 1,
        retry No,
        "The user's email address is malformed. Correct it.";
    PasswordPolicyViolation = "PASSWORD_POLICY_VIOLATION", "ERR-USR-004", Catalogue, http -,
        exit 1, retry No,
        "The password breaks the organization's password policy. Generate a longer or more \
         varied one (the workflow's password length).";
    SshKeyInvalid = "SSH_KEY_INVALID", "ERR-USR-005", Catalogue, http -, exit 1, retry No,
        "The SSH public key is not one JumpCloud accepts. Give an OpenSSH public key line.";
    MfaConfigurationFailed = "MFA_CONFIGURATION_FAILED", "ERR-USR-006", Catalogue, http -,
        exit 1, retry Depends,
        "MFA could not be set on the account. Set it in the JumpCloud console, or retry \
         when the error is retryable.";

    // GRP: JumpCloud groups.
    GroupNotFound = "GROUP_NOT_FOUND", "ERR-GRP-001", Catalogue, http -, exit 1, retry No,
        "A group the workflow names does not exist in JumpCloud (`affected_group` names it); \
         the user was added to the others. Create the group or fix the mapping, then add \
         the user to it.";
    GroupMembershipFailed = "GROUP_MEMBERSHIP_FAILED", "ERR-GRP-002", Catalogue, http -,
        exit 1, retry Depends,
        "Adding the user to a group failed. Retry when the error is retryable; otherwise add \
         the membership in the JumpCloud console.";
    GroupAlreadyExists = "GROUP_ALREADY_EXISTS", "ERR-GRP-003", Catalogue, http -, exit 1,
        retry No,
        "A group of that name exists. Use it, or choose another name.";

    // BND: bindings to systems and directories.
    SystemBindingFailed = "SYSTEM_BINDING_FAILED", "ERR-BND-001", Catalogue, http -, exit 1,
        retry Depends,
        "The user could not be bound to a system. Check the system exists and is active; \
         retry when the error is retryable.";
    LdapServerNotFound = "LDAP_SERVER_NOT_FOUND", "ERR-BND-002", Catalogue, http -, exit 1,
        retry No,
        "The LDAP server to bind the user to does not exist in JumpCloud. Check its name.";
}
