-- Every delivery attempt of an event, which the outbox's latest state does
-- not keep: the headers sent (the signature's), and the receiver's answer
-- (status, headers, the first 64 KiB of its body as it came) or why there
-- was none (`error`). Written in the transaction that records the attempt's
-- outcome; kept `serve --event-history-days`. Times in milliseconds.
--
-- Keyed by event_id, not seq: a copy (`migrate`) numbers its events anew,
-- the event_id stays. `attempt` counts from 1 and goes on across
-- redeliveries, from `events.attempts_total` (`events.attempts` starts
-- again at 0 on a redelivery: it is the place in the retry schedule).
ALTER TABLE events ADD COLUMN attempts_total INTEGER NOT NULL DEFAULT 0;
-- Attempts made before this migration were not recorded; numbering goes on
-- after them.
UPDATE events SET attempts_total = attempts;

CREATE TABLE event_attempts (
    event_id          TEXT NOT NULL REFERENCES events (event_id) ON DELETE CASCADE,
    attempt           INTEGER NOT NULL,
    started_at        INTEGER NOT NULL,
    duration_ms       INTEGER NOT NULL,
    -- JSON: [[name, value], ...], as sent.
    request_headers   TEXT NOT NULL,
    -- NULL when no answer came (see error).
    status            INTEGER,
    -- JSON: [[name, value], ...], in the order received.
    response_headers  TEXT NOT NULL,
    response_body     BLOB NOT NULL,
    -- The receiver sent more than response_body holds.
    body_truncated    INTEGER NOT NULL,
    error             TEXT,
    PRIMARY KEY (event_id, attempt)
);
CREATE INDEX event_attempts_started ON event_attempts (started_at);
-- Pruning finds the delivered events of long ago.
CREATE INDEX events_delivered ON events (delivered_at) WHERE delivered_at IS NOT NULL;
