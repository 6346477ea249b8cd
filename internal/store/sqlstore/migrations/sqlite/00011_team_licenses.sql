-- +goose Up
-- Chargeback by team, kept at sync time: per organization (the accounts'),
-- team and license, the people (not left, not deactivated) and their
-- seats, a person in n teams counting 1/n in each; miro_team_id '' holds
-- the people in no team. Grouping 300,000 memberships takes a second or
-- two, too slow for a page but not for a sync that moved seats.
CREATE TABLE team_licenses (
    org_id       TEXT    NOT NULL,
    miro_team_id TEXT    NOT NULL,
    license      TEXT    NOT NULL,
    people       INTEGER NOT NULL,
    shares       REAL NOT NULL,
    PRIMARY KEY (org_id, miro_team_id, license)
);

INSERT INTO team_licenses (org_id, miro_team_id, license, people, shares)
SELECT a.org_id, m.miro_team_id, a.license, COUNT(*),
        SUM(1.0 / (SELECT COUNT(*) FROM memberships x WHERE x.account_id = a.id))
    FROM accounts a JOIN memberships m ON m.account_id = a.id
    WHERE a.left_at IS NULL AND a.active
    GROUP BY a.org_id, m.miro_team_id, a.license
UNION ALL
SELECT a.org_id, '', a.license, COUNT(*), COUNT(*) FROM accounts a
    WHERE a.left_at IS NULL AND a.active
        AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.account_id = a.id)
    GROUP BY a.org_id, a.license;

-- +goose Down
DROP TABLE team_licenses;
