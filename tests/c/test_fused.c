/*
 * test_fused.c — the blocks (separable, inverted residual): plans against
 * the reference on randomized shapes for every ISA this CPU has, the output
 * bitwise the same for every band size and thread count, the layer-by-layer
 * fallback, the errors that name a field, and the layer lines.
 *
 * Each random shape (SEPTUNE_TEST_SHAPES, 500 by default, per ISA) is run
 *   - fused with the default band on one thread: checked against the
 *     reference (septune_check_output's block bound);
 *   - fused with a random band (1 to the output height) on 1 to 3 threads:
 *     bitwise equal to the first;
 *   - layer by layer (band=0), every other shape: checked against the
 *     reference.
 * Shapes: separable or inverted residual, h and w 1..24 (a quarter up to
 * 40), channels 1..40 (odd ones often), expansion up to 6, k 3, 5 or 7,
 * stride 1 or 2, same, valid or explicit padding, every activation on
 * every stage, bias per stage, n 1 or 2, the residual whenever the shape
 * allows it half the time. Input and output end against an unreadable
 * page. SEPTUNE_TEST_SEED overrides the seed; a failure prints the line.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "db.h"
#include "internal.h"
#include "septune.h"
#include "test_guard.h"
#include "test_random.h"

static const septune_activation ACTS[] = { SEPTUNE_ACT_NONE,     SEPTUNE_ACT_RELU,    SEPTUNE_ACT_RELU6,
                                           SEPTUNE_ACT_CLAMP,    SEPTUNE_ACT_HSWISH,  SEPTUNE_ACT_HSIGMOID,
                                           SEPTUNE_ACT_SIGMOID,  SEPTUNE_ACT_SILU,    SEPTUNE_ACT_GELU,
                                           SEPTUNE_ACT_GELU_TANH };

static void random_act(septune_activation *act, float *lo, float *hi)
{
  *act = ACTS[rng() % (sizeof ACTS / sizeof ACTS[0])];
  *lo = (float)pick(-20, 5) / 10.0f;
  *hi = *lo + (float)pick(0, 20) / 10.0f;
}

static int64_t dim(int64_t hi)
{
  return (rng() & 1) ? pick(1, hi < 8 ? hi : 8) : pick(1, hi);
}

/* A random valid block. */
static void random_block(septune_op *op)
{
  for (;;) {
    septune_depthwise_desc d;
    septune_depthwise_desc_init(&d);
    d.n = pick(1, 2);
    d.h = dim((rng() % 4) ? 24 : 40);
    d.w = dim((rng() % 4) ? 24 : 40);
    d.kh = d.kw = 3 + 2 * pick(0, 2);
    if (rng() % 8 == 0) d.kw = 3 + 2 * pick(0, 2);
    d.stride_h = d.stride_w = pick(1, 2);
    d.has_bias = (int)(rng() & 1);
    random_act(&d.act, &d.act_min, &d.act_max);
    int pad = (int)(rng() % 3);
    if (pad == 0) septune_depthwise_pad_same(&d, NULL);
    if (pad == 2) {
      d.pad_top = pick(0, d.kh - 1);
      d.pad_bottom = pick(0, d.kh - 1);
      d.pad_left = pick(0, d.kw - 1);
      d.pad_right = pick(0, d.kw - 1);
    }
    septune_pointwise_desc p;
    septune_pointwise_desc_init(&p);
    p.n = d.n;
    p.has_bias = (int)(rng() & 1);
    random_act(&p.act, &p.act_min, &p.act_max);
    p.co = dim(40);
    memset(op, 0, sizeof *op);
    if (rng() & 1) {
      d.c = dim(40);
      septune_op one = { .kind = SEPTUNE_OP_DEPTHWISE };
      one.u.dw = d;
      if (septune_op_output_size(&one, &p.h, &p.w, NULL) != SEPTUNE_OK) continue;
      p.ci = d.c;
      op->kind = SEPTUNE_OP_SEPARABLE;
      op->u.sep.dw = d;
      op->u.sep.pw = p;
    } else {
      septune_pointwise_desc e;
      septune_pointwise_desc_init(&e);
      e.n = d.n;
      e.h = d.h;
      e.w = d.w;
      e.ci = dim(40);
      e.co = e.ci * pick(1, 6);
      e.has_bias = (int)(rng() & 1);
      random_act(&e.act, &e.act_min, &e.act_max);
      d.c = e.co;
      septune_op one = { .kind = SEPTUNE_OP_DEPTHWISE };
      one.u.dw = d;
      if (septune_op_output_size(&one, &p.h, &p.w, NULL) != SEPTUNE_OK) continue;
      p.ci = d.c;
      if (rng() & 1) p.act = SEPTUNE_ACT_NONE; /* the usual linear project */
      op->kind = SEPTUNE_OP_INVERTED_RESIDUAL;
      op->u.ir.expand = e;
      op->u.ir.dw = d;
      op->u.ir.project = p;
      if (d.stride_h == 1 && d.stride_w == 1 && p.h == d.h && p.w == d.w && (rng() & 1)) {
        op->u.ir.project.co = e.ci;
        op->u.ir.residual = 1;
      }
    }
    if (septune_op_validate(op, NULL) == SEPTUNE_OK) return;
  }
}

