# VsimTest.pm: helpers shared by vsim's TAP tests (test/t/*.pl).
#
# Builds on PostgreSQL::Test::Cluster: a node with vsim created, Fashion-MNIST
# loaded through binary COPY, and brute-force ground truth computed outside
# the database by test/lib/fmnist.py (numpy).
package VsimTest;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;

our @EXPORT = qw(vsim_node load_fmnist fmnist_truth knn_query recall_at_k shared_dir python3);

my $root = $ENV{VSIM_ROOT} or die "VSIM_ROOT is not set (run through scripts/test.sh)";

# The read-only data directory beside the project (may not exist).
sub shared_dir { return "$root/../shared"; }

# Run /usr/bin/python3 with arguments; returns its standard output, dies on failure.
sub python3
{
	my @args = @_;
	my ($out, $err);
	IPC::Run::run([ '/usr/bin/python3', @args ], '>', \$out, '2>', \$err)
	  or die "python3 @args failed: $err";
	return $out;
}

# A started node with the vsim extension created in database "postgres".
# %opts: allows_streaming etc. go to init(); conf => extra postgresql.conf text.
sub vsim_node
{
	my ($name, %opts) = @_;
	my $conf = delete $opts{conf} // '';
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(%opts);
	$node->append_conf('postgresql.conf', "shared_buffers = 256MB\nmax_wal_size = 2GB\n$conf");
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION vsim');
	return $node;
}

# Create TABLE $table (id int PRIMARY KEY, label int, v vector(784)) and fill
# it with the first $limit images of Fashion-MNIST split $split ('train' or
# 'test') via binary COPY.  Ids are 1-based positions in the split.
sub load_fmnist
{
	my ($node, $table, $split, $limit) = @_;
	my $file = PostgreSQL::Test::Utils::tempdir() . "/$table.copy";
	IPC::Run::run([ '/usr/bin/python3', "$root/test/lib/fmnist.py", 'copy', $split, $limit ],
		'>', $file)
	  or die "fmnist.py copy failed";
	$node->safe_psql('postgres',
		"CREATE TABLE $table (id int PRIMARY KEY, label int NOT NULL, v vector(784));"
		  . "COPY $table FROM '$file' WITH (FORMAT binary); ANALYZE $table;");
	return;
}

# Ground truth: { qid => [ [id, dist], ... ] } for the first $ntest test
# images against the first $ntrain training images under $metric.
sub fmnist_truth
{
	my ($metric, $k, $ntrain, $ntest) = @_;
	my %truth;
	for my $line (split /\n/,
		python3("$root/test/lib/fmnist.py", 'knn', $metric, $k, $ntrain, $ntest))
	{
		my ($qid, @cells) = split / /, $line;
		$truth{$qid} = [ map { [ split /:/ ] } @cells ];
	}
	return \%truth;
}

# The $k nearest rows of $opt{table} (default 'train') for every row of
# table 'test', in one LATERAL join under operator $op, after the SQL in
# $opt{settings}.  Rows come in distance order, ties broken by id; with
# $opt{tiebreak} ties at the k-th place are broken by id too (deterministic,
# but only an exact scan can serve that ORDER BY).  Returns
# ({ qid => [id, ...] }, { qid => { id => distance } }).
sub knn_query
{
	my ($node, $op, $k, %opt) = @_;
	my $table = $opt{table} // 'train';
	my $settings = $opt{settings} // '';
	my $tiebreak = $opt{tiebreak} ? ', t.id' : '';
	my $out = $node->safe_psql('postgres', qq{
		$settings
		SELECT q.id, n.id, n.d FROM test q CROSS JOIN LATERAL (
			SELECT t.id, t.v $op q.v AS d FROM $table t ORDER BY t.v $op q.v$tiebreak LIMIT $k) n
		ORDER BY q.id, n.d, n.id;
	});
	my (%ids, %dist);
	for (split /\n/, $out)
	{
		my ($qid, $id, $d) = split /\|/;
		push @{ $ids{$qid} }, $id;
		$dist{$qid}{$id} = $d;
	}
	return (\%ids, \%dist);
}

# recall@k of $result ({ qid => [id, ...] }) against $truth: a returned row
# counts when its true distance is within the true k-th distance, so ties at
# the boundary are not held against an index.  $dist->{qid}{id} gives the
# true distance of any returned id (pass the distances the query computed).
sub recall_at_k
{
	my ($truth, $result, $dist, $k) = @_;
	my ($hit, $total) = (0, 0);
	for my $qid (keys %$truth)
	{
		my $kth = $truth->{$qid}[ $k - 1 ][1];
		my @got = @{ $result->{$qid} // [] };
		@got = @got[ 0 .. $k - 1 ] if @got > $k;
		$hit += grep { $dist->{$qid}{$_} <= $kth + 1e-6 * (1 + abs($kth)) } @got;
		$total += $k;
	}
	return $total ? $hit / $total : 0;
}

1;
