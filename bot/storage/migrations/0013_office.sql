-- The office's side: concerns and messages to the office, expenses, confirmations of
-- volunteering, and the calendar entry of a case's appointment.

-- One exchange between a person and the coordination office: a concern about a case
-- (`request_id`, `reason`) or a message written from the main menu. It goes with the person
-- (/delete), and ages out `retention_days` after its last message (bot/storage/retention.py).
CREATE TABLE office_thread (
    id         INTEGER PRIMARY KEY,
    person_id  INTEGER NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('concern', 'message')),
    request_id INTEGER REFERENCES request (id) ON DELETE SET NULL,
    side       TEXT    CHECK (side IN ('person', 'lotse')),  -- who reported a concern
    reason     TEXT,      -- a concern's tapped reason (a key), NULL when typed
    language   TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    last_at    TEXT    NOT NULL
);
CREATE INDEX office_thread_by_person ON office_thread (person_id);
CREATE INDEX office_thread_by_time ON office_thread (last_at);

-- What was said in a thread: `in` from the person, `out` an answer of a coordinator.
CREATE TABLE office_message (
    id         INTEGER PRIMARY KEY,
    thread_id  INTEGER NOT NULL REFERENCES office_thread (id) ON DELETE CASCADE,
    direction  TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    text       TEXT    NOT NULL,
    author_id  INTEGER REFERENCES person (id) ON DELETE SET NULL,
    created_at TEXT    NOT NULL
);
CREATE INDEX office_message_by_thread ON office_message (thread_id);

-- The bot's messages of a thread in the coordinators' and the person's chats: a reply to
-- one of them continues the thread.
CREATE TABLE office_copy (
    channel    TEXT    NOT NULL,
    chat       TEXT    NOT NULL,
    message_id INTEGER NOT NULL,
    thread_id  INTEGER NOT NULL REFERENCES office_thread (id) ON DELETE CASCADE,
    PRIMARY KEY (channel, chat, message_id)
);
CREATE INDEX office_copy_by_thread ON office_copy (thread_id);

-- A Lotse's expense for a case, for reimbursement. The receipt is the channel's reference
-- to the photo, never the photo.
CREATE TABLE expense (
    id              INTEGER PRIMARY KEY,
    lotse_id        INTEGER NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    request_id      INTEGER REFERENCES request (id) ON DELETE SET NULL,
    what            TEXT    NOT NULL,
    cents           INTEGER NOT NULL CHECK (cents > 0),
    receipt_kind    TEXT    CHECK (receipt_kind IN ('photo', 'document')),
    receipt_ref     TEXT,
    receipt_channel TEXT,
    state           TEXT    NOT NULL DEFAULT 'open'
                            CHECK (state IN ('open', 'approved', 'rejected')),
    created_at      TEXT    NOT NULL,
    decided_at      TEXT,
    decided_by      INTEGER REFERENCES person (id) ON DELETE SET NULL
);
CREATE INDEX expense_by_state ON expense (state, created_at);
CREATE INDEX expense_by_lotse ON expense (lotse_id);

-- A Lotse's request for a confirmation of their volunteering in a year; the PDF is made
-- from the cases when it is sent, and not kept.
CREATE TABLE certificate (
    id           INTEGER PRIMARY KEY,
    lotse_id     INTEGER NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    year         INTEGER NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'asked' CHECK (state IN ('asked', 'sent')),
    created_at   TEXT    NOT NULL,
    confirmed_at TEXT,
    confirmed_by INTEGER REFERENCES person (id) ON DELETE SET NULL
);
CREATE INDEX certificate_by_lotse ON certificate (lotse_id, year);

-- The calendar entry of a case's appointment: each move raises the sequence, so calendars
-- update the same entry (UID `case-<id>@…`).
ALTER TABLE request ADD COLUMN calendar_sequence INTEGER NOT NULL DEFAULT 0;
