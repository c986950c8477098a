# test/t/051_embed_models.pl: vsim.embed computes what the models compute.
#
# - a tiny BERT-like encoder with random weights (test/embed/models.py):
#   vsim's raw output, pooled vector and batched vectors against an
#   independent numpy forward pass, max abs difference <= 1e-4;
# - a tensor model (2-layer MLP) against numpy, both outputs;
# - the WordPiece tokenizer against an independent Python implementation
#   (test/embed/wordpiece_ref.py) on the 13,000 texts of the corpora in
#   $VSIM_DATA (skipped without them) and hand-written non-ASCII cases, for
#   tokenizer.json and vocab.txt;
# - text in a LATIN1 database is converted to UTF-8 first;
# - vsim.embed in a generated column, an index expression and parallel workers.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{VSIM_ROOT}/test/lib";
use VsimTest;

my $root = $ENV{VSIM_ROOT} or die "VSIM_ROOT is not set";
my $data = vsim_data_dir();    # models and corpora; undef when there are none
my ($node, $models) = embed_test_node('embed_models');

sub query { return $node->safe_psql('embed', $_[0]); }

# Write the rows of $sql to $file (tab-separated, no header) for Python.
sub dump_rows
{
	my ($sql, $file) = @_;
	my $out = query($sql);
	open(my $fh, '>', $file) or die;
	print $fh $out, "\n";
	close $fh;
	return scalar(() = $out =~ /\n/g) + 1;
}

sub py
{
	my ($out, $err);
	IPC::Run::run([ '/usr/bin/python3', @_ ], '>', \$out, '2>', \$err)
	  or die "python3 @_: $err";
	chomp $out;
	return $out;
}

# --- tiny BERT against numpy --------------------------------------------------
query("SELECT vsim.create_model('bert', 'tiny_bert.onnx', 'vocab.txt', '{\"max_length\": 12}')");
is(query("SELECT vsim.tokenize('bert', 'Hello, world!')"), '{2,80,16,81,5,3}',
	'tiny vocabulary: [CLS] hello , world ! [SEP]');
is(query("SELECT vsim.tokenize('bert', 'the cats running on the Café mat sat dog hello world vsim')"),
	'{2,71,72,77,78,79,74,71,86,87,75,3}', 'WordPiece continuations, accents stripped, truncated to 12');
is(query(q{SELECT vsim.tokenize('bert', 'xyzzy q@')}), '{2,1,53,26,3}',
	'a word that does not split is one [UNK]; punctuation splits');
# Only the first max_length tokens of a text count, however long it is; the
# long runs below cross the points where the tokenizer may cut a text.
is(query(q{SELECT vsim.tokenize('bert', repeat('hello world ', 10000000))}),
	'{2,80,81,80,81,80,81,80,81,80,81,3}', 'a 120 MB text');
is(query(q{SELECT vsim.tokenize('bert', repeat('Café naïve ', 10000000))}),
	'{2,86,87,1,86,87,1,86,87,1,86,3}', 'a 110 MB text, not ASCII');
is(query(q{SELECT vsim.tokenize('bert', repeat(E' \t\n', 100000) || 'hello world')}),
	'{2,80,81,3}', 'words after 300 kB of white space');
is(query(q{SELECT vsim.tokenize('bert', repeat(' ', 65531) || 'hello world, the cat')}),
	'{2,80,81,16,71,72,3}', 'words on both sides of a cut');
is(query(q{SELECT vsim.tokenize('bert', repeat('q', 100000) || ' hello,world')}),
	'{2,1,80,16,81,3}', 'a word of 100,000 letters is one [UNK]');
is(query(q{SELECT vsim.tokenize('bert', repeat('ẹ́', 100000) || ' cat')}),
	'{2,1,72,3}', '... also of non-ASCII letters with combining marks');
is(query(q{SELECT vsim.tokenize('bert', repeat(E'\u0301', 100000) || ',cat')}),
	'{2,16,72,3}', 'a long run of combining marks before punctuation');

query(q{CREATE TABLE sentences (id int, t text)});
query(q{INSERT INTO sentences VALUES
	(1, 'hello'), (2, 'Hello, world!'), (3, 'the cat sat on the mat'),
	(4, 'dogs running on the mat, the cats sat'), (5, 'vsim checks this model'),
	(6, 'the the the the the the the the the the the the the the the'),
	(7, '???'), (8, 'Café, naïve cat'), (9, 'qqq zzz'), (10, '')});
