BEGIN TRANSACTION;
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
INSERT INTO "broadcast" VALUES(1,1,'Stammtisch am Mittwoch um 18 Uhr im Treffpunkt Altstadt',NULL,NULL,'de','everyone','2026-11-24T09:50:00+00:00');
CREATE TABLE broadcast_translation (
    broadcast_id INTEGER NOT NULL REFERENCES broadcast (id) ON DELETE CASCADE,
    language     TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    PRIMARY KEY (broadcast_id, language)
);
CREATE TABLE case_notice (
    request_id INTEGER NOT NULL REFERENCES request (id) ON DELETE CASCADE,
    what       TEXT    NOT NULL,
    lotse_id   INTEGER NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    side       TEXT    NOT NULL CHECK (side IN ('lotse', 'person')),
    status     TEXT    NOT NULL DEFAULT 'sending' CHECK (status IN ('sending', 'sent', 'failed')),
    created_at TEXT    NOT NULL,
    PRIMARY KEY (request_id, what, lotse_id, side)
);
INSERT INTO "case_notice" VALUES(1,'accepted',2,'lotse','sent','2026-11-24T09:19:00+00:00');
INSERT INTO "case_notice" VALUES(1,'accepted',2,'person','sent','2026-11-24T09:19:00+00:00');
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
INSERT INTO "delivery" VALUES(1,1,'sent',1,NULL,61);
INSERT INTO "delivery" VALUES(1,2,'sent',1,NULL,58);
INSERT INTO "delivery" VALUES(1,3,'sent',1,NULL,59);
INSERT INTO "delivery" VALUES(1,4,'sent',1,NULL,60);
CREATE TABLE dialog (
    person_id  INTEGER PRIMARY KEY REFERENCES person (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    step       TEXT    NOT NULL,
    data       TEXT    NOT NULL DEFAULT '{}',
    updated_by INTEGER,   -- the update that last changed it: handling it again is a no-op
    updated_at TEXT    NOT NULL
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
CREATE TABLE inbox (
    update_id   INTEGER PRIMARY KEY,
    payload     TEXT,
    received_at TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    done_at     TEXT,
    CHECK ((done_at IS NULL) = (payload IS NOT NULL))
);
INSERT INTO "inbox" VALUES(1,NULL,'2026-11-24T09:00:00+00:00',1,'2026-11-24T09:00:00+00:00');
INSERT INTO "inbox" VALUES(2,NULL,'2026-11-24T09:00:00+00:00',1,'2026-11-24T09:00:00+00:00');
INSERT INTO "inbox" VALUES(3,NULL,'2026-11-24T09:00:00+00:00',1,'2026-11-24T09:00:00+00:00');
INSERT INTO "inbox" VALUES(4,NULL,'2026-11-24T09:03:00+00:00',1,'2026-11-24T09:03:00+00:00');
INSERT INTO "inbox" VALUES(5,NULL,'2026-11-24T09:03:00+00:00',1,'2026-11-24T09:03:00+00:00');
INSERT INTO "inbox" VALUES(6,NULL,'2026-11-24T09:03:00+00:00',1,'2026-11-24T09:03:00+00:00');
INSERT INTO "inbox" VALUES(7,NULL,'2026-11-24T09:03:00+00:00',1,'2026-11-24T09:03:00+00:00');
INSERT INTO "inbox" VALUES(8,NULL,'2026-11-24T09:03:00+00:00',1,'2026-11-24T09:03:00+00:00');
INSERT INTO "inbox" VALUES(9,NULL,'2026-11-24T09:08:00+00:00',1,'2026-11-24T09:08:00+00:00');
INSERT INTO "inbox" VALUES(10,NULL,'2026-11-24T09:08:00+00:00',1,'2026-11-24T09:08:00+00:00');
INSERT INTO "inbox" VALUES(11,NULL,'2026-11-24T09:08:00+00:00',1,'2026-11-24T09:08:00+00:00');
INSERT INTO "inbox" VALUES(12,NULL,'2026-11-24T09:08:00+00:00',1,'2026-11-24T09:08:00+00:00');
INSERT INTO "inbox" VALUES(13,NULL,'2026-11-24T09:08:00+00:00',1,'2026-11-24T09:08:00+00:00');
INSERT INTO "inbox" VALUES(14,NULL,'2026-11-24T09:15:00+00:00',1,'2026-11-24T09:15:00+00:00');
INSERT INTO "inbox" VALUES(15,NULL,'2026-11-24T09:15:00+00:00',1,'2026-11-24T09:15:00+00:00');
INSERT INTO "inbox" VALUES(16,NULL,'2026-11-24T09:15:00+00:00',1,'2026-11-24T09:15:00+00:00');
INSERT INTO "inbox" VALUES(17,NULL,'2026-11-24T09:15:00+00:00',1,'2026-11-24T09:15:00+00:00');
INSERT INTO "inbox" VALUES(18,NULL,'2026-11-24T09:15:00+00:00',1,'2026-11-24T09:15:00+00:00');
INSERT INTO "inbox" VALUES(19,NULL,'2026-11-24T09:15:00+00:00',1,'2026-11-24T09:15:00+00:00');
INSERT INTO "inbox" VALUES(20,NULL,'2026-11-24T09:15:00+00:00',1,'2026-11-24T09:15:00+00:00');
INSERT INTO "inbox" VALUES(21,NULL,'2026-11-24T09:15:00+00:00',1,'2026-11-24T09:15:00+00:00');
INSERT INTO "inbox" VALUES(22,NULL,'2026-11-24T09:15:00+00:00',1,'2026-11-24T09:15:00+00:00');
INSERT INTO "inbox" VALUES(23,NULL,'2026-11-24T09:15:00+00:00',1,'2026-11-24T09:15:00+00:00');
INSERT INTO "inbox" VALUES(24,NULL,'2026-11-24T09:15:00+00:00',1,'2026-11-24T09:15:00+00:00');
INSERT INTO "inbox" VALUES(25,NULL,'2026-11-24T09:15:00+00:00',1,'2026-11-24T09:15:00+00:00');
INSERT INTO "inbox" VALUES(26,NULL,'2026-11-24T09:19:00+00:00',1,'2026-11-24T09:19:00+00:00');
INSERT INTO "inbox" VALUES(27,NULL,'2026-11-24T09:21:00+00:00',1,'2026-11-24T09:21:00+00:00');
INSERT INTO "inbox" VALUES(28,NULL,'2026-11-24T09:27:00+00:00',1,'2026-11-24T09:27:00+00:00');
INSERT INTO "inbox" VALUES(29,NULL,'2026-11-24T09:36:00+00:00',1,'2026-11-24T09:36:00+00:00');
INSERT INTO "inbox" VALUES(30,NULL,'2026-11-24T09:36:00+00:00',1,'2026-11-24T09:36:00+00:00');
INSERT INTO "inbox" VALUES(31,NULL,'2026-11-24T09:36:00+00:00',1,'2026-11-24T09:36:00+00:00');
INSERT INTO "inbox" VALUES(32,NULL,'2026-11-24T09:36:00+00:00',1,'2026-11-24T09:36:00+00:00');
INSERT INTO "inbox" VALUES(33,NULL,'2026-11-24T09:36:00+00:00',1,'2026-11-24T09:36:00+00:00');
INSERT INTO "inbox" VALUES(34,NULL,'2026-11-24T09:36:00+00:00',1,'2026-11-24T09:36:00+00:00');
INSERT INTO "inbox" VALUES(35,NULL,'2026-11-24T09:36:00+00:00',1,'2026-11-24T09:36:00+00:00');
INSERT INTO "inbox" VALUES(36,NULL,'2026-11-24T09:36:00+00:00',1,'2026-11-24T09:36:00+00:00');
INSERT INTO "inbox" VALUES(37,NULL,'2026-11-24T09:36:00+00:00',1,'2026-11-24T09:36:00+00:00');
INSERT INTO "inbox" VALUES(38,NULL,'2026-11-24T09:36:00+00:00',1,'2026-11-24T09:36:00+00:00');
INSERT INTO "inbox" VALUES(39,NULL,'2026-11-24T09:36:00+00:00',1,'2026-11-24T09:36:00+00:00');
INSERT INTO "inbox" VALUES(40,NULL,'2026-11-24T09:50:00+00:00',1,'2026-11-24T09:50:00+00:00');
INSERT INTO "inbox" VALUES(41,NULL,'2026-11-24T09:50:00+00:00',1,'2026-11-24T09:50:00+00:00');
INSERT INTO "inbox" VALUES(42,NULL,'2026-11-24T09:50:00+00:00',1,'2026-11-24T09:50:00+00:00');
INSERT INTO "inbox" VALUES(43,NULL,'2026-11-24T09:50:00+00:00',1,'2026-11-24T09:50:00+00:00');
CREATE TABLE invite (
    code       TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    used_by    INTEGER REFERENCES person (id) ON DELETE SET NULL,
    used_at    TEXT
);
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
, open_cases INTEGER NOT NULL DEFAULT 0, recent_offers INTEGER NOT NULL DEFAULT 0);
INSERT INTO "lotse" VALUES(2,'Jonas','active','','',2,NULL,NULL,NULL,'2026-11-24T09:03:00+00:00',1,1);
CREATE TABLE lotse_language (
    language  TEXT    NOT NULL,
    person_id INTEGER NOT NULL REFERENCES lotse (person_id) ON DELETE CASCADE, open_cases INTEGER NOT NULL DEFAULT 0, recent_offers INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (language, person_id)
) WITHOUT ROWID;
INSERT INTO "lotse_language" VALUES('ar',2,1,1);
INSERT INTO "lotse_language" VALUES('de',2,1,1);
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
INSERT INTO "mailing" VALUES(1,'broadcast',1,'','done','2026-11-24T09:50:00+00:00',9000,57,'2026-11-24T09:50:00+00:00','2026-11-24T09:50:00+00:00','2026-11-24T09:50:00+00:00');
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
INSERT INTO "offer" VALUES(1,2,1,'accepted',31,'2026-11-24T09:15:00+00:00');
CREATE TABLE offer_window (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    since TEXT    NOT NULL
);
INSERT INTO "offer_window" VALUES(1,'');
CREATE TABLE person (
    id              INTEGER PRIMARY KEY,
    telegram_id     INTEGER NOT NULL UNIQUE,
    role            TEXT    NOT NULL DEFAULT 'member'
                            CHECK (role IN ('member', 'lotse', 'coordinator')),
    language        TEXT    NOT NULL,
    consent_at      TEXT,
    consent_version TEXT,
    created_at      TEXT    NOT NULL, unreachable_at TEXT, news_off INTEGER NOT NULL DEFAULT 0, withdrawn_at TEXT, seen_at TEXT,
    CHECK ((consent_at IS NULL) = (consent_version IS NULL))
);
INSERT INTO "person" VALUES(1,9000,'member','de','2026-11-24T09:00:00+00:00','1','2026-11-24T09:00:00+00:00',NULL,0,NULL,'2026-11-24T09:00:00+00:00');
INSERT INTO "person" VALUES(2,7101,'lotse','de','2026-11-24T09:03:00+00:00','1','2026-11-24T09:03:00+00:00',NULL,0,NULL,'2026-11-24T09:03:00+00:00');
INSERT INTO "person" VALUES(3,7102,'member','ar','2026-11-24T09:15:00+00:00','1','2026-11-24T09:15:00+00:00',NULL,0,NULL,'2026-11-24T09:15:00+00:00');
INSERT INTO "person" VALUES(4,7103,'member','uk','2026-11-24T09:36:00+00:00','1','2026-11-24T09:36:00+00:00',NULL,0,NULL,'2026-11-24T09:36:00+00:00');
CREATE TABLE relay (
    id            INTEGER PRIMARY KEY,
    request_id    INTEGER NOT NULL REFERENCES request (id) ON DELETE CASCADE,
    receiver_chat INTEGER NOT NULL,
    message_id    INTEGER NOT NULL,
    created_at    TEXT    NOT NULL
, kind TEXT NOT NULL DEFAULT 'text'
    CHECK (kind IN ('text', 'media', 'own')));
INSERT INTO "relay" VALUES(1,1,7101,32,'2026-11-24T09:19:00+00:00','text');
INSERT INTO "relay" VALUES(2,1,7102,33,'2026-11-24T09:19:00+00:00','text');
INSERT INTO "relay" VALUES(3,1,7101,35,'2026-11-24T09:21:00+00:00','text');
INSERT INTO "relay" VALUES(4,1,7102,34,'2026-11-24T09:21:00+00:00','own');
INSERT INTO "relay" VALUES(5,1,7102,36,'2026-11-24T09:21:00+00:00','text');
INSERT INTO "relay" VALUES(6,1,7102,38,'2026-11-24T09:27:00+00:00','text');
INSERT INTO "relay" VALUES(7,1,7101,37,'2026-11-24T09:27:00+00:00','own');
INSERT INTO "relay" VALUES(8,1,7101,39,'2026-11-24T09:27:00+00:00','text');
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
, active_at TEXT, idle_warned_at TEXT);
INSERT INTO "request" VALUES(1,3,'accepted',NULL,'jobcenter','رسالة من Jobcenter',NULL,NULL,'ar','Altstadt',NULL,NULL,NULL,'Amal',1,2,NULL,NULL,NULL,25,'2026-11-24T09:15:00+00:00','2026-11-24T09:15:00+00:00','2026-11-24T09:19:00+00:00',NULL,'2026-11-24T09:27:00+00:00',NULL);
CREATE TABLE rsvp (
    event_id    INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
    person_id   INTEGER NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    answer      TEXT    NOT NULL CHECK (answer IN ('yes', 'maybe', 'no')),
    answered_at TEXT    NOT NULL,
    PRIMARY KEY (event_id, person_id)
);
CREATE TABLE "timer" (
    id      INTEGER PRIMARY KEY,
    kind    TEXT    NOT NULL,
    subject INTEGER NOT NULL,
    due_at  TEXT    NOT NULL,
    done_at TEXT,
    UNIQUE (kind, subject)
);
CREATE TABLE training (
    id         INTEGER PRIMARY KEY,
    starts_at  TEXT    NOT NULL,
    place      TEXT    NOT NULL,
    capacity   INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 500),
    confirm_by TEXT    NOT NULL,
    status     TEXT    NOT NULL DEFAULT 'announced' CHECK (status IN ('announced', 'held')),
    created_at TEXT    NOT NULL
);
CREATE TABLE training_seat (
    id           INTEGER PRIMARY KEY,
    training_id  INTEGER NOT NULL REFERENCES training (id) ON DELETE CASCADE,
    entry_id     INTEGER NOT NULL REFERENCES waitlist (id) ON DELETE CASCADE,
    answer       TEXT    NOT NULL CHECK (answer IN ('yes', 'no')),
    seat         TEXT    CHECK (seat IN ('place', 'reserve')),
    answered_at  TEXT    NOT NULL,
    UNIQUE (training_id, entry_id)
);
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
INSERT INTO "waitlist" VALUES(1,4,'Mira Beispiel',NULL,'uk,de','Altendorf-Ulfkotte','waiting','2026-11-24T09:36:00+00:00',NULL);
CREATE INDEX inbox_pending ON inbox (update_id) WHERE done_at IS NULL;
CREATE INDEX inbox_done ON inbox (done_at) WHERE done_at IS NOT NULL;
CREATE INDEX lotse_language_by_person ON lotse_language (person_id);
CREATE UNIQUE INDEX request_one_draft ON request (person_id) WHERE status = 'draft';
CREATE INDEX request_by_person ON request (person_id, status);
CREATE INDEX request_by_lotse ON request (lotse_id, status);
CREATE INDEX request_by_status ON request (status, confirmed_at);
CREATE INDEX offer_by_lotse ON offer (lotse_id, created_at);
CREATE INDEX relay_by_message ON relay (receiver_chat, message_id);
CREATE INDEX timer_due ON timer (due_at) WHERE done_at IS NULL;
CREATE INDEX timer_by_subject ON timer (subject);
CREATE INDEX mailing_by_status ON mailing (status, send_at);
CREATE INDEX delivery_by_status ON delivery (mailing_id, status);
CREATE INDEX delivery_by_person ON delivery (person_id);
CREATE INDEX event_by_start ON event (starts_at);
CREATE INDEX rsvp_by_person ON rsvp (person_id);
CREATE INDEX waitlist_by_status ON waitlist (status, id);
CREATE INDEX offer_by_time ON offer (created_at);
CREATE INDEX lotse_language_by_load
    ON lotse_language (language, open_cases, recent_offers, person_id);
