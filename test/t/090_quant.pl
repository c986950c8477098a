# The quantization codecs (src/quant/quant.h) at the C level, through the
# test-only extension test/modules/vsim_quant_test (installed into the
# staged server by scripts/lib.sh): every kernel set agrees with the
# portable one, sq8 round trips within step / 2, the RaBitQ rotation is
# orthogonal and reproducible, the error paths raise the right SQLSTATEs,
# and on real data (Fashion-MNIST pixels; CNN-256 embeddings when the data
# directory has the model) sq8 distances are close to exact, re-ranking
# sq8 candidates gives recall@10 >= 0.99, and the RaBitQ estimator is
# unbiased with its error bound holding at the stated confidence.
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use PostgreSQL::Test::Utils;
use Test::More;
use VsimTest;

my $data = vsim_data_dir();
my $models = defined $data && -d "$data/models/fashion-mnist-cnn";
my $node = vsim_node('quant', $models ? (conf => "vsim.model_directory = '$data/models'\n") : ());

# the test module's functions resolve against vsim.so: load it first
sub query { return $node->safe_psql('postgres', "LOAD 'vsim'; $_[0]"); }

sub error_of
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\nLOAD 'vsim'; $sql");
	return $ret == 0 ? 'no error' : $err;
}

query('CREATE EXTENSION vsim_quant_test');

# --- kernels -------------------------------------------------------------
my $cpuinfo = do { local (@ARGV, $/) = '/proc/cpuinfo'; <> } // '';
my %has = map { $_ => ($cpuinfo =~ /\b$_\b/ ? 1 : 0) } qw(avx2 fma popcnt avx512f avx512bw avx512vl);
my $sets = query('SELECT quant_kernels_agree()');
note "kernel sets compared with portable: $sets";
like($sets, qr/^portable/, 'the portable kernels pass their own exact checks');
SKIP:
{
	skip 'no AVX2 on this CPU', 1 unless $has{avx2} && $has{fma} && $has{popcnt};
	like($sets, qr/\bavx2\b/, 'avx2 kernels agree with portable (lengths 1..70, 784, extremes)');
}
SKIP:
{
	skip 'no AVX-512BW on this CPU', 1 unless $has{avx512f} && $has{avx512bw} && $has{avx512vl};
	like($sets, qr/\bavx512\b/, 'avx512 kernels agree with portable');
}
is(query("SET vsim.distance_kernel = portable; SELECT quant_kernels_current()"), 'portable',
	'vsim.distance_kernel = portable selects the portable quant kernels');
SKIP:
{
	skip 'no AVX2 on this CPU', 1 unless $has{avx2} && $has{fma} && $has{popcnt};
	is(query("SET vsim.distance_kernel = avx2; SELECT quant_kernels_current()"), 'avx2',
		'vsim.distance_kernel = avx2 selects the avx2 quant kernels');
}

# --- RaBitQ rotation -----------------------------------------------------
for my $dim (1, 64, 784, 8000)
{
	my $worst = query("SELECT quant_rotation_check($dim, 7)");
	cmp_ok($worst, '<=', 1e-5, "rotation at $dim-d preserves norms and inner products ($worst)");
}

# --- error paths ---------------------------------------------------------
query(q{CREATE TABLE empty (v vector(3));
	CREATE TABLE small (v vector(3));
	INSERT INTO small VALUES ('[1,2,3]'), ('[0,0,0]'), ('[-1,5,2]')});
like(error_of(q{SELECT quant_eval('sq8', 'l2', 'SELECT v FROM empty', 'SELECT v FROM small', 1, 1)}),
	qr/22023: sq8 training needs at least one sample vector/, 'sq8 training without a sample: 22023');
like(error_of(q{SELECT quant_eval('rabitq', 'l1', 'SELECT v FROM small', 'SELECT v FROM small', 1, 1)}),
	qr/0A000: rabitq quantization does not support the l1 metric.*\n.*HINT:  Use quantization sq8 or none/,
	'rabitq under l1: 0A000 with a hint');
like(error_of(q{SELECT quant_eval('rabitq', 'cosine', 'SELECT v FROM small', 'SELECT v FROM small', 1, 1)}),
	qr/22000: cannot quantize a zero vector for cosine distance/, 'rabitq: zero vector under cosine: 22000');
