# IVFFlat durability and concurrency: concurrent inserts, delete + VACUUM,
# crash recovery, a streaming standby answering like the primary, and an
# UNLOGGED index reset to its init fork after a crash.
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use PostgreSQL::Test::Utils;
use Test::More;
use VsimTest;

my ($ntrain, $lists) = (3000, 30);
my $node = vsim_node('ivf_primary', allows_streaming => 1);
load_fmnist($node, 'train', 'train', $ntrain);
load_fmnist($node, 'test', 'test', 20);
$node->safe_psql('postgres', qq{
	CREATE TABLE items (id serial PRIMARY KEY, v vector(784));
	INSERT INTO items (v) SELECT v FROM train WHERE id <= 1000;
	CREATE INDEX items_ivf ON items USING ivfflat (v) WITH (lists = $lists);
});

# Every query's 10 nearest ids through the index, as one string.
sub answers
{
	my ($n, $probes) = @_;
	return $n->safe_psql('postgres', qq{
		SET enable_seqscan = off; SET ivfflat.probes = $probes;
		SELECT string_agg(n.id::text, ',' ORDER BY q.id, n.d, n.id) FROM test q
		CROSS JOIN LATERAL (SELECT i.id, i.v <-> q.v AS d FROM items i
		                    ORDER BY i.v <-> q.v LIMIT 10) n;
	});
}

# With probes = lists the index must return every indexed row.
sub index_count
{
	my ($n) = @_;
	return $n->safe_psql('postgres', qq{
		SET enable_seqscan = off; SET ivfflat.probes = $lists;
		SELECT count(*) FROM (SELECT id FROM items
			ORDER BY v <-> (SELECT v FROM test WHERE id = 1)) s;
	});
}

# --- concurrent inserts: 4 clients extend the same lists at once -----------
$node->pgbench(
	'--no-vacuum --client=4 --transactions=250',
	0, [qr{processed: 1000/1000}], [qr{^$}],
	'concurrent inserts into an ivfflat index',
	{
		'ivf_insert' => q{
			\set r random(1001, 3000)
			INSERT INTO items (v) SELECT v FROM train WHERE id = :r;
		}
	});
is(index_count($node), '2000', 'after concurrent inserts the index holds all 2,000 rows');
is($node->safe_psql('postgres', "SELECT rows FROM vsim.ivfflat_index_stats('items_ivf')"),
	'2000', 'the monitoring function counts 2,000 rows');

# --- delete + VACUUM -----------------------------------------------------------
$node->safe_psql('postgres', 'DELETE FROM items WHERE id % 3 = 0; VACUUM items;');
my $left = $node->safe_psql('postgres', 'SELECT count(*) FROM items');
is(index_count($node), $left, "after DELETE and VACUUM the index returns the $left remaining rows");
is($node->safe_psql('postgres', "SELECT rows FROM vsim.ivfflat_index_stats('items_ivf')"),
	$left, 'VACUUM removed the dead index items');
is($node->safe_psql('postgres', qq{
	SET enable_seqscan = off; SET ivfflat.probes = $lists;
	SELECT count(*) FROM (SELECT id FROM items ORDER BY v <-> (SELECT v FROM test WHERE id = 2)) s
	WHERE id % 3 = 0}), '0', 'no deleted row comes back');
$node->safe_psql('postgres', 'INSERT INTO items (v) SELECT v FROM train WHERE id <= 200');
is(index_count($node), $left + 200, 'inserts after VACUUM are found');

# --- standby: the same answers as the primary ------------------------------------
$node->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('ivf_standby');
$standby->init_from_backup($node, 'b', has_streaming => 1);
$standby->start;
# changes after the backup reach the standby through WAL only
$node->safe_psql('postgres', qq{
	INSERT INTO items (v) SELECT v FROM train WHERE id BETWEEN 201 AND 700;
	DELETE FROM items WHERE id % 7 = 0; VACUUM items;
	CREATE INDEX items_ivf_cos ON items USING ivfflat (v vector_cosine_ops) WITH (lists = 10);
});
$node->wait_for_catchup($standby);
my $primary_answers = answers($node, 3);
is(answers($standby, 3), $primary_answers, 'the standby returns the same neighbours as the primary');
is(index_count($standby), index_count($node), 'the standby index holds the same rows');
is($standby->safe_psql('postgres', "SELECT rows, list_pages FROM vsim.ivfflat_index_stats('items_ivf_cos')"),
	$node->safe_psql('postgres', "SELECT rows, list_pages FROM vsim.ivfflat_index_stats('items_ivf_cos')"),
	'an index built after the backup reached the standby through WAL');
$standby->stop;

# --- crash recovery ----------------------------------------------------------------
$node->safe_psql('postgres', qq{
	CHECKPOINT;
	INSERT INTO items (v) SELECT v FROM train WHERE id BETWEEN 701 AND 1500;
	DELETE FROM items WHERE id % 11 = 0; VACUUM items;
	CREATE UNLOGGED TABLE scratch (v vector(784));
	INSERT INTO scratch SELECT v FROM train WHERE id <= 300;
	CREATE INDEX scratch_ivf ON scratch USING ivfflat (v) WITH (lists = 5);
});
my $before = answers($node, 3);
my $count_before = index_count($node);
$node->stop('immediate');
$node->start;
is(answers($node, 3), $before, 'after a crash the index returns the same neighbours');
is(index_count($node), $count_before, 'after a crash the index holds the same rows');

# the UNLOGGED table is empty after the crash; its index, reset from the init
# fork, is a valid one-list index that takes new rows
is($node->safe_psql('postgres', "SELECT lists, rows FROM vsim.ivfflat_index_stats('scratch_ivf')"),
	'1|0', 'the unlogged index was reset to an empty one-list index');
$node->safe_psql('postgres', 'INSERT INTO scratch SELECT v FROM train WHERE id <= 50');
is($node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SELECT count(*) FROM (SELECT 1 FROM scratch ORDER BY v <-> (SELECT v FROM test WHERE id = 1)) s}),
	'50', 'the reset unlogged index finds rows inserted after the crash');

$node->stop;
done_testing();
