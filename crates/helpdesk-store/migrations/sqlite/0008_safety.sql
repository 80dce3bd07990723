-- Images safe to keep: quotas and retention per tenant, malware verdicts,
-- quarantine, and the audit trail.

-- What an operator set for a tenant (`admin tenant set`): the most bytes its
-- live uploaded images may hold, and how long its messages' images are kept
-- (seconds). NULL: no limit.
CREATE TABLE tenant_policies (
    tenant_key   TEXT PRIMARY KEY REFERENCES tenants (tenant_key),
    max_bytes    INTEGER,
    retain_secs  INTEGER,
    updated_at   INTEGER NOT NULL
);

-- The bytes of each tenant's live uploaded images, counted by the triggers
-- below on every insert, delete and import of an image row, so that an
-- upload's quota check reads one row and never sums. Derived: not exported.
CREATE TABLE tenant_usage (
    tenant_key  TEXT PRIMARY KEY,
    used_bytes  INTEGER NOT NULL
);
INSERT INTO tenant_usage (tenant_key, used_bytes)
    SELECT tenant_key, SUM(size) FROM images WHERE deleted_at IS NULL GROUP BY tenant_key;

CREATE TRIGGER images_usage_insert AFTER INSERT ON images WHEN NEW.deleted_at IS NULL
BEGIN
    INSERT INTO tenant_usage (tenant_key, used_bytes) VALUES (NEW.tenant_key, NEW.size)
        ON CONFLICT (tenant_key) DO UPDATE SET used_bytes = used_bytes + excluded.used_bytes;
END;

CREATE TRIGGER images_usage_delete AFTER DELETE ON images WHEN OLD.deleted_at IS NULL
BEGIN
    UPDATE tenant_usage SET used_bytes = used_bytes - OLD.size WHERE tenant_key = OLD.tenant_key;
END;

CREATE TRIGGER images_usage_update AFTER UPDATE OF deleted_at, size, tenant_key ON images
BEGIN
    UPDATE tenant_usage SET used_bytes = used_bytes - OLD.size
        WHERE tenant_key = OLD.tenant_key AND OLD.deleted_at IS NULL;
    INSERT INTO tenant_usage (tenant_key, used_bytes)
        SELECT NEW.tenant_key, NEW.size WHERE NEW.deleted_at IS NULL
        ON CONFLICT (tenant_key) DO UPDATE SET used_bytes = used_bytes + excluded.used_bytes;
END;

-- The last malware scan of some bytes: by which engine and signature
-- version (clamd's VERSION line), and the signature that matched (NULL:
-- clean). A cache: bytes scanned clean by this engine version are not sent
-- again. Not exported.
CREATE TABLE scan_verdicts (
    sha256         TEXT PRIMARY KEY,
    engine         TEXT NOT NULL,
    infected_with  TEXT,
    scanned_at     INTEGER NOT NULL
);

-- Stored bytes a rescan found infected: every image with them answers as
-- deleted, and cleanup keeps the object, until `admin quarantine release`
-- (served again) or `purge` (deleted for good).
CREATE TABLE quarantine (
    sha256          TEXT PRIMARY KEY,
    signature       TEXT NOT NULL,
    engine          TEXT NOT NULL,
    quarantined_at  INTEGER NOT NULL
);

-- Every change made by `admin`, retention, erasure, quarantine and the
-- API's deletes: when (milliseconds), by whom (`admin`, `retention`,
-- `scan`, or an app id), what, and to which tenant and thing. `seq` is
-- this database's order of recording (a copy numbers its own, in the same
-- order); `id` is the entry's everywhere.
CREATE TABLE audit (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    tenant_key  TEXT,
    target      TEXT,
    detail      TEXT NOT NULL
);
CREATE INDEX audit_at ON audit (at);

-- The retention sweep reads only live message images (and erasure a
-- guest's tickets), so that its cost follows what is kept, not history.
CREATE INDEX message_images_live ON message_images (message_pk) WHERE deleted_at IS NULL;
CREATE INDEX tickets_guest ON tickets (guest_open_id);

-- Work one replica does at a time (the retention sweep): the holder until
-- `until_ms`, when another may take it.
CREATE TABLE leases (
    name      TEXT PRIMARY KEY,
    holder    TEXT NOT NULL,
    until_ms  INTEGER NOT NULL
);
