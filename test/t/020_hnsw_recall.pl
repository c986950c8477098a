# HNSW recall on real data (Fashion-MNIST) against an independent numpy
# brute force: every operator class at default settings, a graph built by
# inserting into an empty index, a parallel build, a seeded build the same
# with every kernel set, recall after deleting
# half the rows and vacuuming, and filtered queries with iterative scan.
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use PostgreSQL::Test::Utils;
use Test::More;
use List::Util qw(sum);
use VsimTest;

my ($ntrain, $ntest, $k) = (10000, 100, 10);
my $node = vsim_node('hnsw_recall',
	conf => "maintenance_work_mem = 512MB\nmax_parallel_maintenance_workers = 2\n");
load_fmnist($node, 'train', 'train', $ntrain);
load_fmnist($node, 'test', 'test', $ntest);

# k nearest neighbours of every test image through the index.
sub knn_rows
{
	my ($op, $settings) = @_;
	return knn_query($node, $op, $k, settings => "SET enable_seqscan = off; $settings");
}

sub uses_index
{
	my ($op, $index) = @_;
	my $plan = $node->safe_psql('postgres', qq{
		EXPLAIN (COSTS OFF) SELECT q.id, n.id FROM test q CROSS JOIN LATERAL (
			SELECT t.id FROM train t ORDER BY t.v $op q.v LIMIT $k) n;
	});
	return $plan =~ /Index Scan using $index/;
}

my %ops = (l2 => '<->', ip => '<#>', cosine => '<=>', l1 => '<+>');
my %truth;
for my $metric (sort keys %ops)
{
	$truth{$metric} = fmnist_truth($metric, $k, $ntrain, $ntest);
	$node->safe_psql('postgres',
		"CREATE INDEX train_hnsw ON train USING hnsw (v vector_${metric}_ops)");
	ok(uses_index($ops{$metric}, 'train_hnsw'), "$metric: the planner uses the index");
	my ($ids, $dist) = knn_rows($ops{$metric}, '');
	my $recall = recall_at_k($truth{$metric}, $ids, $dist, $k);
	cmp_ok($recall, '>=', 0.95, "$metric: recall\@$k $recall >= 0.95 at default settings");
	$node->safe_psql('postgres', 'DROP INDEX train_hnsw');
}

# Lower ef_search trades recall for speed; higher buys recall.
$node->safe_psql('postgres',
	'CREATE INDEX train_hnsw ON train USING hnsw (v vector_l2_ops)');
my ($ids10, $dist10) = knn_rows('<->', 'SET hnsw.ef_search = 10;');
my ($ids100, $dist100) = knn_rows('<->', 'SET hnsw.ef_search = 100;');
my $r10 = recall_at_k($truth{l2}, $ids10, $dist10, $k);
my $r100 = recall_at_k($truth{l2}, $ids100, $dist100, $k);
cmp_ok($r100, '>', $r10, "ef_search 100 recall $r100 > ef_search 10 recall $r10");
cmp_ok($r100, '>=', 0.99, "ef_search 100 recall $r100 >= 0.99");

# A seeded serial build writes the same bytes whatever the kernel set: its
# searches stop distances at a bound (each set's l2_squared_below), its
# re-pruning works from the distances the lists keep, and every set must
# still return the bits of the portable one where the result matters.
$node->safe_psql('postgres',
	'CREATE TABLE train3k AS SELECT * FROM train WHERE id <= 3000');

