# demo part 50: "the 10 movies most like this one" on the TMDB 5000 and
# IMDB 1000 corpora, with the model-free vectorizers of src/text (TF-IDF and
# feature hashing, as scikit-learn computes them) and, when part 40
# registered it, the text-word64 embedding model; exact search against
# HNSW, with timings.  Sourced by scripts/demo.sh (uses its step,
# step_done, show and sql).  The shared TMDB copy has no genres or
# keywords columns: a movie's text is its title, tagline and overview.
#
# The corpora come from the data directory (vsim_data_dir in
# scripts/lib.sh: $VSIM_DATA, default ../shared/data beside the checkout):
# corpus/tmdb_5000_movies.csv and corpus/IMDB-Movie-Data.csv.  Without them
# this part says what it skipped.

movies_corpus=
if vsim_data_dir && [ -f "$VSIM_DATA_DIR/corpus/tmdb_5000_movies.csv" ] &&
  [ -f "$VSIM_DATA_DIR/corpus/IMDB-Movie-Data.csv" ]; then
  movies_corpus=$VSIM_DATA_DIR/corpus
fi

# movies_timed LABEL SQL: run SQL, recording its time inside the server in
# movie_timing under LABEL; show_timed also shows SQL first.
movies_timed() {
  sql -v label="$1" <<SQL
SELECT clock_timestamp() AS t0 \gset
$2
INSERT INTO movie_timing SELECT :'label', extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);
SQL
}
show_timed() { printf '\033[2m%s\033[0m\n' "$2"; movies_timed "$@"; }

# movies_knn COLUMN METHOD SETTINGS: the 10 nearest movies by cosine
# distance on vector column COLUMN of each query movie (movie_queries), in
# one LATERAL join after SETTINGS; rows go to movie_knn, the time to
# movie_timing as "COLUMN METHOD".
movies_knn() {
  movies_timed "$1 $2" "$3
INSERT INTO movie_knn SELECT '$1', '$2', q.id, n.id, n.d
FROM movie_queries q CROSS JOIN LATERAL (
  SELECT m.id, m.$1 <=> q.$1 AS d FROM movie_recs m
  WHERE m.id <> q.id ORDER BY m.$1 <=> q.$1 LIMIT 10) n;
RESET ALL;"
}

if [ -z "$movies_corpus" ]; then
  step "Movie recommender: skipped"
  if [ -n "${VSIM_DATA_DIR:-}" ]; then
    echo "No corpus/tmdb_5000_movies.csv and corpus/IMDB-Movie-Data.csv in $VSIM_DATA_DIR."
  else
    echo "No data directory: VSIM_DATA is not set and ../shared/data does not exist."
  fi
  echo "Skipped: movies like this one by TF-IDF, feature hashing and embeddings, exact and with HNSW."
  echo "To run it, point VSIM_DATA at a directory with corpus/{tmdb_5000_movies,IMDB-Movie-Data}.csv."
else

embed_model=$(sql -At -c "SELECT count(*) FROM vsim.models WHERE name = 'movies'")
step "Movie recommender: TMDB 5000, one text per movie (title, tagline, overview)"
sql <<SQL
DROP TABLE IF EXISTS movie_recs, movie_terms, movie_queries, movie_knn, movie_timing,
  imdb_recs, imdb_terms;
CREATE TABLE movie_timing (label text PRIMARY KEY, seconds float8);
CREATE TEMP TABLE tmdb_csv (budget text, homepage text, id int, original_language text,
  original_title text, overview text, popularity float8, release_date text, revenue text,
  runtime text, status text, tagline text, title text, vote_average numeric, vote_count int);
\copy tmdb_csv FROM '$movies_corpus/tmdb_5000_movies.csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE movie_recs (
  id int PRIMARY KEY, title text NOT NULL, year int, votes int, doc text NOT NULL,
  tfidf vector(2048), hashed vector(1024), embedding vector(64));
