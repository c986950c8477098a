# demo part 40: embedding inside the database with ONNX Runtime.
# Sourced by scripts/demo.sh (uses its step, step_done, show and sql).
#
# Models and corpora come from the data directory (vsim_data_dir in
# scripts/lib.sh: $VSIM_DATA, default ../shared/data beside the checkout):
# models/text-word64 (a small sentence embedding model),
# models/fashion-mnist-cnn (a CNN trained on Fashion-MNIST) and
# corpus/*.csv (TMDB and IMDB movies).  Without them this part says what it
# skipped and how to supply a model.

embed_data=
if vsim_data_dir; then embed_data=$VSIM_DATA_DIR; fi

embed_runtime=$(sql -At -c 'SELECT vsim.onnxruntime_version()' 2>&1) || {
  step "In-database embedding: skipped"
  echo "ONNX Runtime cannot be loaded: $embed_runtime"
  echo "scripts/setup.sh fetches it and \"make install\" installs it (or set vsim.onnxruntime_library)."
  embed_data=none
}
if [ "$embed_data" = none ]; then
  :
elif [ -z "$embed_data" ] || [ ! -f "$embed_data/models/text-word64/model.onnx" ]; then
  step "In-database embedding: skipped"
  if [ -n "$embed_data" ]; then
    echo "No model at $embed_data/models/text-word64/model.onnx."
  else
    echo "No data directory: VSIM_DATA is not set and ../shared/data does not exist."
  fi
  echo "Skipped: movie search with vsim.embed, and image search with the Fashion-MNIST CNN."
  echo "To run it, point VSIM_DATA at a directory with models/text-word64/{model.onnx,tokenizer.json},"
  echo "models/fashion-mnist-cnn/fashion_mnist_embed256.onnx and corpus/{tmdb_5000_movies,IMDB-Movie-Data}.csv,"
  echo "or register your own model as the README shows (vsim.create_model)."
else

step "Registering models from $embed_data/models (ONNX Runtime $embed_runtime)"
# The model directory is a superuser setting; registration reads files only
# from it, and every later load finds the registered paths in it again, so
# it is set for all the demo's sessions (spaces escaped for PGOPTIONS).
export PGOPTIONS="$PGOPTIONS -c vsim.model_directory=${embed_data// /\\ }/models"
sql <<SQL
\o /dev/null
SELECT vsim.drop_model(name, true) FROM unnest(ARRAY['movies', 'fmnist_classes', 'fmnist_embed']) name;
SELECT vsim.create_model('movies', 'text-word64/model.onnx', 'text-word64/tokenizer.json');
SELECT vsim.create_model('fmnist_classes', 'fashion-mnist-cnn/fashion_mnist_embed256.onnx',
  options => '{"output": "output", "input_scale": 0.00392156862745098}');
SELECT vsim.create_model('fmnist_embed', 'fashion-mnist-cnn/fashion_mnist_embed256.onnx',
  options => '{"output": "embedding", "input_scale": 0.00392156862745098}');
SQL
show "SELECT name, input_kind, dimensions, output_name, pooling, normalize, max_length, left(model_sha256, 12) AS sha256 FROM vsim.models ORDER BY name;"
step_done

step "Loading the movie corpora (TMDB 5000, IMDB 1000) and embedding them in a generated column"
sql <<SQL
DROP TABLE IF EXISTS movies, imdb_movies, tmdb_raw, imdb_raw;
CREATE TEMP TABLE tmdb_raw (budget text, homepage text, id int, original_language text,
  original_title text, overview text, popularity float8, release_date text, revenue text,
  runtime text, status text, tagline text, title text, vote_average numeric, vote_count int);
\copy tmdb_raw FROM '$embed_data/corpus/tmdb_5000_movies.csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE movies (
  id int PRIMARY KEY, title text NOT NULL, overview text, language text,
  released date, vote_average numeric, vote_count int, popularity float8,
  -- computed inside the database on INSERT and UPDATE, like any generated column
  embedding vector(64) GENERATED ALWAYS AS
    (vsim.embed('movies', title || '. ' || coalesce(overview, ''))) STORED);
INSERT INTO movies (id, title, overview, language, released, vote_average, vote_count, popularity)
SELECT id, title, overview, original_language, to_date(nullif(nullif(release_date, ''), 'Null'), 'MM/DD/YYYY'),
       vote_average, vote_count, popularity FROM tmdb_raw;
CREATE TEMP TABLE imdb_raw (rank int, title text, genre text, description text, director text,
  actors text, year int, runtime int, rating numeric, votes int, revenue text, metascore text);
\copy imdb_raw FROM '$embed_data/corpus/IMDB-Movie-Data.csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE imdb_movies AS
SELECT rank AS id, title, string_to_array(genre, ',') AS genres, description, director, year, rating,
       vsim.embed('movies', title || '. ' || description) AS embedding FROM imdb_raw;
