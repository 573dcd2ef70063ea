/*
 * test_threads.c — plans on threads, built twice: against libseptune_rt
 * (test_threads_rt: generic kernels) and against libseptune
 * (test_threads_jit: generated kernels, SEPTUNE_TEST_JIT defined).
 *
 *   determinism   random depthwise and pointwise shapes (batch 1 to 3) on
 *                 every ISA this CPU has: plans of 1, 2, 3 and 8 threads
 *                 (8 on a machine of 2 cores too) give the very bits of the
 *                 1-thread plan (memcmp), which matches the reference; the
 *                 JIT build also draws knobs and a work split for each
 *                 thread count (a record tuned for T may differ from the
 *                 1-thread one in every knob)
 *   blocks        separable and inverted-residual blocks, fused in bands of
 *                 2 rows and in the default bands: the same bits for every
 *                 thread count
 *   callers       one plan executed at once from several threads, each on
 *                 its own pthreadpool (septune_execute_on), and on the
 *                 plan's shared pool (septune_execute): every result exact
 *                 (a layer's plan, and a block's, whose spare band scratch
 *                 the callers share)
 *   bad input     options.threads < 0 or > SEPTUNE_MAX_THREADS is refused
 *                 naming the field; a caller's pool sets the default count
 *   no threads    a pool the system cannot give threads for is an error
 *                 (plan_create, or the first execution in a forked child),
 *                 never a hang or a crash
 *   fork          a plan made and run before fork runs in the child too
 *
 * SEPTUNE_TEST_SHAPES (per op and ISA, default 12) and SEPTUNE_TEST_SEED
 * override the draws. Labelled "threads": the ThreadSanitizer build of CI
 * runs these (the fork tests skip themselves under it).
 */
#define _GNU_SOURCE /* setresuid */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <pthreadpool.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "septune.h"
#include "test_random.h"
#ifdef SEPTUNE_TEST_JIT
#include "test_split.h"
#endif

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif

static const septune_isa ISAS[] = { SEPTUNE_ISA_SCALAR, SEPTUNE_ISA_SSE, SEPTUNE_ISA_AVX2, SEPTUNE_ISA_AVX512 };
static const int THREADS[] = { 1, 2, 3, 8 };

/* ---- a layer and its tensors ------------------------------------------------ */

typedef struct layer {
  septune_op op;
  char line[SEPTUNE_OP_LINE_SIZE];
  float *in, *w, *b, *want;
  size_t ni, no, nw, nb;
} layer;

static void layer_make(layer *l, const septune_op *op, unsigned long long seed)
{
  septune_error err;
  memset(l, 0, sizeof *l);
  l->op = *op;
  septune_op_format(op, l->line, sizeof l->line);
  assert_int_equal(septune_op_tensor_sizes(op, &l->ni, &l->no, &l->nw, &l->nb, &err), SEPTUNE_OK);
  l->in = malloc(l->ni * sizeof(float));
  l->w = malloc(l->nw * sizeof(float));
  l->b = malloc((l->nb + 1) * sizeof(float));
  l->want = malloc(l->no * sizeof(float));
  assert_true(l->in && l->w && l->b && l->want);
  septune_fill_random(l->in, l->ni, &seed);
  septune_fill_random(l->w, l->nw, &seed);
  septune_fill_random(l->b, l->nb + 1, &seed);
  int has_bias = op->kind == SEPTUNE_OP_DEPTHWISE ? op->u.dw.has_bias
                 : op->kind == SEPTUNE_OP_POINTWISE ? op->u.pw.has_bias
                                                    : l->nb > 0; /* a block counts the stages with a bias */
  assert_int_equal(septune_reference_execute(op, l->w, has_bias ? l->b : NULL, l->in, l->want, &err), SEPTUNE_OK);
}

static void layer_free(layer *l)
{
  free(l->in), free(l->w), free(l->b), free(l->want);
}

static septune_plan *plan_of(const layer *l, const septune_plan_options *opts)
{
  septune_plan *plan = NULL;
  septune_error err;
  if (septune_plan_create(&l->op, l->w, l->b, opts, &plan, &err) != SEPTUNE_OK)
    fail_msg("%s: plan_create (threads %d, knobs %s): %s", l->line, opts->threads, opts->knobs ? opts->knobs : "-",
             err.message);
  return plan;
}

