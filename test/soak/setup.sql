-- Soak test schema (scripts/soak.sh): one table per index method, each row
-- a random 32-d vector, and a ledger written in the same transaction as
-- every insert and delete, so that after a crash the ledger says exactly
-- which rows must exist.
CREATE EXTENSION IF NOT EXISTS vsim;
CREATE FUNCTION soak_vector() RETURNS vector LANGUAGE sql VOLATILE AS
  $$ SELECT ARRAY(SELECT random() - 0.5 FROM generate_series(1, 32))::real[]::vector(32) $$;
CREATE SEQUENCE soak_ids;
CREATE TABLE soak_hnsw (id bigint PRIMARY KEY, v vector(32) NOT NULL);
CREATE TABLE soak_ivf (id bigint PRIMARY KEY, v vector(32) NOT NULL);
CREATE TABLE soak_ledger (tbl text NOT NULL, id bigint NOT NULL, inserted boolean NOT NULL);
INSERT INTO soak_hnsw SELECT nextval('soak_ids'), soak_vector() FROM generate_series(1, :rows);
INSERT INTO soak_ivf SELECT nextval('soak_ids'), soak_vector() FROM generate_series(1, :rows);
INSERT INTO soak_ledger SELECT 'soak_hnsw', id, true FROM soak_hnsw;
INSERT INTO soak_ledger SELECT 'soak_ivf', id, true FROM soak_ivf;
CREATE INDEX soak_hnsw_v ON soak_hnsw USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
CREATE INDEX soak_ivf_v ON soak_ivf USING ivfflat (v vector_l2_ops) WITH (lists = 40);
