/*
 * onnx_activation.h — recognising the activation an ONNX graph applies to a
 * convolution's output, as one node (Relu, Clip, HardSwish, HardSigmoid,
 * Sigmoid, Gelu) or as the patterns exporters write for activations ONNX
 * has no operator for (x*Sigmoid(x), x*HardSigmoid(x), the Erf form of
 * GELU). The list is in onnx_import.h.
 */
#ifndef SEPTUNE_ONNX_ACTIVATION_H
#define SEPTUNE_ONNX_ACTIVATION_H

#include "onnx_graph.h"

#define ONNX_ACTIVATION_MAX_NODES 5

typedef struct onnx_activation {
  char name[64];                        /* the act= value: "relu6", "clamp(-1,1)", "silu", ... */
  int nodes[ONNX_ACTIVATION_MAX_NODES]; /* the nodes it folds, graph indices */
  int n_nodes;
  const onnx_value *output; /* what the last of them outputs */
} onnx_activation;

/* Finds the activation applied to y and nothing else: every value inside
 * the pattern is consumed by the pattern only and is no graph output.
 * Returns 1 with *a filled, else 0. */
int onnx_match_activation(const onnx_graph *gr, const onnx_value *y, onnx_activation *a);

#endif
