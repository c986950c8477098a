# IVFFlat filter columns on real data (issue 14): the 256-d CNN embeddings
# of Fashion-MNIST (vsim.embed in the database) with an uncorrelated
# attribute (a hash of the row id into 10, 100 and 1000 buckets: 10%, 1%
# and 0.1% of the rows) and a correlated one (the class: filtered to a
# class other than the query's, whose rows lie away from its
# neighbourhood), as in 029_hnsw_filter.pl.  For each, recall@10 of the
# filtered index scan against an exact search with the same WHERE clause,
# every query returning its full LIMIT; the same at 1% with quantization
# sq8 and rabitq, and after a parallel build; then rows inserted after the
# build survive a crash and are found by their filter, a streaming standby
# answers as the primary, and a damaged filter area gives XX002.  Skipped
# without the data directory.
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
my $node = vsim_node('ivf_filter', allows_streaming => 1,
	conf => "vsim.model_directory = '$data/models'\nmaintenance_work_mem = 256MB\n");
sub query { return $node->safe_psql('postgres', $_[0]); }

load_fmnist($node, 'fm', 'train', $ntrain);
load_fmnist($node, 'fmq', 'test', $ntest);
create_cnn_model($node, 'fmnist_cnn');
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
	CREATE INDEX train_ivf ON train USING ivfflat (v vector_cosine_ops, label, b10, b100, b1000)
		WITH (lists = 100);});
is(query("SELECT vsim.index_check('train_ivf', true)"), '', 'index_check passes after the build');

# the k nearest rows of train for each query under `cond` (a condition on
# train t and the query q), the index forced or not
sub knn
{
	my ($cond, $settings) = @_;
	return knn_query($node, '<=>', $k, settings => $settings, where => $cond);
}

