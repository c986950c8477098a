# HNSW VACUUM: it repairs the graph only around elements that newly died
# (a later VACUUM with nothing newly dead repairs nothing), frees their
# slots, and with a maintenance_work_mem too small for all the dead
# elements at once works through them in rounds, leaving a sound index
# whose recall is that of a fresh build.
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use PostgreSQL::Test::Utils;
use Test::More;
use VsimTest;

my $node = vsim_node('hnsw_vacuum');

# VACUUM's message for the HNSW index (at DEBUG2, as PostgreSQL 15 gives
# index details), as a hash of its counts.
sub vacuum_counts
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', "SET client_min_messages = debug2; $sql");
	die "VACUUM failed: $err" if $ret != 0;
	my ($removed, $newly, $dead, $rounds, $repaired, $freed, $left) = $err =~
	  /removed (\d+) row versions; (\d+) elements newly dead, (\d+) dead elements handled in (\d+) rounds: the neighbour lists of (\d+) elements repaired, (\d+) slots freed, (\d+) dead elements left/
	  or die "no hnsw VACUUM message in: $err";
	return { removed => $removed, newly_dead => $newly, dead => $dead, rounds => $rounds,
		repaired => $repaired, freed => $freed, left => $left };
}

sub stats
{
	my ($index) = @_;
	my $row = $node->safe_psql('postgres',
		"SELECT elements, dead_elements, free_slots, heap_tids FROM vsim.hnsw_index_stats('$index')");
	my %s;
	@s{qw(elements dead free tids)} = split /\|/, $row;
	return \%s;
}

# --- A second VACUUM with nothing newly dead repairs nothing --------------
$node->safe_psql('postgres', q{
	SELECT setseed(0.5);
	CREATE TABLE items (id int PRIMARY KEY, v vector(8));
	INSERT INTO items SELECT i, array_agg(random()::real)::vector(8)
	  FROM generate_series(1, 3000) i, generate_series(1, 8) j GROUP BY i;
	CREATE INDEX items_hnsw ON items USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
	DELETE FROM items WHERE id % 3 = 0;
});
my $first = vacuum_counts('VACUUM items');
is($first->{newly_dead}, 1000, 'the first VACUUM finds 1000 elements newly dead');
cmp_ok($first->{repaired}, '>', 0, "it repairs the lists around them ($first->{repaired})");
is($first->{freed}, 1000, 'and frees all their slots');
is(stats('items_hnsw')->{dead}, 0, 'no dead element is left');

# A row whose vector another row has shares that row's element; deleting
# it gives VACUUM a heap TID to remove but kills no element.
$node->safe_psql('postgres', 'INSERT INTO items SELECT 5000, v FROM items WHERE id = 1');
is(stats('items_hnsw')->{elements}, 2000, 'the copy of row 1 shares its element');
$node->safe_psql('postgres', 'DELETE FROM items WHERE id = 5000');
my $second = vacuum_counts('VACUUM (INDEX_CLEANUP ON) items');
is($second->{removed}, 1, 'the second VACUUM removes the one row version');
is($second->{newly_dead}, 0, 'it finds no element newly dead');
is($second->{dead}, 0, 'it counts no dead element again');
is($second->{rounds}, 0, 'so it runs no repair round');
is($second->{repaired}, 0, 'and repairs no list');
is($node->safe_psql('postgres', q{SELECT vsim.index_check('items_hnsw', true)}), '',
	'the index is sound');

# --- Many dead elements, 1 MB of maintenance_work_mem: rounds --------------
my $k = 10;
$node->safe_psql('postgres', q{
	SELECT setseed(0.25);
	CREATE TABLE train (id int PRIMARY KEY, v vector(2));
	INSERT INTO train SELECT i, ARRAY[random(), random()]::real[] FROM generate_series(1, 120000) i;
	CREATE INDEX train_hnsw ON train USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 16);
	CREATE TABLE test (id int PRIMARY KEY, v vector(2));
	INSERT INTO test SELECT i, ARRAY[random(), random()]::real[] FROM generate_series(1, 50) i;
	DELETE FROM train WHERE id % 5 < 3;
});
# 72,000 dead elements at 9 bytes each do not fit in half of 1 MB
my $tiny = vacuum_counts(q{SET maintenance_work_mem = '1MB'; VACUUM train});
is($tiny->{newly_dead}, 72000, 'VACUUM finds the 72000 deleted rows\' elements dead');
cmp_ok($tiny->{rounds}, '>=', 2, "with 1 MB it works in rounds ($tiny->{rounds})");
is($tiny->{freed}, 72000, 'and frees every dead element');
my $s = stats('train_hnsw');
is("$s->{elements} $s->{dead} $s->{free} $s->{tids}", '48000 0 72000 48000',
	'48000 live elements are left, and 72000 free slots');
is($node->safe_psql('postgres', q{SELECT vsim.index_check('train_hnsw', true)}), '',
	'the index is sound');

my $truth = exact_truth($node, '<->', $k);
my $settings = 'SET enable_seqscan = off; SET hnsw.ef_search = 40;';
my ($ids, $dist) = knn_query($node, '<->', $k, settings => $settings);
my $vacuumed = recall_at_k($truth, $ids, $dist, $k);
$node->safe_psql('postgres', 'REINDEX INDEX train_hnsw');
($ids, $dist) = knn_query($node, '<->', $k, settings => $settings);
my $fresh = recall_at_k($truth, $ids, $dist, $k);
diag(sprintf('recall@%d after VACUUM in rounds %.3f, fresh build %.3f', $k, $vacuumed, $fresh));
cmp_ok($vacuumed, '>=', $fresh - 0.02, 'recall after the rounds is that of a fresh build');

$node->stop;
done_testing();
