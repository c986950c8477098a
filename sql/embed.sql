-- In-database embedding: what needs no model file.  Models, inference,
-- cancel and the tokenizer are tested in test/t/05*_embed_*.pl.
\set VERBOSITY default
-- every SQL function of the subsystem is documented
SELECT p.oid::regprocedure AS undocumented
FROM pg_proc p
WHERE p.pronamespace = 'vsim'::regnamespace AND obj_description(p.oid, 'pg_proc') IS NULL;
SELECT proname, provolatile, proisstrict, prosecdef
FROM pg_proc WHERE pronamespace = 'vsim'::regnamespace
  AND proname IN ('embed', 'embed_output', 'tokenize', 'create_model', 'drop_model')
ORDER BY proname, oid::regprocedure::text;
-- settings (registered when vsim's library loads, which the cast does)
SELECT '[1]'::vector IS NOT NULL AS loaded;
SHOW vsim.onnxruntime_library;
SHOW vsim.model_directory;
SHOW vsim.intra_op_threads;
SHOW vsim.embed_batch_size;
SET vsim.intra_op_threads = 0;
SET vsim.embed_batch_size = 1025;
-- a missing runtime: clear error and hint (before this backend loads one)
SET vsim.onnxruntime_library = '/nonexistent/libonnxruntime.so.1';
SELECT vsim.onnxruntime_version();
RESET vsim.onnxruntime_library;
SELECT vsim.onnxruntime_version();
-- unknown models
SELECT vsim.embed('no_such_model', 'some text');
SELECT vsim.embed('no_such_model', ARRAY['a', 'b']);
SELECT vsim.embed('no_such_model', '{1,2}'::real[]);
SELECT vsim.embed_output('no_such_model', '{1,2}'::real[], 'out');
SELECT vsim.tokenize('no_such_model', 'text');
SELECT vsim.drop_model('no_such_model');
SELECT vsim.drop_model('no_such_model', if_exists => true);
SELECT vsim.embed(NULL, 'x') IS NULL AS strict;
-- ... during a restore (pg_dump's scripts and pg_restore turn this off)
SET check_function_bodies = off;
SELECT vsim.embed('no_such_model', 'some text');
RESET check_function_bodies;
-- names that are not models leave nothing behind in the backend's cache
SELECT total_bytes AS cache_bytes FROM pg_backend_memory_contexts WHERE name = 'vsim models' \gset
DO $$
BEGIN
	FOR i IN 1 .. 5000 LOOP
		BEGIN
			PERFORM vsim.embed('no_such_model_' || i, 'x');
		EXCEPTION WHEN undefined_object THEN
			NULL;
		END;
	END LOOP;
END
$$;
SELECT total_bytes <= :cache_bytes AS cache_not_grown
FROM pg_backend_memory_contexts WHERE name = 'vsim models';
SELECT count(*) FROM vsim.models;
-- registration: the model directory and its path checks
SELECT vsim.create_model('m', 'model.onnx');
SET vsim.model_directory = '/nonexistent/models';
SELECT vsim.create_model('m', 'model.onnx');
SET vsim.model_directory = '/usr/share';
SELECT vsim.create_model('m', '../../etc/passwd');
SELECT vsim.create_model('m', 'a/../b.onnx');
SELECT vsim.create_model('m', '/etc/passwd');
SELECT vsim.create_model('m', 'no-such-file.onnx');
SELECT vsim.create_model('m', '');
SELECT vsim.create_model(NULL, 'x');
SELECT vsim.create_model(repeat('n', 64), 'x');
-- options are checked before any file is read
SELECT vsim.create_model('m', 'x', options => '[1]');
SELECT vsim.create_model('m', 'x', options => '{"pooling": "max"}');
SELECT vsim.create_model('m', 'x', options => '{"input": "image"}');
SELECT vsim.create_model('m', 'x', options => '{"max_length": "long"}');
SELECT vsim.create_model('m', 'x', options => '{"dimensions": 0}');
SELECT vsim.create_model('m', 'x', options => '{"input_shape": []}');
SELECT vsim.create_model('m', 'x', options => '{"input_shape": [1, -2]}');
SELECT vsim.create_model('m', 'x', options => '{"input_scale": 0}');
SELECT vsim.create_model('m', 'x', options => '{"whatever": 1}');
SELECT vsim.create_model('m', 'x', options => '{"input": "text"}');
SELECT vsim.create_model('m', 'x', 'vocab.txt', '{"input": "tensor"}');
-- privileges: registering needs EXECUTE (not granted to PUBLIC), reading does not
CREATE ROLE regress_embed_user;
SET ROLE regress_embed_user;
SELECT vsim.create_model('m', 'x');
SELECT vsim.drop_model('m');
SELECT count(*) FROM vsim.models;
SELECT count(*) FROM vsim.model_registry;
SELECT vsim.embed('no_such_model', 'some text');
RESET ROLE;
DROP ROLE regress_embed_user;
