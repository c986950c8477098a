# HNSW elements without in-links (issue 12): inserts prune neighbour lists
# with the heuristic and can drop the last level-0 link to an element,
# which no search reaches after that.  vsim.hnsw_index_reachability counts
# them; VACUUM links each from one of its neighbours.  The levels are drawn
# from hnsw.level_seed and the vectors from setseed, so the graph, and the
# counts, are the same on every run.
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use PostgreSQL::Test::Utils;
use Test::More;
use VsimTest;

my $node = vsim_node('hnsw_orphans');

sub reach
{
	my ($index) = @_;
	my $row = $node->safe_psql('postgres',
		"SELECT live_elements, unlinked_elements, unreachable_elements FROM vsim.hnsw_index_reachability('$index')");
	my %r;
	@r{qw(live unlinked unreachable)} = split /\|/, $row;
	return \%r;
}

# VACUUM's counts of elements it linked and could not link.
sub vacuum_adopted
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', "SET client_min_messages = debug2; $sql");
	die "VACUUM failed: $err" if $ret != 0;
	my ($linked, $left) = $err =~ /(\d+) elements without level-0 in-links linked, (\d+) left/
	  or die "no hnsw VACUUM message in: $err";
	return ($linked, $left);
}

# 4000 rows built in one backend (no parallel workers, seeded levels), then
# 2000 inserted one by one through aminsert.
sub make_table
{
	my ($name) = @_;
	$node->safe_psql('postgres', qq{
		SET hnsw.level_seed = 7;
		SET max_parallel_maintenance_workers = 0;
		SELECT setseed(0.25);
		CREATE TABLE $name (id int PRIMARY KEY, v vector(32));
		INSERT INTO $name SELECT i, array_agg(random()::real - 0.5)::vector(32)
		  FROM generate_series(1, 4000) i, generate_series(1, 32) j GROUP BY i;
		CREATE INDEX ${name}_hnsw ON $name USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
		SELECT setseed(0.75);
		INSERT INTO $name SELECT i, array_agg(random()::real - 0.5)::vector(32)
		  FROM generate_series(4001, 6000) i, generate_series(1, 32) j GROUP BY i;
	});
}

make_table('a');
my $before = reach('a_hnsw');
is($before->{live}, 6000, 'every row has a live element');
cmp_ok($before->{unlinked}, '>', 0,
	"the inserts' pruning left elements no live level-0 list names ($before->{unlinked})");
cmp_ok($before->{unreachable}, '>=', $before->{unlinked},
	"no search reaches them ($before->{unreachable} unreachable)");

# the same seeds give the same graph
make_table('b');
is_deeply(reach('b_hnsw'), $before, 'a second build with the same seeds has the same counts');

# they are no damage
is($node->safe_psql('postgres', "SELECT vsim.index_check('a_hnsw', true)"), '',
	'vsim.index_check does not report them');

# VACUUM without dead rows links them (the in-links counted in its pass 1)
my ($linked, $left) = vacuum_adopted('VACUUM a');
is($linked + $left, $before->{unlinked}, 'VACUUM finds every element without in-links');
is($left, 0, "and links each ($linked)");
my $after = reach('a_hnsw');
is($after->{unlinked}, 0, 'no element is left without a level-0 in-link');
cmp_ok($after->{unreachable}, '<', $before->{unreachable},
	"fewer are unreachable ($after->{unreachable})");
is($node->safe_psql('postgres', "SELECT vsim.index_check('a_hnsw', true)"), '',
	'the index is sound after');

# Each row that had no in-link is found again through the index: every
# row of the table is its own nearest neighbour at a generous ef_search,
# unless it was unreachable already.
my $unfound = $node->safe_psql('postgres', q{
	SET enable_seqscan = off; SET hnsw.ef_search = 400;
	SELECT count(*) FROM a t WHERE NOT EXISTS
	  (SELECT 1 FROM (SELECT id FROM a ORDER BY v <-> t.v LIMIT 1) n WHERE n.id = t.id);
});
cmp_ok($unfound, '<=', $after->{unreachable} + 3,
	"rows not found as their own nearest neighbour ($unfound) are about the unreachable ones");

# After deletions VACUUM counts the links in its last confirm walk, after
# the repairs, and links what the repairs left without one.
$node->safe_psql('postgres', 'DELETE FROM b WHERE id % 4 = 0');
($linked, $left) = vacuum_adopted('VACUUM b');
is($left, 0, "VACUUM after deletions leaves no element without in-links ($linked linked)");
my $b = reach('b_hnsw');
is($b->{live}, 4500, 'the live elements are the rows left');
is($b->{unlinked}, 0, 'each has a level-0 in-link');

# errors
my ($ret, $out, $err) = $node->psql('postgres',
	"SELECT * FROM vsim.hnsw_index_reachability('a_pkey')");
like($err, qr/is not an hnsw index/, 'a btree index is refused');
($ret, $out, $err) = $node->psql('postgres',
	"SELECT '[1]'::vector; SET hnsw.level_seed = -2");
like($err, qr/-2 is outside the valid range/, 'a seed below -1 is refused');
$node->safe_psql('postgres', 'CREATE ROLE plain LOGIN');
($ret, $out, $err) = $node->psql('postgres',
	"SELECT '[1]'::vector; SET hnsw.level_seed = 1", extra_params => [ '-U', 'plain' ]);
like($err, qr/permission denied to set parameter "hnsw.level_seed"/,
	'only a superuser sets the seed');

$node->stop;
done_testing();
