/*
 * bench_emitted.c — the premise, checked on emitted sources: `septune emit`
 * writes a model's kernels, the system compiler builds them (gcc -O2 by
 * default) into a shared object, libtcc compiles the very same files, and
 * each kernel's two builds are timed interleaved on the same packed weights.
 * Prints the gcc/libtcc time ratio per kernel and their geometric mean.
 *
 *   bench_emitted [--model FILE] [--db FILE] [--isa ISA] [--cc CC] [--cflags F]
 *                 [--cpu N] [--rounds R] [--round-ms T] [--keep]
 */
#include <dirent.h>
#include <dlfcn.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "check.h"
#include "jit.h"
#include "plan.h"
#include "septune.h"
#include "timing.h"

#define NAME "bench_emitted"
#define MAX_FILES 512

typedef struct options {
  const char *model, *db, *isa, *cc, *cflags;
  int cpu, rounds, keep;
  double round_ms;
} options;

typedef struct run_ctx {
  const septune_plan *plan;
  septune_kernel_fn kernel;
  const float *in;
  float *out;
} run_ctx;

static int run(void *p)
{
  run_ctx *c = p;
  return septune_plan_execute_with(c->plan, c->kernel, c->in, c->out, NULL) == SEPTUNE_OK ? 0 : 1;
}

static int usage(void)
{
  fprintf(stderr, "usage: " NAME " [--model FILE] [--db FILE] [--isa ISA] [--cc CC] [--cflags FLAGS]\n"
                  "       [--cpu N] [--rounds R] [--round-ms T] [--keep]\n");
  return 2;
}

static int parse_options(int argc, char **argv, options *o)
{
  *o = (options){ SEPTUNE_SOURCE_DIR "/models/mobilenet_v2.txt", NULL, NULL, "gcc", "-O2", 1, 15, 0, 2.0 };
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--keep")) { o->keep = 1; continue; }
    if (!v) return usage();
    if (!strcmp(a, "--model")) o->model = v;
    else if (!strcmp(a, "--db")) o->db = v;
    else if (!strcmp(a, "--isa")) o->isa = v;
    else if (!strcmp(a, "--cc")) o->cc = v;
    else if (!strcmp(a, "--cflags")) o->cflags = v;
    else if (!strcmp(a, "--cpu")) o->cpu = atoi(v);
    else if (!strcmp(a, "--rounds")) o->rounds = atoi(v);
    else if (!strcmp(a, "--round-ms")) o->round_ms = atof(v);
    else return usage();
    i++;
  }
  return 0;
}

