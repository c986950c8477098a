# test/t/052_embed_real.pl: real trained models inside the database.
#
# - the Fashion-MNIST CNN ($VSIM_DATA/models/fashion-mnist-cnn) classifies
#   the 10,000 test images (Debian's dataset-fashion-mnist) in SQL with at
#   least 90% accuracy, and its 256-d embeddings find same-class images;
# - the text-word64 model ($VSIM_DATA/models/text-word64) embeds the 7,600
#   AG News test items; a document's 10 nearest neighbours are mostly of its
#   own class (chance: 25%); the batch form gives the same vectors.
# Skipped when there is no data directory ($VSIM_DATA, default ../shared/data).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{VSIM_ROOT}/test/lib";
use VsimTest;

my $data = vsim_data_dir();
plan skip_all => 'no data directory (VSIM_DATA is not set, ../shared/data does not exist)'
  unless defined $data;
plan skip_all => "no models at $data/models" unless -d "$data/models";

my $node = vsim_node('embed_real', conf => "vsim.model_directory = '$data/models'\n");
sub query { return $node->safe_psql('postgres', $_[0]); }

# --- Fashion-MNIST --------------------------------------------------------------
load_fmnist($node, 'fm_test', 'test', 10000);
is(query(q{SELECT vsim.create_model('fmnist', 'fashion-mnist-cnn/fashion_mnist_embed256.onnx',
	options => '{"output": "output", "input_scale": 0.00392156862745098}')}), '10',
	'the CNN registers with 10 class scores');
my $acc = query(q{
	SELECT round(avg((label = (SELECT i - 1 FROM unnest(vsim.embed_output('fmnist', v::real[], 'output'))
						 WITH ORDINALITY s(score, i) ORDER BY score DESC LIMIT 1))::int), 4)
	FROM fm_test});
note "Fashion-MNIST accuracy in the database: $acc";
cmp_ok($acc, '>=', 0.90, "the CNN classifies the 10,000 test images ($acc correct)");

query(q{SELECT vsim.create_model('fmnist_embed', 'fashion-mnist-cnn/fashion_mnist_embed256.onnx',
	options => '{"output": "embedding", "input_scale": 0.00392156862745098}')});
query(q{CREATE TABLE fm_emb AS SELECT id, label, vsim.embed('fmnist_embed', v::real[]) AS e
	FROM fm_test WHERE id <= 2000});
my $same = query(q{
	SELECT round(avg((n.label = q.label)::int), 4)
	FROM fm_emb q CROSS JOIN LATERAL
		(SELECT label FROM fm_emb d WHERE d.id <> q.id ORDER BY d.e <=> q.e LIMIT 5) n
	WHERE q.id <= 200});
note "image search: same-class share of 5 nearest: $same";
cmp_ok($same, '>=', 0.80, "search by CNN embedding: nearest images share the class ($same)");

# --- AG News ------------------------------------------------------------------
query("SELECT vsim.create_model('word64', 'text-word64/model.onnx', 'text-word64/tokenizer.json')");
query(qq{CREATE TABLE ag (label int, title text, description text);
	COPY ag FROM '$data/corpus/ag_news_test.csv' WITH (FORMAT csv, HEADER true);
	ALTER TABLE ag ADD id serial;
	ALTER TABLE ag ADD v vector(64);
	UPDATE ag SET v = vsim.embed('word64', title || '. ' || description)});
is(query('SELECT count(*), count(DISTINCT label) FROM ag WHERE v IS NOT NULL'), '7600|4',
	'7,600 AG News items embedded in 4 classes');
my $knn = query(q{
	SELECT round(avg((n.label = q.label)::int), 4)
	FROM ag q CROSS JOIN LATERAL
		(SELECT label FROM ag d WHERE d.id <> q.id ORDER BY d.v <=> q.v LIMIT 10) n
	WHERE q.id % 19 = 0});
note "AG News: same-class share of 10 nearest neighbours: $knn";
cmp_ok($knn, '>=', 0.60, "AG News neighbours are in the document's class far above chance 0.25 ($knn)");

my $diff = query(q{
	WITH b AS (SELECT vsim.embed('word64', array_agg(title || '. ' || description ORDER BY id)) AS vs
			   FROM ag WHERE id <= 1000)
	SELECT max(l2_distance(ag.v, u.v)) < 1e-5, count(*)
	FROM b, unnest(b.vs) WITH ORDINALITY u(v, i) JOIN ag ON ag.id = u.i});
is($diff, 't|1000', 'the batch form gives the same vectors as one call per text');

$node->stop;
done_testing();
