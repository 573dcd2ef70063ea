/*
 * test_layer_parse.c — the model-file line format: every layer of the
 * shipped models parses, malformed lines fail with a message naming the key,
 * and septune_op_format output parses back to the same op.
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

#include "septune.h"
#include "test_random.h"

static septune_layer parse_ok(const char *line)
{
  septune_layer layer;
  septune_error err;
  memset(&err, 0x55, sizeof(err));
  if (septune_layer_parse(line, &layer, &err) != SEPTUNE_OK)
    fail_msg("'%s': %s", line, err.message);
  assert_int_equal(err.status, SEPTUNE_OK);
  return layer;
}

/* Asserts that line fails with `status` and a message containing `word`. */
static void parse_bad(const char *line, septune_status status, const char *word)
{
  septune_layer layer;
  septune_error err;
  septune_status st;
  memset(&err, 0, sizeof(err));
  st = septune_layer_parse(line, &layer, &err);
  if (st != status || err.status != status || strstr(err.message, word) == NULL)
    fail_msg("'%s': status %d (want %d), message '%s' (want '%s')", line, (int)st, (int)status,
             err.message, word);
  /* One line, no newline. */
  assert_null(strchr(err.message, '\n'));
  /* err may be NULL. */
  assert_int_equal(septune_layer_parse(line, &layer, NULL), status);
}

/* Parses every layer line of a model file; returns the number of layers. */
static int parse_model(const char *file, septune_layer *layers, int max)
{
  char path[1024], line[1024];
  FILE *f;
  int count = 0;
  snprintf(path, sizeof(path), "%s/models/%s", SEPTUNE_LUA_ROOT, file);
  f = fopen(path, "r");
  if (f == NULL) fail_msg("cannot open %s", path);
  while (fgets(line, sizeof(line), f) != NULL) {
    septune_layer layer;
    septune_error err;
    const char *s = line;
    while (*s == ' ' || *s == '\t') s++;
    if (*s == '#' || *s == '\n' || *s == '\r' || *s == '\0') {
      assert_int_equal(septune_layer_parse(line, &layer, &err), SEPTUNE_ERR_PARSE);
      assert_string_equal(err.message, "empty line");
      continue;
    }
    if (septune_layer_parse(line, &layer, &err) != SEPTUNE_OK)
      fail_msg("%s: '%s': %s", file, line, err.message);
    assert_true(layer.name[0] != '\0');
    if (count < max) layers[count] = layer;
    count++;
  }
  fclose(f);
  return count;
}

static const septune_layer *find(const septune_layer *layers, int n, const char *name)
{
  int i;
  for (i = 0; i < n; i++)
    if (strcmp(layers[i].name, name) == 0) return &layers[i];
  fail_msg("layer %s not found", name);
  return NULL;
}

static void test_mobilenet_v2(void **state)
{
  septune_layer layers[128];
  const septune_layer *l;
  int n;
  (void)state;
  n = parse_model("mobilenet_v2.txt", layers, 128);
  assert_int_equal(n, 51);
  l = find(layers, n, "b1.expand");
  assert_int_equal(l->op.kind, SEPTUNE_OP_POINTWISE);
  assert_int_equal(l->op.u.pw.n, 1);
  assert_int_equal(l->op.u.pw.h, 112);
  assert_int_equal(l->op.u.pw.ci, 16);
  assert_int_equal(l->op.u.pw.co, 96);
  assert_int_equal(l->op.u.pw.act, SEPTUNE_ACT_RELU6);
  assert_int_equal(l->op.u.pw.has_bias, 1);
  l = find(layers, n, "b1.dw");
  assert_int_equal(l->op.kind, SEPTUNE_OP_DEPTHWISE);
  assert_int_equal(l->op.u.dw.h, 112);
  assert_int_equal(l->op.u.dw.w, 112);
  assert_int_equal(l->op.u.dw.c, 96);
  assert_int_equal(l->op.u.dw.kh, 3);
  assert_int_equal(l->op.u.dw.kw, 3);
  assert_int_equal(l->op.u.dw.stride_h, 2);
  assert_int_equal(l->op.u.dw.stride_w, 2);
  assert_int_equal(l->op.u.dw.dilation_h, 1);
  assert_int_equal(l->op.u.dw.multiplier, 1);
  /* TensorFlow same, stride 2 on an even size: 0 before, 1 after. */
  assert_int_equal(l->op.u.dw.pad_top, 0);
  assert_int_equal(l->op.u.dw.pad_left, 0);
  assert_int_equal(l->op.u.dw.pad_bottom, 1);
  assert_int_equal(l->op.u.dw.pad_right, 1);
  assert_int_equal(l->op.u.dw.act, SEPTUNE_ACT_RELU6);
  l = find(layers, n, "b14.dw");
  assert_int_equal(l->op.u.dw.h, 7);
  assert_int_equal(l->op.u.dw.c, 960);
  assert_int_equal(l->op.u.dw.pad_top, 1);
  assert_int_equal(l->op.u.dw.pad_bottom, 1);
  l = find(layers, n, "b10.project");
  assert_int_equal(l->op.u.pw.ci, 384);
  assert_int_equal(l->op.u.pw.co, 96);
  assert_int_equal(l->op.u.pw.act, SEPTUNE_ACT_NONE);
  l = find(layers, n, "head");
  assert_int_equal(l->op.u.pw.co, 1280);
}

