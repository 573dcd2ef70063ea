/*
 * test_db_files.c — the tuning database's files where other users can
 * write: a symbolic link planted at the database or at its lock file, the
 * user's own link (tuning.db -> team.db), a FIFO or a directory given as the
 * database, setuid bits on the old file, another user's file in a
 * world-writable directory, and the writability check a tuner makes before
 * it starts.
 *
 * The other users are numeric uids without a passwd entry: the test runs as
 * root (as in CI), makes the attacker's files with chown, and runs the
 * victim's calls in a forked child that switched to an unprivileged uid.
 * When it cannot switch (not root) those tests skip and say why. Every call
 * that used to block runs in a child under a timeout, so a regression fails
 * instead of hanging the suite.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "db.h"
#include "internal.h"
#include "test_ops.h"

#define VICTIM_UID 65534   /* nobody: the user septune runs as, when not root */
#define ATTACKER_UID 65533 /* another unprivileged user */
#define ROOT_UID 0
#define CHILD_TIMEOUT_S 20
#define CHILD_SKIPPED 77   /* exit code of a child that could not switch user */
#define CHILD_HUNG 124     /* what run_as reports for a child killed at the timeout */

static char base[] = "/tmp/septune_test_db_files_XXXXXX";

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
  (void)sb; (void)flag; (void)ftw;
  return remove(path);
}

static int setup(void **state)
{
  (void)state;
  if (!mkdtemp(base)) return -1;
  return chmod(base, 0755); /* the unprivileged victim must reach its directories */
}

static int teardown(void **state)
{
  (void)state;
  nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}

/* ---- files owned by someone ----------------------------------------------- */

static void path_in(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", base, name); }

static void make_dir(const char *path, uid_t uid, mode_t mode)
{
  assert_int_equal(mkdir(path, 0700), 0);
  assert_int_equal(chown(path, uid, uid), 0);
  assert_int_equal(chmod(path, mode), 0);
}

static void make_file(const char *path, const char *text, uid_t uid, mode_t mode)
{
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
  assert_int_equal(chown(path, uid, uid), 0);
  assert_int_equal(chmod(path, mode), 0);
}

static void make_link(const char *target, const char *link, uid_t uid)
{
  assert_int_equal(symlink(target, link), 0);
  assert_int_equal(lchown(link, uid, uid), 0);
}

static char *read_text(const char *path)
{
  static char buf[1 << 16];
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

static int is_link(const char *path)
{
  struct stat st;
  return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

static int exists(const char *path)
{
  struct stat st;
  return lstat(path, &st) == 0;
}

static septune_db_record a_record(int co)
{
  septune_op op = make_pw(7, 7, 8, co);
  septune_db_record r;
  memset(&r, 0, sizeof r);
  snprintf(r.cpu, sizeof r.cpu, "OtherVendor:1.2.3:Some_CPU:sse:l1d=32K,l2=256K,l3=0K");
  r.threads = 1;
  r.template_version = 1;
  r.op = op;
  r.isa = SEPTUNE_ISA_SSE;
  snprintf(r.knobs, sizeof r.knobs, "mr=1");
  r.median_us = r.min_us = 2.0;
  r.date = 1795341600;
  return r;
}

/* ---- calls in a child, as a user, under a timeout ------------------------- */

/* What a child checks: 0 when all held, else 1 after printing why. */
typedef int (*child_fn)(void *arg);

#define CHECK(cond, ...)                                                  \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                       \
      fputc('\n', stderr);                                                \
      return 1;                                                           \
    }                                                                     \
  } while (0)

/* Runs fn(arg) in a child as uid (ROOT_UID: without switching). Returns
 * its result, CHILD_SKIPPED when the child could not become uid, or
 * CHILD_HUNG when it was still running after CHILD_TIMEOUT_S. */
static int run_as(uid_t uid, child_fn fn, void *arg)
{
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    if (uid != ROOT_UID && (setgroups(0, NULL) != 0 || setresgid(uid, uid, uid) != 0 ||
                            setresuid(uid, uid, uid) != 0))
      _exit(CHILD_SKIPPED);
    _exit(fn(arg) ? 1 : 0);
  }
  for (int waited_ms = 0;; waited_ms += 10) {
    int status;
    pid_t r = waitpid(pid, &status, WNOHANG);
    assert_true(r >= 0);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (waited_ms >= CHILD_TIMEOUT_S * 1000) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return CHILD_HUNG;
    }
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
}

