# hnsw quantization (issue 9) on real data: recall@10 of sq8 and rabitq
# at default settings on Fashion-MNIST (L2, against an independent numpy
# brute force) and on the CNN-256 embeddings (cosine, when the data
# directory has the model), beside none; rows come in non-decreasing
# exact distance with the exact distances; a parallel build; a build that
# outgrows maintenance_work_mem goes on on disk with the codes; then for
# each of sq8 and rabitq: VACUUM after deletes then inserts; concurrent
# inserts with queries; an iterative scan; a streaming standby answering
# like the primary; crash recovery; damaged parameters and codes.
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use PostgreSQL::Test::Utils;
use Test::More;
use VsimTest;

my ($ntrain, $ntest, $k) = (10000, 100, 10);
my $data = vsim_data_dir();
my $models = defined $data && -d "$data/models/fashion-mnist-cnn";
my $node = vsim_node('hnsw_quant', allows_streaming => 1,
	conf => "maintenance_work_mem = 256MB\nmax_parallel_maintenance_workers = 2\n"
	  . "max_connections = 40\n"
	  . ($models ? "vsim.model_directory = '$data/models'\n" : ''));
load_fmnist($node, 'train', 'train', $ntrain);
load_fmnist($node, 'test', 'test', $ntest);

# Recall at default settings, order and exact distances: every query's
# first 100 rows through the index come in non-decreasing distance, the
# distance the operator computes.  Returns the index's size.
sub check_mode
{
	my ($set, $truth, $cls, $op, $mode) = @_;
	$node->safe_psql('postgres', qq{DROP INDEX IF EXISTS train_idx;
		CREATE INDEX train_idx ON train USING hnsw (v $cls) WITH (quantization = $mode)});
	my $plan = $node->safe_psql('postgres', qq{
		EXPLAIN (COSTS OFF) SELECT id FROM train ORDER BY v $op (SELECT v FROM test WHERE id = 1) LIMIT $k});
	like($plan, qr/Index Scan using train_idx/, "$set $mode: the planner uses the index");
	my ($ids, $dist) = knn_query($node, $op, $k, settings => "SET enable_seqscan = off;");
	my $recall = recall_at_k($truth, $ids, $dist, $k);
	cmp_ok($recall, '>=', 0.95, "$set $mode: recall\@$k $recall >= 0.95 at default settings");
	my $bad = unordered_rows($node, $op, "SET enable_seqscan = off; SET hnsw.ef_search = 100;");
	is($bad, '0', "$set $mode: the first 100 rows of every query come in exact distance order");
	# the value ORDER BY sees is the operator's own on the row
	my $wrong = $node->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		SELECT count(*) FROM test q CROSS JOIN LATERAL (
			SELECT t.v, t.v $op q.v AS d FROM train t ORDER BY t.v $op q.v LIMIT $k) n
		WHERE n.d IS DISTINCT FROM (n.v $op q.v)});
	is($wrong, '0', "$set $mode: the distances returned are the exact ones");
	is($node->safe_psql('postgres', "SELECT vsim.index_check('train_idx', true)"), '',
		"$set $mode: index_check passes");
	is($node->safe_psql('postgres', "SELECT quantization FROM vsim.hnsw_index_stats('train_idx')"),
		$mode, "$set $mode: the stats report the mode");
	return $node->safe_psql('postgres', "SELECT pg_relation_size('train_idx')");
}

# --- Fashion-MNIST, L2 ----------------------------------------------------------
my $fm_truth = fmnist_truth('l2', $k, $ntrain, $ntest);
my %size;
$size{$_} = check_mode('fmnist', $fm_truth, 'vector_l2_ops', '<->', $_) for qw(none rabitq);
is($node->safe_psql('postgres', "SELECT bytes_per_vector FROM vsim.hnsw_index_stats('train_idx')"),
	'120', 'fmnist rabitq: 120 bytes a vector (16 + 832 / 8)');
$size{sq8} = check_mode('fmnist', $fm_truth, 'vector_l2_ops', '<->', 'sq8');
note "fmnist index bytes: none $size{none}, sq8 $size{sq8}, rabitq $size{rabitq}";
cmp_ok($size{sq8}, '<', 0.4 * $size{none}, 'fmnist: the sq8 index is under 40% of the unquantized one');
cmp_ok($size{rabitq}, '<', 0.15 * $size{none}, 'fmnist: the rabitq index is under 15% of the unquantized one');
is($node->safe_psql('postgres', "SELECT bytes_per_vector FROM vsim.hnsw_index_stats('train_idx')"),
	'788', 'fmnist sq8: 788 bytes a vector (4 + 784)');