static void test_mobilenet_v1(void **state)
{
  septune_layer layers[64];
  const septune_layer *l;
  int64_t oh, ow;
  int n;
  (void)state;
  n = parse_model("mobilenet_v1.txt", layers, 64);
  assert_int_equal(n, 26);
  l = find(layers, n, "l12.dw");
  assert_int_equal(l->op.u.dw.c, 512);
  assert_int_equal(l->op.u.dw.stride_h, 2);
  assert_int_equal(l->op.u.dw.act, SEPTUNE_ACT_RELU);
  assert_int_equal(septune_op_output_size(&l->op, &oh, &ow, NULL), SEPTUNE_OK);
  assert_int_equal(oh, 7);
  assert_int_equal(ow, 7);
  l = find(layers, n, "l13.pw");
  assert_int_equal(l->op.u.pw.ci, 1024);
  assert_int_equal(l->op.u.pw.co, 1024);
}

static void test_keys_and_defaults(void **state)
{
  septune_layer l;
  (void)state;
  l = parse_ok("dw h=10 w=12 c=3 k=3");
  assert_string_equal(l.name, "");
  assert_int_equal(l.op.u.dw.n, 1);
  assert_int_equal(l.op.u.dw.stride_h, 1);
  assert_int_equal(l.op.u.dw.dilation_w, 1);
  assert_int_equal(l.op.u.dw.pad_top + l.op.u.dw.pad_right, 0);
  assert_int_equal(l.op.u.dw.multiplier, 1);
  assert_int_equal(l.op.u.dw.act, SEPTUNE_ACT_NONE);
  assert_int_equal(l.op.u.dw.has_bias, 0);

  l = parse_ok("dw n=2 h=10 w=12 c=3 kh=3 kw=5 sh=1 sw=2 dh=2 dw=1 pad=1,2,3,4 m=4 bias=1 "
               "act=hswish name=x.y");
  assert_int_equal(l.op.u.dw.n, 2);
  assert_int_equal(l.op.u.dw.kh, 3);
  assert_int_equal(l.op.u.dw.kw, 5);
  assert_int_equal(l.op.u.dw.stride_h, 1);
  assert_int_equal(l.op.u.dw.stride_w, 2);
  assert_int_equal(l.op.u.dw.dilation_h, 2);
  assert_int_equal(l.op.u.dw.dilation_w, 1);
  assert_int_equal(l.op.u.dw.pad_top, 1);
  assert_int_equal(l.op.u.dw.pad_left, 2);
  assert_int_equal(l.op.u.dw.pad_bottom, 3);
  assert_int_equal(l.op.u.dw.pad_right, 4);
  assert_int_equal(l.op.u.dw.multiplier, 4);
  assert_int_equal(l.op.u.dw.has_bias, 1);
  assert_int_equal(l.op.u.dw.act, SEPTUNE_ACT_HSWISH);
  assert_string_equal(l.name, "x.y");

  /* pad=same is applied after every key, whatever the order. */
  l = parse_ok("dw pad=same h=112 w=112 c=8 s=2 k=3");
  assert_int_equal(l.op.u.dw.pad_top, 0);
  assert_int_equal(l.op.u.dw.pad_bottom, 1);
  l = parse_ok("dw pad=same d=2 h=10 w=10 c=8 k=3");
  assert_int_equal(l.op.u.dw.pad_top, 2);
  assert_int_equal(l.op.u.dw.pad_bottom, 2);
  l = parse_ok("dw pad=valid h=10 w=10 c=8 k=3");
  assert_int_equal(l.op.u.dw.pad_bottom, 0);

  l = parse_ok("dw h=5 w=5 c=1 k=1 act=clamp(-1,1)");
  assert_int_equal(l.op.u.dw.act, SEPTUNE_ACT_CLAMP);
  assert_true(l.op.u.dw.act_min == -1.0f);
  assert_true(l.op.u.dw.act_max == 1.0f);
  l = parse_ok("pw h=5 w=5 ci=1 co=2 act=clamp(-inf,0.5)");
  assert_true(isinf(l.op.u.pw.act_min) && l.op.u.pw.act_min < 0);
  assert_true(l.op.u.pw.act_max == 0.5f);
  l = parse_ok("pw h=5 w=5 ci=1 co=2 act=clamp(1.5,1.5) bias=1 n=3");
  assert_true(l.op.u.pw.act_min == 1.5f);
  assert_int_equal(l.op.u.pw.has_bias, 1);
  assert_int_equal(l.op.u.pw.n, 3);
  l = parse_ok("pw h=1 w=1 ci=1 co=1 act=relu");
  assert_int_equal(l.op.u.pw.act, SEPTUNE_ACT_RELU);
  l = parse_ok("pw h=1 w=1 ci=1 co=1 act=none");
  assert_int_equal(l.op.u.pw.act, SEPTUNE_ACT_NONE);
  l = parse_ok("pw h=1 w=1 ci=1 co=1 act=hsigmoid");
  assert_int_equal(l.op.u.pw.act, SEPTUNE_ACT_HSIGMOID);
  l = parse_ok("pw h=1 w=1 ci=1 co=1 act=sigmoid");
  assert_int_equal(l.op.u.pw.act, SEPTUNE_ACT_SIGMOID);
  l = parse_ok("dw h=5 w=5 c=1 k=1 act=silu");
  assert_int_equal(l.op.u.dw.act, SEPTUNE_ACT_SILU);
  l = parse_ok("dw h=5 w=5 c=1 k=1 act=gelu");
  assert_int_equal(l.op.u.dw.act, SEPTUNE_ACT_GELU);
  l = parse_ok("pw h=1 w=1 ci=1 co=1 act=gelu_tanh");
  assert_int_equal(l.op.u.pw.act, SEPTUNE_ACT_GELU_TANH);
}

