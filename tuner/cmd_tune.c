/*
 * cmd_tune.c — `septune tune MODEL`: search, check and time kernels for every
 * distinct layer shape of a model, store the fastest in the tuning database
 * as each shape finishes, and print a table (or JSON) with the speed-up over
 * the default knobs and the share of this machine's roofline reached.
 *
 * Test-only: SEPTUNE_TUNE_INJECT=crash=N,wrong=M,hang=K replaces the N-th
 * (M-th, K-th) candidate after the default of every depthwise shape by a
 * crashing (wrong, hanging) kernel, to show that such candidates are
 * recorded and skipped while the tune goes on.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "internal.h"
#include "layer_data.h"
#include "model_file.h"
#include "tune_report.h"

#define DEFAULT_BUDGET_S 90.0
#define MIN_SHARE_S 0.1 /* a shape gets at least this: the default and a short final */
#define CEILINGS_S 0.5  /* what measuring the roofline ceilings takes, with margin */

typedef struct tune_args {
  const char *model;
  double budget_s;        /* total seconds */
  double layer_budget_s;  /* --layer-budget: seconds per distinct shape; 0: none */
  int budget_given;
  size_t max_candidates;
  unsigned long long seed;
  septune_isa isa;
  int threads;            /* --threads: what the kernels are tuned for */
  const char *db;         /* --db; NULL: the default path */
  int json;
  const char *report;     /* --report FILE.svg */
} tune_args;

static int parse_number(const char *opt, const char *v, double lo, double hi, double *out)
{
  char *end;
  errno = 0;
  double x = strtod(v, &end);
  if (errno || end == v || *end || !(x >= lo && x <= hi)) {
    cli_error("tune: %s: '%s' is not a number in [%g, %g]", opt, v, lo, hi);
    return CLI_USAGE;
  }
  *out = x;
  return CLI_OK;
}

const char cli_tune_help[] =
    "usage: septune tune MODEL [--budget S] [--layer-budget S] [--max-candidates N]\n"
    "                          [--seed N] [--isa ISA] [--threads T] [--db FILE] [--json]\n"
    "                          [--report FILE.svg]\n"
    "\n"
    "Searches, checks and times kernels for every distinct layer of a model file,\n"
    "stores the fastest of each in the tuning database as soon as it is found, and\n"
    "prints a table of speed-ups over the default knobs and roofline shares.\n"
    "\n"
    "  --budget S          wall-clock seconds for the whole model (default 90)\n"
    "  --layer-budget S    at most S seconds per distinct layer\n"
    "  --max-candidates N  at most N candidates per layer, the default included\n"
    "  --seed N            seed of the random sampling (default 1)\n"
    "  --isa ISA           scalar sse avx2 avx512 (default: the best this CPU has)\n"
    "  --threads T         tune for plans of T threads: candidates run on T threads,\n"
    "                      pinned to T CPUs, and the records are for T (default 1)\n"
    "  --db FILE           the tuning database (default $SEPTUNE_DB, else\n"
    "                      $XDG_CACHE_HOME/septune/tuning.db or ~/.cache/septune/tuning.db;\n"
    "                      --db '' stores nothing)\n"
    "  --json              one JSON document on stdout instead of the table\n"
    "  --report FILE.svg   a roofline chart; its directory must exist and be writable\n"
    "\n"
    "Exit status: 0 every layer tuned, 1 a layer could not be, 2 bad usage, a bad\n"
    "model file, or a layer too large for this machine's memory.\n";

/* --report: checked before minutes of tuning, so that the chart cannot be
 * the one thing lost at the end. */
static int check_report_path(const char *path)
{
  size_t n = strlen(path);
  if (n < 5 || strcmp(path + n - 4, ".svg") != 0) {
    cli_error("tune: --report: '%s' does not end in .svg", path);
    return CLI_USAGE;
  }
  char *dir = strdup(path);
  if (!dir) {
    cli_error("tune: out of memory");
    return CLI_FAILED;
  }
  char *slash = strrchr(dir, '/');
  const char *d = slash ? (slash == dir ? "/" : (*slash = 0, dir)) : ".";
  struct stat st;
  int rc = CLI_OK;
  if (stat(d, &st) != 0 || !S_ISDIR(st.st_mode) || access(d, W_OK | X_OK) != 0) {
    int e = errno;
    cli_error("tune: --report: cannot write into %s: %s", d,
              stat(d, &st) == 0 && !S_ISDIR(st.st_mode) ? "not a directory" : strerror(e));
    rc = CLI_USAGE;
  }
  free(dir);
  return rc;
}

