# test/t/080_sparsevec_bit.pl: sparsevec and bit distances on real data
# against brute force outside the database (test/lib/knn_check.py), and
# sparsevec's binary input through COPY BINARY.
#
# - hashed text (vsim.hash_vector of 3,000 AG News items, 16000 dims) and
#   TF-IDF (vsim.tfidf_vector) as sparsevec: ORDER BY s <op> q LIMIT 10 for
#   <-> <#> <=> <+> equals Python's brute force (ties aside);
# - binary-quantized CNN embeddings of 2,000 Fashion-MNIST test images
#   (256-d, the fashion-mnist-cnn model): ORDER BY <~> and <%> LIMIT 10
#   equal Python's Hamming / Jaccard brute force, and the re-ranking query
#   (binary shortlist, then exact cosine) is run; hnsw bit_hamming_ops and
#   bit_jaccard_ops and ivfflat bit_hamming_ops reach recall@10 >= 0.95
#   against brute force, pass index_check, and a bit hnsw index survives
#   deletes and VACUUM; both build in parallel;
# - sparsevec_recv: valid and invalid COPY BINARY streams, each error with
#   its message.
# The corpus and model parts skip without a data directory.
use strict;
use warnings;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{VSIM_ROOT}/test/lib";
use VsimTest;

my $check_py = "$ENV{VSIM_ROOT}/test/lib/knn_check.py";
my $dir = PostgreSQL::Test::Utils::tempdir();
my $data = vsim_data_dir();
my $models = defined $data && -d "$data/models/fashion-mnist-cnn";
my $node = vsim_node('sparse_bit', $models ? (conf => "vsim.model_directory = '$data/models'\n") : ());
sub query { return $node->safe_psql('postgres', $_[0]); }

# The k nearest items of each query under each operator, as lines
# "qid metric id:dist ..." in file $file, checked by knn_check.py.
sub check_knn
{
	my ($kind, $table, $col, $queries, $ops, $label) = @_;
	query("COPY (SELECT id, $col FROM $table) TO '$dir/$table.items' WITH (FORMAT csv)");
	my $results = '';
	for my $metric (sort keys %$ops)
	{
		my $op = $ops->{$metric};
		$results .= query(qq{
			SELECT q.id || ' $metric ' || string_agg(n.id || ':' || n.d::text, ' ' ORDER BY n.d, n.id)
			FROM $table q CROSS JOIN LATERAL
				(SELECT d.id, d.$col $op q.$col AS d FROM $table d
				 ORDER BY d.$col $op q.$col LIMIT 10) n
			WHERE q.id <= $queries GROUP BY q.id ORDER BY q.id}) . "\n";
	}
	open(my $fh, '>', "$dir/$table.results") or die;
	print $fh $results;
	close $fh;
	my $r = decode_json(python3($check_py, $kind, "$dir/$table.items", "$dir/$table.results"));
	is($r->{checked}, $queries * scalar(keys %$ops), "$label: every query and operator checked");
	is_deeply($r->{wrong}, [], "$label: ORDER BY ... LIMIT 10 equals brute force")
	  or diag(JSON::PP->new->canonical->encode($r->{wrong}));
}

my %sparse_ops = (l2 => '<->', ip => '<#>', cosine => '<=>', l1 => '<+>');

SKIP:
{
	skip 'no AG News corpus in the data directory', 6
	  unless defined $data && -f "$data/corpus/ag_news_test.csv";
	query(qq{CREATE TABLE ag (label int, title text, description text);
		COPY ag FROM '$data/corpus/ag_news_test.csv' WITH (FORMAT csv, HEADER true);
		ALTER TABLE ag ADD id serial;
		DELETE FROM ag WHERE id > 3000;
		CREATE TABLE hashed AS
			SELECT id, vsim.hash_vector(title || ' ' || description, 16000)::sparsevec(16000) AS s FROM ag;
		SELECT vsim.tfidf_fit('vocab', 'SELECT title || '' '' || description FROM ag', 16000);
		CREATE TABLE tfidf AS
			SELECT id, vsim.tfidf_vector(title || ' ' || description, 'vocab')::sparsevec AS s FROM ag});
	like(query(q{SELECT count(*) || ' ' || round(avg((sparsevec_send(s) IS NOT NULL)::int)) || ' '
		|| (max(length(s::text)) > 100) FROM hashed}), qr/^3000 1 true$/,
		'3,000 hashed documents as sparsevec(16000)');
	check_knn('sparse', 'hashed', 's', 25, \%sparse_ops, 'hashed text');
	check_knn('sparse', 'tfidf', 's', 25, \%sparse_ops, 'TF-IDF');
	is(query(q{SELECT count(*) FROM tfidf t JOIN hashed h USING (id)
		WHERE t.s::vector <> vsim.tfidf_vector((SELECT title || ' ' || description FROM ag WHERE ag.id = t.id), 'vocab')}),
		'0', 'TF-IDF sparsevec casts back to the dense vector exactly');
}