static void test_whitespace_and_comments(void **state)
{
  septune_layer l;
  char name[64];
  char line[128];
  (void)state;
  l = parse_ok("  \tpw\t h=3   w=4 ci=5\tco=6   # a comment h=99\n");
  assert_int_equal(l.op.u.pw.h, 3);
  assert_int_equal(l.op.u.pw.co, 6);
  l = parse_ok("pw h=3 w=4 ci=5 co=6\r\n");
  assert_int_equal(l.op.u.pw.co, 6);
  l = parse_ok("pw h=3 w=4 ci=5 co=6#tight comment");
  assert_int_equal(l.op.u.pw.co, 6);
  parse_bad("", SEPTUNE_ERR_PARSE, "empty line");
  parse_bad("   \t \n", SEPTUNE_ERR_PARSE, "empty line");
  parse_bad("# dw h=1", SEPTUNE_ERR_PARSE, "empty line");
  parse_bad("   # note", SEPTUNE_ERR_PARSE, "empty line");
  /* A 63-character name is the longest. */
  memset(name, 'a', 63);
  name[63] = '\0';
  snprintf(line, sizeof(line), "pw h=1 w=1 ci=1 co=1 name=%s", name);
  l = parse_ok(line);
  assert_string_equal(l.name, name);
  snprintf(line, sizeof(line), "pw h=1 w=1 ci=1 co=1 name=%sb", name);
  parse_bad(line, SEPTUNE_ERR_PARSE, "name: longer than 63 characters");
}

