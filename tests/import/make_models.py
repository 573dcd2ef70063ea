#!/usr/bin/python3
"""Makes the ONNX files the import tests read, with real exporters, into OUTDIR.

  /usr/bin/python3 tests/import/make_models.py OUTDIR

Debian's python3-torch, python3-torchvision and python3-onnx (scripts/setup.sh
installs them). Nothing is downloaded: the networks get random weights.

  mobilenet_v2.onnx, mobilenet_v3_large.onnx, efficientnet_b0.onnx
      torch.onnx.export of torchvision's networks (weights=None, eval mode).
  block3.in, block3.out, block3.convs
      an input of MobileNetV2's features[3] (an inverted residual block with
      its residual add), PyTorch's output of the block, and the names of the
      block's three Conv nodes in mobilenet_v2.onnx.
  cases.txt, CASE.onnx, CASE.in, CASE.out, CASE.out_noact
      one small graph per corner case, a random input of its layer, PyTorch's
      output of the layer with its activation and without. cases.txt has one
      line per case: name, the layer line import must write (with the
      activation folded), the number of nodes the activation is made of, the
      number of nodes skipped besides those, and the activation's name.
  bad_*.onnx
      files import must refuse: no convolution, external data, absurd sizes,
      a symbolic input size.

Tensors in the .in/.out files are float32, little-endian, NHWC.
"""
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
import torchvision
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(1)
rng = np.random.default_rng(1)


def path(name):
    return os.path.join(OUT, name)


def nhwc(t):
    return t.detach().permute(0, 2, 3, 1).contiguous().numpy().astype("<f4")


def write_tensor(name, t):
    nhwc(t).tofile(path(name))


# ---- torchvision networks --------------------------------------------------
def export_net(name):
    net = getattr(torchvision.models, name)(weights=None).eval()
    torch.onnx.export(net, torch.randn(1, 3, 224, 224), path(name + ".onnx"))
    return net


mnv2 = export_net("mobilenet_v2")
export_net("mobilenet_v3_large")
export_net("efficientnet_b0")

# features[3]: 24 -> 144 (expand, relu6) -> depthwise 3x3 (relu6) -> 24 (project), + input.
block = mnv2.features[3]
x = torch.randn(1, 24, 56, 56)
with torch.no_grad():
    y = block(x)
write_tensor("block3.in", x)
write_tensor("block3.out", y)
graph = onnx.load(path("mobilenet_v2.onnx")).graph
convs = [n.name for n in graph.node if n.op_type == "Conv" and n.name.startswith("/features/features.3/")]
assert len(convs) == 3, convs
with open(path("block3.convs"), "w") as f:
    f.write("\n".join(convs) + "\n")


# ---- corner cases built with the onnx package --------------------------------
cases = []


def random_weights(*shape):
    return rng.standard_normal(shape).astype(np.float32) * 0.5


def save_case(name, model, x, out, out_noact, line, act_nodes=0, skipped=0, act="-"):
    onnx.save(model, path(name + ".onnx"))
    write_tensor(name + ".in", x)
    write_tensor(name + ".out", out)
    write_tensor(name + ".out_noact", out_noact)
    cases.append("\t".join([name, line, str(act_nodes), str(skipped), act]))


