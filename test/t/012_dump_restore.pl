# pg_dump / pg_restore of a database using vsim: vector columns, both index
# access methods with their options, and search results survive the trip;
# so do tables whose generated columns call vsim.embed, restored into
# another cluster by the order the README gives (registry first), with
# vectors identical to the bit, and a registered file that differs on the
# new server refused with the registry's checksum error.
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use File::Copy qw(copy);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use VsimTest;

my $node = vsim_node('dump');
$node->safe_psql('postgres', q{
	CREATE TABLE items (id int PRIMARY KEY, category text, v vector(16));
	INSERT INTO items SELECT i, 'c' || (i % 5),
		array(SELECT sin(i * 3.7 + j) FROM generate_series(1, 16) j)::vector
	FROM generate_series(1, 2000) i;
	INSERT INTO items VALUES (2001, 'none', NULL);
	CREATE INDEX items_hnsw ON items USING hnsw (v vector_cosine_ops) WITH (m = 8, ef_construction = 32);
	CREATE INDEX items_ivf ON items USING ivfflat (v vector_l2_ops) WITH (lists = 20);
});

my $query = q{
	SELECT string_agg(id::text, ',' ORDER BY d, id) FROM (
		SELECT id, v <=> '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]' AS d FROM items
		ORDER BY v <=> '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]' LIMIT 10) s};
my $before = $node->safe_psql('postgres', $query);

my $dump = PostgreSQL::Test::Utils::tempdir() . '/vsim.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('restored'), $dump ], 'pg_restore');

is($node->safe_psql('restored', 'SELECT count(*), count(v), sum(vector_dims(v)) FROM items'),
	'2001|2000|32000', 'every row and vector restored');