CREATE TRIGGER lotse_load_mirrored AFTER UPDATE OF open_cases, recent_offers ON lotse
BEGIN
    UPDATE lotse_language SET open_cases = NEW.open_cases, recent_offers = NEW.recent_offers
    WHERE person_id = NEW.person_id;
END;
CREATE TRIGGER language_load_at_start AFTER INSERT ON lotse_language
BEGIN
    UPDATE lotse_language SET
        open_cases = (SELECT l.open_cases FROM lotse l WHERE l.person_id = NEW.person_id),
        recent_offers = (SELECT l.recent_offers FROM lotse l WHERE l.person_id = NEW.person_id)
    WHERE language = NEW.language AND person_id = NEW.person_id;
END;
CREATE TRIGGER lotse_load_at_start AFTER INSERT ON lotse
BEGIN
    UPDATE lotse SET
        open_cases = (SELECT count(*) FROM request r
                      WHERE r.lotse_id = NEW.person_id AND r.status = 'accepted'),
        recent_offers = (SELECT count(*) FROM offer o WHERE o.lotse_id = NEW.person_id
                         AND o.created_at >= (SELECT since FROM offer_window))
    WHERE person_id = NEW.person_id;
END;
CREATE TRIGGER case_opened AFTER INSERT ON request
WHEN NEW.status = 'accepted' AND NEW.lotse_id IS NOT NULL
BEGIN
    UPDATE lotse SET open_cases = open_cases + 1 WHERE person_id = NEW.lotse_id;
