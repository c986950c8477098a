# ivfflat quantization (issue 9) on real data: recall@10 of every mode
# (none, sq8, rabitq) at the default re-rank depth on Fashion-MNIST (L2,
# against an independent numpy brute force) and on the CNN-256 embeddings
# (cosine, when the data directory has the model); the rows of a scan come
# in non-decreasing exact distance, and the distances are the exact ones;
# then, for quantized indexes, VACUUM and reinsert, a streaming standby
# answering like the primary and crash recovery.
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use PostgreSQL::Test::Utils;
use Test::More;
use VsimTest;

my ($ntrain, $ntest, $k, $lists, $probes) = (10000, 100, 10, 50, 8);
my $data = vsim_data_dir();
my $models = defined $data && -d "$data/models/fashion-mnist-cnn";
my $node = vsim_node('ivf_quant', allows_streaming => 1,
	conf => "maintenance_work_mem = 256MB\n"
	  . ($models ? "vsim.model_directory = '$data/models'\n" : ''));
load_fmnist($node, 'train', 'train', $ntrain);
load_fmnist($node, 'test', 'test', $ntest);

# Recall, and order: every query's first 100 rows through the index must
# come in non-decreasing distance, the distance the operator computes.
sub check_mode
{
	my ($set, $truth, $cls, $op, $mode) = @_;
	$node->safe_psql('postgres', qq{DROP INDEX IF EXISTS train_idx;
		CREATE INDEX train_idx ON train USING ivfflat (v $cls)
		WITH (lists = $lists, quantization = $mode)});
	my $plan = $node->safe_psql('postgres', qq{SET ivfflat.probes = $probes;
		EXPLAIN (COSTS OFF) SELECT id FROM train ORDER BY v $op (SELECT v FROM test WHERE id = 1) LIMIT $k});
	like($plan, qr/Index Scan using train_idx/, "$set $mode: the planner uses the index");
	my ($ids, $dist) = knn_query($node, $op, $k,
		settings => "SET enable_seqscan = off; SET ivfflat.probes = $probes;");
	my $recall = recall_at_k($truth, $ids, $dist, $k);
	cmp_ok($recall, '>=', 0.95, "$set $mode: recall\@$k $recall >= 0.95 (probes $probes of $lists)");
	my $bad = unordered_rows($node, $op, "SET enable_seqscan = off; SET ivfflat.probes = $probes;");
	is($bad, '0', "$set $mode: the first 100 rows of every query come in exact distance order");
	is($node->safe_psql('postgres', "SELECT vsim.index_check('train_idx', true)"), '',
		"$set $mode: index_check passes");
	return $node->safe_psql('postgres', "SELECT pg_relation_size('train_idx')");
}

# --- Fashion-MNIST, L2 ----------------------------------------------------------
my $fm_truth = fmnist_truth('l2', $k, $ntrain, $ntest);
my %size;
$size{$_} = check_mode('fmnist', $fm_truth, 'vector_l2_ops', '<->', $_) for qw(none sq8 rabitq);
note "fmnist index bytes: none $size{none}, sq8 $size{sq8}, rabitq $size{rabitq}";
cmp_ok($size{sq8}, '<', 0.35 * $size{none}, 'fmnist: the sq8 index is under 35% of the unquantized one');
cmp_ok($size{rabitq}, '<', 0.1 * $size{none}, 'fmnist: the rabitq index is under 10% of the unquantized one');

# the distances the scan returns are the brute force's, for the top 10
{
	my ($ids, $dist) = knn_query($node, '<->', $k,
		settings => "SET enable_seqscan = off; SET ivfflat.probes = $lists;");
	my ($worst, $pairs) = (0, 0);
	for my $qid (keys %$fm_truth)
	{
		for my $cell (@{ $fm_truth->{$qid} })
		{
			my ($id, $want) = @$cell;
			next unless defined $dist->{$qid}{$id};
			my $err = abs($dist->{$qid}{$id} - $want) / (1 + abs($want));
			$worst = $err if $err > $worst;
			$pairs++;
		}
	}
	ok($pairs >= 0.99 * $k * $ntest && $worst < 1e-5,
		"fmnist rabitq, probes = lists: $pairs of the true top-10 rows found, distances as brute force (worst rel err $worst)");
}

