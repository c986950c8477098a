# test/t/065_text_vectorizers.pl: vsim's text vectorizers against
# scikit-learn (Debian's python3-sklearn, run by /usr/bin/python3) on the
# TMDB 5000 and IMDB 1000 corpora of the data directory:
#
# - vsim.text_tokens gives CountVectorizer().build_analyzer()'s tokens for
#   every title, tagline, overview and description, and for documents with
#   every code point Python's Unicode database assigns;
# - vsim.tfidf_fit + vsim.tfidf_vector give TfidfVectorizer's vocabulary,
#   idf and vectors (within 1e-6) with the full vocabulary, with a
#   max_features cut between counts, and with one inside a tie (where the
#   terms kept at the cut are the first in term order, and the vectors
#   equal TfidfVectorizer's for that vocabulary);
# - vsim.hash_vector gives HashingVectorizer(norm=None)'s and
#   FeatureHasher's vectors exactly, including for a token hashing to
#   -2^31.
# Skipped when there is no data directory ($VSIM_DATA, default
# ../shared/data) or no scikit-learn.
use strict;
use warnings;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{VSIM_ROOT}/test/lib";
use VsimTest;

my $data = vsim_data_dir();
plan skip_all => 'no data directory (VSIM_DATA is not set, ../shared/data does not exist)'
  unless defined $data;
my ($tmdb, $imdb) = map { "$data/corpus/$_" } qw(tmdb_5000_movies.csv IMDB-Movie-Data.csv);
plan skip_all => "no TMDB and IMDB corpora in $data/corpus" unless -f $tmdb && -f $imdb;
plan skip_all => 'scikit-learn is missing (Debian package python3-sklearn)'
  unless system('/usr/bin/python3', '-c', 'import sklearn') == 0;

my $check_py = "$ENV{VSIM_ROOT}/test/lib/sklearn_check.py";
my $dir = PostgreSQL::Test::Utils::tempdir();
my $node = vsim_node('text');
sub query { return $node->safe_psql('postgres', $_[0]); }

# scikit-learn's comparison of what vsim exported (sklearn_check.py)
sub check
{
	my $result = decode_json(python3($check_py, @_));
	note "$_[0]: " . JSON::PP->new->canonical->encode($result);
	return $result;
}

# Export the rows of a query (id, then a text or a vector) to CSV file
# $file, for scikit-learn's side to read; returns its path.
sub export_csv
{
	my ($file, $select) = @_;
	query("COPY ($select) TO '$dir/$file' WITH (FORMAT csv)");
	return "$dir/$file";
}

# Export the (id, token array) rows of a query as (id, JSON array).
sub export_tokens
{
	my ($file, $select) = @_;
	return export_csv($file, "SELECT id, array_to_json(t) FROM ($select) s(id, t)");
}

