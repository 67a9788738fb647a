-- The office's side of its volunteers: the audit log, stopping a Lotse, the programme's
-- records.

-- Every coordinator action that touches people: who, when, what, on whom — never content.
-- `actor_id` is NULL for the command line (`via` = 'cli') and once the coordinator is
-- erased; `subject_id` is NULL for actions on nobody in particular and once that person is
-- erased. Kept `audit_days` (PRIVACY.md, Retention).
CREATE TABLE audit (
    id         INTEGER PRIMARY KEY,
    at         TEXT    NOT NULL,
    via        TEXT    NOT NULL DEFAULT 'bot' CHECK (via IN ('bot', 'cli')),
    actor_id   INTEGER REFERENCES person (id) ON DELETE SET NULL,
    action     TEXT    NOT NULL,
    subject_id INTEGER REFERENCES person (id) ON DELETE SET NULL,
    request_id INTEGER REFERENCES request (id) ON DELETE SET NULL
);
CREATE INDEX audit_by_time ON audit (at);
CREATE INDEX audit_by_subject ON audit (subject_id);
CREATE INDEX audit_by_actor ON audit (actor_id);

-- A Lotse stopped by the office or by themselves: suspended (may be reinstated), retired
-- (for good) or left (by themselves). NULL: not stopped, `status` applies. `stop_reason`
-- is the office's reason for a suspension; `told` the state the Lotse was last told of
-- (claimed before sending, so nobody hears of the same change twice).
ALTER TABLE lotse ADD COLUMN stopped TEXT CHECK (stopped IN ('suspended', 'retired', 'left'));
ALTER TABLE lotse ADD COLUMN stopped_at TEXT;
ALTER TABLE lotse ADD COLUMN stop_reason TEXT;
ALTER TABLE lotse ADD COLUMN told TEXT;
CREATE INDEX lotse_by_stop ON lotse (stopped, stopped_at);

-- The programme's own records, dates only (ISO days); the documents are never stored.
ALTER TABLE lotse ADD COLUMN certified_on TEXT;
ALTER TABLE lotse ADD COLUMN pledge_on TEXT;
ALTER TABLE lotse ADD COLUMN check_seen_on TEXT;     -- erweitertes Führungszeugnis seen
ALTER TABLE lotse ADD COLUMN check_valid_until TEXT; -- … and valid until
