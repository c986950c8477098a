# IVFFlat on real data (Fashion-MNIST) against an independent numpy brute
# force: recall@10 of every operator class with probes = lists / 10, after
# inserts into a built index, and filtered queries with iterative scan.
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use PostgreSQL::Test::Utils;
use Test::More;
use List::Util qw(sum);
use VsimTest;

my ($ntrain, $ntest, $k, $lists) = (10000, 100, 10, 100);
my $probes = $lists / 10;
my $node = vsim_node('ivf_recall');
load_fmnist($node, 'train', 'train', $ntrain);
load_fmnist($node, 'test', 'test', $ntest);

# k nearest neighbours of every test image through the index; the planner
# may prefer a sequential scan on 10,000 rows, so that is turned off.
sub knn_rows
{
	my ($table, $op, $settings) = @_;
	return knn_query($node, $op, $k, table => $table,
		settings => "SET enable_seqscan = off; $settings");
}

my %ops = (l2 => '<->', ip => '<#>', cosine => '<=>');
for my $metric (sort keys %ops)
{
	my $op = $ops{$metric};
	$node->safe_psql('postgres',
		"CREATE INDEX train_ivf ON train USING ivfflat (v vector_${metric}_ops) WITH (lists = $lists)");
	my $plan = $node->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		EXPLAIN (COSTS OFF) SELECT id FROM train ORDER BY v $op (SELECT v FROM test WHERE id = 1) LIMIT $k});
	like($plan, qr/Index Scan using train_ivf/, "$metric: top-k query uses the ivfflat index");

	my $truth = fmnist_truth($metric, $k, $ntrain, $ntest);
	my ($ids, $dist) = knn_rows('train', $op, "SET ivfflat.probes = $probes;");
	is(scalar(keys %$ids), $ntest, "$metric: a result for every query");
	my $recall = recall_at_k($truth, $ids, $dist, $k);
	cmp_ok($recall, '>=', 0.9, "$metric: recall\@$k $recall >= 0.9 with probes = $probes of $lists");

	# rows found by both carry the same distance in the index and numpy
	my ($worst, $pairs) = (0, 0);
	for my $qid (keys %$truth)
	{
		for my $cell (@{ $truth->{$qid} })
		{
			my ($id, $want) = @$cell;
			next unless defined $dist->{$qid}{$id};
			my $err = abs($dist->{$qid}{$id} - $want) / (1 + abs($want));
			$worst = $err if $err > $worst;
			$pairs++;
		}
	}
	ok($pairs > 0.9 * $k * $ntest && $worst < 1e-4,
		"$metric: distances of $pairs rows match brute force (worst rel err $worst)");

	my ($ids1, $dist1) = knn_rows('train', $op, 'SET ivfflat.probes = 1;');
	cmp_ok(recall_at_k($truth, $ids1, $dist1, $k), '<', $recall,
		"$metric: one probe finds fewer true neighbours than $probes");
	$node->safe_psql('postgres', 'DROP INDEX train_ivf');
}

# A parallel build (workers assign rows, the leader merges) gives the same
# index as a serial one: the centres come from the same sample and k-means.
my %built;
for my $workers (0, 2)
{
	my ($ret, $out, $err) = $node->psql('postgres', qq{
		SET client_min_messages = debug1; SET max_parallel_maintenance_workers = $workers;
		CREATE INDEX train_ivf ON train USING ivfflat (v) WITH (lists = $lists);
	});
	my ($launched) = $err =~ /(\d+) parallel workers launched/;
	$built{$workers}{launched} = $launched // 0;
	# every participant reports its share of the assignment scan (DEBUG1)
	my %share = $err =~ /ivfflat build of "train_ivf": (leader|worker \d+) scanned (\d+) heap tuples/g;
	$built{$workers}{share} = \%share;
	$built{$workers}{stats} = $node->safe_psql('postgres',
		"SELECT rows, min_list_rows, max_list_rows, list_pages FROM vsim.ivfflat_index_stats('train_ivf')");
	$built{$workers}{answers} = join ';', map { join ',', @$_ }
	  @{ (knn_rows('train', '<->', "SET ivfflat.probes = $probes;"))[0] }{ 1 .. $ntest };
	$node->safe_psql('postgres', 'DROP INDEX train_ivf');
}
is($built{0}{launched}, 0, 'max_parallel_maintenance_workers = 0 builds serially');
cmp_ok($built{2}{launched}, '>', 0, "a parallel build launched $built{2}{launched} workers");
cmp_ok(scalar(grep { /^worker/ } keys %{ $built{2}{share} }), '>', 0,
	'parallel build: workers scan part of the table');
is(sum(values %{ $built{2}{share} }), $ntrain, 'parallel build: leader and workers scan every row once');
is($built{2}{stats}, $built{0}{stats}, 'parallel and serial builds have the same lists');
is($built{2}{answers}, $built{0}{answers}, 'parallel and serial builds give the same answers');

# Build on half the rows, insert the other half, recall stays high.
$node->safe_psql('postgres', qq{
	CREATE TABLE grow (id int PRIMARY KEY, label int, v vector(784));
	INSERT INTO grow SELECT * FROM train WHERE id <= $ntrain / 2;
	CREATE INDEX grow_ivf ON grow USING ivfflat (v) WITH (lists = $lists);
	INSERT INTO grow SELECT * FROM train WHERE id > $ntrain / 2;
});
my $stats = $node->safe_psql('postgres',
	"SELECT rows, rows_at_build, lists FROM vsim.ivfflat_index_stats('grow_ivf')");
is($stats, ($ntrain) . '|' . ($ntrain / 2) . "|$lists", 'stats count the inserted rows');
my $truth = fmnist_truth('l2', $k, $ntrain, $ntest);
my ($ids, $dist) = knn_rows('grow', '<->', "SET ivfflat.probes = $probes;");
my $recall = recall_at_k($truth, $ids, $dist, $k);
cmp_ok($recall, '>=', 0.9, "recall\@$k $recall >= 0.9 after inserting half the rows into a built index");

# Filtered search: a label filter keeps about 1 row in 10, so one probe
# rarely has 10 matching rows; iterative scan keeps probing until it has.
$node->safe_psql('postgres',
	"CREATE INDEX train_ivf ON train USING ivfflat (v vector_l2_ops) WITH (lists = $lists)");
my $filtered = q{
	SET enable_seqscan = off; SET ivfflat.probes = 1; %s
	SELECT count(*), count(*) FILTER (WHERE n.label = 3) FROM test q CROSS JOIN LATERAL (
		SELECT t.label FROM train t WHERE t.label = 3 ORDER BY t.v <-> q.v LIMIT 10) n;
};
my ($off_rows) = split /\|/, $node->safe_psql('postgres', sprintf($filtered, ''));
cmp_ok($off_rows, '<', 10 * $ntest, "without iterative scan, filtered queries miss rows ($off_rows)");
is($node->safe_psql('postgres', sprintf($filtered, 'SET ivfflat.iterative_scan = relaxed_order;')),
	(10 * $ntest) . '|' . (10 * $ntest),
	'relaxed_order iterative scan returns 10 rows of the requested label for every query');
my ($capped) = split /\|/, $node->safe_psql('postgres',
	sprintf($filtered, 'SET ivfflat.iterative_scan = relaxed_order; SET ivfflat.max_probes = 2;'));
ok($capped > $off_rows && $capped < 10 * $ntest,
	"ivfflat.max_probes = 2 stops the scan early ($off_rows < $capped < " . 10 * $ntest . ')');

$node->stop;
done_testing();