static int parse_args(int argc, char **argv, tune_args *a)
{
  enum { OPT_BUDGET = 256, OPT_LAYER_BUDGET, OPT_MAX_CANDIDATES, OPT_SEED, OPT_ISA, OPT_DB, OPT_JSON, OPT_REPORT,
         OPT_MODEL, OPT_THREADS };
  static const struct option options[] = {
    { "budget", required_argument, NULL, OPT_BUDGET },
    { "layer-budget", required_argument, NULL, OPT_LAYER_BUDGET },
    { "max-candidates", required_argument, NULL, OPT_MAX_CANDIDATES },
    { "seed", required_argument, NULL, OPT_SEED },
    { "isa", required_argument, NULL, OPT_ISA },
    { "db", required_argument, NULL, OPT_DB },
    { "json", no_argument, NULL, OPT_JSON },
    { "report", required_argument, NULL, OPT_REPORT },
    { "model", required_argument, NULL, OPT_MODEL },
    { "threads", required_argument, NULL, OPT_THREADS },
    CLI_HELP_OPTION,
    { NULL, 0, NULL, 0 },
  };
  const char *model = NULL, *v;
  int c;
  double x;
  memset(a, 0, sizeof *a);
  a->budget_s = DEFAULT_BUDGET_S;
  a->seed = 1;
  a->threads = 1;
  cli_getopt_start();
  while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
    v = optarg;
    switch (c) {
      case CLI_HELP:
        fputs(cli_tune_help, stdout);
        return CLI_DONE;
      case OPT_JSON:
        a->json = 1;
        break;
      case OPT_BUDGET:
        if (parse_number("--budget", v, 0.01, 86400, &a->budget_s) != CLI_OK) return CLI_USAGE;
        a->budget_given = 1;
        break;
      case OPT_LAYER_BUDGET:
        if (parse_number("--layer-budget", v, 0.01, 86400, &a->layer_budget_s) != CLI_OK) return CLI_USAGE;
        break;
      case OPT_MAX_CANDIDATES:
        if (parse_number("--max-candidates", v, 0, 1e9, &x) != CLI_OK) return CLI_USAGE;
        if (x != floor(x)) {
          cli_error("tune: --max-candidates: '%s' is not a whole number", v);
          return CLI_USAGE;
        }
        a->max_candidates = (size_t)x;
        break;
      case OPT_SEED: {
        char *end;
        errno = 0;
        a->seed = strtoull(v, &end, 0);
        if (errno || end == v || *end || v[0] == '-') {
          cli_error("tune: --seed: '%s' is not a non-negative integer", v);
          return CLI_USAGE;
        }
        break;
      }
      case OPT_ISA:
        if (septune_isa_from_name(v, &a->isa) != SEPTUNE_OK) {
          cli_error("tune: --isa: unknown ISA '%s' (auto scalar sse avx2 avx512)", v);
          return CLI_USAGE;
        }
        if (!septune_cpu_has_isa(a->isa)) {
          cli_error("tune: --isa: this CPU cannot run %s", v);
          return CLI_USAGE;
        }
        break;
      case OPT_DB:
        a->db = v;
        break;
      case OPT_REPORT:
        a->report = v;
        break;
      case OPT_MODEL:
        model = v;
        break;
      case OPT_THREADS:
        if (cli_parse_threads("tune", v, &a->threads) != CLI_OK) return CLI_USAGE;
        break;
      default:
        return cli_option_error("tune", c, argv);
    }
  }
  if (cli_model_arg("tune", model, argv + optind, argc - optind, &a->model) != CLI_OK) return CLI_USAGE;
  if (!a->model) {
    cli_error("tune: no model file given (e.g. septune tune models/mobilenet_v2.txt)");
    return CLI_USAGE;
  }
  if (a->report) {
    int rc = check_report_path(a->report);
    if (rc != CLI_OK) return rc;
  }
  if (a->isa == SEPTUNE_ISA_AUTO) a->isa = septune_cpu_best_isa();
  /* A budget per shape alone sets no total. */
  if (a->layer_budget_s > 0 && !a->budget_given) a->budget_s = 86400;
  return CLI_OK;
}

