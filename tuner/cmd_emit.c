/*
 * cmd_emit.c — `septune emit`: the kernels of a model's layers as static C
 * sources that any C compiler builds, with a header and a dispatch table
 * for libseptune_rt / libseptune (septune_register_kernels).
 *
 *   septune emit --model MODEL [--db FILE] --out DIR [--name NAME]
 *                [--isa ISA] [--cpu SIGNATURE] [--list]
 *
 * One kernel per distinct layer (by canonical op line with n=1, in model
 * order: a kernel serves any batch): the tuning database's record for it
 * and the thread count (--threads) when there is one, else the 1-thread
 * record's knobs with the default split for that count (TUNED), else the
 * heuristic default (DEFAULT), for the caches of the CPU the records are
 * for. Files in DIR: NAME.h, NAME_table.c and NAME_kNN.c, NN the kernel's
 * index in the table. The generator names every kernel's functions
 * "NAME_<rest>", so tables of different names can be linked into one
 * program. Nothing is written until every kernel has
 * rendered; then the files go in as a set (emit_files.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "plan.h"
#include "db.h"
#include "emit.h"
#include "generator.h"
#include "internal.h"
#include "json.h"
#include "model_file.h"
#include "pool.h"

#define PATH_BUF 4096

const char cli_emit_help[] =
    "usage: septune emit MODEL --out DIR [--db FILE] [--name NAME] [--isa ISA]\n"
    "                   [--cpu SIG] [--threads T] [--no-db] [--json]\n"
    "       septune emit MODEL --list [--name NAME] [--json]\n"
    "\n"
    "Writes the kernel of every distinct layer of a model file (the tuning\n"
    "database's knobs, else the default) as C that needs only libc: DIR/NAME.h,\n"
    "NAME_table.c (the table for septune_register_kernels) and NAME_kNN.c. The\n"
    "files are replaced as a set: a failed emit leaves the previous set as it was.\n"
    "\n"
    "  --out DIR     the output directory (made when missing)\n"
    "  --db FILE     the tuning database (default $SEPTUNE_DB, else the XDG cache's)\n"
    "  --name NAME   prefix of every file and symbol (default: the model file's name\n"
    "                made into a C identifier; never a reserved one)\n"
    "  --isa ISA     scalar sse avx2 avx512 (default: the records', else the best of\n"
    "                the CPU the records are for)\n"
    "  --cpu SIG     use the records of that CPU signature (as `db list` prints it)\n"
    "                instead of this machine's\n"
    "  --threads T   the thread count the kernels' work split is for: the records\n"
    "                tuned for T, else the 1-thread ones with the default split for\n"
    "                T (default: the CPUs this process may run on)\n"
    "  --no-db       default knobs only: a reproducible build\n"
    "  --list        print the names of the files only, write nothing\n"
    "  --json        one JSON document on stdout instead of the text\n";

typedef struct emit_options {
  const char *model, *db, *out, *name, *cpu;
  septune_isa isa;     /* AUTO: not given */
  int threads;         /* --threads, else the CPUs this process may run on */
  int list;
  int no_db;           /* --no-db: default knobs only, whatever $SEPTUNE_DB says */
  int json;
} emit_options;

