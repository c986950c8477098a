# test/t/056_embed_memory.pl: the native memory of inference is bounded.
#
# ONNX Runtime's memory is outside PostgreSQL's accounting and grows with
# the batch size and the square of the sequence length, which callers
# choose.  Covers, with the tiny encoder of test/embed/models.py:
# - vsim.inference_memory_limit: superuser-only, default 1GB;
# - a batch whose texts each exceed the limit fails at once with 54000,
#   before the backend grows (its peak resident size is measured);
# - a batch estimated at exactly the limit runs as one inference; one kB
#   less and it is split into runs within the limit, with the same vectors;
# - after a large call the backend's resident size is back near where it
#   was (ONNX Runtime's arena no longer keeps the run's memory).
# Resident sizes come from /proc/<backend pid>/status; writing 5 to
# /proc/<pid>/clear_refs resets the peak (VmHWM).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{VSIM_ROOT}/test/lib";
use VsimTest;

my ($node, $models) = embed_test_node('embed_memory');

sub query { return $node->safe_psql('embed', $_[0]); }

# Run $sql in one session (vsim loaded: its settings defined); returns
# (stdout, stderr).
sub session
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('embed', "\\set VERBOSITY verbose\nLOAD 'vsim';\n$sql",
		on_error_stop => 0);
	return ($out, $err);
}

# The runs a call made, from its DEBUG1 lines: [texts, tokens, kB] each.
sub runs
{
	my ($err) = @_;
	return [ map { [ /(\d+) texts of (\d+) tokens, estimated (\d+) kB/ ] }
		  grep { /inference of model "b": / } split /\n/, $err ];
}

# tiny_bert has 64 positions; 62 tokens a text
query(q{SELECT vsim.create_model('b', 'tiny_bert.onnx', 'vocab.txt', '{"max_length": 64}')});
my $text = q{repeat('the cat sat on the mat ', 10)};
is(query("SELECT cardinality(vsim.tokenize('b', $text))"), '62', 'the test texts have 62 tokens');
my $batch = "SELECT vsim.embed('b', array_fill($text, ARRAY[32]))::text";

# --- the setting ------------------------------------------------------------------
is((session('SHOW vsim.inference_memory_limit'))[0], '1GB', 'the default limit is 1GB');
query('CREATE ROLE embed_user LOGIN');
my (undef, $err) = session("SET ROLE embed_user; SET vsim.inference_memory_limit = '2GB'");
like($err, qr/ERROR:  42501: permission denied to set parameter "vsim.inference_memory_limit"/,
	'only superusers raise the limit');

# --- one batch within the limit, or split -------------------------------------
my ($whole, $debug) = session("SET client_min_messages = debug1; $batch");
my $one = runs($debug);
is(scalar(@$one), 1, 'under the default limit 32 texts run as one inference');
is("$one->[0][0] $one->[0][1]", '32 62', '... of 32 texts of 62 tokens');
my $kb = $one->[0][2];
cmp_ok($kb, '>', 64, "... estimated at $kb kB");

my ($at, $at_debug) = session("SET vsim.inference_memory_limit = '${kb}kB'; SET client_min_messages = debug1; $batch");
is(scalar(@{ runs($at_debug) }), 1, 'a batch estimated at exactly the limit runs as one inference');
is($at, $whole, '... with the same vectors');

my $under = $kb - 1;
my ($split, $split_debug) = session("SET vsim.inference_memory_limit = '${under}kB'; SET client_min_messages = debug1; $batch");
my $runs = runs($split_debug);
cmp_ok(scalar(@$runs), '>', 1, sprintf('one kB less and the batch is split (%d runs)', scalar(@$runs)));
my $texts = 0;
$texts += $_->[0] for @$runs;
is($texts, 32, '... which take all 32 texts');
is(scalar(grep { $_->[2] > $under } @$runs), 0, '... each estimated within the limit');
is($split, $whole, '... and give the same vectors');

