-- People are reached on a messenger by a contact: the channel's name and the address it
-- knows them by (a Telegram user id, a phone number, a UUID), as text. A person has one or
-- more; the one used last is the one to reach them on. Every stored message reference says
-- on which channel and in which chat it is; an attachment says on which channel its
-- reference works.
--
-- The migrations run with foreign keys off (the runner checks them before committing), so
-- that `person` can be rebuilt without its Telegram id: SQLite cannot drop a UNIQUE column.
CREATE TABLE contact (
    channel   TEXT    NOT NULL,
    address   TEXT    NOT NULL,
    person_id INTEGER NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    last_used TEXT,
    PRIMARY KEY (channel, address)
);
CREATE INDEX contact_by_person ON contact (person_id, last_used);
INSERT INTO contact (channel, address, person_id, last_used)
    SELECT 'telegram', CAST(telegram_id AS TEXT), id, coalesce(seen_at, created_at) FROM person;

-- Offers: the chat the offer was shown in.
ALTER TABLE offer ADD COLUMN channel TEXT;
ALTER TABLE offer ADD COLUMN chat TEXT;
UPDATE offer SET channel = 'telegram',
    chat = (SELECT CAST(telegram_id AS TEXT) FROM person WHERE person.id = offer.lotse_id)
    WHERE message_id IS NOT NULL;

-- Copies of mailings: the chat each went to.
ALTER TABLE delivery ADD COLUMN channel TEXT;
ALTER TABLE delivery ADD COLUMN chat TEXT;
UPDATE delivery SET channel = 'telegram',
    chat = (SELECT CAST(telegram_id AS TEXT) FROM person WHERE person.id = delivery.person_id)
    WHERE message_id IS NOT NULL;

-- The progress message of a mailing.
ALTER TABLE mailing ADD COLUMN report_channel TEXT;
ALTER TABLE mailing ADD COLUMN report_address TEXT;
UPDATE mailing SET report_channel = 'telegram', report_address = CAST(report_chat AS TEXT)
    WHERE report_chat IS NOT NULL;
ALTER TABLE mailing DROP COLUMN report_chat;
ALTER TABLE mailing RENAME COLUMN report_address TO report_chat;

-- The messages of a case, in whichever chat they are.
CREATE TABLE relay_new (
    id         INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES request (id) ON DELETE CASCADE,
    channel    TEXT    NOT NULL,
    chat       TEXT    NOT NULL,
    message_id INTEGER NOT NULL,
    created_at TEXT    NOT NULL,
    kind       TEXT    NOT NULL DEFAULT 'text' CHECK (kind IN ('text', 'media', 'own'))
);
INSERT INTO relay_new (id, request_id, channel, chat, message_id, created_at, kind)
    SELECT id, request_id, 'telegram', CAST(receiver_chat AS TEXT), message_id, created_at, kind
    FROM relay;
DROP TABLE relay;
ALTER TABLE relay_new RENAME TO relay;
CREATE INDEX relay_by_message ON relay (channel, chat, message_id);

-- Attachments of requests and broadcasts: references of the channel they came from.
ALTER TABLE request ADD COLUMN media_channel TEXT;
UPDATE request SET media_channel = 'telegram' WHERE media_file_id IS NOT NULL;
ALTER TABLE broadcast ADD COLUMN media_channel TEXT;
UPDATE broadcast SET media_channel = 'telegram' WHERE media_file_id IS NOT NULL;

-- People without their Telegram id.
CREATE TABLE person_new (
    id              INTEGER PRIMARY KEY,
    role            TEXT    NOT NULL DEFAULT 'member'
                            CHECK (role IN ('member', 'lotse', 'coordinator')),
    language        TEXT    NOT NULL,
    consent_at      TEXT,
    consent_version TEXT,
    created_at      TEXT    NOT NULL,
    unreachable_at  TEXT,
    news_off        INTEGER NOT NULL DEFAULT 0,
    withdrawn_at    TEXT,
    seen_at         TEXT,
    CHECK ((consent_at IS NULL) = (consent_version IS NULL))
);
INSERT INTO person_new (id, role, language, consent_at, consent_version, created_at,
                        unreachable_at, news_off, withdrawn_at, seen_at)
    SELECT id, role, language, consent_at, consent_version, created_at,
           unreachable_at, news_off, withdrawn_at, seen_at
    FROM person;
DROP TABLE person;
ALTER TABLE person_new RENAME TO person;
