# ALTER EXTENSION vsim UPDATE from every earlier version: the upgraded
# catalog equals a fresh install object by object, and indexes built under
# the old version answer as before.
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use PostgreSQL::Test::Utils;
use Test::More;
use VsimTest;

my $node = vsim_node('upgrade');    # "postgres" holds a fresh install

# An ACL as text in a canonical order (a default ACL spelt out, as a GRANT
# leaves it, equals the implicit one).
sub acl
{
	my ($expr) = @_;
	return "(SELECT string_agg(a.grantee::regrole::text || ':' || a.privilege_type, ','"
	  . " ORDER BY a.grantee::regrole::text, a.privilege_type) FROM aclexplode($expr) a)";
}

# Every object of the extension with what defines it: signatures, symbols,
# volatility, strictness, parallel safety, privileges, comments, operator
# and cast properties, operator classes' members, table columns, views.
my $describe = qq{
WITH m AS (
  SELECT d.classid, d.objid, d.objsubid FROM pg_depend d JOIN pg_extension e ON d.refobjid = e.oid
  WHERE d.refclassid = 'pg_extension'::regclass AND e.extname = 'vsim' AND d.deptype = 'e')
SELECT pg_describe_object(classid, objid, objsubid) || ' = ' || concat_ws(' | ',
  obj_description(objid, classid::regclass::text),
  CASE classid
  WHEN 'pg_proc'::regclass THEN (SELECT concat_ws(' | ', pg_get_function_result(p.oid),
      pg_get_function_arguments(p.oid), p.prosrc, p.provolatile, p.proisstrict, p.proparallel,
      p.prokind, p.procost, p.prorows, p.prosupport, @{[acl(q{coalesce(p.proacl, acldefault('f', p.proowner))})]},
      (SELECT concat_ws(' ', a.aggtransfn, a.aggfinalfn, a.aggcombinefn, a.aggserialfn,
         a.aggdeserialfn, a.aggtranstype::regtype, a.agginitval)
       FROM pg_aggregate a WHERE a.aggfnoid = p.oid))
    FROM pg_proc p WHERE p.oid = objid)
  WHEN 'pg_operator'::regclass THEN (SELECT concat_ws(' | ', o.oprcode, o.oprcom::regoper,
      o.oprnegate::regoper, o.oprrest, o.oprjoin, o.oprcanmerge, o.oprcanhash)
    FROM pg_operator o WHERE o.oid = objid)
  WHEN 'pg_type'::regclass THEN (SELECT concat_ws(' | ', t.typinput, t.typoutput, t.typreceive,
      t.typsend, t.typmodin, t.typmodout, t.typanalyze, t.typstorage, t.typalign, t.typlen,
      t.typcategory, @{[acl(q{coalesce(t.typacl, acldefault('T', t.typowner))})]})
    FROM pg_type t WHERE t.oid = objid)
  WHEN 'pg_cast'::regclass THEN (SELECT concat_ws(' | ', c.castfunc::regprocedure, c.castcontext,
      c.castmethod) FROM pg_cast c WHERE c.oid = objid)
  WHEN 'pg_opclass'::regclass THEN (SELECT concat_ws(' | ', oc.opcdefault,
      (SELECT string_agg(concat_ws(':', ao.amopstrategy, ao.amopopr::regoperator, ao.amoppurpose,
         ao.amopsortfamily::regclass), ',' ORDER BY ao.amopstrategy)
       FROM pg_amop ao WHERE ao.amopfamily = oc.opcfamily),
      (SELECT string_agg(ap.amprocnum || ':' || ap.amproc::regprocedure, ',' ORDER BY ap.amprocnum)
       FROM pg_amproc ap WHERE ap.amprocfamily = oc.opcfamily))
    FROM pg_opclass oc WHERE oc.oid = objid)
  WHEN 'pg_am'::regclass THEN (SELECT a.amhandler::regproc::text FROM pg_am a WHERE a.oid = objid)
  WHEN 'pg_class'::regclass THEN (SELECT concat_ws(' | ', c.relkind, @{[acl(q{coalesce(c.relacl, acldefault('r', c.relowner))})]},
      (SELECT string_agg(concat_ws(' ', attname, format_type(atttypid, atttypmod), attnotnull,
         pg_get_expr(ad.adbin, ad.adrelid)), ', ' ORDER BY attnum)
       FROM pg_attribute LEFT JOIN pg_attrdef ad ON ad.adrelid = attrelid AND ad.adnum = attnum
       WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped),
      CASE WHEN c.relkind = 'v' THEN pg_get_viewdef(c.oid) END)
    FROM pg_class c WHERE c.oid = objid)
  WHEN 'pg_namespace'::regclass THEN (SELECT @{[acl(q{coalesce(nspacl, acldefault('n', nspowner))})]} FROM pg_namespace WHERE oid = objid)
  END)
FROM m
UNION ALL SELECT 'extension config = ' || concat_ws(' | ', extconfig::regclass[]::text, extcondition::text)
  FROM pg_extension WHERE extname = 'vsim'
ORDER BY 1};

