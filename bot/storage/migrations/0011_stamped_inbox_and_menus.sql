-- Durable intake of channels whose events are known by their sender and a timestamp (Signal:
-- a message's timestamp is its id). Each event is stored here before it is handled, handled
-- from here, and its payload erased once handled; the row stays a day so that an event
-- delivered again is recognised by (channel, sender, stamp) and not handled twice. The
-- Telegram inbox (`inbox`, by update_id) is unchanged.
CREATE TABLE stamped_inbox (
    id          INTEGER PRIMARY KEY,
    channel     TEXT    NOT NULL,
    sender      TEXT    NOT NULL,
    stamp       INTEGER NOT NULL,
    payload     TEXT,
    received_at TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    done_at     TEXT,
    UNIQUE (channel, sender, stamp),
    CHECK ((done_at IS NULL) = (payload IS NOT NULL))
);
CREATE INDEX stamped_inbox_pending ON stamped_inbox (channel, id) WHERE done_at IS NULL;
CREATE INDEX stamped_inbox_done ON stamped_inbox (done_at) WHERE done_at IS NOT NULL;

-- The screens a channel without buttons showed, with their choices in the order they were
-- numbered (JSON: [[label, action], ...]), so that a typed number answers the latest one in
-- the chat (or the quoted one) after a restart too. `digest` tells an unchanged screen
-- from a changed one. Only the last screens of each chat are kept, none older than 30 days
-- (bot/storage/inbox.py, MenuRepository).
CREATE TABLE menu (
    channel    TEXT    NOT NULL,
    chat       TEXT    NOT NULL,
    message_id INTEGER NOT NULL,
    choices    TEXT    NOT NULL,
    digest     TEXT    NOT NULL,
    shown_at   TEXT    NOT NULL,
    PRIMARY KEY (channel, chat, message_id)
);
CREATE INDEX menu_by_time ON menu (shown_at);