my $rows = dump_rows(q{
	SELECT vsim.tokenize('bert', t), vsim.embed_output('bert', t, 'last_hidden_state'),
		   vsim.embed('bert', t), b.v
	FROM sentences s
	JOIN (SELECT ord AS id, v FROM unnest(vsim.embed('bert',
		  (SELECT array_agg(t ORDER BY id) FROM sentences))) WITH ORDINALITY AS u(v, ord)) b USING (id)
	ORDER BY id}, "$models/bert.tsv");
my $check = py("$root/test/embed/models.py", 'check-bert', $models, "$models/bert.tsv");
note "tiny BERT: $check";
my ($n, $raw, $pooled, $batch) = $check =~ /rows=(\d+) raw=(\S+) pooled=(\S+) batch=(\S+)/;
is($n, 10, 'tiny BERT: 10 sentences compared');
cmp_ok($raw, '<=', 1e-4, "last_hidden_state matches numpy (max abs diff $raw)");
cmp_ok($pooled, '<=', 1e-4, "mean-pooled, normalised vector matches numpy ($pooled)");
cmp_ok($batch, '<=', 1e-4, "batched vectors (padded, length-sorted) match numpy ($batch)");
is(query(q{SET vsim.embed_batch_size = 2;
	SELECT string_agg(CASE WHEN v IS NULL THEN 'null' WHEN v = vsim.embed('bert', t) THEN 'same' ELSE 'differs' END, ' ')
	FROM unnest(vsim.embed('bert', ARRAY['hello', NULL, 'the cat sat on the mat', NULL, 'dog'])) WITH ORDINALITY a(v, i)
	JOIN unnest(ARRAY['hello', NULL, 'the cat sat on the mat', NULL, 'dog']) WITH ORDINALITY b(t, i) USING (i)}),
	'same null same null same', 'batches of 2: input order kept, null texts give null vectors in place');
is(query(q{SELECT cardinality(vsim.embed('bert', '{}'::text[]))}), '0', 'an empty batch');

# --- tensor model against numpy ------------------------------------------------
query("SELECT vsim.create_model('mlp', 'mlp.onnx', options => '{\"output\": \"embedding\"}')");
query(q{CREATE TABLE inputs AS SELECT i AS id,
	ARRAY(SELECT ((i * 7 + j * 3) % 11 - 5)::real / 2::real FROM generate_series(1, 6) j) AS x
	FROM generate_series(1, 50) i});
dump_rows(q{SELECT x, vsim.embed('mlp', x), vsim.embed_output('mlp', x, 'scores') FROM inputs ORDER BY id},
	"$models/mlp.tsv");
$check = py("$root/test/embed/models.py", 'check-mlp', $models, "$models/mlp.tsv");
note "MLP: $check";
my ($m, $emb, $scores) = $check =~ /rows=(\d+) embedding=(\S+) scores=(\S+)/;
is($m, 50, 'MLP: 50 inputs compared');
cmp_ok($emb, '<=', 1e-4, "vsim.embed = the embedding output ($emb)");
cmp_ok($scores, '<=', 1e-4, "vsim.embed_output reads the scores output ($scores)");
is(query(q{SELECT vsim.embed('mlp', '{{1,2,3},{4,5,6}}'::real[]) = vsim.embed('mlp', '{1,2,3,4,5,6}'::real[])}),
	't', 'any array shape with the right element count');
query("SELECT vsim.create_model('mlp_scaled', 'mlp.onnx', options => '{\"output\": \"embedding\", \"input_scale\": 0.5, \"normalize\": true}')");
is(query(q{SELECT vsim.embed('mlp_scaled', '{2,4,6,8,10,12}'::real[]) = l2_normalize(vsim.embed('mlp', '{1,2,3,4,5,6}'::real[]))}),
	't', 'input_scale and normalize');

# --- generated column and index expression ------------------------------------
query(q{CREATE TABLE docs (id int, body text,
	v vector(32) GENERATED ALWAYS AS (vsim.embed('bert', body)) STORED)});
query(q{INSERT INTO docs (id, body) SELECT id, t FROM sentences});
is(query(q{SELECT count(*) FROM docs d JOIN sentences s USING (id) WHERE d.v = vsim.embed('bert', s.t)}),
	'10', 'vsim.embed in a generated column');
