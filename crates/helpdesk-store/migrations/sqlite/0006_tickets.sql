-- The people of a tenant: guests and agents, by open_id. A guest is made
-- on the first ticket that names its open_id; an agent by `admin agent
-- create`.
CREATE TABLE users (
    tenant_key  TEXT NOT NULL REFERENCES tenants (tenant_key),
    open_id     TEXT NOT NULL,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL DEFAULT '',
    avatar_url  TEXT NOT NULL DEFAULT '',
    department  TEXT NOT NULL DEFAULT '',
    city        TEXT NOT NULL DEFAULT '',
    country     TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_key, open_id)
);

-- An agent is a user of the helpdesk's tenant who serves in it; its id is
-- the user's open_id. A disabled agent's user tokens are refused. `seq`
-- is creation order ("the first enabled agent" takes new tickets).
CREATE TABLE agents (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id     TEXT NOT NULL UNIQUE,
    helpdesk_id  TEXT NOT NULL REFERENCES helpdesks (helpdesk_id),
    disabled_at  INTEGER,
    created_at   INTEGER NOT NULL
);
CREATE INDEX agents_helpdesk ON agents (helpdesk_id, seq);

-- What a ticket's life adds. Times in seconds like the rest of the row;
-- the lists are JSON arrays of strings (open_ids, tag names), found with
-- instr() on the quoted value; `field_values` a JSON array of {id, value}.
ALTER TABLE tickets ADD COLUMN closed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN closed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN solved INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN channel INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN score INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN agent_ids TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tickets ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tickets ADD COLUMN comment TEXT;
ALTER TABLE tickets ADD COLUMN field_values TEXT NOT NULL DEFAULT '[]';
-- When the first agent took it (0: no agent yet).
ALTER TABLE tickets ADD COLUMN agent_entry_at INTEGER NOT NULL DEFAULT 0;
-- The list, newest first: each in the list's order (created_at, then
-- ticket_id), so that a page reads only its rows; by status, the list reads
-- one ordered range per status and merges them (see sql/tickets.rs).
CREATE INDEX tickets_helpdesk_status_created ON tickets (helpdesk_id, status, created_at, ticket_id);
CREATE INDEX tickets_helpdesk_created ON tickets (helpdesk_id, created_at, ticket_id);
CREATE INDEX tickets_helpdesk_updated ON tickets (helpdesk_id, updated_at);

-- A helpdesk's ticket fields, in creation order (`seq`). Times in
-- milliseconds (the API's strings).
CREATE TABLE ticket_customized_fields (
    seq                      INTEGER PRIMARY KEY AUTOINCREMENT,
    field_id                 TEXT NOT NULL UNIQUE,
    helpdesk_id              TEXT NOT NULL REFERENCES helpdesks (helpdesk_id),
    key_name                 TEXT NOT NULL,
    display_name             TEXT NOT NULL,
    position                 TEXT NOT NULL,
    field_type               TEXT NOT NULL,
    description              TEXT NOT NULL,
    visible                  INTEGER NOT NULL,
    editable                 INTEGER NOT NULL,
    required                 INTEGER NOT NULL,
    dropdown_allow_multiple  INTEGER NOT NULL,
    dropdown_options         TEXT NOT NULL,
    created_by               TEXT NOT NULL,
    updated_by               TEXT NOT NULL,
    created_at               INTEGER NOT NULL,
    updated_at               INTEGER NOT NULL,
    UNIQUE (helpdesk_id, key_name)
);
CREATE INDEX ticket_customized_fields_helpdesk ON ticket_customized_fields (helpdesk_id, seq);