/* SEPTUNE_TUNE_INJECT (test only, see the top of this file). */
static int read_inject(tune_options *o)
{
  const char *env = getenv("SEPTUNE_TUNE_INJECT");
  if (!env || !*env) return CLI_OK;
  char buf[128];
  snprintf(buf, sizeof buf, "%s", env);
  for (char *item = strtok(buf, ","); item; item = strtok(NULL, ",")) {
    char kind[16];
    unsigned long n;
    if (sscanf(item, "%15[a-z]=%lu", kind, &n) != 2 || n == 0) goto bad;
    if (!strcmp(kind, "crash")) o->inject_crash_at = n;
    else if (!strcmp(kind, "wrong")) o->inject_wrong_at = n;
    else if (!strcmp(kind, "hang")) o->inject_hang_at = n;
    else goto bad;
  }
  return CLI_OK;
bad:
  cli_error("SEPTUNE_TUNE_INJECT: '%s' is not crash=N,wrong=N,hang=N", env);
  return CLI_USAGE;
}

/* ------------------------------------------------------------------------ */
/* Progress on stderr: a bar redrawn in place on a terminal, else one line
 * per finished shape. */

typedef struct progress {
  int tty;
  size_t shape, n_shapes;
  const char *name;
  double t0_us, last_draw_us;
  double budget_s;
} progress;

static void draw_bar(progress *p, size_t done, size_t space, int force)
{
  double now = bench_now_us();
  if (!force && now - p->last_draw_us < 100000) return;
  p->last_draw_us = now;
  enum { WIDTH = 24 };
  /* The budget is wall-clock, so elapsed time is the truest progress. */
  double elapsed_s = (now - p->t0_us) / 1e6;
  double done_share = elapsed_s / p->budget_s;
  int fill = (int)(WIDTH * (done_share < 1 ? done_share : 1));
  char bar[WIDTH + 1];
  for (int i = 0; i < WIDTH; i++) bar[i] = i < fill ? '#' : '.';
  bar[WIDTH] = 0;
  fprintf(stderr, "\r\033[K[%s] %3.0f/%.0f s  shape %zu/%zu %-14.14s candidate %zu of %zu", bar, elapsed_s,
          p->budget_s, p->shape + 1, p->n_shapes, p->name, done, space);
  fflush(stderr);
}

static void on_candidate(void *ctx, size_t done, size_t space, const tune_candidate *last)
{
  progress *p = ctx;
  (void)last;
  if (p->tty) draw_bar(p, done, space, 0);
}

/* ------------------------------------------------------------------------ */

static void db_warn(void *ctx, const char *path, long line, const char *why)
{
  (void)ctx;
  cli_error("warning: %s:%ld: %s (line skipped)", path, line, why);
}

/* The record of a tuned shape, as septune_db_store wants it. */
static void make_record(const tune_run *run, const tune_shape *s, int template_version, septune_db_record *rec)
{
  memset(rec, 0, sizeof *rec);
  snprintf(rec->cpu, sizeof rec->cpu, "%s", run->cpu);
  rec->threads = run->threads;
  rec->template_version = template_version;
  rec->op = s->op;
  rec->isa = s->res.isa;
  snprintf(rec->knobs, sizeof rec->knobs, "%s", s->res.knobs);
  rec->median_us = s->res.tuned_time.median_us;
  rec->min_us = s->res.tuned_time.min_us > 0 ? s->res.tuned_time.min_us : rec->median_us;
  rec->gflops = septune_op_flops(&s->op) / (rec->median_us * 1e3);
  rec->default_us = s->res.default_time.median_us;
  rec->date = (long long)time(NULL);
}