/* The plan's output in a new array. */
static float *run(const layer *l, const septune_plan *plan)
{
  float *out = malloc(l->no * sizeof(float));
  septune_error err;
  assert_non_null(out);
  for (size_t i = 0; i < l->no; i++) out[i] = -777.0f;
  if (septune_execute(plan, l->in, out, &err) != SEPTUNE_OK) fail_msg("%s: execute: %s", l->line, err.message);
  return out;
}

/* ---- random shapes -------------------------------------------------------------- */

/* Big enough that most take several threads (the layers a network has),
 * small enough to run dozens quickly. */
static void random_dw(septune_op *op)
{
  static const septune_activation acts[] = { SEPTUNE_ACT_NONE, SEPTUNE_ACT_RELU6, SEPTUNE_ACT_HSWISH };
  for (;;) {
    memset(op, 0, sizeof *op);
    op->kind = SEPTUNE_OP_DEPTHWISE;
    septune_depthwise_desc *d = &op->u.dw;
    septune_depthwise_desc_init(d);
    d->n = pick(1, 3);
    d->h = pick(4, 48);
    d->w = pick(4, 48);
    d->c = pick(1, 200);
    d->kh = d->kw = pick(1, 5);
    d->stride_h = d->stride_w = pick(1, 2);
    d->multiplier = rng() % 5 ? 1 : 2;
    d->has_bias = (int)(rng() & 1);
    d->act = acts[rng() % 3];
    septune_depthwise_pad_same(d, NULL);
    if (septune_op_validate(op, NULL) == SEPTUNE_OK) return;
  }
}

static void random_pw(septune_op *op)
{
  static const septune_activation acts[] = { SEPTUNE_ACT_NONE, SEPTUNE_ACT_RELU, SEPTUNE_ACT_HSWISH };
  memset(op, 0, sizeof *op);
  op->kind = SEPTUNE_OP_POINTWISE;
  septune_pointwise_desc *p = &op->u.pw;
  septune_pointwise_desc_init(p);
  p->n = pick(1, 3);
  p->h = pick(1, 40);
  p->w = pick(1, 40);
  p->ci = pick(1, 160);
  p->co = pick(1, 200);
  p->has_bias = (int)(rng() & 1);
  p->act = acts[rng() % 3];
}

/* The 1-thread plan's output against the reference, then every thread count
 * against it bit for bit. Returns the failures. */
static int check_layer(const layer *l, septune_isa isa, unsigned long long seed)
{
  septune_plan_options opts = { .isa = isa, .db_path = "", .threads = 1 };
  septune_plan *plan = plan_of(l, &opts);
  float *first = run(l, plan);
  septune_plan_destroy(plan);
  int failures = 0;
  septune_check_result r;
  if (!septune_check_output(&l->op, l->want, first, l->no, &r)) {
    print_error("seed %llu: '%s' on %s, 1 thread: element %zu differs from the reference\n", seed, l->line,
                septune_isa_name(isa), r.worst_index);
    failures++;
  }
  for (size_t t = 1; t < sizeof THREADS / sizeof THREADS[0]; t++) {
    opts.threads = THREADS[t];
    opts.knobs = NULL;
#ifdef SEPTUNE_TEST_JIT
    /* half the time knobs and a split drawn for this thread count */
    char *knobs = NULL, *drawn = NULL;
    if (rng() % 2) {
      char *space = NULL;
      septune_gen_request req = { NULL, NULL, NULL, THREADS[t], 0 };
      if (isa != SEPTUNE_ISA_SCALAR && septune_gen_call("space", &l->op, isa, &req, &space, NULL) == SEPTUNE_OK) {
        size_t lines = 1;
        for (char *p = space; *p; p++) lines += *p == '\n';
        char *line = space;
        for (size_t i = (size_t)(rng() % lines); i > 0; i--) line = strchr(line, '\n') + 1;
        line[strcspn(line, "\n")] = 0;
        knobs = strdup(line);
      }
      free(space);
      drawn = random_split(&l->op, isa, knobs, THREADS[t]);
      opts.knobs = drawn ? drawn : knobs;
    }
#endif
    plan = plan_of(l, &opts);
    septune_plan_info info;
    septune_plan_get_info(plan, &info);
    float *got = run(l, plan);
    if (info.threads != THREADS[t] || memcmp(got, first, l->no * sizeof(float)) != 0) {
      size_t at = 0;
      while (at < l->no && got[at] == first[at]) at++;
      print_error("seed %llu: '%s' on %s, %d threads (knobs %s, %ld items per image, waking %d): not the bits of "
                  "1 thread (element %zu: %.9g, want %.9g)\n",
                  seed, l->line, septune_isa_name(isa), THREADS[t], info.knobs, info.work, info.wake, at,
                  at < l->no ? (double)got[at] : 0.0, at < l->no ? (double)first[at] : 0.0);
      failures++;
    }
    free(got);
    septune_plan_destroy(plan);
#ifdef SEPTUNE_TEST_JIT
    free(knobs);
    free(drawn);
#endif
  }
  free(first);
  return failures;
}