/* Skips the test unless it runs as root: it makes other users' files. */
static void need_root(void)
{
  if (geteuid() == 0) return;
  print_message("not root: cannot make files of other users or switch uid; skipped\n");
  skip();
}

/* run_as, failing the test on anything but success; skips when the user
 * cannot be switched to. */
static void expect_ok_as(uid_t uid, child_fn fn, void *arg)
{
  if (uid != ROOT_UID) need_root();
  int rc = run_as(uid, fn, arg);
  if (rc == CHILD_SKIPPED) {
    print_message("cannot switch to uid %u: skipped\n", (unsigned)uid);
    skip();
  }
  if (rc == CHILD_HUNG) fail_msg("the call blocked for %d s (as uid %u)", CHILD_TIMEOUT_S, (unsigned)uid);
  if (rc != 0) fail_msg("a check failed as uid %u (exit %d, see above)", (unsigned)uid, rc);
}

/* ---- what the children do ------------------------------------------------- */

typedef struct store_case {
  const char *path;
  septune_status want;       /* what the store returns */
  const char *word;          /* the error message contains it (NULL: not checked) */
} store_case;

static int store_expect(void *arg)
{
  const store_case *c = arg;
  septune_db_record r = a_record(9);
  septune_error err;
  memset(&err, 0, sizeof err);
  septune_status st = septune_db_store(c->path, &r, 1, &err);
  CHECK(st == c->want, "store %s returned %d (%s), wanted %d", c->path, (int)st, err.message, (int)c->want);
  CHECK(!c->word || strstr(err.message, c->word), "message '%s' lacks '%s'", err.message, c->word);
  CHECK(st != SEPTUNE_OK || septune_db_check_writable(c->path, &err) == SEPTUNE_OK, "check_writable: %s",
        err.message);
  return 0;
}

static int check_expect(void *arg)
{
  const store_case *c = arg;
  septune_error err;
  memset(&err, 0, sizeof err);
  septune_status st = septune_db_check_writable(c->path, &err);
  CHECK(st == c->want, "check_writable %s returned %d (%s), wanted %d", c->path, (int)st, err.message,
        (int)c->want);
  CHECK(!c->word || strstr(err.message, c->word), "message '%s' lacks '%s'", err.message, c->word);
  return 0;
}

/* ---- F2: links planted by another user ------------------------------------ */

/* A link planted at the database by another user, pointing at a file only
 * the victim may read: the store refuses it, the target keeps its content,
 * the link stays. As root and as an unprivileged victim. */
static void test_planted_link_is_not_followed(void **state)
{
  (void)state;
  need_root();
  static const uid_t victims[2] = {ROOT_UID, VICTIM_UID};
  for (int v = 0; v < 2; v++) {
    char secret_dir[600], secret[700], dir[600], link[700];
    char name[64];
    snprintf(name, sizeof name, "secret%d", v);
    path_in(secret_dir, sizeof secret_dir, name);
    make_dir(secret_dir, victims[v], 0700);
    snprintf(secret, sizeof secret, "%s/shadow", secret_dir);
    make_file(secret, "root:secret-hash:19000::::::\n", victims[v], 0600);
    snprintf(name, sizeof name, "attacker%d", v);
    path_in(dir, sizeof dir, name);
    make_dir(dir, ATTACKER_UID, 0777); /* the attacker's directory, open to the victim */
    snprintf(link, sizeof link, "%s/tuning.db", dir);
    make_link(secret, link, ATTACKER_UID);
    store_case c = {link, SEPTUNE_ERR_IO, "symbolic link"};
    expect_ok_as(victims[v], store_expect, &c);
    assert_string_equal(read_text(secret), "root:secret-hash:19000::::::\n");
    assert_true(is_link(link));
    c.word = "not yours";
    expect_ok_as(victims[v], check_expect, &c);
  }
}

