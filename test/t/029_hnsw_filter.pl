# HNSW filter columns on real data (issue 14): the 256-d CNN embeddings of
# Fashion-MNIST (vsim.embed in the database) with an uncorrelated attribute
# (a hash of the row id into 10, 100 and 1000 buckets: 10%, 1% and 0.1% of
# the rows) and a correlated one (the class: filtered to a class other than
# the query's, whose rows lie away from its neighbourhood).  For each,
# recall@10 of the filtered index scan against an exact search with the
# same WHERE clause, every query returning its full LIMIT; then rows
# inserted after the build survive a crash and are found by their filter.
# Skipped without the data directory.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{VSIM_ROOT}/test/lib";
use VsimTest;

my $data = vsim_data_dir();
plan skip_all => 'no data directory (VSIM_DATA is not set, ../shared/data does not exist)'
  unless defined $data && -d "$data/models/fashion-mnist-cnn";

my ($ntrain, $ntest, $k) = (20000, 50, 10);
my $node = vsim_node('hnsw_filter', allows_streaming => 1,
	conf => "vsim.model_directory = '$data/models'\nmaintenance_work_mem = 256MB\n");
sub query { return $node->safe_psql('postgres', $_[0]); }

load_fmnist($node, 'fm', 'train', $ntrain);
load_fmnist($node, 'fmq', 'test', $ntest);
create_cnn_model($node, 'fmnist_cnn');
# b10, b100, b1000: a hash of the id into buckets, independent of the image
query(qq{
	CREATE TABLE train AS SELECT id, label,
		vsim.embed('fmnist_cnn', v::real[])::vector(256) AS v,
		(hashint4(id)::int8 & 2147483647) % 10 AS b10,
		(hashint4(id)::int8 & 2147483647) % 100 AS b100,
		(hashint4(id)::int8 & 2147483647) % 1000 AS b1000
	FROM fm;
	CREATE TABLE test AS SELECT id, label,
		vsim.embed('fmnist_cnn', v::real[])::vector(256) AS v FROM fmq;
	ANALYZE train; ANALYZE test;
	CREATE INDEX train_hnsw ON train USING hnsw (v vector_cosine_ops, label, b10, b100, b1000)
		WITH (m = 16, ef_construction = 64);});
is(query("SELECT vsim.index_check('train_hnsw', true)"), '', 'index_check passes after the build');

# the k nearest rows of train for each query under `cond` (a condition on
# train t and the query q), the index forced or not
sub knn
{
	my ($cond, $settings) = @_;
	return knn_query($node, '<=>', $k, settings => $settings, where => $cond);
}

