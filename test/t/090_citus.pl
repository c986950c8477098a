# test/t/090_citus.pl: vsim on Citus distributed tables.
#
# A coordinator and two workers (PostgreSQL::Test::Cluster nodes with
# shared_preload_libraries = 'citus', registered with citus_add_node).
# Fashion-MNIST training images go into a distributed table by COPY; their
# 256-d CNN embeddings are computed on the workers by a distributed
# INSERT ... SELECT calling vsim.embed (the model registered on every node
# by the documented procedure, same checksum everywhere).  Then:
#   - CREATE INDEX USING hnsw / ivfflat reaches every shard;
#   - EXPLAIN shows an index scan per shard under Citus' adaptive executor;
#   - ORDER BY v <=> q LIMIT 10 with high ef_search / probes equals exact
#     search on a single node with the same rows, and at default settings
#     its recall@10 is within 0.02 of a single node's;
#   - hnsw.ef_search set with SET LOCAL reaches the shard queries
#     (citus.propagate_set_commands = 'local'), a plain SET does not;
#   - halfvec (HNSW on every shard) and sparsevec (exact) columns;
#   - a filtered query, a CROSS JOIN LATERAL similarity join from a
#     reference table of queries;
#   - hnsw.ef_search set with ALTER ROLE reaches the workers too;
#   - a worker killed and restarted under an insert load keeps exactly the
#     acknowledged rows; while it is down, queries and inserts for its
#     shards fail naming the node.
# Skips without Citus in the staged PostgreSQL (scripts/citus.sh) or
# without the CNN model in the data directory.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{VSIM_ROOT}/test/lib";
use VsimTest;

my $pkglibdir = `pg_config --pkglibdir`;
chomp $pkglibdir;
plan skip_all => "Citus is not installed in $pkglibdir (scripts/citus.sh)"
  unless -f "$pkglibdir/citus.so";
my $data = vsim_data_dir();
plan skip_all => 'no fashion-mnist-cnn model in the data directory'
  unless defined $data && -d "$data/models/fashion-mnist-cnn";

my $ntrain = 10000;
my $ntest = 100;
my $k = 10;

sub citus_node
{
	my ($name) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'citus'
citus.node_conninfo = 'sslmode=disable'
vsim.model_directory = '$data/models'
max_connections = 100
shared_buffers = 128MB
});
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION citus');
	return $node;
}

my $coord = citus_node('coordinator');
my @workers = (citus_node('worker1'), citus_node('worker2'));
my $single = vsim_node('single');
sub cq { return $coord->safe_psql('postgres', $_[0]); }

$coord->safe_psql('postgres', sprintf(q{SELECT citus_set_coordinator_host('%s', %d)},
	$coord->host, $coord->port));
for my $w (@workers)
{
	$coord->safe_psql('postgres', sprintf(q{SELECT citus_add_node('%s', %d)}, $w->host, $w->port));
}
is(cq('SELECT count(*) FROM citus_get_active_worker_nodes()'), '2', 'two workers registered');

# CREATE EXTENSION on the coordinator reaches the workers.
cq('CREATE EXTENSION vsim');
for my $i (0 .. 1)
{
	is($workers[$i]->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'vsim'}),
		cq(q{SELECT extversion FROM pg_extension WHERE extname = 'vsim'}),
		"worker $i has vsim at the coordinator's version");
}

# --- the model on every node ----------------------------------------------------
my $register = q{SELECT vsim.create_model('fmnist', 'fashion-mnist-cnn/fashion_mnist_embed256.onnx',
	options => '{"input": "tensor", "output": "embedding", "input_shape": [1, 1, 28, 28], "input_scale": 0.00392156862745098}')};
is(cq($register), '256', 'model registered on the coordinator');
(my $quoted = $register) =~ s/'/''/g;
is(cq("SELECT bool_and(success) FROM run_command_on_workers('$quoted')"), 't',
	'... and on every worker (run_command_on_workers)');
