# HNSW elements without in-links (issue 12): inserts prune neighbour lists
# with the heuristic and can drop the last level-0 link to an element,
# which no search reaches after that, and VACUUM's repairs and the build's
# pruning can cut off a group of elements that name only each other.
# vsim.hnsw_index_reachability counts them; VACUUM links each element
# without in-links from one of its neighbours, and each group no search
# reaches from an element a search reaches; so does the end of a build.  The levels are drawn
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
	my ($linked, $left, $relinked, $reach_left) = $err =~
	  /(\d+) elements without level-0 in-links linked, (\d+) left; (\d+) unreachable elements linked, (\d+) left/
	  or die "no hnsw VACUUM message in: $err";
	return ($linked, $left, $relinked, $reach_left);
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
		CREATE TABLE $name (id int PRIMARY KEY, v vector(32)) WITH (autovacuum_enabled = off);
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

# The rows no index scan returns: an index scan ordered by the distance to
# the row's own vector, iterative and unbounded, so that it goes on until
# it returns the row (OFFSET 0 keeps the id test out of the scan).
sub unfound
{
	my ($t) = @_;
	return $node->safe_psql('postgres', qq{
		SET enable_seqscan = off; SET hnsw.iterative_scan = relaxed_order;
		SET hnsw.max_scan_tuples = 2147483647; SET hnsw.scan_mem_multiplier = 1000;
		SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM $t t WHERE NOT EXISTS
		  (SELECT 1 FROM (SELECT id FROM $t ORDER BY v <-> t.v OFFSET 0) n WHERE n.id = t.id);
	});
}

# The rows of the unreachable elements, by vsim.hnsw_index_unreachable.
sub unreachable_rows
{
	my ($t) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM $t
		  WHERE ctid IN (SELECT unnest(vsim.hnsw_index_unreachable('${t}_hnsw')));
	});
}

my $lost = unreachable_rows('a');
is(scalar(split /,/, $lost), $before->{unreachable},
	"vsim.hnsw_index_unreachable gives a row per unreachable element ($lost)");
is(unfound('a'), $lost, 'they are the rows no index scan returns');

# the same seeds give the same graph
make_table('b');
is_deeply(reach('b_hnsw'), $before, 'a second build with the same seeds has the same counts');

# they are no damage
is($node->safe_psql('postgres', "SELECT vsim.index_check('a_hnsw', true)"), '',
	'vsim.index_check does not report them');

# VACUUM without dead rows links them (the in-links counted in its pass 1)
my ($linked, $left, $relinked, $reach_left) = vacuum_adopted('VACUUM a');
is($linked + $left, $before->{unlinked}, 'VACUUM finds every element without in-links');
is($left, 0, "and links each ($linked)");
my $after = reach('a_hnsw');
is($after->{unlinked}, 0, 'no element is left without a level-0 in-link');
is($reach_left, 0, "VACUUM links every element still unreachable after that ($relinked)");
is($after->{unreachable}, 0, 'no element is left unreachable');
is($node->safe_psql('postgres', "SELECT vsim.index_check('a_hnsw', true)"), '',
	'the index is sound after');

# Every row is found again through the index.
is(unfound('a'), '', 'every row is returned by an index scan for its own vector');
is(unreachable_rows('a'), '', 'vsim.hnsw_index_unreachable names none');

# After deletions VACUUM counts the links in its last confirm walk, after
# the repairs, and links what the repairs left without one.
$node->safe_psql('postgres', 'DELETE FROM b WHERE id % 4 = 0');
($linked, $left, $relinked, $reach_left) = vacuum_adopted('VACUUM b');
is($left, 0, "VACUUM after deletions leaves no element without in-links ($linked linked)");
is($reach_left, 0, "nor any unreachable ($relinked linked)");
my $b = reach('b_hnsw');
is($b->{live}, 4500, 'the live elements are the rows left');
is($b->{unlinked}, 0, 'each has a level-0 in-link');
is($b->{unreachable}, 0, 'each is reached');

