/*
 * cmd_db.c — `septune db list|show|merge|prune`: inspect and maintain the
 * tuning database (format: runtime/src/db_record.c, locking: db_file.c).
 *
 * Every subcommand takes --db FILE (default: $SEPTUNE_DB, else the XDG
 * cache path). Lines the loader skips are reported on stderr as
 * "septune: <path>:<line>: <why>", the way compilers report errors, so an
 * editor can jump to them. Records are "foreign" when another CPU signature
 * measured them and "stale" when the generator's template version changed
 * since: both are kept and shown, but plans on this machine ignore them.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "db.h"
#include "internal.h"
#include "json.h"

#define PATH_BUF 4096

const char cli_db_help[] =
    "usage: septune db list [--db FILE] [--json]\n"
    "       septune db show LAYER... [--db FILE] [--json]\n"
    "       septune db merge FILE... [--db FILE]\n"
    "       septune db prune [--db FILE] [--foreign] [--stale] [--dry-run]\n"
    "\n"
    "  list    the tuning database as a table (foreign: another CPU's record;\n"
    "          stale: an older template version's; plans use neither)\n"
    "  show    every record of one layer line; exit 1 when there is none\n"
    "  merge   add the records of other database files; on the same key the faster\n"
    "          wins\n"
    "  prune   drop duplicate and unreadable lines, and other CPUs' (--foreign) or\n"
    "          older template versions' (--stale) records; --dry-run only tells\n"
    "\n"
    "  --db FILE   the database (default $SEPTUNE_DB, else\n"
    "              $XDG_CACHE_HOME/septune/tuning.db or ~/.cache/septune/tuning.db)\n"
    "  --json      list and show: one JSON document on stdout instead of the text\n";

typedef struct db_args {
  const char *db;          /* --db FILE, NULL: the default */
  int foreign, stale, dry_run;
  int json;                /* --json (list and show) */
  char **pos;              /* the other arguments */
  int npos;
} db_args;

/* Reads --db, --json (list and show) and the prune flags; the rest are
 * positional. argv[0] is the subcommand's name. */
static int parse_args(const char *cmd, int argc, char **argv, int prune_flags, db_args *a)
{
  enum { OPT_DB = 256, OPT_JSON, OPT_FOREIGN, OPT_STALE, OPT_DRY_RUN };
  static const struct option options[] = {
    { "db", required_argument, NULL, OPT_DB },
    { "json", no_argument, NULL, OPT_JSON },
    { "foreign", no_argument, NULL, OPT_FOREIGN },
    { "stale", no_argument, NULL, OPT_STALE },
    { "dry-run", no_argument, NULL, OPT_DRY_RUN },
    CLI_HELP_OPTION,
    { NULL, 0, NULL, 0 },
  };
  char what[32];
  int c, json_flag = !strcmp(cmd, "list") || !strcmp(cmd, "show");
  snprintf(what, sizeof what, "db %s", cmd);
  memset(a, 0, sizeof *a);
  cli_getopt_start();
  while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
    if (c == CLI_HELP) {
      fputs(cli_db_help, stdout);
      return CLI_DONE;
    } else if (c == OPT_DB) {
      if (!optarg[0]) {
        cli_error("db %s: --db needs a file name", cmd);
        return CLI_USAGE;
      }
      a->db = optarg;
    } else if (c == OPT_JSON && json_flag) {
      a->json = 1;
    } else if (c == OPT_FOREIGN && prune_flags) {
      a->foreign = 1;
    } else if (c == OPT_STALE && prune_flags) {
      a->stale = 1;
    } else if (c == OPT_DRY_RUN && prune_flags) {
      a->dry_run = 1;
    } else {
      return cli_option_error(what, c == ':' ? ':' : '?', argv);
    }
  }
  a->pos = argv + optind;
  a->npos = argc - optind;
  return CLI_OK;
}

/* The database path: --db, else the default. An empty result (SEPTUNE_DB="")
 * means "no database". */
static int db_path(const char *cmd, const db_args *a, char *buf)
{
  septune_error err;
  if (a->db) {
    snprintf(buf, PATH_BUF, "%s", a->db);
    return CLI_OK;
  }
  if (septune_db_default_path(buf, PATH_BUF, &err) != SEPTUNE_OK) {
    cli_error("db %s: %s (or give --db FILE)", cmd, err.message);
    return CLI_USAGE;
  }
  return CLI_OK;
}