/* ---- one shape: tensors, reference, plans ------------------------------------------ */

typedef struct shape {
  septune_op op;
  char line[SEPTUNE_OP_LINE_SIZE];
  size_t ni, no, nw, nb;
  float *w, *bias, *in, *want, *got, *first;
  int64_t oh;
  guarded g_in, g_got;
} shape;

static void shape_make(shape *s, const septune_op *op, unsigned long long seed)
{
  septune_error err;
  memset(s, 0, sizeof *s);
  s->op = *op;
  septune_op_format(op, s->line, sizeof s->line);
  assert_int_equal(septune_op_tensor_sizes(op, &s->ni, &s->no, &s->nw, &s->nb, &err), SEPTUNE_OK);
  assert_int_equal(septune_op_output_size(op, &s->oh, NULL, NULL), SEPTUNE_OK);
  s->w = malloc(s->nw * sizeof(float));
  s->want = malloc(s->no * sizeof(float));
  s->first = malloc(s->no * sizeof(float));
  assert_non_null(s->w);
  assert_non_null(s->want);
  assert_non_null(s->first);
  s->in = guarded_alloc(&s->g_in, s->ni, (int)(seed & 1));
  s->got = guarded_alloc(&s->g_got, s->no, (int)(seed & 1));
  unsigned long long r = seed | 1;
  septune_fill_random(s->in, s->ni, &r);
  septune_fill_random(s->w, s->nw, &r);
  if (s->nb) {
    s->bias = malloc(s->nb * sizeof(float));
    assert_non_null(s->bias);
    septune_fill_random(s->bias, s->nb, &r);
  }
  assert_int_equal(septune_reference_execute(op, s->w, s->bias, s->in, s->want, &err), SEPTUNE_OK);
}

static void shape_free(shape *s)
{
  free(s->w);
  free(s->bias);
  free(s->want);
  free(s->first);
  guarded_free(&s->g_in);
  guarded_free(&s->g_got);
}

/* Runs the shape with knobs (NULL: default) on isa and threads into s->got;
 * returns 1 when it ran, *fused gets the plan's info.fused. */