/* A lock file planted as a link to where the victim may create files: the
 * store refuses it and creates nothing there. */
static void test_planted_lock_link_is_not_followed(void **state)
{
  (void)state;
  need_root();
  char private_dir[600], target[700], dir[600], db[700], lock[800];
  path_in(private_dir, sizeof private_dir, "root-only");
  make_dir(private_dir, ROOT_UID, 0700);
  snprintf(target, sizeof target, "%s/made-through-the-lock", private_dir);
  path_in(dir, sizeof dir, "shared-lock");
  make_dir(dir, ATTACKER_UID, 0777);
  snprintf(db, sizeof db, "%s/tuning.db", dir);
  snprintf(lock, sizeof lock, "%s.lock", db);
  make_link(target, lock, ATTACKER_UID);
  store_case c = {db, SEPTUNE_ERR_IO, "lock file"};
  expect_ok_as(ROOT_UID, store_expect, &c);
  assert_false(exists(target));
  assert_false(exists(db));
  expect_ok_as(ROOT_UID, check_expect, &c);
}

/* ---- F2: the user's own link, modes, world-writable directories ----------- */

typedef struct own_link_case {
  char dir[600];
} own_link_case;

static int own_link(void *arg)
{
  const own_link_case *c = arg;
  char team[700], link[700], rel[700];
  septune_error err;
  snprintf(team, sizeof team, "%s/team.db", c->dir);
  snprintf(link, sizeof link, "%s/tuning.db", c->dir);
  snprintf(rel, sizeof rel, "%s/relative.db", c->dir);
  septune_db_record r = a_record(5), s = a_record(6), u = a_record(7);
  CHECK(septune_db_store(team, &r, 1, &err) == SEPTUNE_OK, "%s", err.message);
  CHECK(symlink(team, link) == 0, "symlink: %s", strerror(errno));
  CHECK(symlink("team.db", rel) == 0, "symlink: %s", strerror(errno)); /* relative to its directory */
  CHECK(septune_db_store(link, &s, 1, &err) == SEPTUNE_OK, "%s", err.message);
  CHECK(septune_db_store(rel, &u, 1, &err) == SEPTUNE_OK, "%s", err.message);
  CHECK(is_link(link) && is_link(rel), "the links were replaced by files");
  septune_db *db = NULL;
  CHECK(septune_db_load(team, &db, NULL, NULL, &err) == SEPTUNE_OK, "%s", err.message);
  size_t n = septune_db_count(db);
  septune_db_free(db);
  CHECK(n == 3, "team.db holds %zu records, not 3", n);
  return 0;
}

static void test_own_link_is_written_through(void **state)
{
  (void)state;
  need_root();
  own_link_case c;
  path_in(c.dir, sizeof c.dir, "own-link");
  make_dir(c.dir, VICTIM_UID, 0755);
  expect_ok_as(VICTIM_UID, own_link, &c);
}

typedef struct mode_case {
  char path[700];
  mode_t before, after;
} mode_case;

static int mode_kept(void *arg)
{
  const mode_case *c = arg;
  septune_db_record r = a_record(3);
  septune_error err;
  struct stat st;
  CHECK(septune_db_store(c->path, &r, 1, &err) == SEPTUNE_OK, "%s", err.message);
  CHECK(chmod(c->path, c->before) == 0, "chmod: %s", strerror(errno));
  CHECK(stat(c->path, &st) == 0 && (st.st_mode & 07777) == c->before, "cannot set mode %o", (unsigned)c->before);
  r = a_record(4);
  CHECK(septune_db_store(c->path, &r, 1, &err) == SEPTUNE_OK, "%s", err.message);
  CHECK(stat(c->path, &st) == 0, "stat: %s", strerror(errno));
  CHECK((st.st_mode & 07777) == c->after, "mode %o after the store, wanted %o", (unsigned)(st.st_mode & 07777),
        (unsigned)c->after);
  return 0;
}

/* The permission bits survive a store, setuid and setgid never: as root
 * (whose writes keep those bits) and as an unprivileged user. */
