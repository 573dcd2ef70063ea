/*
 * test_import.c — the ONNX importer (tuner/lib/onnx_*.c) on files made by
 * real exporters (tests/import/make_models.py, run first by ctest):
 *
 *   - every corner case imports as the layer line it must, and septune's
 *     kernel on the imported weights computes PyTorch's output;
 *   - MobileNetV2 imports as models/mobilenet_v2.txt, layer for layer;
 *   - an inverted-residual block run on septune's kernels with the model's
 *     weights computes PyTorch's forward of the block;
 *   - MobileNetV3-Large and EfficientNet-B0 import whole, within the memory
 *     budget;
 *   - truncated, corrupt, foreign, deeply nested, bloated and absurd files
 *     are refused with a message, never a crash (run under ASan in CI).
 *
 * $SEPTUNE_ONNX_MODELS names the folder make_models.py wrote.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"
#include "model_file.h"
#include "onnx_import.h"
#include "onnx_proto.h"
#include "septune.h"

/* PyTorch and septune sum in different orders: fp32 rounding of sums of at
 * most a few hundred products of values near 1. */
#define TOLERANCE 1e-4

static const char *models_dir(void)
{
  const char *d = getenv("SEPTUNE_ONNX_MODELS");
  if (!d || !*d) fail_msg("SEPTUNE_ONNX_MODELS is not set (ctest sets it)");
  return d;
}

static unsigned char *read_all(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static unsigned char *read_model(const char *name, size_t *len)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", models_dir(), name);
  return read_all(path, len);
}

/* A tensor file of make_models.py: n floats exactly. */
static float *read_floats(const char *name, size_t n)
{
  size_t len;
  float *f = (float *)read_model(name, &len);
  if (len != n * sizeof(float)) fail_msg("%s holds %zu bytes, not %zu floats", name, len, n);
  return f;
}

static void import_ok(const char *name, onnx_model *m)
{
  size_t len;
  char why[1024];
  unsigned char *buf = read_model(name, &len);
  onnx_import_status st = onnx_import(buf, len, m, why, sizeof why);
  free(buf);
  if (st != ONNX_IMPORT_OK) fail_msg("%s: %s", name, why);
}

/* Imports buf and expects a refusal whose message holds `want`. */
static void refused(const void *buf, size_t len, const char *what, const char *want)
{
  onnx_model m;
  char why[1024] = "";
  onnx_import_status st = onnx_import(buf, len, &m, why, sizeof why);
  if (st == ONNX_IMPORT_OK) {
    onnx_model_free(&m);
    fail_msg("%s: imported, expected a refusal (%s)", what, want);
  }
  assert_int_equal(st, ONNX_IMPORT_INVALID);
  assert_null(m.layers);
  if (want && !strstr(why, want)) fail_msg("%s: message '%s' does not say '%s'", what, why, want);
}

/* 1 when septune's layer-line parser knows the activation. */
static int act_known(const char *act)
{
  char line[128];
  septune_layer l;
  snprintf(line, sizeof line, "pw h=1 w=1 ci=1 co=1 act=%s", act);
  return septune_layer_parse(line, &l, NULL) == SEPTUNE_OK;
}

static void canonical(const septune_op *op, char *buf, size_t n) { assert_true(septune_op_format(op, buf, n) > 0); }

/* Runs op on septune's kernel (the JIT, default knobs) with the given
 * weights; returns the output (malloc'd). */
static float *run_layer(const septune_op *op, const float *w, const float *b, const float *in)
{
  size_t n_out;
  septune_error err;
  septune_plan *plan;
  septune_plan_options opt = { .db_path = "" };
  assert_int_equal(septune_op_tensor_sizes(op, NULL, &n_out, NULL, NULL, NULL), SEPTUNE_OK);
  float *out = malloc(n_out * sizeof(float));
  assert_non_null(out);
  if (septune_plan_create(op, w, b, &opt, &plan, &err) != SEPTUNE_OK) fail_msg("plan: %s", err.message);
  assert_int_equal(septune_execute(plan, in, out, &err), SEPTUNE_OK);
  septune_plan_destroy(plan);
  return out;
}

static void assert_close(const float *got, const float *want, size_t n, const char *what)
{
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    double e = fabs((double)got[i] - want[i]) / (1 + fabs((double)want[i]));
    if (!(e <= worst)) {
      worst = e;
      at = i;
    }
  }
  if (!(worst <= TOLERANCE))
    fail_msg("%s: element %zu is %.7g, PyTorch's %.7g (relative error %.3g > %g)", what, at, got[at], want[at], worst,
             TOLERANCE);
}