SKIP:
{
	skip 'no fashion-mnist-cnn model in the data directory', 20 unless $models;
	load_fmnist($node, 'fm', 'test', 2000);
	create_cnn_model($node, 'fmnist_embed');
	query(q{CREATE TABLE emb AS SELECT id, label, vsim.embed('fmnist_embed', v::real[]) AS e FROM fm;
		ALTER TABLE emb ADD b bit(256);
		UPDATE emb SET b = binary_quantize(e)});
	my $ones = query(q{SELECT round(avg(bit_count(b)) / 256, 2) FROM emb});
	note "binary-quantized embeddings: share of 1 bits $ones";
	ok($ones > 0.05 && $ones < 0.95, "quantized embeddings have both bit values ($ones ones)");
	# knn_check.py quantizes the float embeddings itself
	query(q{CREATE TABLE bq AS SELECT id, e AS v, b FROM emb});
	query("COPY (SELECT id, v FROM bq) TO '$dir/bq.items' WITH (FORMAT csv)");
	my $results = '';
	for my $m ([ 'hamming', '<~>' ], [ 'jaccard', '<%>' ])
	{
		$results .= query(qq{
			SELECT q.id || ' $m->[0] ' || string_agg(n.id || ':' || n.d::text, ' ' ORDER BY n.d, n.id)
			FROM bq q CROSS JOIN LATERAL
				(SELECT d.id, d.b $m->[1] q.b AS d FROM bq d ORDER BY d.b $m->[1] q.b LIMIT 10) n
			WHERE q.id <= 50 GROUP BY q.id ORDER BY q.id}) . "\n";
	}
	open(my $fh, '>', "$dir/bq.results") or die;
	print $fh $results;
	close $fh;
	my $r = decode_json(python3($check_py, 'bits', "$dir/bq.items", "$dir/bq.results"));
	is($r->{checked}, 100, 'bit: every query and operator checked');
	is_deeply($r->{wrong}, [], 'bit: ORDER BY <~> / <%> LIMIT 10 equals brute force')
	  or diag(JSON::PP->new->canonical->encode($r->{wrong}));

	# indexes on the bit column (issue 10): recall@10 against brute force
	my $knn_recall = sub {
		my ($label, $items, @ms) = @_;
		my $results = '';
		for my $m (@ms)
		{
			$results .= query(qq{SET enable_seqscan = off; SET hnsw.ef_search = 40; SET ivfflat.probes = 4;
				SELECT q.id || ' $m->[0] ' || string_agg(n.id || ':' || n.d::text, ' ' ORDER BY n.d, n.id)
				FROM bq q CROSS JOIN LATERAL
					(SELECT d.id, d.b $m->[1] q.b AS d FROM bq d ORDER BY d.b $m->[1] q.b LIMIT 10) n
				WHERE q.id <= 100 GROUP BY q.id ORDER BY q.id}) . "\n";
		}
		open(my $rfh, '>', "$dir/bqi.results") or die;
		print $rfh $results;
		close $rfh;
		my $rr = decode_json(python3($check_py, 'bits', $items, "$dir/bqi.results", 'recall'));
		note "$label: recall\@10 $rr->{recall} over $rr->{checked} queries";
		cmp_ok($rr->{recall}, '>=', 0.95, "$label: recall\@10 >= 0.95 ($rr->{recall})");
		is($rr->{wrong_distance}, 0, "$label: every distance is the exact one");
	};
	my $uses = sub {
		my ($op, $index) = @_;
		like(query(qq{SET enable_seqscan = off; EXPLAIN (COSTS OFF)
			SELECT id FROM bq ORDER BY b $op (SELECT b FROM bq WHERE id = 1) LIMIT 10}),
			qr/Index Scan using $index/, "ORDER BY b $op uses $index");
	};
	query(q{CREATE INDEX bq_ham ON bq USING hnsw (b bit_hamming_ops)});
	$uses->('<~>', 'bq_ham');
	$knn_recall->('hnsw bit_hamming_ops', "$dir/bq.items", [ 'hamming', '<~>' ]);
	is(query(q{SELECT vsim.index_check('bq_ham', true)}), '', 'hnsw bit_hamming_ops passes index_check');
	query(q{DROP INDEX bq_ham; CREATE INDEX bq_jac ON bq USING hnsw (b bit_jaccard_ops)});
	$uses->('<%>', 'bq_jac');
	$knn_recall->('hnsw bit_jaccard_ops', "$dir/bq.items", [ 'jaccard', '<%>' ]);
	is(query(q{SELECT vsim.index_check('bq_jac', true)}), '', 'hnsw bit_jaccard_ops passes index_check');
	query(q{DROP INDEX bq_jac; CREATE INDEX bq_ivf ON bq USING ivfflat (b bit_hamming_ops) WITH (lists = 20)});
	$uses->('<~>', 'bq_ivf');
	$knn_recall->('ivfflat bit_hamming_ops', "$dir/bq.items", [ 'hamming', '<~>' ]);
	is(query(q{SELECT vsim.index_check('bq_ivf', true)}), '', 'ivfflat bit_hamming_ops passes index_check');
	# a bit hnsw index after deletes and VACUUM: sound, and still finds the rest
	query(q{DROP INDEX bq_ivf; CREATE INDEX bq_ham ON bq USING hnsw (b bit_hamming_ops);
		DELETE FROM bq WHERE id % 7 = 3; VACUUM bq});
	is(query(q{SELECT vsim.index_check('bq_ham', true)}), '', 'bit hnsw passes index_check after VACUUM');
	query("COPY (SELECT id, v FROM bq) TO '$dir/bq2.items' WITH (FORMAT csv)");
	$knn_recall->('hnsw bit_hamming_ops after VACUUM', "$dir/bq2.items", [ 'hamming', '<~>' ]);
	query(q{DROP INDEX bq_ham});

	# re-ranking: 100 by Hamming distance, then the exact cosine order
	my $rerank = query(q{
		SELECT round(avg(hits) / 10, 3) FROM (
			SELECT q.id, (SELECT count(*) FROM
				(SELECT id FROM (SELECT id, e FROM emb d ORDER BY binary_quantize(d.e)::bit(256) <~> binary_quantize(q.e) LIMIT 100) s
				 ORDER BY s.e <=> q.e LIMIT 10) r
				JOIN (SELECT id FROM emb d ORDER BY d.e <=> q.e LIMIT 10) t USING (id)) AS hits
			FROM emb q WHERE q.id <= 100) x});
	note "binary shortlist of 100 re-ranked by cosine: recall\@10 $rerank";
	cmp_ok($rerank, '>=', 0.8, "binary quantization with re-ranking finds the cosine top 10 ($rerank)");
	is(query(q{SELECT count(*) FROM emb WHERE b <> binary_quantize(e)}), '0', 'bit(256) column holds binary_quantize');
}