ANALYZE movies, imdb_movies;
SQL
show "SELECT (SELECT count(*) FROM movies) AS tmdb_movies, (SELECT count(*) FROM imdb_movies) AS imdb_movies,
       vector_dims((SELECT embedding FROM movies LIMIT 1)) AS dims;"
step_done

step "Semantic search with metadata filters: \"space adventure\", released after 2000, rated above 7"
show "SELECT m.title, extract(year FROM m.released)::int AS year, m.vote_average AS rating,
       round((m.embedding <=> q.v)::numeric, 3) AS cosine_distance
FROM movies m, (SELECT vsim.embed('movies', 'space adventure') AS v) q
WHERE m.released > '2000-12-31' AND m.vote_average > 7 AND m.vote_count >= 100
ORDER BY m.embedding <=> q.v LIMIT 8;"
step_done

step "The query is embedded in the same statement: \"a detective hunts a serial killer\" among IMDB thrillers rated 7+"
show "SELECT title, year, rating, array_to_string(genres, ', ') AS genres
FROM imdb_movies
WHERE 'Thriller' = ANY (genres) AND rating >= 7
ORDER BY embedding <=> vsim.embed('movies', 'a detective hunts a serial killer') LIMIT 6;"
step_done

step "Movies like this one: the nearest neighbours of \"Toy Story\" and \"Alien\""
show "SELECT s.title AS movie, n.title AS similar, extract(year FROM n.released)::int AS year,
       round(n.d::numeric, 3) AS cosine_distance
FROM movies s CROSS JOIN LATERAL (
  SELECT m.title, m.released, m.embedding <=> s.embedding AS d FROM movies m
  WHERE m.id <> s.id AND m.vote_count >= 50 ORDER BY d LIMIT 4) n
WHERE s.title IN ('Toy Story', 'Alien') ORDER BY s.title, n.d;"
step_done

if sql -At -c "SELECT to_regclass('fashion_mnist') IS NOT NULL" | grep -q t; then
  step "Fashion-MNIST: the CNN classifies the 10,000 test images inside the database"
  show "SELECT count(*) AS test_images,
       round(100.0 * avg((label = (SELECT i - 1 FROM unnest(vsim.embed_output('fmnist_classes', v::real[], 'output'))
                                   WITH ORDINALITY s(score, i) ORDER BY score DESC LIMIT 1))::int), 2) AS cnn_accuracy_percent
FROM fashion_mnist WHERE split = 'test';"
  step_done

  step "Search by image: CNN embeddings (256-d) against raw pixels, nearest test images to test image 60001"
  sql <<'SQL'
DROP TABLE IF EXISTS fashion_mnist_cnn;
CREATE TABLE fashion_mnist_cnn AS
SELECT id, label, vsim.embed('fmnist_embed', v::real[]) AS e FROM fashion_mnist WHERE split = 'test';
SQL
  show "SELECT 'CNN embedding' AS space, string_agg(c.name, ', ' ORDER BY n.d) AS labels_of_8_nearest
FROM fashion_mnist_cnn q CROSS JOIN LATERAL (
  SELECT t.label, t.e <=> q.e AS d FROM fashion_mnist_cnn t WHERE t.id <> q.id ORDER BY d LIMIT 8) n
JOIN fashion_mnist_class c ON c.label = n.label WHERE q.id = 60001
UNION ALL
SELECT 'raw pixels', string_agg(c.name, ', ' ORDER BY n.d)
FROM fashion_mnist q CROSS JOIN LATERAL (
  SELECT t.label, t.v <-> q.v AS d FROM fashion_mnist t WHERE t.split = 'test' AND t.id <> q.id ORDER BY d LIMIT 8) n
JOIN fashion_mnist_class c ON c.label = n.label WHERE q.id = 60001;"
  show "SELECT 'CNN embedding' AS space, round(100.0 * avg((n.label = q.label)::int), 1) AS same_class_percent_of_10_nearest
FROM fashion_mnist_cnn q CROSS JOIN LATERAL (
  SELECT label FROM fashion_mnist_cnn t WHERE t.id <> q.id ORDER BY t.e <=> q.e LIMIT 10) n
WHERE q.id < 60201
UNION ALL
SELECT 'raw pixels', round(100.0 * avg((n.label = q.label)::int), 1)
FROM fashion_mnist q CROSS JOIN LATERAL (
  SELECT label FROM fashion_mnist t WHERE t.split = 'test' AND t.id <> q.id ORDER BY t.v <-> q.v LIMIT 10) n
WHERE q.id BETWEEN 60001 AND 60200;"
  step_done
else
  step "Fashion-MNIST image search: skipped (table fashion_mnist from demo part 10 is missing)"
fi

fi
