# IVFFlat build progress in pg_stat_progress_create_index.  The build is
# held at fixed points instead of polled in a race: the index expression
# calls a function that, at row 1500, waits for an advisory lock that this
# test holds: the first time (the sampling scan) lock 1, the second time
# (the assignment scan) lock 2.  While the build waits, its progress row is
# read; then the lock is released.
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use PostgreSQL::Test::Utils;
use Test::More;
use VsimTest;

my $nrows = 3000;
my $node = vsim_node('ivf_progress', conf => "max_parallel_maintenance_workers = 0\n");
$node->safe_psql('postgres', qq{
	CREATE TABLE items (id int, v vector(8));
	INSERT INTO items SELECT i, ARRAY(SELECT ((i * d) % 23)::real FROM generate_series(1, 8) d)::vector
	FROM generate_series(1, $nrows) i;
	CREATE SEQUENCE pauses;
	-- not really immutable: it waits, on row 1500, for lock 1 and then lock 2
	CREATE FUNCTION paused(id int, v vector) RETURNS vector IMMUTABLE LANGUAGE plpgsql AS \$\$
	BEGIN
		IF id = 1500 THEN
			PERFORM pg_advisory_lock_shared(nextval('pauses'));
		END IF;
		RETURN v;
	END \$\$;
});
my $heap_blocks = $node->safe_psql('postgres', "SELECT pg_relation_size('items') / 8192");

my $holder = $node->background_psql('postgres');
$holder->query_safe('SELECT pg_advisory_lock(1), pg_advisory_lock(2)');
my $build = $node->background_psql('postgres');
$build->query_until(qr/building/, q{
	\echo building
	CREATE INDEX items_ivf ON items USING ivfflat ((paused(id, v)::vector(8))) WITH (lists = 10);
});

# The build's progress once it waits for the advisory lock, in `phase`.
sub progress_at
{
	my ($phase) = @_;
	$node->poll_query_until('postgres', qq{
		SELECT count(*) = 1 FROM pg_stat_progress_create_index p
		JOIN pg_stat_activity a USING (pid)
		WHERE p.phase = 'building index: $phase' AND a.wait_event = 'advisory'})
	  or die "the build did not wait in phase $phase";
	return $node->safe_psql('postgres', q{
		SELECT command, tuples_done, tuples_total, blocks_done, blocks_total
		FROM pg_stat_progress_create_index});
}

my ($command, $done, $total, $blocks_done, $blocks_total) = split /\|/, progress_at('sampling table');
is($command, 'CREATE INDEX', 'the build reports as CREATE INDEX');
is($blocks_total, $heap_blocks, "sampling table: the scan covers the table's $heap_blocks blocks");
cmp_ok($blocks_done, '<', $blocks_total, '... and is part-way through them');
$holder->query_safe('SELECT pg_advisory_unlock(1)');

($command, $done, $total, $blocks_done, $blocks_total) = split /\|/, progress_at('assigning tuples');
is($total, $nrows, "assigning tuples: tuples_total is the $nrows rows the sampling scan saw");
is($done, 1499, 'assigning tuples: tuples_done counts the rows assigned so far (those before row 1500)');
$holder->query_safe('SELECT pg_advisory_unlock(2)');

$build->query_safe('SELECT 1');
is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_stat_progress_create_index'), '0',
	'the progress row is gone after the build');
is($node->safe_psql('postgres', "SELECT rows FROM vsim.ivfflat_index_stats('items_ivf')"), $nrows,
	"the build went on and indexed all $nrows rows");
$build->quit;
$holder->quit;

$node->stop;
done_testing();
