/*
 * fuzz_knobs.c — knob strings through plan creation (septune_plan_create
 * with options.knobs) on a few small fixed layers, on every ISA this CPU
 * runs.
 *
 * Input: byte 0 picks the layer, byte 1 the ISA (auto, then each ISA the
 * CPU has), the rest is the knob string (up to its first NUL). The
 * generator must refuse a bad knob string with INVALID_ARGUMENT or
 * UNSUPPORTED and a message, never crash, fault in Lua or emit code libtcc
 * rejects. A plan it accepts must compute what the reference computes, and
 * its canonical knobs must give the same kernel again. The layers are small,
 * so the work per input stays bounded whatever the knobs.
 *
 * The generator is Lua, whose branches clang's coverage cannot see; so that
 * libFuzzer still learns which inputs reach new ground, the target counts
 * its own features in libFuzzer's extra counters: each knob=value of an
 * accepted plan, and each kind of refusal (its message without numbers and
 * quoted text), per layer and ISA.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fuzz.h"
#include "septune.h"

static const char *const layer_lines[] = {
  "dw h=5 w=7 c=5 k=3 s=1 pad=same act=relu6",
  "dw h=6 w=9 c=19 k=3 s=2 pad=same bias=1 act=hswish",
  "dw h=7 w=6 c=8 kh=3 kw=5 d=2 m=2 pad=2,4,1,3 act=clamp(-0.5,0.75)",
  "dw h=6 w=20 c=33 k=5 sh=1 sw=2 pad=valid bias=1 act=relu",
  "pw h=3 w=5 ci=7 co=19 bias=1 act=relu",
  "pw h=2 w=9 ci=33 co=8 act=clamp(-0.25,0.5)",
  "pw n=2 h=3 w=3 ci=16 co=48 act=hswish",
};
#define NUM_LAYERS (sizeof layer_lines / sizeof layer_lines[0])

typedef struct layer {
  septune_op op;
  float *in, *weights, *bias, *want, *got;
  size_t n_out;
} layer;

static layer layers[NUM_LAYERS];
static septune_isa isas[5]; /* auto, then each ISA the CPU has */
static size_t num_isas;

#define NUM_COUNTERS 8192
__attribute__((section("__libfuzzer_extra_counters"))) static uint8_t counters[NUM_COUNTERS];

/* Counts the feature text[0..n) of layer li on isa. */
static void feature(size_t li, septune_isa isa, const char *text, size_t n)
{
  uint64_t h = 0xcbf29ce484222325ULL ^ (li * 31 + (size_t)isa);
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)text[i]) * 0x100000001b3ULL;
  counters[h % NUM_COUNTERS]++;
}

/* Each knob=value of a canonical knob string. */
static void knob_features(size_t li, septune_isa isa, const char *knobs)
{
  for (const char *p = knobs; *p;) {
    size_t n = strcspn(p, ",");
    feature(li, isa, p, n);
    p += n + (p[n] == ',');
  }
}

/* The kind of a refusal: its message up to the first quote, digits left out. */
static void refusal_feature(size_t li, septune_isa isa, const char *message)
{
  char kind[SEPTUNE_ERROR_MESSAGE_SIZE];
  size_t n = 0;
  for (const char *p = message; *p && *p != '\'' && *p != '"' && n + 1 < sizeof kind; p++)
    if (*p < '0' || *p > '9') kind[n++] = *p;
  feature(li, isa, kind, n);
}

static float *random_floats(size_t n, unsigned long long *seed)
{
  float *x = malloc((n ? n : 1) * sizeof *x);
  FUZZ_CHECK(x != NULL, "out of memory");
  septune_fill_random(x, n, seed);
  return x;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  unsigned long long seed = 12345;
  for (size_t i = 0; i < NUM_LAYERS; i++) {
    layer *l = &layers[i];
    septune_layer parsed;
    septune_error err;
    size_t n_in, n_w, n_b;
    FUZZ_CHECK(septune_layer_parse(layer_lines[i], &parsed, &err) == SEPTUNE_OK, "%s: %s", layer_lines[i], err.message);
    l->op = parsed.op;
    FUZZ_CHECK(septune_op_tensor_sizes(&l->op, &n_in, &l->n_out, &n_w, &n_b, &err) == SEPTUNE_OK, "%s", err.message);
    l->in = random_floats(n_in, &seed);
    l->weights = random_floats(n_w, &seed);
    l->bias = random_floats(n_b, &seed);
    l->want = random_floats(l->n_out, &seed);
    l->got = random_floats(l->n_out, &seed);
    FUZZ_CHECK(septune_reference_execute(&l->op, l->weights, l->bias, l->in, l->want, &err) == SEPTUNE_OK, "%s",
               err.message);
  }
  isas[num_isas++] = SEPTUNE_ISA_AUTO;
  for (int isa = SEPTUNE_ISA_SCALAR; isa <= SEPTUNE_ISA_AVX512; isa++)
    if (septune_cpu_has_isa((septune_isa)isa)) isas[num_isas++] = (septune_isa)isa;
  return 0;
}

