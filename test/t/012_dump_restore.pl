# pg_dump / pg_restore of a database using vsim: vector columns, both index
# access methods with their options, and search results survive the trip.
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use PostgreSQL::Test::Utils;
use Test::More;
use VsimTest;

my $node = vsim_node('dump');
$node->safe_psql('postgres', q{
	CREATE TABLE items (id int PRIMARY KEY, category text, v vector(16));
	INSERT INTO items SELECT i, 'c' || (i % 5),
		array(SELECT sin(i * 3.7 + j) FROM generate_series(1, 16) j)::vector
	FROM generate_series(1, 2000) i;
	INSERT INTO items VALUES (2001, 'none', NULL);
	CREATE INDEX items_hnsw ON items USING hnsw (v vector_cosine_ops) WITH (m = 8, ef_construction = 32);
	CREATE INDEX items_ivf ON items USING ivfflat (v vector_l2_ops) WITH (lists = 20);
});

my $query = q{
	SELECT string_agg(id::text, ',' ORDER BY d, id) FROM (
		SELECT id, v <=> '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]' AS d FROM items
		ORDER BY v <=> '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]' LIMIT 10) s};
my $before = $node->safe_psql('postgres', $query);

my $dump = PostgreSQL::Test::Utils::tempdir() . '/vsim.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('restored'), $dump ], 'pg_restore');

is($node->safe_psql('restored', 'SELECT count(*), count(v), sum(vector_dims(v)) FROM items'),
	'2001|2000|32000', 'every row and vector restored');
is($node->safe_psql('restored',
		q{SELECT string_agg(indexdef, E'\n' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'items' AND indexname <> 'items_pkey'}),
	"CREATE INDEX items_hnsw ON public.items USING hnsw (v vector_cosine_ops) WITH (m='8', ef_construction='32')\n"
	  . "CREATE INDEX items_ivf ON public.items USING ivfflat (v) WITH (lists='20')",  # vector_l2_ops is the default
	'both indexes restored with their operator classes and options');
is($node->safe_psql('restored', "SET enable_seqscan = off; $query"), $before,
	'the restored HNSW index answers like the original');
like($node->safe_psql('restored', "EXPLAIN (COSTS OFF) $query"), qr/items_hnsw/,
	'the restored index is used');
# the values themselves are bit-identical: compare through their text form
is($node->safe_psql('restored', q{SELECT md5(string_agg(v::text, ';' ORDER BY id)) FROM items}),
	$node->safe_psql('postgres', q{SELECT md5(string_agg(v::text, ';' ORDER BY id)) FROM items}),
	'restored vectors are identical to the dumped ones');

$node->stop;
done_testing();
