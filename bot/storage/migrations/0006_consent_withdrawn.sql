-- When the person last withdrew their consent: the one fact kept about a withdrawal, beside
-- the language (everything else goes, as with an erasure).
ALTER TABLE person ADD COLUMN withdrawn_at TEXT;
