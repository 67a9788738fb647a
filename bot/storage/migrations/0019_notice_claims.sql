-- The input (a Lotse's press, typed number) whose handling claimed a piece of case news.
-- That input handled again after a crash sends news still 'sending' once more, so the
-- acceptance reaches both sides at least once; news claimed by a timer (a reminder, NULL
-- here) is still never sent twice.
ALTER TABLE case_notice ADD COLUMN claimed_by INTEGER;