# the other metrics at default settings too (brute force truth)
for my $m ([ 'ip', '<#>', 'sq8' ], [ 'l1', '<+>', 'sq8' ], [ 'ip', '<#>', 'rabitq' ])
{
	my ($metric, $op, $mode) = @$m;
	check_mode("fmnist $metric", fmnist_truth($metric, $k, $ntrain, $ntest),
		"vector_${metric}_ops", $op, $mode);
}

for my $mode (qw(sq8 rabitq))
{
	# a parallel build: workers launched, the graph as good
	my ($ret, $out, $err) = $node->psql('postgres', qq{
		SET client_min_messages = debug1; SET max_parallel_maintenance_workers = 2;
		DROP INDEX IF EXISTS train_idx;
		CREATE INDEX train_idx ON train USING hnsw (v vector_l2_ops) WITH (quantization = $mode)});
	is($ret, 0, "$mode parallel build succeeds");
	like($err, qr/hnsw build of "train_idx": [12] parallel workers launched/,
		"$mode parallel build launches workers");
	my ($ids, $dist) = knn_query($node, '<->', $k, settings => "SET enable_seqscan = off;");
	my $recall = recall_at_k($fm_truth, $ids, $dist, $k);
	cmp_ok($recall, '>=', 0.95, "$mode parallel build: recall\@$k $recall >= 0.95");
	is($node->safe_psql('postgres', "SELECT elements || ' ' || quantization FROM vsim.hnsw_index_stats('train_idx')"),
		"$ntrain $mode", "$mode parallel build: every row is an element");

	# a build that outgrows maintenance_work_mem writes its graph (and the
	# parameters trained on the rows so far) and inserts the rest on disk
	($ret, $out, $err) = $node->psql('postgres', qq{
		SET maintenance_work_mem = '2MB'; SET max_parallel_maintenance_workers = 0;
		DROP INDEX IF EXISTS train_idx;
		CREATE INDEX train_idx ON train USING hnsw (v vector_l2_ops) WITH (quantization = $mode)});
	is($ret, 0, "$mode build under a small maintenance_work_mem succeeds");
	like($err, qr/no longer fits into maintenance_work_mem/, "$mode build went on on disk");
	($ids, $dist) = knn_query($node, '<->', $k, settings => "SET enable_seqscan = off;");
	$recall = recall_at_k($fm_truth, $ids, $dist, $k);
	cmp_ok($recall, '>=', 0.95, "$mode build continued on disk: recall\@$k $recall >= 0.95");
	is($node->safe_psql('postgres', "SELECT vsim.index_check('train_idx', true)"), '',
		"$mode build continued on disk: index_check passes");
	$node->safe_psql('postgres', 'DROP INDEX train_idx');
}

# --- CNN-256 embeddings, cosine ------------------------------------------------
SKIP:
{
	skip 'no fashion-mnist-cnn model in the data directory', 20 unless $models;
	create_cnn_model($node, 'fmnist_embed');
	embed_train_test($node, 'fmnist_embed');
	my $cnn_truth = exact_truth($node, '<=>', $k);
	my %cnn;
	$cnn{$_} = check_mode('cnn256', $cnn_truth, 'vector_cosine_ops', '<=>', $_) for qw(none sq8 rabitq);
	cmp_ok($cnn{sq8}, '<', 0.6 * $cnn{none}, 'cnn256: the sq8 index is under 60% of the unquantized one');
	cmp_ok($cnn{rabitq}, '<', 0.4 * $cnn{none}, 'cnn256: the rabitq index is under 40% of the unquantized one');
	$node->safe_psql('postgres', q{DROP TABLE train, test;
		ALTER TABLE fm_train RENAME TO train; ALTER TABLE fm_test RENAME TO test;});
}

# Every test query's 10 nearest ids through the index on $items
sub answers
{
	my ($n, $items) = @_;
	return $n->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		SELECT string_agg(n.id::text, ',' ORDER BY q.id, n.d, n.id) FROM test q
		CROSS JOIN LATERAL (SELECT i.id, i.v <-> q.v AS d FROM $items i
		                    ORDER BY i.v <-> q.v LIMIT 10) n
		WHERE q.id <= 30;
	});
}