is(cq(q{SELECT count(DISTINCT result) FROM run_command_on_workers(
		'SELECT model_sha256 FROM vsim.models WHERE name = ''fmnist''')}) . '|'
	  . cq(q{SELECT count(*) FROM run_command_on_workers(
		'SELECT model_sha256 FROM vsim.models WHERE name = ''fmnist''') w
		WHERE w.result = (SELECT model_sha256 FROM vsim.models WHERE name = 'fmnist')}),
	'1|2', 'every worker registered the file with the coordinator\'s checksum');

# --- data: COPY pixels in, embed on the workers -----------------------------------
my $tmp = PostgreSQL::Test::Utils::tempdir();
for my $split ([ 'train', $ntrain ], [ 'test', $ntest ])
{
	IPC::Run::run([ '/usr/bin/python3', "$ENV{VSIM_ROOT}/test/lib/fmnist.py", 'copy', @$split ],
		'>', "$tmp/$split->[0].copy")
	  or die 'fmnist.py copy failed';
}
cq(q{SET citus.shard_count = 4;
	CREATE TABLE pixels (id int PRIMARY KEY, label int NOT NULL, v vector(784));
	SELECT create_distributed_table('pixels', 'id');
	CREATE TABLE items (id int PRIMARY KEY, label int NOT NULL, v vector(256));
	SELECT create_distributed_table('items', 'id', colocate_with => 'pixels');
	CREATE TABLE queries (id int PRIMARY KEY, label int NOT NULL, v vector(784));
	SELECT create_reference_table('queries');});
cq("COPY pixels FROM '$tmp/train.copy' WITH (FORMAT binary)");
cq("COPY queries FROM '$tmp/test.copy' WITH (FORMAT binary)");
is(cq('SELECT count(*) FROM pixels'), $ntrain, "COPY into the distributed table: $ntrain rows");
is(cq(q{SELECT count(*) FROM run_command_on_shards('pixels', 'SELECT count(*) > 0 FROM %s')
	WHERE result = 't'}), '4', '... spread over its 4 shards');

my $explain = cq(q{EXPLAIN (COSTS OFF) INSERT INTO items
	SELECT id, label, vsim.embed('fmnist', v::real[]) FROM pixels});
unlike($explain, qr/Pull to coordinator|Repartition/,
	'the embedding INSERT ... SELECT is pushed down to the shards');
cq(q{INSERT INTO items SELECT id, label, vsim.embed('fmnist', v::real[]) FROM pixels});
is(cq('SELECT count(*) FROM items WHERE vector_dims(v) = 256'), $ntrain,
	'the workers embedded every row');
cq(q{ALTER TABLE queries ADD COLUMN e vector(256);
	UPDATE queries SET e = vsim.embed('fmnist', v::real[])});

# The same rows on a single node, for the comparisons.
$single->safe_psql('postgres', 'CREATE TABLE items (id int PRIMARY KEY, label int NOT NULL, v vector(256));'
	  . 'CREATE TABLE queries (id int PRIMARY KEY, e vector(256))');
cq("COPY (SELECT id, label, v FROM items) TO '$tmp/items.csv' WITH (FORMAT csv)");
cq("COPY (SELECT id, e FROM queries) TO '$tmp/queries.csv' WITH (FORMAT csv)");
$single->safe_psql('postgres', "COPY items FROM '$tmp/items.csv' WITH (FORMAT csv);"
	  . "COPY queries FROM '$tmp/queries.csv' WITH (FORMAT csv); ANALYZE");

# --- indexes on every shard ----------------------------------------------------------
cq(q{CREATE INDEX items_hnsw ON items USING hnsw (v vector_cosine_ops)});
my $shard_indexes = 0;
for my $w (@workers)
{
	$shard_indexes += $w->safe_psql('postgres', q{SET citus.override_table_visibility = off;
		SELECT count(*) FROM pg_indexes
		WHERE indexname LIKE 'items_hnsw_%' AND indexdef LIKE '%USING hnsw%'});
}
is($shard_indexes, 4, 'CREATE INDEX USING hnsw reaches all 4 shards');

# one query vector as a literal, so each shard gets it as a constant
my $q1 = cq('SELECT e FROM queries WHERE id = 1');
$explain = cq(qq{SET citus.explain_all_tasks = on;
	EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <=> '$q1' LIMIT 10});
