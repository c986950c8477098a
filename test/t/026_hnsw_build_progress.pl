# HNSW build progress: while CREATE INDEX runs in one session, another
# sees it in pg_stat_progress_create_index in hnsw's "loading tuples"
# phase with tuples counted.  The index expression sleeps 5 ms a row, so
# the phase lasts seconds and is seen without depending on timing.
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use PostgreSQL::Test::Utils;
use Test::More;
use VsimTest;

my $rows = 1000;
my $node = vsim_node('hnsw_build_progress');
$node->safe_psql('postgres', qq{
	CREATE FUNCTION slow_identity(v vector) RETURNS vector IMMUTABLE LANGUAGE plpgsql
	  AS \$\$ BEGIN PERFORM pg_sleep(0.005); RETURN v; END \$\$;
	CREATE TABLE items (id int, v vector(4));
	INSERT INTO items SELECT i, ARRAY[i % 7, i % 11, i % 13, i]::real[] FROM generate_series(1, $rows) i;
	ANALYZE items;
});

my $build = $node->background_psql('postgres');
$build->query_until(qr/building/, q{
	\echo building
	CREATE INDEX items_hnsw ON items USING hnsw ((slow_identity(v)::vector(4)) vector_l2_ops);
});
ok( $node->poll_query_until('postgres', q{
		SELECT phase = 'building index: loading tuples' AND tuples_done > 0
		  FROM pg_stat_progress_create_index WHERE relid = 'items'::regclass}),
	'a second session sees the build loading tuples, with tuples done');
my $progress = $node->safe_psql('postgres', q{
	SELECT command, tuples_total, tuples_done <= tuples_total
	  FROM pg_stat_progress_create_index WHERE relid = 'items'::regclass});
# the phase lasts about 5 s after its first tuples, so it is still on
is($progress, "CREATE INDEX|$rows|t", "it reports the command and $rows tuples in all");
$build->quit;

is($node->safe_psql('postgres', q{SELECT heap_tids FROM vsim.hnsw_index_stats('items_hnsw')}),
	$rows, 'the build finished with every row');

$node->stop;
done_testing();