query(q{CREATE INDEX ON docs ((vector_dims(vsim.embed('bert', body))))});
is(query(q{SELECT count(*) FROM docs WHERE vector_dims(vsim.embed('bert', body)) = 32}), '10',
	'vsim.embed in an index expression');

# --- parallel workers ---------------------------------------------------------
query(q{CREATE TABLE many AS SELECT i, s.t || ' ' || i AS body FROM sentences s, generate_series(1, 200) i;
	ALTER TABLE many ADD v vector(32);
	UPDATE many SET v = vsim.embed('bert', body); ANALYZE many});
my $parallel = q{SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
	SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2;
	SET parallel_leader_participation = off;};
like(query($parallel . q{EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
	SELECT count(*) FROM many WHERE v = vsim.embed('bert', body)}),
	qr/Workers Launched: [12]/, 'the check below runs in parallel workers');
is(query($parallel . q{SELECT count(*) FROM many WHERE v = vsim.embed('bert', body)}), '2000',
	'parallel workers load the model and compute the same vectors');

# --- tokenizer against the Python reference ----------------------------------
SKIP:
{
	skip "no data directory (VSIM_DATA is not set, ../shared/data does not exist)", 7
	  unless defined $data;
	skip "no corpora at $data/corpus", 7 unless -d "$data/corpus";
	# registered paths are found again under vsim.model_directory at every
	# load, so the setting applies to every session
	$node->append_conf('postgresql.conf', "vsim.model_directory = '$data/models'\n");
	$node->reload;
	$node->safe_psql('embed',
		"SELECT vsim.create_model('w64json', 'text-word64/model.onnx', 'text-word64/tokenizer.json');"
		  . "SELECT vsim.create_model('w64txt', 'text-word64/model.onnx', 'text-word64/vocab.txt', '{\"max_length\": 128}');"
		  . "SELECT vsim.create_model('minilm_tok', 'text-word64/model.onnx', 'bert-uncased-tokenizer/tokenizer.json');");
	is(query("SELECT vsim.tokenize('minilm_tok', 'Hello, world!')"), '{101,7592,1010,2088,999,102}',
		'"Hello, world!" with the bert-base-uncased vocabulary');

	my $stats = py("$root/test/embed/wordpiece_ref.py", 'corpus',
		"$data/models/text-word64/vocab.txt", "$data/corpus", 128, "$models/tok.tsv");
	note "reference tokenizer: $stats";
	my ($texts, $non_ascii) = $stats =~ /texts=(\d+) non_ascii=(\d+)/;
	cmp_ok($texts, '>=', 13000, "$texts texts");
	cmp_ok($non_ascii, '>=', 400, "$non_ascii of them non-ASCII");
	query("CREATE TABLE tok (id int, t text, expected int[]); COPY tok FROM '$models/tok.tsv'");
	for my $model ('w64json', 'w64txt')
	{
		my $bad = query("SELECT count(*) FROM tok WHERE vsim.tokenize('$model', t) <> expected");
		is($bad, '0', "$model: vsim.tokenize agrees with the reference on all $texts texts");
		diag(query("SELECT id, left(t, 60), vsim.tokenize('$model', t), expected FROM tok "
			  . "WHERE vsim.tokenize('$model', t) <> expected LIMIT 5")) if $bad;
	}

	# A LATIN1 database: text is converted to UTF-8 before tokenizing.
	$node->safe_psql('postgres',
		"CREATE DATABASE latin ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
	$node->safe_psql('latin', 'CREATE EXTENSION vsim');
	$node->safe_psql('latin',
		"SELECT vsim.create_model('w64json', 'text-word64/model.onnx', 'text-word64/tokenizer.json')");
	my $word = "na\x{ef}ve caf\x{e9} cr\x{e8}me";    # as Perl characters; psql gets UTF-8
	utf8::encode(my $bytes = "SET client_encoding = 'UTF8'; SELECT vsim.tokenize('w64json', '$word')");
	my $latin = $node->safe_psql('latin', $bytes);
	is($latin, query("SELECT vsim.tokenize('w64json', 'naive cafe creme')"),
		'LATIN1 database: accented text is converted, then accents stripped');
}

$node->stop;
done_testing();
