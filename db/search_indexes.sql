-- Trigram indexes that make catalog search (ILIKE '%term%') fast on large catalogs.
-- Optional: applied at start-up when RUN_INDEX_BOOTSTRAP=1 and the server can create
-- pg_trgm (the embedded server cannot; search stays correct without them, only slower).
-- Idempotent, like schema.sql.

SET client_min_messages = warning;

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX IF NOT EXISTS products_name_trgm_idx
    ON Products USING gin (name gin_trgm_ops);
CREATE INDEX IF NOT EXISTS products_manufacturer_trgm_idx
    ON Products USING gin (manufacturer gin_trgm_ops);
CREATE INDEX IF NOT EXISTS product_skus_sku_code_trgm_idx
    ON Product_SKUs USING gin (sku_code gin_trgm_ops);
CREATE INDEX IF NOT EXISTS product_skus_package_trgm_idx
    ON Product_SKUs USING gin ((package_size || ' ' || unit_type) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS inventory_batches_batch_no_trgm_idx
    ON Inventory_Batches USING gin (batch_no gin_trgm_ops);
