-- +goose Up
-- Chargeback by department at 100,000 accounts: each account keeps its
-- directory department, as it keeps its directory name (00009), so that
-- grouping by department is a scan of index entries, not a lookup of
-- the directory per account.

-- dir_department is the department of the person whose email or alias is
-- the account's email, '' when none. The triggers that keep dir_name and
-- dir_search true set it in the same lookup, so an account write still
-- costs one; a person's department change now fires them too.
ALTER TABLE accounts ADD COLUMN dir_department TEXT NOT NULL DEFAULT '';
UPDATE accounts SET dir_department = (
        SELECT COALESCE(MAX(p.department), '')
        FROM people p WHERE p.id = (SELECT id FROM people WHERE lower(email) = lower(accounts.email)
            UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = lower(accounts.email)))
    WHERE lower(email) IN (SELECT lower(email) FROM people UNION ALL SELECT lower(email) FROM person_aliases);

-- Chargeback's filter (organization, not left, not deactivated) is one
-- range of this index, which holds what it groups: a scan of index
-- entries, not of rows.
CREATE INDEX accounts_department ON accounts (org_id, left_at, active, dir_department, license);

-- 00009's triggers, setting dir_department too. SQLite fires the triggers
-- of one write newest first: accounts_search_update is made again after
-- accounts_directory_email, unchanged, to keep 00009's order. Made
-- before it, it would run last on a sync's change of email and search,
-- and index the dir_search the row had before the email's lookup.
DROP TRIGGER accounts_insert;
DROP TRIGGER accounts_directory_email;
DROP TRIGGER accounts_search_update;
DROP TRIGGER people_directory_insert;
DROP TRIGGER people_directory_update;
DROP TRIGGER people_directory_delete;
DROP TRIGGER person_aliases_directory_insert;
DROP TRIGGER person_aliases_directory_update;
DROP TRIGGER person_aliases_directory_delete;
-- +goose StatementBegin
CREATE TRIGGER accounts_insert AFTER INSERT ON accounts BEGIN
    UPDATE accounts SET (dir_name, dir_search, dir_department) = (
        SELECT COALESCE(MAX(p.name), ''), COALESCE(MAX(substr(p.search, length(p.email) + 2, length(p.name))), ''),
            COALESCE(MAX(p.department), '')
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
    UPDATE accounts SET (dir_name, dir_search, dir_department) = (
        SELECT COALESCE(MAX(p.name), ''), COALESCE(MAX(substr(p.search, length(p.email) + 2, length(p.name))), ''),
            COALESCE(MAX(p.department), '')
        FROM people p WHERE p.id = (SELECT id FROM people WHERE lower(email) = lower(accounts.email)
            UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = lower(accounts.email)))
        WHERE id = new.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER accounts_search_update AFTER UPDATE OF search, dir_search ON accounts
WHEN new.search IS NOT old.search OR new.dir_search IS NOT old.dir_search
BEGIN
    DELETE FROM accounts_search WHERE rowid = new.id;
    INSERT INTO accounts_search (rowid, search, dir_search) VALUES (new.id, new.search, new.dir_search);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER people_directory_insert AFTER INSERT ON people BEGIN
    UPDATE accounts SET (dir_name, dir_search, dir_department) = (
        SELECT COALESCE(MAX(p.name), ''), COALESCE(MAX(substr(p.search, length(p.email) + 2, length(p.name))), ''),
            COALESCE(MAX(p.department), '')
        FROM people p WHERE p.id = (SELECT id FROM people WHERE lower(email) = lower(accounts.email)
            UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = lower(accounts.email)))
        WHERE email = lower(new.email);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER people_directory_update AFTER UPDATE OF email, name, department, search ON people BEGIN
    UPDATE accounts SET (dir_name, dir_search, dir_department) = (
        SELECT COALESCE(MAX(p.name), ''), COALESCE(MAX(substr(p.search, length(p.email) + 2, length(p.name))), ''),
            COALESCE(MAX(p.department), '')
        FROM people p WHERE p.id = (SELECT id FROM people WHERE lower(email) = lower(accounts.email)
            UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = lower(accounts.email)))
        WHERE email IN (SELECT lower(old.email) UNION SELECT lower(new.email)
            UNION SELECT lower(x.email) FROM person_aliases x WHERE x.person_id = new.id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER people_directory_delete AFTER DELETE ON people BEGIN
    UPDATE accounts SET (dir_name, dir_search, dir_department) = (
        SELECT COALESCE(MAX(p.name), ''), COALESCE(MAX(substr(p.search, length(p.email) + 2, length(p.name))), ''),
            COALESCE(MAX(p.department), '')
        FROM people p WHERE p.id = (SELECT id FROM people WHERE lower(email) = lower(accounts.email)
            UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = lower(accounts.email)))
        WHERE email IN (SELECT lower(old.email)
            UNION SELECT lower(x.email) FROM person_aliases x WHERE x.person_id = old.id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER person_aliases_directory_insert AFTER INSERT ON person_aliases BEGIN
    UPDATE accounts SET (dir_name, dir_search, dir_department) = (
        SELECT COALESCE(MAX(p.name), ''), COALESCE(MAX(substr(p.search, length(p.email) + 2, length(p.name))), ''),
            COALESCE(MAX(p.department), '')
        FROM people p WHERE p.id = (SELECT id FROM people WHERE lower(email) = lower(accounts.email)
            UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = lower(accounts.email)))
        WHERE email = lower(new.email);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER person_aliases_directory_update AFTER UPDATE ON person_aliases BEGIN
    UPDATE accounts SET (dir_name, dir_search, dir_department) = (
        SELECT COALESCE(MAX(p.name), ''), COALESCE(MAX(substr(p.search, length(p.email) + 2, length(p.name))), ''),
            COALESCE(MAX(p.department), '')
        FROM people p WHERE p.id = (SELECT id FROM people WHERE lower(email) = lower(accounts.email)
            UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = lower(accounts.email)))
        WHERE email IN (SELECT lower(old.email) UNION SELECT lower(new.email));
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER person_aliases_directory_delete AFTER DELETE ON person_aliases BEGIN
    UPDATE accounts SET (dir_name, dir_search, dir_department) = (
        SELECT COALESCE(MAX(p.name), ''), COALESCE(MAX(substr(p.search, length(p.email) + 2, length(p.name))), ''),
            COALESCE(MAX(p.department), '')
        FROM people p WHERE p.id = (SELECT id FROM people WHERE lower(email) = lower(accounts.email)
            UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = lower(accounts.email)))
        WHERE email = lower(old.email);
END;
-- +goose StatementEnd

-- +goose Down
-- 00009's triggers as they were, in its order.
DROP TRIGGER accounts_insert;
DROP TRIGGER accounts_directory_email;
DROP TRIGGER accounts_search_update;
DROP TRIGGER people_directory_insert;
DROP TRIGGER people_directory_update;
DROP TRIGGER people_directory_delete;
DROP TRIGGER person_aliases_directory_insert;
DROP TRIGGER person_aliases_directory_update;
DROP TRIGGER person_aliases_directory_delete;
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
-- +goose StatementBegin
CREATE TRIGGER accounts_search_update AFTER UPDATE OF search, dir_search ON accounts
WHEN new.search IS NOT old.search OR new.dir_search IS NOT old.dir_search
BEGIN
    DELETE FROM accounts_search WHERE rowid = new.id;
    INSERT INTO accounts_search (rowid, search, dir_search) VALUES (new.id, new.search, new.dir_search);
END;
-- +goose StatementEnd
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
DROP INDEX accounts_department;
ALTER TABLE accounts DROP COLUMN dir_department;
