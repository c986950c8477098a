# test/t/050_embed_runtime.pl: vsim.embed inside the server.
#
# Models are generated here with python3-onnx (test/embed/models.py).
# Covers: the ONNX Runtime library missing or too old; the registry's
# privileges and options (its paths: 054_embed_paths.pl); every error of
# registration and inference; a model file changed on disk; session
# invalidation across backends; query cancel, statement_timeout and
# pg_terminate_backend during inference; several backends embedding at once.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{VSIM_ROOT}/test/lib";
use VsimTest;
use File::Copy qw(copy);
use Time::HiRes qw(time);

my ($node, $models) = embed_test_node('embed_runtime');

# Run $sql; return "SQLSTATE: message" of its error, or '' when it succeeded.
sub sql_error
{
	my ($sql, $db) = @_;
	my ($ret, $out, $err) = $node->psql($db // 'embed', "\\set VERBOSITY verbose\n$sql");
	return '' if $ret == 0;
	my ($first) = $err =~ /(?:ERROR|FATAL):\s+(\S+: [^\n]*)/;
	return $first // $err;
}

sub query { return $node->safe_psql('embed', $_[0]); }

# --- the runtime ---------------------------------------------------------------
is(query('SELECT vsim.onnxruntime_version()'), '1.30.0', 'ONNX Runtime 1.30.0 loads from $libdir/vsim');

like(sql_error("SET vsim.onnxruntime_library = '$models/none/libonnxruntime.so.1'; SELECT vsim.onnxruntime_version()"),
	qr/^58P01: could not load ONNX Runtime library/, 'missing runtime: 58P01');
my ($ret, $out, $err) = $node->psql('embed',
	"SET vsim.onnxruntime_library = '$models/none.so'; SELECT vsim.embed('x', 'y')");
like($err, qr/does not exist/, 'an unknown model fails before loading the runtime');
($ret, $out, $err) = $node->psql('embed',
	"SET vsim.onnxruntime_library = '$models/none.so'; SELECT vsim.onnxruntime_version()");
like($err, qr/HINT:  Run vsim's scripts\/setup.sh/, 'missing runtime: the hint says how to install it');

# A library that answers like ONNX Runtime 1.10 (API version 10 only).
open(my $fh, '>', "$models/old_ort.c") or die;
print $fh <<'EOC';
struct base { const void *(*get_api)(unsigned v); const char *(*version)(void); };
static const void *get_api(unsigned v) { return 0; }
static const char *version(void) { return "1.10.0"; }
static const struct base b = { get_api, version };
const struct base *OrtGetApiBase(void) { return &b; }
EOC
close $fh;
system_or_bail('cc', '-shared', '-fPIC', '-o', "$models/old_ort.so", "$models/old_ort.c");
is(sql_error("SET vsim.onnxruntime_library = '$models/old_ort.so'; SELECT vsim.onnxruntime_version()"),
	qq(55000: ONNX Runtime library "$models/old_ort.so" is too old),
	'a runtime older than API version 15 is refused');
like(sql_error("SET vsim.onnxruntime_library = '/usr/lib/postgresql/15/lib/plpgsql.so'; SELECT vsim.onnxruntime_version()"),
	qr/^55000: .* is not an ONNX Runtime library/, 'a library without OrtGetApiBase is refused');
# (vsim's library must be loaded first, or SET only makes a placeholder)
like(sql_error("SELECT '[1]'::vector; SET ROLE pg_monitor; SET vsim.onnxruntime_library = '/tmp/x.so'"),
	qr/^42501: permission denied to set parameter/, 'vsim.onnxruntime_library is superuser-only');

# --- registry: privileges and paths -------------------------------------------
query("CREATE ROLE embed_user LOGIN; CREATE ROLE model_admin LOGIN");
like(sql_error("SET ROLE embed_user; SELECT vsim.create_model('m', 'mlp.onnx')"),
	qr/^42501: permission denied for function create_model/, 'ordinary roles cannot register models');
like(sql_error("SET ROLE embed_user; SELECT vsim.drop_model('m')"),
	qr/^42501: permission denied for function drop_model/, 'ordinary roles cannot drop models');
like(sql_error("SELECT '[1]'::vector; SET ROLE embed_user; SET vsim.model_directory = '/'"),
	qr/^42501: permission denied to set parameter/, 'vsim.model_directory is superuser-only');
# (where files may come from: test/t/054_embed_paths.pl)
copy("$models/mlp.onnx", "$models/unreadable.onnx") or die;
chmod 0000, "$models/unreadable.onnx";
like(sql_error("SELECT vsim.create_model('m', 'unreadable.onnx')"),
	qr/^42501: could not open file ".*unreadable.onnx": Permission denied/, 'unreadable model file');
like(sql_error("SET vsim.model_directory = ''; SELECT vsim.create_model('m', 'mlp.onnx')"),
	qr/^55000: vsim.model_directory is not set/, 'no model directory, no registration');

# A role the administrator grants may register; files still only from the directory.
query("GRANT EXECUTE ON FUNCTION vsim.create_model(text, text, text, jsonb, boolean), "
	. "vsim.drop_model(text, boolean) TO model_admin");
is($node->safe_psql('embed', "SET ROLE model_admin; SELECT vsim.create_model('mlp', 'mlp.onnx', options => '{\"output\": \"embedding\"}')"),
	'4', 'a granted role registers a model; its dimensions are detected');
like(sql_error("SET ROLE model_admin; SELECT vsim.create_model('m', '/etc/hostname')"),
	qr/^58P01: model file "\/etc\/hostname" was not found in vsim.model_directory/,
	'a granted role is still confined to the directory');
is(query("SET ROLE embed_user; SELECT name, input_kind, dimensions, pooling, normalize, input_shape, registered_by FROM vsim.models"),
	'mlp|tensor|4|none|f|{1,2,3}|postgres', 'vsim.models is readable by everybody');
is(query("SET ROLE embed_user; SELECT vsim.embed('mlp', '{1,2,3,4,5,6}'::real[]) IS NOT NULL"),
	't', 'vsim.embed needs only EXECUTE');
like(sql_error("SET ROLE embed_user; SELECT * FROM vsim.model_registry"),
	qr/^42501: permission denied for table model_registry/, 'the registry table itself is not writable or readable');

# --- registration errors ------------------------------------------------------
# Tokenizer files that are not WordPiece tokenizers.
open($fh, '>', "$models/broken.json") or die;
print $fh '{"model": {"type": "WordPiece", "vocab": {"[CLS]": 0,';
close $fh;
open($fh, '>', "$models/bpe.json") or die;
print $fh '{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}';
close $fh;
# A WordPiece tokenizer.json (the tiny vocabulary) declaring a truncation
# length too short for [CLS] and [SEP].
open($fh, '<', "$models/vocab.txt") or die;
chomp(my @vocab = <$fh>);
close $fh;
open($fh, '>', "$models/trunc1.json") or die;
print $fh '{"truncation": {"max_length": 1}, "model": {"type": "WordPiece", "vocab": {'
  . join(', ', map { my $t = $vocab[$_]; $t =~ s/([\\"])/\\$1/g; qq("$t": $_) } 0 .. $#vocab)
  . '}}}';
close $fh;

my %bad = (
	q{vsim.create_model('b', 'tiny_bert.onnx', 'broken.json')} => qr/^22P02: could not parse tokenizer file ".*broken.json"/,
	q{vsim.create_model('b', 'tiny_bert.onnx', 'bpe.json')} => qr/^0A000: tokenizer file ".*bpe.json" is not a WordPiece tokenizer/,
	q{vsim.create_model('mlp', 'mlp.onnx')} => qr/^42710: model "mlp" already exists/,
	q{vsim.create_model('b', 'corrupt.onnx')} => qr/^22023: could not load ONNX model from file ".*corrupt.onnx"/,
	q{vsim.create_model('b', 'mlp.onnx', options => '{"output": "nope"}')} => qr/^22023: model "b" has no output named "nope"/,
	q{vsim.create_model('b', 'mlp.onnx', options => '{"input_name": "nope"}')} => qr/^22023: model "b" has no input named "nope"/,
	q{vsim.create_model('b', 'tiny_bert.onnx', 'vocab.txt', '{"input_ids": "nope"}')} => qr/^22023: model "b" has no input named "nope"/,
	q{vsim.create_model('b', 'tiny_bert.onnx', 'vocab.txt', '{"pooling": "none"}')} => qr/^22000: output "last_hidden_state" of model "b" has shape \[2, \d+, 32\], expected \[2, 32\] \(pooling none\)/,
	q{vsim.create_model('b', 'tiny_bert.onnx', 'vocab.txt', '{"dimensions": 7}')} => qr/^22000: output "last_hidden_state" of model "b" has shape \[2, \d+, 32\], expected \[2, \d+, 7\]/,
	q{vsim.create_model('b', 'tiny_bert.onnx', 'trunc1.json')} => qr/^22023: tokenizer file ".*trunc1.json" declares max_length 1, outside 2 to 8192/,
	q{vsim.create_model('b', 'tiny_bert.onnx', 'missing.txt')} => qr/^58P01: tokenizer file "missing.txt" was not found in vsim.model_directory/,
	q{vsim.create_model('b', 'tiny_bert.onnx', 'mlp.npz')} => qr/^22023: tokenizer file ".*mlp.npz" has no token "\[CLS\]"/,
	q{vsim.create_model('b', 'tiny_bert.onnx')} => qr/^22023: model "b" has 3 inputs/,
	q{vsim.create_model('b', 'tiny_bert.onnx', 'vocab.txt', '{"token_type_ids": ""}')} => qr/^22023: model "b" has inputs vsim would not feed/,
	q{vsim.create_model('b', 'mlp.onnx', 'vocab.txt', '{"input": "tensor"}')} => qr/^22023: tensor model "b" takes no tokenizer/,
	q{vsim.create_model('b', 'mlp.onnx', options => '{"pooling": "avg"}')} => qr/^22023: invalid pooling "avg"/,
	q{vsim.create_model('b', 'mlp.onnx', options => '{"colour": "red"}')} => qr/^22023: unrecognized model option "colour"/,
	q{vsim.create_model('b', 'mlp.onnx', options => '{"max_length": 1}')} => qr/^22023: option "max_length" must be between 2 and 8192/,
	q{vsim.create_model('b', 'mlp.onnx', options => '{"normalize": "yes"}')} => qr/^22023: option "normalize" must be true or false/,
	q{vsim.create_model('b', 'dyn.onnx')} => qr/^22023: input "x" of model "b" has a dynamic dimension 1/,
	q{vsim.create_model('b', 'dyn.onnx', options => '{"input_shape": [2, 3]}')} => qr/^22000: output "y" of model "b" has shape \[2, 5\], expected \[1, \.\.\.\]/,
	q{vsim.create_model('b', 'mlp.onnx', options => '{"input_shape": [1, 3, 2]}')} => qr/^22023: option input_shape does not fit input "pixels" of model "b"/,
	q{vsim.create_model('b', 'mlp.onnx', options => '{"input_shape": [1, 6]}')} => qr/^22023: option input_shape has 2 dimensions, input "pixels" of model "b" has 3/,
	q{vsim.create_model('b', 'dyn4.onnx', options => '{"input_shape": [65536, 65536, 65536, 65536]}')} => qr/^54000: input "x" of model "b" has more elements than an input array can hold/,
	q{vsim.create_model('b', 'dyn4.onnx', options => '{"input_shape": [1, 2147483647, 2147483647, 1]}')} => qr/^54000: input "x" of model "b" has more elements than an input array can hold/,
	q{vsim.create_model('b', 'no_output.onnx')} => qr/^22023: model "b" has no outputs/,
	q{vsim.create_model('b', 'int_input.onnx')} => qr/^42804: input "x" of model "b" is not a float tensor/,
	q{vsim.create_model('b', 'oom.onnx')} => qr/^53200: out of memory in inference of model "b"/,
	q{vsim.drop_model('nope')} => qr/^42704: model "nope" does not exist/,
);
for my $call (sort keys %bad)
{
	like(sql_error("SELECT $call"), $bad{$call}, "error: $call");
}
is(query("SELECT vsim.drop_model('nope', if_exists => true)"), 'f', 'drop_model if_exists');
is(query("SELECT vsim.create_model('dyn', 'dyn.onnx', options => '{\"input_shape\": [1, 7]}')"),
	'5', 'input_shape completes a dynamic input');
is(query("SELECT vsim.embed('dyn', '{1,1,1,1,1,1,1}'::real[])"), '[7,14,21,28,35]', 'dyn model result');
is(query("SELECT vsim.create_model('dyn4', 'dyn4.onnx', options => '{\"input_shape\": [1, 2, 3, 1]}')"),
	'6', 'input_shape completes an input of four dynamic dimensions');
is(query("SELECT count(*) FROM vsim.models WHERE name = 'b'"), '0', 'failed registrations leave no row');
is(query("SELECT vsim.create_model('trunc', 'tiny_bert.onnx', 'trunc1.json', '{\"max_length\": 4}');"
	  . "SELECT vsim.tokenize('trunc', 'hello world vsim'); SELECT vsim.drop_model('trunc')"),
	"32\n{2,80,81,3}\nt", 'the option max_length overrides the tokenizer file\'s');

# --- inference errors ---------------------------------------------------------
query("SELECT vsim.create_model('bert', 'tiny_bert.onnx', 'vocab.txt')");
my %bad_call = (
	q{vsim.embed('nope', 'text')} => qr/^42704: model "nope" does not exist/,
	q{vsim.embed('nope', '{1}'::real[])} => qr/^42704: model "nope" does not exist/,
	q{vsim.embed('mlp', 'text')} => qr/^42809: model "mlp" takes tensor \(real\[\]\) input/,
	q{vsim.embed('bert', '{1}'::real[])} => qr/^42809: model "bert" takes text input/,
	q{vsim.embed('mlp', '{1,2,3,4,5}'::real[])} => qr/^22023: input has 5 elements; model "mlp" expects 6/,
	q{vsim.embed('mlp', '{1,2,3,4,5,NULL}'::real[])} => qr/^22004: input array must not contain nulls/,
	q{vsim.embed_output('mlp', '{1,2,3,4,5,6}'::real[], 'nope')} => qr/^22023: model "mlp" has no output named "nope"/,
	q{vsim.embed_output('bert', 'hello', 'nope')} => qr/^22023: model "bert" has no output named "nope"/,
	q{vsim.embed('bert', ARRAY[['a'],['b']])} => qr/^2202E: inputs must be a one-dimensional array/,
);
for my $call (sort keys %bad_call)
{
	like(sql_error("SELECT $call"), $bad_call{$call}, "error: $call");
}

# --- a model file changed on disk ---------------------------------------------
copy("$models/mlp.onnx", "$models/victim.onnx") or die;
query("SELECT vsim.create_model('victim', 'victim.onnx', options => '{\"output\": \"embedding\"}')");
my $before = query("SELECT vsim.embed('victim', '{1,2,3,4,5,6}'::real[])");
my $bg = $node->background_psql('embed', on_error_stop => 0);
is($bg->query_safe("SELECT vsim.embed('victim', '{1,2,3,4,5,6}'::real[])"), $before,
	'a second backend loads the same model');
sleep 1;    # a new modification time even on coarse file systems
copy("$models/mlp_changed.onnx", "$models/victim.onnx") or die;
like(sql_error("SELECT vsim.embed('victim', '{1,2,3,4,5,6}'::real[])"),
	qr/^XX001: file ".*victim.onnx" of model "victim" has changed since the model was registered/,
	'a changed model file is detected by a new backend');
my ($o, $failed) = $bg->query("SELECT vsim.embed('victim', '{1,2,3,4,5,6}'::real[])");
like($bg->{stderr}, qr/has changed since the model was registered/,
	'... and by a backend that had the model cached');
$bg->{stderr} = '';
query("SELECT vsim.create_model('victim', 'victim.onnx', options => '{\"output\": \"embedding\"}', replace => true)");
my $after = query("SELECT vsim.embed('victim', '{1,2,3,4,5,6}'::real[])");
isnt($after, $before, 're-registration accepts the new file');
is($bg->query_safe("SELECT vsim.embed('victim', '{1,2,3,4,5,6}'::real[])"), $after,
	'... and the other backend uses it');

# A text model whose file changed fails to load after its tokenizer did;
# re-registered under the same name as a tensor model, it must then load
# once and stay cached like any other (its file made unreadable after the
# first call shows a reload).
copy("$models/tiny_bert.onnx", "$models/kind.onnx") or die;
copy("$models/mlp.onnx", "$models/kind2.onnx") or die;
query("SELECT vsim.create_model('kind', 'kind.onnx', 'vocab.txt')");
is($bg->query_safe("SELECT vsim.embed('kind', 'hello') IS NOT NULL"), 't', 'a text model loads');
sleep 1;
copy("$models/mlp.onnx", "$models/kind.onnx") or die;
$bg->query("SELECT vsim.embed('kind', 'hello')");
like($bg->{stderr}, qr/has changed since the model was registered/, '... and fails to load once its file changed');
$bg->{stderr} = '';
query("SELECT vsim.create_model('kind', 'kind2.onnx', options => '{\"output\": \"embedding\"}', replace => true)");
my $kind = $bg->query_safe("SELECT vsim.embed('kind', '{1,2,3,4,5,6}'::real[])");
chmod(0, "$models/kind2.onnx") or die;
my $again = $bg->query("SELECT vsim.embed('kind', '{1,2,3,4,5,6}'::real[])");
chmod(0644, "$models/kind2.onnx") or die;
is($again, $kind, 'the same name registered again as a tensor model stays loaded after a failed load');
is($bg->{stderr}, '', '... without reading its file again');
$bg->{stderr} = '';

# --- invalidation across backends ---------------------------------------------
query("SELECT vsim.create_model('swap', 'mlp.onnx', options => '{\"output\": \"embedding\"}')");
my $emb = $bg->query_safe("SELECT vsim.embed('swap', '{1,2,3,4,5,6}'::real[])");
query("SELECT vsim.create_model('swap', 'mlp.onnx', options => '{\"output\": \"scores\"}', replace => true)");
my $scores = $bg->query_safe("SELECT vsim.embed('swap', '{1,2,3,4,5,6}'::real[])");
is(scalar(split(/,/, $emb)) . ' ' . scalar(split(/,/, $scores)), '4 3',
	'a cached session is replaced when the model is registered again elsewhere');
query("SELECT vsim.drop_model('swap')");
$bg->query("SELECT vsim.embed('swap', '{1,2,3,4,5,6}'::real[])");
like($bg->{stderr}, qr/model "swap" does not exist/, 'a dropped model is gone for a backend that had it cached');
$bg->{stderr} = '';
$bg->quit;

# The extension dropped and created again: the registry's ids start over, so
# a model registered anew under a cached name may get the cached model's id.
$node->safe_psql('postgres', 'CREATE DATABASE reext');
$node->safe_psql('reext', 'CREATE EXTENSION vsim');
my $reext = $node->background_psql('reext', on_error_stop => 0);
$node->safe_psql('reext', "SELECT vsim.create_model('re', 'mlp.onnx', options => '{\"output\": \"embedding\"}')");
is($reext->query_safe("SELECT vector_dims(vsim.embed('re', '{1,2,3,4,5,6}'::real[]))"), '4',
	'a backend caches a model');
$node->safe_psql('reext', 'DROP EXTENSION vsim; CREATE EXTENSION vsim');
$node->safe_psql('reext', "SELECT vsim.create_model('re', 'mlp.onnx', options => '{\"output\": \"scores\"}')");
is($node->safe_psql('reext', "SELECT id FROM vsim.models WHERE name = 're'"), '1',
	'... the model registered again in a new registry gets the same id');
is($reext->query_safe("SELECT vector_dims(vsim.embed('re', '{1,2,3,4,5,6}'::real[]))"), '3',
	'... and the backend that had the old one cached uses the new one');
$reext->quit;

# --- cancel, statement_timeout, terminate ------------------------------------
query("SELECT vsim.create_model('slow', 'slow.onnx')");
# The slow model runs max(x) iterations of a 512 x 512 product: 10 finish
# at once; 3,000,000 would take hours, so any of those calls that ends
# was interrupted.  The bounds below are generous on purpose: they tell
# "stopped by the interrupt" from "ran to the end", they do not time it.
my $slow_call = "SELECT vector_dims(vsim.embed('slow', array_fill(10::real, ARRAY[512])))";
is(query($slow_call), '512', 'the slow model runs to completion');
$slow_call = "SELECT vector_dims(vsim.embed('slow', array_fill(3000000::real, ARRAY[512])))";
my $stop_bound = 30;

my $t0 = time;
is(sql_error("SET statement_timeout = '200ms'; $slow_call"),
	'57014: canceling statement due to statement timeout', 'statement_timeout stops inference');
my $stopped = time - $t0;
cmp_ok($stopped, '<', $stop_bound, sprintf('... during the run (after %.0f ms)', 1000 * $stopped));

# Start the slow call in the background, wait until it runs, then act on it.
sub slow_in_background
{
	my ($action) = @_;
	my $h = $node->background_psql('embed', on_error_stop => 0);
	$h->{stdin} .= "$slow_call;\n";
	$h->{run}->pump_nb;
	$node->poll_query_until('embed',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE '%vsim.embed(''slow''%' "
		  . "AND state = 'active' AND pid <> pg_backend_pid()")
	  or die 'the slow query did not start';
	Time::HiRes::sleep(0.3);
	my $t = time;
	query("SELECT $action(pid) FROM pg_stat_activity WHERE query LIKE '%vsim.embed(''slow''%' "
		  . "AND pid <> pg_backend_pid()");
	$node->poll_query_until('embed',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE query LIKE '%vsim.embed(''slow''%' "
		  . "AND state = 'active' AND pid <> pg_backend_pid()")
	  or die 'the slow query did not stop';
	my $elapsed = time - $t;
	$h->{run}->pump_nb;
	return ($h, $elapsed);
}

my ($h, $elapsed) = slow_in_background('pg_cancel_backend');
cmp_ok($elapsed, '<', $stop_bound, sprintf('pg_cancel_backend stops inference (%.0f ms)', 1000 * $elapsed));
$h->{run}->pump until $h->{stderr} =~ /canceling statement due to user request/ || $h->{timeout}->is_expired;
like($h->{stderr}, qr/canceling statement due to user request/, '... with the usual message');
$h->{stderr} = '';
is($h->query_safe("SELECT vsim.embed('mlp', '{1,2,3,4,5,6}'::real[]) IS NOT NULL"), 't',
	'the cancelled backend goes on embedding');
$h->quit;

($h, $elapsed) = slow_in_background('pg_terminate_backend');
cmp_ok($elapsed, '<', $stop_bound, sprintf('pg_terminate_backend stops inference (%.0f ms)', 1000 * $elapsed));
eval { $h->quit; };
is(query('SELECT 1'), '1', 'the server is up after terminating a backend during inference');
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|was terminated by exception|all server processes terminated/,
	'no backend crashed');
like($log, qr/LOG:  onnxruntime: .*Expand/, "ONNX Runtime's log lines reach the server log through ereport");
unlike($log, qr/\[[VIWEF]:onnxruntime:/, "... and none bypass it (ONNX Runtime's own format)");

# --- several backends at once -------------------------------------------------
query(q{CREATE TABLE docs AS
	SELECT i AS id, repeat('the cat sat on the mat ', 1 + i % 7) || ' dog ' || i AS t
	FROM generate_series(1, 300) i});
query(q{CREATE TABLE ref AS SELECT id, vsim.embed('bert', t)::text AS v FROM docs});
my @workers;
for my $w (1 .. 4)
{
	my $threads = $w % 2 ? 1 : 2;
	push @workers, $node->background_psql('embed');
	$workers[-1]->{stdin} .= "SET vsim.intra_op_threads = $threads;\n"
	  . "SELECT count(*) FILTER (WHERE vsim.embed('bert', d.t)::text = r.v) "
	  . "FROM docs d JOIN ref r USING (id);\n";
	$workers[-1]->{run}->pump_nb;
}
for my $w (@workers)
{
	is($w->query_safe('SELECT 1'), "300\n1", 'concurrent backend: all 300 vectors identical to the serial run');
	$w->quit;
}

# --- threads: ORT's and the watchdog never get PostgreSQL's signals ----------
# Every thread but the backend's own must block SIGINT, SIGUSR1, SIGALRM and
# SIGTERM (bits 1, 9, 13, 14 of /proc's SigBlk mask: 25090); the backend's
# own thread must not.
my $threads = query(q{SET vsim.intra_op_threads = 2;
	SELECT vsim.embed('bert', 'threads') IS NOT NULL;
	SELECT count(*) FILTER (WHERE NOT main),
		   count(*) FILTER (WHERE NOT main AND blocked & 25090 = 25090),
		   count(*) FILTER (WHERE main AND blocked & 25090 = 0)
	FROM (SELECT t::int = pg_backend_pid() AS main,
				 ('x' || lpad((regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/task/' || t || '/status'),
										  'SigBlk:\s+([0-9a-f]+)'))[1], 16, '0'))::bit(64)::bigint AS blocked
		  FROM pg_ls_dir('/proc/' || pg_backend_pid() || '/task') t) s});
my ($n_other, $n_blocked, $main_ok) = (split /\n/, $threads)[1] =~ /(\d+)\|(\d+)\|(\d+)/;
# How many threads ONNX Runtime keeps is its own business (usually 2 here:
# the environment's and one intra-op worker, but a fresh-clone CI run once
# showed 1); the watchdog plus at least one of ORT's must exist for the
# mask checks below to mean anything.
cmp_ok($n_other, '>=', 2, "ONNX Runtime and the watchdog run $n_other threads (2 intra-op threads)");
is($n_blocked, $n_other, '... all with the asynchronous signals blocked');
is($main_ok, '1', "... while the backend's own thread still takes them");

$node->stop;
done_testing();