my @scans = $explain =~ /Index Scan using items_hnsw_\d+ on items_\d+/g;
is(scalar(@scans), 4, 'EXPLAIN shows an HNSW index scan on each of the 4 shards');
like($explain, qr/Custom Scan \(Citus Adaptive\)/, '... under the adaptive executor');

# top-10 of every query, as "qid id id ..." lines (ties broken by id)
sub topk
{
	my ($node, $settings, $where) = @_;
	my %top;
	for my $line (split /\n/, $node->safe_psql('postgres', qq{$settings
		SELECT q.id, string_agg(n.id::text, ' ' ORDER BY n.d, n.id)
		FROM queries q CROSS JOIN LATERAL (
			SELECT i.id, i.v <=> q.e AS d FROM items i $where
			ORDER BY i.v <=> q.e LIMIT $k) n
		GROUP BY q.id}))
	{
		my ($qid, $ids) = split /\|/, $line;
		$top{$qid} = [ split / /, $ids ];
	}
	return \%top;
}

sub recall
{
	my ($truth, $got) = @_;
	my ($hits, $all) = (0, 0);
	for my $qid (keys %$truth)
	{
		my %want = map { $_ => 1 } @{ $truth->{$qid} };
		$hits += grep { $want{$_} } @{ $got->{$qid} // [] };
		$all += @{ $truth->{$qid} };
	}
	return $hits / $all;
}

# Distributed queries: one per query vector (Citus plans a LATERAL join
# against a reference table per shard; the per-query form is what users run).
sub dist_topk
{
	my ($settings, $where) = @_;
	my %top;
	for my $qid (1 .. $ntest)
	{
		my $q = cq("SELECT e FROM queries WHERE id = $qid");
		my $ids = $coord->safe_psql('postgres', qq{BEGIN; $settings
			SELECT string_agg(id::text, ' ' ORDER BY d, id) FROM (
				SELECT id, v <=> '$q' AS d FROM items $where ORDER BY v <=> '$q' LIMIT $k) s;
			COMMIT;});
		$top{$qid} = [ split / /, $ids ];
	}
	return \%top;
}

my $exact = topk($single, 'SET enable_indexscan = off;', '');
my $high = dist_topk('SET LOCAL citus.propagate_set_commands = local; SET LOCAL hnsw.ef_search = 400;', '');
is(recall($exact, $high), 1, 'distributed HNSW at ef_search 400 returns the exact top-10');

$single->safe_psql('postgres', 'CREATE INDEX ON items USING hnsw (v vector_cosine_ops)');
my $single_recall = recall($exact, topk($single, '', ''));
my $dist_recall = recall($exact, dist_topk('', ''));
cmp_ok($dist_recall, '>=', $single_recall - 0.02,
	"recall\@$k at default settings: distributed $dist_recall, single node $single_recall");

# Where the shard queries see the setting: current_setting() in a query
# over the distributed table runs on the workers.
my $on_shards = q{SELECT string_agg(DISTINCT current_setting('hnsw.ef_search') || ' ' || (id > 0), ',') FROM items};
is(cq("SET hnsw.ef_search = 77; $on_shards"), '40 true',
	'a plain SET stays on the coordinator: the shards see the default ef_search 40');
is(cq("BEGIN; SET LOCAL citus.propagate_set_commands = local; SET LOCAL hnsw.ef_search = 77; $on_shards; COMMIT"),
	'77 true', "SET LOCAL under citus.propagate_set_commands = 'local' reaches the shard queries");
cq('ALTER ROLE postgres SET hnsw.ef_search = 55');
# new connections to the workers pick the role's setting up
$_->safe_psql('postgres', q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()}) for @workers;
is(cq($on_shards), '55 true', 'ALTER ROLE ... SET hnsw.ef_search reaches the workers');
cq('ALTER ROLE postgres RESET hnsw.ef_search');
$_->safe_psql('postgres', q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()}) for @workers;