# --- CNN-256 embeddings, cosine ------------------------------------------------
SKIP:
{
	skip 'no fashion-mnist-cnn model in the data directory', 12 unless $models;
	create_cnn_model($node, 'fmnist_embed');
	embed_train_test($node, 'fmnist_embed');
	my $cnn_truth = exact_truth($node, '<=>', $k);
	check_mode('cnn256', $cnn_truth, 'vector_cosine_ops', '<=>', $_) for qw(none sq8 rabitq);
	$node->safe_psql('postgres', q{DROP TABLE train, test;
		ALTER TABLE fm_train RENAME TO train; ALTER TABLE fm_test RENAME TO test;});
}

# --- VACUUM, reinsert, standby, crash recovery ------------------------------------
# one table per mode, each with its quantized index
my %mode = (sq8_items => 'sq8', rbq_items => 'rabitq');
for my $t (sort keys %mode)
{
	$node->safe_psql('postgres', qq{
		CREATE TABLE $t (id serial PRIMARY KEY, v vector(784));
		INSERT INTO $t (v) SELECT v FROM train WHERE id <= 2000;
		CREATE INDEX ${t}_idx ON $t USING ivfflat (v) WITH (lists = 20, quantization = $mode{$t});});
}

# Every test query's 10 nearest ids in table $t through its index
sub answers
{
	my ($n, $t) = @_;
	return $n->safe_psql('postgres', qq{
		SET enable_seqscan = off; SET ivfflat.probes = 5;
		SELECT string_agg(n.id::text, ',' ORDER BY q.id, n.d, n.id) FROM test q
		CROSS JOIN LATERAL (SELECT i.id, i.v <-> q.v AS d FROM $t i
		                    ORDER BY i.v <-> q.v LIMIT 10) n
		WHERE q.id <= 20;
	});
}

# Every indexed row of $t through its index: probes = lists, depth past the table
sub index_count
{
	my ($n, $t) = @_;
	return $n->safe_psql('postgres', qq{
		SET enable_seqscan = off; SET ivfflat.probes = 20; SET ivfflat.rerank_candidates = 100000;
		SELECT count(*) FROM (SELECT id FROM $t
			ORDER BY v <-> (SELECT v FROM test WHERE id = 1)) s;
	});
}

for my $t (sort keys %mode)
{
	$node->safe_psql('postgres', "DELETE FROM $t WHERE id % 3 = 0; VACUUM $t;");
	my $left = $node->safe_psql('postgres', "SELECT count(*) FROM $t");
	is($node->safe_psql('postgres', "SELECT rows FROM vsim.ivfflat_index_stats('${t}_idx')"),
		$left, "$mode{$t}: VACUUM removed the dead items ($left rows left)");
	is(index_count($node, $t), $left, "$mode{$t}: the index returns the $left remaining rows");
	$node->safe_psql('postgres', "INSERT INTO $t (v) SELECT v FROM train WHERE id BETWEEN 2001 AND 2500");
	is(index_count($node, $t), $left + 500, "$mode{$t}: rows reinserted after VACUUM are found");
	is($node->safe_psql('postgres', "SELECT vsim.index_check('${t}_idx', true)"), '',
		"$mode{$t}: index_check passes after VACUUM and reinsert");
}

# standby: changes after the backup reach it through WAL only
$node->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('ivf_quant_standby');
$standby->init_from_backup($node, 'b', has_streaming => 1);
$standby->start;
for my $t (sort keys %mode)
{
	$node->safe_psql('postgres', qq{
		INSERT INTO $t (v) SELECT v FROM train WHERE id BETWEEN 2501 AND 3500;
		DELETE FROM $t WHERE id % 7 = 0; VACUUM $t;});
}
$node->safe_psql('postgres', q{CREATE INDEX sq8_items_cos ON sq8_items
	USING ivfflat (v vector_cosine_ops) WITH (lists = 10, quantization = rabitq)});
$node->wait_for_catchup($standby);
for my $t (sort keys %mode)
{
	is(answers($standby, $t), answers($node, $t),
		"$mode{$t}: the standby returns the same neighbours as the primary");
	is(index_count($standby, $t), index_count($node, $t),
		"$mode{$t}: the standby index holds the same rows");
}
my $stats = "SELECT rows, quantization, param_pages, list_pages FROM vsim.ivfflat_index_stats('sq8_items_cos')";
is($standby->safe_psql('postgres', $stats), $node->safe_psql('postgres', $stats),
	'a quantized index built after the backup reached the standby through WAL');
$standby->stop;

