# IVFFlat space reuse: five rounds of deleting half the rows, VACUUM and
# inserting them again keep the index near its fresh size, with the recall
# of the fresh index.  The rows come back unchanged, so the ground truth
# (an exact scan) holds for every round.
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use PostgreSQL::Test::Utils;
use Test::More;
use VsimTest;

my ($nrows, $nqueries, $dims, $k, $lists, $probes, $rounds) = (20000, 100, 64, 10, 50, 3, 5);
my $node = vsim_node('ivf_reuse');

# Overlapping clusters of random vectors (fixed seed): 50 centres in
# [0, 10)^64, rows within 8 of a centre on each axis.  COPY text, ids
# from 1; the queries alike.
sub write_rows
{
	my ($file, $n, $centres) = @_;
	open(my $fh, '>', $file) or die "open $file: $!";
	for my $id (1 .. $n)
	{
		my $c = $centres->[ int(rand(@$centres)) ];
		printf $fh "%d\t[%s]\n", $id, join(',', map { sprintf('%.4f', $_ + 16 * rand() - 8) } @$c);
	}
	close $fh;
}
srand(20240601);
my @centres = map { [ map { 10 * rand() } 1 .. $dims ] } 1 .. 50;
my $dir = PostgreSQL::Test::Utils::tempdir();
write_rows("$dir/rows", $nrows, \@centres);
write_rows("$dir/queries", $nqueries, \@centres);
$node->safe_psql('postgres', qq{
	CREATE TABLE pool (id int PRIMARY KEY, v vector($dims));
	COPY pool FROM '$dir/rows';
	CREATE TABLE test (id int PRIMARY KEY, v vector($dims));
	COPY test FROM '$dir/queries';
	CREATE TABLE train (id int PRIMARY KEY, v vector($dims));
	INSERT INTO train SELECT * FROM pool;
	CREATE INDEX train_ivf ON train USING ivfflat (v) WITH (lists = $lists);
	VACUUM ANALYZE train;
});

# recall@k through the index with `probes` lists against the exact answers
my ($exact_ids, $exact_dist) = knn_query($node, '<->', $k,
	settings => 'SET enable_indexscan = off; SET enable_bitmapscan = off;');
my %truth = map {
	my $q = $_;
	($q => [ map { [ $_, $exact_dist->{$q}{$_} ] } @{ $exact_ids->{$q} } ])
} keys %$exact_ids;
sub recall
{
	my ($ids, $dist) = knn_query($node, '<->', $k,
		settings => "SET enable_seqscan = off; SET ivfflat.probes = $probes;");
	return recall_at_k(\%truth, $ids, $dist, $k);
}
sub index_bytes { return $node->safe_psql('postgres', "SELECT pg_relation_size('train_ivf')") }

my $fresh_recall = recall();
my $fresh_bytes = index_bytes();
note "fresh index: $fresh_bytes bytes, recall\@$k $fresh_recall with $probes of $lists probes";

# round r deletes the rows of one pseudo-random half and inserts them again
for my $r (1 .. $rounds)
{
	my $half = "abs(hashint4(id + 1000000 * $r)) % 2 = 0";
	$node->safe_psql('postgres', qq{
		DELETE FROM train WHERE $half;
		VACUUM train;
		INSERT INTO train SELECT * FROM pool WHERE $half;
	});
	note "round $r: " . index_bytes() . " bytes";
}
$node->safe_psql('postgres', 'VACUUM train');
is($node->safe_psql('postgres', 'SELECT count(*) FROM train'), $nrows, "the table holds its $nrows rows");
is($node->safe_psql('postgres', "SELECT vsim.index_check('train_ivf', true)"), '',
	'the index is sound and holds every row');

my $bytes = index_bytes();
my $recall = recall();
note "after $rounds rounds: $bytes bytes (" . sprintf('%.3f', $bytes / $fresh_bytes)
  . " of fresh), recall\@$k $recall";
cmp_ok($bytes, '<=', 1.2 * $fresh_bytes,
	"after $rounds rounds of deleting and inserting half the rows the index is within 1.2x its fresh size");
cmp_ok(abs($recall - $fresh_recall), '<=', 0.01,
	"recall\@$k $recall is within 0.01 of the fresh index's $fresh_recall");

# Inserts, scans and VACUUM at once: two clients put deleted rows back
# (filling the pages VACUUM compacts while it runs), one scans, one runs
# VACUUM.  Every statement must work and the index must then hold every row.
$node->safe_psql('postgres', 'DELETE FROM train WHERE id % 3 = 0');
$node->pgbench(
	'--no-vacuum --client=4 --transactions=200',
	0, [qr{processed: 800/800}], [qr{^$}],
	'concurrent inserts, scans and VACUUM',
	{
		'ivf_reuse_insert@2' => q{
			\set r random(1, 20000)
			INSERT INTO train SELECT * FROM pool WHERE id = :r AND id % 3 = 0 ON CONFLICT DO NOTHING;
		},
		'ivf_reuse_scan@1' => qq{
			\\set q random(1, $nqueries)
			SET enable_seqscan = off;
			SELECT count(*) FROM (SELECT t.id FROM train t ORDER BY t.v <-> (SELECT v FROM test WHERE id = :q) LIMIT $k) s;
		},
		'ivf_reuse_vacuum@1' => 'VACUUM train;',
	});
$node->safe_psql('postgres', 'INSERT INTO train SELECT * FROM pool WHERE id % 3 = 0 ON CONFLICT DO NOTHING');
is($node->safe_psql('postgres', "SELECT vsim.index_check('train_ivf', true)"), '',
	'after concurrent inserts, scans and VACUUM the index is sound and holds every row');
is($node->safe_psql('postgres', qq{
	SET enable_seqscan = off; SET ivfflat.probes = $lists;
	SELECT count(*) FROM (SELECT id FROM train ORDER BY v <-> (SELECT v FROM test WHERE id = 1)) s}),
	$nrows, "... and a scan of every list returns the $nrows rows once each");
cmp_ok(index_bytes(), '<=', 1.2 * $fresh_bytes, '... within 1.2x its fresh size');

# what a rebuild gives on the same rows, for comparison
$node->safe_psql('postgres', 'REINDEX INDEX train_ivf');
note 'after REINDEX: ' . index_bytes() . ' bytes, recall@' . $k . ' ' . recall();

$node->stop;
done_testing();
