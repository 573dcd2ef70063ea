/*
 * onnx_graph.c — the view of an ONNX graph the importer walks: values by
 * name, their producers, consumers and constant data (see onnx_graph.h).
 * Shapes are filled by onnx_shape.c.
 */
#include "onnx_graph.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t hash(const char *s)
{
  size_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

int onnx_graph_find(const onnx_graph *gr, const char *name)
{
  if (!name || !*name || !gr->slots) return -1;
  for (size_t i = hash(name) & gr->mask;; i = (i + 1) & gr->mask) {
    size_t slot = gr->slots[i];
    if (!slot) return -1;
    if (!strcmp(gr->values[slot - 1].name, name)) return (int)(slot - 1);
  }
}

/* The value named `name`, added when new (the table has room for every
 * name of the graph). NULL for an omitted ("") name. */
static onnx_value *intern(onnx_graph *gr, const char *name)
{
  if (!name || !*name) return NULL;
  size_t i = hash(name) & gr->mask;
  for (; gr->slots[i]; i = (i + 1) & gr->mask)
    if (!strcmp(gr->values[gr->slots[i] - 1].name, name)) return &gr->values[gr->slots[i] - 1];
  onnx_value *v = &gr->values[gr->n_values];
  *v = (onnx_value){ .name = name, .producer = -1, .shape.rank = -1 };
  gr->slots[i] = ++gr->n_values;
  return v;
}

const onnx_value *onnx_graph_input(const onnx_graph *gr, const Onnx__NodeProto *n, size_t i)
{
  if (i >= n->n_input) return NULL;
  int k = onnx_graph_find(gr, n->input[i]);
  return k < 0 ? NULL : &gr->values[k];
}

int onnx_graph_sole_consumer(const onnx_graph *gr, const onnx_value *v)
{
  if (v->graph_output || v->consumers != 1) return -1;
  return gr->consumer[v->first_consumer];
}

void onnx_graph_free(onnx_graph *gr)
{
  free(gr->values);
  free(gr->consumer);
  free(gr->slots);
  memset(gr, 0, sizeof *gr);
}

static int fail(onnx_graph *gr, char *why, size_t why_size, const char *msg, const char *name)
{
  char shown[80];
  onnx_printable(name, shown, sizeof shown);
  snprintf(why, why_size, msg, shown);
  onnx_graph_free(gr);
  return -1;
}

/* Tensors in external data are refused: septune reads one self-contained
 * file, never files a model names. */
static int is_external(const Onnx__TensorProto *t)
{
  return t->n_external_data > 0 ||
         (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL);
}

/* A constant's dimensions become its value's shape; -1 when one is
 * negative, beyond ONNX_MAX_DIM, or their product overflows. */
static int constant_shape(onnx_value *v, const Onnx__TensorProto *t)
{
  size_t count;
  if (onnx_tensor_count(t, &count) != 0) return -1;
  for (size_t i = 0; i < t->n_dims; i++)
    if (t->dims[i] > ONNX_MAX_DIM) return -1;
  v->constant = t;
  v->shape.rank = t->n_dims <= ONNX_MAX_RANK ? (int)t->n_dims : -1;
  for (size_t i = 0; i < t->n_dims && i < ONNX_MAX_RANK; i++) v->shape.dim[i] = t->dims[i];
  return 0;
}

/* The shape a value_info declares (when the value has none yet); -1 for a
 * declared dimension beyond ONNX_MAX_DIM or negative. */
static int declared_shape(onnx_value *v, const Onnx__ValueInfoProto *vi)
{
  const Onnx__TypeProto *t = vi->type;
  if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !t->tensor_type || !t->tensor_type->shape) return 0;
  const Onnx__TensorShapeProto *s = t->tensor_type->shape;
  onnx_shape shape = { .rank = s->n_dim <= ONNX_MAX_RANK ? (int)s->n_dim : -1 };
  for (size_t i = 0; i < s->n_dim; i++) {
    const Onnx__TensorShapeProto__Dimension *d = s->dim[i];
    int64_t x = d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ? d->dim_value : -1;
    if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && (x < 0 || x > ONNX_MAX_DIM)) return -1;
    if (i < ONNX_MAX_RANK) shape.dim[i] = x;
  }
  if (v->shape.rank < 0) v->shape = shape;
  return 0;
}