like(error_of(q{SELECT quant_rotation_check(16001, 1)}), qr/54000/, 'rotation past the dimension limit: 54000');
# a zero query under cosine is fine: the estimate is 1 (no similarity)
is(query(q{SELECT recall FROM quant_eval('rabitq', 'cosine', 'SELECT v FROM small WHERE v <> ''[0,0,0]''',
	'SELECT ''[0,0,0]''::vector', 1, 1)}), '1', 'rabitq: a zero query under cosine ranks without error');

# --- sq8 round trip on synthetic data -----------------------------------
query(q{CREATE TABLE rnd AS SELECT i, array_agg((random() * 200 - 100)::real)::vector(70) AS v
	FROM generate_series(1, 300) i, generate_series(1, 70) j GROUP BY i});
my ($in, $out, $nout) = split /\|/, query(q{SELECT * FROM quant_sq8_roundtrip(
	'SELECT v FROM rnd WHERE i <= 100', 'SELECT v FROM rnd')});
cmp_ok($in, '<=', 1.0001, "sq8 in-range error <= step / 2 (worst ratio $in)");
cmp_ok($in, '>', 0.5, "sq8 in-range error is not trivially zero (worst ratio $in)");
cmp_ok($nout, '>', 0, "values outside the trained range exist ($nout)");
cmp_ok($out, '<=', 1.0001, "sq8 out-of-range values decode to the clamped value within step / 2 ($out)");

# --- Fashion-MNIST 784-d pixels ------------------------------------------
load_fmnist($node, 'train', 'train', 10000);
load_fmnist($node, 'test', 'test', 100);
my $base = 'SELECT v FROM train ORDER BY id';
my $queries = 'SELECT v FROM test ORDER BY id';