static void warn_line(void *ctx, const char *path, long line, const char *why)
{
  (void)ctx;
  fprintf(stderr, "septune: %s:%ld: %s\n", path, line, why);
}

/* What makes a record usable here: this CPU's signature and the current
 * template version (0 when the generator could not tell). */
typedef struct here {
  char cpu[256];
  int tv;
} here;

static void get_here(here *h, int need_tv)
{
  septune_error err;
  septune_cpu_signature(h->cpu, sizeof h->cpu);
  h->tv = 0;
  if (septune_db_template_version(&h->tv, &err) != SEPTUNE_OK) {
    h->tv = 0;
    if (need_tv) cli_error("cannot tell the current template version: %s", err.message);
  }
}

static const char *note_of(const septune_db_record *r, const here *h)
{
  int foreign = strcmp(r->cpu, h->cpu) != 0, stale = h->tv && r->template_version != h->tv;
  return foreign && stale ? "foreign,stale" : foreign ? "foreign" : stale ? "stale" : "";
}

static void format_date(long long t, char *buf, size_t n)
{
  time_t tt = (time_t)t;
  struct tm tm;
  if (!gmtime_r(&tt, &tm) || !strftime(buf, n, "%Y-%m-%d %H:%M", &tm)) snprintf(buf, n, "?");
}

static void speedup(const septune_db_record *r, char *buf, size_t n)
{
  if (r->default_us > 0) snprintf(buf, n, "%.2fx", r->default_us / r->median_us);
  else snprintf(buf, n, "-");
}

static int load_or_report(const char *cmd, const char *path, septune_db **db)
{
  septune_error err;
  if (septune_db_load(path, db, warn_line, NULL, &err) != SEPTUNE_OK) {
    cli_error("db %s: %s", cmd, err.message);
    return err.status == SEPTUNE_ERR_IO ? CLI_USAGE : CLI_FAILED;
  }
  return CLI_OK;
}

/* One record as a JSON object: the date in ISO 8601, the note as two
 * booleans. */
static void json_record(json_writer *w, const septune_db_record *r, const here *h)
{
  char layer[SEPTUNE_OP_LINE_SIZE], date[32];
  time_t tt = (time_t)r->date;
  struct tm tm;
  if (septune_op_format(&r->op, layer, sizeof layer) < 0) snprintf(layer, sizeof layer, "?");
  if (!gmtime_r(&tt, &tm) || !strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm))
    snprintf(date, sizeof date, "?");
  json_object_begin(w);
  json_key_string(w, "op", layer);
  json_key_string(w, "isa", septune_isa_name(r->isa));
  json_key_string(w, "knobs", r->knobs);
  json_key_int(w, "threads", r->threads);
  json_key_number(w, "median_us", r->median_us);
  json_key_number(w, "min_us", r->min_us);
  json_key_number(w, "gflops", r->gflops);
  json_key_number(w, "default_us", r->default_us > 0 ? r->default_us : NAN);
  json_key_number(w, "speedup", r->default_us > 0 ? r->default_us / r->median_us : NAN);
  json_key_int(w, "template_version", r->template_version);
  json_key_string(w, "cpu", r->cpu);
  json_key_string(w, "date", date);
  json_key_bool(w, "foreign", strcmp(r->cpu, h->cpu) != 0);
  json_key_bool(w, "stale", h->tv && r->template_version != h->tv);
  json_object_end(w);
}

/* The head of a list or show document: the database and what "here" is. */
static void json_head(json_writer *w, const char *kind, const char *path, const here *h)
{
  json_document_begin(w, stdout, kind);
  json_key_string(w, "database", path);
  json_key_string(w, "cpu", h->cpu);
  json_key_int(w, "template_version", h->tv);
}

/* ---- list --------------------------------------------------------------- */