/* Groups the model's layers by canonical layer line with n=1: a kernel and
 * its record serve any batch, so a shape is tuned on one image. */
static int find_shapes(tune_run *run)
{
  const model_file *m = run->m;
  run->shape_of = calloc(m->n ? m->n : 1, sizeof *run->shape_of);
  run->shapes = calloc(m->n ? m->n : 1, sizeof *run->shapes);
  if (!run->shape_of || !run->shapes) return -1;
  for (size_t i = 0; i < m->n; i++) {
    char line[SEPTUNE_OP_LINE_SIZE];
    septune_op one;
    septune_op_one_image(&m->layers[i].layer.op, &one);
    septune_op_format(&one, line, sizeof line);
    size_t j = 0;
    while (j < run->n_shapes && strcmp(run->shapes[j].line, line)) j++;
    if (j == run->n_shapes) {
      tune_shape *s = &run->shapes[run->n_shapes++];
      s->op = one;
      snprintf(s->line, sizeof s->line, "%s", line);
      s->first_layer = i;
      s->res.isa = run->isa;
    }
    run->shape_of[i] = j;
  }
  return 0;
}

static void free_run(tune_run *run)
{
  for (size_t i = 0; i < run->n_shapes; i++) tune_result_free(&run->shapes[i].res);
  free(run->shapes);
  free(run->shape_of);
}