static int run(shape *s, septune_isa isa, const char *knobs, int threads, int *fused)
{
  septune_error err;
  septune_plan_options opts = { .isa = isa, .knobs = knobs, .db_path = "", .threads = threads };
  septune_plan *plan = NULL;
  septune_plan_info info;
  snprintf(current_case, sizeof current_case, "'%.400s' isa=%s knobs=%.40s threads=%d", s->line, septune_isa_name(isa),
           knobs ? knobs : "(default)", threads);
  if (septune_plan_create(&s->op, s->w, s->bias, &opts, &plan, &err) != SEPTUNE_OK) {
    print_error("%s: plan_create failed: %s\n", current_case, err.message);
    return 0;
  }
  assert_int_equal(septune_plan_get_info(plan, &info), SEPTUNE_OK);
  *fused = info.fused;
  for (size_t i = 0; i < s->no; i++) s->got[i] = 12345.0f; /* every element must be written */
  int ok = septune_execute(plan, s->in, s->got, &err) == SEPTUNE_OK;
  if (!ok) print_error("%s: execute failed: %s\n", current_case, err.message);
  if (ok && info.isa != isa) {
    print_error("%s: the plan runs on %s\n", current_case, septune_isa_name(info.isa));
    ok = 0;
  }
  septune_plan_destroy(plan);
  return ok;
}

static int matches_reference(shape *s, const char *what)
{
  septune_check_result r;
  if (septune_check_output(&s->op, s->want, s->got, s->no, &r)) return 1;
  print_error("%s (%s): element %zu got %g want %g (worst ratio %.3g)\n", current_case, what, r.worst_index,
              (double)s->got[r.worst_index], (double)s->want[r.worst_index], r.worst_ratio);
  return 0;
}

/* The checks of one shape (see the top); returns the failures. */
static int check_shape(const septune_op *op, septune_isa isa, unsigned long long seed)
{
  shape s;
  int failures = 0, fused = 0;
  shape_make(&s, op, seed);
  if (!run(&s, isa, NULL, 1, &fused) || !matches_reference(&s, "fused, default band")) failures++;
  /* a block whose whole intermediate fits runs as one band: layer by layer */
  if (fused < 0 && !failures) {
    print_error("%s: the default plan is not a block's (info.fused %d)\n", current_case, fused);
    failures++;
  }
  memcpy(s.first, s.got, s.no * sizeof(float));
  char knobs[32];
  snprintf(knobs, sizeof knobs, "band=%lld", (long long)pick(1, s.oh));
  if (!run(&s, isa, knobs, (int)pick(1, 3), &fused)) {
    failures++;
  } else if (memcmp(s.first, s.got, s.no * sizeof(float)) != 0) {
    size_t i = 0;
    while (s.first[i] == s.got[i] || (isnan(s.first[i]) && isnan(s.got[i]))) i++;
    print_error("%s: element %zu is %a, %a with the default band on one thread\n", current_case, i,
                (double)s.got[i], (double)s.first[i]);
    failures++;
  }
  /* every other shape layer by layer (its plans take as long again) */
  if (seed & 2) {
    if (!run(&s, isa, "band=0", (int)pick(1, 2), &fused) || !matches_reference(&s, "layer by layer")) {
      failures++;
    } else if (fused != 0) {
      print_error("%s: band=0 reports info.fused %d\n", current_case, fused);
      failures++;
    }
  }
  if (failures) print_error("  (seed %llu)\n", seed);
  shape_free(&s);
  return failures;
}

static void random_shapes(septune_isa isa)
{
  if (!septune_cpu_has_isa(isa)) {
    print_message("skipped: this CPU has no %s\n", septune_isa_name(isa));
    skip();
  }
  catch_crashes();
  unsigned long long seed = env_ull("SEPTUNE_TEST_SEED", 20261128ull + (unsigned)isa);
  unsigned long long shapes = env_ull("SEPTUNE_TEST_SHAPES", 500);
  int failures = 0;
  rng_state = seed;
  for (unsigned long long i = 0; i < shapes && failures < 5; i++) {
    unsigned long long shape_seed = rng_state;
    septune_op op;
    random_block(&op);
    failures += check_shape(&op, isa, shape_seed);
    rng_state = shape_seed;
    random_block(&op); /* the stream does not depend on the draws of the checks */
  }
  assert_int_equal(failures, 0);
  print_message("%s: %llu random blocks match the reference, bitwise the same for every band and thread count "
                "(seed %llu)\n", septune_isa_name(isa), shapes, seed);
}