# A group of elements whose lists name only each other: 400 points on a
# line, then the 190 after the first 200 deleted.  VACUUM repairs each
# list naming a dead element from the live neighbours of its dead ones,
# which for the last 10 points are only each other (and, at the gap's
# other end, only the first 200), so no search from the entry point
# reaches them any more, at any level; each has in-links, from the others.
# VACUUM's walk from the entry point finds them and links one.
$node->safe_psql('postgres', q{
	SET hnsw.level_seed = 1;
	SET max_parallel_maintenance_workers = 0;
	CREATE TABLE line (id int PRIMARY KEY, v vector(2)) WITH (autovacuum_enabled = off);
	INSERT INTO line SELECT i, ARRAY[i, 0]::real[]::vector(2) FROM generate_series(1, 400) i;
	CREATE INDEX line_hnsw ON line USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
	DELETE FROM line WHERE id BETWEEN 201 AND 390;
});
($linked, $left, $relinked, $reach_left) = vacuum_adopted('VACUUM line');
is("$linked $left", '0 0', 'no element of the line is left without an in-link');
is("$relinked $reach_left", '1 0', 'VACUUM links the group cut off');
my $line = reach('line_hnsw');
is("$line->{live} $line->{unreachable}", '210 0', 'every element left is reached');
is(unfound('line'), '', 'and every row is returned by an index scan for its own vector');

# A build cuts off a group too: 20 rows far from the 2,000 others, which
# the build meets first.  As the others arrive, their lists prune the far
# rows away (every near row covers them), while the far rows keep naming
# each other; without linking them after the build, none of the 20 was
# reachable (with these seeds).
$node->safe_psql('postgres', q{
	SET hnsw.level_seed = 1;
	SET max_parallel_maintenance_workers = 0;
	SELECT setseed(0.1);
	CREATE TABLE far (id int PRIMARY KEY, v vector(8)) WITH (autovacuum_enabled = off);
	INSERT INTO far SELECT i, array_agg(CASE WHEN i <= 20 THEN 10 ELSE 0 END + random()::real - 0.5)::vector(8)
	  FROM generate_series(1, 2020) i, generate_series(1, 8) j GROUP BY i ORDER BY i;
	CREATE INDEX far_hnsw ON far USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
});
my $far = reach('far_hnsw');
is("$far->{live} $far->{unlinked} $far->{unreachable}", '2020 0 0',
	'a build leaves no element unreachable');
is(unfound('far'), '', 'every row of the build is returned by an index scan for its own vector');

# Inserts hand the members that linking them back prunes out of a
# neighbour's list over to their own list while it has room: of 10,000
# rows inserted one by one into an index of 10,000, 37 lost their last
# level-0 in-link without that (these seeds), 21 with it.
$node->safe_psql('postgres', q{
	SET hnsw.level_seed = 11;
	SET max_parallel_maintenance_workers = 0;
	SELECT setseed(0.5);
	CREATE TABLE ins (id int PRIMARY KEY, v vector(32)) WITH (autovacuum_enabled = off);
	INSERT INTO ins SELECT i, array_agg(random()::real - 0.5)::vector(32)
	  FROM generate_series(1, 10000) i, generate_series(1, 32) j GROUP BY i;
	CREATE INDEX ins_hnsw ON ins USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
	INSERT INTO ins SELECT i, array_agg(random()::real - 0.5)::vector(32)
	  FROM generate_series(10001, 20000) i, generate_series(1, 32) j GROUP BY i;
});
my $ins = reach('ins_hnsw');
cmp_ok($ins->{unlinked}, '<', 30,
	"fewer than 0.3% of the inserted elements are left without in-links ($ins->{unlinked})");
($linked, $left, $relinked, $reach_left) = vacuum_adopted('VACUUM ins');
is("$left $reach_left", '0 0', "VACUUM links them ($linked, then $relinked unreachable)");
is(reach('ins_hnsw')->{unreachable}, 0, 'after which every element is reached');

# errors
my ($ret, $out, $err) = $node->psql('postgres',
	"SELECT * FROM vsim.hnsw_index_reachability('a_pkey')");
like($err, qr/is not an hnsw index/, 'a btree index is refused');
($ret, $out, $err) = $node->psql('postgres', "SELECT vsim.hnsw_index_unreachable('a_pkey')");
like($err, qr/is not an hnsw index/, 'by vsim.hnsw_index_unreachable too');
($ret, $out, $err) = $node->psql('postgres',
	"SELECT '[1]'::vector; SET hnsw.level_seed = -2");
like($err, qr/-2 is outside the valid range/, 'a seed below -1 is refused');
$node->safe_psql('postgres', 'CREATE ROLE plain LOGIN');
($ret, $out, $err) = $node->psql('postgres',
	"SELECT '[1]'::vector; SET hnsw.level_seed = 1", extra_params => [ '-U', 'plain' ]);
like($err, qr/permission denied to set parameter "hnsw.level_seed"/,
	'only a superuser sets the seed');
($ret, $out, $err) = $node->psql('postgres',
	"SELECT vsim.hnsw_index_unreachable('a_hnsw')", extra_params => [ '-U', 'plain' ]);
like($err, qr/permission denied for index a_hnsw/,
	'a role without SELECT on the table reads no TIDs');

$node->stop;
done_testing();