static void determinism(septune_op_kind kind)
{
  unsigned long long shapes = env_ull("SEPTUNE_TEST_SHAPES", 12);
  int failures = 0, layers = 0;
  for (size_t i = 0; i < sizeof ISAS / sizeof ISAS[0]; i++) {
    if (!septune_cpu_has_isa(ISAS[i])) continue;
    rng_state = env_ull("SEPTUNE_TEST_SEED", 20261301ull) + i * 1000 + (unsigned)kind;
    for (unsigned long long s = 0; s < shapes && failures < 5; s++) {
      unsigned long long seed = rng_state;
      septune_op op;
      if (kind == SEPTUNE_OP_DEPTHWISE) random_dw(&op);
      else random_pw(&op);
      layer l;
      layer_make(&l, &op, seed);
      failures += check_layer(&l, ISAS[i], seed);
      layers++;
      layer_free(&l);
    }
  }
  print_message("%d layers x %zu thread counts: every output the bits of 1 thread's\n", layers,
                sizeof THREADS / sizeof THREADS[0]);
  assert_int_equal(failures, 0);
}

/* Blocks, fused in bands of 2 rows (many bands to share out) and in the
 * default bands: every thread count gives the 1-thread plan's bits. */
static void determinism_blocks(void **state)
{
  (void)state;
  static const char *const lines[] = {
    "ir n=2 h=20 w=17 ci=16 t=4 co=16 k=3 pad=same act=relu6 bias=1 residual=1",
    "sep h=23 w=9 c=24 co=40 k=5 s=2 pad=same act=hswish bias=1",
    "ir h=30 w=30 ci=8 t=6 co=12 k=3 s=2 pad=same act=silu bias=1",
  };
  static const char *const bands[] = { "band=2", NULL };
  int failures = 0;
  for (size_t i = 0; i < sizeof ISAS / sizeof ISAS[0]; i++) {
    if (!septune_cpu_has_isa(ISAS[i])) continue;
    for (size_t j = 0; j < sizeof lines / sizeof lines[0]; j++) {
      septune_layer parsed;
      assert_int_equal(septune_layer_parse(lines[j], &parsed, NULL), SEPTUNE_OK);
      layer l;
      layer_make(&l, &parsed.op, 31 + j);
      for (size_t b = 0; b < sizeof bands / sizeof bands[0]; b++) {
        septune_plan_options opts = { .isa = ISAS[i], .db_path = "", .threads = 1, .knobs = bands[b] };
        septune_plan *plan = plan_of(&l, &opts);
        float *first = run(&l, plan);
        septune_plan_destroy(plan);
        if (!septune_check_output(&l.op, l.want, first, l.no, NULL)) {
          print_error("'%s' on %s, %s: differs from the reference\n", l.line, septune_isa_name(ISAS[i]),
                      bands[b] ? bands[b] : "default band");
          failures++;
        }
        for (size_t t = 1; t < sizeof THREADS / sizeof THREADS[0]; t++) {
          opts.threads = THREADS[t];
          plan = plan_of(&l, &opts);
          float *got = run(&l, plan);
          if (memcmp(got, first, l.no * sizeof(float)) != 0) {
            print_error("'%s' on %s, %s, %d threads: not the bits of 1 thread\n", l.line,
                        septune_isa_name(ISAS[i]), bands[b] ? bands[b] : "default band", THREADS[t]);
            failures++;
          }
          free(got);
          septune_plan_destroy(plan);
        }
        free(first);
      }
      layer_free(&l);
    }
  }
  assert_int_equal(failures, 0);
}

