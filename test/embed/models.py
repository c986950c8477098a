#!/usr/bin/python3
"""Test models for vsim's embedding tests, built with python3-onnx, and
their numpy reference results.

    models.py gen DIR            write the models and their weights to DIR
    models.py gen-minilm DIR     write minilm_random.onnx, a MiniLM-sized
                                 encoder with random weights (benchmark)
    models.py check-bert DIR ROWS compare vsim's results (rows written by
                                 the TAP test, psql -A format) with a numpy forward pass; prints
                                 "max_abs_diff raw=... pooled=... batch=..."
    models.py check-mlp DIR ROWS likewise for the tensor model "mlp"

Models (all random weights from a fixed seed, opset 13):
  vocab.txt        a 90-token WordPiece vocabulary for tiny_bert
  tiny_bert.onnx   BERT-like encoder: token + position + type embeddings,
                   layer norm, one layer of self-attention (2 heads, softmax
                   with the attention mask), layer norm, GELU feed-forward,
                   layer norm; output last_hidden_state [batch, seq, 32]
  mlp.onnx         input "pixels" [batch, 2, 3] -> "embedding" [batch, 4]
                   (ReLU layer) and "scores" [batch, 3]
  dyn.onnx         input "x" [batch, n] with n dynamic -> "y" [batch, 5]
  dyn4.onnx        input "x" [a, b, c, d], all dynamic -> "y" [a, b*c*d]
  int_input.onnx   input of type int64 (refused for tensor models)
  slow.onnx        input "x" [1, 512] -> "y" [1, 512] through max(x) products
                   of 512x512 matrices: seconds of work, for cancel tests
  oom.onnx         input "x" [1, 1] expanded to 10^12 floats: allocation fails
  corrupt.onnx     random bytes
  truncated.onnx   the first half of tiny_bert.onnx
  deep.onnx        34 nested If subgraphs: protobuf messages 103 deep
  ortm.onnx        mlp.onnx with producer_name "ORTM...": bytes 4-7 read
                   "ORTM", ONNX Runtime's mark of its own model format
Models with external data (vsim must refuse them all): each adds the bytes
of its tensor "secret" (uint8 [n]) to its input "x" [1, n] -> "y" [1, n],
so that a model that loads would return the bytes of the file it names.
  external.onnx    mlp.onnx saved by onnx with its weights in external.data
  leak_version.onnx      secret (initializer) from PG_VERSION
  leak_conf.onnx         secret (a Constant node's tensor) from postgresql.conf
  leak_subgraph.onnx     secret in a Constant inside an If's then_branch
  leak_function.onnx     secret in a Constant inside a model-local function
  leak_sparse.onnx       secret's values in a sparse initializer
  leak_flag.onnx         secret with data_location EXTERNAL but no entries
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 13)]

VOCAB = (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] +
         list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") +
         list("abcdefghijklmnopqrstuvwxyz") +
         ["##" + c for c in "aeinorst"] +
         ["the", "cat", "sat", "on", "mat", "dog", "##s", "run", "##ning",
          "hello", "world", "vsim", "checks", "this", "model", "caf", "##e"])


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def save(graph, path):
    model = helper.make_model(graph, opset_imports=OPSET, producer_name="vsim-test")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


# --- BERT-like encoders ------------------------------------------------------

class Shape:
    """Encoder size: tiny_bert for tests, MiniLM-sized for the benchmark."""

    def __init__(self, layers=1, hidden=32, heads=2, ffn=64, vocab=len(VOCAB), max_pos=64):
        self.layers, self.hidden, self.heads = layers, hidden, heads
        self.ffn, self.vocab, self.max_pos = ffn, vocab, max_pos


TINY = Shape()
MINILM = Shape(layers=6, hidden=384, heads=12, ffn=1536, vocab=30522, max_pos=512)


def bert_weights(shape, seed=20261121):
    rng = np.random.default_rng(seed)
    w = {}
    h = shape.hidden

    def rand(name, *dims, scale=0.2):
        w[name] = (rng.standard_normal(dims) * scale).astype(np.float32)

    def norm(name):
        w[name + "_g"] = (1 + rng.standard_normal(h) * 0.1).astype(np.float32)
        w[name + "_b"] = (rng.standard_normal(h) * 0.1).astype(np.float32)

    rand("tok_emb", shape.vocab, h, scale=0.5)
    rand("pos_emb", shape.max_pos, h)
    rand("type_emb", 2, h)
    norm("ln0")
    for i in range(shape.layers):
        p = f"l{i}_"
        for m in ("q", "k", "v", "o"):
            rand(p + "W" + m, h, h, scale=1 / np.sqrt(h))
            rand(p + "b" + m, h, scale=0.05)
        rand(p + "W1", h, shape.ffn, scale=1 / np.sqrt(h))
        rand(p + "b1", shape.ffn, scale=0.05)
        rand(p + "W2", shape.ffn, h, scale=1 / np.sqrt(shape.ffn))
        rand(p + "b2", h, scale=0.05)
        norm(p + "ln1")
        norm(p + "ln2")
    return w


def bert_graph(shape, w):
    h, heads = shape.hidden, shape.heads
    nodes, inits = [], [init(k, v) for k, v in w.items()]
    inits += [init("eps", np.float32(1e-12)), init("half", np.float32(0.5)),
              init("one", np.float32(1.0)), init("sqrt2", np.float32(np.sqrt(2.0))),
              init("scale", np.float32(1.0 / np.sqrt(h // heads))),
              init("neg", np.float32(-10000.0)),
              init("i0", np.int64(0)), init("i1", np.int64(1)),
              init("ax12", np.array([1, 2], dtype=np.int64)),
              init("split_shape", np.array([0, 0, heads, h // heads], dtype=np.int64)),
              init("merge_shape", np.array([0, 0, h], dtype=np.int64))]
    n = nodes.append

    def layer_norm(x, p, out):
        n(helper.make_node("ReduceMean", [x], [out + "_mu"], axes=[-1]))
        n(helper.make_node("Sub", [x, out + "_mu"], [out + "_d"]))
        n(helper.make_node("Mul", [out + "_d", out + "_d"], [out + "_d2"]))
        n(helper.make_node("ReduceMean", [out + "_d2"], [out + "_var"], axes=[-1]))
        n(helper.make_node("Add", [out + "_var", "eps"], [out + "_ve"]))
        n(helper.make_node("Sqrt", [out + "_ve"], [out + "_sd"]))
        n(helper.make_node("Div", [out + "_d", out + "_sd"], [out + "_z"]))
        n(helper.make_node("Mul", [out + "_z", p + "_g"], [out + "_zg"]))
        n(helper.make_node("Add", [out + "_zg", p + "_b"], [out]))

    def dense(x, W, b, out):
        n(helper.make_node("MatMul", [x, W], [out + "_mm"]))
        n(helper.make_node("Add", [out + "_mm", b], [out]))

    # embeddings
    n(helper.make_node("Gather", ["tok_emb", "input_ids"], ["e_tok"]))
    n(helper.make_node("Shape", ["input_ids"], ["ids_shape"]))
    n(helper.make_node("Gather", ["ids_shape", "i1"], ["seq_len"]))
    n(helper.make_node("Range", ["i0", "seq_len", "i1"], ["positions"]))
    n(helper.make_node("Gather", ["pos_emb", "positions"], ["e_pos"]))
    n(helper.make_node("Gather", ["type_emb", "token_type_ids"], ["e_type"]))
    n(helper.make_node("Add", ["e_tok", "e_pos"], ["e_sum1"]))
    n(helper.make_node("Add", ["e_sum1", "e_type"], ["e_sum"]))
    layer_norm("e_sum", "ln0", "x0")

    # the attention mask as an additive bias [batch, 1, 1, seq]
    n(helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT))
    n(helper.make_node("Sub", ["one", "mask_f"], ["mask_inv"]))
    n(helper.make_node("Mul", ["mask_inv", "neg"], ["mask_bias2"]))
    n(helper.make_node("Unsqueeze", ["mask_bias2", "ax12"], ["mask_bias"]))

    x = "x0"
    for i in range(shape.layers):
        p = f"l{i}_"
        # self-attention
        for m in ("q", "k", "v"):
            dense(x, p + "W" + m, p + "b" + m, p + m)
            n(helper.make_node("Reshape", [p + m, "split_shape"], [p + m + "_4"]))
            perm = [0, 2, 3, 1] if m == "k" else [0, 2, 1, 3]
            n(helper.make_node("Transpose", [p + m + "_4"], [p + m + "_h"], perm=perm))
        n(helper.make_node("MatMul", [p + "q_h", p + "k_h"], [p + "qk"]))
        n(helper.make_node("Mul", [p + "qk", "scale"], [p + "qk_s"]))
        n(helper.make_node("Add", [p + "qk_s", "mask_bias"], [p + "scores"]))
        n(helper.make_node("Softmax", [p + "scores"], [p + "probs"], axis=-1))
        n(helper.make_node("MatMul", [p + "probs", p + "v_h"], [p + "ctx_h"]))
        n(helper.make_node("Transpose", [p + "ctx_h"], [p + "ctx_t"], perm=[0, 2, 1, 3]))
        n(helper.make_node("Reshape", [p + "ctx_t", "merge_shape"], [p + "ctx"]))
        dense(p + "ctx", p + "Wo", p + "bo", p + "attn")
        n(helper.make_node("Add", [x, p + "attn"], [p + "res1"]))
        layer_norm(p + "res1", p + "ln1", p + "x1")
        # feed-forward with exact (erf) GELU
        dense(p + "x1", p + "W1", p + "b1", p + "h")
        n(helper.make_node("Div", [p + "h", "sqrt2"], [p + "h_s"]))
        n(helper.make_node("Erf", [p + "h_s"], [p + "h_erf"]))
        n(helper.make_node("Add", [p + "h_erf", "one"], [p + "h_1"]))
        n(helper.make_node("Mul", [p + "h", p + "h_1"], [p + "h_2"]))
        n(helper.make_node("Mul", [p + "h_2", "half"], [p + "g"]))
        dense(p + "g", p + "W2", p + "b2", p + "ffn")
        n(helper.make_node("Add", [p + "x1", p + "ffn"], [p + "res2"]))
        x = "last_hidden_state" if i == shape.layers - 1 else p + "out"
        layer_norm(p + "res2", p + "ln2", x)

    ins = [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "seq"])
           for name in ("input_ids", "attention_mask", "token_type_ids")]
    out = helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT,
                                        ["batch", "seq", h])
    return helper.make_graph(nodes, "bert", ins, [out], inits)


def bert_reference(shape, w, ids):
    """numpy forward pass (float64) of the encoder for one sequence of ids."""
    from math import erf
    w = {k: v.astype(np.float64) for k, v in w.items()}
    ids = np.asarray(ids)
    s, h, heads = len(ids), shape.hidden, shape.heads
    hd = h // heads

    def ln(x, p):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * w[p + "_g"] + w[p + "_b"]

    x = ln(w["tok_emb"][ids] + w["pos_emb"][:s] + w["type_emb"][0], "ln0")
    for i in range(shape.layers):
        p = f"l{i}_"
        q, k, v = ((x @ w[p + "W" + m] + w[p + "b" + m]).reshape(s, heads, hd).transpose(1, 0, 2)
                   for m in "qkv")
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(hd)
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        ctx = (probs @ v).transpose(1, 0, 2).reshape(s, h)
        x = ln(x + ctx @ w[p + "Wo"] + w[p + "bo"], p + "ln1")
        f = x @ w[p + "W1"] + w[p + "b1"]
        g = 0.5 * f * (1 + np.vectorize(erf)(f / np.sqrt(2)))
        x = ln(x + g @ w[p + "W2"] + w[p + "b2"], p + "ln2")
    return x


# --- tensor models -------------------------------------------------------------

def mlp_weights():
    rng = np.random.default_rng(7)
    return {"W1": rng.standard_normal((6, 4)).astype(np.float32),
            "b1": rng.standard_normal(4).astype(np.float32),
            "W2": rng.standard_normal((4, 3)).astype(np.float32)}


def mlp_graph(w, name="mlp"):
    nodes = [helper.make_node("Flatten", ["pixels"], ["flat"], axis=1),
             helper.make_node("MatMul", ["flat", "W1"], ["h"]),
             helper.make_node("Add", ["h", "b1"], ["hb"]),
             helper.make_node("Relu", ["hb"], ["embedding"]),
             helper.make_node("MatMul", ["embedding", "W2"], ["scores"])]
    ins = [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["batch", 2, 3])]
    outs = [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", 4]),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", 3])]
    return helper.make_graph(nodes, name, ins, outs, [init(k, v) for k, v in w.items()])


def mlp_reference(w, x):
    x = np.asarray(x, dtype=np.float64).reshape(1, 6)
    emb = np.maximum(x @ w["W1"] + w["b1"], 0)
    return emb[0], (emb @ w["W2"])[0]


def dyn_graph():
    nodes = [helper.make_node("ReduceSum", ["x", "axis1"], ["s"], keepdims=1),
             helper.make_node("Mul", ["s", "ramp"], ["y"])]
    ins = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "n"])]
    outs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 5])]
    ramp = init("ramp", np.arange(1, 6, dtype=np.float32).reshape(1, 5))
    return helper.make_graph(nodes, "dyn", ins, outs,
                             [ramp, init("axis1", np.array([1], dtype=np.int64))])


def dyn4_graph():
    nodes = [helper.make_node("Flatten", ["x"], ["y"], axis=1)]
    ins = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["a", "b", "c", "d"])]
    outs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["a", "n"])]
    return helper.make_graph(nodes, "dyn4", ins, outs)


def int_input_graph():
    nodes = [helper.make_node("Cast", ["x"], ["y"], to=TensorProto.FLOAT)]
    ins = [helper.make_tensor_value_info("x", TensorProto.INT64, [1, 4])]
    outs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])]
    return helper.make_graph(nodes, "int_input", ins, outs)


def no_output_graph():
    """A graph that computes nothing it returns: no outputs at all."""
    nodes = [helper.make_node("Relu", ["x"], ["unused"])]
    ins = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])]
    return helper.make_graph(nodes, "no_output", ins, [])


def slow_graph():
    """y = mean over rows of (x + W0) Q^k, k = max(x) iterations of a Loop:
    zeros (registration's trial run) cost nothing; max(x) = 1000 takes seconds."""
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.standard_normal((512, 512)))
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("MatMul", ["a_in", "Q"], ["a_out"])],
        "step",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("a_in", TensorProto.FLOAT, [512, 512])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("a_out", TensorProto.FLOAT, [512, 512])])
    nodes = [helper.make_node("ReduceMax", ["x"], ["xmax"], keepdims=0),
             helper.make_node("Cast", ["xmax"], ["steps"], to=TensorProto.INT64),
             helper.make_node("Add", ["x", "W0"], ["a0"]),
             helper.make_node("Loop", ["steps", "true", "a0"], ["a"], body=body),
             helper.make_node("ReduceMean", ["a"], ["y"], axes=[0])]
    ins = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 512])]
    outs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 512])]
    inits = [init("Q", q.astype(np.float32)), init("true", np.array(True)),
             init("W0", rng.standard_normal((512, 512)).astype(np.float32))]
    return helper.make_graph(nodes, "slow", ins, outs, inits)


