-- The catalog's versions (kernel/catalog_version.py).

-- name: catalog_version
-- The latest catalog and listing versions: part of the catalog cache keys (see
-- kernel/catalog_version.py). The catalog version is read first: a listing change draws its listing
-- version before its catalog version, so a reader never pairs a new catalog version with
-- an old listing version.
SELECT (SELECT last_value FROM catalog_version) AS version,
       (SELECT last_value FROM catalog_listing_version) AS listing_version;

-- name: catalog_version_and_position
-- The same, and the primary's WAL position read after them: at or past the commit of every
-- change they cover (with a read replica, kernel/catalog_version.py lsn_covering).
SELECT (SELECT last_value FROM catalog_version) AS version,
       (SELECT last_value FROM catalog_listing_version) AS listing_version,
       pg_current_wal_insert_lsn()::text AS position;

-- name: bump_stock_version
-- After a committed change to stock only (a sale, a receipt, an adjustment): a new catalog
-- version, announced to every worker. The listing version stays.
SELECT pg_notify('stockline_catalog', v::text), v AS version
FROM nextval('catalog_version') AS v;

-- name: bump_catalog_version
-- After a committed change to anything else a listing shows (products, SKUs, prices, pricing
-- rules, active flags), or when unsure what changed: a new listing version, then a new
-- catalog version, announced to every worker in that order (a worker that saw the new
-- catalog version has seen the new listing version too).
SELECT pg_notify('stockline_listing', l::text), l AS listing_version,
       v AS version, pg_notify('stockline_catalog', v::text)
FROM nextval('catalog_listing_version') AS l
CROSS JOIN LATERAL (SELECT nextval('catalog_version') AS v, l AS after_listing) AS later;
