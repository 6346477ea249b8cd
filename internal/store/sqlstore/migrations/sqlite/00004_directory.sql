-- +goose Up
-- The directory: who works here (SCIM, CSV import, the API). Emails are
-- lower-cased by roster on every write; the unique lower(email) indexes
-- keep that true even for a row written by hand. That an alias is not
-- another person's email is checked in the same transaction as the write.
CREATE TABLE people (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    manager_email TEXT NOT NULL DEFAULT '',
    department    TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL CHECK (status IN ('active', 'left')),
    external_id   TEXT NOT NULL DEFAULT '',
    search        TEXT NOT NULL DEFAULT '', -- lower(email name department)
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX people_email ON people (lower(email));
CREATE INDEX people_external_id ON people (external_id);
CREATE INDEX people_status ON people (status, id);

CREATE TABLE person_aliases (
    person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    email     TEXT    NOT NULL
);
CREATE UNIQUE INDEX person_aliases_email ON person_aliases (lower(email));
CREATE INDEX person_aliases_person ON person_aliases (person_id);

-- +goose Down
DROP TABLE person_aliases;
DROP TABLE people;