# --- parallel builds of bit indexes -------------------------------------------
# 20,000 pseudo-random bit(256) strings: hnsw and ivfflat build with workers
# and pass index_check with heapallindexed.
query(q{CREATE TABLE pb AS SELECT i AS id,
		(SELECT string_agg(CASE WHEN ((i * 2654435761::bigint + j * 40503) % 97) < 48 THEN '1' ELSE '0' END, '')
		 FROM generate_series(1, 256) j)::bit(256) AS b
	FROM generate_series(1, 20000) i;
	ALTER TABLE pb SET (parallel_workers = 2);
	ANALYZE pb});
for my $ix ([ 'pb_h', 'hnsw', 'bit_hamming_ops', '' ], [ 'pb_i', 'ivfflat', 'bit_hamming_ops', 'WITH (lists = 50)' ])
{
	my ($name, $am, $opclass, $with) = @$ix;
	my ($pret, $pout, $perr) = $node->psql('postgres', qq{
		SET client_min_messages = debug1; SET max_parallel_maintenance_workers = 2;
		SET min_parallel_table_scan_size = 0;
		CREATE INDEX $name ON pb USING $am (b $opclass) $with});
	is($pret, 0, "$am $opclass: parallel build succeeds");
	like($perr, qr/$am build of "$name": [12] parallel workers launched/, "$am $opclass: the build ran with workers");
	is(query(qq{SELECT vsim.index_check('$name', true)}), '', "$am $opclass: parallel-built index passes index_check");
}
is(query(q{SET enable_seqscan = off; SET ivfflat.probes = 50; DROP INDEX pb_h;
	SELECT count(*) FROM generate_series(1, 20) q WHERE
	(SELECT array_agg(d ORDER BY d) FROM (SELECT b <~> (SELECT b FROM pb WHERE id = q) AS d FROM pb
		ORDER BY b <~> (SELECT b FROM pb WHERE id = q) LIMIT 10) s)
	= (SELECT array_agg(d ORDER BY d) FROM (SELECT hamming_distance(b, (SELECT b FROM pb WHERE id = q)) AS d
		FROM pb ORDER BY 1 LIMIT 10) s)}), '20', 'parallel-built ivfflat with every list probed is exact');

