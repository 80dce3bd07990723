-- What happened, in the order it committed, for the console's live stream
-- (`GET /live`): a ticket opened or changed, a message posted, an event
-- delivery attempted. Written in the transaction of the change itself, so
-- that every replica's console reads the same feed from the database.
-- Ids and counts only, never content or names (an erased guest leaves
-- nothing readable here); kept `serve --event-history-days`. `at` is in
-- milliseconds.
CREATE TABLE activity (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_key  TEXT NOT NULL,
    -- ticket, ticket_updated, message, attempt
    kind        TEXT NOT NULL,
    ticket_id   TEXT NOT NULL,
    -- The message_id (message), event_id (attempt) or ticket_id (ticket kinds).
    subject     TEXT NOT NULL,
    -- The attempt's number (attempt); 0 for the other kinds.
    number      INTEGER NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX activity_at ON activity (at);
