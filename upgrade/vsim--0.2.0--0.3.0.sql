-- vsim 0.2.0 -> 0.3.0 (ALTER EXTENSION vsim UPDATE).  Brings a 0.2.0
-- catalog to what vsim--0.3.0.sql creates; test/t/013_upgrade.pl compares
-- the two object by object.  Every SQL object added or changed in 0.3.0
-- goes here as well as into its subsystem's fragment.
\echo Use "ALTER EXTENSION vsim UPDATE" to load this file. \quit
