-- vsim.index_check(): the dispatcher's own errors and privileges; each
-- method's checks are tested in hnsw.sql, ivf.sql and the TAP tests that
-- damage pages on purpose.
\set VERBOSITY default
CREATE TABLE ic (id int PRIMARY KEY, v vector(2));
INSERT INTO ic SELECT i, ARRAY[i, -i]::real[] FROM generate_series(1, 10) i;
-- not an index, not a vsim index, no such relation
SELECT vsim.index_check('ic');
SELECT vsim.index_check('ic_pkey');
SELECT vsim.index_check(0::oid::regclass);
-- superuser only unless granted, as amcheck
CREATE ROLE ic_user;
GRANT SELECT ON ic TO ic_user;
SET ROLE ic_user;
SELECT vsim.index_check('ic_pkey');
RESET ROLE;
DROP TABLE ic;
DROP ROLE ic_user;