/* Creates the plan of l on isa with knobs; returns its status, the plan in
 * *plan (NULL on failure). */
static septune_status create(const layer *l, septune_isa isa, const char *knobs, septune_plan **plan,
                             septune_error *err)
{
  septune_plan_options opts;
  memset(&opts, 0, sizeof opts);
  opts.isa = isa;
  opts.knobs = knobs;
  opts.db_path = ""; /* no tuning database: the knobs or the default */
  return septune_plan_create(&l->op, l->weights, l->bias, &opts, plan, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 2) return 0;
  size_t li = data[0] % NUM_LAYERS;
  const layer *l = &layers[li];
  septune_isa isa = isas[data[1] % num_isas];
  char *knobs = fuzz_string(data + 2, size - 2);
  septune_plan *plan;
  septune_error err;
  memset(&err, 'E', sizeof err);
  septune_status st = create(l, isa, knobs, &plan, &err);
  if (st != SEPTUNE_OK) {
    FUZZ_CHECK(st == SEPTUNE_ERR_INVALID_ARGUMENT || st == SEPTUNE_ERR_UNSUPPORTED,
               "%s on %s with knobs '%s': status %d, %s", layer_lines[li], septune_isa_name(isa), knobs, (int)st,
               fuzz_message_ok(err.message, sizeof err.message) ? err.message : "(no message)");
    FUZZ_CHECK(plan == NULL, "a failed plan_create left a plan");
    FUZZ_CHECK(err.status == st && fuzz_message_ok(err.message, sizeof err.message), "knobs '%s': no message", knobs);
    refusal_feature(li, isa, err.message);
    free(knobs);
    return 0;
  }

  septune_plan_info info;
  FUZZ_CHECK(septune_plan_get_info(plan, &info) == SEPTUNE_OK, "no info");
  knob_features(li, info.isa, info.knobs);
  FUZZ_CHECK(!knobs[0] || info.source == SEPTUNE_KERNEL_FORCED, "knobs '%s' gave source %d", knobs, (int)info.source);
  FUZZ_CHECK(isa == SEPTUNE_ISA_AUTO || info.isa == isa, "asked for %s, got %s", septune_isa_name(isa),
             septune_isa_name(info.isa));
  FUZZ_CHECK(septune_execute(plan, l->in, l->got, &err) == SEPTUNE_OK, "execute: %s", err.message);
  septune_check_result res;
  FUZZ_CHECK(septune_check_output(&l->op, l->want, l->got, l->n_out, &res),
             "%s on %s with knobs '%s' (canonical '%s'): element %zu is off by %g (%g of its bound), %d not finite",
             layer_lines[li], septune_isa_name(info.isa), knobs, info.knobs, res.worst_index, res.max_abs_error,
             res.worst_ratio, res.non_finite);
  septune_plan_destroy(plan);

  /* The canonical knobs name the same kernel: asking for them gives them. */
  if (knobs[0] && info.knobs[0]) {
    septune_plan_info again;
    st = create(l, info.isa, info.knobs, &plan, &err);
    FUZZ_CHECK(st == SEPTUNE_OK, "canonical knobs '%s' of '%s' refused: %s", info.knobs, knobs, err.message);
    FUZZ_CHECK(septune_plan_get_info(plan, &again) == SEPTUNE_OK && strcmp(again.knobs, info.knobs) == 0,
               "canonical knobs '%s' became '%s'", info.knobs, again.knobs);
    septune_plan_destroy(plan);
  }
  free(knobs);
  return 0;
}
