/*
 * onnx_shape.c — the shapes of an ONNX graph's values that the file does not
 * declare, worked out node by node (see onnx_shape_infer in onnx_graph.h).
 * Exporters such as torch.onnx.export write no shapes for intermediate
 * values, and the importer needs the input size of every convolution.
 */
#include <stdint.h>
#include <string.h>

#include "onnx_graph.h"

static const onnx_shape unknown = { .rank = -1 };

static int is_one_of(const char *op, const char *const *list)
{
  for (; *list; list++)
    if (!strcmp(op, *list)) return 1;
  return 0;
}

/* Element-wise on their first input: the output has its shape. */
static const char *const same_shape[] = {
  "Relu",
  "Clip",
  "Sigmoid",
  "HardSigmoid",
  "HardSwish",
  "Tanh",
  "Erf",
  "Gelu",
  "LeakyRelu",
  "Elu",
  "Selu",
  "Celu",
  "Softplus",
  "Softsign",
  "Mish",
  "Identity",
  "Dropout",
  "Neg",
  "Abs",
  "Sqrt",
  "Exp",
  "Log",
  "Reciprocal",
  "Floor",
  "Ceil",
  "Round",
  "Cast",
  "BatchNormalization",
  "InstanceNormalization",
  "LRN",
  "Softmax",
  "LogSoftmax",
  "PRelu",
  "ThresholdedRelu",
  "Shrink",
  NULL,
};

/* Numpy-style broadcasting over all inputs. */
static const char *const broadcasting[] = { "Add", "Sub", "Mul",  "Div",   "Pow", "Max",
                                            "Min", "Sum", "Mean", "Where", NULL };

static const char *const pooling[] = { "MaxPool", "AveragePool", "LpPool", NULL };
static const char *const global_pooling[] = { "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool", NULL };
static const char *const reductions[] = { "ReduceMean", "ReduceMax", "ReduceMin",       "ReduceSum",       "ReduceProd",
                                          "ReduceL1",   "ReduceL2",  "ReduceLogSumExp", "ReduceSumSquare", NULL };

static onnx_shape broadcast(const onnx_graph *gr, const Onnx__NodeProto *n)
{
  onnx_shape out = { .rank = 0 };
  for (size_t i = 0; i < n->n_input; i++) {
    const onnx_value *v = onnx_graph_input(gr, n, i);
    if (!v || v->shape.rank < 0) return unknown;
    const onnx_shape *s = &v->shape;
    onnx_shape r = { .rank = s->rank > out.rank ? s->rank : out.rank };
    for (int k = 0; k < r.rank; k++) {
      /* aligned from the right; a missing leading dimension is 1 */
      int ia = k - (r.rank - out.rank), ib = k - (r.rank - s->rank);
      int64_t a = ia >= 0 ? out.dim[ia] : 1, b = ib >= 0 ? s->dim[ib] : 1;
      if (a == 1) r.dim[k] = b;
      else if (b == 1 || a == b) r.dim[k] = a;
      else if (a < 0 || b < 0) r.dim[k] = -1;
      else return unknown; /* a mismatch: the graph is wrong, which the shape does not say */
    }
    out = r;
  }
  return out;
}

/* Conv and pooling: [n][c][h][w] to [n][co][oh][ow]. */
static onnx_shape window(const onnx_graph *gr, const Onnx__NodeProto *n, int conv)
{
  const onnx_value *x = onnx_graph_input(gr, n, 0);
  if (!x || x->shape.rank != 4) return unknown;
  int64_t k[2], co = x->shape.dim[1];
  size_t nk;
  if (conv) {
    const onnx_value *w = onnx_graph_input(gr, n, 1);
    if (!w || w->shape.rank != 4) return unknown;
    co = w->shape.dim[0];
    k[0] = w->shape.dim[2];
    k[1] = w->shape.dim[3];
  } else if (onnx_attr_ints(n, "kernel_shape", 0, 0, k, 2, &nk) != 0 || nk != 2) {
    return unknown;
  }
  onnx_window win;
  char why[8];
  if (onnx_window_of(n, x->shape.dim[2], x->shape.dim[3], k[0], k[1], &win, why, sizeof why) != 0) return unknown;
  return (onnx_shape){ .rank = 4, .dim = { x->shape.dim[0], co, win.oh > 0 ? win.oh : -1, win.ow > 0 ? win.ow : -1 } };
}

