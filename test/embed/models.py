#!/usr/bin/python3
"""Test models for vsim's embedding tests, built with python3-onnx, and
their numpy reference results.

    models.py gen DIR            write the models and their weights to DIR
    models.py check-bert DIR ROWS compare vsim's results (rows written by
                                 the TAP test, psql -A format) with a numpy forward pass; prints
                                 "max_abs_diff raw=... pooled=... batch=..."
    models.py check-mlp DIR ROWS likewise for the tensor model "mlp"

Models (all random weights from a fixed seed, opset 13):
  vocab.txt        a 90-token WordPiece vocabulary for tiny_bert
  tiny_bert.onnx   BERT-like encoder: token + position + type embeddings,
                   layer norm, one self-attention block (2 heads, softmax
                   with the attention mask), layer norm, GELU feed-forward,
                   layer norm; output last_hidden_state [batch, seq, 32]
  mlp.onnx         input "pixels" [batch, 2, 3] -> "embedding" [batch, 4]
                   (ReLU layer) and "scores" [batch, 3]
  dyn.onnx         input "x" [batch, n] with n dynamic -> "y" [batch, 5]
  int_input.onnx   input of type int64 (refused for tensor models)
  slow.onnx        input "x" [1, 512] -> "y" [1, 512] through max(x) products
                   of 512x512 matrices: seconds of work, for cancel tests
  oom.onnx         input "x" [1, 1] expanded to 10^12 floats: allocation fails
  corrupt.onnx     random bytes
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 13)]
HIDDEN, HEADS, FFN, MAX_POS = 32, 2, 64, 64

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


# --- tiny BERT ---------------------------------------------------------------

def bert_weights():
    rng = np.random.default_rng(20261121)
    w = {}

    def rand(name, *shape, scale=0.2):
        w[name] = (rng.standard_normal(shape) * scale).astype(np.float32)

    rand("tok_emb", len(VOCAB), HIDDEN, scale=0.5)
    rand("pos_emb", MAX_POS, HIDDEN)
    rand("type_emb", 2, HIDDEN)
    for p in ("ln0", "ln1", "ln2"):
        w[p + "_g"] = (1 + rng.standard_normal(HIDDEN) * 0.1).astype(np.float32)
        w[p + "_b"] = (rng.standard_normal(HIDDEN) * 0.1).astype(np.float32)
    for m in ("q", "k", "v", "o"):
        rand("W" + m, HIDDEN, HIDDEN)
        rand("b" + m, HIDDEN, scale=0.05)
    rand("W1", HIDDEN, FFN)
    rand("b1", FFN, scale=0.05)
    rand("W2", FFN, HIDDEN)
    rand("b2", HIDDEN, scale=0.05)
    return w


def bert_graph(w):
    nodes, inits = [], [init(k, v) for k, v in w.items()]
    inits += [init("eps", np.float32(1e-12)), init("half", np.float32(0.5)),
              init("one", np.float32(1.0)), init("sqrt2", np.float32(np.sqrt(2.0))),
              init("scale", np.float32(1.0 / np.sqrt(HIDDEN // HEADS))),
              init("neg", np.float32(-10000.0)),
              init("i0", np.int64(0)), init("i1", np.int64(1)),
              init("ax12", np.array([1, 2], dtype=np.int64)),
              init("split_shape", np.array([0, 0, HEADS, HIDDEN // HEADS], dtype=np.int64)),
              init("merge_shape", np.array([0, 0, HIDDEN], dtype=np.int64))]
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

    # self-attention with the mask as an additive bias
    for m in ("q", "k", "v"):
        dense("x0", "W" + m, "b" + m, m)
        n(helper.make_node("Reshape", [m, "split_shape"], [m + "_4"]))
        perm = [0, 2, 3, 1] if m == "k" else [0, 2, 1, 3]
        n(helper.make_node("Transpose", [m + "_4"], [m + "_h"], perm=perm))
    n(helper.make_node("MatMul", ["q_h", "k_h"], ["qk"]))
    n(helper.make_node("Mul", ["qk", "scale"], ["qk_s"]))
    n(helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT))
    n(helper.make_node("Sub", ["one", "mask_f"], ["mask_inv"]))
    n(helper.make_node("Mul", ["mask_inv", "neg"], ["mask_bias2"]))
    n(helper.make_node("Unsqueeze", ["mask_bias2", "ax12"], ["mask_bias"]))
    n(helper.make_node("Add", ["qk_s", "mask_bias"], ["scores"]))
    n(helper.make_node("Softmax", ["scores"], ["probs"], axis=-1))
    n(helper.make_node("MatMul", ["probs", "v_h"], ["ctx_h"]))
    n(helper.make_node("Transpose", ["ctx_h"], ["ctx_t"], perm=[0, 2, 1, 3]))
    n(helper.make_node("Reshape", ["ctx_t", "merge_shape"], ["ctx"]))
    dense("ctx", "Wo", "bo", "attn")
    n(helper.make_node("Add", ["x0", "attn"], ["res1"]))
    layer_norm("res1", "ln1", "x1")

    # feed-forward with exact (erf) GELU
    dense("x1", "W1", "b1", "h")
    n(helper.make_node("Div", ["h", "sqrt2"], ["h_s"]))
    n(helper.make_node("Erf", ["h_s"], ["h_erf"]))
    n(helper.make_node("Add", ["h_erf", "one"], ["h_1"]))
    n(helper.make_node("Mul", ["h", "h_1"], ["h_2"]))
    n(helper.make_node("Mul", ["h_2", "half"], ["g"]))
    dense("g", "W2", "b2", "ffn")
    n(helper.make_node("Add", ["x1", "ffn"], ["res2"]))
    layer_norm("res2", "ln2", "last_hidden_state")

    ins = [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "seq"])
           for name in ("input_ids", "attention_mask", "token_type_ids")]
    out = helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT,
                                        ["batch", "seq", HIDDEN])
    return helper.make_graph(nodes, "tiny_bert", ins, [out], inits)


def bert_reference(w, ids):
    """numpy forward pass (float64) of tiny_bert for one sequence of ids."""
    w = {k: v.astype(np.float64) for k, v in w.items()}
    ids = np.asarray(ids)
    s = len(ids)

    def ln(x, p):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * w[p + "_g"] + w[p + "_b"]

    x = ln(w["tok_emb"][ids] + w["pos_emb"][:s] + w["type_emb"][0], "ln0")
    hd = HIDDEN // HEADS
    q, k, v = ((x @ w["W" + m] + w["b" + m]).reshape(s, HEADS, hd).transpose(1, 0, 2)
               for m in "qkv")
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(hd)
    scores = scores - scores.max(-1, keepdims=True)
    p = np.exp(scores)
    p /= p.sum(-1, keepdims=True)
    ctx = (p @ v).transpose(1, 0, 2).reshape(s, HIDDEN)
    x = ln(x + ctx @ w["Wo"] + w["bo"], "ln1")
    h = x @ w["W1"] + w["b1"]
    from math import erf
    g = 0.5 * h * (1 + np.vectorize(erf)(h / np.sqrt(2)))
    return ln(x + g @ w["W2"] + w["b2"], "ln2")


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


def int_input_graph():
    nodes = [helper.make_node("Cast", ["x"], ["y"], to=TensorProto.FLOAT)]
    ins = [helper.make_tensor_value_info("x", TensorProto.INT64, [1, 4])]
    outs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])]
    return helper.make_graph(nodes, "int_input", ins, outs)


def slow_graph():
    """y = mean over rows of (x + W0) Q^k, k = max(x) iterations of a Loop:
    zeros (registration's trial run) cost nothing, max(x) = 1000 seconds."""
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


def gen(d):
    with open(f"{d}/vocab.txt", "w") as f:
        f.write("\n".join(VOCAB) + "\n")
    w = bert_weights()
    np.savez(f"{d}/tiny_bert.npz", **w)
    save(bert_graph(w), f"{d}/tiny_bert.onnx")
    m = mlp_weights()
    np.savez(f"{d}/mlp.npz", **m)
    save(mlp_graph(m), f"{d}/mlp.onnx")
    # same shape, other weights: stands in for a model file changed on disk
    m2 = {k: v * 2 for k, v in m.items()}
    save(mlp_graph(m2), f"{d}/mlp_changed.onnx")
    save(dyn_graph(), f"{d}/dyn.onnx")
    save(int_input_graph(), f"{d}/int_input.onnx")
    save(slow_graph(), f"{d}/slow.onnx")
    save(oom_graph(), f"{d}/oom.onnx")
    with open(f"{d}/corrupt.onnx", "wb") as f:
        f.write(np.random.default_rng(1).bytes(4096))


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
        ref = bert_reference(w, ids)
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
     "check-bert": lambda: check_bert(sys.argv[2], sys.argv[3]),
     "check-mlp": lambda: check_mlp(sys.argv[2], sys.argv[3])}[sys.argv[1]]()
