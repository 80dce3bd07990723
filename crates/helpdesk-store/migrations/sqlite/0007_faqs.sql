-- The app that uploaded an image: `GET /im/v1/images/:key` serves only it
-- (234008 for another app of the tenant). Rows from before have none, and
-- are served to any app of their tenant.
ALTER TABLE images ADD COLUMN app_id TEXT;

-- A helpdesk's FAQ categories, nested by parent_id ('' at the top), in
-- creation order.
CREATE TABLE categories (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    category_id  TEXT NOT NULL UNIQUE,
    helpdesk_id  TEXT NOT NULL REFERENCES helpdesks (helpdesk_id),
    name         TEXT NOT NULL,
    parent_id    TEXT NOT NULL,
    language     TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX categories_helpdesk ON categories (helpdesk_id, seq);

-- FAQs. status: 1 online, 0 deleted (recoverable), 2 deleted for good.
-- Times in milliseconds. `search_grams` is the question and answer as the
-- search's tokens (words, and CJK characters and their pairs: see
-- helpdesk_core::search), indexed by faqs_fts.
CREATE TABLE faqs (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    faq_id           TEXT NOT NULL UNIQUE,
    helpdesk_id      TEXT NOT NULL REFERENCES helpdesks (helpdesk_id),
    question         TEXT NOT NULL,
    answer           TEXT NOT NULL,
    answer_richtext  TEXT NOT NULL,
    category_ids     TEXT NOT NULL,
    tags             TEXT NOT NULL,
    status           INTEGER NOT NULL,
    create_user      TEXT NOT NULL,
    update_user      TEXT NOT NULL,
    create_time      INTEGER NOT NULL,
    update_time      INTEGER NOT NULL,
    search_grams     TEXT NOT NULL
);
CREATE INDEX faqs_helpdesk ON faqs (helpdesk_id, status, seq);

CREATE VIRTUAL TABLE faqs_fts USING fts5(grams, tokenize = 'unicode61');
CREATE TRIGGER faqs_fts_insert AFTER INSERT ON faqs BEGIN
    INSERT INTO faqs_fts (rowid, grams) VALUES (new.seq, new.search_grams);
END;
CREATE TRIGGER faqs_fts_update AFTER UPDATE OF search_grams ON faqs BEGIN
    UPDATE faqs_fts SET grams = new.search_grams WHERE rowid = new.seq;
END;
CREATE TRIGGER faqs_fts_delete AFTER DELETE ON faqs BEGIN
    DELETE FROM faqs_fts WHERE rowid = old.seq;
END;

-- The uploaded images an FAQ's answer holds, by key. While an FAQ holds a
-- key its image row stays live (so its blob is in use); deleting the FAQ
-- for good releases it.
CREATE TABLE faq_images (
    faq_id     TEXT NOT NULL REFERENCES faqs (faq_id),
    image_key  TEXT NOT NULL,
    idx        INTEGER NOT NULL,
    PRIMARY KEY (faq_id, image_key)
);
CREATE INDEX faq_images_image_key ON faq_images (image_key);

-- Bot messages sent to a user (`receive_type` user); those sent to a
-- ticket's chat are messages of that ticket.
CREATE TABLE bot_messages (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id   TEXT NOT NULL UNIQUE,
    app_id       TEXT NOT NULL REFERENCES apps (app_id),
    tenant_key   TEXT NOT NULL REFERENCES tenants (tenant_key),
    receiver_id  TEXT NOT NULL,
    msg_type     TEXT NOT NULL,
    content      TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
