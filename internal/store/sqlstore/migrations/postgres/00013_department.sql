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
UPDATE accounts a SET dir_department = (
        SELECT COALESCE(MAX(p.department), '')
        FROM people p WHERE p.id = (SELECT id FROM people WHERE lower(email) = lower(a.email) COLLATE "C"
            UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = lower(a.email) COLLATE "default" LIMIT 1))
    WHERE lower(a.email) IN (SELECT lower(email) FROM people UNION ALL SELECT lower(email) FROM person_aliases);

-- Chargeback's filter (organization, not left, not deactivated) is one
-- range of this index, which holds what it groups: a scan of index
-- entries, not of rows.
CREATE INDEX accounts_department ON accounts (org_id, left_at, active, dir_department, license);

-- 00009's trigger functions and triggers, setting dir_department too.
DROP TRIGGER person_aliases_directory_names ON person_aliases;
DROP TRIGGER people_directory_names ON people;
DROP FUNCTION directory_names_changed();
DROP TRIGGER accounts_directory_name ON accounts;
DROP FUNCTION accounts_directory_name();
-- +goose StatementBegin
CREATE FUNCTION accounts_directory_name() RETURNS trigger LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.email IS NOT DISTINCT FROM OLD.email THEN
        RETURN NEW;
    END IF;
    SELECT p.name, substr(p.search, length(p.email) + 2, length(p.name)), p.department
        INTO NEW.dir_name, NEW.dir_search, NEW.dir_department
        FROM people p WHERE p.id = (SELECT id FROM people WHERE lower(email) = lower(NEW.email) COLLATE "C"
            UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = lower(NEW.email) COLLATE "default" LIMIT 1);
    IF NOT FOUND THEN
        NEW.dir_name := '';
        NEW.dir_search := '';
        NEW.dir_department := '';
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER accounts_directory_name BEFORE INSERT OR UPDATE OF email ON accounts
    FOR EACH ROW EXECUTE FUNCTION accounts_directory_name();

-- +goose StatementBegin
CREATE FUNCTION directory_names_changed() RETURNS trigger LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    emails TEXT[] := ARRAY[lower(OLD.email), lower(NEW.email)];
BEGIN
    IF TG_TABLE_NAME = 'people' THEN
        emails := emails || ARRAY(SELECT lower(x.email) FROM person_aliases x WHERE x.person_id IN (OLD.id, NEW.id));
    END IF;
    UPDATE accounts a SET (dir_name, dir_search, dir_department) = (
            SELECT COALESCE(MAX(p.name), ''), COALESCE(MAX(substr(p.search, length(p.email) + 2, length(p.name))), ''),
                COALESCE(MAX(p.department), '')
            FROM people p WHERE p.id = (SELECT id FROM people WHERE lower(email) = lower(a.email) COLLATE "C"
                UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = lower(a.email) COLLATE "default" LIMIT 1))
        WHERE a.email = ANY (emails);
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER people_directory_names AFTER INSERT OR DELETE OR UPDATE OF email, name, department, search ON people
    FOR EACH ROW EXECUTE FUNCTION directory_names_changed();
CREATE TRIGGER person_aliases_directory_names AFTER INSERT OR DELETE OR UPDATE ON person_aliases
    FOR EACH ROW EXECUTE FUNCTION directory_names_changed();

-- +goose Down
-- 00009's trigger functions and triggers as they were.
DROP TRIGGER person_aliases_directory_names ON person_aliases;
DROP TRIGGER people_directory_names ON people;
DROP FUNCTION directory_names_changed();
DROP TRIGGER accounts_directory_name ON accounts;
DROP FUNCTION accounts_directory_name();
-- +goose StatementBegin
CREATE FUNCTION accounts_directory_name() RETURNS trigger LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.email IS NOT DISTINCT FROM OLD.email THEN
        RETURN NEW;
    END IF;
    SELECT p.name, substr(p.search, length(p.email) + 2, length(p.name)) INTO NEW.dir_name, NEW.dir_search
        FROM people p WHERE p.id = (SELECT id FROM people WHERE lower(email) = lower(NEW.email) COLLATE "C"
            UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = lower(NEW.email) COLLATE "default" LIMIT 1);
    IF NOT FOUND THEN
        NEW.dir_name := '';
        NEW.dir_search := '';
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER accounts_directory_name BEFORE INSERT OR UPDATE OF email ON accounts
    FOR EACH ROW EXECUTE FUNCTION accounts_directory_name();

-- +goose StatementBegin
CREATE FUNCTION directory_names_changed() RETURNS trigger LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    emails TEXT[] := ARRAY[lower(OLD.email), lower(NEW.email)];
BEGIN
    IF TG_TABLE_NAME = 'people' THEN
        emails := emails || ARRAY(SELECT lower(x.email) FROM person_aliases x WHERE x.person_id IN (OLD.id, NEW.id));
    END IF;
    UPDATE accounts a SET (dir_name, dir_search) = (
            SELECT COALESCE(MAX(p.name), ''), COALESCE(MAX(substr(p.search, length(p.email) + 2, length(p.name))), '')
            FROM people p WHERE p.id = (SELECT id FROM people WHERE lower(email) = lower(a.email) COLLATE "C"
                UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = lower(a.email) COLLATE "default" LIMIT 1))
        WHERE a.email = ANY (emails);
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER people_directory_names AFTER INSERT OR DELETE OR UPDATE OF email, name, search ON people
    FOR EACH ROW EXECUTE FUNCTION directory_names_changed();
CREATE TRIGGER person_aliases_directory_names AFTER INSERT OR DELETE OR UPDATE ON person_aliases
    FOR EACH ROW EXECUTE FUNCTION directory_names_changed();
DROP INDEX accounts_department;
ALTER TABLE accounts DROP COLUMN dir_department;
