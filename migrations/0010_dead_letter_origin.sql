-- A dead letter is parked once per origin, payload and reason (a redelivered batch offers its bad
-- exchange again): the duplicate check looks rows up by origin instead of scanning the table.
CREATE INDEX IF NOT EXISTS dead_letters_origin ON dead_letters (origin);