def model_of(nodes, inits, x_shape, y_name, opset=13, inputs=None):
    graph = helper.make_graph(
        nodes, "case", inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info(y_name, TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="septune-tests")


def same_pads(size, k, s, d, lower):
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    begin = total - total // 2 if lower else total // 2
    return begin, total - begin


def torch_conv(x, w, b, pads, strides, dilations, group):
    top, left, bottom, right = pads
    x = F.pad(x, (left, right, top, bottom))
    return F.conv2d(x, torch.from_numpy(w), None if b is None else torch.from_numpy(b), stride=strides,
                    dilation=dilations, groups=group)


def conv_case(name, line, c, h, w, co, k, group, strides=(1, 1), dilations=(1, 1), pads=None, auto_pad=None,
              bias=True, after=None, opset=13):
    """A Conv on x [1][c][h][w]; `after` adds nodes on its output "y" and
    returns (nodes, inits, output name, torch function, act nodes, skipped, act name)."""
    wt = random_weights(co, c // group, k[0], k[1])
    bt = random_weights(co) if bias else None
    inits = [numpy_helper.from_array(wt, "w")] + ([numpy_helper.from_array(bt, "b")] if bias else [])
    attrs = dict(kernel_shape=list(k), strides=list(strides), dilations=list(dilations), group=group)
    if auto_pad:
        attrs["auto_pad"] = auto_pad
        lower = auto_pad == "SAME_LOWER"
        if auto_pad == "VALID":
            p = (0, 0, 0, 0)
        else:
            t, b_ = same_pads(h, k[0], strides[0], dilations[0], lower)
            l, r = same_pads(w, k[1], strides[1], dilations[1], lower)
            p = (t, l, b_, r)
    else:
        p = pads or (0, 0, 0, 0)
        attrs["pads"] = list(p)
    nodes = [helper.make_node("Conv", ["x", "w"] + (["b"] if bias else []), ["y"], name="conv", **attrs)]
    x = torch.randn(1, c, h, w)
    with torch.no_grad():
        y = torch_conv(x, wt, bt, p, strides, dilations, group)
    out, act_nodes, skipped, act, y_name, fn = y, 0, 0, "-", "y", None
    if after:
        more, more_inits, y_name, fn, act_nodes, skipped, act = after(co)
        nodes += more
        inits += more_inits
    with torch.no_grad():
        out = fn(y) if fn else y
    save_case(name, model_of(nodes, inits, [1, c, h, w], y_name, opset), x, out, y, line, act_nodes, skipped, act)


def scalar(name, v):
    return numpy_helper.from_array(np.array(v, dtype=np.float32), name)


conv_case("same_upper", "dw h=16 w=15 c=8 k=3 s=2 pad=same act=none bias=1", 8, 16, 15, 8, (3, 3), 8,
          strides=(2, 2), auto_pad="SAME_UPPER")
conv_case("same_lower", "dw h=16 w=15 c=8 k=3 s=2 pad=1,1,0,1 act=none bias=1", 8, 16, 15, 8, (3, 3), 8,
          strides=(2, 2), auto_pad="SAME_LOWER")
conv_case("valid", "dw h=10 w=12 c=8 k=3 s=1 pad=valid act=none bias=1", 8, 10, 12, 8, (3, 3), 8, auto_pad="VALID")
conv_case("asym_pads", "dw h=9 w=10 c=8 k=3 s=1 pad=0,1,2,1 act=none bias=1", 8, 9, 10, 8, (3, 3), 8,
          pads=(0, 1, 2, 1))
conv_case("multiplier2", "dw h=12 w=12 c=4 k=3 s=1 pad=same m=2 act=none bias=1", 4, 12, 12, 8, (3, 3), 4,
          pads=(1, 1, 1, 1))
conv_case("dilation", "dw h=14 w=13 c=8 k=3 dh=2 dw=1 s=1 pad=2,1,2,1 act=none bias=1", 8, 14, 13, 8, (3, 3), 8,
          dilations=(2, 1), pads=(2, 1, 2, 1))
conv_case("rect_kernel", "dw h=11 w=16 c=8 kh=3 kw=5 sh=1 sw=2 pad=1,2,1,2 act=none bias=1", 8, 11, 16, 8, (3, 5),
          8, strides=(1, 2), pads=(1, 2, 1, 2))
conv_case("no_activation", "pw h=5 w=6 ci=16 co=24 act=none bias=0", 16, 5, 6, 24, (1, 1), 1, bias=False)


def clip_inputs(co):  # opset 11 on: the bounds are inputs, here Constant nodes
    nodes = [helper.make_node("Constant", [], ["lo"], value=helper.make_tensor("lo_v", TensorProto.FLOAT, [], [0.0])),
             helper.make_node("Constant", [], ["hi"], value=helper.make_tensor("hi_v", TensorProto.FLOAT, [], [6.0])),
             helper.make_node("Clip", ["y", "lo", "hi"], ["z"], name="clip")]
    return nodes, [], "z", lambda t: t.clamp(0, 6), 1, 0, "relu6"


def clip_attributes(co):  # opsets before 11: the bounds are attributes
    return ([helper.make_node("Clip", ["y"], ["z"], name="clip", min=0.0, max=6.0)], [], "z",
            lambda t: t.clamp(0, 6), 1, 0, "relu6")


def clamp(co):
    return ([helper.make_node("Clip", ["y", "lo", "hi"], ["z"], name="clip")], [scalar("lo", -1.0), scalar("hi", 1.0)],
            "z", lambda t: t.clamp(-1, 1), 1, 0, "clamp(-1,1)")


def batch_norm_relu(co):
    gamma, beta = random_weights(co) + 1.0, random_weights(co)
    mean, var = random_weights(co), np.abs(random_weights(co)) + 0.5
    inits = [numpy_helper.from_array(a, n) for a, n in
             ((gamma, "gamma"), (beta, "beta"), (mean, "mean"), (var, "var"))]
    nodes = [helper.make_node("BatchNormalization", ["y", "gamma", "beta", "mean", "var"], ["bn"], name="bn",
                              epsilon=1e-3),
             helper.make_node("Relu", ["bn"], ["z"], name="relu")]
    t = [torch.from_numpy(a) for a in (mean, var, gamma, beta)]
    return nodes, inits, "z", lambda y: F.relu(F.batch_norm(y, *t, eps=1e-3)), 1, 0, "relu"


def max_pool(co):
    return ([helper.make_node("MaxPool", ["y"], ["z"], name="pool", kernel_shape=[2, 2], strides=[2, 2])], [], "z",
            None, 0, 1, "-")


def hard_swish(co):
    return [helper.make_node("HardSwish", ["y"], ["z"], name="hswish")], [], "z", F.hardswish, 1, 0, "hswish"


def sigmoid(co):
    return [helper.make_node("Sigmoid", ["y"], ["z"], name="sigmoid")], [], "z", torch.sigmoid, 1, 0, "sigmoid"


def gelu_op(approximate):
    def after(co):
        return ([helper.make_node("Gelu", ["y"], ["z"], name="gelu", approximate=approximate)], [], "z",
                lambda t: F.gelu(t, approximate=approximate), 1, 0, "gelu" if approximate == "none" else "gelu_tanh")
    return after


conv_case("clip_inputs", "pw h=4 w=5 ci=8 co=16 act=relu6 bias=1", 8, 4, 5, 16, (1, 1), 1, after=clip_inputs)
conv_case("clip_attributes", "pw h=4 w=5 ci=8 co=16 act=relu6 bias=1", 8, 4, 5, 16, (1, 1), 1, after=clip_attributes,
          opset=6)
conv_case("clamp", "pw h=4 w=5 ci=8 co=16 act=clamp(-1,1) bias=1", 8, 4, 5, 16, (1, 1), 1, after=clamp)
conv_case("batch_norm", "dw h=8 w=8 c=16 k=3 s=1 pad=same act=relu bias=1", 16, 8, 8, 16, (3, 3), 16,
          pads=(1, 1, 1, 1), bias=False, after=batch_norm_relu)
conv_case("non_conv_node", "dw h=8 w=8 c=8 k=3 s=1 pad=same act=none bias=1", 8, 8, 8, 8, (3, 3), 8,
          pads=(1, 1, 1, 1), after=max_pool)
conv_case("hardswish", "pw h=3 w=3 ci=8 co=8 act=hswish bias=1", 8, 3, 3, 8, (1, 1), 1, after=hard_swish, opset=14)
conv_case("sigmoid", "pw h=1 w=1 ci=16 co=8 act=sigmoid bias=1", 16, 1, 1, 8, (1, 1), 1, after=sigmoid)
conv_case("gelu_op", "pw h=3 w=3 ci=8 co=8 act=gelu bias=1", 8, 3, 3, 8, (1, 1), 1, after=gelu_op("none"), opset=20)
conv_case("gelu_tanh_op", "pw h=3 w=3 ci=8 co=8 act=gelu_tanh bias=1", 8, 3, 3, 8, (1, 1), 1,
          after=gelu_op("tanh"), opset=20)


# ---- activations as torch.onnx.export writes them ----------------------------
def torch_case(name, line, act_module, act_nodes, act, opset=14):
    conv = torch.nn.Conv2d(8, 8, 3, padding=1, groups=8)
    net = torch.nn.Sequential(conv, act_module).eval()
    x = torch.randn(1, 8, 6, 7)
    torch.onnx.export(net, x, path(name + ".onnx"), opset_version=opset)
    write_tensor(name + ".in", x)
    with torch.no_grad():
        write_tensor(name + ".out", net(x))
        write_tensor(name + ".out_noact", conv(x))
    cases.append("\t".join([name, line, str(act_nodes), "0", act]))


torch_case("torch_silu", "dw h=6 w=7 c=8 k=3 s=1 pad=same act=silu bias=1", torch.nn.SiLU(), 2, "silu")
torch_case("torch_gelu", "dw h=6 w=7 c=8 k=3 s=1 pad=same act=gelu bias=1", torch.nn.GELU(), 5, "gelu")
torch_case("torch_hardswish_opset13", "dw h=6 w=7 c=8 k=3 s=1 pad=same act=hswish bias=1", torch.nn.Hardswish(), 2,
           "hswish", opset=13)
torch_case("torch_hardsigmoid", "dw h=6 w=7 c=8 k=3 s=1 pad=same act=hsigmoid bias=1", torch.nn.Hardsigmoid(), 1,
           "hsigmoid")

with open(path("cases.txt"), "w") as f:
    f.write("\n".join(cases) + "\n")


# ---- files import refuses ----------------------------------------------------
def pw_model(x_dims, w_tensor, opset=13):
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv")]
    return model_of(nodes, [w_tensor], x_dims, "y", opset)


onnx.save(model_of([helper.make_node("Relu", ["x"], ["y"], name="relu")], [], [1, 8, 4, 4], "y"),
          path("bad_no_conv.onnx"))

external = pw_model([1, 8, 4, 4], numpy_helper.from_array(random_weights(16, 8, 1, 1), "w"))
onnx.save_model(external, path("bad_external.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                location="bad_external.data", size_threshold=0)

onnx.save(pw_model([1, 8, 2 ** 40, 4], numpy_helper.from_array(random_weights(16, 8, 1, 1), "w")),
          path("bad_absurd_input.onnx"))


def tensor(name, dims, data):
    t = TensorProto()
    t.name = name
    t.data_type = TensorProto.FLOAT
    t.dims.extend(dims)
    t.raw_data = data
    return t


onnx.save(pw_model([1, 8, 4, 4], tensor("w", [2 ** 31 - 1] * 4, b"\0" * 16)), path("bad_absurd_weights.onnx"))
onnx.save(pw_model([1, 8, 4, 4], tensor("w", [16, 8, 1, 1], b"\0" * 16)), path("bad_short_weights.onnx"))
onnx.save(pw_model([1, 2 ** 30, 2 ** 30, 2 ** 30], tensor("w", [8, 2 ** 30, 1, 1], b"")), path("bad_absurd_layer.onnx"))
symbolic = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 8, "height", "width"])
onnx.save(model_of([helper.make_node("Conv", ["x", "w"], ["y"], name="conv")],
                   [numpy_helper.from_array(random_weights(16, 8, 1, 1), "w")], None, "y", inputs=[symbolic]),
          path("bad_symbolic_size.onnx"))
print("make_models.py: %d cases and the networks in %s" % (len(cases), OUT))
