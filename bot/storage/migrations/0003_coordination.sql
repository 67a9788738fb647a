-- Coordination: dialogs, timers for more than requests, mailings with per-recipient
-- delivery records, broadcasts, Stammtisch events, the training waiting list.

-- People can leave broadcasts with one tap; the choice is kept.
ALTER TABLE person ADD COLUMN news_off INTEGER NOT NULL DEFAULT 0;

-- Timers now belong to requests, events, trainings and mailings: `subject` is the id of
-- the thing the `kind` (prefixed with what it belongs to) is about.
CREATE TABLE timer_new (
    id      INTEGER PRIMARY KEY,
    kind    TEXT    NOT NULL,
    subject INTEGER NOT NULL,
    due_at  TEXT    NOT NULL,
    done_at TEXT,
    UNIQUE (kind, subject)
);
INSERT INTO timer_new (id, kind, subject, due_at, done_at)
    SELECT id, 'request:' || kind, request_id, due_at, done_at FROM timer;
DROP TABLE timer;
ALTER TABLE timer_new RENAME TO timer;
CREATE INDEX timer_due ON timer (due_at) WHERE done_at IS NULL;
CREATE INDEX timer_by_subject ON timer (subject);

-- A multi-step dialog in progress (a coordinator composing an event, a broadcast or a
-- training; someone joining the waiting list). One per person; it survives restarts.
CREATE TABLE dialog (
    person_id  INTEGER PRIMARY KEY REFERENCES person (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    step       TEXT    NOT NULL,
    data       TEXT    NOT NULL DEFAULT '{}',
    updated_by INTEGER,   -- the update that last changed it: handling it again is a no-op
    updated_at TEXT    NOT NULL
);

-- One message to many people: a broadcast, an event notice, a training notice. Each
-- recipient has a delivery row, so a crash resumes where it stopped and nobody recorded
-- as sent is sent to again.
CREATE TABLE mailing (
    id             INTEGER PRIMARY KEY,
    kind           TEXT    NOT NULL CHECK (kind IN ('broadcast', 'event', 'training')),
    subject        INTEGER NOT NULL,
    variant        TEXT    NOT NULL DEFAULT '',
    status         TEXT    NOT NULL DEFAULT 'sending'
                           CHECK (status IN ('scheduled', 'sending', 'done', 'cancelled')),
    send_at        TEXT    NOT NULL,
    report_chat    INTEGER,   -- the coordinator who sees the progress
    report_message INTEGER,
    created_at     TEXT    NOT NULL,
    started_at     TEXT,
    finished_at    TEXT,
    UNIQUE (kind, subject, variant)
);
CREATE INDEX mailing_by_status ON mailing (status, send_at);

-- A rowid table on purpose: SQLite 3.40 was seen returning NULL for `status` through the
-- covering index below while the table was WITHOUT ROWID and being written.
CREATE TABLE delivery (
    mailing_id INTEGER NOT NULL REFERENCES mailing (id) ON DELETE CASCADE,
    person_id  INTEGER NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    status     TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN
               ('pending', 'sending', 'sent', 'failed', 'blocked', 'unconfirmed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    not_before TEXT,
    message_id INTEGER,
    PRIMARY KEY (mailing_id, person_id)
);
CREATE INDEX delivery_by_status ON delivery (mailing_id, status);
CREATE INDEX delivery_by_person ON delivery (person_id);

CREATE TABLE broadcast (
    id            INTEGER PRIMARY KEY,
    author_id     INTEGER REFERENCES person (id) ON DELETE SET NULL,
    text          TEXT,
    media_kind    TEXT CHECK (media_kind IN ('photo', 'document')),
    media_file_id TEXT,
    language      TEXT    NOT NULL,   -- the language the original is written in
    audience      TEXT    NOT NULL,   -- lotsen | everyone | waitlist | lang:<code>
    created_at    TEXT    NOT NULL
);

CREATE TABLE broadcast_translation (
    broadcast_id INTEGER NOT NULL REFERENCES broadcast (id) ON DELETE CASCADE,
    language     TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    PRIMARY KEY (broadcast_id, language)
);

-- Stammtisch and other dates. A rule (RFC 5545 RRULE in the city's time zone) makes the
-- next dates by itself; each date is an event row, which can be moved or cancelled alone.
CREATE TABLE event_rule (
    id            INTEGER PRIMARY KEY,
    title         TEXT    NOT NULL,
    rrule         TEXT    NOT NULL,
    start_time    TEXT    NOT NULL,   -- HH:MM, city time
    place         TEXT    NOT NULL,
    topics        TEXT    NOT NULL DEFAULT '',   -- newline-separated
    announce_days INTEGER NOT NULL DEFAULT 7,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT    NOT NULL
);

CREATE TABLE event (
    id         INTEGER PRIMARY KEY,
    rule_id    INTEGER REFERENCES event_rule (id) ON DELETE SET NULL,
    occurrence TEXT,      -- the date the rule gave (kept when the date is moved)
    title      TEXT    NOT NULL,
    starts_at  TEXT    NOT NULL,
    place      TEXT    NOT NULL,
    topics     TEXT    NOT NULL DEFAULT '',
    status     TEXT    NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'cancelled')),
    sequence   INTEGER NOT NULL DEFAULT 0,   -- iCalendar SEQUENCE, raised when moved
    created_at TEXT    NOT NULL,
    UNIQUE (rule_id, occurrence)
);
CREATE INDEX event_by_start ON event (starts_at);

CREATE TABLE rsvp (
    event_id    INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
    person_id   INTEGER NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    answer      TEXT    NOT NULL CHECK (answer IN ('yes', 'maybe', 'no')),
    answered_at TEXT    NOT NULL,
    PRIMARY KEY (event_id, person_id)
);
CREATE INDEX rsvp_by_person ON rsvp (person_id);

-- People who want to become a Lotse, in the order they joined.
CREATE TABLE waitlist (
    id         INTEGER PRIMARY KEY,
    person_id  INTEGER NOT NULL UNIQUE REFERENCES person (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    contact    TEXT,                 -- NULL: Telegram is enough
    languages  TEXT    NOT NULL DEFAULT '',
    district   TEXT,
    status     TEXT    NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'trained')),
    joined_at  TEXT    NOT NULL,
    called_at  TEXT                  -- the last training announced to them
);
CREATE INDEX waitlist_by_status ON waitlist (status, id);

CREATE TABLE training (
    id         INTEGER PRIMARY KEY,
    starts_at  TEXT    NOT NULL,
    place      TEXT    NOT NULL,
    capacity   INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 500),
    confirm_by TEXT    NOT NULL,
    status     TEXT    NOT NULL DEFAULT 'announced' CHECK (status IN ('announced', 'held')),
    created_at TEXT    NOT NULL
);

-- An answer to a training announcement; `seat` is decided in the order of confirmations.
-- The rowid keeps the order of the answers: reserves move up in that order.
CREATE TABLE training_seat (
    id           INTEGER PRIMARY KEY,
    training_id  INTEGER NOT NULL REFERENCES training (id) ON DELETE CASCADE,
    entry_id     INTEGER NOT NULL REFERENCES waitlist (id) ON DELETE CASCADE,
    answer       TEXT    NOT NULL CHECK (answer IN ('yes', 'no')),
    seat         TEXT    CHECK (seat IN ('place', 'reserve')),
    answered_at  TEXT    NOT NULL,
    UNIQUE (training_id, entry_id)
);