INSERT INTO movie_recs (id, title, year, votes, doc)
SELECT id, title, extract(year FROM to_date(nullif(nullif(release_date, ''), 'Null'), 'MM/DD/YYYY')),
       vote_count, concat_ws(' ', title, tagline, overview) FROM tmdb_csv;
CREATE INDEX ON movie_recs (title);
SQL
show "SELECT title, cardinality(vsim.text_tokens(doc)) AS tokens, (vsim.text_tokens(doc))[1:12] AS first_tokens
FROM movie_recs WHERE title = 'The Dark Knight';"
step_done

step "TF-IDF: learn the vocabulary (the 2,048 most frequent terms) and vectorize every movie; feature hashing into 1,024 dimensions"
show_timed "tfidf_fit" "SELECT vsim.tfidf_fit('movie_terms', 'SELECT doc FROM movie_recs', max_features => 2048);"
show "SELECT count(*) AS terms, min(df) AS min_df, max(df) AS max_df,
       (SELECT string_agg(term, ' ' ORDER BY df DESC) FROM (SELECT term, df FROM movie_terms ORDER BY df DESC LIMIT 8) t) AS most_common
FROM movie_terms;"
vectorizers=("tfidf_vector:vsim.tfidf_vector(doc, 'movie_terms')" "hash_vector:vsim.hash_vector(doc, 1024)")
embed_columns=
if [ "$embed_model" = 1 ]; then
  vectorizers+=("embed:vsim.embed('movies', doc)")
  embed_columns="embedding"
else
  echo "(no embedding: model 'movies' is not registered, demo part 40 was skipped)"
fi
for v in "${vectorizers[@]}"; do
  movies_timed "${v%%:*}" "SELECT count(${v#*:}) FROM movie_recs;"
done
show_timed "store" "UPDATE movie_recs SET tfidf = vsim.tfidf_vector(doc, 'movie_terms'),
  hashed = vsim.hash_vector(doc, 1024)${embed_columns:+, embedding = vsim.embed('movies', doc)};"
sql -c "VACUUM ANALYZE movie_recs"
show "SELECT label AS computing, round(seconds::numeric, 3) AS seconds,
       round(4803 / seconds) AS movies_per_second
FROM movie_timing WHERE label IN ('tfidf_fit', 'tfidf_vector', 'hash_vector', 'embed', 'store')
ORDER BY seconds;"
step_done

step "The 10 movies most like \"The Dark Knight\" by TF-IDF (exact search)"
show "SELECT title, year, round((tfidf <=> (SELECT tfidf FROM movie_recs WHERE title = 'The Dark Knight'))::numeric, 3) AS cosine_distance
FROM movie_recs WHERE title <> 'The Dark Knight'
ORDER BY tfidf <=> (SELECT tfidf FROM movie_recs WHERE title = 'The Dark Knight') LIMIT 10;"
step_done

step "\"Finding Nemo\" and \"Alien\": the 5 most similar by TF-IDF, feature hashing${embed_columns:+ and the embedding model}"
for col in tfidf hashed $embed_columns; do
  show "SELECT q.title AS movie, string_agg(n.title, ' | ' ORDER BY n.d) AS most_similar_by_$col
FROM movie_recs q CROSS JOIN LATERAL (
  SELECT m.title, m.$col <=> q.$col AS d FROM movie_recs m WHERE m.id <> q.id ORDER BY d LIMIT 5) n
WHERE q.title IN ('Finding Nemo', 'Alien') GROUP BY q.title ORDER BY q.title;"
done
step_done

step "HNSW indexes (cosine) on every representation"
for col in tfidf hashed $embed_columns; do
  movies_timed "$col build" "SET maintenance_work_mem = '1GB';
CREATE INDEX movie_recs_${col}_hnsw ON movie_recs USING hnsw ($col vector_cosine_ops);"
done
show "SELECT c.relname AS index, pg_size_pretty(pg_relation_size(c.oid)) AS size,
       round(t.seconds::numeric, 1) AS build_seconds
