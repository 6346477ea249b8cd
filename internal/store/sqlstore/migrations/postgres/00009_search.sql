-- +goose Up
-- The users list at 100,000 accounts: names from the directory, an
-- indexed substring search, and indexes for its filters.

-- The directory's name of each email, as a person's email or alias.
-- name_search is that name lower-cased by roster (Go's Unicode rules, the
-- same on both dialects): cut from people.search, which roster writes as
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
-- display_name: the directory's name where it has one, else Miro's; it
-- sorts bytewise, as name does.
ALTER TABLE accounts ADD COLUMN dir_name TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN dir_search TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN display_name TEXT COLLATE "C"
    GENERATED ALWAYS AS (CASE WHEN dir_name <> '' THEN dir_name ELSE name END) STORED;
-- What users search matches: the email, Miro's name and the directory's,
-- all lower-cased by roster.
ALTER TABLE accounts ADD COLUMN search_text TEXT GENERATED ALWAYS AS (search || ' ' || dir_search) STORED;
UPDATE accounts SET
    dir_name = COALESCE((SELECT d.name FROM directory_names d WHERE d.email = accounts.email LIMIT 1), ''),
    dir_search = COALESCE((SELECT d.name_search FROM directory_names d WHERE d.email = accounts.email LIMIT 1), '')
    WHERE email IN (SELECT email FROM directory_names);

DROP INDEX accounts_name;
CREATE INDEX accounts_display_name ON accounts (display_name, id);

-- The search index: a trigram GIN index on search_text, so that LIKE
-- '%abc%' is an index lookup for any run of three characters or more.
-- pg_trgm is one extension for the whole database, shared by every
-- schema: it is installed once (in public when there is one, so that
-- dropping one roster schema keeps it), under a lock, since several
-- schemas may migrate at once. The view gives SQLite's search table's
-- name and columns to accounts: one query serves both.
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
    EXECUTE format('CREATE INDEX accounts_search_text ON accounts USING gin (search_text %I.gin_trgm_ops)', ext_schema);
END $$;
-- +goose StatementEnd
CREATE VIEW accounts_search AS SELECT id AS rowid, search_text FROM accounts;

-- An account's directory name follows its email.
-- +goose StatementBegin
CREATE FUNCTION accounts_directory_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.email IS NOT DISTINCT FROM OLD.email THEN
        RETURN NEW;
    END IF;
    SELECT d.name, d.name_search INTO NEW.dir_name, NEW.dir_search
        FROM directory_names d WHERE d.email = NEW.email LIMIT 1;
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
CREATE FUNCTION directory_names_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    emails TEXT[];
BEGIN
    IF TG_TABLE_NAME = 'people' THEN
        emails := ARRAY[lower(OLD.email), lower(NEW.email)] || ARRAY(
            SELECT lower(x.email) FROM person_aliases x WHERE x.person_id IN (OLD.id, NEW.id));
    ELSE
        emails := ARRAY[lower(OLD.email), lower(NEW.email)];
    END IF;
    UPDATE accounts a SET
        dir_name = COALESCE((SELECT d.name FROM directory_names d WHERE d.email = a.email LIMIT 1), ''),
        dir_search = COALESCE((SELECT d.name_search FROM directory_names d WHERE d.email = a.email LIMIT 1), '')
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
DROP VIEW accounts_search;
DROP INDEX accounts_search_text;
DROP INDEX accounts_display_name;
CREATE INDEX accounts_name ON accounts (name, id);
ALTER TABLE accounts DROP COLUMN search_text;
ALTER TABLE accounts DROP COLUMN display_name;
ALTER TABLE accounts DROP COLUMN dir_search;
ALTER TABLE accounts DROP COLUMN dir_name;
DROP VIEW directory_names;