static void determinism_dw(void **state) { (void)state; determinism(SEPTUNE_OP_DEPTHWISE); }
static void determinism_pw(void **state) { (void)state; determinism(SEPTUNE_OP_POINTWISE); }

/* ---- one plan, several callers -------------------------------------------------- */

#define CALLERS 4
#define CALLS 12

typedef struct caller {
  const layer *l;
  const septune_plan *plan;
  const float *want;
  int own_pool;   /* septune_execute_on with a pool of its own, else septune_execute */
  int bad;        /* calls whose output was not `want` */
  int threads;    /* of its pool */
} caller;

static void *call_plan(void *p)
{
  caller *c = p;
  pthreadpool_t pool = c->own_pool ? pthreadpool_create(2) : NULL;
  float *in = malloc(c->l->ni * sizeof(float)), *out = malloc(c->l->no * sizeof(float));
  if (!in || !out || (c->own_pool && !pool)) {
    c->bad = CALLS;
  } else {
    c->threads = pool ? (int)pthreadpool_get_threads_count(pool) : 0;
    memcpy(in, c->l->in, c->l->ni * sizeof(float)); /* its own tensors */
    for (int i = 0; i < CALLS; i++) {
      memset(out, 0, c->l->no * sizeof(float));
      septune_status st = c->own_pool ? septune_execute_on(c->plan, in, out, pool, NULL)
                                      : septune_execute(c->plan, in, out, NULL);
      c->bad += st != SEPTUNE_OK || memcmp(out, c->want, c->l->no * sizeof(float)) != 0;
    }
  }
  if (pool) pthreadpool_destroy(pool);
  free(in);
  free(out);
  return NULL;
}

static void concurrent_callers(int own_pool, const char *line, const char *knobs)
{
  septune_op op;
  septune_layer parsed;
  assert_int_equal(septune_layer_parse(line, &parsed, NULL), SEPTUNE_OK);
  op = parsed.op;
  layer l;
  layer_make(&l, &op, 99);
  septune_plan_options opts = { .db_path = "", .threads = 2, .knobs = knobs };
  septune_plan *plan = plan_of(&l, &opts);
  float *want = run(&l, plan);
  assert_true(septune_check_output(&op, l.want, want, l.no, NULL));
  caller c[CALLERS];
  pthread_t t[CALLERS];
  for (int i = 0; i < CALLERS; i++) {
    c[i] = (caller){ &l, plan, want, own_pool, 0, 0 };
    assert_int_equal(pthread_create(&t[i], NULL, call_plan, &c[i]), 0);
  }
  for (int i = 0; i < CALLERS; i++) {
    assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_int_equal(c[i].bad, 0);
    if (own_pool) assert_int_equal(c[i].threads, 2);
  }
  /* NULL for the pool: the calling thread alone, the same bits */
  float *alone = malloc(l.no * sizeof(float));
  assert_non_null(alone);
  assert_int_equal(septune_execute_on(plan, l.in, alone, NULL, NULL), SEPTUNE_OK);
  assert_memory_equal(alone, want, l.no * sizeof(float));
  assert_int_equal(septune_execute_on(NULL, l.in, alone, NULL, NULL), SEPTUNE_ERR_INVALID_ARGUMENT);
  free(alone);
  free(want);
  septune_plan_destroy(plan);
  layer_free(&l);
}

#define CALLERS_LAYER "pw n=2 h=28 w=28 ci=64 co=96 act=relu6 bias=1"
static void callers_with_own_pools(void **state) { (void)state; concurrent_callers(1, CALLERS_LAYER, NULL); }
static void callers_sharing_the_plans_pool(void **state) { (void)state; concurrent_callers(0, CALLERS_LAYER, NULL); }

/* A block's plan keeps spare band scratch for its callers: shared safely. */
#define CALLERS_BLOCK "ir n=2 h=24 w=24 ci=16 t=4 co=16 k=3 pad=same act=relu6 bias=1 residual=1"
static void callers_of_a_block(void **state)
{
  (void)state;
  concurrent_callers(1, CALLERS_BLOCK, "band=3");
  concurrent_callers(0, CALLERS_BLOCK, "band=3");
}