/* ---- corner cases -------------------------------------------------------- */

static void corner_cases(void **state)
{
  (void)state;
  char path[4096], line[1024];
  snprintf(path, sizeof path, "%s/cases.txt", models_dir());
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  int cases = 0;
  while (fgets(line, sizeof line, f)) {
    char name[64], expect[256], act[64];
    int act_nodes, skipped;
    if (sscanf(line, "%63[^\t]\t%255[^\t]\t%d\t%d\t%63s", name, expect, &act_nodes, &skipped, act) != 5)
      fail_msg("cases.txt: bad line '%s'", line);
    /* Until septune knows the activation, the layer comes without it and
     * the activation's nodes are listed as skipped. */
    int known = !strcmp(act, "-") || act_known(act);
    char want_line[300];
    const char *a = strstr(expect, "act=");
    if (known || !a) snprintf(want_line, sizeof want_line, "%s", expect);
    else snprintf(want_line, sizeof want_line, "%.*sact=none%s", (int)(a - expect), expect, a + 4 + strlen(act));
    char file[128];
    snprintf(file, sizeof file, "%s.onnx", name);
    onnx_model m;
    import_ok(file, &m);
    if (m.n_layers != 1) fail_msg("%s: %zu layers, expected 1", name, m.n_layers);
    septune_layer want;
    septune_error err;
    if (septune_layer_parse(want_line, &want, &err) != SEPTUNE_OK) fail_msg("%s: %s", want_line, err.message);
    char got_c[SEPTUNE_OP_LINE_SIZE], want_c[SEPTUNE_OP_LINE_SIZE];
    canonical(&m.layers[0].layer.op, got_c, sizeof got_c);
    canonical(&want.op, want_c, sizeof want_c);
    if (strcmp(got_c, want_c)) fail_msg("%s: imported '%s', expected '%s'", name, got_c, want_c);
    size_t want_skipped = (size_t)skipped + (known ? 0 : (size_t)act_nodes);
    if (m.n_skipped != want_skipped) fail_msg("%s: %zu nodes skipped, expected %zu", name, m.n_skipped, want_skipped);

    /* septune's kernel on the imported weights computes PyTorch's output. */
    size_t n_in, n_out;
    const septune_op *op = &m.layers[0].layer.op;
    assert_int_equal(septune_op_tensor_sizes(op, &n_in, &n_out, NULL, NULL, NULL), SEPTUNE_OK);
    snprintf(file, sizeof file, "%s.in", name);
    float *in = read_floats(file, n_in);
    snprintf(file, sizeof file, "%s.%s", name, known ? "out" : "out_noact");
    float *torch_out = read_floats(file, n_out);
    float *out = run_layer(op, m.layers[0].weights, m.layers[0].bias, in);
    assert_close(out, torch_out, n_out, name);
    printf("%-24s %s\n", name, m.layers[0].line);
    free(in);
    free(torch_out);
    free(out);
    onnx_model_free(&m);
    cases++;
  }
  fclose(f);
  assert_true(cases >= 20);
}

/* ---- MobileNetV2 against the shipped model file --------------------------- */

/* How padding is compared: the layer lists must agree on every key, and on
 * the output size of every layer. The one difference allowed is where the
 * two conventions differ: at stride 2 on an even input, TensorFlow's "same"
 * (models/mobilenet_v2.txt says pad=same) pads 0 on top and left and 1 at
 * the bottom and right, while torchvision's Conv2d(padding=1) pads 1 on
 * every side. Both give the same output size; the test checks that this is
 * the only difference and that it occurs exactly at the 4 depthwise layers
 * of stride 2. */
