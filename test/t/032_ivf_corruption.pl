# IVFFlat on damaged pages: each case below overwrites part of a freshly
# built index on disk (damage_page, with the node stopped), then checks that
# vsim.index_check() reports XX002 naming the index and the damaged block,
# that a scan, an insert and a VACUUM either fail with XX002 or work, and
# that the server never crashes.
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use PostgreSQL::Test::Utils;
use Test::More;
use VsimTest;

my $node = vsim_node('ivf_corrupt');
# 2,000 rows of 8 dimensions in four clusters of 500: with lists = 4 each
# list is a chain of three pages (185 items of 40 bytes fit on a page).
$node->safe_psql('postgres', q{
	CREATE TABLE base (id int, v vector(8));
	INSERT INTO base SELECT i, ARRAY(SELECT ((i % 4) * 50 + (i * (d + 3)) % 17)::real
	                                 FROM generate_series(1, 8) d)::vector
	FROM generate_series(1, 2000) i;
});
my $nrows = 2000;

# --- reading the layout (ivf.h) ------------------------------------------------
sub page { return read_page($node, 'items_ivf', $_[0]) }

# (pd_lower, pd_upper, pd_special) of a page
sub header { return unpack('x12 v v v', $_[0]) }

# [offset, flags, length] of every line pointer of a page
sub item_ids
{
	my ($p) = @_;
	my ($lower) = header($p);
	return map {
		my $w = unpack('V', substr($p, 24 + 4 * $_, 4));
		[ $w & 0x7fff, ($w >> 15) & 3, $w >> 17 ]
	} 0 .. ($lower - 24) / 4 - 1;
}

# byte offset of the special space (IvfPageOpaqueData: next, flags, page id)
sub special { return (header($_[0]))[2] }
sub next_blkno { return unpack('V', substr($_[0], special($_[0]), 4)) }

# The directory (block 1, one page here): [first, insert page] per list.
sub directory
{
	my $p = page(1);
	return map { [ unpack('V V', substr($p, $_->[0], 8)) ] } item_ids($p);
}

# The blocks of a list's chain.
sub chain
{
	my ($blk) = @_;
	my @blocks;
	for (; $blk != 0xFFFFFFFF; $blk = next_blkno(page($blk)))
	{
		push @blocks, $blk;
		die "chain too long" if @blocks > 100;
	}
	return @blocks;
}

sub fresh_index
{
	$node->safe_psql('postgres', q{
		DROP TABLE IF EXISTS items;
		CREATE TABLE items AS SELECT * FROM base;
		CREATE INDEX items_ivf ON items USING ivfflat (v) WITH (lists = 4);
		CHECKPOINT;
	});
}

# Run $sql: ('ok', its output), or the SQLSTATE, message and detail of its
# error, or ('crash', psql's stderr) when the connection was lost.
sub outcome
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres',
		"\\set VERBOSITY verbose\nSET statement_timeout = '60s';\n$sql");
	return ('ok', $out) if $ret == 0;
	my ($state, $msg) = $err =~ /ERROR:  (\w{5}): ([^\n]*)/ or return ('crash', $err);
	my ($detail) = $err =~ /DETAIL:  ([^\n]*)/;
	return ($state, $msg, $detail // '');
}

fresh_index();
my @dir = directory();
is(scalar(@dir), 4, 'the directory holds four lists on one page');
my @chain0 = chain($dir[0][0]);
cmp_ok(scalar(@chain0), '>=', 2, 'list 0 spans several pages');
is($chain0[-1], $dir[0][1], "list 0's insert page is its last page");
my @chain1 = chain($dir[1][0]);
my ($first0, $last0) = ($chain0[0], $chain0[-1]);
my $dir_item0 = (item_ids(page(1)))[0][0];
my ($lower0) = header(page($first0));

