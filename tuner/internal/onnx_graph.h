/*
 * onnx_graph.h — a view of an unpacked ONNX graph for the importer: every
 * named value with the node producing it, the nodes consuming it, its
 * constant data when it has some, and its shape, as declared or as worked
 * out node by node for the operators a convolutional network is made of.
 *
 * Lookups are by hash, so the work grows with the size of the file, not
 * with its square. Nothing here prints.
 */
#ifndef SEPTUNE_ONNX_GRAPH_H
#define SEPTUNE_ONNX_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"

/* The largest dimension a declared shape may have; a larger one (or a
 * negative one) is an absurd size and the file is refused. */
#define ONNX_MAX_DIM INT32_MAX

/* The most value names (counted at every use: node inputs and outputs,
 * initializers, graph inputs and outputs, value_info) a graph may hold:
 * some 50 times what the largest convolutional networks have, and a bound
 * on the tables built here (about 150 bytes a name). */
#define ONNX_MAX_NAMES (1 << 22)

/* Shapes of higher rank are taken as unknown. */
#define ONNX_MAX_RANK 8

typedef struct onnx_shape {
  int rank;                   /* -1: unknown */
  int64_t dim[ONNX_MAX_RANK]; /* -1: unknown (symbolic) */
} onnx_shape;

typedef struct onnx_value {
  const char *name;
  int producer;                      /* the node that outputs it; -1 for inputs and initializers */
  int graph_output;                  /* 1 when the graph outputs it */
  size_t first_consumer, consumers;  /* its consumers: consumer[first_consumer ...] of the graph */
  const Onnx__TensorProto *constant; /* its data: an initializer, a Constant node's value, passed on by Identity */
  onnx_shape shape;
} onnx_value;

typedef struct onnx_graph {
  const Onnx__GraphProto *g;
  onnx_value *values;
  size_t n_values;
  int *consumer; /* node indices, grouped by value (a node once per input naming the value) */
  size_t *slots; /* hash table: value index + 1, 0 for an empty slot */
  size_t mask;
} onnx_graph;

/* Builds the view of g. Returns 0, or -1 with why naming the problem: a
 * tensor stored in external data, a declared dimension beyond
 * ONNX_MAX_DIM, a tensor whose data does not match its dimensions, out of
 * memory. On failure nothing is held. */
int onnx_graph_build(onnx_graph *gr, const Onnx__GraphProto *g, char *why, size_t why_size);

void onnx_graph_free(onnx_graph *gr);

/* Works out, node by node in graph order, the shapes of the values whose
 * shape is not declared, for the operators a convolutional network is made
 * of (Conv, pooling, batch norm, element-wise and broadcasting ops, Concat,
 * reductions, Flatten); other outputs stay unknown. onnx_graph_build calls
 * it (onnx_shape.c). */
void onnx_shape_infer(onnx_graph *gr);

/* The index of the value named `name`, or -1 (also for NULL and ""). */
int onnx_graph_find(const onnx_graph *gr, const char *name);

/* The value named by input i of node n, or NULL when the node has no such
 * input or it is omitted (""). */
const onnx_value *onnx_graph_input(const onnx_graph *gr, const Onnx__NodeProto *n, size_t i);

/* The only node consuming value v, or -1 when v has another consumer or
 * none, or is a graph output. */
int onnx_graph_sole_consumer(const onnx_graph *gr, const onnx_value *v);

/* A printable copy of s (NULL: "") for messages and layer names: bytes that
 * are not printable ASCII, spaces, '#' and '=' become '_'; at most n - 1
 * bytes are kept. */
void onnx_printable(const char *s, char *buf, size_t n);

/* ---- attributes ---- */
const Onnx__AttributeProto *onnx_attr(const Onnx__NodeProto *n, const char *name);
int64_t onnx_attr_int(const Onnx__NodeProto *n, const char *name, int64_t def);
float onnx_attr_float(const Onnx__NodeProto *n, const char *name, float def);
/* The string attribute, NUL-terminated into buf (def when absent). */
void onnx_attr_string(const Onnx__NodeProto *n, const char *name, const char *def, char *buf, size_t size);
/* The ints attribute `name`: its count into *count and values into out (at
 * most max); def_count copies of def when absent. Returns -1 when it holds
 * more than max values. */
int onnx_attr_ints(const Onnx__NodeProto *n, const char *name, int64_t def, size_t def_count, int64_t *out, size_t max,
                   size_t *count);

/* ---- tensors ---- */
/* The element count of t from its dimensions; -1 when a dimension is
 * negative or the product overflows. */
int onnx_tensor_count(const Onnx__TensorProto *t, size_t *count);

/* Checks that t holds float data (raw_data, little-endian, or float_data)
 * of exactly the length its dimensions give, and sets *count to that many
 * elements. Returns 0, or -1 with why naming the tensor. Nothing is
 * allocated, so a tensor declaring absurd dimensions is refused before its
 * size is ever allocated. */
int onnx_tensor_check_floats(const Onnx__TensorProto *t, size_t *count, char *why, size_t why_size);

/* Copies the `count` floats of a tensor onnx_tensor_check_floats passed. */
void onnx_tensor_copy_floats(const Onnx__TensorProto *t, float *out, size_t count);

/* The single float of a scalar (or one-element) float tensor; -1 when t is
 * not one. */
int onnx_tensor_scalar(const Onnx__TensorProto *t, float *value);

/* ---- convolution and pooling windows ---- */
typedef struct onnx_window {
  int64_t kh, kw, sh, sw, dh, dw;
  int64_t pad_top, pad_left, pad_bottom, pad_right;
  int64_t oh, ow;
} onnx_window;

/* The window of a Conv or pooling node over an input of h x w with a kh x kw
 * kernel: strides, dilations, and the pads given or worked out from auto_pad
 * (SAME_UPPER: the odd pixel at the end, SAME_LOWER: at the start, VALID),
 * and the output size (ceil_mode of pooling honoured). Returns 0, or -1 with
 * why naming the attribute that is wrong. */
int onnx_window_of(const Onnx__NodeProto *n, int64_t h, int64_t w, int64_t kh, int64_t kw, onnx_window *win, char *why,
                   size_t why_size);

#endif
