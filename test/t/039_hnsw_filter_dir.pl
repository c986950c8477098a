# The filter directory of an hnsw index with filter columns (issue 14,
# "Filter directory" in src/hnsw/hnsw.h): the exhaustive pass of a
# filtered scan (forced with a tiny hnsw.filter_walk_limit) returns exactly
# what a sequential scan does after the build, after inserts, after DELETE,
# VACUUM and inserts that reuse free slots, after a crash and on a standby;
# VACUUM keeps one entry per live element; the pass reads few of the
# index's pages; and with concurrent inserts, deletes and VACUUM no
# committed row that matches is missing from the pass's answer.  Random
# data generated in the database: needs no data directory.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{VSIM_ROOT}/test/lib";
use VsimTest;

my $dims = 128;
my $node = vsim_node('hnsw_filter_dir', allows_streaming => 1,
	conf => "maintenance_work_mem = 256MB\n");
sub query { return $node->safe_psql('postgres', $_[0]); }

my $vec = "(SELECT array_agg(random()::real)::vector($dims) FROM generate_series(1, $dims) j WHERE i > -j)";
# cat: 1000 values (0.1% each), cls: 10 (10%), independent of the vector
sub add_rows
{
	my ($from, $to) = @_;
	query(qq{INSERT INTO items SELECT i, (hashint4(i)::int8 & 2147483647) % 1000,
		(hashint4(i + 7)::int8 & 2147483647) % 10, $vec
		FROM generate_series($from, $to) i});
}
query("CREATE TABLE items (id int PRIMARY KEY, cat int, cls int, v vector($dims))");
add_rows(1, 20000);
query("CREATE TABLE queries AS SELECT i AS id, $vec AS v FROM generate_series(1, 12) i");
query(q{ANALYZE items; ANALYZE queries;
	CREATE INDEX items_hnsw ON items USING hnsw (v vector_l2_ops, cat, cls)
		WITH (m = 16, ef_construction = 32)});

my $pass = 'SET enable_seqscan = off; SET enable_bitmapscan = off; SET hnsw.filter_walk_limit = 0.00001;';
my $exact = 'SET enable_indexscan = off; SET enable_bitmapscan = off;';
my @filters = (
	[ '0.1%', 't.cat = (q.id * 37) % 1000' ],
	[ '10%', 't.cls = q.id % 10' ],
	[ '1% range', 't.cat BETWEEN q.id * 50 AND q.id * 50 + 9' ],
	[ 'two columns', 't.cls = q.id % 10 AND t.cat < 300' ]);

# the 10 nearest rows (id and distance) of each query under each filter
sub answers
{
	my ($n, $settings, $where) = @_;
	return $n->safe_psql('postgres', qq{$settings
		SELECT q.id, string_agg(n.id || ':' || round(n.d::numeric, 5), ',' ORDER BY n.d, n.id)
		FROM queries q CROSS JOIN LATERAL (
			SELECT t.id, t.v <-> q.v AS d FROM items t WHERE $where
			ORDER BY t.v <-> q.v LIMIT 10) n
		GROUP BY q.id ORDER BY q.id});
}

sub check_exact
{
	my ($when, $n) = @_;
	$n //= $node;
	for my $f (@filters)
	{
		my ($name, $where) = @$f;
		my $truth = answers($n, $exact, $where);
		my $got = answers($n, $pass, $where);
		is($got, $truth, "$when, $name: the exhaustive pass returns the exact answer");
	}
	like($n->safe_psql('postgres', qq{$pass EXPLAIN (COSTS OFF)
		SELECT t.id FROM items t WHERE t.cat = 5
		ORDER BY t.v <-> (SELECT v FROM queries WHERE id = 1) LIMIT 10}),
		qr/Index Scan using items_hnsw/,
		"$when: through the filtered index");
}

sub stats
{
	return split /\|/, query(q{SELECT elements - dead_elements, free_slots, filter_columns,
		filter_dir_pages, filter_dir_entries FROM vsim.hnsw_index_stats('items_hnsw')});
}

sub check_sound
{
	my ($when) = @_;
	is(query("SELECT vsim.index_check('items_hnsw', true)"), '', "$when: index_check passes");
}

# after the build
check_exact('after the build');
check_sound('after the build');
my ($live, $free, $nfilters, $dir_pages, $entries) = stats();
is($nfilters, 2, 'the stats report the two filter columns');
is($entries, 20000, 'the directory has an entry per row after the build');
my $per_page = int((8192 - 24 - 8 - 8) / (8 + 4 + 8 * 2));
cmp_ok($dir_pages, '<=', int(20000 / $per_page) + 1, "the directory fills its $dir_pages pages");