static void test_malformed(void **state)
{
  (void)state;
  parse_bad("dw h=0", SEPTUNE_ERR_PARSE, "h: '0' must be >= 1");
  parse_bad("dw h=-4 w=5 c=4 k=3", SEPTUNE_ERR_PARSE, "h: '-4' must be >= 1");
  parse_bad("dw c=abc", SEPTUNE_ERR_PARSE, "c: 'abc' is not an integer");
  parse_bad("dw h=5 w=5 c=4 k=3 foo=1", SEPTUNE_ERR_PARSE, "unknown key 'foo'");
  parse_bad("dw h=5 w=5 c=4 k=3 foo", SEPTUNE_ERR_PARSE, "unknown key 'foo'");
  parse_bad("dw h=", SEPTUNE_ERR_PARSE, "h: missing value");
  parse_bad("dw h=5 w", SEPTUNE_ERR_PARSE, "w: missing value");
  parse_bad("xx h=1", SEPTUNE_ERR_PARSE, "unknown op 'xx' (expected dw, pw, sep or ir)");
  parse_bad("dwx h=1", SEPTUNE_ERR_PARSE, "unknown op 'dwx'");
  parse_bad("h=1 dw", SEPTUNE_ERR_PARSE, "unknown op 'h=1'");
  parse_bad("dw h=5 w=5 h=6 c=4 k=3", SEPTUNE_ERR_PARSE, "duplicate key 'h'");
  parse_bad("pw h=5 w=5 ci=4 co=3 act=relu act=none", SEPTUNE_ERR_PARSE, "duplicate key 'act'");
  parse_bad("dw h=99999999999999999999 w=5 c=4 k=3", SEPTUNE_ERR_PARSE, "h: '99999999999999999999' is out of range");
  parse_bad("dw h=5 w=-99999999999999999999 c=4 k=3", SEPTUNE_ERR_PARSE, "w:");
  parse_bad("dw h=5 w=5 c=4 k=3 pad=1,2,3", SEPTUNE_ERR_PARSE, "pad: '1,2,3'");
  parse_bad("dw h=5 w=5 c=4 k=3 pad=1,2,3,4,5", SEPTUNE_ERR_PARSE, "pad:");
  parse_bad("dw h=5 w=5 c=4 k=3 pad=1,,3,4", SEPTUNE_ERR_PARSE, "pad:");
  parse_bad("dw h=5 w=5 c=4 k=3 pad=1,-2,3,4", SEPTUNE_ERR_PARSE, "pad: '-2' must be >= 0");
  parse_bad("dw h=5 w=5 c=4 k=3 pad=full", SEPTUNE_ERR_PARSE, "pad:");
  parse_bad("dw h=5 w=5 c=4 k=3 act=clamp(2,1)", SEPTUNE_ERR_PARSE, "act:");
  parse_bad("dw h=5 w=5 c=4 k=3 act=clamp(nan,1)", SEPTUNE_ERR_PARSE, "act:");
  parse_bad("dw h=5 w=5 c=4 k=3 act=clamp(1)", SEPTUNE_ERR_PARSE, "act:");
  parse_bad("dw h=5 w=5 c=4 k=3 act=clamp(0,1", SEPTUNE_ERR_PARSE, "act:");
  parse_bad("dw h=5 w=5 c=4 k=3 act=clamp(a,1)", SEPTUNE_ERR_PARSE, "act:");
  parse_bad("dw h=5 w=5 c=4 k=3 act=clamp(0,1e99)", SEPTUNE_ERR_PARSE, "act:");
  parse_bad("dw h=5 w=5 c=4 k=3 act=swish", SEPTUNE_ERR_PARSE, "act: 'swish'");
  /* an unknown activation lists the valid ones */
  parse_bad("dw h=5 w=5 c=4 k=3 act=gelu_erf", SEPTUNE_ERR_PARSE,
            "act: 'gelu_erf' is not an activation (none, relu, relu6, hswish, hsigmoid, sigmoid, silu, gelu, "
            "gelu_tanh, clamp(min,max))");
  parse_bad("pw h=5 w=5 ci=4 co=3 act=Silu", SEPTUNE_ERR_PARSE, "act: 'Silu' is not an activation (none,");
  parse_bad("pw h=5 w=5 ci=4 co=3 act=", SEPTUNE_ERR_PARSE, "act");
  parse_bad("pw h=5 w=5 ci=4 co=3 act=gelu_", SEPTUNE_ERR_PARSE, "act: 'gelu_'");
  parse_bad("dw h=5 w=5 c=4 k=3 kh=3", SEPTUNE_ERR_PARSE, "k and kh both given");
  parse_bad("dw h=5 w=5 c=4 kw=3 k=3", SEPTUNE_ERR_PARSE, "k and kw both given");
  parse_bad("dw h=5 w=5 c=4 k=3 s=1 sh=2", SEPTUNE_ERR_PARSE, "s and sh both given");
  parse_bad("dw h=5 w=5 c=4 k=3 d=1 dw=2", SEPTUNE_ERR_PARSE, "d and dw both given");
  parse_bad("dw h=5 w=5 k=3", SEPTUNE_ERR_PARSE, "missing key 'c'");
  parse_bad("dw h=5 c=5 k=3", SEPTUNE_ERR_PARSE, "missing key 'w'");
  parse_bad("dw h=5 w=5 c=4", SEPTUNE_ERR_PARSE, "missing key 'k'");
  parse_bad("dw h=5 w=5 c=4 kh=3", SEPTUNE_ERR_PARSE, "missing key 'kw'");
  parse_bad("pw h=5 w=5 ci=4", SEPTUNE_ERR_PARSE, "missing key 'co'");
  parse_bad("pw h=5 w=5 ci=4 co=3 c=4", SEPTUNE_ERR_PARSE, "unknown key 'c'");
  parse_bad("dw h=5 w=5 c=4 k=3 co=4", SEPTUNE_ERR_PARSE, "unknown key 'co'");
  parse_bad("dw h=5 w=5 c=4 k=3 bias=2", SEPTUNE_ERR_PARSE, "bias:");
  parse_bad("dw h=5 w=5 c=4 k=3 bias=yes", SEPTUNE_ERR_PARSE, "bias:");
  parse_bad("dw h=5x w=5 c=4 k=3", SEPTUNE_ERR_PARSE, "h: '5x' is not an integer");
  parse_bad("dw h=+5 w=5 c=4 k=3", SEPTUNE_ERR_PARSE, "h:");
  parse_bad("dw h=0x10 w=5 c=4 k=3", SEPTUNE_ERR_PARSE, "h:");
  parse_bad("dw h=5.0 w=5 c=4 k=3", SEPTUNE_ERR_PARSE, "h:");
  parse_bad("dw h=5 w=5 c=4 k=3 m=0", SEPTUNE_ERR_PARSE, "m: '0'");
  parse_bad("dw h=5 w=5 c=4 k=3 =4", SEPTUNE_ERR_PARSE, "unknown key ''");
  parse_bad("dw h=5 w=5 c=4 k=3 name=", SEPTUNE_ERR_PARSE, "name: missing value");
  /* Parses, but is not a valid op: validate's message, invalid argument. */
  parse_bad("dw h=2 w=5 c=4 k=5", SEPTUNE_ERR_INVALID_ARGUMENT, "output height");
  parse_bad("dw h=9223372036854775807 w=1 c=1 k=1 pad=0,0,1,0", SEPTUNE_ERR_INVALID_ARGUMENT,
            "int64");
  parse_bad("pw h=4294967296 w=4294967296 ci=4 co=4", SEPTUNE_ERR_INVALID_ARGUMENT, "size_t");
  parse_bad("dw h=5 w=5 c=4 k=3 d=9223372036854775807 pad=same", SEPTUNE_ERR_INVALID_ARGUMENT,
            "dilation_h");
}