static void mobilenet_v2_matches_model_file(void **state)
{
  (void)state;
  onnx_model m;
  model_file ref;
  char why[1024];
  import_ok("mobilenet_v2.onnx", &m);
  assert_int_equal(model_file_read(SEPTUNE_SOURCE_DIR "/models/mobilenet_v2.txt", &ref, NULL, NULL, why, sizeof why),
                   MODEL_FILE_OK);
  assert_int_equal(ref.bad_lines, 0);
  if (m.n_layers != ref.n) fail_msg("imported %zu layers, models/mobilenet_v2.txt has %zu", m.n_layers, ref.n);
  int tf_vs_torch = 0;
  for (size_t i = 0; i < ref.n; i++) {
    septune_op got = m.layers[i].layer.op, want = ref.layers[i].layer.op;
    int64_t goh, gow, woh, wow;
    assert_int_equal(septune_op_output_size(&got, &goh, &gow, NULL), SEPTUNE_OK);
    assert_int_equal(septune_op_output_size(&want, &woh, &wow, NULL), SEPTUNE_OK);
    if (goh != woh || gow != wow)
      fail_msg("layer %zu (%s): output %lldx%lld, the model file's %lldx%lld", i, ref.layers[i].layer.name,
               (long long)goh, (long long)gow, (long long)woh, (long long)wow);
    if (got.kind == SEPTUNE_OP_DEPTHWISE && want.kind == SEPTUNE_OP_DEPTHWISE && got.u.dw.stride_h == 2 &&
        got.u.dw.stride_w == 2 && want.u.dw.h % 2 == 0 && want.u.dw.w % 2 == 0) {
      septune_depthwise_desc *g = &got.u.dw, *w = &want.u.dw;
      if (g->pad_top == 1 && g->pad_left == 1 && g->pad_bottom == 1 && g->pad_right == 1 && w->pad_top == 0 &&
          w->pad_left == 0 && w->pad_bottom == 1 && w->pad_right == 1) {
        /* torch's symmetric padding vs TensorFlow's same: compare the rest */
        g->pad_top = g->pad_left = 0;
        tf_vs_torch++;
      }
    }
    char gc[SEPTUNE_OP_LINE_SIZE], wc[SEPTUNE_OP_LINE_SIZE];
    canonical(&got, gc, sizeof gc);
    canonical(&want, wc, sizeof wc);
    if (strcmp(gc, wc))
      fail_msg("layer %zu (%s, %s): imported '%s', the model file says '%s'", i, ref.layers[i].layer.name,
               m.layers[i].node_name, gc, wc);
  }
  assert_int_equal(tf_vs_torch, 4);
  printf("MobileNetV2: %zu layers match models/mobilenet_v2.txt; the %d stride-2 depthwise layers pad 1,1,1,1 "
         "(torchvision) where the file's pad=same is 0,0,1,1 (TensorFlow), with the same output size\n",
         m.n_layers, tf_vs_torch);
  model_file_free(&ref);
  onnx_model_free(&m);
}

/* ---- an inverted-residual block against PyTorch ------------------------------ */

static const onnx_layer *layer_of_node(const onnx_model *m, const char *node)
{
  for (size_t i = 0; i < m->n_layers; i++)
    if (!strcmp(m->layers[i].node_name, node)) return &m->layers[i];
  fail_msg("no imported layer of Conv node %s", node);
  return NULL;
}

/* MobileNetV2's features[3] (expand 24 -> 144, depthwise 3x3, project 144 ->
 * 24, plus the input): its three imported layers run in sequence on
 * septune's kernels with the model's weights, the residual added here. */
static void inverted_residual_block(void **state)
{
  (void)state;
  onnx_model m;
  import_ok("mobilenet_v2.onnx", &m);
  size_t len;
  char *names = (char *)read_model("block3.convs", &len);
  names[len] = 0;
  const onnx_layer *stage[3];
  char *save = NULL, *tok = strtok_r(names, "\n", &save);
  for (int k = 0; k < 3; k++, tok = strtok_r(NULL, "\n", &save)) {
    assert_non_null(tok);
    stage[k] = layer_of_node(&m, tok);
  }
  free(names);
  /* the three layers read each other's outputs: one chain */
  assert_string_equal(stage[0]->output, stage[1]->input);
  assert_string_equal(stage[1]->output, stage[2]->input);
  size_t n_in, n_out;
  assert_int_equal(septune_op_tensor_sizes(&stage[0]->layer.op, &n_in, NULL, NULL, NULL, NULL), SEPTUNE_OK);
  assert_int_equal(septune_op_tensor_sizes(&stage[2]->layer.op, NULL, &n_out, NULL, NULL, NULL), SEPTUNE_OK);
  assert_int_equal(n_in, n_out); /* 56x56x24 both: the residual adds */
  float *x = read_floats("block3.in", n_in), *torch_out = read_floats("block3.out", n_out);
  float *a = run_layer(&stage[0]->layer.op, stage[0]->weights, stage[0]->bias, x);
  float *b = run_layer(&stage[1]->layer.op, stage[1]->weights, stage[1]->bias, a);
  float *y = run_layer(&stage[2]->layer.op, stage[2]->weights, stage[2]->bias, b);
  for (size_t i = 0; i < n_out; i++) y[i] += x[i];
  assert_close(y, torch_out, n_out, "features[3]");
  printf("MobileNetV2 features[3] on septune's kernels = PyTorch's forward within %g (relative, per element)\n",
         TOLERANCE);
  free(x);
  free(torch_out);
  free(a);
  free(b);
  free(y);
  onnx_model_free(&m);
}

