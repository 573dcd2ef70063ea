/*
 * onnx_activation.c — the activation following a convolution in an ONNX
 * graph (see onnx_activation.h).
 */
#include "onnx_activation.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const Onnx__NodeProto *node(const onnx_graph *gr, int i) { return gr->g->node[i]; }

/* An operator of the default ONNX domain. */
static int is_op(const Onnx__NodeProto *n, const char *op)
{
  return n->op_type && !strcmp(n->op_type, op) && (!n->domain || !*n->domain || !strcmp(n->domain, "ai.onnx"));
}

/* The first output of node i, when node i is what produces it. */
static const onnx_value *output_of(const onnx_graph *gr, int i)
{
  const Onnx__NodeProto *n = node(gr, i);
  int x = n->n_output ? onnx_graph_find(gr, n->output[0]) : -1;
  return x >= 0 && gr->values[x].producer == i ? &gr->values[x] : NULL;
}

/* A binary node reading a and b, in either order. */
static int reads_pair(const onnx_graph *gr, int i, const onnx_value *a, const onnx_value *b)
{
  const Onnx__NodeProto *n = node(gr, i);
  if (n->n_input != 2) return 0;
  const onnx_value *x = onnx_graph_input(gr, n, 0), *y = onnx_graph_input(gr, n, 1);
  return (x == a && y == b) || (x == b && y == a);
}

static int is_constant_near(const onnx_value *v, double want)
{
  float f;
  return v && v->constant && onnx_tensor_scalar(v->constant, &f) == 0 && fabs((double)f - want) <= 1e-5 * fabs(want);
}

/* Node i is binary with y as one input and a constant near `want` as the
 * other. */
static int with_constant(const onnx_graph *gr, int i, const onnx_value *y, double want)
{
  const Onnx__NodeProto *n = node(gr, i);
  if (n->n_input != 2) return 0;
  const onnx_value *a = onnx_graph_input(gr, n, 0), *b = onnx_graph_input(gr, n, 1);
  return (a == y && is_constant_near(b, want)) || (b == y && is_constant_near(a, want));
}

/* HardSigmoid(x) = clip(alpha x + beta, 0, 1) with alpha 1/6 and beta 1/2:
 * relu6(x + 3) / 6, MobileNetV3's gate (ONNX's own default is alpha 0.2). */
static int is_hsigmoid(const Onnx__NodeProto *n)
{
  return is_op(n, "HardSigmoid") && fabs(onnx_attr_float(n, "alpha", 0.2f) - 1.0 / 6) < 1e-6 &&
         onnx_attr_float(n, "beta", 0.5f) == 0.5f;
}

/* Clip's bounds: inputs 2 and 3 (opset 11 on), else attributes min and max
 * (earlier opsets); an absent bound is infinite. The name is relu6, relu or
 * clamp(min,max); 0 when a bound is not a constant or the pair has no name. */
static int clip_name(const onnx_graph *gr, const Onnx__NodeProto *n, char *name, size_t size)
{
  float lo = -INFINITY, hi = INFINITY;
  if (n->n_input > 1) {
    for (size_t i = 1; i < n->n_input && i < 3; i++) {
      if (!n->input[i] || !*n->input[i]) continue;
      const onnx_value *v = onnx_graph_input(gr, n, i);
      if (!v || !v->constant || onnx_tensor_scalar(v->constant, i == 1 ? &lo : &hi) != 0) return 0;
    }
  } else {
    lo = onnx_attr_float(n, "min", -INFINITY);
    hi = onnx_attr_float(n, "max", INFINITY);
  }
  if (hi >= FLT_MAX) hi = INFINITY; /* older exporters write FLT_MAX for none */
  if (lo <= -FLT_MAX) lo = -INFINITY;
  if (lo == 0 && hi == 6) snprintf(name, size, "relu6");
  else if (lo == 0 && hi == INFINITY) snprintf(name, size, "relu");
  else if (isfinite(lo) && isfinite(hi) && lo <= hi) snprintf(name, size, "clamp(%.9g,%.9g)", (double)lo, (double)hi);
  else return 0;
  return 1;
}

static int found(onnx_activation *a, const char *name, const onnx_value *out)
{
  snprintf(a->name, sizeof a->name, "%s", name);
  a->output = out;
  return out != NULL;
}