static int db_list(const char *path, const db_args *a)
{
  septune_db *db;
  here h;
  int rc = load_or_report("list", path, &db);
  if (rc != CLI_OK) return rc;
  size_t n = septune_db_count(db);
  get_here(&h, 0);
  if (a->json) {
    json_writer w;
    json_head(&w, "db-list", path, &h);
    json_key(&w, "records");
    json_array_begin(&w);
    for (size_t i = 0; i < n; i++) json_record(&w, septune_db_get(db, i), &h);
    json_array_end(&w);
    json_document_end(&w);
    septune_db_free(db);
    return CLI_OK;
  }
  printf("# %s: %zu record%s\n# this CPU: %s\n# template version: %d\n", path, n, n == 1 ? "" : "s", h.cpu,
         h.tv);
  if (n == 0) {
    printf("no records\n");
    septune_db_free(db);
    return CLI_OK;
  }
  int kw = 5;
  for (size_t i = 0; i < n; i++) {
    int l = (int)strlen(septune_db_get(db, i)->knobs);
    if (l > kw) kw = l;
  }
  printf("%-7s %3s %10s %8s %10s %7s  %-16s  %-13s  %-*s  %s\n", "isa", "thr", "median_us", "GFLOP/s",
         "default_us", "speedup", "date (UTC)", "note", kw, "knobs", "layer");
  for (size_t i = 0; i < n; i++) {
    const septune_db_record *r = septune_db_get(db, i);
    char layer[SEPTUNE_OP_LINE_SIZE], date[32], up[32], def[32];
    if (septune_op_format(&r->op, layer, sizeof layer) < 0) snprintf(layer, sizeof layer, "?");
    format_date(r->date, date, sizeof date);
    speedup(r, up, sizeof up);
    if (r->default_us > 0) snprintf(def, sizeof def, "%.2f", r->default_us);
    else snprintf(def, sizeof def, "-");
    printf("%-7s %3d %10.2f %8.1f %10s %7s  %-16s  %-13s  %-*s  %s", septune_isa_name(r->isa), r->threads,
           r->median_us, r->gflops, def, up, date, note_of(r, &h), kw, r->knobs[0] ? r->knobs : "-", layer);
    /* Another CPU's record: its signature is what `emit --cpu` takes. */
    if (strcmp(r->cpu, h.cpu) != 0) printf("  cpu=%s", r->cpu);
    putchar('\n');
  }
  septune_db_free(db);
  return CLI_OK;
}

/* ---- show --------------------------------------------------------------- */

static int db_show(const char *path, const db_args *a)
{
  char want[SEPTUNE_OP_LINE_SIZE], key[SEPTUNE_OP_LINE_SIZE];
  septune_layer layer;
  septune_error err;
  if (a->npos == 0) {
    cli_error("db show: no layer given (e.g. septune db show pw h=56 w=56 ci=144 co=24)");
    return CLI_USAGE;
  }
  char *line = cli_join(a->pos, a->npos);
  if (!line) return CLI_FAILED;
  septune_status st = septune_layer_parse(line, &layer, &err);
  free(line);
  if (st != SEPTUNE_OK) {
    cli_error("db show: %s", err.message);
    return CLI_USAGE;
  }
  septune_op_format(&layer.op, want, sizeof want);
  septune_db *db;
  here h;
  json_writer w;
  int rc = load_or_report("show", path, &db), shown = 0;
  if (rc != CLI_OK) return rc;
  get_here(&h, 0);
  if (a->json) {
    json_head(&w, "db-show", path, &h);
    json_key_string(&w, "op", want);
    json_key(&w, "records");
    json_array_begin(&w);
  } else {
    printf("layer %s\n", want);
  }
  for (size_t i = 0; i < septune_db_count(db); i++) {
    const septune_db_record *r = septune_db_get(db, i);
    char date[32], up[32];
    if (septune_op_format(&r->op, key, sizeof key) < 0 || strcmp(key, want) != 0) continue;
    shown++;
    if (a->json) {
      json_record(&w, r, &h);
      continue;
    }
    const char *note = note_of(r, &h);
    format_date(r->date, date, sizeof date);
    speedup(r, up, sizeof up);
    printf("\n  isa         %s\n", septune_isa_name(r->isa));
    printf("  knobs       %s\n", r->knobs[0] ? r->knobs : "(default)");
    printf("  median      %.3f us (min %.3f us), %.1f GFLOP/s\n", r->median_us, r->min_us, r->gflops);
    if (r->default_us > 0) printf("  default     %.3f us, speed-up %s\n", r->default_us, up);
    else printf("  default     unknown\n");
    printf("  threads     %d\n", r->threads);
    printf("  template    %d\n", r->template_version);
    printf("  cpu         %s\n", r->cpu);
    printf("  measured    %s UTC\n", date);
    printf("  status      %s\n", note[0] ? note : "usable on this CPU");
  }
  septune_db_free(db);
  if (a->json) {
    json_array_end(&w);
    json_document_end(&w);
  }
  if (!shown) {
    cli_error("db show: no record for '%s' in %s", want, path);
    return CLI_FAILED;
  }
  return CLI_OK;
}