# --- sparsevec_recv through COPY BINARY -----------------------------------------
sub copy_file
{
	my ($name, @values) = @_;
	my $bytes = "PGCOPY\n\377\r\n\0" . pack('NN', 0, 0);
	$bytes .= pack('n', 1) . pack('N', length($_)) . $_ for @values;
	$bytes .= pack('n', 0xffff);
	open(my $fh, '>:raw', "$dir/$name") or die;
	print $fh $bytes;
	close $fh;
	return "$dir/$name";
}

# dim, nnz, reserved, then indices and values
sub sv { my ($dim, $nnz, $res, $idx, $val) = @_; return pack('NNN', $dim, $nnz, $res) . pack('N*', @$idx) . pack('f>*', @$val); }

query('CREATE TABLE rb (s sparsevec)');
my $ok = copy_file('ok.bin', sv(5, 2, 0, [ 0, 4 ], [ 1.5, -2 ]), sv(1000000000, 0, 0, [], []));
query("COPY rb FROM '$ok' WITH (FORMAT binary)");
is(query('SELECT string_agg(s::text, \' \' ORDER BY s) FROM rb'), '{}/1000000000 {1:1.5,5:-2}/5',
	'COPY BINARY reads 0-based indices');

my @bad = (
	[ 'reserved', sv(5, 1, 7, [0], [1]), qr/invalid binary data for type sparsevec.*reserved field must be 0, not 7/s ],
	[ 'nnz above dim', sv(2, 3, 0, [ 0, 1, 2 ], [ 1, 1, 1 ]), qr/number of non-zero elements is 3, for 2 dimensions/ ],
	[ 'index out of range', sv(5, 1, 0, [5], [1]), qr/Index 5 is out of range for 5 dimensions/ ],
	[ 'descending', sv(5, 2, 0, [ 3, 1 ], [ 1, 1 ]), qr/Indices must be strictly ascending/ ],
	[ 'duplicate', sv(5, 2, 0, [ 1, 1 ], [ 1, 1 ]), qr/Indices must be strictly ascending/ ],
	[ 'zero value', sv(5, 1, 0, [1], [0]), qr/Zero values must not be stored/ ],
	[ 'NaN', sv(5, 1, 0, [1], ['nan']), qr/NaN not allowed in sparsevec/ ],
	[ 'short', substr(sv(5, 2, 0, [ 1, 2 ], [ 1, 1 ]), 0, -2), qr/2 elements need 16 bytes of indices and values, got 14/ ],
	[ 'dims', sv(0, 0, 0, [], []), qr/sparsevec must have at least 1 dimension/ ],
	[ 'too many dims', sv(1000000001, 0, 0, [], []), qr/cannot have more than 1000000000 dimensions/ ],
	[ 'too many elements', sv(20000, 16001, 0, [ 0 .. 16000 ], [ (1) x 16001 ]), qr/cannot have more than 16000 non-zero elements/ ]);
for my $case (@bad)
{
	my $file = copy_file("$case->[0].bin", $case->[1]);
	my ($ret, $out, $err) = $node->psql('postgres', "COPY rb FROM '$file' WITH (FORMAT binary)");
	like($err, $case->[2], "COPY BINARY rejects $case->[0]");
}
# typmod applies to binary input
query('CREATE TABLE rb3 (s sparsevec(3))');
my ($ret, $out, $err) = $node->psql('postgres', "COPY rb3 FROM '$ok' WITH (FORMAT binary)");
like($err, qr/expected 3 dimensions, not 5/, 'COPY BINARY checks sparsevec(n)');

done_testing();