my $special = special(page($first0));
# (block, offset, bytes) to write, the block index_check must name, and what
# a scan over all lists, an insert into every list and a VACUUM may do:
# 'XX002' must fail so, 'ok' must work, 'any' may do either.
my @cases = (
	{
		name => 'metapage: more lists than the directory holds',
		damage => [ 0, 24 + 12, pack('l<', 1000) ],
		block => 0, scan => 'XX002', insert => 'XX002', vacuum => 'XX002',
	},
	{
		name => 'metapage: dimensions out of range',
		damage => [ 0, 24 + 8, pack('l<', 100000) ],
		block => 0, scan => 'XX002', insert => 'XX002', vacuum => 'XX002',
	},
	{
		name => 'metapage: magic overwritten',
		damage => [ 0, 24, pack('V', 0xDEADBEEF) ],
		block => 0, scan => 'XX002', insert => 'XX002', vacuum => 'XX002',
	},
	{
		# 1,000 more line pointers, copies of the first: valid items, too many
		name => 'directory: more items than lists',
		damage => [ 1, 12, pack('v', 24 + 4 * 1004) ],
		extra => [ 1, 24 + 16, substr(page(1), 24, 4) x 1000 ],
		block => 1, scan => 'XX002', insert => 'XX002', vacuum => 'XX002',
	},
	{
		name => 'directory: page kind overwritten',
		damage => [ 1, special(page(1)) + 4, pack('v', 2) ],
		block => 1, scan => 'XX002', insert => 'XX002', vacuum => 'XX002',
	},
	{
		name => "directory: a list's first page past the end",
		damage => [ 1, $dir_item0, pack('V', 99999) ],
		block => 1, scan => 'XX002', insert => 'XX002', vacuum => 'XX002',
	},
	{
		name => "directory: a list's first page is a directory page",
		damage => [ 1, $dir_item0, pack('V', 1) ],
		block => 1, scan => 'XX002', insert => 'XX002', vacuum => 'XX002',
	},
	{
		name => "directory: a list's insert page past the end",
		damage => [ 1, $dir_item0 + 4, pack('V', 99999) ],
		block => 1, scan => 'XX002', insert => 'XX002', vacuum => 'XX002',
	},
	{
		name => "directory: a list's insert page in another list",
		damage => [ 1, $dir_item0 + 4, pack('V', $chain1[-1]) ],
		block => 1, scan => 'ok', insert => 'ok', vacuum => 'ok',
	},
	{
		name => 'list page: page kind overwritten',
		damage => [ $first0, $special + 4, pack('v', 1) ],
		block => $first0, scan => 'XX002', insert => 'any', vacuum => 'XX002',
	},
	{
		name => 'list page: magic overwritten',
		damage => [ $first0, $special + 6, pack('v', 0xDEAD) ],
		block => $first0, scan => 'XX002', insert => 'any', vacuum => 'XX002',
	},
	{
		name => 'list page: item length wrong',
		damage => [ $first0, 24, pack('V', (item_ids(page($first0)))[0][0] | (1 << 15) | (8 << 17)) ],
		block => $first0, scan => 'XX002', insert => 'any', vacuum => 'XX002',
	},
	{
		name => 'list page: item offset past the page',
		damage => [ $first0, 24, pack('V', 32000 | (1 << 15) | (40 << 17)) ],
		block => $first0, scan => 'XX002', insert => 'any', vacuum => 'XX002',
	},
	{
		# PostgreSQL reads the page (its own check looks at the other
		# pointers), and PageAddItem PANICs on it: inserts must stop before
		name => 'list page: item space starting inside the header, on the insert page',
		damage => [ $last0, 12, pack('v', 8) ],
		block => $last0, scan => 'XX002', insert => 'XX002', vacuum => 'XX002',
	},
	{
		name => 'list page: special space moved',
		damage => [ $first0, 16, pack('v', $special - 8) ],
		block => $first0, scan => 'XX002', insert => 'any', vacuum => 'XX002',
	},
	{
		name => 'list page: next page past the end',
		damage => [ $first0, $special, pack('V', 99999) ],
		block => $first0, scan => 'XX002', insert => 'any', vacuum => 'XX002',
	},
	{
		name => 'list page: chain cycle (last page links to the first)',
		damage => [ $last0, $special, pack('V', $first0) ],
		block => $last0, scan => 'XX002', insert => 'any', vacuum => 'XX002',
	},
	{
		# the last line pointer of a page dropped: a sound page, one row short
		name => 'heap row missing from the index',
		damage => [ $first0, 12, pack('v', $lower0 - 4) ],
		heap_only => 1, scan => 'ok', insert => 'ok', vacuum => 'ok',
	},
);

my $scan = qq{
	SET enable_seqscan = off; SET ivfflat.probes = 4;
	SELECT count(*) FROM (SELECT id FROM items ORDER BY v <-> '[0,0,0,0,0,0,0,0]') s;
};
my $insert = 'INSERT INTO items SELECT id + 10000, v FROM items;';
my $vacuum = 'DELETE FROM items WHERE id % 10 = 0; VACUUM (INDEX_CLEANUP ON) items;';

for my $case (@cases)
{
	my $name = $case->{name};
	fresh_index();
	# the TID of the row whose line pointer the last case drops
	my $lost = substr(page($first0), (item_ids(page($first0)))[-1][0], 6);
	my ($bhi, $blo, $pos) = unpack('v v v', $lost);
	damage_page($node, 'items_ivf', @{ $case->{damage} });
	damage_page($node, 'items_ivf', @{ $case->{extra} }) if $case->{extra};

	my ($state, $msg, $detail) = outcome("SELECT vsim.index_check('items_ivf', true)");
	if ($case->{heap_only})
	{
		my $tid = '(' . ($bhi * 65536 + $blo) . ",$pos)";
		is((outcome("SELECT vsim.index_check('items_ivf', false)"))[0], 'ok',
			"$name: the structure check passes");
		is($state, 'XX002', "$name: index_check with heapallindexed raises XX002");
		like($msg, qr/^index "items_ivf" is corrupted at block \d+$/, "$name: ... naming the index and a block");
		like($detail, qr/heap tuple \Q$tid\E/, "$name: ... and the missing heap tuple $tid");
		is((outcome($scan))[1], $nrows - 1, "$name: a scan returns the rows the index holds");
	}
	else
	{
		is($state, 'XX002', "$name: index_check raises XX002");
		like($msg, qr/^index "items_ivf" is corrupted at block $case->{block}$/,
			"$name: ... naming the index and block $case->{block}");
	}

	for my $op ([ scan => $scan ], [ insert => $insert ], [ vacuum => $vacuum ])
	{
		my ($what, $sql) = @$op;
		my ($got, $out) = outcome($sql);
		my $want = $case->{$what};
		if ($want eq 'any')
		{
			like($got, qr/^(ok|XX002)$/, "$name: $what fails with XX002 or works ($got)");
		}
		else
		{
			is($got, $want, "$name: $what " . ($want eq 'ok' ? 'works' : "fails with $want"))
			  or diag("$what: $out");
		}
		like($out, qr/^index "items_ivf" is corrupted at block \d+$/, "$name: ... $what names the index and a block")
		  if $got eq 'XX002';
	}
	is($node->safe_psql('postgres', 'SELECT 1'), '1', "$name: the server is up");
}

my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal/, 'no backend crashed');
unlike($log, qr/PANIC/, 'no PANIC');

$node->stop;
done_testing();
