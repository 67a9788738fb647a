-- People: only what the first conversation needs. Nothing beyond the language is stored
-- before consent; later migrations add what later flows need.
CREATE TABLE person (
    id              INTEGER PRIMARY KEY,
    telegram_id     INTEGER NOT NULL UNIQUE,
    role            TEXT    NOT NULL DEFAULT 'member'
                            CHECK (role IN ('member', 'lotse', 'coordinator')),
    language        TEXT    NOT NULL,
    consent_at      TEXT,
    consent_version TEXT,
    created_at      TEXT    NOT NULL,
    CHECK ((consent_at IS NULL) = (consent_version IS NULL))
);

-- Durable intake: every update is stored here before Telegram is told we have it, handled
-- from here, and its payload erased once handled. Rows stay a while so that a redelivered
-- update_id is recognised and not handled twice.
CREATE TABLE inbox (
    update_id   INTEGER PRIMARY KEY,
    payload     TEXT,
    received_at TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    done_at     TEXT,
    CHECK ((done_at IS NULL) = (payload IS NOT NULL))
);
CREATE INDEX inbox_pending ON inbox (update_id) WHERE done_at IS NULL;
CREATE INDEX inbox_done ON inbox (done_at) WHERE done_at IS NOT NULL;