/* One node, reading y as its first input. */
static int match_single(const onnx_graph *gr, const onnx_value *y, int c, onnx_activation *a)
{
  const Onnx__NodeProto *n = node(gr, c);
  if (n->n_input < 1 || onnx_graph_input(gr, n, 0) != y) return 0;
  a->nodes[0] = c;
  a->n_nodes = 1;
  const onnx_value *out = output_of(gr, c);
  char name[64];
  if (is_op(n, "Relu")) return found(a, "relu", out);
  if (is_op(n, "Clip") && clip_name(gr, n, name, sizeof name)) return found(a, name, out);
  if (is_op(n, "HardSwish")) return found(a, "hswish", out);
  if (is_hsigmoid(n)) return found(a, "hsigmoid", out);
  if (is_op(n, "Sigmoid")) return found(a, "sigmoid", out);
  if (is_op(n, "Gelu") && n->n_input == 1) {
    onnx_attr_string(n, "approximate", "none", name, sizeof name);
    if (!strcmp(name, "none")) return found(a, "gelu", out);
    if (!strcmp(name, "tanh")) return found(a, "gelu_tanh", out);
  }
  return 0;
}

/* y * gate(y) where `gate` is node g and the product node p:
 * x*Sigmoid(x) (silu) and x*HardSigmoid(x) (hswish). */
static int match_gated(const onnx_graph *gr, const onnx_value *y, int g, int p, onnx_activation *a)
{
  const Onnx__NodeProto *gn = node(gr, g);
  const onnx_value *s = output_of(gr, g);
  if (!s || gn->n_input != 1 || onnx_graph_sole_consumer(gr, s) != p) return 0;
  if (!is_op(node(gr, p), "Mul") || !reads_pair(gr, p, y, s)) return 0;
  a->nodes[0] = g;
  a->nodes[1] = p;
  a->n_nodes = 2;
  if (is_op(gn, "Sigmoid")) return found(a, "silu", output_of(gr, p));
  if (is_hsigmoid(gn)) return found(a, "hswish", output_of(gr, p));
  return 0;
}

/* GELU as torch.onnx.export writes it: Div(y, sqrt 2) (or Mul(y, 1/sqrt 2))
 * -> Erf -> Add 1 -> Mul with y -> Mul 0.5. `d` is the scaling node and
 * `p` the product with y. */
static int match_erf_gelu(const onnx_graph *gr, const onnx_value *y, int d, int p, onnx_activation *a)
{
  const Onnx__NodeProto *dn = node(gr, d);
  if (!((is_op(dn, "Div") && onnx_graph_input(gr, dn, 0) == y && with_constant(gr, d, y, sqrt(2.0))) ||
        (is_op(dn, "Mul") && with_constant(gr, d, y, sqrt(0.5)))))
    return 0;
  const onnx_value *t = output_of(gr, d);
  int e = t ? onnx_graph_sole_consumer(gr, t) : -1;
  if (e < 0 || !is_op(node(gr, e), "Erf")) return 0;
  const onnx_value *ev = output_of(gr, e);
  int add = ev ? onnx_graph_sole_consumer(gr, ev) : -1;
  if (add < 0 || !is_op(node(gr, add), "Add") || !with_constant(gr, add, ev, 1.0)) return 0;
  const onnx_value *u = output_of(gr, add);
  if (!u || onnx_graph_sole_consumer(gr, u) != p || !is_op(node(gr, p), "Mul") || !reads_pair(gr, p, y, u)) return 0;
  const onnx_value *pv = output_of(gr, p);
  int half = pv ? onnx_graph_sole_consumer(gr, pv) : -1;
  if (half < 0 || !is_op(node(gr, half), "Mul") || !with_constant(gr, half, pv, 0.5)) return 0;
  int nodes[ONNX_ACTIVATION_MAX_NODES] = { d, e, add, p, half };
  memcpy(a->nodes, nodes, sizeof nodes);
  a->n_nodes = 5;
  return found(a, "gelu", output_of(gr, half));
}

int onnx_match_activation(const onnx_graph *gr, const onnx_value *y, onnx_activation *a)
{
  memset(a, 0, sizeof *a);
  if (y->graph_output) return 0;
  if (y->consumers == 1) return match_single(gr, y, gr->consumer[y->first_consumer], a);
  if (y->consumers != 2) return 0;
  int c0 = gr->consumer[y->first_consumer], c1 = gr->consumer[y->first_consumer + 1];
  if (c0 == c1) return 0;
  return match_gated(gr, y, c0, c1, a) || match_gated(gr, y, c1, c0, a) || match_erf_gelu(gr, y, c0, c1, a) ||
         match_erf_gelu(gr, y, c1, c0, a);
}
