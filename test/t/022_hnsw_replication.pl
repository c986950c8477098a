# HNSW and WAL: a streaming standby, fed only by WAL (build, inserts,
# VACUUM), answers k-NN queries exactly as the primary does.
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use VsimTest;

my $primary = vsim_node('hnsw_primary', allows_streaming => 1);
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('hnsw_standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

load_fmnist($primary, 'train', 'train', 3000);
load_fmnist($primary, 'test', 'test', 30);
$primary->safe_psql('postgres', q{
	CREATE INDEX train_hnsw ON train USING hnsw (v vector_l2_ops);
	CREATE TABLE more (LIKE train INCLUDING ALL);
	CREATE INDEX more_hnsw ON more USING hnsw (v vector_cosine_ops);
	INSERT INTO more SELECT * FROM train WHERE id <= 1500;
	DELETE FROM more WHERE id % 4 = 0;
	VACUUM more;
	-- these fill slots VACUUM freed
	INSERT INTO more SELECT * FROM train WHERE id > 1500 AND id <= 1800;
});
$primary->wait_for_catchup($standby);

my %queries = (
	'built index' => q{SELECT q.id, n.id, n.d FROM test q CROSS JOIN LATERAL (
		SELECT t.id, t.v <-> q.v AS d FROM train t ORDER BY t.v <-> q.v LIMIT 10) n ORDER BY 1, 3, 2},
	'inserted and vacuumed index' => q{SELECT q.id, n.id, n.d FROM test q CROSS JOIN LATERAL (
		SELECT t.id, t.v <=> q.v AS d FROM more t ORDER BY t.v <=> q.v LIMIT 10) n ORDER BY 1, 3, 2},
);
for my $name (sort keys %queries)
{
	my $sql = "SET enable_seqscan = off; $queries{$name}";
	my $on_primary = $primary->safe_psql('postgres', $sql);
	my $on_standby = $standby->safe_psql('postgres', $sql);
	is(scalar(split /\n/, $on_primary), 300, "$name: 10 rows per query on the primary");
	is($on_standby, $on_primary, "$name: the standby returns what the primary returns");
}
my $plan = $standby->safe_psql('postgres', q{SET enable_seqscan = off;
	EXPLAIN (COSTS OFF) SELECT id FROM train ORDER BY v <-> (SELECT v FROM test WHERE id = 1) LIMIT 5});
like($plan, qr/Index Scan using train_hnsw/, 'the standby uses the index');
my $graph_stats = "SELECT elements, dead_elements, free_slots, pages FROM vsim.hnsw_index_stats('more_hnsw')";
is($standby->safe_psql('postgres', $graph_stats), $primary->safe_psql('postgres', $graph_stats),
	'the standby sees the same graph statistics');
is($standby->safe_psql('postgres', q{SELECT vsim.index_check('more_hnsw', true)}), '',
	'the replayed index, with reused slots, is sound on the standby');

$standby->stop;
$primary->stop;
done_testing();
