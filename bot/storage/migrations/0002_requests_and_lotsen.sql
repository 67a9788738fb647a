-- Lotsen, invitations, help requests, offers, relayed messages and timers.

-- Set when Telegram answers 403 (the person blocked the bot); cleared when they write again.
ALTER TABLE person ADD COLUMN unreachable_at TEXT;

CREATE TABLE lotse (
    person_id    INTEGER PRIMARY KEY REFERENCES person (id) ON DELETE CASCADE,
    first_name   TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'active'
                         CHECK (status IN ('pending', 'active', 'rejected')),
    districts    TEXT    NOT NULL DEFAULT '',   -- newline-separated Stadtteile; empty = all
    topics       TEXT    NOT NULL DEFAULT '',   -- newline-separated topic keys; empty = all
    max_open     INTEGER NOT NULL DEFAULT 2 CHECK (max_open BETWEEN 1 AND 20),
    paused_until TEXT,
    quiet_from   INTEGER CHECK (quiet_from BETWEEN 0 AND 23),
    quiet_to     INTEGER CHECK (quiet_to BETWEEN 0 AND 23),
    created_at   TEXT    NOT NULL
);

-- Languages a Lotse speaks: a table of its own so that matching can filter in SQL.
-- Columns in primary-key order: SQLite 3.40's quick_check misreports NOT NULL otherwise.
CREATE TABLE lotse_language (
    language  TEXT    NOT NULL,
    person_id INTEGER NOT NULL REFERENCES lotse (person_id) ON DELETE CASCADE,
    PRIMARY KEY (language, person_id)
) WITHOUT ROWID;
CREATE INDEX lotse_language_by_person ON lotse_language (person_id);

CREATE TABLE invite (
    code       TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    used_by    INTEGER REFERENCES person (id) ON DELETE SET NULL,
    used_at    TEXT
);

CREATE TABLE request (
    id             INTEGER PRIMARY KEY,
    person_id      INTEGER REFERENCES person (id) ON DELETE SET NULL,
    status         TEXT    NOT NULL DEFAULT 'draft' CHECK (status IN
                   ('draft', 'open', 'offered', 'accepted', 'done', 'cancelled', 'expired')),
    step           TEXT,
    topic          TEXT,
    description    TEXT,
    media_kind     TEXT CHECK (media_kind IN ('voice', 'photo', 'document')),
    media_file_id  TEXT,
    languages      TEXT    NOT NULL DEFAULT '',
    district       TEXT,
    day            TEXT,      -- appointment day (ISO date, city time), NULL = flexible
    time           TEXT,      -- appointment time HH:MM, NULL = not fixed
    place          TEXT,
    first_name     TEXT,
    round          INTEGER NOT NULL DEFAULT 0,
    lotse_id       INTEGER REFERENCES person (id) ON DELETE SET NULL,
    hours          REAL,
    feedback       TEXT,      -- the person's one-tap answer after the case
    lotse_feedback TEXT,      -- the Lotse's
    updated_by     INTEGER,   -- the update that last changed it: handling it again is a no-op
    created_at     TEXT    NOT NULL,
    confirmed_at   TEXT,
    accepted_at    TEXT,
    closed_at      TEXT
);
CREATE UNIQUE INDEX request_one_draft ON request (person_id) WHERE status = 'draft';
CREATE INDEX request_by_person ON request (person_id, status);
CREATE INDEX request_by_lotse ON request (lotse_id, status);
CREATE INDEX request_by_status ON request (status, confirmed_at);

CREATE TABLE offer (
    request_id INTEGER NOT NULL REFERENCES request (id) ON DELETE CASCADE,
    lotse_id   INTEGER NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    round      INTEGER NOT NULL,
    status     TEXT    NOT NULL DEFAULT 'open'
                       CHECK (status IN ('open', 'declined', 'accepted', 'closed')),
    message_id INTEGER,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (request_id, lotse_id)
);
CREATE INDEX offer_by_lotse ON offer (lotse_id, created_at);

-- Messages relayed between the two sides of a case; message_id is the copy in the
-- receiver's chat, so that a reply to it finds the case.
CREATE TABLE relay (
    id            INTEGER PRIMARY KEY,
    request_id    INTEGER NOT NULL REFERENCES request (id) ON DELETE CASCADE,
    receiver_chat INTEGER NOT NULL,
    message_id    INTEGER NOT NULL,
    created_at    TEXT    NOT NULL
);
CREATE INDEX relay_by_message ON relay (receiver_chat, message_id);

-- Everything that must happen at a time: escalations, expiry, reminders. The scheduler
-- is rebuilt from this table at start; a row is done exactly once.
CREATE TABLE timer (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL,
    request_id INTEGER NOT NULL REFERENCES request (id) ON DELETE CASCADE,
    due_at     TEXT    NOT NULL,
    done_at    TEXT,
    UNIQUE (kind, request_id)
);
CREATE INDEX timer_due ON timer (due_at) WHERE done_at IS NULL;
