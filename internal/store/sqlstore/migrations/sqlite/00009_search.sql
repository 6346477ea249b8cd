-- +goose Up
-- The users list at 100,000 accounts: names from the directory, an
-- indexed substring search, and indexes for its filters.

-- The directory's name of each email, as a person's email or alias.
-- name_search is that name lower-cased by roster (Go's Unicode rules, not
-- SQLite's ASCII lower()): cut from people.search, which roster writes as
-- lower(email || ' ' || name || ' ' || department). Lower-casing keeps the
-- number of characters, so the name starts after the email and a space.
CREATE VIEW directory_names AS
    SELECT lower(p.email) AS email, p.name, substr(p.search, length(p.email) + 2, length(p.name)) AS name_search
    FROM people p
    UNION ALL
    SELECT lower(x.email), p.name, substr(p.search, length(p.email) + 2, length(p.name))
    FROM person_aliases x JOIN people p ON p.id = x.person_id;

-- dir_name and dir_search are the directory's name of the account's email
-- ('' when the directory does not know it), kept by the triggers below on
-- every write of accounts, people and aliases. The list shows and sorts by
-- display_name: the directory's name where it has one, else Miro's.
ALTER TABLE accounts ADD COLUMN dir_name TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN dir_search TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN display_name TEXT GENERATED ALWAYS AS (CASE WHEN dir_name <> '' THEN dir_name ELSE name END) VIRTUAL;
-- What users search matches: the email, Miro's name and the directory's,
-- all lower-cased by roster.
ALTER TABLE accounts ADD COLUMN search_text TEXT GENERATED ALWAYS AS (search || ' ' || dir_search) VIRTUAL;
UPDATE accounts SET
    dir_name = COALESCE((SELECT d.name FROM directory_names d WHERE d.email = accounts.email), ''),
    dir_search = COALESCE((SELECT d.name_search FROM directory_names d WHERE d.email = accounts.email), '')
    WHERE email IN (SELECT email FROM directory_names);

DROP INDEX accounts_name;
CREATE INDEX accounts_display_name ON accounts (display_name, id);

-- The search index: trigrams of search_text, so that LIKE '%abc%' is an
-- index lookup for any run of three characters or more. It keeps its own
-- copy of the text (rowid = accounts.id), which SQLite rechecks LIKE on.
-- PostgreSQL has a view of the same name over accounts: one query serves
-- both.
CREATE VIRTUAL TABLE accounts_search USING fts5(search_text, tokenize = 'trigram', detail = 'none');
INSERT INTO accounts_search (rowid, search_text) SELECT id, search_text FROM accounts;

-- An account's directory name follows its email. An insert into accounts
-- may be followed by another trigger's update of the same row: each
-- trigger reads the row as it is now, so their order does not matter.
-- +goose StatementBegin
CREATE TRIGGER accounts_directory_insert AFTER INSERT ON accounts
WHEN EXISTS (SELECT 1 FROM directory_names d WHERE d.email = new.email)
BEGIN
    UPDATE accounts SET
        dir_name = COALESCE((SELECT d.name FROM directory_names d WHERE d.email = accounts.email), ''),
        dir_search = COALESCE((SELECT d.name_search FROM directory_names d WHERE d.email = accounts.email), '')
        WHERE id = new.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER accounts_directory_email AFTER UPDATE OF email ON accounts
WHEN new.email IS NOT old.email
BEGIN
    UPDATE accounts SET
        dir_name = COALESCE((SELECT d.name FROM directory_names d WHERE d.email = accounts.email), ''),
        dir_search = COALESCE((SELECT d.name_search FROM directory_names d WHERE d.email = accounts.email), '')
        WHERE id = new.id;
END;
-- +goose StatementEnd

-- The search index follows search and dir_search. The sync's upsert sets
-- every column, changed or not: only a change rewrites the entry.
-- +goose StatementBegin
CREATE TRIGGER accounts_search_insert AFTER INSERT ON accounts BEGIN
    DELETE FROM accounts_search WHERE rowid = new.id;
    INSERT INTO accounts_search (rowid, search_text) SELECT id, search_text FROM accounts WHERE id = new.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER accounts_search_update AFTER UPDATE OF search, dir_search ON accounts
WHEN new.search IS NOT old.search OR new.dir_search IS NOT old.dir_search
BEGIN
    DELETE FROM accounts_search WHERE rowid = new.id;
    INSERT INTO accounts_search (rowid, search_text) SELECT id, search_text FROM accounts WHERE id = new.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER accounts_search_delete AFTER DELETE ON accounts BEGIN
    DELETE FROM accounts_search WHERE rowid = old.id;
END;
-- +goose StatementEnd

-- A change in the directory renames the accounts of every email it
-- touches: the person's own, old and new, and its aliases'.
-- +goose StatementBegin
CREATE TRIGGER people_directory_insert AFTER INSERT ON people BEGIN
    UPDATE accounts SET
        dir_name = COALESCE((SELECT d.name FROM directory_names d WHERE d.email = accounts.email), ''),
        dir_search = COALESCE((SELECT d.name_search FROM directory_names d WHERE d.email = accounts.email), '')
        WHERE email = lower(new.email);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER people_directory_update AFTER UPDATE OF email, name, search ON people BEGIN
    UPDATE accounts SET
        dir_name = COALESCE((SELECT d.name FROM directory_names d WHERE d.email = accounts.email), ''),
        dir_search = COALESCE((SELECT d.name_search FROM directory_names d WHERE d.email = accounts.email), '')
        WHERE email IN (SELECT lower(old.email) UNION SELECT lower(new.email)
            UNION SELECT lower(x.email) FROM person_aliases x WHERE x.person_id = new.id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER people_directory_delete AFTER DELETE ON people BEGIN
    UPDATE accounts SET
        dir_name = COALESCE((SELECT d.name FROM directory_names d WHERE d.email = accounts.email), ''),
        dir_search = COALESCE((SELECT d.name_search FROM directory_names d WHERE d.email = accounts.email), '')
        WHERE email IN (SELECT lower(old.email)
            UNION SELECT lower(x.email) FROM person_aliases x WHERE x.person_id = old.id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER person_aliases_directory_insert AFTER INSERT ON person_aliases BEGIN
    UPDATE accounts SET
        dir_name = COALESCE((SELECT d.name FROM directory_names d WHERE d.email = accounts.email), ''),
        dir_search = COALESCE((SELECT d.name_search FROM directory_names d WHERE d.email = accounts.email), '')
        WHERE email = lower(new.email);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER person_aliases_directory_update AFTER UPDATE ON person_aliases BEGIN
    UPDATE accounts SET
        dir_name = COALESCE((SELECT d.name FROM directory_names d WHERE d.email = accounts.email), ''),
        dir_search = COALESCE((SELECT d.name_search FROM directory_names d WHERE d.email = accounts.email), '')
        WHERE email IN (SELECT lower(old.email) UNION SELECT lower(new.email));
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER person_aliases_directory_delete AFTER DELETE ON person_aliases BEGIN
    UPDATE accounts SET
        dir_name = COALESCE((SELECT d.name FROM directory_names d WHERE d.email = accounts.email), ''),
        dir_search = COALESCE((SELECT d.name_search FROM directory_names d WHERE d.email = accounts.email), '')
        WHERE email = lower(old.email);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER person_aliases_directory_delete;
DROP TRIGGER person_aliases_directory_update;
DROP TRIGGER person_aliases_directory_insert;
DROP TRIGGER people_directory_delete;
DROP TRIGGER people_directory_update;
DROP TRIGGER people_directory_insert;
DROP TRIGGER accounts_search_delete;
DROP TRIGGER accounts_search_update;
DROP TRIGGER accounts_search_insert;
DROP TRIGGER accounts_directory_email;
DROP TRIGGER accounts_directory_insert;
DROP TABLE accounts_search;
DROP INDEX accounts_display_name;
CREATE INDEX accounts_name ON accounts (name, id);
ALTER TABLE accounts DROP COLUMN search_text;
ALTER TABLE accounts DROP COLUMN display_name;
ALTER TABLE accounts DROP COLUMN dir_search;
ALTER TABLE accounts DROP COLUMN dir_name;
DROP VIEW directory_names;
