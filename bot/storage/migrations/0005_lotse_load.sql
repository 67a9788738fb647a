-- Each Lotse's load, kept up to date by triggers so that matching can walk an index from
-- the least loaded Lotse on and stop after the best few, however many Lotsen there are.
--
-- open_cases:    requests with status 'accepted' and this Lotse.
-- recent_offers: offers to this Lotse created at or after offer_window.since. Matching moves
--                `since` forward to "30 days ago" and subtracts the offers it passes, so the
--                count is exactly "offers in the last 30 days" whenever it is read.
ALTER TABLE lotse ADD COLUMN open_cases INTEGER NOT NULL DEFAULT 0;
ALTER TABLE lotse ADD COLUMN recent_offers INTEGER NOT NULL DEFAULT 0;

CREATE TABLE offer_window (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    since TEXT    NOT NULL
);
INSERT INTO offer_window (id, since) VALUES (1, '');

-- The load is mirrored into each of the Lotse's languages, so that matching walks the
-- Lotsen of one language from the least loaded on.
ALTER TABLE lotse_language ADD COLUMN open_cases INTEGER NOT NULL DEFAULT 0;
ALTER TABLE lotse_language ADD COLUMN recent_offers INTEGER NOT NULL DEFAULT 0;

CREATE INDEX offer_by_time ON offer (created_at);
CREATE INDEX lotse_language_by_load
    ON lotse_language (language, open_cases, recent_offers, person_id);

UPDATE lotse SET
    open_cases = (SELECT count(*) FROM request r
                  WHERE r.lotse_id = lotse.person_id AND r.status = 'accepted'),
    recent_offers = (SELECT count(*) FROM offer o WHERE o.lotse_id = lotse.person_id);
UPDATE lotse_language SET
    open_cases = (SELECT l.open_cases FROM lotse l WHERE l.person_id = lotse_language.person_id),
    recent_offers =
        (SELECT l.recent_offers FROM lotse l WHERE l.person_id = lotse_language.person_id);

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