int cmd_tune(int argc, char **argv)
{
  double t0 = bench_now_us();
  tune_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc != CLI_OK) return rc == CLI_DONE ? CLI_OK : rc;
  tune_options opt;
  tune_options_default(&opt);
  if (read_inject(&opt) != CLI_OK) return CLI_USAGE;

  /* Database path and template version first: a bad --db or a broken
   * generator should fail before minutes of work. */
  char db_path[PATH_MAX];
  septune_error err;
  if (a.db) {
    snprintf(db_path, sizeof db_path, "%s", a.db);
  } else if (septune_db_default_path(db_path, sizeof db_path, &err) != SEPTUNE_OK) {
    cli_error("tune: %s (use --db FILE)", err.message);
    return CLI_USAGE;
  }
  int template_version = 0;
  if (septune_db_template_version(&template_version, &err) != SEPTUNE_OK) {
    cli_error("tune: %s", err.message);
    return CLI_FAILED;
  }
  if (db_path[0]) {
    /* Before any tuning: a database this tune could not extend fails now. */
    septune_db *db = NULL;
    if (septune_db_check_writable(db_path, &err) != SEPTUNE_OK ||
        septune_db_load(db_path, &db, db_warn, NULL, &err) != SEPTUNE_OK) {
      cli_error("tune: %s", err.message);
      return CLI_USAGE;
    }
    septune_db_free(db);
  }

  model_file m;
  rc = cli_read_model(a.model, &m);
  if (rc != CLI_OK) return rc;

  tune_run run;
  memset(&run, 0, sizeof run);
  run.model = a.model;
  run.m = &m;
  run.isa = a.isa;
  run.threads = a.threads;
  run.seed = a.seed;
  run.budget_s = a.budget_s;
  run.db_path = db_path;
  septune_cpu_signature(run.cpu, sizeof run.cpu);
  if (find_shapes(&run) != 0) {
    cli_error("tune: out of memory");
    free_run(&run);
    model_file_free(&m);
    return CLI_FAILED;
  }
  /* Every shape must fit in memory before the first is tuned. */
  for (size_t i = 0; i < run.n_shapes; i++) {
    if (layer_data_check_memory(&run.shapes[i].op, &err) != SEPTUNE_OK) {
      cli_error("tune: %s:%d: %s", a.model, m.layers[run.shapes[i].first_layer].lineno, err.message);
      free_run(&run);
      model_file_free(&m);
      return CLI_USAGE;
    }
  }

  /* T cores for everything: the children inherit the pinning (their threads
   * share those cores), and compile and measure never overlap. */
  int pinned = bench_pin_cpus(a.threads);
  if (pinned < 0) cli_error("warning: could not pin to %d CPU%s; timings may be noisier", a.threads,
                            a.threads == 1 ? "" : "s");
  else if (pinned < a.threads)
    cli_error("warning: --threads %d but this process may run on %d CPU%s only: the threads will share them",
              a.threads, pinned, pinned == 1 ? "" : "s");
  roofline_measure(&run.rf);

  /* What the run will take at most: for the progress bar and the report. */
  double expected_s = a.budget_s;
  if (a.layer_budget_s > 0 && a.layer_budget_s * (double)run.n_shapes + 2 * CEILINGS_S < expected_s)
    expected_s = a.layer_budget_s * (double)run.n_shapes + 2 * CEILINGS_S;
  run.budget_s = expected_s;
  progress prog = { isatty(2), 0, run.n_shapes, "", t0, 0, expected_s };
  opt.isa = a.isa;
  opt.threads = a.threads;
  opt.seed = a.seed;
  opt.max_candidates = a.max_candidates;
  opt.progress = on_candidate;
  opt.progress_ctx = &prog;
  /* The ceilings are measured once more at the end (about 0.4 s, inside
   * the budget). */
  double deadline = t0 + (a.budget_s > 4 * CEILINGS_S ? a.budget_s - CEILINGS_S : a.budget_s) * 1e6;
  int failed = 0;
  for (size_t i = 0; i < run.n_shapes; i++) {
    tune_shape *s = &run.shapes[i];
    char nb[32];
    const char *name = m.layers[s->first_layer].layer.name;
    if (!name[0]) {
      snprintf(nb, sizeof nb, "line%d", m.layers[s->first_layer].lineno);
      name = nb;
    }
    prog.shape = i;
    prog.name = name;
    /* An equal share of what is left, so time a fast shape leaves over goes
     * to the shapes after it. */
    double share = (deadline - bench_now_us()) / 1e6 / (double)(run.n_shapes - i);
    if (a.layer_budget_s > 0 && share > a.layer_budget_s) share = a.layer_budget_s;
    opt.budget_s = share > MIN_SHARE_S ? share : MIN_SHARE_S;
    if (tune_layer(&s->op, &opt, &s->res) != 0) {
      cli_error("tune: out of memory");
      failed = 1;
      break;
    }
    s->tuned = 1;
    if (s->res.ok && db_path[0]) {
      septune_db_record rec;
      make_record(&run, s, template_version, &rec);
      if (septune_db_store(db_path, &rec, 1, &err) == SEPTUNE_OK) s->stored = 1;
      else {
        cli_error("tune: %s", err.message);
        failed = 1;
      }
    }
    if (prog.tty) {
      draw_bar(&prog, s->res.n_cands, s->res.space_size, 1);
    } else {
      const tune_result *r = &s->res;
      if (r->ok)
        fprintf(stderr, "tune: %zu/%zu %s: %zu candidates (%zu rejected) in %.1f s, %.2f -> %.2f us\n", i + 1,
                run.n_shapes, name, r->n_cands, r->rejected, r->seconds, r->default_time.median_us,
                r->tuned_time.median_us);
      else
        fprintf(stderr, "tune: %zu/%zu %s: %s\n", i + 1, run.n_shapes, name, r->why);
    }
    if (!s->res.ok) failed = 1;
  }
  if (prog.tty) fputs("\r\033[K", stderr);
  roofline_measure_again(&run.rf);
  roofline_for_cores(&run.rf, pinned > 0 && pinned < a.threads ? pinned : a.threads);
  for (size_t i = 0; i < run.n_shapes; i++)
    if (!run.shapes[i].res.ok) failed = 1;

  run.wall_s = (bench_now_us() - t0) / 1e6;
  if (a.json) {
    if (tune_print_json(stdout, &run) != 0) failed = 1;
  } else {
    tune_print_table(stdout, &run);
  }
  if (a.report) {
    char why[512];
    if (tune_write_svg(&run, a.report, why, sizeof why) != 0) {
      cli_error("tune: --report %s", why);
      failed = 1;
    }
  }
  if (fflush(stdout) != 0) failed = 1;
  free_run(&run);
  model_file_free(&m);
  return failed ? CLI_FAILED : CLI_OK;
}
