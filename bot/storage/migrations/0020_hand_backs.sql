-- When a Lotse handed an accepted case back (the offer is 'declined' from then, so that it
-- is not offered to them again): the office's timeline of the request shows it.
ALTER TABLE offer ADD COLUMN handed_back_at TEXT;