/* ---- merge -------------------------------------------------------------- */

static int db_merge(const char *path, const db_args *a)
{
  septune_db *all = septune_db_new();
  septune_error err;
  int rc = CLI_OK;
  if (a->npos == 0) {
    cli_error("db merge: no file given (septune db merge FILE... [--db FILE])");
    septune_db_free(all);
    return CLI_USAGE;
  }
  if (!all) {
    cli_error("db merge: out of memory");
    return CLI_FAILED;
  }
  /* Gather every good record of the inputs, the fastest per key. */
  for (int i = 0; i < a->npos && rc == CLI_OK; i++) {
    struct stat st;
    septune_db *in;
    if (stat(a->pos[i], &st) != 0) {
      cli_error("db merge: cannot read %s: %s", a->pos[i], strerror(errno));
      rc = CLI_USAGE;
      break;
    }
    if ((rc = load_or_report("merge", a->pos[i], &in)) != CLI_OK) break;
    for (size_t j = 0; j < septune_db_count(in) && rc == CLI_OK; j++) {
      const septune_db_record *r = septune_db_get(in, j);
      /* The record of r's key gathered so far: one lookup in the hash index. */
      septune_db_query q = {.cpu = r->cpu, .threads = r->threads, .template_version = r->template_version,
                            .op = &r->op, .isa = r->isa, .widest = SEPTUNE_ISA_AUTO};
      const septune_db_record *old = septune_db_select(all, &q);
      if (old && old->median_us <= r->median_us) continue;
      if (septune_db_add(all, r, &err) != SEPTUNE_OK) {
        cli_error("db merge: %s", err.message);
        rc = CLI_FAILED;
      }
    }
    septune_db_free(in);
  }
  if (rc == CLI_OK) {
    size_t n = septune_db_count(all);
    septune_db_record *recs = malloc((n ? n : 1) * sizeof *recs);
    septune_db_update u;
    memset(&u, 0, sizeof u);
    if (!recs) {
      cli_error("db merge: out of memory");
      rc = CLI_FAILED;
    } else {
      for (size_t i = 0; i < n; i++) recs[i] = *septune_db_get(all, i);
      u.add = recs;
      u.n_add = n;
      u.keep_faster = 1;
      if (septune_db_update_file(path, &u, &err) != SEPTUNE_OK) {
        cli_error("db merge: %s", err.message);
        rc = err.status == SEPTUNE_ERR_IO ? CLI_FAILED : CLI_USAGE;
      } else {
        printf("merged %zu record%s into %s: %zu added, %zu replaced by a faster one, %zu kept "
               "(already as fast)\n",
               n, n == 1 ? "" : "s", path, u.added, u.replaced, u.unchanged);
      }
      free(recs);
    }
  }
  septune_db_free(all);
  return rc;
}

/* ---- prune -------------------------------------------------------------- */

typedef struct prune_ctx {
  const char *path;
  const db_args *a;
  here h;
  size_t newer;
} prune_ctx;

static int prune_keep(void *vctx, long line, septune_db_line_kind kind, const char *text,
                      const septune_db_record *rec, const char *why)
{
  prune_ctx *c = vctx;
  char reason[512];
  (void)text;
  reason[0] = '\0';
  switch (kind) {
    case SEPTUNE_DB_LINE_COMMENT:
      return 1;
    case SEPTUNE_DB_LINE_NEWER:
      /* Another septune's line: not ours to judge, kept. */
      fprintf(stderr, "septune: %s:%ld: %s; kept\n", c->path, line, why);
      c->newer++;
      return 1;
    case SEPTUNE_DB_LINE_SUPERSEDED:
      snprintf(reason, sizeof reason, "duplicate, %s", why);
      break;
    case SEPTUNE_DB_LINE_BAD:
      snprintf(reason, sizeof reason, "unreadable: %s", why);
      break;
    case SEPTUNE_DB_LINE_RECORD:
      if (c->a->foreign && strcmp(rec->cpu, c->h.cpu) != 0)
        snprintf(reason, sizeof reason, "foreign: measured on %s", rec->cpu);
      else if (c->a->stale && rec->template_version != c->h.tv)
        snprintf(reason, sizeof reason, "stale: template version %d, current %d", rec->template_version,
                 c->h.tv);
      break;
  }
  if (!reason[0]) return 1;
  printf("%s:%ld: %s %s\n", c->path, line, c->a->dry_run ? "would drop" : "drop", reason);
  return 0;
}

