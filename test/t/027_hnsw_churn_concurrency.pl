# HNSW under concurrent churn: pgbench clients insert, delete and query
# while others VACUUM (which frees slots the inserts then fill) and run
# vsim.index_check(), which must never report damage in a sound index
# changing under it.  Every query checks that the rows come in the order
# of their own vectors' distances, which a row returned from a reused slot
# with the distance of the slot's former element would break.
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use PostgreSQL::Test::Utils;
use Test::More;
use VsimTest;

my $dims = 16;
my $node = vsim_node('hnsw_churn', conf => "max_connections = 40\nautovacuum = off\n");
random_items($node, 3000, $dims);

my $random_vector = "(SELECT array_agg(random()::real)::vector($dims) FROM generate_series(1, $dims))";
my %scripts = (
	'churn_insert@4' => "INSERT INTO items (v) SELECT $random_vector;",
	'churn_delete@3' => "DELETE FROM items WHERE id = (SELECT (random() * max(id))::bigint FROM items);",
	# fails (division by zero) when a row comes out of distance order
	'churn_query@2' => "SET enable_seqscan = off; SET hnsw.iterative_scan = relaxed_order;\n"
	  . "SELECT 1 / min(CASE WHEN d >= prev - 1e-6 THEN 1 ELSE 0 END) FROM (\n"
	  . "  SELECT d, lag(d, 1, 0::float8) OVER (ORDER BY r) AS prev FROM (\n"
	  . "    SELECT n.v <-> q.v AS d, row_number() OVER () AS r FROM (SELECT $random_vector AS v) q,\n"
	  . "      LATERAL (SELECT v FROM items ORDER BY v <-> q.v LIMIT 20) n) a) b;",
	# TRUNCATE false: a VACUUM that may truncate the heap waits up to 5 s for
	# an exclusive lock the queued VACUUMs of other clients block, so once
	# several clients vacuum at once they form a queue that runs one VACUUM
	# each 5 s (seen: 027 over 10 minutes); the heap's tail is not what
	# this test is about
	'churn_vacuum@1' => "VACUUM (TRUNCATE false) items;",
	'churn_check@1' => "SELECT vsim.index_check('items_hnsw', true);",
);
$node->pgbench('--no-vacuum --client=6 --jobs=2 --transactions=500',
	0, [qr{processed: 3000/3000}], [qr{^$}],
	'inserts, deletes, queries, VACUUM and checks run together without error', \%scripts);

$node->safe_psql('postgres', 'VACUUM items');
is($node->safe_psql('postgres', q{SELECT vsim.index_check('items_hnsw', true)}), '',
	'afterwards the index is sound');
my ($free, $tids) = split /\|/, $node->safe_psql('postgres',
	q{SELECT free_slots, heap_tids FROM vsim.hnsw_index_stats('items_hnsw')});
is($tids, $node->safe_psql('postgres', 'SELECT count(*) FROM items'), 'it holds every row');
my $grown = $node->safe_psql('postgres', q{SELECT count(*) FROM items WHERE id > 3000});
note("$grown rows inserted during the churn, $free free slots at the end");
is($node->safe_psql('postgres', q{
	SET enable_seqscan = off; SET hnsw.iterative_scan = relaxed_order;
	SELECT count(*) FROM items q WHERE NOT EXISTS (
		SELECT 1 FROM items t WHERE t.id + 0 = q.id ORDER BY t.v <-> q.v LIMIT 1)}), '0',
	'every row is found');
unlike(slurp_file($node->logfile), qr/terminated by signal|is corrupted at block/,
	'no backend crashed and nothing was reported corrupted');

$node->stop;
done_testing();