static void test_mode_is_kept_but_not_setuid(void **state)
{
  (void)state;
  need_root();
  static const uid_t users[2] = {ROOT_UID, VICTIM_UID};
  for (int u = 0; u < 2; u++) {
    char dir[600], name[32];
    snprintf(name, sizeof name, "modes%d", u);
    path_in(dir, sizeof dir, name);
    make_dir(dir, users[u], 0755);
    mode_case c[2] = {{"", 06750, 0750}, {"", 0640, 0640}};
    for (int i = 0; i < 2; i++) {
      snprintf(c[i].path, sizeof c[i].path, "%s/tuning%d.db", dir, i);
      expect_ok_as(users[u], mode_kept, &c[i]);
    }
  }
}

/* Another user's database in a world-writable directory (like /tmp) is
 * refused, by root and by an unprivileged user; one's own is used. */
static void test_foreign_file_in_world_writable_dir(void **state)
{
  (void)state;
  need_root();
  char dir[600], theirs[700], mine[700], text[4200];
  path_in(dir, sizeof dir, "like-tmp");
  make_dir(dir, ROOT_UID, 01777);
  snprintf(theirs, sizeof theirs, "%s/theirs.db", dir);
  septune_db_record r = a_record(2);
  assert_true(septune_db_format(&r, text, sizeof text - 1) > 0);
  strcat(text, "\n");
  make_file(theirs, text, ATTACKER_UID, 0666);
  store_case c = {theirs, SEPTUNE_ERR_IO, "world-writable"};
  expect_ok_as(ROOT_UID, store_expect, &c);
  expect_ok_as(VICTIM_UID, store_expect, &c);
  assert_string_equal(read_text(theirs), text);
  expect_ok_as(VICTIM_UID, check_expect, &c);
  snprintf(mine, sizeof mine, "%s/mine.db", dir);
  store_case ok = {mine, SEPTUNE_OK, NULL};
  expect_ok_as(VICTIM_UID, store_expect, &ok);
  expect_ok_as(VICTIM_UID, store_expect, &ok); /* again, now that it exists */
}

/* ---- F4 and the stray lock: FIFOs and directories -------------------------- */

typedef struct special_case {
  char path[700];
  const char *word;
} special_case;

static int special_refused(void *arg)
{
  const special_case *c = arg;
  septune_error err;
  septune_db *db = NULL;
  septune_db_record r = a_record(1), got;
  septune_op op = make_pw(7, 7, 8, 8);
  int found = -1;
  char lock[800];
  snprintf(lock, sizeof lock, "%s.lock", c->path);
  CHECK(septune_db_store(c->path, &r, 1, &err) == SEPTUNE_ERR_IO, "store: %s", err.message);
  CHECK(!exists(lock), "the refused store left %s", lock);
  CHECK(strstr(err.message, c->word), "store: %s", err.message);
  CHECK(septune_db_load(c->path, &db, NULL, NULL, &err) == SEPTUNE_ERR_IO && !db, "load: %s", err.message);
  CHECK(strstr(err.message, c->word) && strstr(err.message, c->path), "load: %s", err.message);
  CHECK(septune_db_lookup(c->path, &op, SEPTUNE_ISA_AUTO, 1, &got, &found, &err) == SEPTUNE_ERR_IO && found == 0,
        "lookup: %s", err.message);
  septune_db_update u;
  memset(&u, 0, sizeof u);
  u.dry_run = 1;
  CHECK(septune_db_update_file(c->path, &u, &err) == SEPTUNE_ERR_IO, "dry run: %s", err.message);
  CHECK(septune_db_check_writable(c->path, &err) == SEPTUNE_ERR_IO, "check_writable: %s", err.message);
  /* A plan ignores such a database and takes its default kernel. */
  size_t ni, no, nw, nb;
  CHECK(septune_op_tensor_sizes(&op, &ni, &no, &nw, &nb, &err) == SEPTUNE_OK, "%s", err.message);
  float *w = calloc(nw, sizeof *w), *b = calloc(nb ? nb : 1, sizeof *b);
  septune_plan_options opts = {.isa = SEPTUNE_ISA_AUTO, .knobs = NULL, .db_path = c->path};
  septune_plan *plan = NULL;
  septune_status st = septune_plan_create(&op, w, b, &opts, &plan, &err);
  septune_plan_info info;
  int source = st == SEPTUNE_OK && septune_plan_get_info(plan, &info) == SEPTUNE_OK ? (int)info.source : -1;
  septune_plan_destroy(plan);
  free(w);
  free(b);
  CHECK(st == SEPTUNE_OK, "plan: %s", err.message);
  CHECK(source == SEPTUNE_KERNEL_DEFAULT, "plan source %d", source);
  return 0;
}