FROM pg_class c JOIN movie_timing t ON t.label = replace(replace(c.relname, 'movie_recs_', ''), '_hnsw', ' build')
WHERE c.relname LIKE 'movie_recs_%_hnsw' ORDER BY c.relname;"
step_done

step "Exact search against HNSW: the 10 movies most like each of the 200 most voted movies"
echo "(the planner prefers a sequential scan on a table this small: enable_seqscan = off makes the HNSW runs use the index)"
sql <<'SQL'
CREATE TABLE movie_queries AS SELECT * FROM movie_recs ORDER BY votes DESC LIMIT 200;
CREATE TABLE movie_knn (representation text, method text, qid int, id int, d float8);
SQL
printf '\033[2m%s\033[0m\n' "-- for each representation v: exact with SET enable_indexscan = off, HNSW with SET enable_seqscan = off
SELECT q.id, n.id, n.d FROM movie_queries q CROSS JOIN LATERAL (
  SELECT m.id, m.v <=> q.v AS d FROM movie_recs m WHERE m.id <> q.id ORDER BY m.v <=> q.v LIMIT 10) n;"
for col in tfidf hashed $embed_columns; do
  movies_knn "$col" exact "SET enable_indexscan = off;"
  movies_knn "$col" hnsw "SET enable_seqscan = off;"
done
show "WITH kth AS (SELECT representation, qid, max(d) AS d FROM movie_knn WHERE method = 'exact' GROUP BY 1, 2)
SELECT r.representation, d.dims,
       round((1000 * e.seconds / 200)::numeric, 2) AS exact_ms_per_query,
       round((1000 * h.seconds / 200)::numeric, 2) AS hnsw_ms_per_query,
       round((e.seconds / h.seconds)::numeric, 1) AS speedup,
       round(avg((r.d <= k.d + 1e-6)::int), 3) AS hnsw_recall_at_10
FROM movie_knn r JOIN kth k USING (representation, qid)
JOIN movie_timing e ON e.label = r.representation || ' exact'
JOIN movie_timing h ON h.label = r.representation || ' hnsw'
JOIN (VALUES ('tfidf', 2048), ('hashed', 1024), ('embedding', 64)) d(representation, dims) USING (representation)
WHERE r.method = 'hnsw'
GROUP BY r.representation, d.dims, e.seconds, h.seconds ORDER BY d.dims DESC;"
show "SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT title FROM movie_recs WHERE title <> 'The Dark Knight'
ORDER BY tfidf <=> (SELECT tfidf FROM movie_recs WHERE title = 'The Dark Knight') LIMIT 10;"
step_done

step "IMDB 1000: TF-IDF over genres, description, director and actors, full vocabulary"
sql <<SQL
CREATE TEMP TABLE imdb_csv (rank int, title text, genre text, description text, director text,
  actors text, year int, runtime int, rating numeric, votes int, revenue text, metascore text);
\copy imdb_csv FROM '$movies_corpus/IMDB-Movie-Data.csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE imdb_recs AS
SELECT rank AS id, title, year, genre, concat_ws(' ', genre, description, director, actors) AS doc FROM imdb_csv;
SQL
show "SELECT vsim.tfidf_fit('imdb_terms', 'SELECT doc FROM imdb_recs') AS terms;"
echo "(TF-IDF weighs rare words most: here shared actors and directors count more than shared genres)"
show "ALTER TABLE imdb_recs ADD tfidf vector;
UPDATE imdb_recs SET tfidf = vsim.tfidf_vector(doc, 'imdb_terms');
SELECT title, year, genre, round((tfidf <=> q.v)::numeric, 3) AS cosine_distance
FROM imdb_recs, (SELECT tfidf AS v FROM imdb_recs WHERE title = 'Inception') q
WHERE title <> 'Inception' ORDER BY tfidf <=> q.v LIMIT 10;"
step_done

fi