sub seeded_index_bytes
{
	my ($kernel) = @_;
	my $path = $node->safe_psql('postgres', qq{
		LOAD 'vsim'; SET vsim.distance_kernel = $kernel; SET hnsw.level_seed = 3;
		CREATE INDEX train3k_hnsw ON train3k USING hnsw (v vector_l2_ops);
		CHECKPOINT;
		SELECT pg_relation_filepath('train3k_hnsw');
	});
	my $bytes = slurp_file($node->data_dir . "/$path");
	$node->safe_psql('postgres', 'DROP INDEX train3k_hnsw');
	# leave out each page's LSN and checksum, which differ between builds
	return join('', map { substr($bytes, $_ + 10, 8192 - 10) }
		grep { $_ % 8192 == 0 } 0 .. length($bytes) - 1);
}
my $portable_bytes = seeded_index_bytes('portable');
cmp_ok(length($portable_bytes), '>', 3000 * 3136, 'seeded build: the index holds every vector');
for my $kernel (qw(avx2 avx512))
{
	# loaded first: else the setting is a placeholder, checked only later
	my $supported =
	  $node->psql('postgres', "LOAD 'vsim'; SET vsim.distance_kernel = $kernel") == 0;
	SKIP:
	{
		skip "CPU lacks $kernel", 1 unless $supported;
		ok(seeded_index_bytes($kernel) eq $portable_bytes,
			"seeded build with the $kernel kernels: the bytes of the portable kernels' build");
	}
}
$node->safe_psql('postgres', 'DROP TABLE train3k');

# Filtered queries at 1% selectivity: iterative scan keeps searching.
my $filtered = qq{
	SET enable_seqscan = off;
	SELECT count(*) FROM test q CROSS JOIN LATERAL (
		SELECT t.id FROM train t WHERE t.id % 100 = 7 ORDER BY t.v <-> q.v LIMIT $k) n};
my $without = $node->safe_psql('postgres', $filtered);
cmp_ok($without, '<', $ntest * $k, "without iterative scan a 1% filter loses rows ($without)");
for my $mode (qw(relaxed_order strict_order))
{
	my $with = $node->safe_psql('postgres', "SET hnsw.iterative_scan = $mode; $filtered");
	is($with, $ntest * $k, "$mode: a 1% filter returns $k rows for every query");
}
my $strict_sorted = $node->safe_psql('postgres', q{
	SET enable_seqscan = off; SET hnsw.iterative_scan = strict_order;
	SELECT bool_and(ordered) FROM test q CROSS JOIN LATERAL (
		SELECT d >= lag(d, 1, 0::float8) OVER () AS ordered FROM (
			SELECT t.v <-> q.v AS d FROM train t WHERE t.id % 100 = 7
			ORDER BY t.v <-> q.v LIMIT 10) s) n;
});
is($strict_sorted, 't', 'strict_order returns rows in distance order');
$node->safe_psql('postgres', 'DROP INDEX train_hnsw');

# Parallel build: workers are launched and the graph is as good.
my ($stdout, $stderr);
$node->psql('postgres', q{
	SET client_min_messages = debug1; SET max_parallel_maintenance_workers = 2;
	CREATE INDEX train_hnsw ON train USING hnsw (v vector_l2_ops)},
	stdout => \$stdout, stderr => \$stderr, on_error_die => 1);
like($stderr, qr/hnsw build of "train_hnsw": [12] parallel workers launched/,
	'parallel build launches workers');
# every participant reports its share of the table scan (DEBUG1)
my @shares = $stderr =~ /hnsw build of "train_hnsw": (leader|worker \d+) scanned (\d+) heap tuples/g;
my %share = @shares;
cmp_ok(scalar(grep { /^worker/ } keys %share), '>', 0, 'parallel build: workers scan part of the table');
is(sum(values %share), $ntrain, 'parallel build: leader and workers scan every row once');
my ($pids, $pdist) = knn_rows('<->', '');
my $precall = recall_at_k($truth{l2}, $pids, $pdist, $k);
cmp_ok($precall, '>=', 0.95, "parallel build: recall\@$k $precall >= 0.95");
is($node->safe_psql('postgres', "SELECT elements FROM vsim.hnsw_index_stats('train_hnsw')"),
	$ntrain, 'parallel build: every row is an element');
$node->safe_psql('postgres', 'DROP INDEX train_hnsw');

# A parallel build sizes its shared memory from the table's size, not
# from statistics taken when it was a quarter as large.
$node->safe_psql('postgres', q{
	CREATE TABLE grown (id int, v vector(8)) WITH (autovacuum_enabled = off);
	INSERT INTO grown SELECT i, ARRAY(SELECT sin(i * j) FROM generate_series(1, 8) j)::vector
		FROM generate_series(1, 6000) i;
	ANALYZE grown;
	INSERT INTO grown SELECT i, ARRAY(SELECT sin(i * j) FROM generate_series(1, 8) j)::vector
		FROM generate_series(6001, 26000) i;
});
$node->psql('postgres', q{
	SET client_min_messages = debug1; SET max_parallel_maintenance_workers = 2;
	CREATE INDEX grown_hnsw ON grown USING hnsw (v vector_l2_ops)},
	stdout => \$stdout, stderr => \$stderr);
