-- Where an app's events go, as Feishu's developer console keeps it. The
-- encrypt key and verification token are kept as they are: the server
-- needs them to seal and sign every delivery (like the signing keys).
CREATE TABLE event_configs (
    app_id              TEXT PRIMARY KEY REFERENCES apps (app_id),
    url                 TEXT NOT NULL,
    encrypt_key         TEXT NOT NULL,
    verification_token  TEXT NOT NULL,
    updated_at          BIGINT NOT NULL
);

-- What an app subscribed to, through which helpdesk.
CREATE TABLE event_subscriptions (
    app_id       TEXT NOT NULL REFERENCES apps (app_id),
    helpdesk_id  TEXT NOT NULL REFERENCES helpdesks (helpdesk_id),
    event_type   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (app_id, helpdesk_id, event_type)
);
CREATE INDEX event_subscriptions_helpdesk ON event_subscriptions (helpdesk_id, event_type);

-- The outbox: written in the transaction of the ticket or message that
-- caused the event, delivered at least once, in order per (app, ticket).
-- Times in milliseconds.
CREATE TABLE events (
    seq              BIGSERIAL PRIMARY KEY,
    event_id         TEXT NOT NULL UNIQUE,
    app_id           TEXT NOT NULL REFERENCES apps (app_id),
    ticket_id        TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    body             TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    claimed_until    BIGINT NOT NULL DEFAULT 0,
    delivered_at     BIGINT,
    failed_at        BIGINT,
    last_error       TEXT
);
CREATE INDEX events_app_ticket ON events (app_id, ticket_id, seq);
CREATE INDEX events_pending ON events (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