is($node->safe_psql('restored',
		q{SELECT string_agg(indexdef, E'\n' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'items' AND indexname <> 'items_pkey'}),
	"CREATE INDEX items_hnsw ON public.items USING hnsw (v vector_cosine_ops) WITH (m='8', ef_construction='32')\n"
	  . "CREATE INDEX items_ivf ON public.items USING ivfflat (v) WITH (lists='20')",  # vector_l2_ops is the default
	'both indexes restored with their operator classes and options');
is($node->safe_psql('restored', "SET enable_seqscan = off; $query"), $before,
	'the restored HNSW index answers like the original');
like($node->safe_psql('restored', "EXPLAIN (COSTS OFF) $query"), qr/items_hnsw/,
	'the restored index is used');
# the values themselves are bit-identical: compare through their text form
is($node->safe_psql('restored', q{SELECT md5(string_agg(v::text, ';' ORDER BY id)) FROM items}),
	$node->safe_psql('postgres', q{SELECT md5(string_agg(v::text, ';' ORDER BY id)) FROM items}),
	'restored vectors are identical to the dumped ones');

$node->stop;

# --- generated columns calling vsim.embed -----------------------------------
my ($src, $models_src) = embed_test_node('dump_embed_src');
copy("$models_src/mlp.onnx", "$models_src/mlp_copy.onnx") or die;
$src->safe_psql('embed', q{
	SELECT vsim.create_model('bert', 'tiny_bert.onnx', 'vocab.txt', '{"max_length": 12}');
	SELECT vsim.create_model('mlp2', 'mlp_copy.onnx', options => '{"output": "embedding"}');
	CREATE TABLE docs (id int PRIMARY KEY, body text,
		v vector(32) GENERATED ALWAYS AS (vsim.embed('bert', body)) STORED);
	INSERT INTO docs (id, body) SELECT i, (ARRAY['hello world', 'the cat sat on the mat',
		'dogs running', 'Café, naïve cat', 'vsim checks this model'])[1 + i % 5] || ' ' || i
	FROM generate_series(1, 500) i;
	CREATE TABLE inputs (id int, x real[],
		v vector(4) GENERATED ALWAYS AS (vsim.embed('mlp2', x)) STORED);
	INSERT INTO inputs (id, x) SELECT i, ARRAY[i, 1, 2, 3, 4, 5] FROM generate_series(1, 10) i;
});
# the vectors' binary form, as a digest
my $digest = q{SELECT md5(string_agg(vector_send(v)::text, ',' ORDER BY id)) FROM docs};
my $original = $src->safe_psql('embed', $digest);
my $archive = PostgreSQL::Test::Utils::tempdir() . '/embed.dump';
$src->command_ok([ 'pg_dump', '-Fc', '-f', $archive, '-d', $src->connstr('embed') ],
	'pg_dump of tables with generated columns calling vsim.embed');
$src->stop;
rename($models_src, "$models_src.gone") or die;    # nothing of the old server is left

# Why the registry is restored first: pg_dump orders table data by schema
# and name, and no dependency puts vsim.model_registry's before public's.
my ($toc) = run_command([ 'pg_restore', '-l', $archive ]);
my @data = $toc =~ /TABLE DATA (\S+ \S+)/g;
is("@data", 'public docs public inputs vsim model_registry',
	'pg_dump emits the registry\'s rows after the tables that embed with it');

# A new cluster whose model directory holds the same files under the same
# names (another directory), except mlp_copy.onnx, which has other weights.
my $models_dst = PostgreSQL::Test::Utils::tempdir();
copy("$models_src.gone/$_", "$models_dst/$_") or die for qw(tiny_bert.onnx vocab.txt);
copy("$models_src.gone/mlp_changed.onnx", "$models_dst/mlp_copy.onnx") or die;
my $dst = PostgreSQL::Test::Cluster->new('dump_embed_dst');
$dst->init;
$dst->append_conf('postgresql.conf', "vsim.model_directory = '$models_dst'\n");
$dst->start;

# pg_restore with its connection to database $db and @args; returns its
# standard error.
sub restore
{
	my ($db, @args) = @_;
	my ($out, $err);
	IPC::Run::run([ 'pg_restore', '-d', $dst->connstr($db), @args, $archive ], '>', \$out, '2>', \$err);
	return $err;
}
my $create = "ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0";

# One step: the tables come before the registry, and fail with a hint.
$dst->safe_psql('postgres', "CREATE DATABASE naive $create");
my $err = restore('naive');
like($err, qr/ERROR:  model "bert" does not exist\nHINT:  If a dump is being restored, restore the data of vsim.model_registry before the tables that embed with it/,
	'restored in one step, a table fails: the model is not registered yet, and the hint says what to do');

# The README's order: schema, registry, the rest (here in parallel).
$dst->safe_psql('postgres', "CREATE DATABASE restored $create");
is(restore('restored', '--section=pre-data'), '', 'restore 1/3: the schema');
is(restore('restored', '--data-only', '--schema=vsim'), '', 'restore 2/3: the registry');
$err = restore('restored', '--section=data', '--section=post-data', '--exclude-schema=vsim', '-j', '2');
is($dst->safe_psql('restored', 'SELECT string_agg(name || \' \' || model_path, \', \' ORDER BY name) FROM vsim.models'),
	'bert tiny_bert.onnx, mlp2 mlp_copy.onnx', 'the registry is restored, its paths relative');
is($dst->safe_psql('restored', "SELECT vsim.create_model('bert2', 'tiny_bert.onnx', 'vocab.txt'); "
		  . "SELECT string_agg(id::text, ',' ORDER BY id) FROM vsim.models"),
	"32\n1,2,3", '... with its ids and their sequence');
is($dst->safe_psql('restored', 'SELECT count(*), count(v) FROM docs'), '500|500', 'restore 3/3: every row');
is($dst->safe_psql('restored', $digest), $original,
	'the vectors recomputed on the new server are identical to the bit');
like($err, qr/COPY failed for table "inputs": ERROR:  file "mlp_copy.onnx" of model "mlp2" has changed since the model was registered/,
	'a restored model whose file differs on the new server is refused with the checksum error');
is(scalar(() = $err =~ /ERROR:/g), 1, '... the only error of the restore');
is($dst->safe_psql('restored', 'SELECT count(*) FROM inputs'), '0', '... and no vector of it is stored');

$dst->stop;
done_testing();