static void random_scalar(void **state) { (void)state; random_shapes(SEPTUNE_ISA_SCALAR); }
static void random_sse(void **state) { (void)state; random_shapes(SEPTUNE_ISA_SSE); }
static void random_avx2(void **state) { (void)state; random_shapes(SEPTUNE_ISA_AVX2); }
static void random_avx512(void **state) { (void)state; random_shapes(SEPTUNE_ISA_AVX512); }

/* ---- fixed cases ---------------------------------------------------------------------- */

static septune_op parse(const char *line)
{
  septune_layer layer;
  septune_error err;
  if (septune_layer_parse(line, &layer, &err) != SEPTUNE_OK) {
    print_error("'%s': %s\n", line, err.message);
    fail();
  }
  return layer.op;
}

/* MobileNetV2's blocks, a kernel larger than the image, output rows whose
 * windows miss the image, a channel multiplier. */
static void edge_cases(void **state)
{
  (void)state;
  static const struct {
    const char *line;
    int fused;
  } cases[] = {
    /* on 2 threads the default cuts the large ones into bands; the small
     * ones fit whole and are not worth a second thread, and the batch of
     * two shares out one band per image: one band, layer by layer */
    { "sep h=112 w=112 c=32 k=3 s=1 pad=same co=16 act=relu6 pw.act=none bias=1", 1 },
    { "ir h=112 w=112 ci=16 t=6 co=24 k=3 s=2 pad=same act=relu6 bias=1", 1 },
    { "ir h=28 w=28 ci=32 t=6 co=32 k=3 s=1 pad=same act=relu6 bias=1 residual=1", 1 },
    { "ir n=2 h=7 w=7 ci=160 t=6 co=160 k=5 pad=same act=hswish bias=1 residual=1", 0 },
    { "ir h=5 w=3 ci=3 mid=7 co=5 k=7 s=2 pad=same act=silu project.act=gelu", 0 },
    { "sep h=6 w=6 c=5 kh=11 kw=3 pad=12,1,12,1 co=3 act=relu", 0 }, /* windows in the padding */
    { "ir h=9 w=9 ci=4 t=2 co=4 k=3 m=2 pad=same act=relu6 residual=1", 0 },
  };
  static const septune_isa isas[] = { SEPTUNE_ISA_SCALAR, SEPTUNE_ISA_SSE, SEPTUNE_ISA_AVX2, SEPTUNE_ISA_AVX512 };
  int failures = 0;
  catch_crashes();
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    septune_op op = parse(cases[i].line);
    for (size_t j = 0; j < sizeof isas / sizeof isas[0]; j++) {
      if (!septune_cpu_has_isa(isas[j])) continue;
      shape s;
      int fused = -2;
      shape_make(&s, &op, 11 + i);
      if (!run(&s, isas[j], NULL, 2, &fused) || !matches_reference(&s, "default")) failures++;
      if (fused != cases[i].fused) {
        print_error("%s: info.fused %d, want %d\n", current_case, fused, cases[i].fused);
        failures++;
      }
      /* and every one cut in two bands, fused */
      char knobs[32];
      snprintf(knobs, sizeof knobs, "band=%lld", (long long)(s.oh + 1) / 2);
      if (!run(&s, isas[j], knobs, 2, &fused) || !matches_reference(&s, "two bands")) failures++;
      if (fused != 1) {
        print_error("%s: info.fused %d, want 1\n", current_case, fused);
        failures++;
      }
      shape_free(&s);
    }
  }
  assert_int_equal(failures, 0);
}

/* The plan's info: fused with band=R, layer by layer with band=0, a bad
 * band knob refused. */
