# test/t/082_sparsevec_hnsw.pl: hnsw indexes on sparsevec (issue 10) on
# real text vectors.
#
# - TF-IDF vectors (vsim.tfidf_fit / tfidf_vector, 16,000 terms) of 3,000
#   AG News items as sparsevec(16000), and 40 held-out items as queries:
#   each of sparsevec_l2_ops, _ip_ops, _cosine_ops and _l1_ops reaches
#   recall@10 >= 0.95 against the exact answer of a sequential scan
#   (ties at the 10th distance allowed), and passes vsim.index_check;
# - hashed text (vsim.hash_vector, raw counts) under sparsevec_l2_ops, the
#   index built in parallel and then grown by inserts: recall@10 >= 0.95;
# - a streaming standby, fed only by WAL (build, inserts, VACUUM, inserts
#   that reuse the freed slots), returns what the primary returns, and
#   after a crash (immediate stop) the primary's recovered index is sound
#   and answers as before.
# Skips without the corpus.
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use VsimTest;

my $data = vsim_data_dir();
plan skip_all => 'no AG News corpus in the data directory'
  unless defined $data && -f "$data/corpus/ag_news_test.csv";

my $primary = vsim_node('sparse_primary', allows_streaming => 1);
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('sparse_standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
sub query { return $primary->safe_psql('postgres', $_[0]); }

query(qq{CREATE TABLE ag (label int, title text, description text);
	COPY ag FROM '$data/corpus/ag_news_test.csv' WITH (FORMAT csv, HEADER true);
	ALTER TABLE ag ADD id serial;
	DELETE FROM ag WHERE id > 3040});
# the vocabulary's size is the vectors' dimensions
my $dim = query(q{SELECT vsim.tfidf_fit('vocab', 'SELECT title || '' '' || description FROM ag WHERE id <= 3000', 16000)});
query(qq{CREATE TABLE docs AS SELECT id, vsim.tfidf_vector(title || ' ' || description, 'vocab')::sparsevec($dim) AS v
		FROM ag WHERE id <= 3000;
	CREATE TABLE test AS SELECT id, vsim.tfidf_vector(title || ' ' || description, 'vocab')::sparsevec($dim) AS v
		FROM ag WHERE id > 3000;
	DELETE FROM test WHERE v = '{}/$dim';
	ANALYZE docs});
my $nq = query('SELECT count(*) FROM test');
cmp_ok($nq, '>=', 35, "$nq TF-IDF queries");
like(query(q{SELECT min(n) || ' ' || (max(n) > 3 * min(n)) FROM (
	SELECT length(v::text) - length(replace(v::text, ':', '')) AS n FROM docs) s}),
	qr/^[1-9]\d* true$/, 'documents of very different non-zero counts (variable-size elements)');

my $settings = 'SET enable_seqscan = off; SET hnsw.ef_search = 200;';
my %ops = (l2 => '<->', ip => '<#>', cosine => '<=>', l1 => '<+>');
for my $metric (sort keys %ops)
{
	my $op = $ops{$metric};
	query("CREATE INDEX docs_$metric ON docs USING hnsw (v sparsevec_${metric}_ops)");
	my $truth = exact_truth($primary, $op, 10, table => 'docs');
	my ($ids, $dist) = knn_query($primary, $op, 10, table => 'docs', settings => $settings);
	my $recall = recall_at_k($truth, $ids, $dist, 10);
	cmp_ok($recall, '>=', 0.95, "sparsevec_${metric}_ops on TF-IDF: recall\@10 $recall");
	is(query("SELECT vsim.index_check('docs_$metric', true)"), '', "docs_$metric is sound");
	query("DROP INDEX docs_$metric") unless $metric eq 'cosine';
}

# hashed text, raw counts: a parallel build, then inserts
query(q{CREATE TABLE hashed AS SELECT id, vsim.hash_vector(title || ' ' || description, 16000)::sparsevec(16000) AS v
		FROM ag WHERE id <= 2000;
	ALTER TABLE hashed SET (parallel_workers = 2);
	ANALYZE hashed});
my ($ret, $out, $err) = $primary->psql('postgres', q{SET client_min_messages = debug1;
	SET max_parallel_maintenance_workers = 2; SET min_parallel_table_scan_size = 0;
	CREATE INDEX hashed_l2 ON hashed USING hnsw (v sparsevec_l2_ops)});
is($ret, 0, 'the hashed index builds');
like($err, qr/hnsw build of "hashed_l2": [12] parallel workers? launched/, 'the build ran in parallel');
query(qq{INSERT INTO hashed SELECT id, vsim.hash_vector(title || ' ' || description, 16000)::sparsevec(16000)
		FROM ag WHERE id > 2000 AND id <= 3000;
	ALTER TABLE test RENAME TO test_tfidf;
	CREATE TABLE test AS SELECT id, vsim.hash_vector(title || ' ' || description, 16000)::sparsevec(16000) AS v
		FROM ag WHERE id > 3000});
{
	my $truth = exact_truth($primary, '<->', 10, table => 'hashed');
	my ($ids, $dist) = knn_query($primary, '<->', 10, table => 'hashed', settings => $settings);
	my $recall = recall_at_k($truth, $ids, $dist, 10);
	cmp_ok($recall, '>=', 0.95, "sparsevec_l2_ops on hashed text, built in parallel then inserted: recall\@10 $recall");
	is(query("SELECT vsim.index_check('hashed_l2', true)"), '', 'hashed_l2 is sound');
}
query('DROP TABLE test; ALTER TABLE test_tfidf RENAME TO test');

# WAL: inserts, VACUUM, inserts into the freed slots, on the standby
query(qq{CREATE TABLE more (LIKE docs);
	CREATE INDEX more_cos ON more USING hnsw (v sparsevec_cosine_ops) WITH (m = 8);
	INSERT INTO more SELECT * FROM docs WHERE id <= 1500;
	DELETE FROM more WHERE id % 4 = 0;
	VACUUM more;
	INSERT INTO more SELECT * FROM docs WHERE id > 1500 AND id <= 1800});
like(query(q{SELECT free_slots < 375 FROM vsim.hnsw_index_stats('more_cos')}), qr/^t$/,
	'inserts reused slots VACUUM freed');
$primary->wait_for_catchup($standby);
my $knn = q{SET enable_seqscan = off; SELECT q.id, n.id, n.d FROM test q CROSS JOIN LATERAL (
	SELECT t.id, t.v <=> q.v AS d FROM more t ORDER BY t.v <=> q.v LIMIT 10) n ORDER BY 1, 3, 2};
my $on_primary = query($knn);
is(scalar(split /\n/, $on_primary), 10 * $nq, '10 rows per query on the primary');
is($standby->safe_psql('postgres', $knn), $on_primary, 'the standby returns what the primary returns');
is($standby->safe_psql('postgres', q{SELECT vsim.index_check('more_cos', true)}), '',
	'the replayed sparsevec index is sound on the standby');

# crash recovery: rows inserted just before an immediate stop are there
query(q{INSERT INTO more SELECT * FROM docs WHERE id > 1800 AND id <= 2000});
my $before = query($knn);
$primary->stop('immediate');
$primary->start;
is(query($knn), $before, 'after crash recovery the index answers as before the crash');
is(query(q{SELECT vsim.index_check('more_cos', true)}), '', 'the recovered index is sound');
is(query(q{SELECT heap_tids FROM vsim.hnsw_index_stats('more_cos')}),
	query(q{SELECT count(*) FROM more}), 'every row is in the recovered index');

$standby->stop;

# damage: a length word giving a slot larger than any element, and a
# value claiming more non-zero elements than its slot holds, are reported
# by vsim.index_check() as XX002; scans fail with XX002 or work, never crash
sub outcome
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $primary->psql('postgres', "\\set VERBOSITY verbose\n$sql");
	return '' if $ret == 0;
	my ($state) = $err =~ /ERROR:  ([0-9A-Z]{5}):/;
	return $state // "no SQLSTATE (exit $ret)";
}
for my $damage ([ 'length word', 0, pack('V', 0xFFFFFFF0) ], [ 'non-zero count', 12, pack('V', 5000) ])
{
	my ($what, $at, $bytes) = @$damage;
	query(q{DROP TABLE IF EXISTS cs;
		CREATE TABLE cs (id int, s sparsevec(100));
		INSERT INTO cs SELECT i, ('{' || (i % 50 + 1) || ':1,' || (51 + (i * 7) % 50) || ':2}/100')::sparsevec(100)
			FROM generate_series(1, 200) i;
		CREATE INDEX cs_hnsw ON cs USING hnsw (s sparsevec_l2_ops) WITH (m = 4, ef_construction = 16);
		CHECKPOINT});
	# the first element of block 1: its level, then its value offset
	# (header 64 bytes, list 0 2 + 8 * 6, upper lists 2 + 4 * 6, to 4 bytes)
	my $level = unpack('C', read_page($primary, 'cs_hnsw', 1, 24, 1));
	my $prefix = 64 + 50 + 26 * $level;
	$prefix += (4 - $prefix % 4) % 4;
	# the length word at the prefix's end; the value (varlena header, dim,
	# nnz, ...) after it
	is(join(' ', unpack('V V V V', read_page($primary, 'cs_hnsw', 1, 24 + $prefix, 16))) =~ s/^(\d+) \d+ (\d+) (\d+)$/$1 $2 $3/r,
		'32 100 2', 'the first element: length word 32 (16 + 8 * 2), then dim 100, nnz 2');
	damage_page($primary, 'cs_hnsw', 1, 24 + $prefix + ($at ? 4 + 8 : 0), $bytes);
	is(outcome(q{SELECT vsim.index_check('cs_hnsw')}), 'XX002', "damaged $what: index_check reports XX002");
	like(outcome(q{SET enable_seqscan = off; SET hnsw.iterative_scan = relaxed_order;
		SELECT count(*) FROM (SELECT id FROM cs ORDER BY s <-> '{1:1}/100') t}),
		qr/^(XX002)?$/, "damaged $what: a scan fails with XX002 or works");
	is(query('SELECT 1'), '1', "damaged $what: the server is up");
}

$primary->stop;
done_testing();
