# halfvec indexes on real data: Fashion-MNIST pixels (0..255, exact in
# binary16) as halfvec(784), recall@10 of every hnsw and ivfflat halfvec
# operator class against an independent numpy brute force on the float
# pixels, distances equal to brute force, and the index's size against the
# same index over vector(784).
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use PostgreSQL::Test::Utils;
use Test::More;
use VsimTest;

my ($ntrain, $ntest, $k) = (10000, 100, 10);
my $node = vsim_node('halfvec_recall', conf => "maintenance_work_mem = 256MB\n");
load_fmnist($node, 'fm', 'train', $ntrain);
load_fmnist($node, 'fmq', 'test', $ntest);
$node->safe_psql('postgres', q{
	CREATE TABLE train AS SELECT id, label, v::halfvec(784) AS v FROM fm;
	CREATE TABLE test AS SELECT id, label, v::halfvec(784) AS v FROM fmq;
	ANALYZE train; ANALYZE test;});

my %truth = map { $_ => fmnist_truth($_, $k, $ntrain, $ntest) } qw(l2 ip cosine l1);
my %ops = (l2 => '<->', ip => '<#>', cosine => '<=>', l1 => '<+>');

sub check
{
	my ($am, $metric, $settings, $with) = @_;
	my $op = $ops{$metric};
	$node->safe_psql('postgres',
		"CREATE INDEX train_idx ON train USING $am (v halfvec_${metric}_ops) $with");
	my $plan = $node->safe_psql('postgres', qq{SET enable_seqscan = off;
		EXPLAIN (COSTS OFF) SELECT id FROM train ORDER BY v $op (SELECT v FROM test WHERE id = 1) LIMIT $k});
	like($plan, qr/Index Scan using train_idx/, "$am $metric: the query uses the halfvec index");
	my ($ids, $dist) = knn_query($node, $op, $k, settings => "SET enable_seqscan = off; $settings");
	my $recall = recall_at_k($truth{$metric}, $ids, $dist, $k);
	cmp_ok($recall, '>=', 0.95, "$am $metric: recall\@$k $recall >= 0.95");
	my ($worst, $pairs) = (0, 0);
	for my $qid (keys %{ $truth{$metric} })
	{
		for my $cell (@{ $truth{$metric}{$qid} })
		{
			my ($id, $want) = @$cell;
			next unless defined $dist->{$qid}{$id};
			my $err = abs($dist->{$qid}{$id} - $want) / (1 + abs($want));
			$worst = $err if $err > $worst;
			$pairs++;
		}
	}
	ok($pairs > 0.9 * $k * $ntest && $worst < 1e-4,
		"$am $metric: distances of $pairs rows match brute force (worst rel err $worst)");
	is($node->safe_psql('postgres', "SELECT vsim.index_check('train_idx', true)"), '',
		"$am $metric: index_check passes");
	my $bytes = $node->safe_psql('postgres', "SELECT pg_relation_size('train_idx')");
	$node->safe_psql('postgres', 'DROP INDEX train_idx');
	return $bytes;
}

my %size;
for my $metric (qw(l2 ip cosine l1))
{
	$size{"hnsw $metric"} = check('hnsw', $metric, 'SET hnsw.ef_search = 100;', 'WITH (m = 16, ef_construction = 64)');
}
for my $metric (qw(l2 ip cosine))
{
	$size{"ivfflat $metric"} = check('ivfflat', $metric, 'SET ivfflat.probes = 10;', 'WITH (lists = 50)');
}

# Half the bytes per element: the halfvec indexes against vector ones.
$node->safe_psql('postgres', q{
	CREATE INDEX fm_hnsw ON fm USING hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 64);
	CREATE INDEX fm_ivf ON fm USING ivfflat (v vector_l2_ops) WITH (lists = 50);});
my $vh = $node->safe_psql('postgres', "SELECT pg_relation_size('fm_hnsw')");
my $vi = $node->safe_psql('postgres', "SELECT pg_relation_size('fm_ivf')");
my ($rh, $ri) = ($size{'hnsw l2'} / $vh, $size{'ivfflat l2'} / $vi);
note(sprintf('index bytes halfvec / vector: hnsw %d / %d (%.2f), ivfflat %d / %d (%.2f)',
	$size{'hnsw l2'}, $vh, $rh, $size{'ivfflat l2'}, $vi, $ri));
cmp_ok($rh, '<', 0.6, sprintf('hnsw on halfvec(784) is %.2f of the size on vector(784)', $rh));
cmp_ok($ri, '<', 0.6, sprintf('ivfflat on halfvec(784) is %.2f of the size on vector(784)', $ri));

$node->stop;
done_testing();