END;
CREATE TRIGGER case_moved AFTER UPDATE OF status, lotse_id ON request
WHEN OLD.status = 'accepted' OR NEW.status = 'accepted'
BEGIN
    UPDATE lotse SET open_cases = open_cases - 1
    WHERE OLD.status = 'accepted' AND person_id = OLD.lotse_id;
    UPDATE lotse SET open_cases = open_cases + 1
    WHERE NEW.status = 'accepted' AND person_id = NEW.lotse_id;
END;
CREATE TRIGGER case_removed AFTER DELETE ON request
WHEN OLD.status = 'accepted' AND OLD.lotse_id IS NOT NULL
BEGIN
    UPDATE lotse SET open_cases = open_cases - 1 WHERE person_id = OLD.lotse_id;
END;
CREATE TRIGGER offer_counted AFTER INSERT ON offer
WHEN NEW.created_at >= (SELECT since FROM offer_window)
BEGIN
    UPDATE lotse SET recent_offers = recent_offers + 1 WHERE person_id = NEW.lotse_id;
END;
CREATE TRIGGER offer_uncounted AFTER DELETE ON offer
WHEN OLD.created_at >= (SELECT since FROM offer_window)
BEGIN
    UPDATE lotse SET recent_offers = recent_offers - 1 WHERE person_id = OLD.lotse_id;
END;
CREATE INDEX request_by_activity ON request (status, active_at);
COMMIT;
PRAGMA user_version = 8;