/* ---- whole networks ------------------------------------------------------ */

static void networks(void **state)
{
  (void)state;
  static const struct {
    const char *file;
    size_t layers;
  } nets[] = { { "mobilenet_v2.onnx", 51 }, { "mobilenet_v3_large.onnx", 61 }, { "efficientnet_b0.onnx", 80 } };
  for (size_t k = 0; k < sizeof nets / sizeof nets[0]; k++) {
    size_t len;
    char why[1024];
    onnx_model m;
    unsigned char *buf = read_model(nets[k].file, &len);
    if (onnx_import(buf, len, &m, why, sizeof why) != ONNX_IMPORT_OK) fail_msg("%s: %s", nets[k].file, why);
    free(buf);
    if (m.n_layers != nets[k].layers)
      fail_msg("%s: %zu layers, expected %zu", nets[k].file, m.n_layers, nets[k].layers);
    for (size_t i = 0; i < m.n_layers; i++) {
      assert_non_null(m.layers[i].weights);
      assert_non_null(m.layers[i].bias); /* batch norm folded: every layer has a bias */
    }
    assert_true(m.parse_peak <= onnx_proto_budget(len));
    printf("%-24s %zu layers, %zu nodes skipped; protobuf-c held %.2f times the file's size at most\n", nets[k].file,
           m.n_layers, m.n_skipped, (double)m.parse_peak / (double)len);
    onnx_model_free(&m);
  }
}

/* ---- files that must be refused -------------------------------------------- */

static void bad_files(void **state)
{
  (void)state;
  static const struct {
    const char *file, *want;
  } bad[] = {
    { "bad_no_conv.onnx", "no depthwise or 1x1 convolution" },
    { "bad_external.onnx", "external data" },
    { "bad_absurd_input.onnx", "absurd dimension" },
    { "bad_absurd_weights.onnx", "absurd dimensions" },
    { "bad_short_weights.onnx", "declares 128 elements but holds 16 bytes" },
    { "bad_absurd_layer.onnx", "overflows" },
    { "bad_symbolic_size.onnx", "symbolic" },
  };
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    size_t len;
    unsigned char *buf = read_model(bad[k].file, &len);
    refused(buf, len, bad[k].file, bad[k].want);
    free(buf);
  }
}

/* Every truncation of a model is refused: the graph is one field, and the
 * opset that follows it is required. */
static void truncated(void **state)
{
  (void)state;
  size_t len;
  unsigned char *small = read_model("batch_norm.onnx", &len);
  for (size_t n = 0; n < len; n++) {
    char what[96];
    snprintf(what, sizeof what, "batch_norm.onnx cut to %zu of %zu bytes", n, len);
    refused(small, n, what, NULL);
  }
  free(small);
  unsigned char *big = read_model("mobilenet_v2.onnx", &len);
  for (size_t k = 1; k < 40; k++) refused(big, len / 40 * k, "mobilenet_v2.onnx cut", "does not parse");
  refused(big, len - 1, "mobilenet_v2.onnx less its last byte", "does not parse");
  free(big);
}

/* Corrupt bytes: refused with a message, or (where the change lands in
 * weights or a name) imported; never a crash or a leak. */
