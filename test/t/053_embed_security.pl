# test/t/053_embed_security.pl: model files vsim must refuse.
#
# vsim hands ONNX Runtime a model's bytes, so ONNX Runtime would resolve
# the locations of external tensor data against the server's working
# directory, the data directory, and a model could return the bytes of
# the server's files through its outputs.  Covers:
# - models with external data (onnx's own save_as_external_data, and
#   hand-made ones naming PG_VERSION or postgresql.conf, with the tensor in
#   an initializer, a Constant node, an If's subgraph, a model-local
#   function, a sparse initializer, or only flagged EXTERNAL): refused at
#   registration (0A000) and at load, and nothing of the files comes back;
# - malformed files (truncated, random bytes, a truncated varint, a length
#   past the end, messages nested deeper than 100): a clean 22023 saying
#   what is wrong, no crash;
# - a valid model whose bytes 4-7 read "ORTM" (ONNX Runtime's mark of its
#   own format) is still read as ONNX, the format vsim checks.
# Models: test/embed/models.py.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{VSIM_ROOT}/test/lib";
use VsimTest;
use Digest::SHA qw(sha256_hex);

my ($node, $models) = embed_test_node('embed_security');

sub query { return $node->safe_psql('embed', $_[0]); }

# Run $sql; return (stdout, "SQLSTATE: message", detail) of its error, or
# (stdout, '', '') when it succeeded.
sub sql_error
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('embed', "\\set VERBOSITY verbose\n$sql");
	return ($out, '', '') if $ret == 0;
	my ($first) = $err =~ /ERROR:\s+(\S+: [^\n]*)/;
	my ($detail) = $err =~ /DETAIL:\s+([^\n]*)/;
	return ($out, $first // $err, $detail // '');
}

sub write_file
{
	my ($name, $bytes) = @_;
	open(my $fh, '>:raw', "$models/$name") or die;
	print $fh $bytes;
	close $fh;
}

# --- external data: refused at registration ----------------------------------
my $datadir = $node->data_dir;
ok(-f "$datadir/PG_VERSION" && -f "$datadir/postgresql.conf",
	'the files the models name exist in the working directory');
# file => [detail, input elements, output]
my %external = (
	'external.onnx' => [ qr/^Tensor "W1" names "external\.data" as the location of its data\.$/, 6, 'embedding' ],
	'leak_version.onnx' => [ qr/^Tensor "secret" names "PG_VERSION" as the location of its data\.$/, 3, 'y' ],
	'leak_conf.onnx' => [ qr/^Tensor "secret" names "postgresql\.conf" as the location of its data\.$/, 40, 'y' ],
	'leak_subgraph.onnx' => [ qr/^Tensor "secret" names "PG_VERSION"/, 3, 'y' ],
	'leak_function.onnx' => [ qr/^Tensor "secret" names "PG_VERSION"/, 3, 'y' ],
	'leak_sparse.onnx' => [ qr/^Tensor "secret" names "PG_VERSION"/, 3, 'y' ],
	'leak_flag.onnx' => [ qr/^Tensor "secret" is marked as keeping its data outside the model file\.$/, 3, 'y' ],
);
for my $file (sort keys %external)
{
	my ($detail_re, $n, $output) = @{ $external{$file} };
	(my $name = $file) =~ s/\.onnx$//;
	my (undef, $error, $detail) = sql_error("SELECT vsim.create_model('$name', '$file')");
	like($error, qr/^0A000: model file "\Q$file\E" uses external data$/, "$file is refused at registration");
	like($detail, $detail_re, '... naming the tensor and its location');
	my ($out, $use_error) = sql_error("SELECT vsim.embed_output('$name', array_fill(0::real, ARRAY[$n]), '$output')");
	is($out . $use_error, qq(42704: model "$name" does not exist), '... and nothing of the file comes back');
}
my ($ret, $out, $err) = $node->psql('embed', "SELECT vsim.create_model('leak', 'leak_conf.onnx')");
like($err, qr/HINT:  Save the model as a single file/, 'the hint says how to fix the model');
is(query("SELECT count(*) FROM vsim.models"), '0', 'no refused model is registered');

# --- external data: refused at load --------------------------------------------
# A registry row written before vsim refused external data, whose file and
# checksum still match: loading the model must refuse it too.
query("SELECT vsim.create_model('old', 'mlp.onnx', options => '{\"output\": \"embedding\"}')");
open(my $fh, '<:raw', "$models/leak_version.onnx") or die;
my $sha = sha256_hex(do { local $/; <$fh> });
close $fh;
query("UPDATE vsim.model_registry SET model_path = '$models/leak_version.onnx', "
	  . "model_sha256 = '$sha', output_name = 'y', input_shape = '{1,3}' WHERE name = 'old'");
my ($error, $detail);
($out, $error, $detail) = sql_error("SELECT vsim.embed_output('old', '{0,0,0}'::real[], 'y')");
like($error, qr/^0A000: model file ".*leak_version\.onnx" uses external data$/, 'a model with external data is refused at load');
like($detail, qr/names "PG_VERSION"/, '... naming the location');
is($out, '', '... and nothing comes back');

# --- malformed files -----------------------------------------------------------
write_file('varint.onnx', "\x08\x80");         # ir_version: a varint cut short
write_file('past_end.onnx', "\x3a\x05ab");     # graph: 5 bytes announced, 2 there
write_file('group.onnx', "\x0b\x0c");          # a group (wire type 3)
write_file('long_varint.onnx', "\x08" . ("\xff" x 10) . "\x01");
my %malformed = (
	'truncated.onnx' => 'field runs past the end of its message at byte \d+',
	'corrupt.onnx' => '(unsupported wire type|invalid field key|field runs past the end of its message|truncated varint) at byte \d+',
	'deep.onnx' => 'messages nested deeper than 100 at byte \d+',
	'varint.onnx' => 'truncated varint at byte 1',
	'past_end.onnx' => 'field runs past the end of its message at byte 0',
	'group.onnx' => 'unsupported wire type at byte 0',
	'long_varint.onnx' => 'varint longer than 64 bits at byte 1',
);
for my $file (sort keys %malformed)
{
	my ($out, $error, $detail) = sql_error("SELECT vsim.create_model('bad', '$file')");
	like($error, qr/^22023: could not load ONNX model from file "\Q$file\E"$/, "malformed $file: 22023");
	like($detail, qr/^The file is not a valid ONNX protobuf message: $malformed{$file}\.$/, '... saying what is wrong');
}
is(query('SELECT 1'), '1', 'the server is up after the malformed files');

# --- the format ONNX Runtime reads is the one checked --------------------------
is(query("SELECT vsim.create_model('ortm', 'ortm.onnx', options => '{\"output\": \"embedding\"}')"), '4',
	'a model with "ORTM" at byte 4 is read as ONNX, not as ORT format');
query("SELECT vsim.create_model('mlp', 'mlp.onnx', options => '{\"output\": \"embedding\"}')");
is(query("SELECT vsim.embed('ortm', '{1,2,3,4,5,6}'::real[]) = vsim.embed('mlp', '{1,2,3,4,5,6}'::real[])"),
	't', '... and computes what mlp.onnx computes');

my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|server process .* was terminated/, 'no backend crashed');
$node->stop;
done_testing();