static int db_prune(const char *path, const db_args *a)
{
  struct stat st;
  septune_error err;
  prune_ctx c;
  septune_db_update u;
  if (a->npos) {
    cli_error("db prune: unexpected argument '%s'", a->pos[0]);
    return CLI_USAGE;
  }
  if (stat(path, &st) != 0) {
    if (errno != ENOENT) {
      cli_error("db prune: cannot read %s: %s", path, strerror(errno));
      return CLI_USAGE;
    }
    printf("%s: no database, nothing to prune\n", path);
    return CLI_OK;
  }
  memset(&c, 0, sizeof c);
  c.path = path;
  c.a = a;
  get_here(&c.h, a->stale);
  if (a->stale && !c.h.tv) return CLI_FAILED;
  memset(&u, 0, sizeof u);
  u.keep = prune_keep;
  u.ctx = &c;
  u.dry_run = a->dry_run;
  if (septune_db_update_file(path, &u, &err) != SEPTUNE_OK) {
    cli_error("db prune: %s", err.message);
    return CLI_FAILED;
  }
  printf("%s %zu line%s of %s\n", a->dry_run ? "would drop" : "dropped", u.dropped, u.dropped == 1 ? "" : "s",
         path);
  return CLI_OK;
}

int cmd_db(int argc, char **argv)
{
  static const char *const subs = "list, show, merge or prune";
  char path[PATH_BUF];
  db_args a;
  if (argc < 2) {
    cli_error("db: which one: %s? (try septune help db)", subs);
    return CLI_USAGE;
  }
  const char *sub = argv[1];
  if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
    fputs(cli_db_help, stdout);
    return CLI_OK;
  }
  int is_prune = !strcmp(sub, "prune");
  if (strcmp(sub, "list") && strcmp(sub, "show") && strcmp(sub, "merge") && !is_prune) {
    cli_error("db: unknown subcommand '%s' (%s)", sub, subs);
    return CLI_USAGE;
  }
  int rc = parse_args(sub, argc - 1, argv + 1, is_prune, &a);
  if (rc == CLI_DONE) return CLI_OK;
  if (rc == CLI_OK) rc = db_path(sub, &a, path);
  if (rc == CLI_OK && !path[0]) {
    /* SEPTUNE_DB="": reading finds nothing, writing has nowhere to go. */
    if (!strcmp(sub, "list") && a.json) {
      here h;
      json_writer w;
      get_here(&h, 0);
      json_head(&w, "db-list", NULL, &h);
      json_key(&w, "records");
      json_array_begin(&w);
      json_array_end(&w);
      json_document_end(&w);
    } else if (!strcmp(sub, "list")) {
      printf("no database (" SEPTUNE_DB_ENV " is empty)\n");
    } else {
      cli_error("db %s: no database (" SEPTUNE_DB_ENV " is empty; give --db FILE)", sub);
      rc = CLI_USAGE;
    }
    return rc;
  }
  if (rc == CLI_OK) {
    if (!strcmp(sub, "list")) {
      if (a.npos) {
        cli_error("db list: unexpected argument '%s'", a.pos[0]);
        rc = CLI_USAGE;
      } else {
        rc = db_list(path, &a);
      }
    } else if (!strcmp(sub, "show")) {
      rc = db_show(path, &a);
    } else if (!strcmp(sub, "merge")) {
      rc = db_merge(path, &a);
    } else {
      rc = db_prune(path, &a);
    }
  }
  if (rc == CLI_OK && fflush(stdout) != 0) rc = CLI_FAILED;
  return rc;
}