# --- ivfflat --------------------------------------------------------------------------
cq(q{DROP INDEX items_hnsw; CREATE INDEX items_ivf ON items USING ivfflat (v vector_cosine_ops) WITH (lists = 10)});
$explain = cq(qq{SET citus.explain_all_tasks = on;
	EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <=> '$q1' LIMIT 10});
@scans = $explain =~ /Index Scan using items_ivf_\d+ on items_\d+/g;
is(scalar(@scans), 4, 'EXPLAIN shows an IVFFlat index scan on each of the 4 shards');
my $ivf_all = dist_topk('SET LOCAL citus.propagate_set_commands = local; SET LOCAL ivfflat.probes = 10;', '');
is(recall($exact, $ivf_all), 1, 'distributed IVFFlat probing every list returns the exact top-10');

# --- halfvec and sparsevec columns ---------------------------------------------------
# The same embeddings as halfvec (HNSW on every shard) and sparsevec (exact
# search): the distributed top-10 at a high ef_search equals the exact
# distributed top-10 on the halfvec column, and sparsevec gives the exact
# top-10 of the vectors it holds (the same float4 values as items.v).
cq(q{CREATE TABLE hitems (id int PRIMARY KEY, h halfvec(256), s sparsevec(256));
	SELECT create_distributed_table('hitems', 'id', colocate_with => 'items');
	INSERT INTO hitems SELECT id, v::halfvec(256), v::sparsevec(256) FROM items;
	CREATE INDEX hitems_hnsw ON hitems USING hnsw (h halfvec_cosine_ops)});
my $hq = cq('SELECT e::halfvec(256) FROM queries WHERE id = 1');
my $htop = sub {
	my ($settings) = @_;
	return cq(qq{BEGIN; SET LOCAL citus.propagate_set_commands = local; $settings
		SELECT string_agg(id::text, ' ' ORDER BY d, id) FROM (
			SELECT id, h <=> '$hq' AS d FROM hitems ORDER BY h <=> '$hq' LIMIT $k) s; COMMIT;});
};
$explain = cq(qq{SET citus.explain_all_tasks = on;
	EXPLAIN (COSTS OFF) SELECT id FROM hitems ORDER BY h <=> '$hq' LIMIT 10});
@scans = $explain =~ /Index Scan using hitems_hnsw_\d+ on hitems_\d+/g;
is(scalar(@scans), 4, 'halfvec: an HNSW index scan on each of the 4 shards');
is($htop->('SET LOCAL hnsw.ef_search = 400;'), $htop->('SET LOCAL enable_indexscan = off;'),
	'halfvec: the distributed index top-10 at ef_search 400 is the exact one');
my $sq = cq('SELECT e::sparsevec(256) FROM queries WHERE id = 1');
is(cq(qq{SELECT string_agg(id::text, ' ' ORDER BY d, id) FROM (
		SELECT id, s <=> '$sq' AS d FROM hitems ORDER BY s <=> '$sq' LIMIT $k) s}),
	join(' ', @{ $exact->{1} }), 'sparsevec: the distributed exact top-10 is the single node\'s');

# --- filters and joins ---------------------------------------------------------------
my $f_single = $single->safe_psql('postgres', qq{SET enable_indexscan = off;
	SELECT string_agg(id::text, ' ' ORDER BY d, id) FROM (
		SELECT id, v <=> '$q1' AS d FROM items WHERE label = 3 ORDER BY v <=> '$q1' LIMIT $k) s});
my $f_dist = $coord->safe_psql('postgres', qq{BEGIN;
	SET LOCAL citus.propagate_set_commands = local; SET LOCAL ivfflat.iterative_scan = relaxed_order;
	SET LOCAL ivfflat.probes = 10;
	SELECT string_agg(id::text, ' ' ORDER BY d, id) FROM (
		SELECT id, v <=> '$q1' AS d FROM items WHERE label = 3 ORDER BY v <=> '$q1' LIMIT $k) s; COMMIT;});
is($f_dist, $f_single, 'a filtered query (WHERE label = 3) gives the exact filtered top-10');