def oom_graph():
    nodes = [helper.make_node("Expand", ["x", "huge"], ["big"]),
             helper.make_node("ReduceSum", ["big", "axis1"], ["y"], keepdims=1)]
    ins = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1])]
    outs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])]
    huge = init("huge", np.array([1, 250_000_000_000], dtype=np.int64))
    return helper.make_graph(nodes, "oom", ins, outs,
                             [huge, init("axis1", np.array([1], dtype=np.int64))])


# --- malformed and external-data models ----------------------------------------

def leak_model(graph):
    model = helper.make_model(graph, opset_imports=OPSET, producer_name="vsim-test")
    model.ir_version = 8
    return model


def external_tensor(location, n, flag_only=False):
    """uint8 [n] tensor "secret" whose data ONNX Runtime would read from location."""
    t = TensorProto(name="secret", data_type=TensorProto.UINT8, dims=[n],
                    data_location=TensorProto.EXTERNAL)
    if not flag_only:
        for key, value in (("location", location), ("offset", "0"), ("length", str(n))):
            t.external_data.add(key=key, value=value)
    return t


def leak_graph(n, nodes=(), inits=(), sparse=()):
    """y = x + float(secret): nodes/inits/sparse must provide "secret"."""
    nodes = list(nodes) + [helper.make_node("Cast", ["secret"], ["s"], to=TensorProto.FLOAT),
                           helper.make_node("Add", ["x", "s"], ["y"])]
    return helper.make_graph(nodes, "leak",
                             [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n])],
                             [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])],
                             list(inits), sparse_initializer=list(sparse))