like($stderr, qr/hnsw build of "grown_hnsw": [12] parallel workers launched/,
	'stale statistics: the build is parallel');
unlike($stderr, qr/ERROR/, 'stale statistics: the parallel build succeeds');
is($node->safe_psql('postgres', "SELECT elements FROM vsim.hnsw_index_stats('grown_hnsw')"),
	'26000', 'stale statistics: every row is an element');
$node->safe_psql('postgres', 'DROP TABLE grown');

# A graph built by inserting every row into an empty index.
$node->safe_psql('postgres', q{
	CREATE TABLE train2 (LIKE train INCLUDING ALL);
	CREATE INDEX train2_hnsw ON train2 USING hnsw (v vector_l2_ops);
	INSERT INTO train2 SELECT * FROM train;
	ALTER TABLE train RENAME TO train_orig; ALTER TABLE train2 RENAME TO train;
	ANALYZE train;
});
my ($iids, $idist) = knn_rows('<->', '');
my $irecall = recall_at_k($truth{l2}, $iids, $idist, $k);
cmp_ok($irecall, '>=', 0.95, "built by inserts: recall\@$k $irecall >= 0.95");

# Delete half the rows and vacuum: no dead row comes back, recall holds.
# The truth for the remaining rows is the exact search (see 010_exact_search).
$node->safe_psql('postgres', 'DELETE FROM train WHERE id % 2 = 0');
# PostgreSQL 15+ reports per-index details at DEBUG2 (VERBOSE prints a summary).
$node->psql('postgres', 'SET client_min_messages = debug2; VACUUM (VERBOSE) train',
	stderr => \$stderr, on_error_die => 1);
like($stderr, qr/index "train2_hnsw": pages: \d+ in total/, 'VACUUM VERBOSE shows the index pages');
like($stderr, qr/index "train2_hnsw": removed 5000 row versions; 5000 elements newly dead, .* 5000 slots freed, 0 dead elements left/,
	'VACUUM reports what it removed and freed');
like($stderr, qr/index "train2_hnsw" now holds 5000 row versions in \d+ pages/,
	'VACUUM reports the rows left');
my $stats = $node->safe_psql('postgres',
	"SELECT elements, dead_elements, free_slots, heap_tids FROM vsim.hnsw_index_stats('train2_hnsw')");
my $half = $ntrain / 2;
is($stats, "$half|0|$half|$half", 'vacuum frees the slots of the deleted elements');
my %exact;
for (split /\n/, $node->safe_psql('postgres', qq{
	SET enable_indexscan = off;
	SELECT q.id, n.id, n.d FROM test q CROSS JOIN LATERAL (
		SELECT t.id, t.v <-> q.v AS d FROM train t ORDER BY t.v <-> q.v LIMIT $k) n;}))
{
	my ($qid, $id, $d) = split /\|/;
	push @{ $exact{$qid} }, [ $id, $d ];
}
my ($vids, $vdist) = knn_rows('<->', '');
my $dead = grep { $_ % 2 == 0 } map { @$_ } values %$vids;
is($dead, 0, 'no deleted row is returned after vacuum');
my $vrecall = recall_at_k(\%exact, $vids, $vdist, $k);
cmp_ok($vrecall, '>=', 0.95, "after deleting half and vacuuming: recall\@$k $vrecall >= 0.95");
$node->safe_psql('postgres', 'REINDEX INDEX train2_hnsw');
my ($rids, $rdist) = knn_rows('<->', '');
my $rrecall = recall_at_k(\%exact, $rids, $rdist, $k);
cmp_ok($vrecall, '>=', $rrecall - 0.02, "recall after vacuum $vrecall is within 0.02 of a fresh build's $rrecall");

$node->stop;
done_testing();