# Rows of $items among the first 200 of each of 30 queries that are not
# in the table any more (deleted ones must never come back)
sub deleted_returned
{
	my ($items, $cond) = @_;
	return $node->safe_psql('postgres', qq{
		SET enable_seqscan = off; SET hnsw.ef_search = 200; SET hnsw.rerank_candidates = 200;
		SELECT count(*) FROM test q CROSS JOIN LATERAL (
			SELECT i.id FROM $items i ORDER BY i.v <-> q.v LIMIT 200) n
		WHERE q.id <= 30 AND $cond});
}

# Where a parameter's damage shows: block 1 holds the blob.  sq8: dim,
# unused, then lo[]: a NaN first range.  rabitq: the 24-byte rotation
# header and 4 x 832 / 8 bytes of signs, then the centroid: a NaN first
# coordinate.
my %param_damage = (
	sq8 => [ 24 + 8, qr/sq8 range of dimension 1/ ],
	rabitq => [ 24 + 24 + 416, qr/rabitq centroid's dimension 1 .* is not finite/ ]);
# A code's damage: sq8 a norm its codes cannot have (the first float);
# rabitq an ip_bar above 1 (the second)
my %code_damage = (sq8 => [ 0, 1e30 ], rabitq => [ 4, 2.0 ]);

for my $mode (qw(sq8 rabitq))
{
	my $items = "items_$mode";

	# --- VACUUM after deletes, then inserts ----------------------------------
	$node->safe_psql('postgres', qq{
		CREATE TABLE $items (id serial PRIMARY KEY, v vector(784));
		INSERT INTO $items (v) SELECT v FROM train WHERE id <= 3000;
		CREATE INDEX ${items}_idx ON $items USING hnsw (v vector_l2_ops) WITH (quantization = $mode);});

	$node->safe_psql('postgres', "DELETE FROM $items WHERE id % 3 = 0");
	is(deleted_returned($items, 'n.id % 3 = 0'), '0', "$mode: deleted rows are not returned before VACUUM");
	$node->safe_psql('postgres', "VACUUM $items");
	is($node->safe_psql('postgres', "SELECT heap_tids FROM vsim.hnsw_index_stats('${items}_idx')"),
		$node->safe_psql('postgres', "SELECT count(*) FROM $items"),
		"$mode: VACUUM removed the dead rows from the index");
	is($node->safe_psql('postgres', "SELECT vsim.index_check('${items}_idx', true)"), '',
		"$mode: index_check passes after VACUUM");
	$node->safe_psql('postgres', "INSERT INTO $items (v) SELECT v FROM train WHERE id BETWEEN 3001 AND 4000");
	is(deleted_returned($items, 'n.id % 3 = 0 AND n.id <= 3000'), '0',
		"$mode: no deleted row returned after reinserts");
	is($node->safe_psql('postgres', "SELECT vsim.index_check('${items}_idx', true)"), '',
		"$mode: index_check passes after VACUUM and inserts into freed slots");
	{
		my $truth = exact_truth($node, '<->', $k, table => $items);
		my ($ids, $dist) = knn_query($node, '<->', $k, table => $items,
			settings => 'SET enable_seqscan = off;');
		my $recall = recall_at_k($truth, $ids, $dist, $k);
		cmp_ok($recall, '>=', 0.95, "$mode after VACUUM and inserts: recall\@$k $recall >= 0.95");
	}

	# --- an iterative scan past ef_search: a filter keeping 1 row in 10 ------
	{
		my $iter = sub {
			my ($how) = @_;
			return $node->safe_psql('postgres', qq{
				SET enable_seqscan = off; SET hnsw.iterative_scan = $how;
				SELECT count(*) || ' ' || bool_and(d >= coalesce(prev, '-Infinity')) FROM (
				  SELECT d, lag(d) OVER () AS prev FROM (
				    SELECT v <-> (SELECT v FROM test WHERE id = 1) AS d FROM $items WHERE id % 10 = 1
				    ORDER BY v <-> (SELECT v FROM test WHERE id = 1) LIMIT 100) s) t});
		};
		like($iter->('strict_order'), qr/ true$/, "$mode: a strict_order iterative scan returns rows in exact distance order");
		like($iter->('relaxed_order'), qr/^100 /, "$mode: a relaxed_order iterative scan returns all 100 rows");
	}

	# --- concurrent inserts with queries -------------------------------------
	my $dims = 32;
	my $citems = "c$items";
	$node->safe_psql('postgres', qq{
		CREATE TABLE $citems (id bigserial PRIMARY KEY, v vector($dims));
		INSERT INTO $citems (v) SELECT array_agg(random()::real)::vector($dims)
		  FROM generate_series(1, 1000) i, generate_series(1, $dims) j GROUP BY i;
		CREATE INDEX ${citems}_idx ON $citems USING hnsw (v vector_l2_ops)
		  WITH (m = 8, ef_construction = 32, quantization = $mode);});
	$node->pgbench('--no-vacuum --client=5 --jobs=2 --transactions=200',
		0, [qr{processed: 1000/1000}], [qr{^$}],
		"$mode: concurrent inserts and queries",
		{
			"${mode}_insert\@3" => "INSERT INTO $citems (v) SELECT array_agg(random()::real)::vector($dims) FROM generate_series(1, $dims);",
			"${mode}_query\@1" => "SET enable_seqscan = off;\n"
			  . "SELECT count(*) FROM (SELECT id FROM $citems ORDER BY v <-> (SELECT array_agg(random()::real)::vector($dims) FROM generate_series(1, $dims)) LIMIT 5) s;",
		});
	my $crows = $node->safe_psql('postgres', "SELECT count(*) FROM $citems");
	cmp_ok($crows, '>', 1500, "$mode: pgbench inserted rows ($crows in all)");
	is($node->safe_psql('postgres', "SELECT heap_tids FROM vsim.hnsw_index_stats('${citems}_idx')"),
		$crows, "$mode: the index holds every row after concurrent inserts");
	is($node->safe_psql('postgres', qq{
			SET enable_seqscan = off; SET hnsw.ef_search = 100;
			SELECT avg(((SELECT t.id FROM $citems t ORDER BY t.v <-> q.v LIMIT 1) = q.id)::int) >= 0.99
			FROM $citems q}), 't', "$mode: after concurrent inserts rows are their own nearest neighbour");
	is($node->safe_psql('postgres', "SELECT vsim.index_check('${citems}_idx', true)"), '',
		"$mode: index_check passes after concurrent inserts");

	# --- standby --------------------------------------------------------------
	$node->backup("b_$mode");
	my $standby = PostgreSQL::Test::Cluster->new("hnsw_quant_standby_$mode");
	$standby->init_from_backup($node, "b_$mode", has_streaming => 1);
	$standby->start;
	my $later = "later_$mode";
	$node->safe_psql('postgres', qq{
		INSERT INTO $items (v) SELECT v FROM train WHERE id BETWEEN 4001 AND 5000;
		DELETE FROM $items WHERE id % 7 = 0; VACUUM $items;
		CREATE TABLE $later (id int PRIMARY KEY, v vector(784));
		INSERT INTO $later SELECT id, v FROM train WHERE id <= 1500;
		CREATE INDEX ${later}_idx ON $later USING hnsw (v vector_l2_ops) WITH (quantization = $mode);});
	$node->wait_for_catchup($standby);
	is(answers($standby, $items), answers($node, $items),
		"$mode: the standby returns the same neighbours as the primary");
	my $later_q = qq{SET enable_seqscan = off;
		SELECT string_agg(n.id::text, ',' ORDER BY q.id, n.d, n.id) FROM test q
		CROSS JOIN LATERAL (SELECT l.id, l.v <-> q.v AS d FROM $later l ORDER BY l.v <-> q.v LIMIT 5) n
		WHERE q.id <= 20};
	is($standby->safe_psql('postgres', $later_q), $node->safe_psql('postgres', $later_q),
		"$mode: an index built after the backup reached the standby through WAL and answers alike");
	my $stats = "SELECT elements, dead_elements, free_slots, heap_tids, quantization, bytes_per_vector FROM vsim.hnsw_index_stats('${items}_idx')";
	is($standby->safe_psql('postgres', $stats), $node->safe_psql('postgres', $stats),
		"$mode: the standby index has the same elements");
	$standby->stop;

	# --- crash recovery -------------------------------------------------------
	my $scratch = "scratch_$mode";
	$node->safe_psql('postgres', qq{
		CREATE UNLOGGED TABLE $scratch (v vector(784));
		INSERT INTO $scratch SELECT v FROM train WHERE id <= 300;
		CREATE INDEX ${scratch}_idx ON $scratch USING hnsw (v vector_l2_ops) WITH (quantization = $mode);
		CHECKPOINT;
		INSERT INTO $items (v) SELECT v FROM train WHERE id BETWEEN 5001 AND 6000;
		DELETE FROM $items WHERE id % 11 = 0; VACUUM $items;
		INSERT INTO $items (v) SELECT v FROM train WHERE id BETWEEN 6001 AND 6300;});
	my $before = answers($node, $items);
	my $tids_before = $node->safe_psql('postgres', "SELECT heap_tids FROM vsim.hnsw_index_stats('${items}_idx')");
	$node->stop('immediate');
	$node->start;
	is(answers($node, $items), $before, "$mode: after a crash the index returns the same neighbours");
	is($node->safe_psql('postgres', "SELECT heap_tids FROM vsim.hnsw_index_stats('${items}_idx')"),
		$tids_before, "$mode: after a crash the index holds the same rows");
	is($node->safe_psql('postgres', "SELECT vsim.index_check('${items}_idx', true)"), '',
		"$mode: after a crash index_check passes");
	# the unlogged index is reset from its init fork (metapage and parameters)
	is($node->safe_psql('postgres', "SELECT elements, quantization FROM vsim.hnsw_index_stats('${scratch}_idx')"),
		"0|$mode", "the unlogged $mode index was reset to an empty one");
	$node->safe_psql('postgres', "INSERT INTO $scratch SELECT v FROM train WHERE id <= 50");
	is($node->safe_psql('postgres', "SELECT vsim.index_check('${scratch}_idx', true)"), '',
		"the reset unlogged $mode index takes inserts and checks clean");
	is($node->safe_psql('postgres', qq{SET enable_seqscan = off;
		SELECT count(*) FROM (SELECT 1 FROM $scratch ORDER BY v <-> (SELECT v FROM test WHERE id = 1) LIMIT 20) s}),
		'20', "the reset unlogged $mode index returns rows");

	# --- damaged parameters: XX002, never wrong answers ----------------------
	$node->safe_psql('postgres', 'CHECKPOINT');
	my ($poff, $pmsg) = @{ $param_damage{$mode} };
	damage_page($node, "${items}_idx", 1, $poff, pack('L<', 0x7FC00000));
	my ($ret, $out, $err) = $node->psql('postgres', qq{SET enable_seqscan = off;
		SELECT id FROM $items ORDER BY v <-> (SELECT v FROM test WHERE id = 1) LIMIT 10});
	like($err, qr/index "${items}_idx" is corrupted at block 1/,
		"a damaged $mode parameter page: the scan fails naming the block");
	($ret, $out, $err) = $node->psql('postgres', "SELECT vsim.index_check('${items}_idx')");
	like($err, $pmsg, "a damaged $mode parameter page: index_check says which value");
	$node->safe_psql('postgres', "REINDEX INDEX ${items}_idx");
	is($node->safe_psql('postgres', "SELECT vsim.index_check('${items}_idx', true)"), '',
		"$mode: REINDEX rebuilds the parameters");

	# a damaged code: the first element (block 2, offset 0: the 784-d
	# parameters, 6,280 bytes for sq8 and 3,576 for rabitq, take block 1)
	$node->safe_psql('postgres', 'CHECKPOINT');
	my $level = unpack('C', read_page($node, "${items}_idx", 2, 24, 1));
	# the element's prefix: 64-byte header, level-0 list 2 + 6 x 32, 2 + 6 x 16 a level above
	my $value_off = ((64 + 194 + 98 * $level) + 3) & ~3;
	my ($coff, $cval) = @{ $code_damage{$mode} };
	damage_page($node, "${items}_idx", 2, 24 + $value_off + $coff, pack('f<', $cval));
	($ret, $out, $err) = $node->psql('postgres', "SELECT vsim.index_check('${items}_idx')");
	like($err, qr/corrupted at block 2.*\n.*$mode code of the element at offset 0 is impossible/,
		"a damaged $mode code: index_check reports the element");
	$node->safe_psql('postgres', "REINDEX INDEX ${items}_idx");
}

$node->stop;
done_testing();