static int parse_args(int argc, char **argv, emit_options *o)
{
  enum { OPT_MODEL = 256, OPT_DB, OPT_OUT, OPT_NAME, OPT_CPU, OPT_ISA, OPT_LIST, OPT_NO_DB, OPT_JSON, OPT_THREADS };
  static const struct option options[] = {
    { "model", required_argument, NULL, OPT_MODEL },
    { "db", required_argument, NULL, OPT_DB },
    { "out", required_argument, NULL, OPT_OUT },
    { "name", required_argument, NULL, OPT_NAME },
    { "cpu", required_argument, NULL, OPT_CPU },
    { "isa", required_argument, NULL, OPT_ISA },
    { "list", no_argument, NULL, OPT_LIST },
    { "no-db", no_argument, NULL, OPT_NO_DB },
    { "json", no_argument, NULL, OPT_JSON },
    { "threads", required_argument, NULL, OPT_THREADS },
    CLI_HELP_OPTION,
    { NULL, 0, NULL, 0 },
  };
  const char *model = NULL;
  int c;
  memset(o, 0, sizeof *o);
  o->threads = septune_cpu_threads();
  cli_getopt_start();
  while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
    if (c == CLI_HELP) {
      fputs(cli_emit_help, stdout);
      return CLI_DONE;
    }
    if (c == OPT_LIST || c == OPT_NO_DB || c == OPT_JSON) {
      *(c == OPT_LIST ? &o->list : c == OPT_NO_DB ? &o->no_db : &o->json) = 1;
      continue;
    }
    if (c == ':' || c == '?') return cli_option_error("emit", c, argv);
    if (!optarg[0]) {
      cli_error("emit: %s needs a value", argv[optind - 1]);
      return CLI_USAGE;
    }
    switch (c) {
      case OPT_MODEL: model = optarg; break;
      case OPT_DB: o->db = optarg; break;
      case OPT_OUT: o->out = optarg; break;
      case OPT_NAME: o->name = optarg; break;
      case OPT_CPU: o->cpu = optarg; break;
      case OPT_THREADS:
        if (cli_parse_threads("emit", optarg, &o->threads) != CLI_OK) return CLI_USAGE;
        break;
      default:
        if (septune_isa_from_name(optarg, &o->isa) != SEPTUNE_OK) {
          cli_error("emit: --isa: unknown ISA '%s' (auto scalar sse avx2 avx512)", optarg);
          return CLI_USAGE;
        }
    }
  }
  if (cli_model_arg("emit", model, argv + optind, argc - optind, &o->model) != CLI_OK) return CLI_USAGE;
  if (!o->model) {
    cli_error("emit: no model file given (e.g. septune emit models/mobilenet_v2.txt --out gen/)");
    return CLI_USAGE;
  }
  if (o->no_db && (o->db || o->cpu)) {
    cli_error("emit: --no-db excludes --db and --cpu");
    return CLI_USAGE;
  }
  if (!o->out && !o->list) {
    cli_error("emit: --out DIR is required");
    return CLI_USAGE;
  }
  return CLI_OK;
}

/* ---- the table's name --------------------------------------------------- */