my $index = 'SET enable_seqscan = off; SET enable_bitmapscan = off; SET ivfflat.probes = 10;';
my $exact = 'SET enable_indexscan = off; SET enable_bitmapscan = off;';
my %truth;
for my $case (
	[ '10% (b10)', 't.b10 = q.id % 10' ],
	[ '1% (b100)', 't.b100 = q.id % 100' ],
	[ '0.1% (b1000)', 't.b1000 = q.id % 1000' ],
	[ 'another class', 't.label = (q.label + 1) % 10' ])
{
	my ($name, $cond) = @$case;
	my $plan = query(qq{$index EXPLAIN (COSTS OFF)
		SELECT q.id, n.id FROM test q CROSS JOIN LATERAL (
			SELECT t.id FROM train t WHERE $cond ORDER BY t.v <=> q.v LIMIT $k) n});
	like($plan, qr/Index Scan using train_ivf.*\n\s+Index Cond: /,
		"$name: the filter is an index condition of the ivfflat scan");
	my ($tids, $tdist) = knn($cond, $exact);
	$truth{$cond} = [ $tids, truth_from($tids, $tdist) ];
	my ($ids, $dist) = knn($cond, $index);
	my $recall = recall_at_k($truth{$cond}[1], $ids, $dist, $k);
	note "$name: recall\@$k $recall";
	cmp_ok($recall, '>=', 0.95, "$name: recall\@$k $recall >= 0.95");
	my $short = grep { @{ $ids->{$_} // [] } < $k } keys %$tids;
	is($short, 0, "$name: every query returns its full LIMIT $k");
	my $full = grep { @{ $tids->{$_} } == $k } keys %$tids;
	is($full, $ntest, "$name: enough rows match for every query");
}

# quantized indexes with the same filter columns: the 1% filter
for my $quant ('sq8', 'rabitq')
{
	query('ALTER INDEX train_ivf SET (lists = 100)');	# (no-op; keeps the plain index)
	query(qq{CREATE INDEX train_ivf_$quant ON train USING ivfflat
		(v vector_cosine_ops, label, b10, b100, b1000) WITH (lists = 100, quantization = $quant)});
	is(query("SELECT vsim.index_check('train_ivf_$quant', true)"), '', "$quant: index_check passes");
	my $cond = 't.b100 = q.id % 100';
	like(query(qq{$index EXPLAIN (COSTS OFF) SELECT q.id, n.id FROM test q CROSS JOIN LATERAL (
			SELECT t.id FROM train t WHERE $cond ORDER BY t.v <=> q.v LIMIT $k) n}),
		qr/Index Scan using train_ivf_$quant/, "$quant: the scan uses the quantized index");
	my ($ids, $dist) = knn($cond, $index);
	my $recall = recall_at_k($truth{$cond}[1], $ids, $dist, $k);
	note "$quant, 1%: recall\@$k $recall";
	cmp_ok($recall, '>=', 0.95, "$quant, 1% (b100): recall\@$k $recall >= 0.95");
	my $short = grep { @{ $ids->{$_} // [] } < $k } keys %{ $truth{$cond}[0] };
	is($short, 0, "$quant, 1% (b100): every query returns its full LIMIT $k");
	query("DROP INDEX train_ivf_$quant");
}

# a parallel build carries the filter values through its shared sort: its
# index answers the 1% filter as well, and is sound
{
	my ($rc, $out, $err) = $node->psql('postgres', q{
		SET client_min_messages = debug1; SET max_parallel_maintenance_workers = 2;
		CREATE INDEX train_ivf_par ON train USING ivfflat (v vector_cosine_ops, label, b10, b100, b1000)
			WITH (lists = 100);});
	is($rc, 0, 'the parallel build succeeds');
	like($err, qr/[1-9]\d* parallel workers? launched/, 'the build ran with parallel workers');
	is(query("SELECT vsim.index_check('train_ivf_par', true)"), '', 'index_check passes after the parallel build');
	query('DROP INDEX train_ivf');
	my $cond = 't.b100 = q.id % 100';
	my ($ids, $dist) = knn($cond, $index);
	my $recall = recall_at_k($truth{$cond}[1], $ids, $dist, $k);
	cmp_ok($recall, '>=', 0.95, "parallel build, 1%: recall\@$k $recall >= 0.95");
	query('ALTER INDEX train_ivf_par RENAME TO train_ivf');
}

# rows inserted after the build, WAL-logged: after a crash they are all found
# by a filter only they match, and the index is sound
query(q{INSERT INTO train SELECT id + 100000, label, v, 99, 99, 9999
	FROM train WHERE id <= 500});
$node->stop('immediate');
$node->start;
is(query("SELECT vsim.index_check('train_ivf', true)"), '', 'index_check passes after crash recovery');
is(query(qq{$index SET ivfflat.filter_candidates = 1000;
	SELECT count(*), min(id) FROM (SELECT id FROM train WHERE b1000 = 9999
		ORDER BY v <=> (SELECT v FROM test WHERE id = 1) LIMIT 1000) s}), '500|100001',
	'the 500 rows inserted before the crash are found by their filter value');

# a streaming standby answers filtered queries as the primary does, also
# for rows inserted and deleted after it started (WAL replay of the
# filter values; VACUUM's changes)
check_filtered_standby($node, 'ivf_filter_standby', "$index SET ivfflat.filter_candidates = 1000;");

# a damaged filter area (NULL bits beyond the index's filter columns) is
# found by index_check: XX002 naming the list page; REINDEX repairs it.
# One list (block 0 the metapage, 1 the directory, 2 the list page); each
# item: heap TID (6 bytes), padding (2), the 4 floats (16), the filter
# area (NULL bitmap at 24, codes after)
query(q{CREATE TABLE dmg (id int, v vector(4), c int, d date);
	INSERT INTO dmg SELECT i, ARRAY[i, 1, 2, 3]::vector, i % 5, date '2024-01-01' + i FROM generate_series(1, 50) i;
	CREATE INDEX dmg_ivf ON dmg USING ivfflat (v vector_l2_ops, c, d) WITH (lists = 1);
	CHECKPOINT;});
my $lp = unpack('V', read_page($node, 'dmg_ivf', 2, 24, 4));
my $item_off = $lp & 0x7fff;
is(unpack('V', read_page($node, 'dmg_ivf', 2, $item_off + 24, 4)), 0,
	'the first item of the list page has no NULL filter values');
damage_page($node, 'dmg_ivf', 2, $item_off + 24, pack('V', 1 << 7));
my ($rc2, $out2, $err2) = $node->psql('postgres', "SELECT vsim.index_check('dmg_ivf', false)",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err2, qr/XX002: index "dmg_ivf" is corrupted at block 2/, 'a damaged filter area: index_check raises XX002 at the list page');
like($err2, qr/filter values of item 1 .* are impossible/, '... saying which item');
query('REINDEX INDEX dmg_ivf');
is(query("SELECT vsim.index_check('dmg_ivf', true)"), '', 'REINDEX repairs it');

$node->stop;
done_testing();
