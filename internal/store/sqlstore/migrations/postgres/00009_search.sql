-- +goose Up
-- The users list at 100,000 accounts: names from the directory, an
-- indexed substring search, and indexes for its filters.

-- dir_name is the directory's name of the account's email: the name of
-- the person whose email or alias it is, '' when none. dir_search is that
-- name lower-cased by roster (Go's Unicode rules, the same on both
-- dialects), cut from people.search, which roster writes as lower(email
-- name department): lower-casing keeps the number of characters, so the
-- name starts after the email and a space. Triggers below keep both true
-- on every write of accounts, people and aliases; their lookups name the
-- collation of each lower(email) index (people's email is "C", aliases'
-- the database's), or PostgreSQL would not use it. The list shows and
-- sorts by display_name: the directory's name where it has one, else
-- Miro's, bytewise as name sorts.
ALTER TABLE accounts ADD COLUMN dir_name TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN dir_search TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN display_name TEXT COLLATE "C"
    GENERATED ALWAYS AS (CASE WHEN dir_name <> '' THEN dir_name ELSE name END) STORED;
UPDATE accounts a SET (dir_name, dir_search) = (
        SELECT COALESCE(MAX(p.name), ''), COALESCE(MAX(substr(p.search, length(p.email) + 2, length(p.name))), '')
        FROM people p WHERE p.id = (SELECT id FROM people WHERE lower(email) = lower(a.email) COLLATE "C"
            UNION ALL SELECT person_id FROM person_aliases WHERE lower(email) = lower(a.email) COLLATE "default" LIMIT 1))
    WHERE lower(a.email) IN (SELECT lower(email) FROM people UNION ALL SELECT lower(email) FROM person_aliases);

DROP INDEX accounts_name;
CREATE INDEX accounts_display_name ON accounts (display_name, id);

-- activity_at is roster.Account.ActivityAt, what the one inactivity rule
-- counts from (activityAt in sqlstore, in the same words): the later of
-- the last activity and the license's assignment, first seen where Miro
-- gives neither. In this index, the users list's filters (license,
-- status, usage known, inactive or active before a cut-off) are one range
-- and its total a count of index entries, not of rows.
ALTER TABLE accounts ADD COLUMN activity_at TIMESTAMPTZ GENERATED ALWAYS AS (CASE WHEN last_activity_at IS NULL THEN COALESCE(license_assigned_at, first_seen_at)
    WHEN license_assigned_at IS NULL OR last_activity_at >= license_assigned_at THEN last_activity_at
    ELSE license_assigned_at END) STORED;
CREATE INDEX accounts_filters ON accounts (license, active, license_exact, activity_at, org_id, org_role, last_activity_at, left_at);

-- The search index: trigram GIN indexes on search (the email and Miro's
-- name) and dir_search (the directory's name), so that LIKE '%abc%' on
-- either is an index lookup for any run of three characters or more.
-- pg_trgm is one extension for the whole database, shared by every
-- schema: it is installed once (in public when there is one, so that
-- dropping one roster schema keeps it), under a lock, since several
-- schemas may migrate at once.
-- +goose StatementBegin
DO $$
DECLARE
    ext_schema TEXT;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('roster: create extension pg_trgm'));
    SELECT n.nspname INTO ext_schema
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    IF ext_schema IS NULL THEN
        ext_schema := COALESCE((SELECT nspname FROM pg_namespace WHERE nspname = 'public'), current_schema());
        EXECUTE format('CREATE EXTENSION pg_trgm SCHEMA %I', ext_schema);
    END IF;
    EXECUTE format('CREATE INDEX accounts_search ON accounts USING gin (search %I.gin_trgm_ops)', ext_schema);
    EXECUTE format('CREATE INDEX accounts_dir_search ON accounts USING gin (dir_search %I.gin_trgm_ops)', ext_schema);
END $$;
-- +goose StatementEnd

-- An account's directory name follows its email. The triggers' queries
-- take their generic plans at once: PL/pgSQL would otherwise plan them
-- afresh on each call for a while, which made a bulk write of people
-- five times slower.
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

-- A change in the directory renames the accounts of every email it
-- touches: the person's own, old and new, and its aliases'.
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

-- +goose Down
DROP TRIGGER person_aliases_directory_names ON person_aliases;
DROP TRIGGER people_directory_names ON people;
DROP FUNCTION directory_names_changed();
DROP TRIGGER accounts_directory_name ON accounts;
DROP FUNCTION accounts_directory_name();
DROP INDEX accounts_dir_search;
DROP INDEX accounts_search;
DROP INDEX accounts_filters;
ALTER TABLE accounts DROP COLUMN activity_at;
DROP INDEX accounts_display_name;
CREATE INDEX accounts_name ON accounts (name, id);
ALTER TABLE accounts DROP COLUMN display_name;
ALTER TABLE accounts DROP COLUMN dir_search;
ALTER TABLE accounts DROP COLUMN dir_name;
