-- The office console in the browser: one-time sign-in links and sessions, each bound to a
-- coordinator. Neither the link's token nor the session's id is stored, only their SHA-256
-- (a copy of the database signs nobody in). Both are deleted once expired, on the
-- retention sweep (PRIVACY.md), and with the coordinator.
CREATE TABLE console_link (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT    NOT NULL UNIQUE,
    person_id  INTEGER NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    created_at TEXT    NOT NULL,
    expires_at TEXT    NOT NULL,
    used_at    TEXT
);
CREATE INDEX console_link_by_person ON console_link (person_id, created_at);

-- `seen_at`: the last request (30 minutes idle end it); `ends_at`: the latest end (8 hours
-- after signing in); `csrf`: the token every form of the session carries.
CREATE TABLE console_session (
    id         INTEGER PRIMARY KEY,
    id_hash    TEXT    NOT NULL UNIQUE,
    person_id  INTEGER NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    csrf       TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    seen_at    TEXT    NOT NULL,
    ends_at    TEXT    NOT NULL
);
CREATE INDEX console_session_by_person ON console_session (person_id);

-- The audit log also records what was done through the console ('console'). SQLite cannot
-- change a CHECK constraint: the table is built anew with the same rows.
CREATE TABLE audit_new (
    id         INTEGER PRIMARY KEY,
    at         TEXT    NOT NULL,
    via        TEXT    NOT NULL DEFAULT 'bot' CHECK (via IN ('bot', 'cli', 'console')),
    actor_id   INTEGER REFERENCES person (id) ON DELETE SET NULL,
    action     TEXT    NOT NULL,
    subject_id INTEGER REFERENCES person (id) ON DELETE SET NULL,
    request_id INTEGER REFERENCES request (id) ON DELETE SET NULL
);
INSERT INTO audit_new (id, at, via, actor_id, action, subject_id, request_id)
    SELECT id, at, via, actor_id, action, subject_id, request_id FROM audit;
DROP TABLE audit;
ALTER TABLE audit_new RENAME TO audit;
CREATE INDEX audit_by_time ON audit (at);
CREATE INDEX audit_by_subject ON audit (subject_id);
CREATE INDEX audit_by_actor ON audit (actor_id);