/* Runs a shell command; 0 when it exited with status 0. */
static int shell(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int shell(const char *what, const char *fmt, ...)
{
  char cmd[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  if (system(cmd) != 0) {
    fprintf(stderr, NAME ": %s failed: %s\n", what, cmd);
    return 1;
  }
  return 0;
}

/* libtcc's build of every kernel file in dir: the same text gcc built,
 * compiled through an #include so that the file's own #include of the
 * header resolves next to it. */
static int jit_files(const char *dir, septune_jit **mods, int *n)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  *n = 0;
  if (!d) return 1;
  while ((e = readdir(d)) && *n < MAX_FILES) {
    size_t len = strlen(e->d_name);
    if (len < 3 || strcmp(e->d_name + len - 2, ".c") != 0 || !strstr(e->d_name, "_k")) continue;
    char src[1200], err[2048];
    snprintf(src, sizeof src, "#include \"%s/%s\"\n", dir, e->d_name);
    if (septune_jit_compile(src, e->d_name, &mods[*n], err, sizeof err) != 0) {
      fprintf(stderr, NAME ": libtcc rejected %s: %s\n", e->d_name, err);
      closedir(d);
      return 1;
    }
    (*n)++;
  }
  closedir(d);
  return 0;
}

static septune_kernel_fn jit_kernel(septune_jit **mods, int n, const char *symbol)
{
  septune_kernel_fn fn = NULL;
  for (int i = 0; i < n && !fn; i++) {
    void *p = septune_jit_symbol(mods[i], symbol);
    if (p) memcpy(&fn, &p, sizeof p);
  }
  return fn;
}

/* Times one entry's gcc and libtcc builds; returns the ratio gcc/libtcc, or
 * a negative value when the entry could not be measured. */
static double measure_entry(const options *o, const septune_kernel_table *table, const septune_kernel_entry *e,
                            septune_kernel_fn tcc_kernel, double *us_tcc, double *us_gcc)
{
  septune_layer layer;
  septune_error err;
  size_t ni, no, nw, nb;
  if (septune_layer_parse(e->op, &layer, &err) != SEPTUNE_OK ||
      septune_op_tensor_sizes(&layer.op, &ni, &no, &nw, &nb, &err) != SEPTUNE_OK) {
    fprintf(stderr, NAME ": %s: %s\n", e->op, err.message);
    return -1;
  }
  float *in = NULL, *out = NULL, *w = malloc(nw * 4 + 4), *bias = malloc(nb * 4 + 4);
  if (posix_memalign((void **)&in, 64, ni * 4 + 64) || posix_memalign((void **)&out, 64, no * 4 + 64) || !w ||
      !bias) {
    fprintf(stderr, NAME ": out of memory\n");
    return -1;
  }
  unsigned long long seed = 5;
  septune_fill_random(in, ni, &seed);
  septune_fill_random(w, nw, &seed);
  septune_fill_random(bias, nb + 1, &seed);
  septune_plan_options popts = { .isa = (septune_isa)e->isa, .db_path = "", .kernels = table, .threads = 1 };
  septune_plan *plan = NULL;
  double ratio = -1;
  if (septune_plan_create(&layer.op, w, bias, &popts, &plan, &err) != SEPTUNE_OK) {
    fprintf(stderr, NAME ": %s: %s\n", e->op, err.message);
  } else {
    /* Both builds read the packing of the gcc-built packer: same source, same layout. */
    run_ctx tcc = { plan, tcc_kernel, in, out }, gcc = { plan, e->kernel, in, out };
    const bench_fn fns[2] = { run, run };
    void *const ctxs[2] = { &tcc, &gcc };
    bench_stats st[2];
    if (bench_measure_interleaved(2, fns, ctxs, o->rounds, o->round_ms, st) == 0) {
      *us_tcc = st[0].median_us;
      *us_gcc = st[1].median_us;
      ratio = st[1].median_us / st[0].median_us;
    }
  }
  septune_plan_destroy(plan);
  free(in), free(out), free(w), free(bias);
  return ratio;
}

int main(int argc, char **argv)
{
  options o;
  if (parse_options(argc, argv, &o)) return 2;
  const char *bin = getenv("SEPTUNE_BIN") ? getenv("SEPTUNE_BIN") : SEPTUNE_CLI_PATH;
  char dir[] = "/tmp/septune_bench_emitted_XXXXXX";
  if (!mkdtemp(dir)) {
    perror(NAME ": mkdtemp");
    return 1;
  }
  char extra[600] = "";
  if (o.db) snprintf(extra, sizeof extra, " --db '%s'", o.db);
  if (o.isa) snprintf(extra + strlen(extra), sizeof extra - strlen(extra), " --isa %s", o.isa);
  /* one thread: the two builds' code, not the threads, is what is compared */
  printf("emit: %s emit --model %s --name premise --threads 1 --out %s%s\n", bin, o.model, dir, extra);
  fflush(stdout);
  if (shell("septune emit", "'%s' emit --model '%s' --name premise --threads 1 --out '%s'%s > %s/emit.log", bin,
            o.model, dir, extra, dir) ||
      shell("the system compiler", "%s %s -fPIC -shared -o %s/premise.so %s/*.c", o.cc, o.cflags, dir, dir))
    return 1;

  char path[512];
  snprintf(path, sizeof path, "%s/premise.so", dir);
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  const septune_kernel_table *table = lib ? dlsym(lib, "premise_kernels") : NULL;
  static septune_jit *mods[MAX_FILES];
  int nmods = 0;
  if (!table) {
    fprintf(stderr, NAME ": %s: %s\n", path, lib ? "no premise_kernels" : dlerror());
    return 1;
  }
  if (jit_files(dir, mods, &nmods)) return 1;

  int pinned = bench_pin_cpu(o.cpu);
  printf("%s build: %s %s; libtcc: the same files; pinned to CPU %d; median of %d interleaved rounds\n\n", o.cc,
         o.cc, o.cflags, pinned, o.rounds);
  printf("%-3s %-28s %-7s %-6s %12s %12s %10s  %s\n", "#", "kernel", "isa", "knobs", "libtcc us", "gcc us",
         "gcc/libtcc", "knob values");
  double log_sum = 0;
  int count = 0, failed = 0;
  for (long i = 0; i < table->count; i++) {
    const septune_kernel_entry *e = &table->entries[i];
    septune_layer layer;
    char shape[96];
    if (!septune_cpu_has_isa((septune_isa)e->isa)) continue;
    septune_kernel_fn tk = jit_kernel(mods, nmods, e->symbol);
    if (!tk || septune_layer_parse(e->op, &layer, NULL) != SEPTUNE_OK) {
      fprintf(stderr, NAME ": no libtcc build of %s\n", e->symbol);
      failed++;
      continue;
    }
    bench_shape_string(&layer.op, 0, shape, sizeof shape);
    double ut = 0, ug = 0, ratio = measure_entry(&o, table, e, tk, &ut, &ug);
    if (ratio <= 0) {
      failed++;
      continue;
    }
    printf("%-3ld %-28s %-7s %-6s %12.2f %12.2f %10.3f  %s\n", i, shape, septune_isa_name(e->isa),
           e->tuned ? "tuned" : "default", ut, ug, ratio, e->knobs);
    fflush(stdout);
    if (e->isa != SEPTUNE_ISA_SCALAR) {
      log_sum += log(ratio);
      count++;
    }
  }
  if (count)
    printf("\ngeometric mean gcc/libtcc over %d machine-code kernels of %s: %.3f\n", count, o.model,
           exp(log_sum / count));
  for (int i = 0; i < nmods; i++) septune_jit_free(mods[i]);
  if (!o.keep) shell("clean-up", "rm -rf '%s'", dir);
  else printf("sources kept in %s\n", dir);
  return failed || !count ? 1 : 0;
}
