# HNSW space reuse: VACUUM frees the slots of dead elements and inserts
# fill them, so an index under churn (five rounds of deleting half the
# rows, VACUUM, inserting as many new ones) stays near the size of a fresh
# build of the same rows, with the same recall.
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use PostgreSQL::Test::Utils;
use Test::More;
use VsimTest;

my ($rows, $dims, $k, $rounds) = (20000, 32, 10, 5);
my $node = vsim_node('hnsw_space_reuse');

# $n new rows into $table, ids from $first: points of a random 3-parameter
# surface in $dims dimensions.  (Uniform random vectors of this many
# dimensions leave HNSW at a recall of 0.85 with these settings, where the
# noise is near the 0.01 compared; on data of low intrinsic dimension, as
# real embeddings are, it is 0.99.)
sub insert_rows
{
	my ($table, $first, $n) = @_;
	# each session has its own random(): seed it, so every run has the same data
	$node->safe_psql('postgres', qq{
		SELECT setseed(1.0 / ($first + 1));
		INSERT INTO $table SELECT i, array_agg(sin(3 * j * a + 7 * b) + cos(5 * j * c) ORDER BY j)::vector($dims)
		  FROM (SELECT $first + g AS i, random() a, random() b, random() c
				FROM generate_series(0, $n - 1) g) r, generate_series(1, $dims) j GROUP BY i;
	});
	return;
}

$node->safe_psql('postgres', qq{
	CREATE TABLE train (id int PRIMARY KEY, v vector($dims));
	CREATE TABLE test (id int PRIMARY KEY, v vector($dims));
});
# 500 queries: 5,000 results, so that the recall compared is not noise
insert_rows('test', 1, 500);
insert_rows('train', 1, $rows);
$node->safe_psql('postgres',
	'CREATE INDEX train_hnsw ON train USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32)');
my $built = $node->safe_psql('postgres', q{SELECT pg_relation_size('train_hnsw')});

my $next = $rows + 1;
for my $round (1 .. $rounds)
{
	$node->safe_psql('postgres', qq{
		SELECT setseed(1.0 / ($round + 1));
		DELETE FROM train WHERE id IN (SELECT id FROM train ORDER BY random() LIMIT 10000);
		VACUUM train;
	});
	my $free = $node->safe_psql('postgres', q{SELECT free_slots FROM vsim.hnsw_index_stats('train_hnsw')});
	insert_rows('train', $next, $rows / 2);
	$next += $rows / 2;
	my ($left, $size) = split /\|/, $node->safe_psql('postgres',
		q{SELECT free_slots, pg_relation_size('train_hnsw') FROM vsim.hnsw_index_stats('train_hnsw')});
	note("round $round: $free slots freed, $left left after the inserts, index $size bytes");
	cmp_ok($free, '>=', 9900, "round $round: VACUUM freed the dead elements' slots ($free)");
}
is($node->safe_psql('postgres', q{SELECT vsim.index_check('train_hnsw', true)}), '',
	'after the churn the index is sound');
is($node->safe_psql('postgres', q{SELECT heap_tids FROM vsim.hnsw_index_stats('train_hnsw')}),
	$rows, 'it holds every row');

my $truth = exact_truth($node, '<->', $k);
my $settings = 'SET enable_seqscan = off;';
my ($ids, $dist) = knn_query($node, '<->', $k, settings => $settings);
my $churned = recall_at_k($truth, $ids, $dist, $k);
my $size = $node->safe_psql('postgres', q{SELECT pg_relation_size('train_hnsw')});

# (ANALYZE first: a parallel build sizes its graph by the table's statistics)
$node->safe_psql('postgres', q{ANALYZE train;
	CREATE INDEX train_fresh ON train USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
	DROP INDEX train_hnsw});
my $fresh_size = $node->safe_psql('postgres', q{SELECT pg_relation_size('train_fresh')});
($ids, $dist) = knn_query($node, '<->', $k, settings => $settings);
my $fresh = recall_at_k($truth, $ids, $dist, $k);

diag(sprintf('after %d rounds: index %.2f MB (%.3f x a fresh build of %.2f MB; first build %.2f MB), recall@%d %.3f (fresh %.3f)',
	$rounds, $size / 2**20, $size / $fresh_size, $fresh_size / 2**20, $built / 2**20, $k, $churned, $fresh));
cmp_ok($size, '<=', 1.2 * $fresh_size, 'the churned index is within 1.2 times a fresh build');
cmp_ok($churned, '>=', $fresh - 0.01, 'its recall is within 0.01 of a fresh build');

$node->stop;
done_testing();
