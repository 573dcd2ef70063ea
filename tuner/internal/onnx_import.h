/*
 * onnx_import.h — the layers septune serves, taken out of an ONNX model:
 * every depthwise Conv (group equal to the input channels, any multiplier)
 * and every 1x1 Conv (group 1, stride 1, no padding), each with its
 * padding, strides and dilations, its bias, a following BatchNormalization
 * folded into weights and bias, and the activation that follows folded in:
 *
 *   Relu -> relu            Clip(0,6) -> relu6     Clip(a,b) -> clamp(a,b)
 *   HardSwish, x*HardSigmoid(x) -> hswish          HardSigmoid(x/6+1/2) -> hsigmoid
 *   x*Sigmoid(x) -> silu    Sigmoid -> sigmoid
 *   Gelu, x*(1+Erf(x/sqrt 2))/2 -> gelu            Gelu(approximate=tanh) -> gelu_tanh
 *
 * An activation is folded only when septune's layer-line parser knows its
 * name; until then the layer is written without it and the activation's
 * nodes are listed as skipped (so the activations septune gains fold in with
 * no change here). Every node neither imported nor folded (other than
 * constants) is listed with why it was skipped; that is not an error.
 *
 * The weights come out in septune's canonical layout (the PyTorch OIHW
 * layout of ONNX converted by septune_weights_from_pytorch), batch norm
 * folded in.
 *
 * The entry point takes a buffer, so that a fuzzer can call it; reading a
 * file is model_file.h's. Nothing here prints, and every allocation is
 * bounded by the buffer's size (onnx_proto.h, onnx_graph.h): declared
 * dimensions are checked before anything is allocated from them.
 */
#ifndef SEPTUNE_ONNX_IMPORT_H
#define SEPTUNE_ONNX_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "septune.h"

/* The largest ONNX file read: 1 GiB, which holds the largest networks made
 * of depthwise-separable blocks (ConvNeXt-L is some 800 MB in fp32). A
 * larger file is refused before it is read. */
#define ONNX_IMPORT_MAX_FILE_BYTES ((size_t)1 << 30)

typedef struct onnx_layer {
  septune_layer layer;             /* the line below, parsed */
  char line[SEPTUNE_OP_LINE_SIZE]; /* the layer line `septune import` writes */
  float *weights;                  /* canonical layout, batch norm folded in */
  float *bias;                     /* [c*m] or [co]; NULL when the layer has none */
  int node;                        /* 1-based index of its Conv node in the graph */
  char *node_name;                 /* the Conv node's name as the file has it, made printable */
  /* The tensors the layer reads and writes (the input of its Conv, the output
   * of its last folded node), made printable: where one layer's output is
   * the next one's input, the layers run in sequence. */
  char *input, *output;
} onnx_layer;

typedef struct onnx_skipped {
  int node;      /* 1-based index in the graph */
  char *name;    /* the node's name, made printable ("" when it has none) */
  char *op_type; /* made printable */
  char *why;     /* why it was not imported */
} onnx_skipped;

typedef struct onnx_model {
  onnx_layer *layers;
  size_t n_layers;
  onnx_skipped *skipped; /* in graph order */
  size_t n_skipped;
  size_t n_nodes;    /* nodes in the graph */
  char producer[96]; /* "pytorch 1.13.0", printable */
  int64_t ir_version, opset;
  char input[160];   /* the graph's first input: "input.1 1x3x224x224" */
  size_t parse_peak; /* the most bytes protobuf-c held while unpacking */
} onnx_model;

typedef enum onnx_import_status {
  ONNX_IMPORT_OK = 0,
  ONNX_IMPORT_INVALID, /* not ONNX, malformed, absurd, external data, or no layer to import */
  ONNX_IMPORT_NO_MEMORY
} onnx_import_status;

/* Imports the ONNX model in buf[0..len). Returns ONNX_IMPORT_OK with at
 * least one layer in *m, else another status with why naming the problem
 * (without the file's name) and nothing in *m to free. */
onnx_import_status onnx_import(const void *buf, size_t len, onnx_model *m, char *why, size_t why_size);

void onnx_model_free(onnx_model *m);

#endif