def constant(tensor):
    return helper.make_node("Constant", [], ["secret"], value=tensor)


def leak_models(n=3):
    """The leak_*.onnx models by file name."""
    t = external_tensor("PG_VERSION", n)
    sub = helper.make_graph([constant(t)], "then", [],
                            [helper.make_tensor_value_info("secret", TensorProto.UINT8, [n])])
    cond = init("cond", np.array(True))
    other = helper.make_graph([constant(numpy_helper.from_array(np.zeros(n, np.uint8)))], "else", [],
                              [helper.make_tensor_value_info("secret", TensorProto.UINT8, [n])])
    branch = helper.make_node("If", ["cond"], ["secret"], then_branch=sub, else_branch=other)
    func = helper.make_function("vsim.test", "Secret", [], ["out"],
                                [helper.make_node("Constant", [], ["out"], value=t)], OPSET)
    sparse_values = external_tensor("PG_VERSION", n)
    sparse_values.name = "secret_values"
    sparse = helper.make_sparse_tensor(sparse_values, numpy_helper.from_array(
        np.arange(n, dtype=np.int64), "secret_indices"), [n])
    sparse.values.name = "secret"
    with_function = leak_model(leak_graph(n, [helper.make_node("Secret", [], ["secret"], domain="vsim.test")]))
    with_function.functions.append(func)
    with_function.opset_import.append(helper.make_opsetid("vsim.test", 1))
    return {
        "leak_version.onnx": leak_model(leak_graph(n, inits=[t])),
        "leak_conf.onnx": leak_model(leak_graph(40, [constant(external_tensor("postgresql.conf", 40))])),
        "leak_subgraph.onnx": leak_model(leak_graph(n, [branch], [cond])),
        "leak_function.onnx": with_function,
        "leak_sparse.onnx": leak_model(leak_graph(n, sparse=[sparse])),
        "leak_flag.onnx": leak_model(leak_graph(n, inits=[external_tensor("", n, flag_only=True)])),
    }