static int is_ident_char(char c)
{
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* NAME.h would stand in for the library's own headers. */
static int is_septune_header(const char *s)
{
  return !strcmp(s, "septune") || !strcmp(s, "septune_kernel_table");
}

/* --name as given, or the model file's base name without its extension made
 * into a C identifier ("mobilenet-v2.txt" -> "mobilenet_v2"). Every symbol
 * emitted is NAME_<something> at file scope, declared extern "C" for C++
 * too: a NAME with a leading '_' (reserved at file scope in C) or with
 * "__" in NAME_ (reserved anywhere in C++) is refused, and never derived. */
static int table_name(const emit_options *o, char *buf, size_t n)
{
  if (o->name) {
    const char *s = o->name;
    size_t len = strlen(s);
    int ok = (s[0] < '0' || s[0] > '9') && len > 0 && len <= EMIT_NAME_MAX;
    for (const char *p = s; *p; p++) ok = ok && is_ident_char(*p);
    if (!ok) {
      cli_error("emit: --name '%s' is not a C identifier of at most %d characters ([A-Za-z_][A-Za-z0-9_]*)", s,
                EMIT_NAME_MAX);
      return CLI_USAGE;
    }
    if (s[0] == '_' || strstr(s, "__") || s[len - 1] == '_') {
      cli_error("emit: --name '%s' would make reserved identifiers (it may not start or end with '_' nor "
                "hold '__')", s);
      return CLI_USAGE;
    }
    if (is_septune_header(s)) {
      cli_error("emit: --name '%s' would make a header named like septune's own", s);
      return CLI_USAGE;
    }
    snprintf(buf, n, "%s", s);
    return CLI_OK;
  }
  const char *base = strrchr(o->model, '/');
  base = base ? base + 1 : o->model;
  const char *dot = strrchr(base, '.');
  size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
  size_t j = 0, max = n - 1 < EMIT_NAME_MAX ? n - 1 : EMIT_NAME_MAX;
  /* Runs of other characters become one '_', none at either end. */
  for (size_t i = 0; i < len && j < max; i++) {
    char c = is_ident_char(base[i]) && base[i] != '_' ? base[i] : '_';
    if (c == '_' && (j == 0 || buf[j - 1] == '_')) continue;
    buf[j++] = c;
  }
  while (j > 0 && buf[j - 1] == '_') j--;
  buf[j] = 0;
  if (j == 0 || (buf[0] >= '0' && buf[0] <= '9') || is_septune_header(buf)) {
    /* "m_" in front; the name may then be cut, but never ends in '_'. */
    size_t keep = j + 2 <= max ? j : max - 2;
    memmove(buf + 2, buf, keep);
    memcpy(buf, "m_", 2);
    j = keep + 2;
    while (buf[j - 1] == '_') j--;
    buf[j] = 0;
  }
  return CLI_OK;
}

/* ---- distinct ops ------------------------------------------------------- */

typedef struct emit_plan {
  char name[EMIT_NAME_MAX + 1];
  model_file m;
  emit_kernel *k;
  size_t nk;
} emit_plan;

static void plan_free(emit_plan *p)
{
  for (size_t i = 0; i < p->nk; i++) {
    free(p->k[i].layers);
    free(p->k[i].source);
  }
  free(p->k);
  model_file_free(&p->m);
}

/* The most layers a block's plan runs its stages on (its band shapes). */
#define BLOCK_STAGE_OPS 64

/* The layers to emit for model layer `layer`: itself, or a block's stage
 * layers as a plan of it (the band a database record or the heuristic
 * gives, for --threads) runs them. Returns their count, 0 after printing
 * why when the block's plan cannot be made. */
static int layer_ops(const emit_options *o, const model_layer *layer, septune_op *ops)
{
  const septune_op *op = &layer->layer.op;
  if (op->kind != SEPTUNE_OP_SEPARABLE && op->kind != SEPTUNE_OP_INVERTED_RESIDUAL) {
    septune_op_one_image(op, &ops[0]);
    return 1;
  }
  size_t nw = 0, nb = 0;
  septune_error err;
  septune_op_tensor_sizes(op, NULL, NULL, &nw, &nb, NULL);
  float *w = calloc(nw + nb + 1, sizeof(float));
  septune_plan_options opts = { .isa = o->isa, .threads = o->threads, .db_path = o->no_db ? "" : o->db };
  septune_plan *plan = NULL;
  int n = 0;
  if (!w) cli_error("emit: out of memory");
  else if (septune_plan_create(op, w, w + nw, &opts, &plan, &err) != SEPTUNE_OK)
    cli_error("emit: %s:%d: %s", o->model, layer->lineno, err.message);
  else n = septune_plan_stage_ops(plan, ops, BLOCK_STAGE_OPS);
  septune_plan_destroy(plan);
  free(w);
  return n;
}

/* Groups the model's layers by canonical op line, in order of first use,
 * and names each group's file. A block is emitted as the layers its plan
 * runs its stages on: libseptune_rt's plan of the block finds them in the
 * table. */
static int group_layers(const emit_options *o, emit_plan *p)
{
  size_t cap = p->m.n;
  p->k = calloc(cap, sizeof *p->k);
  if (!p->k) goto oom;
  for (size_t i = 0; i < p->m.n; i++) {
    septune_op ops[BLOCK_STAGE_OPS];
    int nops = layer_ops(o, &p->m.layers[i], ops);
    if (nops == 0) return CLI_FAILED;
    for (int s = 0; s < nops; s++) {
      char line[SEPTUNE_OP_LINE_SIZE];
      septune_op *op = &ops[s];
      int len = septune_op_format(op, line, sizeof line);
      if (len < 0 || (size_t)len >= sizeof line) {
        cli_error("emit: %s:%d: layer line too long to format", o->model, p->m.layers[i].lineno);
        return CLI_USAGE;
      }
      size_t j = 0;
      while (j < p->nk && strcmp(p->k[j].line, line) != 0) j++;
      if (j == cap) {
        emit_kernel *more = realloc(p->k, 2 * cap * sizeof *more);
        if (!more) goto oom;
        memset(more + cap, 0, cap * sizeof *more);
        p->k = more;
        cap *= 2;
      }
      emit_kernel *k = &p->k[j];
      if (j == p->nk) {
        p->nk++;
        k->op = *op;
        memcpy(k->line, line, (size_t)len + 1);
      }
      if (k->nlayers > 0 && k->layers[k->nlayers - 1] == i) continue;
      size_t *grown = realloc(k->layers, (k->nlayers + 1) * sizeof *grown);
      if (!grown) goto oom;
      k->layers = grown;
      k->layers[k->nlayers++] = i;
    }
  }
  int width = 2;
  for (size_t n = p->nk - 1; n >= 100; n /= 10) width++;
  for (size_t j = 0; j < p->nk; j++) {
    emit_kernel *k = &p->k[j];
    if ((size_t)snprintf(k->file, sizeof k->file, "%s_k%0*zu.c", p->name, width, j) >= sizeof k->file) goto oom;
  }
  return CLI_OK;
oom:
  cli_error("emit: out of memory");
  return CLI_FAILED;
}

/* Reads the model and groups its layers. Bad lines are reported each (by
 * cli_read_model, "path:line: why") and make the command fail. */
static int read_model(const emit_options *o, emit_plan *p)
{
  int rc = cli_read_model(o->model, &p->m);
  if (rc != CLI_OK) return rc;
  return group_layers(o, p);
}

/* ---- the tuning database ------------------------------------------------ */

typedef struct emit_db {
  septune_db *db;            /* NULL: no database */
  char path[PATH_BUF];
  char note[PATH_BUF + 64];  /* what the header says about it */
  char cpu[256];             /* whose records count */
  int own_cpu;               /* cpu is this machine's signature */
  septune_cache_budget budget; /* its caches, for the default knobs */
  int tv;                    /* current template version */
} emit_db;

static void warn_line(void *ctx, const char *path, long line, const char *why)
{
  (void)ctx;
  fprintf(stderr, "septune: %s:%ld: %s\n", path, line, why);
}

/* Opens --db (which must be a readable file) or the default database (when
 * its file exists). */
static int open_db(const emit_options *o, emit_db *d)
{
  septune_error err;
  struct stat st;
  if (o->no_db) {
    snprintf(d->note, sizeof d->note, "none (--no-db)");
    return CLI_OK;
  }
  if (o->db) {
    int fd = open(o->db, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
      int e = fd < 0 ? errno : EISDIR;
      if (fd >= 0) close(fd);
      cli_error("emit: cannot read database %s: %s", o->db, strerror(e));
      return CLI_USAGE;
    }
    close(fd);
    snprintf(d->path, sizeof d->path, "%s", o->db);
  } else if (septune_db_default_path(d->path, sizeof d->path, &err) != SEPTUNE_OK) {
    snprintf(d->note, sizeof d->note, "none (%s)", err.message);
    return CLI_OK;
  } else if (!d->path[0]) {
    snprintf(d->note, sizeof d->note, "none ($%s is empty)", SEPTUNE_DB_ENV);
    return CLI_OK;
  } else if (stat(d->path, &st) != 0 && errno == ENOENT) {
    snprintf(d->note, sizeof d->note, "none (%s does not exist)", d->path);
    return CLI_OK;
  }
  if (septune_db_load(d->path, &d->db, warn_line, NULL, &err) != SEPTUNE_OK) {
    cli_error("emit: %s", err.message);
    return err.status == SEPTUNE_ERR_IO ? CLI_USAGE : CLI_FAILED;
  }
  snprintf(d->note, sizeof d->note, "%s", d->path);
  return CLI_OK;
}

/* The record a plan of `threads` threads would pick for k, but for d->cpu:
 * the one for `threads`, else the 1-thread one; the current template
 * version, `isa` only when given, else the fastest (on this machine, among
 * ISAs it can run). */
static const septune_db_record *find_record(const emit_db *d, const emit_kernel *k, septune_isa isa, int threads)
{
  septune_db_query q = { d->cpu, threads, d->tv, &k->op, isa,
                         d->own_cpu ? septune_db_signature_isa(d->cpu) : SEPTUNE_ISA_AUTO };
  const septune_db_record *r = septune_db_select(d->db, &q);
  if (!r && threads > 1) {
    q.threads = 1;
    r = septune_db_select(d->db, &q);
  }
  return r;
}

/* The ISA of a default kernel: --isa, else the best ISA of the CPU the
 * records are for — the target's when --cpu names it (its signature's
 * fourth field), this machine's otherwise. */
static septune_isa default_isa(const emit_options *o)
{
  if (o->isa != SEPTUNE_ISA_AUTO) return o->isa;
  septune_isa isa = o->cpu ? septune_db_signature_isa(o->cpu) : SEPTUNE_ISA_AUTO;
  return isa != SEPTUNE_ISA_AUTO ? isa : septune_cpu_best_isa();
}

/* The caches the default knobs are for: --cpu's (its signature's last
 * field; the sizes it does not give are the generator's stand-ins), else
 * this machine's. */
static void target_budget(const emit_options *o, septune_cache_budget *b)
{
  septune_caches c = { 0, 0, 0 };
  if (!o->cpu) {
    septune_cpu_cache_budget(b);
    return;
  }
  const char *field = strrchr(o->cpu, ':');
  if (field && septune_caches_parse(field + 1, &c) != 0)
    fprintf(stderr, "septune: emit: warning: --cpu %s: no cache sizes in its last field; default knobs assume "
                    "typical caches\n", o->cpu);
  septune_cache_budget_of(&c, b);
}

/* ---- rendering ---------------------------------------------------------- */

/* Renders k with knobs (NULL: default) under the table's name for
 * `threads` threads (resplit: the knobs' split replaced by the default one)
 * and takes the source. Returns the generator's status; err says why. */
static septune_status render(const char *name, const emit_db *d, emit_kernel *k, const char *knobs, int threads,
                             int resplit, septune_error *err)
{
  septune_kernel_source_text text;
  septune_gen_request req = { knobs, name, &d->budget, threads, resplit };
  septune_status st = septune_gen_render_request(&k->op, k->isa, &req, &text, err);
  if (st != SEPTUNE_OK) return st;
  snprintf(k->symbol, sizeof k->symbol, "%s", text.symbol);
  snprintf(k->knobs, sizeof k->knobs, "%s", text.knobs);
  k->nexports = text.nexports;
  memcpy(k->exports, text.exports, sizeof k->exports);
  k->source = text.source;
  return SEPTUNE_OK;
}

/* The kernel for one distinct op: the record's knobs, or the default when
 * there is no record or this version cannot render its knobs (as a plan
 * would fall back). */
static int render_kernel(const emit_options *o, const emit_db *d, emit_plan *p, emit_kernel *k)
{
  septune_error err;
  const septune_db_record *r = find_record(d, k, o->isa, o->threads);
  if (r) {
    k->isa = r->isa;
    if (render(p->name, d, k, r->knobs, o->threads, r->threads != o->threads, &err) == SEPTUNE_OK) {
      k->tuned = 1;
      k->rec = *r;
    } else {
      fprintf(stderr, "septune: emit: warning: %s: record knobs %s on %s do not render (%s); using the default\n",
              k->line, r->knobs, septune_isa_name(r->isa), err.message);
    }
  }
  if (!k->tuned) {
    k->isa = default_isa(o);
    if (render(p->name, d, k, NULL, o->threads, 0, &err) != SEPTUNE_OK) {
      cli_error("emit: %s on %s: %s", k->line, septune_isa_name(k->isa), err.message);
      return CLI_FAILED;
    }
  }
  for (emit_kernel *e = p->k; e < k; e++) {
    if (!strcmp(e->symbol, k->symbol)) {
      cli_error("emit: %s and %s render to the same symbol %s", e->line, k->line, k->symbol);
      return CLI_FAILED;
    }
  }
  return CLI_OK;
}

/* ---- output ------------------------------------------------------------- */

/* "b2.dw" for a named layer, "line 12" otherwise. */
static void layer_label(const emit_plan *p, size_t i, char *buf, size_t n)
{
  const model_layer *l = &p->m.layers[i];
  if (l->layer.name[0]) snprintf(buf, n, "%s", l->layer.name);
  else snprintf(buf, n, "line %d", l->lineno);
}

/* The files of the set, header and table first. */
static void json_files(json_writer *w, const emit_plan *p)
{
  char name[EMIT_NAME_MAX + 16];
  json_key(w, "files");
  json_array_begin(w);
  snprintf(name, sizeof name, "%s.h", p->name);
  json_string(w, name);
  snprintf(name, sizeof name, "%s_table.c", p->name);
  json_string(w, name);
  for (size_t i = 0; i < p->nk; i++) json_string(w, p->k[i].file);
  json_array_end(w);
}

static int list_files(const emit_options *o, const emit_plan *p)
{
  if (o->json) {
    json_writer w;
    json_document_begin(&w, stdout, "emit");
    json_key_string(&w, "model", o->model);
    json_key_string(&w, "name", p->name);
    json_key_bool(&w, "written", 0);
    json_files(&w, p);
    json_document_end(&w);
  } else {
    printf("%s.h\n%s_table.c\n", p->name, p->name);
    for (size_t i = 0; i < p->nk; i++) printf("%s\n", p->k[i].file);
  }
  return fflush(stdout) == 0 ? CLI_OK : CLI_FAILED;
}

/* Builds every text, then writes them as a set: kernels, header, table. */
static int write_files(const emit_options *o, const emit_db *d, const emit_plan *p)
{
  emit_set s = { .name = p->name, .model = o->model, .db_note = d->note, .cpu = d->cpu,
                 .template_version = d->tv, .m = &p->m, .k = p->k, .nk = p->nk };
  size_t n = p->nk + 2;
  emit_file *files = calloc(n, sizeof *files);
  char header[EMIT_NAME_MAX + 8], table[EMIT_NAME_MAX + 16], prefix[EMIT_NAME_MAX + 8];
  int rc = CLI_OK;
  if (!files) {
    cli_error("emit: out of memory");
    return CLI_FAILED;
  }
  snprintf(header, sizeof header, "%s.h", p->name);
  snprintf(table, sizeof table, "%s_table.c", p->name);
  snprintf(prefix, sizeof prefix, "%s_k", p->name);
  for (size_t i = 0; i < p->nk; i++) {
    files[i].name = p->k[i].file;
    files[i].text = emit_kernel_text(&s, &p->k[i]);
  }
  files[p->nk].name = header;
  files[p->nk].text = emit_header_text(&s);
  files[p->nk + 1].name = table;
  files[p->nk + 1].text = emit_table_text(&s);
  for (size_t i = 0; i < n && rc == CLI_OK; i++) {
    if (!files[i].text) {
      cli_error("emit: out of memory");
      rc = CLI_FAILED;
    }
  }
  if (rc == CLI_OK) rc = emit_write_set(o->out, files, n, prefix);
  for (size_t i = 0; i < n; i++) free((char *)files[i].text);
  free(files);
  return rc;
}

/* The kernel that serves layer i. */
static const emit_kernel *kernel_of(const emit_plan *p, size_t i)
{
  for (size_t j = 0; j < p->nk; j++)
    for (size_t l = 0; l < p->k[j].nlayers; l++)
      if (p->k[j].layers[l] == i) return &p->k[j];
  return NULL;
}

/* The report as one JSON document: a row per layer as in the text. */
static void report_json(const emit_options *o, const emit_db *d, const emit_plan *p)
{
  json_writer w;
  json_document_begin(&w, stdout, "emit");
  json_key_string(&w, "model", o->model);
  json_key_string(&w, "name", p->name);
  json_key_bool(&w, "written", 1);
  json_key_string(&w, "out", o->out);
  json_key_string(&w, "database", d->note);
  json_key_string(&w, "cpu", d->db ? d->cpu : NULL);
  json_key_int(&w, "threads", o->threads);
  json_key(&w, "layers");
  json_array_begin(&w);
  for (size_t i = 0; i < p->m.n; i++) {
    const emit_kernel *k = kernel_of(p, i);
    json_object_begin(&w);
    json_key_string(&w, "name", p->m.layers[i].layer.name);
    json_key_int(&w, "line", p->m.layers[i].lineno);
    json_key_string(&w, "op", k->line);
    json_key_string(&w, "isa", septune_isa_name(k->isa));
    json_key_string(&w, "source", k->tuned ? "tuned" : "default");
    json_key_string(&w, "knobs", k->knobs);
    json_key_string(&w, "file", k->file);
    json_object_end(&w);
  }
  json_array_end(&w);
  json_files(&w, p);
  json_document_end(&w);
}

/* One line per layer of the model, in its order, then the totals. */
static void report(const emit_options *o, const emit_db *d, const emit_plan *p)
{
  if (o->json) {
    report_json(o, d, p);
    return;
  }
  size_t tuned = 0;
  for (size_t j = 0; j < p->nk; j++) tuned += (size_t)p->k[j].tuned;
  int fw = 4;
  for (size_t j = 0; j < p->nk; j++)
    if ((int)strlen(p->k[j].file) > fw) fw = (int)strlen(p->k[j].file);
  printf("# database: %s\n", d->note);
  if (d->db) printf("# records of CPU: %s\n", d->cpu);
  printf("# threads: %d (the work split of every kernel is for them)\n", o->threads);
  printf("%-16s %-7s %-8s %-42s %-*s %s\n", "layer", "isa", "source", "knobs", fw, "file", "op");
  for (size_t i = 0; i < p->m.n; i++) {
    const emit_kernel *k = kernel_of(p, i);
    char label[80];
    layer_label(p, i, label, sizeof label);
    printf("%-16s %-7s %-8s %-42s %-*s %s\n", label, septune_isa_name(k->isa), k->tuned ? "tuned" : "default",
           k->knobs, fw, k->file, k->line);
  }
  printf("wrote %zu kernel%s (%zu tuned, %zu default) for %zu layer%s to %s\n", p->nk, p->nk == 1 ? "" : "s", tuned,
         p->nk - tuned, p->m.n, p->m.n == 1 ? "" : "s", o->out);
}

int cmd_emit(int argc, char **argv)
{
  emit_options o;
  emit_plan p;
  emit_db d;
  septune_error err;
  memset(&p, 0, sizeof p);
  memset(&d, 0, sizeof d);
  int rc = parse_args(argc, argv, &o);
  if (rc == CLI_DONE) return CLI_OK;
  if (rc == CLI_OK) rc = table_name(&o, p.name, sizeof p.name);
  if (rc == CLI_OK) rc = read_model(&o, &p);
  if (rc == CLI_OK && o.list) {
    rc = list_files(&o, &p);
    plan_free(&p);
    return rc;
  }
  if (rc == CLI_OK && septune_db_template_version(&d.tv, &err) != SEPTUNE_OK) {
    cli_error("emit: cannot tell the template version: %s", err.message);
    rc = CLI_FAILED;
  }
  if (rc == CLI_OK) rc = open_db(&o, &d);
  if (rc == CLI_OK) {
    d.own_cpu = !o.cpu;
    if (o.cpu) snprintf(d.cpu, sizeof d.cpu, "%s", o.cpu);
    else septune_cpu_signature(d.cpu, sizeof d.cpu);
    target_budget(&o, &d.budget);
  }
  for (size_t j = 0; rc == CLI_OK && j < p.nk; j++) rc = render_kernel(&o, &d, &p, &p.k[j]);
  if (rc == CLI_OK) rc = write_files(&o, &d, &p);
  if (rc == CLI_OK) report(&o, &d, &p);
  if (rc == CLI_OK && fflush(stdout) != 0) rc = CLI_FAILED;
  septune_db_free(d.db);
  plan_free(&p);
  return rc;
}
