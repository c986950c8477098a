# test/t/054_embed_paths.pl: where model and tokenizer files may come from,
# and what registering or loading them tells about the file system.
#
# - every refused path (missing, with "..", outside vsim.model_directory,
#   through a symbolic link leading out; at registration or at a later
#   load) gets one error, the same for all: a role granted registration
#   cannot tell a missing file from one outside; only superusers see why;
# - symbolic links inside the directory are followed; the registry keeps,
#   and vsim.models shows, paths relative to the directory;
# - a FIFO, or a directory, at a model or tokenizer path fails at once:
#   the backend never blocks in open().
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{VSIM_ROOT}/test/lib";
use VsimTest;
use File::Basename qw(basename);
use File::Copy qw(copy);
use Fcntl qw(O_WRONLY O_NONBLOCK);
use POSIX qw(mkfifo);
use Time::HiRes qw(time);

my ($node, $models) = embed_test_node('embed_paths');
my $outside = PostgreSQL::Test::Utils::tempdir();    # a sibling of $models
copy("$models/mlp.onnx", "$outside/mlp.onnx") or die;
copy("$models/vocab.txt", "$outside/vocab.txt") or die;

sub query { return $node->safe_psql('embed', $_[0]); }

# The error of $sql run as $role (undef: the superuser), message, detail
# and hint, with the SQLSTATE; '' when it succeeded.
sub error_of
{
	my ($sql, $role) = @_;
	my $set = $role ? "SET ROLE $role;" : '';
	my ($ret, $out, $err) = $node->psql('embed', "\\set VERBOSITY verbose\n$set $sql");
	return '' if $ret == 0;
	$err =~ s/^.*?(?:ERROR|FATAL):\s+//s;
	$err =~ s/\n(?:LOCATION|CONTEXT|STATEMENT):.*//s;
	return $err;
}

query("CREATE ROLE model_admin; CREATE ROLE embed_user; "
	  . "GRANT EXECUTE ON FUNCTION vsim.create_model(text, text, text, jsonb, boolean), "
	  . "vsim.drop_model(text, boolean) TO model_admin");

# --- registration: one error for every refused path ---------------------------
my $out_name = basename($outside);
symlink("$outside/mlp.onnx", "$models/escape.onnx") or die;
symlink("$outside/none.onnx", "$models/dangling.onnx") or die;
symlink($outside, "$models/outdir") or die;
mkdir("$models/sub") or die;
my %refused = (
	'missing.onnx' => 'a missing file',
	"../$out_name/mlp.onnx" => 'an existing file reached through ".."',
	"sub/../mlp.onnx" => 'a file inside reached through ".."',
	"$outside/mlp.onnx" => 'an existing file outside, absolute',
	"$outside/none.onnx" => 'a missing file outside, absolute',
	'escape.onnx' => 'a symbolic link to an existing file outside',
	'dangling.onnx' => 'a symbolic link to a missing file outside',
	'outdir/mlp.onnx' => 'an existing file outside, through a linked directory',
);
my $missing = error_of("SELECT vsim.create_model('m', 'missing.onnx')", 'model_admin');
is($missing,
	qq(58P01: model file "missing.onnx" was not found in vsim.model_directory\n)
	  . qq(HINT:  Paths are relative to vsim.model_directory; ".." and symbolic links leading out of it are not allowed.),
	'a missing model file: 58P01, no detail for a non-superuser');
for my $path (sort keys %refused)
{
	(my $expected = $missing) =~ s/"missing\.onnx"/"$path"/;
	is(error_of("SELECT vsim.create_model('m', '$path')", 'model_admin'), $expected,
		"refused like a missing file: $refused{$path}");
	is(error_of("SELECT vsim.create_model('m', 'tiny_bert.onnx', '$path')", 'model_admin'),
		$expected =~ s/^58P01: model/58P01: tokenizer/r,
		"... also as a tokenizer file");
}
like(error_of("SELECT vsim.create_model('m', 'escape.onnx')"),
	qr/\nDETAIL:  It resolves to "[^"]*\/$out_name\/mlp.onnx", outside "[^"]*"\.\n/,
	'a superuser is told where the link leads');
