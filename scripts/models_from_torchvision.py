#!/usr/bin/env python3
"""Prints the depthwise and pointwise layers of a torchvision network as a
septune model file (layer lines, README.md "Model files"), from the module
definitions themselves: a forward pass of a 224x224 image records every
layer's input size, and each layer's activation is the module that follows
it in its block. Checks models/*.txt against the reference definitions:

    python3 scripts/models_from_torchvision.py mobilenet_v3_large > /tmp/m.txt
    diff /tmp/m.txt models/mobilenet_v3_large.txt

Needs PyTorch and torchvision (no weights are loaded). Batch norm follows
every convolution that has no bias of its own, and a deployed network folds
it into the convolution: every layer gets bias=1. Listed: depthwise
convolutions (groups = input channels), 1x1 convolutions, and the
per-pixel Linear layers of ConvNeXt's blocks (1x1 convolutions on NHWC
data). Not listed: full convolutions (stems, ConvNeXt's downsampling) and
the classifier after global pooling.
"""
import sys

import torch
import torchvision

ACTS = {
    torch.nn.ReLU: "relu",
    torch.nn.ReLU6: "relu6",
    torch.nn.Hardswish: "hswish",
    torch.nn.Hardsigmoid: "hsigmoid",
    torch.nn.SiLU: "silu",
    torch.nn.Sigmoid: "sigmoid",
}
SKIP = (torch.nn.BatchNorm2d,)  # folded into the bias


def act_name(m):
    if m is None:
        return "none"
    if isinstance(m, torch.nn.GELU):
        return "gelu_tanh" if m.approximate == "tanh" else "gelu"
    for cls, name in ACTS.items():
        if type(m) is cls:
            return name
    return None


def activations(model):
    """Maps each conv/linear module to the activation applied to its output."""
    out = {}
    for parent in model.modules():
        if isinstance(parent, torchvision.ops.SqueezeExcitation):
            out[parent.fc1] = act_name(parent.activation)
            out[parent.fc2] = act_name(parent.scale_activation)
            continue
        if not isinstance(parent, torch.nn.Sequential):
            continue
        kids = list(parent.children())
        for i, m in enumerate(kids):
            if not isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                continue
            j = i + 1
            while j < len(kids) and isinstance(kids[j], SKIP):
                j += 1
            a = act_name(kids[j]) if j < len(kids) else None
            out[m] = a if a is not None else "none"
    return out


def layers(model):
    """(module path, kind, fields) of every listed layer, in execution order."""
    names = {m: n for n, m in model.named_modules()}
    acts = activations(model)
    rows = []

    def hook(m, inputs, _output):
        x = inputs[0]
        act = acts.get(m, "none")
        if isinstance(m, torch.nn.Conv2d):
            _, c, h, w = x.shape
            kh, kw = m.kernel_size
            if m.groups == c and m.groups == m.in_channels and c > 1:
                mult = m.out_channels // c
                pt, pl = m.padding
                f = "h=%d w=%d c=%d k=%d s=%d pad=%d,%d,%d,%d" % (h, w, c, kh, m.stride[0], pt, pl, pt, pl)
                if kh != kw or m.stride[0] != m.stride[1] or m.dilation != (1, 1) or mult != 1:
                    raise SystemExit("%s: a depthwise form this script does not write" % names[m])
                rows.append((names[m], "dw", f + " act=%s bias=1" % act))
            elif (kh, kw) == (1, 1) and m.groups == 1 and m.stride == (1, 1) and m.padding == (0, 0):
                rows.append((names[m], "pw", "h=%d w=%d ci=%d co=%d act=%s bias=1"
                             % (h, w, m.in_channels, m.out_channels, act)))
        elif isinstance(m, torch.nn.Linear) and x.dim() == 4:  # NHWC, per pixel
            _, h, w, _ = x.shape
            rows.append((names[m], "pw", "h=%d w=%d ci=%d co=%d act=%s bias=1"
                         % (h, w, m.in_features, m.out_features, act)))

    for m in model.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            m.register_forward_hook(hook)
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, 224, 224))
    return rows


def block_names(model_name, rows):
    """Short names: b<i>.<role> for the inverted-residual networks (i counts
    the blocks from 0), s<stage>.b<i>.<role> for ConvNeXt."""
    out = []
    for path, kind, fields in rows:
        p = path.split(".")
        if model_name.startswith("convnext"):
            stage = (int(p[1]) - 1) // 2
            role = {"0": "dw", "3": "pw1", "5": "pw2"}[p[4]]
            out.append(("s%d.b%s.%s" % (stage, p[2], role), kind, fields))
            continue
        out.append((path, kind, fields))
    if model_name.startswith("convnext"):
        return out
    # inverted residuals: number the blocks in order; within a block the pw
    # before the dw expands, the one after projects, SE's are se1 and se2
    named, block, key, seen_dw = [], -1, None, False
    for path, kind, fields in out:
        p = path.split(".")
        if model_name.startswith("efficientnet"):
            bkey = tuple(p[:3]) if p[0] == "features" and len(p) > 4 else None
        else:
            bkey = tuple(p[:2]) if p[0] == "features" and len(p) > 3 else None
        if bkey is None:
            named.append(("last" if model_name.startswith("mobilenet") else "head", kind, fields))
            continue
        if bkey != key:
            block, key, seen_dw = block + 1, bkey, False
        if "fc1" in p:
            role = "se1"
        elif "fc2" in p:
            role = "se2"
        elif kind == "dw":
            role, seen_dw = "dw", True
        else:
            role = "project" if seen_dw else "expand"
        named.append(("b%d.%s" % (block, role), kind, fields))
    return named


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: models_from_torchvision.py MODEL (e.g. mobilenet_v3_large, efficientnet_b0, convnext_tiny)")
    name = sys.argv[1]
    model = getattr(torchvision.models, name)()
    for n, kind, fields in block_names(name, layers(model)):
        print("%-3s name=%s %s" % (kind, n, fields))


if __name__ == "__main__":
    main()