int onnx_graph_build(onnx_graph *gr, const Onnx__GraphProto *g, char *why, size_t why_size)
{
  memset(gr, 0, sizeof *gr);
  gr->g = g;
  /* Every name the graph holds, counted with repeats: room enough. */
  size_t names = g->n_initializer + g->n_input + g->n_output + g->n_value_info, inputs = 0;
  for (size_t i = 0; i < g->n_node; i++) {
    names += g->node[i]->n_input + g->node[i]->n_output;
    inputs += g->node[i]->n_input;
  }
  if (names > ONNX_MAX_NAMES) {
    snprintf(why, why_size, "the graph names values %zu times, more than the %d the importer reads", names,
             ONNX_MAX_NAMES);
    return -1;
  }
  size_t slots = 16;
  while (slots < 2 * names) slots *= 2;
  gr->mask = slots - 1;
  gr->slots = calloc(slots, sizeof *gr->slots);
  gr->values = malloc((names ? names : 1) * sizeof *gr->values);
  gr->consumer = malloc((inputs ? inputs : 1) * sizeof *gr->consumer);
  if (!gr->slots || !gr->values || !gr->consumer) return fail(gr, why, why_size, "out of memory%s", "");

  for (size_t i = 0; i < g->n_initializer; i++) {
    const Onnx__TensorProto *t = g->initializer[i];
    onnx_value *v = intern(gr, t->name);
    if (is_external(t))
      return fail(gr, why, why_size,
                  "tensor '%s' is stored in external data; septune reads self-contained ONNX files only "
                  "(save the model with its weights inside)",
                  t->name);
    if (v && constant_shape(v, t) != 0)
      return fail(gr, why, why_size,
                  "tensor '%s' declares absurd dimensions (negative, over 2^31 - 1, "
                  "or a product that overflows)",
                  t->name);
  }
  for (size_t i = 0; i < g->n_node; i++) {
    const Onnx__NodeProto *n = g->node[i];
    for (size_t k = 0; k < n->n_input; k++) intern(gr, n->input[k]);
    for (size_t k = 0; k < n->n_output; k++) {
      onnx_value *v = intern(gr, n->output[k]);
      if (v && v->producer < 0 && !v->constant) v->producer = (int)i;
    }
  }
  const Onnx__ValueInfoProto *const *lists[3] = { (const Onnx__ValueInfoProto *const *)g->input,
                                                  (const Onnx__ValueInfoProto *const *)g->value_info,
                                                  (const Onnx__ValueInfoProto *const *)g->output };
  size_t counts[3] = { g->n_input, g->n_value_info, g->n_output };
  for (int l = 0; l < 3; l++) {
    for (size_t i = 0; i < counts[l]; i++) {
      onnx_value *v = intern(gr, lists[l][i]->name);
      if (!v) continue;
      if (l == 2) v->graph_output = 1;
      if (declared_shape(v, lists[l][i]) != 0)
        return fail(gr, why, why_size, "value '%s' declares an absurd dimension (negative or over 2^31 - 1)", v->name);
    }
  }

  /* Consumers, grouped by value. */
  for (size_t i = 0; i < g->n_node; i++)
    for (size_t k = 0; k < g->node[i]->n_input; k++) {
      int x = onnx_graph_find(gr, g->node[i]->input[k]);
      if (x >= 0) gr->values[x].consumers++;
    }
  size_t at = 0;
  for (size_t v = 0; v < gr->n_values; v++) {
    gr->values[v].first_consumer = at;
    at += gr->values[v].consumers;
    gr->values[v].consumers = 0;
  }
  for (size_t i = 0; i < g->n_node; i++)
    for (size_t k = 0; k < g->node[i]->n_input; k++) {
      int x = onnx_graph_find(gr, g->node[i]->input[k]);
      if (x >= 0) gr->consumer[gr->values[x].first_consumer + gr->values[x].consumers++] = (int)i;
    }

  /* Constants made by nodes, in graph order (a node only reads what nodes
   * before it made): Constant's value, and Identity passing one on. */
  for (size_t i = 0; i < g->n_node; i++) {
    const Onnx__NodeProto *n = g->node[i];
    if (!n->op_type || n->n_output < 1) continue;
    int x = onnx_graph_find(gr, n->output[0]);
    if (x < 0 || gr->values[x].producer != (int)i) continue;
    onnx_value *out = &gr->values[x];
    const Onnx__TensorProto *t = NULL;
    if (!strcmp(n->op_type, "Constant")) {
      const Onnx__AttributeProto *a = onnx_attr(n, "value");
      t = a ? a->t : NULL;
      if (t && is_external(t))
        return fail(gr, why, why_size,
                    "constant '%s' is stored in external data; septune reads self-contained ONNX files only",
                    out->name);
    } else if (!strcmp(n->op_type, "Identity")) {
      const onnx_value *in = onnx_graph_input(gr, n, 0);
      t = in ? in->constant : NULL;
    }
    if (t && constant_shape(out, t) != 0)
      return fail(gr, why, why_size, "constant '%s' declares absurd dimensions", out->name);
  }
  onnx_shape_infer(gr);
  return 0;
}
