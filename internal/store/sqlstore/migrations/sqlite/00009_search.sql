-- +goose Up
-- The users list at 100,000 accounts: names from the directory, an
-- indexed substring search, and indexes for its filters.

-- dir_name is the directory's name of the account's email: the name of
-- the person whose email or alias it is, '' when none. dir_search is that
-- name lower-cased by roster (Go's Unicode rules, not SQLite's ASCII
-- lower()), cut from people.search, which roster writes as lower(email
-- name department): lower-casing keeps the number of characters, so the
-- name starts after the email and a space. Triggers below keep both true
-- on every write of accounts, people and aliases; each looks the email up
-- as the users list would (lower(accounts.email), so that SQLite uses the
-- lower(email) indexes). The list shows and sorts by display_name: the
-- directory's name where it has one, else Miro's.
ALTER TABLE accounts ADD COLUMN dir_name TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN dir_search TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN display_name TEXT GENERATED ALWAYS AS (CASE WHEN dir_name <> '' THEN dir_name ELSE name END) VIRTUAL;
UPDATE accounts SET (dir_name, dir_search) = (
        SELECT COALESCE(MAX(p.name), ''), COALESCE(MAX(substr(p.search, length(p.email) + 2, length(p.name))), '')
        FROM people p WHERE p.id = (SELECT id FROM people WHERE lower(email) = lower(accounts.email)
            UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = lower(accounts.email)))
    WHERE lower(email) IN (SELECT lower(email) FROM people UNION ALL SELECT lower(email) FROM person_aliases);

DROP INDEX accounts_name;
CREATE INDEX accounts_display_name ON accounts (display_name, id);

-- activity_at is roster.Account.ActivityAt, what the one inactivity rule
-- counts from (activityAt in sqlstore, in the same words): the later of
-- the last activity and the license's assignment, first seen where Miro
-- gives neither. In this index, the users list's filters (license,
-- status, usage known, inactive or active before a cut-off) are one range
-- and its total a count of index entries, not of rows.
ALTER TABLE accounts ADD COLUMN activity_at TEXT GENERATED ALWAYS AS (CASE WHEN last_activity_at IS NULL THEN COALESCE(license_assigned_at, first_seen_at)
    WHEN license_assigned_at IS NULL OR last_activity_at >= license_assigned_at THEN last_activity_at
    ELSE license_assigned_at END) VIRTUAL;
CREATE INDEX accounts_filters ON accounts (license, active, license_exact, activity_at, org_id, org_role, last_activity_at, left_at);