sub eval_codec
{
	my ($codec, $metric, $b, $q, $rerank) = @_;
	my @r = split /\|/, query(qq{SELECT * FROM quant_eval('$codec', '$metric', '$b', '$q', 10, $rerank)});
	note sprintf('%s %s rerank %d: recall %.4f mean err %.2e p99 err %.2e signed %.3g abs %.3g in bound %s / %s',
		$codec, $metric, $rerank, @r[ 0 .. 4 ], $r[5] // '-', $r[6] // '-');
	return @r;
}

($in, $out) = split /\|/, query(qq{SELECT * FROM quant_sq8_roundtrip('SELECT v FROM train WHERE id <= 1000', '$queries')});
cmp_ok($in, '<=', 1.0001, "fmnist: sq8 in-range error <= step / 2 ($in)");
cmp_ok($out, '<=', 1.0001, "fmnist: sq8 out-of-range error <= step / 2 from the clamp ($out)");
for my $metric (qw(l2 ip cosine l1))
{
	my ($recall, $mean, $p99) = eval_codec('sq8', $metric, $base, $queries, 2);
	cmp_ok($recall, '>=', 0.99, "fmnist sq8 $metric: recall\@10 of top-20 re-ranked $recall >= 0.99");
	cmp_ok($mean, '<=', 1e-3, "fmnist sq8 $metric: mean relative distance error $mean <= 1e-3");
	cmp_ok($p99, '<=', 1e-2, "fmnist sq8 $metric: 99th percentile relative error $p99 <= 1e-2");
}
{
	my ($recall, $mean, $p99, $signed, $abs, $inb, $inb3) = eval_codec('rabitq', 'l2', $base, $queries, 10);
	cmp_ok($recall, '>=', 0.99, "fmnist rabitq l2: recall\@10 of top-100 re-ranked $recall >= 0.99");
	cmp_ok($inb, '>=', 0.92, "fmnist rabitq l2: share inside the eps0 = 1.9 bound $inb >= 0.92");
	cmp_ok($inb3, '>=', 0.99, "fmnist rabitq l2: share inside the eps0 = 3 bound $inb3 >= 0.99");
	my ($bias, $se, $babs) = split /\|/, query(q{SELECT * FROM quant_rabitq_bias('l2',
		'SELECT v FROM train WHERE id <= 300', 'SELECT v FROM test WHERE id <= 20', 60)});
	note "fmnist rabitq l2 over 60 rotations: mean error $bias, standard error $se, mean |error| $babs";
	cmp_ok(abs($bias), '<=', 4 * $se, 'fmnist rabitq l2: mean error within 4 standard errors of 0');
	cmp_ok($se, '<=', 0.2 * $babs, 'fmnist rabitq l2: the bias test is sharp (standard error < 0.2 mean |error|)');
	# two stored codes (rabitq_prepare_code, as an hnsw insert compares
	# elements; the angle from the two codes' bits): the query's code errs
	# too, about as much again, and no more biased
	my ($cbias, $cse, $cabs) = split /\|/, query(q{SELECT * FROM quant_rabitq_bias('l2',
		'SELECT v FROM train WHERE id <= 300', 'SELECT v FROM test WHERE id <= 20', 60, true)});
	note "fmnist rabitq l2 between two codes over 60 rotations: mean error $cbias, standard error $cse, mean |error| $cabs";
	cmp_ok($cabs, '<=', 2 * $babs, "fmnist rabitq l2 between two codes: mean |error| $cabs <= 2 x a query's ($babs)");
	cmp_ok(abs($cbias), '<=', 4 * $cse, 'fmnist rabitq l2 between two codes: mean error within 4 standard errors of 0');
	cmp_ok(abs($cbias), '<=', 0.1 * $cabs, 'fmnist rabitq l2 between two codes: mean error under 0.1 mean |error|');
}

# --- CNN-256 embeddings --------------------------------------------------
SKIP:
{
	skip 'no fashion-mnist-cnn model in the data directory', 20 unless $models;
	create_cnn_model($node, 'fmnist_embed');
	query(q{CREATE TABLE etrain AS SELECT id, vsim.embed('fmnist_embed', v::real[]) AS v FROM train;
		CREATE TABLE etest AS SELECT id, vsim.embed('fmnist_embed', v::real[]) AS v FROM test});
	my $ebase = 'SELECT v FROM etrain ORDER BY id';
	my $equeries = 'SELECT v FROM etest ORDER BY id';
	($in, $out) = split /\|/, query(qq{SELECT * FROM quant_sq8_roundtrip('SELECT v FROM etrain WHERE id <= 1000', '$equeries')});
	cmp_ok($in, '<=', 1.0001, "cnn256: sq8 in-range error <= step / 2 ($in)");
	cmp_ok($in, '>', 0.5, "cnn256: sq8 error is real, not lossless ($in)");
	cmp_ok($out, '<=', 1.0001, "cnn256: sq8 out-of-range error <= step / 2 from the clamp ($out)");
	for my $metric (qw(l2 cosine ip))
	{
		my ($recall, $mean, $p99) = eval_codec('sq8', $metric, $ebase, $equeries, 2);
		cmp_ok($recall, '>=', 0.99, "cnn256 sq8 $metric: recall\@10 of top-20 re-ranked $recall >= 0.99");
		cmp_ok($mean, '<=', 2e-3, "cnn256 sq8 $metric: mean relative distance error $mean <= 2e-3");
		cmp_ok($p99, '<=', 1e-2, "cnn256 sq8 $metric: 99th percentile relative error $p99 <= 1e-2");
	}
	for my $metric (qw(l2 cosine))
	{
		my ($recall, $mean, $p99, $signed, $abs, $inb, $inb3) = eval_codec('rabitq', $metric, $ebase, $equeries, 10);
		cmp_ok($inb, '>=', 0.92, "cnn256 rabitq $metric: share inside the eps0 = 1.9 bound $inb >= 0.92");
		cmp_ok($inb3, '>=', 0.99, "cnn256 rabitq $metric: share inside the eps0 = 3 bound $inb3 >= 0.99");
		my ($bias, $se, $babs) = split /\|/, query(qq{SELECT * FROM quant_rabitq_bias('$metric',
			'SELECT v FROM etrain WHERE id <= 300', 'SELECT v FROM etest WHERE id <= 20', 60)});
		note "cnn256 rabitq $metric over 60 rotations: mean error $bias, standard error $se, mean |error| $babs";
		cmp_ok(abs($bias), '<=', 4 * $se, "cnn256 rabitq $metric: mean error within 4 standard errors of 0");
	}
	my ($recall) = eval_codec('rabitq', 'l2', $ebase, $equeries, 10);
	cmp_ok($recall, '>=', 0.98, "cnn256 rabitq l2: recall\@10 of top-100 re-ranked $recall >= 0.98");
	# the quantized forms and the exact ones order alike: sq8 at depth 1 is already close
	my ($r1) = eval_codec('sq8', 'l2', $ebase, $equeries, 1);
	cmp_ok($r1, '>=', 0.98, "cnn256 sq8 l2: recall\@10 without re-ranking $r1 >= 0.98");
}

done_testing();