my $index = 'SET enable_seqscan = off; SET enable_bitmapscan = off; SET hnsw.ef_search = 64;';
my $exact = 'SET enable_indexscan = off; SET enable_bitmapscan = off;';
for my $case (
	[ '10% (b10)', 't.b10 = q.id % 10' ],
	[ '1% (b100)', 't.b100 = q.id % 100' ],
	[ '0.1% (b1000)', 't.b1000 = q.id % 1000' ],
	[ 'another class', 't.label = (q.label + 1) % 10' ],
	[ 'range of buckets (5%)', 't.b100 BETWEEN q.id % 50 AND q.id % 50 + 4' ])
{
	my ($name, $cond) = @$case;
	my $plan = query(qq{$index EXPLAIN (COSTS OFF)
		SELECT q.id, n.id FROM test q CROSS JOIN LATERAL (
			SELECT t.id FROM train t WHERE $cond ORDER BY t.v <=> q.v LIMIT $k) n});
	like($plan, qr/Index Scan using train_hnsw.*\n\s+Index Cond: /,
		"$name: the filter is an index condition of the hnsw scan");
	my ($tids, $tdist) = knn($cond, $exact);
	my $truth = truth_from($tids, $tdist);
	# the graph walk alone, and with the switch to the exhaustive pass
	for my $mode ([ 'walk', 'SET hnsw.filter_walk_limit = 1;' ], [ 'default', '' ])
	{
		my ($ids, $dist) = knn($cond, "$index $mode->[1]");
		my $recall = recall_at_k($truth, $ids, $dist, $k);
		note "$name, $mode->[0]: recall\@$k $recall";
		cmp_ok($recall, '>=', 0.95, "$name, $mode->[0]: recall\@$k $recall >= 0.95");
		my $short = grep { @{ $ids->{$_} // [] } < @{ $tids->{$_} } } keys %$tids;
		is($short, 0, "$name, $mode->[0]: every query returns as many rows as match, up to LIMIT $k");
	}
	my $full = grep { @{ $tids->{$_} } == $k } keys %$tids;
	is($full, $ntest, "$name: enough rows match for every query");
}

# a parallel build stores the same filter values: its index answers the 1%
# filter as well, and is sound
my ($rc, $out, $err) = $node->psql('postgres', q{
	SET client_min_messages = debug1; SET max_parallel_maintenance_workers = 2;
	CREATE INDEX train_hnsw_par ON train USING hnsw (v vector_cosine_ops, label, b10, b100, b1000)
		WITH (m = 16, ef_construction = 64);});
is($rc, 0, 'the parallel build succeeds');
like($err, qr/[1-9]\d* parallel workers? launched/, 'the build ran with parallel workers');
is(query("SELECT vsim.index_check('train_hnsw_par', true)"), '', 'index_check passes after the parallel build');
query('DROP INDEX train_hnsw');
{
	my $cond = 't.b100 = q.id % 100';
	my ($tids, $tdist) = knn($cond, $exact);
	my $truth = truth_from($tids, $tdist);
	my ($ids, $dist) = knn($cond, "$index SET hnsw.filter_walk_limit = 1;");
	my $recall = recall_at_k($truth, $ids, $dist, $k);
	cmp_ok($recall, '>=', 0.95, "parallel build, 1% by the graph walk alone: recall\@$k $recall >= 0.95");
}
query('ALTER INDEX train_hnsw_par RENAME TO train_hnsw');

# arrays (labels, tags): && and @> on their Bloom signatures, lossy and
# rechecked; the tags are an expression, [b10, 10 + b100], so that the
# filter keeps 1% (@> one bucket of b100) or about 11% (&& one of each)
query(q{CREATE INDEX train_hnsw_tags ON train USING hnsw
	(v vector_cosine_ops, (ARRAY[b10, 10 + b100])) WITH (m = 16, ef_construction = 64);
	ANALYZE train;});
is(query("SELECT vsim.index_check('train_hnsw_tags', true)"), '', 'index_check passes on the array filter index');
for my $case (
	[ 'array @>, 1%', 'ARRAY[t.b10, 10 + t.b100] @> ARRAY[(10 + q.id % 100)::int8]' ],
	[ 'array &&, 11%', 'ARRAY[t.b10, 10 + t.b100] && ARRAY[(q.id % 10)::int8, (10 + q.id % 100)::int8]' ])
{
	my ($name, $cond) = @$case;
	my $plan = query(qq{$index EXPLAIN (COSTS OFF)
		SELECT q.id, n.id FROM test q CROSS JOIN LATERAL (
			SELECT t.id FROM train t WHERE $cond ORDER BY t.v <=> q.v LIMIT $k) n});
	like($plan, qr/Index Scan using train_hnsw_tags.*\n\s+Index Cond: /,
		"$name: the array condition is an index condition of the hnsw scan");
	my ($tids, $tdist) = knn($cond, $exact);
	my $truth = truth_from($tids, $tdist);
	my ($ids, $dist) = knn($cond, $index);
	my $recall = recall_at_k($truth, $ids, $dist, $k);
	note "$name: recall\@$k $recall";
	cmp_ok($recall, '>=', 0.95, "$name: recall\@$k $recall >= 0.95");
	my $short = grep { @{ $ids->{$_} // [] } < @{ $tids->{$_} } } keys %$tids;
	is($short, 0, "$name: every query returns as many rows as match, up to LIMIT $k");
}
query('DROP INDEX train_hnsw_tags');

# rows inserted after the build, WAL-logged: after a crash they are all found
# by a filter only they match, and the index is sound
query(q{INSERT INTO train SELECT id + 100000, label, v, 99, 99, 9999
	FROM train WHERE id <= 500});
$node->stop('immediate');
$node->start;
is(query("SELECT vsim.index_check('train_hnsw', true)"), '', 'index_check passes after crash recovery');
is(query(qq{$index SET hnsw.ef_search = 1000;
	SELECT count(*), min(id) FROM (SELECT id FROM train WHERE b1000 = 9999
		ORDER BY v <=> (SELECT v FROM test WHERE id = 1) LIMIT 1000) s}), '500|100001',
	'the 500 rows inserted before the crash are found by their filter value');
# (max_scan_tuples counts the elements the filter rejects too: raised so
# that the scan may visit the whole graph)
is(query(qq{$index SET hnsw.ef_search = 10; SET hnsw.iterative_scan = relaxed_order;
	SET hnsw.max_scan_tuples = 100000;
	SELECT count(*) FROM (SELECT id FROM train WHERE b10 = 99
		ORDER BY v <=> (SELECT v FROM test WHERE id = 1) LIMIT 600) s}), '500',
	'an iterative scan with ef_search 10 returns all 500 of them too');

# a streaming standby answers filtered queries as the primary does, also
# for rows inserted and deleted after it started (WAL replay of the
# filter values; VACUUM's changes)
check_filtered_standby($node, 'hnsw_filter_standby', "$index SET hnsw.ef_search = 400;");

$node->stop;
done_testing();
