/*
 * fuzz_onnx.c — the ONNX importer (onnx_import, behind `septune import` and
 * the model-file reader) on the input taken as an ONNX file's bytes.
 *
 * Whatever the bytes: a refusal with a message and nothing held, or a model
 * of at least one layer whose line parses back to the layer it carries,
 * with weights and bias of the layer's sizes (read to their last element,
 * for the sanitizers), skipped nodes with their reasons, and protobuf-c
 * within its memory budget.
 *
 * Plugs into tests/fuzz/CMakeLists.txt as target `onnx` (library
 * septune_tuner); its seeds in corpus/onnx/ are small models of
 * tests/import/make_models.py. The model-file target should leave inputs
 * whose first byte is 0x08 to this one: the reader takes them for ONNX.
 */
#include <string.h>

#include "fuzz.h"
#include "onnx_import.h"
#include "onnx_proto.h"
#include "septune.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  return 0;
}

/* Sums n floats: every element is read, so a short array is caught. */
static double touch(const float *x, size_t n)
{
  double s = 0;
  for (size_t i = 0; i < n; i++) s += x[i];
  return s;
}

static void check_layer(const onnx_model *m, const onnx_layer *l)
{
  septune_layer parsed;
  septune_error err;
  char a[SEPTUNE_OP_LINE_SIZE], b[SEPTUNE_OP_LINE_SIZE];
  FUZZ_CHECK(septune_layer_parse(l->line, &parsed, &err) == SEPTUNE_OK, "line '%s' does not parse: %s", l->line,
             err.message);
  FUZZ_CHECK(septune_op_format(&parsed.op, a, sizeof a) > 0 && septune_op_format(&l->layer.op, b, sizeof b) > 0 &&
                 !strcmp(a, b) && !strcmp(parsed.name, l->layer.name),
             "line '%s' is not the layer carried", l->line);
  size_t nw, nb;
  FUZZ_CHECK(septune_op_tensor_sizes(&l->layer.op, NULL, NULL, &nw, &nb, &err) == SEPTUNE_OK, "%s", err.message);
  int has_bias = l->layer.op.kind == SEPTUNE_OP_DEPTHWISE ? l->layer.op.u.dw.has_bias : l->layer.op.u.pw.has_bias;
  FUZZ_CHECK(l->weights != NULL && (l->bias != NULL) == has_bias, "layer '%s': weights or bias missing", l->line);
  volatile double sum = touch(l->weights, nw) + (has_bias ? touch(l->bias, nb) : 0);
  (void)sum;
  FUZZ_CHECK(l->node >= 1 && (size_t)l->node <= m->n_nodes, "node %d of %zu", l->node, m->n_nodes);
  FUZZ_CHECK(l->node_name && l->input && l->output, "layer '%s' without its names", l->line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > ONNX_IMPORT_MAX_FILE_BYTES) return 0;
  onnx_model m;
  char why[1024] = "";
  onnx_import_status st = onnx_import(data, size, &m, why, sizeof why);
  if (st != ONNX_IMPORT_OK) {
    FUZZ_CHECK(st == ONNX_IMPORT_INVALID || st == ONNX_IMPORT_NO_MEMORY, "status %d", (int)st);
    FUZZ_CHECK(fuzz_message_ok(why, sizeof why), "a refusal without a message");
    FUZZ_CHECK(m.layers == NULL && m.n_layers == 0 && m.skipped == NULL, "a refusal holds a model");
    return 0;
  }
  FUZZ_CHECK(m.n_layers >= 1, "a model without layers was accepted");
  FUZZ_CHECK(m.parse_peak <= onnx_proto_budget(size), "protobuf-c held %zu bytes, over its budget", m.parse_peak);
  for (size_t i = 0; i < m.n_layers; i++) check_layer(&m, &m.layers[i]);
  for (size_t i = 0; i < m.n_skipped; i++) {
    const onnx_skipped *s = &m.skipped[i];
    FUZZ_CHECK(s->node >= 1 && (size_t)s->node <= m.n_nodes && s->name && s->op_type && s->why && s->why[0],
               "skipped node %zu incomplete", i);
  }
  onnx_model_free(&m);
  return 0;
}