static onnx_shape concat(const onnx_graph *gr, const Onnx__NodeProto *n)
{
  onnx_shape out = unknown;
  for (size_t i = 0; i < n->n_input; i++) {
    const onnx_value *v = onnx_graph_input(gr, n, i);
    if (!v || v->shape.rank < 1 || (i && v->shape.rank != out.rank)) return unknown;
    int64_t axis = onnx_attr_int(n, "axis", 1);
    if (axis < 0) axis += v->shape.rank;
    if (axis < 0 || axis >= v->shape.rank) return unknown;
    if (!i) {
      out = v->shape;
      continue;
    }
    int64_t a = out.dim[axis], b = v->shape.dim[axis];
    out.dim[axis] = a < 0 || b < 0 || a + b > ONNX_MAX_DIM ? -1 : a + b;
  }
  return out;
}

static onnx_shape reduce(const onnx_graph *gr, const Onnx__NodeProto *n)
{
  const onnx_value *x = onnx_graph_input(gr, n, 0);
  int64_t axes[ONNX_MAX_RANK];
  size_t na;
  if (!x || x->shape.rank < 0 || onnx_attr_ints(n, "axes", 0, 0, axes, ONNX_MAX_RANK, &na) != 0) return unknown;
  /* axes as an input (opset 18): not read, the shape stays unknown */
  if (!na && onnx_graph_input(gr, n, 1)) return unknown;
  int keep = onnx_attr_int(n, "keepdims", 1) != 0, reduced[ONNX_MAX_RANK] = { 0 };
  for (size_t i = 0; i < na; i++) {
    int64_t a = axes[i] < 0 ? axes[i] + x->shape.rank : axes[i];
    if (a < 0 || a >= x->shape.rank) return unknown;
    reduced[a] = 1;
  }
  onnx_shape out = { .rank = 0 };
  for (int k = 0; k < x->shape.rank; k++) {
    if (na && !reduced[k]) out.dim[out.rank++] = x->shape.dim[k];
    else if (keep) out.dim[out.rank++] = 1;
  }
  return out;
}

static onnx_shape flatten(const onnx_graph *gr, const Onnx__NodeProto *n)
{
  const onnx_value *x = onnx_graph_input(gr, n, 0);
  if (!x || x->shape.rank < 0) return unknown;
  int64_t axis = onnx_attr_int(n, "axis", 1);
  if (axis < 0) axis += x->shape.rank;
  if (axis < 0 || axis > x->shape.rank) return unknown;
  onnx_shape out = { .rank = 2, .dim = { 1, 1 } };
  for (int k = 0; k < x->shape.rank; k++) {
    int64_t *d = &out.dim[k < axis ? 0 : 1], v = x->shape.dim[k];
    *d = *d < 0 || v < 0 || (v && *d > ONNX_MAX_DIM / v) ? -1 : *d * v;
  }
  return out;
}

void onnx_shape_infer(onnx_graph *gr)
{
  const Onnx__GraphProto *g = gr->g;
  for (size_t i = 0; i < g->n_node; i++) {
    const Onnx__NodeProto *n = g->node[i];
    if (!n->op_type || n->n_output < 1) continue;
    int x = onnx_graph_find(gr, n->output[0]);
    if (x < 0 || gr->values[x].producer != (int)i || gr->values[x].shape.rank >= 0) continue;
    const char *op = n->op_type;
    onnx_shape s = unknown;
    if (is_one_of(op, same_shape)) {
      const onnx_value *in = onnx_graph_input(gr, n, 0);
      if (in) s = in->shape;
    } else if (is_one_of(op, broadcasting)) {
      s = broadcast(gr, n);
    } else if (!strcmp(op, "Conv")) {
      s = window(gr, n, 1);
    } else if (is_one_of(op, pooling)) {
      s = window(gr, n, 0);
    } else if (is_one_of(op, global_pooling)) {
      const onnx_value *in = onnx_graph_input(gr, n, 0);
      if (in && in->shape.rank == 4) s = (onnx_shape){ .rank = 4, .dim = { in->shape.dim[0], in->shape.dim[1], 1, 1 } };
    } else if (!strcmp(op, "Concat")) {
      s = concat(gr, n);
    } else if (is_one_of(op, reductions)) {
      s = reduce(gr, n);
    } else if (!strcmp(op, "Flatten")) {
      s = flatten(gr, n);
    }
    gr->values[x].shape = s;
  }
}
