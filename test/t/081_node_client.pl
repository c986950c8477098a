# test/t/081_node_client.pl: vector, halfvec, sparsevec and bit through a real
# client: node-postgres and pgvector-node from npm (test/client/node),
# text and binary wire formats both ways (test/client/node/client.mjs).
# The packages are installed by npm into a temporary directory; the test
# skips only when node or npm is missing or the npm registry is unreachable.
use strict;
use warnings;
use File::Copy;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{VSIM_ROOT}/test/lib";
use VsimTest;

my $src = "$ENV{VSIM_ROOT}/test/client/node";
plan skip_all => 'node or npm is missing' if system('sh', '-c', 'command -v node && command -v npm >/dev/null');
my $dir = PostgreSQL::Test::Utils::tempdir();
$ENV{npm_config_cache} = "$dir/npm-cache";
plan skip_all => 'the npm registry is unreachable'
  if system("npm ping >/dev/null 2>&1") != 0;

copy("$src/$_", "$dir/$_") or die "copy $_: $!" for qw(package.json client.mjs);
my ($out, $err);
ok(IPC::Run::run([ 'npm', 'install', '--no-audit', '--no-fund', '--prefix', $dir ], '>', \$out, '2>', \$err),
	'npm installs pg and pgvector') or diag($err);

my $node = vsim_node('node_client');
local $ENV{PGHOST} = $node->host;
local $ENV{PGPORT} = $node->port;
my $ok = IPC::Run::run([ 'node', "$dir/client.mjs" ], '>', \$out, '2>', \$err);
note $out;
ok($ok, 'client.mjs passes') or diag($err);
like($out, qr/^checks passed: 19$/m, 'all 19 client checks ran');

done_testing();
