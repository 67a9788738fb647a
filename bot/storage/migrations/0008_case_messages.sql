-- Every message of a case is linked to it, not only relayed copies: the details, reminders,
-- case news, and the sender's own relayed message (`own`, in the sender's chat). A reply to
-- any of them finds its case, so a reply to a closed case is refused instead of reaching
-- another one. `kind` says how the bot can edit its message (text or caption); `own`
-- messages belong to the person and cannot be edited.
ALTER TABLE relay ADD COLUMN kind TEXT NOT NULL DEFAULT 'text'
    CHECK (kind IN ('text', 'media', 'own'));
