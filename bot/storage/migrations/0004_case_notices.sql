-- Which news of a case went out to which side: the acceptance and each appointment
-- reminder. A row is written ('sending') before the message goes out and settled after, so
-- a kill between sending and recording never sends it again; a row still 'sending' is a
-- message that may or may not have arrived. `lotse_id` is the case's Lotse at the time: a
-- new Lotse after a hand-back is told anew.
CREATE TABLE case_notice (
    request_id INTEGER NOT NULL REFERENCES request (id) ON DELETE CASCADE,
    what       TEXT    NOT NULL,
    lotse_id   INTEGER NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    side       TEXT    NOT NULL CHECK (side IN ('lotse', 'person')),
    status     TEXT    NOT NULL DEFAULT 'sending' CHECK (status IN ('sending', 'sent', 'failed')),
    created_at TEXT    NOT NULL,
    PRIMARY KEY (request_id, what, lotse_id, side)
);