# the pass reads the directory and the matching elements only
sub shared_hits
{
	my ($settings, $cat) = @_;
	my $plan = query(qq{$settings EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF)
		SELECT t.id FROM items t WHERE t.cat = $cat
		ORDER BY t.v <-> (SELECT v FROM queries WHERE id = 3) LIMIT 10});
	like($plan, qr/Index Scan using items_hnsw/, "cat = $cat: the hnsw scan");
	my ($hits) = $plan =~ /Index Scan using items_hnsw.*?\n(?:.*\n)*?\s+Buffers: shared hit=(\d+)/;
	return $hits;
}
my $relpages = query(q{SELECT pg_relation_size('items_hnsw') / current_setting('block_size')::int});
my $forced = shared_hits($pass, 5);
note("index of $relpages pages ($dir_pages directory pages): the forced pass at 0.1% hits $forced buffers");
cmp_ok($forced, '<', $relpages * 0.25, 'the forced exhaustive pass at 0.1% reads under 25% of the pages');
my $default = shared_hits('SET enable_seqscan = off; SET enable_bitmapscan = off;', 5);
note("default settings at 0.1%: $default buffers");
cmp_ok($default, '<', $relpages * 0.5, 'a default scan at 0.1% reads under half of the pages');

# inserts after the build
add_rows(20001, 22000);
check_exact('after inserts');
($live, $free, $nfilters, $dir_pages, $entries) = stats();
is($entries, 22000, 'every insert added its entry');

# DELETE, VACUUM, inserts that reuse the free slots
query('DELETE FROM items WHERE id % 3 = 0; VACUUM items');
($live, $free, $nfilters, $dir_pages, $entries) = stats();
cmp_ok($free, '>', 0, "VACUUM made $free free slots");
is($entries, $live, "after VACUUM the directory has one entry per live element ($live)");
check_exact('after DELETE and VACUUM');
add_rows(30001, 33000);
my ($live2, $free2, undef, $dir_pages2, $entries2) = stats();
cmp_ok($free2, '<', $free, "inserts reused free slots ($free2 left)");
is($entries2, $live2, 'each reused slot got an entry');
is($dir_pages2, $dir_pages, "the directory reused its room: $dir_pages2 pages for $entries2 entries");
my $max_pages = $dir_pages;
check_exact('after inserts into reused slots');
check_sound('after inserts into reused slots');
# churn: the directory does not grow beyond its entries
for my $round (1 .. 3)
{
	query("DELETE FROM items WHERE id % 4 = $round; VACUUM items");
	add_rows(40000 + $round * 3000, 40000 + $round * 3000 + 2999);
}
query('VACUUM items');
($live, $free, undef, $dir_pages, $entries) = stats();
is($entries, $live, "after churn and VACUUM one entry per live element ($live)");
cmp_ok($dir_pages, '<=', $max_pages,
	"under churn the directory does not grow: $dir_pages pages for $entries entries");
check_exact('after churn');
check_sound('after churn');

# a crash: committed inserts survive with their entries; an unlogged
# table's index comes back as its init fork (a metapage without a
# directory), whose first insert gives it its first directory page
add_rows(60001, 60500);
query(q{CREATE UNLOGGED TABLE ul (v vector(2), a int);
	CREATE INDEX ul_hnsw ON ul USING hnsw (v vector_l2_ops, a);
	INSERT INTO ul SELECT ARRAY[i, 1]::vector, i % 3 FROM generate_series(1, 50) i});
$node->stop('immediate');
$node->start;
is(query(q{SELECT count(*) FROM ul}), '0', 'the unlogged table was reset');
query(q{INSERT INTO ul SELECT ARRAY[i, 2]::vector, i % 3 FROM generate_series(1, 40) i});
is(query(q{SELECT filter_dir_pages || '|' || filter_dir_entries FROM vsim.hnsw_index_stats('ul_hnsw')}),
	'1|40', 'the reset index got its directory with its first insert');
is(query(q{SET enable_seqscan = off; SET hnsw.filter_walk_limit = 0.00001;
	SELECT count(*) FROM (SELECT v FROM ul WHERE a = 1 ORDER BY v <-> '[0,0]' LIMIT 100) s}),
	query(q{SELECT count(*) FROM ul WHERE a = 1}), 'and its exhaustive pass finds the rows');
is(query("SELECT vsim.index_check('ul_hnsw', true)"), '', 'the reset index is sound');
check_exact('after a crash');
check_sound('after a crash');
($live, $free, undef, $dir_pages, $entries) = stats();
is($entries, $live, 'after the crash one entry per live element');