static void corrupt(void **state)
{
  (void)state;
  size_t len;
  unsigned char *buf = read_model("batch_norm.onnx", &len), *copy = malloc(len);
  assert_non_null(copy);
  memcpy(copy, buf, len);
  copy[0] = 0x0f; /* field 1 with wire type 7, which does not exist */
  refused(copy, len, "wire type 7", "does not parse");
  unsigned long long seed = 7;
  int ok = 0, bad = 0;
  for (int round = 0; round < 3000; round++) {
    memcpy(copy, buf, len);
    int flips = 1 + (int)(septune_random_next(&seed) % 4);
    for (int k = 0; k < flips; k++)
      copy[septune_random_next(&seed) % len] ^= (unsigned char)(1u << (septune_random_next(&seed) % 8));
    onnx_model m;
    char why[1024] = "";
    onnx_import_status st = onnx_import(copy, len, &m, why, sizeof why);
    if (st == ONNX_IMPORT_OK) {
      ok++;
      onnx_model_free(&m);
    } else {
      assert_int_equal(st, ONNX_IMPORT_INVALID);
      assert_true(why[0] != 0);
      bad++;
    }
  }
  printf("3000 corrupted copies of batch_norm.onnx: %d refused with a message, %d imported\n", bad, ok);
  assert_true(bad > 0);
  free(copy);
  free(buf);
}

static void not_onnx(void **state)
{
  (void)state;
  size_t len;
  unsigned char *text = read_all(SEPTUNE_SOURCE_DIR "/models/mobilenet_v1.txt", &len);
  refused(text, len, "a text model file", "does not parse");
  free(text);
  refused("", 0, "an empty file", "no graph");
  unsigned char noise[4096];
  unsigned long long seed = 3;
  for (int round = 0; round < 200; round++) {
    for (size_t i = 0; i < sizeof noise; i++) noise[i] = (unsigned char)septune_random_next(&seed);
    refused(noise, sizeof noise, "random bytes", NULL);
  }
}

/* A varint length prefix. */
static size_t put_varint(unsigned char *p, size_t v)
{
  size_t n = 0;
  do {
    p[n] = (unsigned char)(v & 0x7f);
    v >>= 7;
    if (v) p[n] |= 0x80;
    n++;
  } while (v);
  return n;
}

/* graph -> node -> attribute -> graph ... `depth` messages deep inside a
 * model: protobuf-c's recursion would overflow the stack. */
static unsigned char *nested(size_t depth, size_t *len)
{
  static const unsigned char tags[3] = { 0x0a /* graph.node */, 0x2a /* node.attribute */, 0x32 /* attribute.g */ };
  size_t cap = 16 + depth * 8, n = 0;
  unsigned char *buf = malloc(cap), *tmp = malloc(cap);
  assert_true(buf && tmp);
  for (size_t i = 0; i < depth; i++) { /* inside out: the innermost message first */
    size_t h = 0;
    tmp[h++] = tags[(depth - 1 - i) % 3];
    h += put_varint(tmp + h, n);
    memmove(buf + h, buf, n);
    memcpy(buf, tmp, h);
    n += h;
  }
  size_t h = 0;
  tmp[h++] = 0x3a; /* model.graph */
  h += put_varint(tmp + h, n);
  memmove(buf + h, buf, n);
  memcpy(buf, tmp, h);
  free(tmp);
  *len = n + h;
  return buf;
}

static void too_deep(void **state)
{
  (void)state;
  size_t len;
  unsigned char *buf = nested(30000, &len);
  refused(buf, len, "30000 nested messages", "nested more than");
  free(buf);
  buf = nested(90, &len); /* within the limit: unpacked, then no opset */
  refused(buf, len, "90 nested messages", "no opset");
  free(buf);
}

/* A graph of n empty nodes: 2 bytes each on the wire, a struct of some 100
 * bytes each unpacked. */
static unsigned char *empty_nodes(size_t n, size_t *len)
{
  unsigned char *buf = malloc(2 * n + 16);
  assert_non_null(buf);
  size_t h = 0;
  buf[h++] = 0x3a;
  h += put_varint(buf + h, 2 * n);
  for (size_t i = 0; i < n; i++) buf[h++] = 0x0a, buf[h++] = 0x00;
  *len = h;
  return buf;
}

static void memory_budget(void **state)
{
  (void)state;
  size_t len;
  unsigned char *buf = empty_nodes(1000000, &len);
  refused(buf, len, "a million empty nodes", "MiB");
  free(buf);
  buf = empty_nodes(1000, &len);
  refused(buf, len, "a thousand empty nodes", "no opset");
  free(buf);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(corner_cases),
    cmocka_unit_test(mobilenet_v2_matches_model_file),
    cmocka_unit_test(inverted_residual_block),
    cmocka_unit_test(networks),
    cmocka_unit_test(bad_files),
    cmocka_unit_test(truncated),
    cmocka_unit_test(corrupt),
    cmocka_unit_test(not_onnx),
    cmocka_unit_test(too_deep),
    cmocka_unit_test(memory_budget),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
