-- What retention needs to know about activity.
--
-- person.seen_at:         when the person last wrote to the bot (kept to the day), so that
--                         people without consent can be erased after a while of silence.
-- request.active_at:      the last change of a request: an answer in the intake, a change of
--                         state, a relayed message, a reminder, a confirmed appointment or
--                         "still running". Drafts and accepted cases age out from here.
-- request.idle_warned_at: when the Lotse and the coordinators were asked whether an accepted
--                         case without activity still runs; a question not later than
--                         active_at belongs to an earlier quiet spell.
ALTER TABLE person ADD COLUMN seen_at TEXT;
UPDATE person SET seen_at = created_at;

ALTER TABLE request ADD COLUMN active_at TEXT;
ALTER TABLE request ADD COLUMN idle_warned_at TEXT;
UPDATE request SET active_at = max(
    created_at,
    coalesce(confirmed_at, ''),
    coalesce(accepted_at, ''),
    coalesce(closed_at, ''),
    coalesce((SELECT max(r.created_at) FROM relay r WHERE r.request_id = request.id), '')
);
CREATE INDEX request_by_activity ON request (status, active_at);