# crash recovery
$node->safe_psql('postgres', q{DROP INDEX sq8_items_cos;
	CREATE UNLOGGED TABLE scratch (v vector(784));
	INSERT INTO scratch SELECT v FROM train WHERE id <= 300;
	CREATE INDEX scratch_sq8 ON scratch USING ivfflat (v) WITH (lists = 5, quantization = sq8);
	CREATE INDEX scratch_rbq ON scratch USING ivfflat (v) WITH (lists = 5, quantization = rabitq);
	CHECKPOINT;});
for my $t (sort keys %mode)
{
	$node->safe_psql('postgres', qq{
		INSERT INTO $t (v) SELECT v FROM train WHERE id BETWEEN 3501 AND 4500;
		DELETE FROM $t WHERE id % 11 = 0; VACUUM $t;});
}
my %before = map { $_ => answers($node, $_) } keys %mode;
my %count_before = map { $_ => index_count($node, $_) } keys %mode;
$node->stop('immediate');
$node->start;
for my $t (sort keys %mode)
{
	is(answers($node, $t), $before{$t}, "$mode{$t}: after a crash the index returns the same neighbours");
	is(index_count($node, $t), $count_before{$t}, "$mode{$t}: after a crash the index holds the same rows");
	is($node->safe_psql('postgres', "SELECT vsim.index_check('${t}_idx', true)"), '',
		"$mode{$t}: after a crash index_check passes");
}

# the UNLOGGED table is empty after the crash; its quantized indexes, reset
# from their init forks (parameters included), take new rows
for my $idx (qw(scratch_sq8 scratch_rbq))
{
	is($node->safe_psql('postgres', "SELECT lists, rows, param_pages FROM vsim.ivfflat_index_stats('$idx')"),
		'1|0|1', "$idx: the unlogged index was reset to an empty one-list index with its parameters");
}
$node->safe_psql('postgres', 'INSERT INTO scratch SELECT v FROM train WHERE id <= 50');
for my $idx (qw(scratch_sq8 scratch_rbq))
{
	is($node->safe_psql('postgres', "SELECT vsim.index_check('$idx', true)"), '',
		"$idx: index_check passes on the reset index after inserts");
}
is($node->safe_psql('postgres', q{
	SET enable_seqscan = off; SET ivfflat.rerank_candidates = 100000;
	SELECT count(*) FROM (SELECT 1 FROM scratch ORDER BY v <-> (SELECT v FROM test WHERE id = 1)) s}),
	'50', 'the reset unlogged index finds the 50 rows inserted after the crash');

# --- damaged parameters: XX002, never wrong answers; REINDEX repairs -------------
sub error_of
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql");
	return $ret == 0 ? 'no error' : $err;
}
my $query = q{SET enable_seqscan = off; SELECT id FROM rbq_items
	ORDER BY v <-> (SELECT v FROM test WHERE id = 1) LIMIT 10};
$node->safe_psql('postgres', 'CHECKPOINT');
# the metapage's ndirpages (after the page header, magic, version, dims,
# nlists, requested_lists): the parameter page follows the directory
my $ndir = unpack('l<', read_page($node, 'rbq_items_idx', 0, 24 + 20, 4));
my $param_blk = 1 + $ndir;
my $bs = $node->safe_psql('postgres', 'SHOW block_size');
# a byte of the rotation's signs, near the end of the page (the item's end)
my ($byte) = unpack('C', read_page($node, 'rbq_items_idx', $param_blk, $bs - 8 - 20, 1));
damage_page($node, 'rbq_items_idx', $param_blk, $bs - 8 - 20, pack('C', $byte ^ 0xFF));
like(error_of($query), qr/XX002: index "rbq_items_idx" is corrupted at block $param_blk.*\n.*CRC-32C/,
	'a damaged parameter page: the scan fails with XX002 naming the block (CRC mismatch)');
like(error_of("SELECT vsim.index_check('rbq_items_idx')"), qr/XX002/,
	'a damaged parameter page: index_check fails with XX002');
$node->safe_psql('postgres', 'REINDEX INDEX rbq_items_idx');
is(error_of($query), 'no error', 'REINDEX rebuilds the parameters');
# the metapage's quantization field (after the 48 bytes of version 1)
$node->safe_psql('postgres', 'CHECKPOINT');
damage_page($node, 'rbq_items_idx', 0, 24 + 48, pack('l<', 7));
like(error_of($query), qr/XX002: index "rbq_items_idx" is corrupted at block 0/,
	'a damaged quantization field on the metapage: XX002');
$node->safe_psql('postgres', 'REINDEX INDEX rbq_items_idx');

$node->stop;
done_testing();
