-- Metadata of the embedded backend. Secrets are stored only as SHA-256 digests.

CREATE TABLE server_keys (
    name        TEXT PRIMARY KEY,
    value       BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE tenants (
    tenant_key  TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE apps (
    app_id             TEXT PRIMARY KEY,
    tenant_key         TEXT NOT NULL REFERENCES tenants (tenant_key),
    name               TEXT NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('custom', 'store')),
    scopes             TEXT NOT NULL,          -- space-separated
    secret_sha256      TEXT NOT NULL,
    tokens_not_before  INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL
);

CREATE TABLE helpdesks (
    helpdesk_id    TEXT PRIMARY KEY,
    tenant_key     TEXT NOT NULL REFERENCES tenants (tenant_key),
    name           TEXT NOT NULL,
    token_sha256   TEXT NOT NULL,
    created_at     INTEGER NOT NULL
);

-- One row per stored object: content-addressed, shared by every image that
-- has these bytes, whatever its tenant.
CREATE TABLE blobs (
    sha256        TEXT PRIMARY KEY,
    size          INTEGER NOT NULL,
    content_type  TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE images (
    image_key     TEXT PRIMARY KEY,
    tenant_key    TEXT NOT NULL REFERENCES tenants (tenant_key),
    sha256        TEXT NOT NULL,
    size          INTEGER NOT NULL,
    content_type  TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    deleted_at    INTEGER,
    created_at    INTEGER NOT NULL
);
CREATE INDEX images_sha256 ON images (sha256);

CREATE TABLE tickets (
    ticket_id        TEXT PRIMARY KEY,
    helpdesk_id      TEXT NOT NULL REFERENCES helpdesks (helpdesk_id),
    chat_id          TEXT NOT NULL UNIQUE,
    guest_open_id    TEXT NOT NULL,
    human_service    INTEGER NOT NULL,
    customized_info  TEXT,
    status           INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

CREATE TABLE messages (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    message_id    TEXT NOT NULL UNIQUE,
    ticket_id     TEXT NOT NULL REFERENCES tickets (ticket_id),
    message_type  TEXT NOT NULL,
    content       TEXT NOT NULL,
    image_count   INTEGER NOT NULL,
    user_id       TEXT NOT NULL,
    user_name     TEXT NOT NULL,
    avatar_url    TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX messages_ticket_time ON messages (ticket_id, created_at, seq);

-- The images a message holds, by position (`index`), with what serving one
-- needs copied in so that a download is one indexed lookup.
CREATE TABLE message_images (
    message_pk    TEXT NOT NULL REFERENCES messages (id),
    idx           INTEGER NOT NULL,
    image_key     TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    size          INTEGER NOT NULL,
    content_type  TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    deleted_at    INTEGER,
    PRIMARY KEY (message_pk, idx)
);
CREATE INDEX message_images_sha256 ON message_images (sha256);