-- The search index: the trigrams of search (the email and Miro's name)
-- and dir_search (the directory's name), rowid = accounts.id. A phrase of
-- three characters or more (MATCH '"abc"') is a substring of either
-- column, found in the index alone: LIKE through FTS5 rechecks every
-- candidate, several times slower. The text itself is not kept.
CREATE VIRTUAL TABLE accounts_search USING fts5(search, dir_search, tokenize = 'trigram', content = '', contentless_delete = 1);
INSERT INTO accounts_search (rowid, search, dir_search) SELECT id, search, dir_search FROM accounts;

-- An account's directory name follows its email, and the search index
-- follows search and dir_search. An insert takes its directory name, which
-- indexes the row through accounts_search_update, else indexes it here:
-- each row is indexed once.
-- +goose StatementBegin
CREATE TRIGGER accounts_insert AFTER INSERT ON accounts BEGIN
    UPDATE accounts SET (dir_name, dir_search) = (
        SELECT COALESCE(MAX(p.name), ''), COALESCE(MAX(substr(p.search, length(p.email) + 2, length(p.name))), '')
        FROM people p WHERE p.id = (SELECT id FROM people WHERE lower(email) = lower(accounts.email)
            UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = lower(accounts.email)))
        WHERE id = new.id AND (EXISTS (SELECT 1 FROM people WHERE lower(email) = lower(new.email))
            OR EXISTS (SELECT 1 FROM person_aliases WHERE lower(email) = lower(new.email)));
    INSERT INTO accounts_search (rowid, search, dir_search)
        SELECT id, search, dir_search FROM accounts WHERE id = new.id AND dir_search = '';
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER accounts_directory_email AFTER UPDATE OF email ON accounts
WHEN new.email IS NOT old.email
BEGIN
    UPDATE accounts SET (dir_name, dir_search) = (
        SELECT COALESCE(MAX(p.name), ''), COALESCE(MAX(substr(p.search, length(p.email) + 2, length(p.name))), '')
        FROM people p WHERE p.id = (SELECT id FROM people WHERE lower(email) = lower(accounts.email)
            UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = lower(accounts.email)))
        WHERE id = new.id;
END;
-- +goose StatementEnd
-- The sync's upsert sets every column, changed or not: only a change
-- rewrites the entry.
-- +goose StatementBegin
CREATE TRIGGER accounts_search_update AFTER UPDATE OF search, dir_search ON accounts
WHEN new.search IS NOT old.search OR new.dir_search IS NOT old.dir_search
BEGIN
    DELETE FROM accounts_search WHERE rowid = new.id;
    INSERT INTO accounts_search (rowid, search, dir_search) VALUES (new.id, new.search, new.dir_search);
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
    UPDATE accounts SET (dir_name, dir_search) = (
        SELECT COALESCE(MAX(p.name), ''), COALESCE(MAX(substr(p.search, length(p.email) + 2, length(p.name))), '')
        FROM people p WHERE p.id = (SELECT id FROM people WHERE lower(email) = lower(accounts.email)
            UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = lower(accounts.email)))
        WHERE email = lower(new.email);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER people_directory_update AFTER UPDATE OF email, name, search ON people BEGIN
    UPDATE accounts SET (dir_name, dir_search) = (
        SELECT COALESCE(MAX(p.name), ''), COALESCE(MAX(substr(p.search, length(p.email) + 2, length(p.name))), '')
        FROM people p WHERE p.id = (SELECT id FROM people WHERE lower(email) = lower(accounts.email)
            UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = lower(accounts.email)))
        WHERE email IN (SELECT lower(old.email) UNION SELECT lower(new.email)
            UNION SELECT lower(x.email) FROM person_aliases x WHERE x.person_id = new.id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER people_directory_delete AFTER DELETE ON people BEGIN
    UPDATE accounts SET (dir_name, dir_search) = (
        SELECT COALESCE(MAX(p.name), ''), COALESCE(MAX(substr(p.search, length(p.email) + 2, length(p.name))), '')
        FROM people p WHERE p.id = (SELECT id FROM people WHERE lower(email) = lower(accounts.email)
            UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = lower(accounts.email)))
        WHERE email IN (SELECT lower(old.email)
            UNION SELECT lower(x.email) FROM person_aliases x WHERE x.person_id = old.id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER person_aliases_directory_insert AFTER INSERT ON person_aliases BEGIN
    UPDATE accounts SET (dir_name, dir_search) = (
        SELECT COALESCE(MAX(p.name), ''), COALESCE(MAX(substr(p.search, length(p.email) + 2, length(p.name))), '')
        FROM people p WHERE p.id = (SELECT id FROM people WHERE lower(email) = lower(accounts.email)
            UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = lower(accounts.email)))
        WHERE email = lower(new.email);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER person_aliases_directory_update AFTER UPDATE ON person_aliases BEGIN
    UPDATE accounts SET (dir_name, dir_search) = (
        SELECT COALESCE(MAX(p.name), ''), COALESCE(MAX(substr(p.search, length(p.email) + 2, length(p.name))), '')
        FROM people p WHERE p.id = (SELECT id FROM people WHERE lower(email) = lower(accounts.email)
            UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = lower(accounts.email)))
        WHERE email IN (SELECT lower(old.email) UNION SELECT lower(new.email));
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER person_aliases_directory_delete AFTER DELETE ON person_aliases BEGIN
    UPDATE accounts SET (dir_name, dir_search) = (
        SELECT COALESCE(MAX(p.name), ''), COALESCE(MAX(substr(p.search, length(p.email) + 2, length(p.name))), '')
        FROM people p WHERE p.id = (SELECT id FROM people WHERE lower(email) = lower(accounts.email)
            UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = lower(accounts.email)))
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
DROP TRIGGER accounts_directory_email;
DROP TRIGGER accounts_insert;
DROP TABLE accounts_search;
DROP INDEX accounts_filters;
ALTER TABLE accounts DROP COLUMN activity_at;
DROP INDEX accounts_display_name;
CREATE INDEX accounts_name ON accounts (name, id);
ALTER TABLE accounts DROP COLUMN display_name;
ALTER TABLE accounts DROP COLUMN dir_search;
ALTER TABLE accounts DROP COLUMN dir_name;
