# test/t/070_similarity_api.pl: the similarity API example
# (examples/similarity-api) against a real cluster, through its HTTP
# interface only.
#
# The service runs with two uvicorn worker processes on 127.0.0.1, over the
# tiny BERT-like test model (test/embed/models.py), so no shared data is
# needed.  Covers: health; backfill by COPY and its refusals (wrong
# dimensions, bad numbers, a non-empty table); insert, then query finds the
# row at once, also from the other worker; filters; each 4xx case; metrics
# that count requests across both workers and report the index; and
# database errors that reach the client as generic JSON with no SQL text.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{VSIM_ROOT}/test/lib";
use VsimTest;
use HTTP::Tiny;
use JSON::PP;
use Time::HiRes qw(sleep);

my $root = $ENV{VSIM_ROOT};
my ($node, $models) = embed_test_node('simapi');
sub query { return $node->safe_psql('embed', $_[0]); }
is(query(q{SELECT vsim.create_model('bert', 'tiny_bert.onnx', 'vocab.txt')}), '32', 'test model: 32 dimensions');

# --- the service ------------------------------------------------------------------
my $port = PostgreSQL::Test::Cluster::get_free_port();
my $base = "http://127.0.0.1:$port";
my $log = "$PostgreSQL::Test::Utils::tmp_check/simapi_service.log";
my $service = IPC::Run::start(
	[
		'env', 'SIMAPI_MODEL=bert', 'SIMAPI_POOL_SIZE=2', 'SIMAPI_POOL_TIMEOUT=2',
		'SIMAPI_DSN=host=' . $node->host . ' port=' . $node->port . ' dbname=embed',
		'SIMAPI_METRICS_DIR=' . PostgreSQL::Test::Utils::tempdir(),
		'/usr/bin/python3', '-m', 'uvicorn', '--app-dir', "$root/examples/similarity-api",
		'app:app', '--host', '127.0.0.1', '--port', $port, '--workers', '2'
	],
	'>', $log, '2>&1');
END { $service->kill_kill if $service; }

# a new connection per request, so that both workers serve requests
my $http = HTTP::Tiny->new(timeout => 30, keep_alive => 0);
my $json = JSON::PP->new->canonical;

# ($status, $decoded_body, $raw_body) of a request; $body is a Perl value
# sent as JSON, or a string sent as it is.
sub call
{
	my ($method, $path, $body) = @_;
	my %opt = (headers => { 'content-type' => 'application/json' });
	$opt{content} = ref $body ? $json->encode($body) : $body if defined $body;
	my $r = $http->request($method, "$base$path", \%opt);
	my $decoded = eval { $json->decode($r->{content}) };
	return ($r->{status}, $decoded, $r->{content});
}

# both workers up: a run of health checks answered by whichever accepts
my $up = 0;
for (1 .. 300)
{
	my ($status) = call('GET', '/health');
	last if $status == 200 && ++$up == 10;
	sleep 0.1;
}
my ($status, $body) = call('GET', '/health');
is($status, 200, 'GET /health answers 200');
is_deeply($body, { status => 'ok', model => 'bert', dimensions => 32 }, '... with the model and its dimensions');

# Value of the metric line $name (with its labels) in GET /metrics.
sub metric
{
	my ($name) = @_;
	my (undef, undef, $text) = call('GET', '/metrics');
	return $text =~ /^\Q$name\E (\S+)$/m ? $1 : undef;
}

# --- backfill -------------------------------------------------------------------
# 300 rows: random vectors, labels 0..3, and one row holding the model's own
# embedding of a sentence, found first when that sentence is the query.
my $cat = query(q{SELECT vsim.embed('bert', 'the cat sat on the mat')});
srand(20261202);
my @records = map {
	{ id => "r$_", description => "row $_", metadata => { label => $_ % 4 },
	  embedding => [ map { rand() - 0.5 } 1 .. 32 ] }
} 1 .. 299;
push @records, { id => 'cat', description => 'the cat sat on the mat', metadata => { label => 1 },
	embedding => $json->decode($cat) };
my $lines = join("\n", map { $json->encode($_) } @records) . "\n";

my $short = $json->encode({ id => 'x', embedding => [ 1, 2, 3 ] });
($status, $body) = call('POST', '/backfill', "$lines$short\n");
is($status, 400, 'backfill with an embedding of the wrong dimensions: 400');
is($body->{error}, 'line 301: embedding has 3 dimensions, the model gives 32', '... naming the line');
($status, $body) = call('POST', '/backfill', $lines . '{"id": "n", "embedding": [NaN' . (', 1' x 31) . "]}\n");
is($status, 400, 'backfill with NaN: 400');
($status, $body) = call('POST', '/backfill', $lines . '{"id": "b", "embedding": [true' . (', 1' x 31) . "]}\n");
is($status, 400, 'backfill with a boolean for a number: 400');
($status, $body) = call('POST', '/backfill', "$lines\{\"id\": \n");
is_deeply([ $status, $body ], [ 400, { error => 'line 301: malformed JSON' } ], 'backfill with a broken line: 400');
is(query('SELECT count(*) FROM items'), '0', '... and the refused backfills loaded nothing');

($status, $body) = call('POST', '/backfill', $lines);
is_deeply([ $status, $body ], [ 200, { rows => 300 } ], 'backfill of 300 rows');
is(query(q{SELECT count(*) FROM pg_indexes WHERE indexname = 'items_embedding_idx' AND indexdef LIKE '%hnsw%'}),
	'1', '... and the HNSW index is built again');
($status, $body) = call('POST', '/backfill', $lines);
is_deeply([ $status, $body ], [ 409, { error => 'backfill needs an empty table' } ],
	'a second backfill: 409');