/* A plan on a caller's pool: its thread count by default, and the same bits. */
static void callers_pool_in_options(void **state)
{
  (void)state;
  septune_layer parsed;
  assert_int_equal(septune_layer_parse("dw h=40 w=40 c=96 k=3 pad=same act=relu6", &parsed, NULL), SEPTUNE_OK);
  layer l;
  layer_make(&l, &parsed.op, 5);
  pthreadpool_t pool = pthreadpool_create(3);
  assert_non_null(pool);
  septune_plan_options one = { .db_path = "", .threads = 1 }, on_pool = { .db_path = "", .pool = pool };
  septune_plan *p1 = plan_of(&l, &one), *p3 = plan_of(&l, &on_pool);
  septune_plan_info info;
  septune_plan_get_info(p3, &info);
  assert_int_equal(info.threads, 3);
  assert_true(info.wake >= 1 && info.wake <= 3);
  float *a = run(&l, p1), *b = run(&l, p3);
  assert_memory_equal(a, b, l.no * sizeof(float));
  septune_plan_destroy(p3);
  septune_plan_destroy(p1);
  pthreadpool_destroy(pool); /* after its plans: septune never destroys it */
  free(a), free(b);
  layer_free(&l);
}

/* ---- bad thread counts ------------------------------------------------------------ */

static void bad_thread_counts(void **state)
{
  (void)state;
  septune_layer parsed;
  assert_int_equal(septune_layer_parse("dw h=4 w=4 c=3 k=3 pad=same", &parsed, NULL), SEPTUNE_OK);
  layer l;
  layer_make(&l, &parsed.op, 3);
  static const int bad[] = { -1, INT_MIN, SEPTUNE_MAX_THREADS + 1, INT_MAX };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    septune_plan_options opts = { .db_path = "", .threads = bad[i] };
    septune_plan *plan = (septune_plan *)&opts;
    septune_error err;
    assert_int_equal(septune_plan_create(&l.op, l.w, l.b, &opts, &plan, &err), SEPTUNE_ERR_INVALID_ARGUMENT);
    assert_null(plan);
    assert_non_null(strstr(err.message, "options.threads"));
  }
  /* the most threads there may be: a layer this small wakes one of them */
  septune_plan_options most = { .db_path = "", .threads = SEPTUNE_MAX_THREADS };
  septune_plan *plan = plan_of(&l, &most);
  septune_plan_info info;
  septune_plan_get_info(plan, &info);
  assert_int_equal(info.threads, SEPTUNE_MAX_THREADS);
  assert_int_equal(info.wake, 1);
  float *got = run(&l, plan);
  assert_true(septune_check_output(&l.op, l.want, got, l.no, NULL));
  free(got);
  septune_plan_destroy(plan);
  /* 0: the CPUs this process may run on */
  septune_plan_options all = { .db_path = "" };
  plan = plan_of(&l, &all);
  septune_plan_get_info(plan, &info);
  assert_true(info.threads >= 1 && info.threads <= SEPTUNE_MAX_THREADS);
  septune_plan_destroy(plan);
  layer_free(&l);
}

/* ---- when the system gives no threads ---------------------------------------------- */

static void *nothing(void *p) { return p; }

/* In a forked child: from now on this process may not start a thread.
 * Returns 0, or -1 when that cannot be arranged here. */
static int forbid_threads(void)
{
  struct rlimit none = { 1, 1 };
  /* root starts threads whatever RLIMIT_NPROC says: become nobody first */
  if (geteuid() == 0 && setresuid(65534, 65534, 65534) != 0) return -1;
  if (setrlimit(RLIMIT_NPROC, &none) != 0) return -1;
#ifdef SEPTUNE_TEST_SOURCE_DIR
  /* plan creation JIT-compiles from the source tree: nobody must be able to
   * read it (a clone in a 0700 directory is out of its reach) */
  if (access(SEPTUNE_TEST_SOURCE_DIR "/generator/isa.lua", R_OK) != 0) return -1;
#endif
  pthread_t t;
  if (pthread_create(&t, NULL, nothing, NULL) == 0) {
    pthread_join(t, NULL);
    return -1; /* not forbidden after all */
  }
  return 0;
}

enum { CHILD_OK = 0, CHILD_WRONG = 1, CHILD_SKIP = 77 };