static void plan_info(void **state)
{
  (void)state;
  septune_op op = parse("ir h=20 w=20 ci=8 t=4 co=8 k=3 pad=same act=relu6 bias=1 residual=1");
  size_t nw, nb;
  assert_int_equal(septune_op_tensor_sizes(&op, NULL, NULL, &nw, &nb, NULL), SEPTUNE_OK);
  assert_int_equal(nw, 8 * 32 + 9 * 32 + 32 * 8);
  assert_int_equal(nb, 32 + 32 + 8);
  float *w = calloc(nw, sizeof(float)), *b = calloc(nb, sizeof(float));
  septune_plan_options opts = { .knobs = "band=3", .db_path = "", .threads = 1 };
  septune_plan *plan = NULL;
  septune_plan_info info;
  septune_error err;
  assert_int_equal(septune_plan_create(&op, w, b, &opts, &plan, &err), SEPTUNE_OK);
  assert_int_equal(septune_plan_get_info(plan, &info), SEPTUNE_OK);
  assert_int_equal(info.fused, 1);
  assert_string_equal(info.knobs, "band=3");
  assert_int_equal(info.work, 7);
  assert_int_equal(info.source, SEPTUNE_KERNEL_FORCED);
  assert_true(info.stage_plans >= 3);
  septune_plan_destroy(plan);
  opts.knobs = "band=0";
  assert_int_equal(septune_plan_create(&op, w, b, &opts, &plan, &err), SEPTUNE_OK);
  assert_int_equal(septune_plan_get_info(plan, &info), SEPTUNE_OK);
  assert_int_equal(info.fused, 0);
  assert_int_equal(info.stage_plans, 3);
  septune_plan_destroy(plan);
  opts.knobs = "rows=3";
  assert_int_equal(septune_plan_create(&op, w, b, &opts, &plan, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "band=R"));
  assert_null(plan);
  /* a layer reports -1 */
  septune_op dw = op;
  dw.kind = SEPTUNE_OP_DEPTHWISE;
  dw.u.dw = op.u.ir.dw;
  opts.knobs = NULL;
  assert_int_equal(septune_plan_create(&dw, w, b, &opts, &plan, &err), SEPTUNE_OK);
  assert_int_equal(septune_plan_get_info(plan, &info), SEPTUNE_OK);
  assert_int_equal(info.fused, -1);
  septune_plan_destroy(plan);
  /* bands of one row whose windows lie wholly in the padding: layer by layer */
  op = parse("sep h=6 w=6 c=5 kh=11 kw=3 pad=12,1,12,1 co=3 act=relu");
  opts.knobs = "band=1";
  assert_int_equal(septune_plan_create(&op, w, NULL, &opts, &plan, &err), SEPTUNE_OK);
  assert_int_equal(septune_plan_get_info(plan, &info), SEPTUNE_OK);
  assert_int_equal(info.fused, 0);
  assert_string_equal(info.knobs, "band=0");
  septune_plan_destroy(plan);
  free(w);
  free(b);
}

/* A tuning-database record of a block gives its plan the band (TUNED); a
 * record whose band does not fit the block is passed over. */
static void tuned_band(void **state)
{
  (void)state;
  char path[] = "/tmp/septune_test_fused_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  unlink(path);
  septune_op op = parse("ir h=20 w=20 ci=8 t=4 co=8 k=3 pad=same act=relu6 bias=1 residual=1");
  size_t nw, nb;
  assert_int_equal(septune_op_tensor_sizes(&op, NULL, NULL, &nw, &nb, NULL), SEPTUNE_OK);
  float *w = calloc(nw, sizeof(float)), *b = calloc(nb, sizeof(float));
  septune_db_record r;
  memset(&r, 0, sizeof r);
  septune_cpu_signature(r.cpu, sizeof r.cpu);
  r.threads = 1;
  assert_int_equal(septune_db_template_version(&r.template_version, NULL), SEPTUNE_OK);
  r.op = op;
  r.isa = septune_cpu_best_isa();
  r.median_us = r.min_us = r.gflops = 1.0;
  static const struct {
    const char *knobs;
    septune_kernel_source source;
    const char *want;
  } cases[] = { { "band=7", SEPTUNE_KERNEL_TUNED, "band=7" }, { "band=21", SEPTUNE_KERNEL_DEFAULT, NULL } };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf(r.knobs, sizeof r.knobs, "%s", cases[i].knobs);
    unlink(path);
    assert_int_equal(septune_db_store(path, &r, 1, NULL), SEPTUNE_OK);
    septune_plan_options opts = { .db_path = path, .threads = 1 };
    septune_plan *plan = NULL;
    septune_plan_info info;
    assert_int_equal(septune_plan_create(&op, w, b, &opts, &plan, NULL), SEPTUNE_OK);
    assert_int_equal(septune_plan_get_info(plan, &info), SEPTUNE_OK);
    assert_int_equal(info.source, cases[i].source);
    if (cases[i].want) {
      assert_string_equal(info.knobs, cases[i].want);
      assert_int_equal(info.tuned_threads, 1);
    }
    septune_plan_destroy(plan);
  }
  unlink(path);
  free(w);
  free(b);
}