my $third = int($kb / 3);
($split, $split_debug) = session("SET vsim.inference_memory_limit = '${third}kB'; SET client_min_messages = debug1; $batch");
$runs = runs($split_debug);
cmp_ok(scalar(@$runs), '>=', 3, sprintf('a third of the estimate as the limit: %d runs', scalar(@$runs)));
is(scalar(grep { $_->[2] > $third } @$runs), 0, '... each within it');
is($split, $whole, '... with the same vectors');

# --- a text too large for the limit: an error, before any work --------------------
# Run vsim.embed on $n of the test texts in batches of 1024 under the limit
# $limit, in a new backend that has the model loaded; returns the growth
# (kB) of its peak resident size during the call, the growth of its
# resident size after it, and the call's errors.
sub memory_of_call
{
	my ($n, $limit) = @_;
	my ($out, $err) = session(qq{SET vsim.embed_batch_size = 1024;
SELECT vsim.embed('b', 'warm up') IS NOT NULL;
CREATE FUNCTION pg_temp.status(field text) RETURNS int LANGUAGE sql AS
  \$\$SELECT (regexp_match(s, field || ':\\s+(\\d+)'))[1]::int
	  FROM pg_read_file('/proc/' || pg_backend_pid() || '/status') s\$\$;
SELECT format('COPY (SELECT 5) TO ''/proc/%s/clear_refs''', pg_backend_pid()) AS reset \\gset
:reset;
SELECT pg_temp.status('VmHWM') AS peak0, pg_temp.status('VmRSS') AS rss0 \\gset
SET vsim.inference_memory_limit = '$limit';
SELECT cardinality(vsim.embed('b', array_fill($text, ARRAY[$n])));
SELECT pg_temp.status('VmHWM') - :peak0, pg_temp.status('VmRSS') - :rss0;});
	my ($peak, $kept) = $out =~ /(-?\d+)\|(-?\d+)\s*$/ or die "no memory figures: $out $err";
	return ($peak, $kept, $err);
}

my ($run_peak) = memory_of_call(2000, '1GB');
cmp_ok($run_peak, '>', 40 * 1024,
	'2,000 texts in batches of 1024 grow the backend by ' . int($run_peak / 1024) . ' MB at the peak');
my $limit = int($kb / 32) - 10;
my ($peak, undef, $big_err) = memory_of_call(2000, "${limit}kB");
like($big_err, qr/ERROR:  54000: inference of model "b" would exceed vsim.inference_memory_limit/,
	"... and fail with 54000 when each is over a limit of $limit kB");
like($big_err, qr/DETAIL:  A text of 62 tokens needs an estimated \d+ kB; the limit is $limit kB\./,
	'... with the estimate and the limit');
like($big_err, qr/HINT:  Raise vsim.inference_memory_limit, or register the model with a lower max_length\./,
	'... and what to change');
cmp_ok($peak, '<', $run_peak / 4,
	'... before any inference: the peak grows by ' . int($peak / 1024) . ' MB (tokenizing)');

for my $call ("vsim.embed('b', $text)", "vsim.embed_output('b', $text, 'last_hidden_state')")
{
	(undef, $err) = session("SET vsim.inference_memory_limit = '${limit}kB'; SELECT $call");
	like($err, qr/ERROR:  54000: inference of model "b" would exceed/, "$call over the limit: 54000");
}

# --- memory after a large call ----------------------------------------------------
# 1024 texts of 62 tokens in one inference: its tensors (a [1024, 62, 32]
# float tensor is 8 MB) take tens of MB at the peak, asserted so that the
# bound below means something.  ONNX Runtime's arena used to keep all of
# that for the life of the backend; shrunk after each large run, with its
# freed regions given back to the system, the backend must keep less than
# a quarter of the peak's growth (about a tenth was measured: the arena's
# first region and ORT's plans for the shapes it has run).
my ($one_peak, $kept) = memory_of_call(1024, '1GB');
cmp_ok($one_peak, '>', 40 * 1024, 'a call of 1024 texts grows the backend by ' . int($one_peak / 1024) . ' MB at the peak');
cmp_ok($kept, '<', $one_peak / 4, '... and keeps ' . int($kept / 1024) . ' MB of it after the call');

$node->stop;
done_testing();
