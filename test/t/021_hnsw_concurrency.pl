# HNSW under concurrency: inserts from several pgbench clients with
# queries running alongside, then an immediate shutdown in the middle of
# concurrent inserts; after recovery the index must find every committed
# row.
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use VsimTest;

my $dims = 32;
my $node = vsim_node('hnsw_concurrency', conf => "max_connections = 40\n");
random_items($node, 2000, $dims);

my %scripts = (
	'hnsw_insert@3' => "INSERT INTO items (v) SELECT array_agg(random()::real)::vector($dims) FROM generate_series(1, $dims);",
	'hnsw_query@1' => "SET enable_seqscan = off;\n"
	  . "SELECT count(*) FROM (SELECT id FROM items ORDER BY v <-> (SELECT array_agg(random()::real)::vector($dims) FROM generate_series(1, $dims)) LIMIT 5) s;",
);

# Rows the index cannot find: an iterative scan filtered to the row's id,
# ordered by distance to its own vector, must reach it.  (The id + 0 keeps
# the planner off the primary key.)
sub missing_rows
{
	return $node->safe_psql('postgres', q{
		SET enable_seqscan = off; SET hnsw.iterative_scan = relaxed_order;
		SELECT count(*) FROM items q WHERE NOT EXISTS (
			SELECT 1 FROM items t WHERE t.id + 0 = q.id ORDER BY t.v <-> q.v LIMIT 1);
	});
}

# Share of rows that are their own nearest neighbour in a plain scan.
sub self_recall
{
	return $node->safe_psql('postgres', q{
		SET enable_seqscan = off; SET hnsw.ef_search = 100;
		SELECT avg(((SELECT t.id FROM items t ORDER BY t.v <-> q.v LIMIT 1) = q.id)::int)::numeric(4,3)
		FROM items q;
	});
}

$node->pgbench('--no-vacuum --client=6 --jobs=2 --transactions=300',
	0, [qr{processed: 1800/1800}], [qr{^$}],
	'concurrent inserts and queries', \%scripts);
my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM items');
cmp_ok($rows, '>', 2000 + 1000, "pgbench inserted rows ($rows in all)");
is($node->safe_psql('postgres', "SELECT heap_tids FROM vsim.hnsw_index_stats('items_hnsw')"),
	$rows, 'the index holds every row');
is(missing_rows(), 0, 'after concurrent inserts the index finds every row');
cmp_ok(self_recall(), '>=', 0.99, 'rows are their own nearest neighbour');

# Crash in the middle of concurrent inserts.
my $script = $node->basedir . '/hnsw_crash_insert.sql';
PostgreSQL::Test::Utils::append_to_file($script, $scripts{'hnsw_insert@3'});
my ($out, $err) = ('', '');
my $bench = IPC::Run::start(
	[ 'pgbench', '--no-vacuum', '--client=4', '--jobs=2', '--time=60', '-f', $script,
		'-h', $node->host, '-p', $node->port, 'postgres' ],
	'>', \$out, '2>', \$err);
$node->poll_query_until('postgres', "SELECT count(*) > $rows + 500 FROM items")
  or die 'pgbench inserts did not progress';
$node->stop('immediate');
$bench->finish;
$node->start;
my $after = $node->safe_psql('postgres', 'SELECT count(*) FROM items');
cmp_ok($after, '>', $rows + 500, "rows committed before the crash survive ($after)");
is($node->safe_psql('postgres', "SELECT heap_tids >= $after FROM vsim.hnsw_index_stats('items_hnsw')"),
	't', 'after recovery the index holds every committed row');
is(missing_rows(), 0, 'after recovery the index finds every committed row');
cmp_ok(self_recall(), '>=', 0.99, 'after recovery rows are their own nearest neighbour');

# The recovered index takes further inserts and VACUUM.
$node->safe_psql('postgres', qq{
	INSERT INTO items (v) SELECT array_agg(random()::real)::vector($dims)
	  FROM generate_series(1, 200) i, generate_series(1, $dims) j GROUP BY i;
	DELETE FROM items WHERE id % 3 = 0;
	VACUUM items;
});
is(missing_rows(), 0, 'after more inserts and VACUUM the index finds every row');

$node->stop;
done_testing();