/* Every chaining error names its field. */
static void bad_blocks(void **state)
{
  (void)state;
  septune_error err;
  septune_op ir = parse("ir h=16 w=16 ci=8 t=4 co=8 k=3 pad=same act=relu6 bias=1 residual=1"), op;
  septune_op sep = parse("sep h=16 w=16 c=8 k=3 s=2 pad=same co=12 act=relu");
  static const struct {
    int field;
    const char *want;
  } ir_cases[] = {
    { 0, "dw.c (33) must equal expand.co (32)" },
    { 1, "project.ci (31) must equal dw.c * dw.multiplier (32)" },
    { 2, "residual=1 needs stride 1" },
    { 3, "residual=1 needs project.co (9) to equal expand.ci (8)" },
    { 4, "dw.h (15) must equal expand.h (16)" },
    { 5, "project.n (2) must equal dw.n (1)" },
    { 6, "residual must be 0 or 1" },
    { 7, "inverted residual: expand: co must be >= 1" },
    { 8, "residual=1 needs the output 14x14" },
  };
  for (size_t i = 0; i < sizeof ir_cases / sizeof ir_cases[0]; i++) {
    op = ir;
    switch (ir_cases[i].field) {
      case 0: op.u.ir.dw.c = 33; break;
      case 1: op.u.ir.project.ci = 31; break;
      case 2: op.u.ir.dw.stride_h = 2; op.u.ir.project.h = 8; break;
      case 3: op.u.ir.project.co = 9; break;
      case 4: op.u.ir.dw.h = 15; break;
      case 5: op.u.ir.project.n = 2; break;
      case 6: op.u.ir.residual = 2; break;
      case 7: op.u.ir.expand.co = 0; break;
      case 8: op.u.ir.dw.pad_top = op.u.ir.dw.pad_left = op.u.ir.dw.pad_bottom = op.u.ir.dw.pad_right = 0;
              op.u.ir.project.h = op.u.ir.project.w = 14; break;
    }
    assert_int_equal(septune_op_validate(&op, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
    if (!strstr(err.message, ir_cases[i].want)) {
      print_error("case %zu: '%s' does not say '%s'\n", i, err.message, ir_cases[i].want);
      fail();
    }
  }
  op = sep;
  op.u.sep.pw.ci = 9;
  assert_int_equal(septune_op_validate(&op, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "separable: pw.ci (9) must equal dw.c * dw.multiplier (8)"));
  op = sep;
  op.u.sep.pw.h = 16;
  assert_int_equal(septune_op_validate(&op, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "separable: pw.h (16) must equal dw's output height (8)"));
  op = sep;
  op.u.sep.dw.kh = 0;
  assert_int_equal(septune_op_validate(&op, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err.message, "separable: dw: kh must be >= 1"));
  /* execute and reference refuse like any op */
  assert_int_equal(septune_reference_execute(&op, NULL, NULL, NULL, NULL, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
}

/* Lines: round trip, the short forms, the errors naming the key. */
static void lines(void **state)
{
  (void)state;
  static const char *round[] = {
    "sep h=112 w=112 c=32 k=3 s=1 pad=same co=16 act=relu6 pw.act=none bias=1",
    "ir h=56 w=56 ci=24 t=6 co=24 k=3 pad=same act=relu6 bias=1 residual=1",
    "ir n=3 h=9 w=8 ci=5 mid=11 co=7 kh=5 kw=3 sh=2 sw=1 d=2 pad=1,2,3,0 m=2 expand.act=clamp(-1.5,2.25) "
    "dw.act=gelu_tanh project.act=silu expand.bias=1 dw.bias=0 project.bias=1",
    "sep n=2 h=5 w=5 c=3 k=5 pad=valid co=4 dw.act=hswish pw.act=sigmoid dw.bias=1",
  };
  for (size_t i = 0; i < sizeof round / sizeof round[0]; i++) {
    septune_op op = parse(round[i]), again;
    char a[SEPTUNE_OP_LINE_SIZE], b[SEPTUNE_OP_LINE_SIZE];
    assert_true(septune_op_format(&op, a, sizeof a) > 0);
    again = parse(a);
    assert_true(septune_op_format(&again, b, sizeof b) > 0);
    assert_string_equal(a, b);
    assert_int_equal(memcmp(&op, &again, sizeof op), 0);
  }
  septune_op op = parse(round[1]);
  assert_int_equal(op.kind, SEPTUNE_OP_INVERTED_RESIDUAL);
  assert_int_equal(op.u.ir.expand.co, 144);
  assert_int_equal(op.u.ir.expand.act, SEPTUNE_ACT_RELU6);
  assert_int_equal(op.u.ir.dw.act, SEPTUNE_ACT_RELU6);
  assert_int_equal(op.u.ir.project.act, SEPTUNE_ACT_NONE);
  assert_int_equal(op.u.ir.project.has_bias, 1);
  assert_int_equal(op.u.ir.residual, 1);
  op = parse(round[0]);
  assert_int_equal(op.u.sep.dw.act, SEPTUNE_ACT_RELU6);
  assert_int_equal(op.u.sep.pw.act, SEPTUNE_ACT_NONE);
  assert_int_equal(op.u.sep.pw.ci, 32);

  static const struct {
    const char *line;
    septune_status st;
    const char *want;
  } bad[] = {
    { "sep h=8 w=8 c=4 k=3 co=4 pw.s=2", SEPTUNE_ERR_PARSE, "pw.s: the pointwise stage pw has no stride" },
    { "ir h=8 w=8 ci=4 t=2 co=4 k=3 expand.sh=2", SEPTUNE_ERR_PARSE, "expand.sh: the pointwise stage expand" },
    { "ir h=8 w=8 ci=4 t=2 co=4 k=3 project.stride=2", SEPTUNE_ERR_PARSE, "project.stride: the pointwise stage" },
    { "ir h=8 w=8 ci=4 t=2 mid=8 co=4 k=3", SEPTUNE_ERR_PARSE, "t and mid both given" },
    { "ir h=8 w=8 ci=4 co=4 k=3", SEPTUNE_ERR_PARSE, "missing key 't' (or mid)" },
    { "ir h=8 w=8 ci=4 t=2 co=5 k=3 pad=same residual=1", SEPTUNE_ERR_INVALID_ARGUMENT,
      "residual=1 needs project.co (5) to equal expand.ci (4)" },
    { "ir h=8 w=8 ci=4 t=2 co=4 k=3 s=2 pad=same residual=1", SEPTUNE_ERR_INVALID_ARGUMENT,
      "residual=1 needs stride 1" },
    { "ir h=8 w=8 ci=4 t=2 co=4 k=3 residual=2", SEPTUNE_ERR_PARSE, "residual: '2' must be 0 or 1" },
    { "sep h=8 w=8 c=4 k=3 co=4 expand.act=relu", SEPTUNE_ERR_PARSE, "unknown key 'expand.act'" },
    { "sep h=8 w=8 c=4 k=3 co=4 pw.act=tanh", SEPTUNE_ERR_PARSE, "pw.act: 'tanh' is not an activation" },
    { "ir h=8 w=8 c=4 t=2 co=4 k=3", SEPTUNE_ERR_PARSE, "unknown key 'c'" },
    { "sep h=8 w=8 c=4 k=3", SEPTUNE_ERR_PARSE, "missing key 'co'" },
    { "block h=8", SEPTUNE_ERR_PARSE, "expected dw, pw, sep or ir" },
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    septune_layer layer;
    septune_error err;
    septune_status st = septune_layer_parse(bad[i].line, &layer, &err);
    if (st != bad[i].st || !strstr(err.message, bad[i].want)) {
      print_error("'%s': status %d '%s', want %d '%s'\n", bad[i].line, (int)st, err.message, (int)bad[i].st,
                  bad[i].want);
      fail();
    }
  }
}

/* The layers of models/<file>, each block as its stages (names <block>.<stage>
 * for the stages: .dw .project of sep, .expand .dw .project of ir); returns
 * their count. An inverted residual must have its residual exactly where
 * stride 1 and equal channels allow one (as in the paper). */
static int model_layers(const char *file, septune_layer *out, int max)
{
  char path[1024], line[1024];
  int count = 0;
  snprintf(path, sizeof path, "%s/models/%s", SEPTUNE_LUA_ROOT, file);
  FILE *f = fopen(path, "r");
  if (!f) fail_msg("cannot open %s", path);
  while (fgets(line, sizeof line, f)) {
    septune_layer layer;
    septune_error err;
    septune_status st = septune_layer_parse(line, &layer, &err);
    if (st == SEPTUNE_ERR_PARSE && strcmp(err.message, "empty line") == 0) continue;
    if (st != SEPTUNE_OK) fail_msg("%s: '%s': %s", file, line, err.message);
    if (layer.op.kind == SEPTUNE_OP_INVERTED_RESIDUAL) {
      const septune_inverted_residual_desc *b = &layer.op.u.ir;
      int can = b->dw.stride_h == 1 && b->dw.stride_w == 1 && b->expand.ci == b->project.co;
      if (b->residual != can) fail_msg("%s: %s has residual=%d", file, layer.name, b->residual);
    }
    septune_op stage[SEPTUNE_MAX_STAGES];
    int stages = septune_op_stages(&layer.op, stage);
    static const char *const sep_names[] = { "dw", "project" }, *const ir_names[] = { "expand", "dw", "project" };
    for (int i = 0; i < stages && count < max; i++, count++) {
      out[count].op = stage[i];
      if (stages == 1) snprintf(out[count].name, sizeof out[count].name, "%s", layer.name);
      else
        snprintf(out[count].name, sizeof out[count].name, "%.40s.%s", layer.name,
                 stages == 2 ? sep_names[i] : ir_names[i]);
    }
  }
  fclose(f);
  return count;
}

/* models/mobilenet_v2_blocks.txt is models/mobilenet_v2.txt written as
 * blocks: the same layers, names and order; a residual exactly where
 * stride 1 and equal channels allow one. */
static void blocks_file(void **state)
{
  (void)state;
  static septune_layer layers[128], blocks[128];
  int n = model_layers("mobilenet_v2.txt", layers, 128);
  assert_int_equal(model_layers("mobilenet_v2_blocks.txt", blocks, 128), n);
  for (int i = 0; i < n; i++) {
    char a[SEPTUNE_OP_LINE_SIZE], b[SEPTUNE_OP_LINE_SIZE];
    septune_op_format(&layers[i].op, a, sizeof a);
    septune_op_format(&blocks[i].op, b, sizeof b);
    if (strcmp(a, b) != 0 || strcmp(layers[i].name, blocks[i].name) != 0)
      fail_msg("layer %d: %s '%s' in mobilenet_v2.txt, %s '%s' in mobilenet_v2_blocks.txt", i, layers[i].name, a,
               blocks[i].name, b);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(lines),
    cmocka_unit_test(blocks_file),
    cmocka_unit_test(bad_blocks),
    cmocka_unit_test(plan_info),
    cmocka_unit_test(tuned_band),
    cmocka_unit_test(edge_cases),
    cmocka_unit_test(random_scalar),
    cmocka_unit_test(random_sse),
    cmocka_unit_test(random_avx2),
    cmocka_unit_test(random_avx512),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
