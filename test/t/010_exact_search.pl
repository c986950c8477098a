# Exact k-NN search on real data (Fashion-MNIST) against an independent
# numpy brute force, parallel scans and aggregates equal to serial ones,
# and every kernel set agreeing with the others.
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use PostgreSQL::Test::Utils;
use Test::More;
use VsimTest;

my ($ntrain, $ntest, $k) = (10000, 50, 10);
my $node = vsim_node('exact', conf => "max_parallel_workers_per_gather = 2\n");
load_fmnist($node, 'train', 'train', $ntrain);
load_fmnist($node, 'test', 'test', $ntest);

# Exact k nearest neighbours of every test image, one LATERAL join.
sub knn_rows
{
	my ($op, $settings) = @_;
	return knn_query($node, $op, $k, settings => $settings, tiebreak => 1);
}

my %ops = (l2 => '<->', ip => '<#>', cosine => '<=>', l1 => '<+>');
for my $metric (sort keys %ops)
{
	my $truth = fmnist_truth($metric, $k, $ntrain, $ntest);
	my ($ids, $dist) = knn_rows($ops{$metric}, '');
	is(scalar(keys %$ids), $ntest, "$metric: a result for every query");

	# distances agree with float64 numpy to float4 precision, rank by rank
	my ($worst, $mismatch) = (0, 0);
	for my $qid (keys %$truth)
	{
		my @want = map { $_->[1] } @{ $truth->{$qid} };
		my @got = map { $dist->{$qid}{$_} } @{ $ids->{$qid} };
		for my $r (0 .. $k - 1)
		{
			my $err = abs($got[$r] - $want[$r]) / (1 + abs($want[$r]));
			$worst = $err if $err > $worst;
		}
	}
	cmp_ok($worst, '<', 1e-4, "$metric: k-th distances match brute force (worst rel err $worst)");
	is(recall_at_k($truth, $ids, $dist, $k), 1, "$metric: exact search has recall 1");
}

# The plan for a top-k query is a scan with a top-N sort, parallel when allowed.
my $plan = $node->safe_psql('postgres', q{
	SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
	EXPLAIN (COSTS OFF) SELECT id FROM train ORDER BY v <-> (SELECT v FROM test WHERE id = 1) LIMIT 10;
});
like($plan, qr/Parallel Seq Scan/, 'top-k exact search can use a parallel scan');

my $parallel = 'SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;';
my $serial = 'SET max_parallel_workers_per_gather = 0;';
my ($pids) = knn_rows('<->', $parallel);
my ($sids) = knn_rows('<->', $serial);
is_deeply($pids, $sids, 'parallel and serial exact search return the same rows');

# Filtered search: WHERE combines with ORDER BY distance.
my $filtered = $node->safe_psql('postgres', q{
	SELECT count(*) = 10 AND bool_and(label = 7) FROM (
		SELECT label FROM train WHERE label = 7
		ORDER BY v <-> (SELECT v FROM test WHERE id = 1) LIMIT 10) s;
});
is($filtered, 't', 'filtered search returns 10 rows of the requested label');

# Aggregates: parallel equals serial, and both equal the numpy mean.
my $agg = 'SELECT avg(v)::text, sum(v)::text FROM train';
my $agg_parallel = $node->safe_psql('postgres', "$parallel $agg");
my $agg_serial = $node->safe_psql('postgres', "$serial $agg");
is($agg_parallel, $agg_serial, 'parallel avg/sum equal serial avg/sum');
my $plan_agg = $node->safe_psql('postgres', "$parallel EXPLAIN (COSTS OFF) $agg");
like($plan_agg, qr/Partial Aggregate/, 'avg/sum run as partial (parallel) aggregates');
my $mean0 = python3('-c', qq{
import sys; sys.path.insert(0, "$ENV{VSIM_ROOT}/test/lib"); import fmnist
x, _ = fmnist.load("train", $ntrain); print(float(x.astype("float64").mean(0)[300]))});
my $db_mean0 = $node->safe_psql('postgres', 'SELECT (avg(v)::real[])[301] FROM train');
cmp_ok(abs($db_mean0 - $mean0), '<', 1e-3, "avg(v) element matches numpy ($db_mean0 vs $mean0)");

# Every kernel set returns the same neighbours as the portable one.
my ($portable) = knn_rows('<=>', 'SET vsim.distance_kernel = portable;');
for my $kernel (qw(avx2 avx512))
{
	my $ok = $node->psql('postgres', "SET vsim.distance_kernel = $kernel");
	SKIP:
	{
		skip "CPU lacks $kernel", 1 if $ok != 0;
		my ($ids) = knn_rows('<=>', "SET vsim.distance_kernel = $kernel;");
		is_deeply($ids, $portable, "$kernel kernels return the same neighbours as portable");
	}
}

$node->stop;
done_testing();
