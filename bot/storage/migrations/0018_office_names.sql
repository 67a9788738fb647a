-- The name a coordinator goes by in the office (given at the desk or with
-- `lotsenbot coordinator add --name`), and the name each audit entry was recorded under, so
-- that the log says who acted even after that coordinator's data is erased.
ALTER TABLE person ADD COLUMN office_name TEXT;
ALTER TABLE audit ADD COLUMN actor_name TEXT;