# Citus cannot push a LATERAL ... LIMIT that references a reference table
# down to the shards: it says so.  A function that runs the top-k query for
# one vector serves the similarity join instead (docs: README, "Scale-out").
my ($jret, $jout, $jerr) = $coord->psql('postgres', q{SELECT count(*) FROM queries q CROSS JOIN LATERAL (
	SELECT i.id FROM items i ORDER BY i.v <=> q.e LIMIT 5) n});
like($jerr, qr/cannot push down this subquery.*\n.*Limit clause is currently unsupported/,
	'a LATERAL top-k join from a reference table is refused with Citus\' reason');
cq(q{CREATE FUNCTION nearest_items(q vector, k int) RETURNS TABLE (id int, d float8)
	LANGUAGE plpgsql STABLE AS $$
	BEGIN
		RETURN QUERY SELECT i.id, i.v <=> q FROM items i ORDER BY i.v <=> q LIMIT k;
	END $$});
my %joined;
for my $line (split /\n/, cq(q{BEGIN;
	SET LOCAL citus.propagate_set_commands = local; SET LOCAL ivfflat.probes = 10;
	SELECT q.id, string_agg(n.id::text, ' ' ORDER BY n.d, n.id)
	FROM queries q CROSS JOIN LATERAL nearest_items(q.e, 10) n GROUP BY q.id;
	COMMIT}))
{
	my ($qid, $ids) = split /\|/, $line;
	$joined{$qid} = [ split / /, $ids ];
}
is(scalar(keys %joined), $ntest, 'the similarity join through a function answers every query');
is(recall($exact, \%joined), 1, '... and probing every list it gives the exact top-10 of each');

# --- a worker killed and restarted under an insert load ---------------------
# One client session keeps inserting (autocommit, RETURNING id, errors not
# fatal) in three batches: before worker2 crashes, while it is down, after
# it is restarted.  Every acknowledged row must be there afterwards, and no
# other.
my ($lin, $lout, $lerr) = ('', '', '');
my $load = IPC::Run::start(
	[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=0', '-d', $coord->connstr('postgres') ],
	'<', \$lin, '>', \$lout, '2>', \$lerr);
sub load_batch
{
	my ($from, $to) = @_;
	$lin .= "INSERT INTO items VALUES ($_, 0, '$q1') RETURNING id;\n" for $from .. $to;
	$lin .= "SELECT 'batch $to done';\n";
	$load->pump until $lout =~ /batch $to done/;
	return scalar(grep { $_ >= $from && $_ <= $to } $lout =~ /^(\d+)$/mg);
}
is(load_batch(200001, 200300), 300, 'load: 300 inserts acknowledged with both workers up');
$workers[1]->stop('immediate');
my ($ret, $out, $err) = $coord->psql('postgres', "SELECT id FROM items ORDER BY v <=> '$q1' LIMIT 10");
isnt($ret, 0, 'a query needing a down worker fails');
my $wport = $workers[1]->port;
like($err, qr/connection to the remote node [^ ]*:$wport failed with the following error/,
	'... and the error names the down worker') or diag($err);
my $down = load_batch(200301, 200600);
ok($down > 0 && $down < 300, "load: with worker2 down only the rows for worker1's shards go in ($down of 300)");
like($lerr, qr/connection to the remote node [^ ]*:$wport failed/, 'load: the failed inserts name the down worker');
$workers[1]->start;
is(load_batch(200601, 200900), 300, 'load: the same session inserts again after the restart');
$lin .= "\\q\n";
$load->finish;
my @acked = $lout =~ /^(2\d{5})$/mg;
is(cq('SELECT count(*) FROM items WHERE id > 200000'), scalar(@acked),
	'after the crash and restart exactly the ' . scalar(@acked) . ' acknowledged rows are there');
is(cq('SELECT count(*) FROM items WHERE id > 200000 AND id NOT IN (' . join(',', @acked) . ')'), '0',
	'no unacknowledged row is there');
is(cq("SELECT count(*) FROM items WHERE id <= $ntrain"), $ntrain, "the $ntrain rows loaded first are all there");

$_->stop for ($coord, @workers, $single);
done_testing();
