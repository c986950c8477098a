# test/bench/lib.sh: shell functions shared by the index benchmarks
# (bench_hnsw.sh, bench_ivf.sh, ...).  Source it after scripts/lib.sh.

BENCH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# bench_plot SCRIPT JSON PNG [ARGS...]: draw the JSON lines of file JSON
# with test/bench/SCRIPT (plot_ann.py, plot_filter.py) into PNG, with
# Debian's python3-matplotlib (installed as root when missing; without it
# the plot is skipped, with a message).
bench_plot() {
  local script=$1 json=$2 png=$3
  shift 3
  if (VSIM_APT_PACKAGES=python3-matplotlib install_packages); then
    /usr/bin/python3 "$BENCH_LIB_DIR/$script" "$json" --out "$png" "$@"
    log "plot in $png"
  else
    log "no python3-matplotlib: no plot of $json"
  fi
}

# cnn_model_dir NAME: get the cluster ready for annbench.py's cnn256 data set
# (the 256-d embeddings the Fashion-MNIST CNN computes with vsim.embed).
# Sets CNN_MODEL_DIR and points vsim.model_directory at it, or says why the
# data set is skipped (on stderr, as benchmark NAME) and returns 1: the
# embedding subsystem is not built, or the data directory or the model is
# missing.
cnn_model_dir() {
  local name=$1 model
  CNN_MODEL_DIR=
  # vsim.embed is overloaded, so look it up in pg_proc (to_regproc() gives
  # NULL for an ambiguous name).
  if [ "$(psql -X -At -c "SELECT count(*) > 0 FROM pg_proc WHERE oid::regprocedure::text LIKE 'vsim.embed(%'")" != t ]; then
    echo "$name: skipping the cnn256 data set: vsim.embed is not available (embedding subsystem not built)" >&2
    return 1
  fi
  if ! vsim_data_dir; then
    echo "$name: skipping the cnn256 data set: no data directory (VSIM_DATA is not set, ../shared/data does not exist)" >&2
    return 1
  fi
  model=$VSIM_DATA_DIR/models/fashion-mnist-cnn/fashion_mnist_embed256.onnx
  if [ ! -f "$model" ]; then
    echo "$name: skipping the cnn256 data set: no $model" >&2
    return 1
  fi
  CNN_MODEL_DIR=$(dirname "$model")
  # the embedding subsystem reads models only from vsim.model_directory (a
  # setting of the library, so load it before ALTER SYSTEM knows the name)
  psql -X -q -v ON_ERROR_STOP=1 -c "LOAD 'vsim'" \
    -c "ALTER SYSTEM SET vsim.model_directory = '$CNN_MODEL_DIR'" -c "SELECT pg_reload_conf()" >/dev/null
}
