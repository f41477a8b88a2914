-- Every table of the store. Identifiers are text in the "C" collation, so they sort by
-- their bytes as in the embedded store (run ids start with a zero-padded timestamp: newest
-- first is descending id order); documents are the JSON bytes the runtime wrote.

CREATE TABLE runs (id text COLLATE "C" PRIMARY KEY, record bytea NOT NULL);
-- A run's step records in write order (seq).
CREATE TABLE journal (
    seq bigserial PRIMARY KEY,
    run text COLLATE "C" NOT NULL,
    record bytea NOT NULL
);
CREATE INDEX journal_run ON journal (run, seq);
-- Write-only run input, kept only while the run is unfinished.
CREATE TABLE run_inputs (run text COLLATE "C" PRIMARY KEY, input bytea NOT NULL);

CREATE TABLE workflows (name text COLLATE "C" PRIMARY KEY, record bytea NOT NULL);
CREATE TABLE workflow_versions (
    name text COLLATE "C" NOT NULL,
    version bigint NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE TABLE tokens (hash text COLLATE "C" PRIMARY KEY, record bytea NOT NULL);
CREATE TABLE audit (seq bigserial PRIMARY KEY, entry bytea NOT NULL);
CREATE TABLE triggers (key text COLLATE "C" PRIMARY KEY, value bytea NOT NULL);
-- One row per schedule fire or event delivery that started a run.
CREATE TABLE fires (fire text COLLATE "C" PRIMARY KEY, run text COLLATE "C" NOT NULL);
-- When fire keys are forgotten (Unix seconds).
CREATE TABLE fire_expiry (
    at bigint NOT NULL,
    fire text COLLATE "C" NOT NULL,
    PRIMARY KEY (at, fire)
);

CREATE TABLE plugins (id text COLLATE "C" PRIMARY KEY, record bytea NOT NULL);
-- Installed components' bytes by sha256 (hex).
CREATE TABLE blobs (digest text COLLATE "C" PRIMARY KEY, bytes bytea NOT NULL);
CREATE TABLE trusted_keys (name text COLLATE "C" PRIMARY KEY, record bytea NOT NULL);
CREATE TABLE settings (key text COLLATE "C" PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE secrets (name text COLLATE "C" PRIMARY KEY, sealed bytea NOT NULL);
CREATE TABLE connectors (name text COLLATE "C" PRIMARY KEY, def bytea NOT NULL);
CREATE TABLE roles (name text COLLATE "C" PRIMARY KEY, record bytea NOT NULL);

-- Plugins' state: bytes throughout, since a plugin may put any string in a key or value.
CREATE TABLE state (
    workflow bytea NOT NULL,
    owner bytea NOT NULL,
    key bytea NOT NULL,
    value bytea NOT NULL,
    PRIMARY KEY (workflow, owner, key)
);
-- Per owner: its key count and bytes (keys plus values), kept with every write.
CREATE TABLE state_usage (
    owner bytea PRIMARY KEY,
    keys bigint NOT NULL,
    bytes bigint NOT NULL
);

-- The embedded JumpCloud simulator's directory: one snapshot, and the changes after it.
CREATE TABLE simulator_snapshot (
    id smallint PRIMARY KEY CHECK (id = 1),
    snapshot bytea NOT NULL
);
CREATE TABLE simulator_log (seq bigserial PRIMARY KEY, change bytea NOT NULL);