my $fresh = $node->safe_psql('postgres', $describe);
like($fresh, qr/access method hnsw = .*hnswhandler/, 'the description covers the access methods');

my $query = q{
	SET enable_seqscan = off; SET hnsw.ef_search = 100; SET ivfflat.probes = 4;
	SELECT string_agg(id::text, ',' ORDER BY d, id) FROM (
		SELECT id, v <-> '[0.5,0,0.5,0,0.5,0,0.5,0]' AS d FROM items
		ORDER BY v <-> '[0.5,0,0.5,0,0.5,0,0.5,0]' LIMIT 10) s
	UNION ALL
	SELECT string_agg(id::text, ',' ORDER BY d, id) FROM (
		SELECT id, v <=> '[1,0,1,0,1,0,1,0]' AS d FROM items
		ORDER BY v <=> '[1,0,1,0,1,0,1,0]' LIMIT 10) s};

for my $from ('0.1.0', '0.2.0')
{
	my $db = 'from_' . ($from =~ tr/./_/r);
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, qq{
		CREATE EXTENSION vsim VERSION '$from';
		CREATE TABLE items (id int PRIMARY KEY, v vector(8));
		INSERT INTO items SELECT i, array(SELECT sin(i * 1.3 + j) FROM generate_series(1, 8) j)::vector
		FROM generate_series(1, 3000) i;
		CREATE INDEX items_ivf ON items USING ivfflat (v vector_l2_ops) WITH (lists = 8);
		CREATE INDEX items_hnsw ON items USING hnsw (v vector_cosine_ops) WITH (m = 8);
	});
	my $before = $node->safe_psql($db, $query);
	$node->safe_psql($db, 'ALTER EXTENSION vsim UPDATE');
	is($node->safe_psql($db, "SELECT extversion FROM pg_extension WHERE extname = 'vsim'"),
		$node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'vsim'"),
		"$from: updated to the default version");
	is($node->safe_psql($db, $describe), $fresh, "$from: the updated catalog equals a fresh install");

	# a new connection, so that nothing cached from before the update is used
	is($node->safe_psql($db, $query), $before, "$from: indexes built under $from answer as before");
	$node->safe_psql($db, q{INSERT INTO items SELECT i, array(SELECT cos(i + j) FROM generate_series(1, 8) j)::vector
		FROM generate_series(3001, 3100) i});
	is($node->safe_psql($db, q{SET enable_seqscan = off;
		SELECT count(*) FROM (SELECT id FROM items ORDER BY v <-> '[1,1,1,1,1,1,1,1]' LIMIT 5) s}),
		'5', "$from: the old indexes take inserts");
	is($node->safe_psql($db, q{SELECT heap_tids FROM vsim.hnsw_index_stats('items_hnsw')}),
		'3100', "$from: statistics work after the update");
	is($node->safe_psql($db, q{SELECT vsim.index_check('items_hnsw', true), vsim.index_check('items_ivf', true)}),
		'|', "$from: indexes built under $from pass vsim.index_check");
	is($node->safe_psql($db, q{SELECT '[3,4]'::halfvec <-> '[0,0]'::halfvec,
		count(*) FILTER (WHERE v::halfvec::vector <-> v < 0.001) FROM items}),
		'5|3100', "$from: halfvec works after the update");
}

done_testing();