# Fit vocabulary $vocab on the documents of table $docs (id, body) with
# max_features $max (0: none), compare with scikit-learn on the documents
# of $sample (a WHERE clause) and return the comparison.
sub tfidf_check
{
	my ($docs, $vocab, $max, $sample) = @_;
	my $limit = $max ? ", max_features => $max" : '';
	is(query("SELECT vsim.tfidf_fit('$vocab', 'SELECT body FROM $docs'$limit)"),
		query("SELECT count(*) FROM $vocab"), "$vocab: tfidf_fit returns the number of terms");
	my @sample;
	@sample = (export_csv("$vocab.sample.csv", "SELECT id, body FROM $docs WHERE $sample"))
	  if $sample;
	query("COPY $vocab TO '$dir/$vocab.csv' WITH (FORMAT csv)");
	my $r = check('tfidf', export_csv("$docs.csv", "SELECT id, body FROM $docs"),
		"$dir/$vocab.csv",
		export_csv("$vocab.vectors.csv",
			"SELECT id, vsim.tfidf_vector(body, '$vocab') FROM $docs WHERE "
			  . ($sample // 'true')),
		$max, @sample);
	cmp_ok($r->{max_idf_diff}, '<', 1e-12, "$vocab: idf equal to scikit-learn's");
	cmp_ok($r->{max_abs_diff}, '<', 1e-6,
		"$vocab: $r->{documents} vectors within 1e-6 of TfidfVectorizer's ($r->{max_abs_diff})");
	is($r->{pattern_diffs}, 0, "$vocab: the same non-zero elements ($r->{nonzeros})");
	return $r;
}

# --- the corpora ----------------------------------------------------------------
query(qq{
	CREATE TABLE tmdb_raw (budget text, homepage text, id int, original_language text,
		original_title text, overview text, popularity float8, release_date text, revenue text,
		runtime text, status text, tagline text, title text, vote_average numeric, vote_count int);
	COPY tmdb_raw FROM '$tmdb' WITH (FORMAT csv, HEADER true);
	CREATE TABLE imdb_raw (rank int, title text, genre text, description text, director text,
		actors text, year int, runtime int, rating numeric, votes int, revenue text, metascore text);
	COPY imdb_raw FROM '$imdb' WITH (FORMAT csv, HEADER true);
	CREATE TABLE overviews AS SELECT id, coalesce(overview, '') AS body FROM tmdb_raw;
	CREATE TABLE titles AS SELECT id, concat_ws(' ', title, tagline) AS body FROM tmdb_raw;
	CREATE TABLE imdb AS SELECT rank AS id, concat_ws(' ', genre, description, director, actors) AS body
		FROM imdb_raw;
	CREATE TABLE texts AS SELECT row_number() OVER () AS id, body FROM
		(SELECT body FROM overviews UNION ALL SELECT title FROM tmdb_raw
		 UNION ALL SELECT tagline FROM tmdb_raw UNION ALL SELECT description FROM imdb_raw) s
		WHERE body IS NOT NULL;
});
is(query('SELECT count(*) FROM tmdb_raw') . ',' . query('SELECT count(*) FROM imdb_raw'),
	'4803,1000', 'the corpora are loaded');

# --- tokens -------------------------------------------------------------------------
my $r = check('tokens', export_csv('texts.csv', 'SELECT id, body FROM texts'),
	export_tokens('texts.tokens.csv', 'SELECT id, vsim.text_tokens(body) FROM texts'));
is($r->{differ}, 0,
	"text_tokens: the analyzer's tokens for $r->{documents} texts ($r->{tokens} tokens)")
  or diag explain $r->{first};

my $u = check('unicode-docs', "$dir/unicode.csv");
query("CREATE TABLE unicode_docs (id int, body text);
	COPY unicode_docs FROM '$dir/unicode.csv' WITH (FORMAT csv)");
$r = check('tokens', "$dir/unicode.csv",
	export_tokens('unicode.tokens.csv', 'SELECT id, vsim.text_tokens(body) FROM unicode_docs'));
is($r->{differ}, 0,
	"text_tokens: the analyzer's tokens around all $u->{code_points} code points of Unicode $u->{unicode}, and final sigmas"
) or diag explain $r->{first};

# --- TF-IDF -----------------------------------------------------------------------------
$r = tfidf_check('titles', 'titles_vocab', 0);
ok($r->{same_vocabulary}, "TMDB titles and taglines: TfidfVectorizer's $r->{sklearn_terms} terms");
$r = tfidf_check('imdb', 'imdb_vocab', 0);
ok($r->{same_vocabulary},
	"IMDB genres, descriptions, directors, actors: TfidfVectorizer's $r->{sklearn_terms} terms");

my ($rc, $out, $err) = $node->psql('postgres',
	"SELECT vsim.tfidf_fit('too_many', 'SELECT body FROM overviews')", extra_params => ['-v', 'VERBOSITY=verbose']);
like($err, qr/54000: vocabulary of 21263 terms exceeds the 16000 dimensions/,
	'TMDB overviews: the full vocabulary is refused with 54000');

# a cut inside a tie: the 16,000 most frequent of 21,263 terms
$r = tfidf_check('overviews', 'vocab_16000', 16000, 'id % 8 = 0');
ok($r->{same_above_cut} && $r->{occurrences_match},
	"max_features 16000: the terms with more occurrences than at the cut ($r->{cut_occurrences}) are scikit-learn's");
is($r->{kept_at_cut}, $r->{sklearn_kept_at_cut},
	"max_features 16000: as many of the $r->{tied_at_cut} tied terms kept as scikit-learn keeps");
ok($r->{kept_at_cut_are_first_in_term_order},
	"max_features 16000: the tied terms kept are the first in term order ($r->{kept_at_cut_also_kept_by_sklearn} of them also scikit-learn's choice)"
);

# a cut between counts: every term with at least 5 occurrences
my $clean = query('SELECT count(*) FROM vocab_16000 WHERE occurrences >= 5');
$r = tfidf_check('overviews', 'vocab_clean', $clean);
ok($r->{same_vocabulary} && $r->{tied_at_cut} == $r->{kept_at_cut},
	"max_features $clean (a cut between counts): TfidfVectorizer's vocabulary");

# --- feature hashing ----------------------------------------------------------------------
$r = check('hashing', "$dir/overviews.csv",
	export_csv('hashing.vectors.csv', 'SELECT id, vsim.hash_vector(body, 1024) FROM overviews'),
	1024);
is($r->{max_abs_diff} + $r->{pattern_diffs}, 0,
	"hash_vector(text, 1024): HashingVectorizer(norm=None)'s vectors exactly ($r->{nonzeros} non-zeros)");

my $intmin = check('intmin-token');
is($intmin->{murmurhash3_32}, -2**31, "token '$intmin->{token}' hashes to -2^31 in scikit-learn");
my $arrays = "SELECT id, vsim.text_tokens(body) || ARRAY['$intmin->{token}', 'Ünïcödé', '', 'x'] FROM texts WHERE id <= 3000";
$r = check('hasher', export_tokens('arrays.csv', $arrays),
	export_csv('hasher.vectors.csv', "SELECT id, vsim.hash_vector(t, 997) FROM ($arrays) s(id, t)"),
	997);
is($r->{max_abs_diff} + $r->{pattern_diffs}, 0,
	"hash_vector(text[], 997): FeatureHasher's vectors exactly ($r->{nonzeros} non-zeros)");

$node->stop;
done_testing();