def deep_model(levels=34):
    """A model whose If subgraphs nest `levels` deep (3 messages a level)."""
    out = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])]
    leaf = helper.make_graph([helper.make_node("Constant", [], ["y"], value_floats=[1.0])], "leaf", [], out)
    g = leaf
    for i in range(levels):
        g = helper.make_graph([helper.make_node("If", ["c"], ["y"], then_branch=g, else_branch=leaf)],
                              f"g{i}", [], out, [init("c", np.array(True))])
    return leak_model(g)


def gen_refused(d, m):
    """The models vsim refuses: malformed, external data; m: mlp weights."""
    whole = open(f"{d}/tiny_bert.onnx", "rb").read()
    with open(f"{d}/truncated.onnx", "wb") as f:
        f.write(whole[:len(whole) // 2])
    with open(f"{d}/deep.onnx", "wb") as f:
        f.write(deep_model().SerializeToString())
    ext = helper.make_model(mlp_graph(m), opset_imports=OPSET, producer_name="vsim-test")
    ext.ir_version = 8
    onnx.save_model(ext, f"{d}/external.onnx", save_as_external_data=True,
                    all_tensors_to_one_file=True, location="external.data", size_threshold=0)
    for name, model in leak_models().items():
        with open(f"{d}/{name}", "wb") as f:
            f.write(model.SerializeToString())
    ortm = helper.make_model(mlp_graph(m), opset_imports=OPSET, producer_name="ORTM, not ORT format")
    ortm.ir_version = 8
    data = ortm.SerializeToString()
    assert data[4:8] == b"ORTM"
    with open(f"{d}/ortm.onnx", "wb") as f:
        f.write(data)


def gen_minilm(d):
    """A MiniLM-sized encoder (6 layers, 384 hidden, 12 heads, 30522 tokens)
    with random weights, for the benchmark: real cost, meaningless vectors."""
    save(bert_graph(MINILM, bert_weights(MINILM, seed=6)), f"{d}/minilm_random.onnx")


def gen(d):
    with open(f"{d}/vocab.txt", "w") as f:
        f.write("\n".join(VOCAB) + "\n")
    w = bert_weights(TINY)
    np.savez(f"{d}/tiny_bert.npz", **w)
    save(bert_graph(TINY, w), f"{d}/tiny_bert.onnx")
    m = mlp_weights()
    np.savez(f"{d}/mlp.npz", **m)
    save(mlp_graph(m), f"{d}/mlp.onnx")
    # same shape, other weights: stands in for a model file changed on disk
    m2 = {k: v * 2 for k, v in m.items()}
    save(mlp_graph(m2), f"{d}/mlp_changed.onnx")
    save(dyn_graph(), f"{d}/dyn.onnx")
    save(dyn4_graph(), f"{d}/dyn4.onnx")
    save(int_input_graph(), f"{d}/int_input.onnx")
    save(no_output_graph(), f"{d}/no_output.onnx")
    save(slow_graph(), f"{d}/slow.onnx")
    save(oom_graph(), f"{d}/oom.onnx")
    with open(f"{d}/corrupt.onnx", "wb") as f:
        f.write(np.random.default_rng(1).bytes(4096))
    gen_refused(d, m)


def floats(s):
    return np.array([float(x) for x in s.strip("{}[]").split(",")], dtype=np.float64)


def check_bert(d, tsv):
    """Rows ("|"-separated): ids {..}, raw {..} (last_hidden_state), vec [..], batch [..]."""
    w = dict(np.load(f"{d}/tiny_bert.npz"))
    raw_d = pooled_d = batch_d = 0.0
    rows = 0
    for line in open(tsv):
        if not line.strip():
            continue
        ids, raw, vec, batch = line.rstrip("\n").split("|")
        ids = [int(x) for x in ids.strip("{}").split(",")]
        ref = bert_reference(TINY, w, ids)
        pooled = ref.mean(0)
        pooled /= np.linalg.norm(pooled)
        raw_d = max(raw_d, np.abs(floats(raw) - ref.reshape(-1)).max())
        pooled_d = max(pooled_d, np.abs(floats(vec) - pooled).max())
        batch_d = max(batch_d, np.abs(floats(batch) - pooled).max())
        rows += 1
    print(f"rows={rows} raw={raw_d:.3g} pooled={pooled_d:.3g} batch={batch_d:.3g}")


def check_mlp(d, tsv):
    """Rows ("|"-separated): input {..}, embedding [..], scores {..}."""
    w = dict(np.load(f"{d}/mlp.npz"))
    emb_d = scores_d = 0.0
    rows = 0
    for line in open(tsv):
        if not line.strip():
            continue
        x, emb, scores = line.rstrip("\n").split("|")
        ref_emb, ref_scores = mlp_reference(w, floats(x))
        emb_d = max(emb_d, np.abs(floats(emb) - ref_emb).max())
        scores_d = max(scores_d, np.abs(floats(scores) - ref_scores).max())
        rows += 1
    print(f"rows={rows} embedding={emb_d:.3g} scores={scores_d:.3g}")


if __name__ == "__main__":
    {"gen": lambda: gen(sys.argv[2]),
     "gen-minilm": lambda: gen_minilm(sys.argv[2]),
     "check-bert": lambda: check_bert(sys.argv[2], sys.argv[3]),
     "check-mlp": lambda: check_mlp(sys.argv[2], sys.argv[3])}[sys.argv[1]]()
