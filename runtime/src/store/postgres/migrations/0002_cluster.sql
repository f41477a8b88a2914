-- Several nodes on one database: who is alive, who holds each unfinished run, who leads.
-- Every time is the database's (now()), so the nodes' clocks need not agree.

-- One row per node that has renewed in the last hour; `info` is its JSON (id, url,
-- version, started_at).
CREATE TABLE nodes (
    id text COLLATE "C" PRIMARY KEY,
    info bytea NOT NULL,
    seen_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

-- One row per unfinished run a node has claimed: the lease its node renews. A run whose
-- lease lapsed is taken over by another node. `executing` marks a run holding one of its
-- workflow's execution slots; `cancel` asks the holder to cancel it.
CREATE TABLE run_leases (
    run text COLLATE "C" PRIMARY KEY,
    workflow text COLLATE "C" NOT NULL,
    node text COLLATE "C" NOT NULL,
    expires_at timestamptz NOT NULL,
    executing boolean NOT NULL DEFAULT false,
    cancel boolean NOT NULL DEFAULT false
);
CREATE INDEX run_leases_expiry ON run_leases (expires_at);
CREATE INDEX run_leases_node ON run_leases (node);
CREATE INDEX run_leases_slots ON run_leases (workflow) WHERE executing;

-- Counters of changes every node must see (`workflows`: a workflow was saved, enabled,
-- disabled or deleted): nodes poll them and drop what they cached.
CREATE TABLE generations (name text COLLATE "C" PRIMARY KEY, n bigint NOT NULL);

-- Elected roles: the node holding a row until it expires holds the role.
CREATE TABLE leaders (
    role text COLLATE "C" PRIMARY KEY,
    node text COLLATE "C" NOT NULL,
    expires_at timestamptz NOT NULL
);