/* Runs fn in a forked child that may start no thread; its exit status. */
static int in_child_without_threads(int (*fn)(const layer *, septune_plan *), const layer *l, septune_plan *plan)
{
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    alarm(60); /* a hang dies of SIGALRM and fails the test */
    _exit(forbid_threads() != 0 ? CHILD_SKIP : fn(l, plan));
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  if (!WIFEXITED(status)) fail_msg("the child died of signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
  return WEXITSTATUS(status);
}

static int create_fails(const layer *l, septune_plan *unused)
{
  (void)unused;
  septune_plan_options opts = { .db_path = "", .threads = 4 };
  septune_plan *plan = NULL;
  septune_error err;
  septune_status st = septune_plan_create(&l->op, l->w, l->b, &opts, &plan, &err);
  if (st != SEPTUNE_ERR_OUT_OF_MEMORY || plan || !strstr(err.message, "thread")) {
    fprintf(stderr, "plan_create without threads: status %d, %s\n", (int)st, err.message);
    return CHILD_WRONG;
  }
  return CHILD_OK;
}

static int execute_fails(const layer *l, septune_plan *plan)
{
  float *out = malloc(l->no * sizeof(float));
  septune_error err;
  septune_status st = septune_execute(plan, l->in, out, &err);
  free(out);
  if (st != SEPTUNE_ERR_OUT_OF_MEMORY || !strstr(err.message, "thread")) {
    fprintf(stderr, "execute without threads: status %d, %s\n", (int)st, err.message);
    return CHILD_WRONG;
  }
  return CHILD_OK;
}

static void pool_cannot_be_made(void **state)
{
  (void)state;
#ifdef UNDER_TSAN
  skip(); /* ThreadSanitizer does not follow a process that forks with threads */
#endif
  septune_layer parsed;
  assert_int_equal(septune_layer_parse("pw h=28 w=28 ci=64 co=96", &parsed, NULL), SEPTUNE_OK);
  layer l;
  layer_make(&l, &parsed.op, 4);
  /* creation: the first plan of 4 threads checks that it can have them */
  int rc = in_child_without_threads(create_fails, &l, NULL);
  if (rc == CHILD_SKIP) {
    layer_free(&l);
    print_message("skipped: this process cannot forbid itself threads (or, as nobody, cannot read the source tree)\n");
    skip();
  }
  assert_int_equal(rc, CHILD_OK);
  /* execution: a plan made here, run first in a child that gets no threads */
  septune_plan_options opts = { .db_path = "", .threads = 4 };
  septune_plan *plan = plan_of(&l, &opts);
  assert_int_equal(in_child_without_threads(execute_fails, &l, plan), CHILD_OK);
  /* and here, where threads are to be had, it runs */
  float *got = run(&l, plan);
  assert_true(septune_check_output(&l.op, l.want, got, l.no, NULL));
  free(got);
  septune_plan_destroy(plan);
  layer_free(&l);
}

/* ---- fork ----------------------------------------------------------------------------- */

static int child_runs(const layer *l, septune_plan *plan)
{
  float *got = run(l, plan);
  int ok = septune_check_output(&l->op, l->want, got, l->no, NULL);
  free(got);
  return ok ? CHILD_OK : CHILD_WRONG;
}

static void plan_survives_fork(void **state)
{
  (void)state;
#ifdef UNDER_TSAN
  skip();
#endif
  septune_layer parsed;
  assert_int_equal(septune_layer_parse("dw n=2 h=30 w=30 c=64 k=3 pad=same", &parsed, NULL), SEPTUNE_OK);
  layer l;
  layer_make(&l, &parsed.op, 6);
  septune_plan_options opts = { .db_path = "", .threads = 2 };
  septune_plan *plan = plan_of(&l, &opts);
  float *got = run(&l, plan); /* the pool exists now, its workers too */
  free(got);
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    alarm(60);
    _exit(child_runs(&l, plan));
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == CHILD_OK);
  got = run(&l, plan);
  assert_true(septune_check_output(&l.op, l.want, got, l.no, NULL));
  free(got);
  septune_plan_destroy(plan);
  layer_free(&l);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(pool_cannot_be_made),
    cmocka_unit_test(plan_survives_fork),
    cmocka_unit_test(bad_thread_counts),
    cmocka_unit_test(determinism_dw),
    cmocka_unit_test(determinism_pw),
    cmocka_unit_test(determinism_blocks),
    cmocka_unit_test(callers_with_own_pools),
    cmocka_unit_test(callers_sharing_the_plans_pool),
    cmocka_unit_test(callers_of_a_block),
    cmocka_unit_test(callers_pool_in_options),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