# a standby replays the directory
$node->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('filter_dir_standby');
$standby->init_from_backup($node, 'base', has_streaming => 1);
$standby->start;
add_rows(61001, 62000);
query('DELETE FROM items WHERE id % 5 = 1; VACUUM items');
add_rows(62001, 63000);
$node->wait_for_catchup($standby);
check_exact('on the standby', $standby);
is(answers($standby, $pass, $filters[0][1]), answers($node, $pass, $filters[0][1]),
	'the standby answers as the primary does');
$standby->stop;

# concurrency: inserts, deletes and VACUUM while the pass runs; in one
# statement (one snapshot) the pass must return every matching row a
# sequential count sees, else 1 / 0 fails the transaction
my $random_vector = "(SELECT array_agg(random()::real)::vector($dims) FROM generate_series(1, $dims))";
my %scripts = (
	'dir_insert@5' => "INSERT INTO items SELECT nextval('ids'), (random() * 999)::int, "
	  . "(random() * 9)::int, $random_vector;",
	'dir_delete@2' => "DELETE FROM items WHERE id = (SELECT (random() * max(id))::int FROM items);",
	'dir_query@4' => "$pass SET max_parallel_workers_per_gather = 0;\n"
	  . "\\set c random(0, 9)\n"
	  . "SELECT 1 / (a.n = b.n)::int FROM (SELECT count(*) AS n FROM (SELECT id FROM items\n"
	  . "  WHERE cls = :c ORDER BY v <-> $random_vector LIMIT 100000) s) a,\n"
	  . "  (SELECT count(*) AS n FROM items WHERE cls + 0 = :c) b;",
	'dir_vacuum@1' => "VACUUM items;",
);
query('CREATE SEQUENCE ids START 100000');
$node->pgbench('--no-vacuum --client=5 --jobs=2 --transactions=200',
	0, [qr{processed: 1000/1000}], [qr{^$}],
	'concurrent inserts, deletes and VACUUM: every pass returns every committed matching row',
	\%scripts);
query('VACUUM items');
($live, $free, undef, $dir_pages, $entries) = stats();
is($entries, $live, 'after the concurrent churn one entry per live element');
check_exact('after the concurrent churn');
check_sound('after the concurrent churn');
unlike(slurp_file($node->logfile), qr/terminated by signal|is corrupted at block/,
	'no backend crashed and nothing was reported corrupted');

# damage: an entry whose filter value is not its element's, and a chain
# pointer out of the index, are reported by vsim.index_check() (XX002)
query(q{CREATE TABLE dmg (v vector(2), a int);
	INSERT INTO dmg SELECT ARRAY[i, -i]::vector, i % 5 FROM generate_series(1, 400) i;
	CREATE INDEX dmg_hnsw ON dmg USING hnsw (v vector_l2_ops, a)});
my ($dmg_blocks, $dmg_dir) = split /\|/, query(q{SELECT pages, filter_dir_pages
	FROM vsim.hnsw_index_stats('dmg_hnsw')});
is($dmg_dir, 1, 'the small index has one directory page');
is(query("SELECT vsim.index_check('dmg_hnsw', true)"), '', 'before the damage index_check passes');
my $dir_block = $dmg_blocks - 1;	# the build appends the directory after the graph
# page header 24, directory header 8, entry: element 6 + 2, NULL bitmap 4, code 8
damage_page($node, 'dmg_hnsw', $dir_block, 24 + 8 + 12, pack('q<', 77));
my ($rc, $out, $err) = $node->psql('postgres', "SELECT vsim.index_check('dmg_hnsw', true)",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/XX002.*index "dmg_hnsw" is corrupted at block \d+/s,
	'an entry with another filter value: index_check reports XX002');
like($err, qr/has no filter directory entry with its filter values/,
	'naming the element without its entry');
damage_page($node, 'dmg_hnsw', $dir_block, 24, pack('V', 100000));
($rc, $out, $err) = $node->psql('postgres', "SELECT vsim.index_check('dmg_hnsw', true)",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/XX002.*corrupted at block $dir_block.*names block 100000 as the next one/s,
	'a chain pointer out of the index: index_check reports XX002 at the directory page');
($rc, $out, $err) = $node->psql('postgres', q{SET enable_seqscan = off;
	SET hnsw.filter_walk_limit = 0.00001;
	SELECT count(*) FROM (SELECT v FROM dmg WHERE a = 1 ORDER BY v <-> '[0,0]' LIMIT 5) s},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/XX002/, 'and the exhaustive pass reports it instead of following it');

$node->stop;
done_testing();
