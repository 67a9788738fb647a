-- A request keeps several files (the pages of a letter, a voice note besides): each as the
-- reference of the channel it came from, in order, in one JSON list
-- ([{"kind": …, "ref": …, "channel": …, "mime": …}]), erased with the request's details.
ALTER TABLE request ADD COLUMN files TEXT;
UPDATE request
   SET files = json_array(json_object(
       'kind', media_kind, 'ref', media_file_id, 'channel', coalesce(media_channel, 'telegram')))
 WHERE media_file_id IS NOT NULL;
ALTER TABLE request DROP COLUMN media_kind;
ALTER TABLE request DROP COLUMN media_file_id;
ALTER TABLE request DROP COLUMN media_channel;