static void test_null_args(void **state)
{
  septune_layer l;
  septune_error err;
  char buf[8];
  (void)state;
  assert_int_equal(septune_layer_parse(NULL, &l, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_int_equal(septune_layer_parse("pw h=1 w=1 ci=1 co=1", NULL, &err),
                   SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_true(septune_op_format(NULL, buf, sizeof(buf)) < 0);
}

/* ------------------------------------------------------------------------ */
/* format -> parse                                                           */

static uint32_t rnd(void) { return (uint32_t)(rng() >> 40); }

static int64_t rnd_range(int64_t lo, int64_t hi) { return pick(lo, hi); }

/* A float from random bits (never NaN), sometimes a special value. */
static float rnd_bound(void)
{
  static const float special[] = {0.0f, -0.0f, 1.0f, -1.0f, 6.0f, 1e-45f, 3.4028235e38f,
                                  0.1f, -0.3f, 1.0f / 3.0f};
  uint32_t r = rnd();
  float f;
  if (r % 5 == 0) return special[rnd() % (sizeof(special) / sizeof(special[0]))];
  if (r % 23 == 1) return (r & 1) ? INFINITY : -INFINITY;
  do {
    uint32_t bits = (rnd() << 16) ^ rnd();
    memcpy(&f, &bits, sizeof(f));
  } while (isnan(f));
  return f;
}

static int same_float(float a, float b)
{
  return memcmp(&a, &b, sizeof(a)) == 0;
}

static void random_act(septune_activation *act, float *lo, float *hi)
{
  *act = (septune_activation)rnd_range(0, SEPTUNE_ACT_GELU_TANH);
  *lo = *hi = 0.0f;
  if (*act == SEPTUNE_ACT_CLAMP) {
    float a = rnd_bound(), b = rnd_bound();
    *lo = a < b ? a : b;
    *hi = a < b ? b : a;
  }
}

static septune_op random_op(void)
{
  septune_op op;
  memset(&op, 0, sizeof(op));
  if (rnd() % 2) {
    septune_depthwise_desc *d = &op.u.dw;
    op.kind = SEPTUNE_OP_DEPTHWISE;
    septune_depthwise_desc_init(d);
    do {
      d->n = rnd_range(1, 4);
      d->h = rnd_range(1, 300);
      d->w = rnd_range(1, 300);
      d->c = rnd_range(1, 2048);
      d->kh = rnd_range(1, 7);
      d->kw = rnd_range(1, 7);
      d->stride_h = rnd_range(1, 3);
      d->stride_w = rnd_range(1, 3);
      d->dilation_h = rnd_range(1, 3);
      d->dilation_w = rnd_range(1, 3);
      d->pad_top = rnd_range(0, 5);
      d->pad_left = rnd_range(0, 5);
      d->pad_bottom = rnd_range(0, 5);
      d->pad_right = rnd_range(0, 5);
      d->multiplier = rnd_range(1, 4);
      d->has_bias = (int)rnd_range(0, 1);
      random_act(&d->act, &d->act_min, &d->act_max);
      if (rnd() % 8 == 0) d->h = (int64_t)1 << rnd_range(20, 40);
    } while (septune_op_validate(&op, NULL) != SEPTUNE_OK);
  } else {
    septune_pointwise_desc *p = &op.u.pw;
    op.kind = SEPTUNE_OP_POINTWISE;
    septune_pointwise_desc_init(p);
    p->n = rnd_range(1, 4);
    p->h = rnd_range(1, 300);
    p->w = rnd_range(1, 300);
    p->ci = rnd_range(1, 4096);
    p->co = rnd_range(1, 4096);
    p->has_bias = (int)rnd_range(0, 1);
    random_act(&p->act, &p->act_min, &p->act_max);
  }
  return op;
}

static void assert_same_op(const septune_op *a, const septune_op *b, const char *line)
{
  int same;
  if (a->kind != b->kind) fail_msg("kind differs: %s", line);
  if (a->kind == SEPTUNE_OP_DEPTHWISE) {
    const septune_depthwise_desc *x = &a->u.dw, *y = &b->u.dw;
    same = x->n == y->n && x->h == y->h && x->w == y->w && x->c == y->c && x->kh == y->kh &&
           x->kw == y->kw && x->stride_h == y->stride_h && x->stride_w == y->stride_w &&
           x->dilation_h == y->dilation_h && x->dilation_w == y->dilation_w &&
           x->pad_top == y->pad_top && x->pad_left == y->pad_left &&
           x->pad_bottom == y->pad_bottom && x->pad_right == y->pad_right &&
           x->multiplier == y->multiplier && x->has_bias == y->has_bias && x->act == y->act &&
           (x->act != SEPTUNE_ACT_CLAMP ||
            (same_float(x->act_min, y->act_min) && same_float(x->act_max, y->act_max)));
  } else {
    const septune_pointwise_desc *x = &a->u.pw, *y = &b->u.pw;
    same = x->n == y->n && x->h == y->h && x->w == y->w && x->ci == y->ci && x->co == y->co &&
           x->has_bias == y->has_bias && x->act == y->act &&
           (x->act != SEPTUNE_ACT_CLAMP ||
            (same_float(x->act_min, y->act_min) && same_float(x->act_max, y->act_max)));
  }
  if (!same) fail_msg("round trip changed the op: %s", line);
}

static void test_format_round_trip(void **state)
{
  int i;
  (void)state;
  for (i = 0; i < 2000; i++) {
    septune_op op = random_op();
    septune_layer layer;
    septune_error err;
    char buf[512];
    int len = septune_op_format(&op, buf, sizeof(buf));
    assert_true(len > 0 && (size_t)len < sizeof(buf));
    assert_int_equal((size_t)len, strlen(buf));
    if (septune_layer_parse(buf, &layer, &err) != SEPTUNE_OK)
      fail_msg("'%s': %s", buf, err.message);
    assert_string_equal(layer.name, "");
    assert_same_op(&op, &layer.op, buf);
  }
}

static void test_format_models_round_trip(void **state)
{
  septune_layer layers[128];
  int n, i;
  (void)state;
  n = parse_model("mobilenet_v2.txt", layers, 128);
  for (i = 0; i < n; i++) {
    char buf[512];
    septune_layer again;
    assert_true(septune_op_format(&layers[i].op, buf, sizeof(buf)) > 0);
    assert_int_equal(septune_layer_parse(buf, &again, NULL), SEPTUNE_OK);
    assert_same_op(&layers[i].op, &again.op, buf);
  }
}

static void test_format_exact_and_short_buffer(void **state)
{
  septune_layer l = parse_ok("dw h=112 w=112 c=96 k=3 s=2 pad=same act=relu6 name=b1.dw");
  const char *want = "dw n=1 h=112 w=112 c=96 kh=3 kw=3 sh=2 sw=2 dh=1 dw=1 pad=0,0,1,1 m=1 "
                     "act=relu6 bias=0";
  char buf[256], small[10];
  int len;
  (void)state;
  len = septune_op_format(&l.op, buf, sizeof(buf));
  assert_string_equal(buf, want);
  assert_int_equal(len, (int)strlen(want));
  /* Like snprintf: the length needed, a truncated NUL-terminated prefix. */
  assert_int_equal(septune_op_format(&l.op, small, sizeof(small)), len);
  assert_string_equal(small, "dw n=1 h=");
  assert_int_equal(septune_op_format(&l.op, NULL, 0), len);
  l = parse_ok("pw h=7 w=7 ci=320 co=1280 act=clamp(-1,0.5) bias=1");
  septune_op_format(&l.op, buf, sizeof(buf));
  assert_string_equal(buf, "pw n=1 h=7 w=7 ci=320 co=1280 act=clamp(-1,0.5) bias=1");
  l.op.u.pw.ci = 0;
  assert_true(septune_op_format(&l.op, buf, sizeof(buf)) < 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_mobilenet_v2),
    cmocka_unit_test(test_mobilenet_v1),
    cmocka_unit_test(test_keys_and_defaults),
    cmocka_unit_test(test_whitespace_and_comments),
    cmocka_unit_test(test_malformed),
    cmocka_unit_test(test_null_args),
    cmocka_unit_test(test_format_round_trip),
    cmocka_unit_test(test_format_models_round_trip),
    cmocka_unit_test(test_format_exact_and_short_buffer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
