# HNSW on damaged pages: each kind of damage, written into the index's
# files on purpose with the server stopped, is reported by
# vsim.index_check() as XX002 naming the index and the block; scans,
# inserts and VACUUM on the damaged index either fail with XX002 or work,
# and never bring the server down.
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use PostgreSQL::Test::Utils;
use Test::More;
use VsimTest;

my $node = vsim_node('hnsw_corruption');

# Byte offsets within a page (8 kB blocks, 24-byte page header).  Metapage
# fields: magic, version, dims (uint32 at 8), m (uint16 at 12).  The first
# element of block 1 starts right after the page header: level (uint8),
# TID count (uint8), two flag bytes, ten heap TIDs of 6 bytes (the block
# as two uint16, high half first, then the offset), then list 0: a uint16
# count and slots of 6 bytes (block and offset, as in a TID).  Little-endian.
my $page_header = 24;
my $meta = $page_header;
my $elem = $page_header;
my $list0 = $elem + 4 + 10 * 6;
my $special = 8192 - 8;    # page kind (uint16), flags (uint16), magic (uint32)

# A fresh table of 300 distinct 4-d vectors and its index, m = 4, on disk.
sub fresh
{
	$node->safe_psql('postgres', q{
		DROP TABLE IF EXISTS c;
		CREATE TABLE c (id int PRIMARY KEY, v vector(4));
		INSERT INTO c SELECT i, ARRAY[i % 7, i % 11, i % 13, i]::real[] FROM generate_series(1, 300) i;
		CREATE INDEX c_hnsw ON c USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 16);
		CHECKPOINT;
	});
	return;
}

# The SQLSTATE the SQL failed with ('' when it succeeded), and its error
# text; a lost connection yields no SQLSTATE, so the caller's test fails.
sub outcome
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql");
	return ('', '') if $ret == 0;
	my ($state) = $err =~ /ERROR:  ([0-9A-Z]{5}):/;
	return ($state // "no SQLSTATE (exit $ret)", $err);
}

# Full iterative scan: reaches every element of the graph.
my $scan = q{SET enable_seqscan = off; SET hnsw.iterative_scan = relaxed_order;
	SET hnsw.ef_search = 300;
	SELECT count(*) FROM (SELECT id FROM c ORDER BY v <-> '[1,1,1,1]') s;};
# An insert whose search starts at the damaged region (the first element's
# vector), and a VACUUM that has rows to remove.
my $insert = q{INSERT INTO c VALUES (1000, '[1,1,1,1]'), (1001, '[3,5,7,9]');};
my $vacuum = q{DELETE FROM c WHERE id IN (2, 150); VACUUM c;};

# Each damage: where, the bytes, the block vsim.index_check() must name,
# and whether a full scan, an insert and VACUUM must notice it (else they
# may fail with XX002 or work).
my @damages = (
	{ name => 'element level out of range', block => 1, offset => $elem, bytes => "\xff",
		report => 1, scan => 1, vacuum => 1 },
	{ name => 'TID count above the maximum', block => 1, offset => $elem + 1, bytes => "\xc8",
		report => 1, scan => 1, vacuum => 1 },
	{ name => 'neighbour pointer past the end', block => 1, offset => $list0 + 2,
		bytes => pack('vvv', 0, 60000, 0), report => 1, scan => 1, vacuum => 1 },
	{ name => 'neighbour count above the capacity', block => 1, offset => $list0,
		bytes => pack('v', 200), report => 1, scan => 1, vacuum => 1 },
	{ name => 'metapage dimensions out of range', block => 0, offset => $meta + 8,
		bytes => pack('V', 100000), report => 0, scan => 1, insert => 1, vacuum => 1 },
	{ name => 'metapage m out of range', block => 0, offset => $meta + 12,
		bytes => pack('v', 500), report => 0, scan => 1, insert => 1, vacuum => 1 },
	{ name => 'page magic overwritten', block => 2, offset => $special + 4,
		bytes => 'XXXX', report => 2, scan => 1, vacuum => 1 },
	# pd_upper and pd_special moved together to the end of the page, so
	# that PostgreSQL's own page header check passes whatever pd_lower the
	# page has (a full page's reaches past 8176) and the page reaches hnsw's
	{ name => 'page special space moved', block => 1, offset => 14,
		bytes => pack('vv', 8192, 8192), report => 1, scan => 1, vacuum => 1 },
);

for my $d (@damages)
{
	fresh();
	damage_page($node, 'c_hnsw', $d->{block}, $d->{offset}, $d->{bytes});
	my $name = $d->{name};

	my ($state, $err) = outcome(q{SELECT vsim.index_check('c_hnsw', false)});
	is($state, 'XX002', "$name: vsim.index_check() reports XX002");
	like($err, qr/index "c_hnsw" is corrupted at block $d->{report}\b/,
		"$name: the report names the index and block $d->{report}");

	for my $op ([ scan => $scan ], [ insert => $insert ], [ vacuum => $vacuum ])
	{
		my ($what, $sql) = @$op;
		($state, $err) = outcome($sql);
		if ($d->{$what})
		{
			is($state, 'XX002', "$name: $what fails with XX002");
		}
		else
		{
			ok($state eq '' || $state eq 'XX002', "$name: $what works or fails with XX002")
			  or diag("$state: $err");
		}
	}
	is($node->safe_psql('postgres', 'SELECT 1'), '1', "$name: the server is up");
}

# A heap row missing from the index: its element's first TID points at a
# line pointer that does not exist.  The structure is sound; only
# heapallindexed finds the row missing, and scans skip the bad TID.
fresh();
my $tid = $node->safe_psql('postgres', q{SELECT ctid FROM c WHERE id = 1});
is($tid, '(0,1)', 'row 1 is the first heap tuple (the first element of block 1)');
damage_page($node, 'c_hnsw', 1, $elem + 4, pack('vvv', 0, 0, 2000));
my ($state, $err) = outcome(q{SELECT vsim.index_check('c_hnsw', false)});
is($state, '', 'a TID pointing elsewhere leaves the structure sound');
($state, $err) = outcome(q{SELECT vsim.index_check('c_hnsw', true)});
is($state, 'XX002', 'heapallindexed reports the missing row as XX002');
like($err, qr/index "c_hnsw" is corrupted at block 0\b.*\n.*heap tuple \(0,1\)/,
	'the report names the index and the missing heap tuple');
is($node->safe_psql('postgres', $scan), '299', 'a scan returns the other 299 rows');
($state, $err) = outcome($vacuum);
is($state, '', 'VACUUM works');

is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is up at the end');
unlike(slurp_file($node->logfile), qr/terminated by signal/, 'no backend crashed');

$node->stop;
done_testing();
