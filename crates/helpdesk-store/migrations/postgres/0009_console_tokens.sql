-- Tokens that sign in to the inspector console (`admin console-token`),
-- kept as SHA-256 digests. A tenant's token sees that tenant only; one
-- without a tenant sees all. A revoked token's sessions end at their next
-- request.
CREATE TABLE console_tokens (
    token_id      TEXT PRIMARY KEY,
    token_sha256  TEXT NOT NULL UNIQUE,
    tenant_key    TEXT REFERENCES tenants (tenant_key),
    read_only     BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