static void test_fifo_is_refused_without_blocking(void **state)
{
  (void)state;
  special_case c = {"", "FIFO"};
  path_in(c.path, sizeof c.path, "fifo.db");
  assert_int_equal(mkfifo(c.path, 0666), 0);
  expect_ok_as(ROOT_UID, special_refused, &c);
}

static void test_directory_leaves_no_lock(void **state)
{
  (void)state;
  special_case c = {"", "directory"};
  path_in(c.path, sizeof c.path, "folder.db");
  assert_int_equal(mkdir(c.path, 0755), 0);
  expect_ok_as(ROOT_UID, special_refused, &c);
}

/* ---- the check before a tune ----------------------------------------------- */

static void test_check_writable(void **state)
{
  (void)state;
  need_root();
  char root_dir[600], mine[600], lock_dir[600], lock[900];
  path_in(root_dir, sizeof root_dir, "root-owned");
  make_dir(root_dir, ROOT_UID, 0755);
  path_in(mine, sizeof mine, "writable");
  make_dir(mine, VICTIM_UID, 0755);
  store_case c = {NULL, SEPTUNE_ERR_IO, root_dir};
  char path[800];
  snprintf(path, sizeof path, "%s/tuning.db", root_dir);
  c.path = path;
  expect_ok_as(VICTIM_UID, check_expect, &c);            /* cannot create a file there */
  snprintf(path, sizeof path, "%s/sub/dirs/tuning.db", root_dir);
  expect_ok_as(VICTIM_UID, check_expect, &c);            /* nor the directories */
  snprintf(path, sizeof path, "%s/sub/dirs/tuning.db", mine);
  store_case ok = {path, SEPTUNE_OK, NULL};
  expect_ok_as(VICTIM_UID, check_expect, &ok);
  snprintf(path, sizeof path, "%s/sub", mine);
  assert_false(exists(path));                            /* nothing made */
  snprintf(path, sizeof path, "%s/tuning.db", mine);
  expect_ok_as(VICTIM_UID, check_expect, &ok);
  snprintf(lock, sizeof lock, "%s.lock", path);
  assert_false(exists(path));
  assert_false(exists(lock));
  /* an old file the user cannot read */
  make_file(path, "# septune tuning database, format 1\n", ROOT_UID, 0600);
  store_case unreadable = {path, SEPTUNE_ERR_IO, "tuning.db"};
  expect_ok_as(VICTIM_UID, check_expect, &unreadable);
  /* a lock file that is a link */
  path_in(lock_dir, sizeof lock_dir, "lock-link");
  make_dir(lock_dir, VICTIM_UID, 0755);
  snprintf(path, sizeof path, "%s/tuning.db", lock_dir);
  snprintf(lock, sizeof lock, "%s.lock", path);
  make_link("/nonexistent", lock, VICTIM_UID);
  store_case link = {path, SEPTUNE_ERR_IO, "lock file"};
  expect_ok_as(VICTIM_UID, check_expect, &link);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_planted_link_is_not_followed),
      cmocka_unit_test(test_planted_lock_link_is_not_followed),
      cmocka_unit_test(test_own_link_is_written_through),
      cmocka_unit_test(test_mode_is_kept_but_not_setuid),
      cmocka_unit_test(test_foreign_file_in_world_writable_dir),
      cmocka_unit_test(test_fifo_is_refused_without_blocking),
      cmocka_unit_test(test_directory_leaves_no_lock),
      cmocka_unit_test(test_check_writable),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