# --- query and insert ---------------------------------------------------------
($status, $body) = call('POST', '/query', { description => 'the cat sat on the mat', k => 5 });
is($status, 200, 'POST /query answers 200');
my @r = @{ $body->{results} };
is(scalar @r, 5, '... with k results');
is($r[0]{id}, 'cat', '... the backfilled row with the sentence\'s embedding first');
cmp_ok($r[0]{distance}, '<', 1e-6, '... at distance 0');
is_deeply($r[0]{metadata}, { label => 1 }, '... with its metadata');
is_deeply([ map { $_->{distance} } @r ], [ sort { $a <=> $b } map { $_->{distance} } @r ], '... in distance order');

($status, $body) = call('POST', '/query', { description => 'dogs running', k => 20, filter => { label => 2 } });
is($status, 200, 'query with a filter');
is(scalar(grep { $_->{metadata}{label} == 2 } @{ $body->{results} }), 20,
	'... gives k rows, all passing the filter (iterative scan)');

my $queries_before = metric('simapi_requests_total{endpoint="query",status="2xx"}');
my $inserts_before = metric('simapi_requests_total{endpoint="insert",status="2xx"}');
my $ok = 0;
for my $i (1 .. 20)
{
	my $text = "hello world $i dogs running on the mat " . ('cat ' x $i);
	my ($s, $b) = call('POST', '/insert', { id => "new$i", description => $text, metadata => { label => 7 } });
	next unless $s == 200 && $b->{id} eq "new$i";
	# the next request may go to the other worker: the row is committed and indexed
	($s, $b) = call('POST', '/query', { description => $text, k => 1 });
	$ok++ if $s == 200 && $b->{results}[0]{id} eq "new$i" && $b->{results}[0]{distance} < 1e-6;
}
is($ok, 20, 'each of 20 inserted rows is the first result of a query for its text right after the insert');
($status, $body) = call('POST', '/query', { description => 'hello', k => 100, filter => { label => 7 } });
is(scalar @{ $body->{results} }, 20, 'the filter finds exactly the 20 inserted rows');
is(metric('simapi_requests_total{endpoint="query",status="2xx"}'), $queries_before + 21,
	'metrics: the query count moved by 21, across both workers');
is(metric('simapi_requests_total{endpoint="insert",status="2xx"}'), $inserts_before + 20,
	'metrics: the insert count moved by 20');
is(metric('simapi_request_duration_seconds_count{endpoint="insert"}'), $inserts_before + 20,
	'metrics: the insert latency histogram counted them');
is(metric('simapi_rows'), 320, 'metrics: 320 rows in the index (vsim.hnsw_index_stats)');
cmp_ok(metric('simapi_index_bytes'), '>', 8192, 'metrics: the index size');

($status, $body) = call('POST', '/insert', { description => 'no id given' });
is($status, 200, 'insert without an id');
is(query("SELECT description FROM items WHERE id = '$body->{id}'"), 'no id given', '... stores it under the id returned');

# --- bad requests -------------------------------------------------------------
my @bad = (
	[ '/insert', { id => 'new1', description => 'again' }, 409, 'an existing id' ],
	[ '/insert', { description => '' }, 422, 'empty text' ],
	[ '/insert', { description => "   \t" }, 422, 'blank text' ],
	[ '/insert', { id => 'y' }, 422, 'no text' ],
	[ '/insert', { id => '', description => 'x' }, 422, 'an empty id' ],
	[ '/query', { description => '' }, 422, 'query: empty text' ],
	[ '/query', { description => 'cat', k => 0 }, 422, 'k = 0' ],
	[ '/query', { description => 'cat', k => 1001 }, 422, 'k = 1001' ],
	[ '/query', { description => 'cat', k => '10' }, 422, 'k as a string' ],
	[ '/query', { description => 'cat', filter => { label => [1] } }, 422, 'a filter value that is no scalar' ],
	[ '/query', '{"description": "cat", "k": ', 400, 'malformed JSON' ],
	[ '/insert', 'not json', 400, 'insert: malformed JSON' ],);
for my $case (@bad)
{
	my ($path, $req, $want, $what) = @$case;
	my ($s, $b) = call('POST', $path, $req);
	is($s, $want, "$what: $want");
	ok(defined $b && defined $b->{error}, "... with a JSON error");
}
is(query(q{SELECT count(*) FROM items WHERE description = 'again'}), '0', 'the refused insert stored nothing');

# --- database errors ------------------------------------------------------------
# Without the model every statement fails inside the server; the client sees
# a generic error, the service's log the real one.
query(q{SELECT vsim.drop_model('bert')});
for my $path ('/query', '/insert')
{
	my ($s, $b, $raw) = call('POST', $path, { description => 'the cat', k => 3 });
	is_deeply([ $s, $b ], [ 500, { error => 'internal error' } ], "$path with the model gone: 500, generic JSON");
	unlike($raw, qr/select|insert|embed|bert|vsim|items/i, "... no SQL text, names or message in the body");
}
like(slurp_file($log), qr/database error: model "bert" does not exist/, 'the service logs the database error');

$node->stop;
($status, $body) = call('GET', '/health');
is_deeply([ $status, $body ], [ 503, { error => 'database unavailable' } ], 'database down: health 503');
($status, $body) = call('POST', '/query', { description => 'cat' });
is($status, 503, 'database down: query 503');
my (undef, undef, $text) = call('GET', '/metrics');
like($text, qr/^simapi_requests_total\{endpoint="health",status="5xx"\} 1$/m,
	'metrics still answer without the database, counting the failed health check');

done_testing();