like(error_of("SELECT vsim.create_model('m', '../$out_name/mlp.onnx')"),
	qr/\nDETAIL:  The path contains "\.\."\.\n/, '... or that the path has ".."');
like(error_of("SELECT vsim.create_model('m', 'missing.onnx')"),
	qr/\nDETAIL:  [^\n]*\/missing.onnx: No such file or directory\n/, '... or that the file is missing');

# --- what the registry keeps and shows ---------------------------------------
symlink("$models/mlp.onnx", "$models/inside.onnx") or die;
query("SET ROLE model_admin; SELECT vsim.create_model('mlp', 'inside.onnx', options => '{\"output\": \"embedding\"}');"
	  . "SELECT vsim.create_model('bert', '$models/tiny_bert.onnx', 'vocab.txt')");
is(query("SET ROLE embed_user; SELECT string_agg(concat_ws(' ', name, model_path, tokenizer_path), ', ' ORDER BY name) FROM vsim.models"),
	'bert tiny_bert.onnx vocab.txt, mlp mlp.onnx',
	'vsim.models shows paths relative to the directory, symbolic links inside it resolved');
is(query("SET ROLE embed_user; SELECT count(*) FROM vsim.models WHERE concat(model_path, tokenizer_path) LIKE '%/%'"),
	'0', '... and no absolute path to a non-superuser');
is(query("SELECT vsim.embed('mlp', '{1,2,3,4,5,6}'::real[]) IS NOT NULL"), 't', 'such a model loads');

# --- a registered file later removed, or moved out of the directory ------------
copy("$models/mlp.onnx", "$models/later.onnx") or die;
copy("$models/vocab.txt", "$models/later.txt") or die;
query("SELECT vsim.create_model('later', 'later.onnx', options => '{\"output\": \"embedding\"}');"
	  . "SELECT vsim.create_model('later_text', 'tiny_bert.onnx', 'later.txt')");
unlink("$models/later.onnx") or die;
symlink("$outside/mlp.onnx", "$models/later.onnx") or die;    # same bytes, outside
(my $expected = $missing) =~ s/"missing\.onnx"/"later.onnx"/;
is(error_of(q{SELECT vsim.embed('later', '{1,2,3,4,5,6}'::real[])}, 'embed_user'), $expected,
	'a registered file replaced by a link leading out is refused at load, like a missing file');
unlink("$models/later.txt") or die;
($expected = $missing) =~ s/^58P01: model file "missing\.onnx"/58P01: tokenizer file "later.txt"/;
is(error_of(q{SELECT vsim.embed('later_text', 'hello')}, 'embed_user'), $expected,
	'a registered tokenizer file removed: the same error');

# --- FIFOs and directories ---------------------------------------------------
mkfifo("$models/pipe.onnx", 0600) or die "mkfifo: $!";
mkfifo("$models/pipe.txt", 0600) or die "mkfifo: $!";
for my $call ("'pipe.onnx'", "'tiny_bert.onnx', 'pipe.txt'")
{
	my ($name) = $call =~ /'(pipe[^']*)'$/;
	my $timed_out = 0;
	my $start = time;
	my ($ret, $out, $err) = $node->psql('embed', "SELECT vsim.create_model('fifo', $call)",
		timeout => 60, timed_out => \$timed_out);
	my $elapsed = time - $start;
	if ($timed_out)
	{
		# a backend stuck in open(): release it (a writer lets open() return)
		if (sysopen(my $w, "$models/$name", O_WRONLY | O_NONBLOCK))
		{
			close($w);
		}
	}
	ok(!$timed_out, "a FIFO as $name does not hang the backend");
	like($err, qr/ERROR:  "$name" is not a regular file/, '... it is refused as not a regular file');
	cmp_ok($elapsed, '<', 30, sprintf('... at once (%.1f s)', $elapsed));
}
like(error_of("SELECT vsim.create_model('dir', 'sub')"), qr/^42809: "sub" is not a regular file/,
	'a directory: 42809');

$node->stop;
done_testing();
