/* Tests for runtime/src/jit.c, septune's wrapper over libtcc.
 *
 * Environment (used by the valgrind ctest to stay fast):
 *   SEPTUNE_JIT_TEST_CYCLES        compile/free cycles of test_cycles (1000)
 *   SEPTUNE_JIT_TEST_THREAD_ITERS  compiles per thread in test_threads (50)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit.h"

#define NTHREADS 8

static int env_int(const char *name, int def)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return def;
    int n = atoi(v);
    return n > 0 ? n : def;
}

/* ---- threads ------------------------------------------------------------ */

typedef struct {
    int id;
    int iters;
    pthread_barrier_t *start;
    int ok;       /* compiles that succeeded and computed the right value */
    char err[512];
} worker;

/* Each thread compiles its own source: f(x) = x * (id + 2) + iteration. */
static void *worker_main(void *arg)
{
    worker *w = arg;
    if (w->start)
        pthread_barrier_wait(w->start);
    for (int i = 0; i < w->iters; i++) {
        char src[256], name[64];
        snprintf(src, sizeof src,
                 "static int k = %d;\n"
                 "int f_%d(int x) { int r = 0; for (int j = 0; j < k; j++) r += x; return r + %d; }\n",
                 w->id + 2, w->id, i);
        snprintf(name, sizeof name, "thread%d_%d.c", w->id, i);
        septune_jit *m = NULL;
        if (septune_jit_compile(src, name, &m, w->err, sizeof w->err) != 0)
            return NULL;
        char fname[32];
        snprintf(fname, sizeof fname, "f_%d", w->id);
        int (*f)(int) = (int (*)(int))septune_jit_symbol(m, fname);
        if (f && f(7) == 7 * (w->id + 2) + i && !septune_jit_symbol(m, "k"))
            w->ok++;
        septune_jit_free(m);
    }
    return NULL;
}

static void run_workers(int iters, int use_barrier)
{
    pthread_t t[NTHREADS];
    worker w[NTHREADS];
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, NTHREADS), 0);
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (worker){.id = i, .iters = iters, .start = use_barrier ? &start : NULL};
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < NTHREADS; i++) {
        if (w[i].ok != iters)
            print_error("thread %d: %d/%d ok, last err: %s\n", i, w[i].ok, iters, w[i].err);
        assert_int_equal(w[i].ok, iters);
    }
}

/* Must run first in the process: the very first compiles of the process are
 * made by 8 worker threads released together, with no warm-up compile on the
 * main thread (libtcc initialises its internal semaphore lazily). */
static void test_first_compile_from_worker_threads(void **state)
{
    (void)state;
    run_workers(1, 1);
}

static void test_threads(void **state)
{
    (void)state;
    run_workers(env_int("SEPTUNE_JIT_TEST_THREAD_ITERS", 50), 1);
}

/* ---- good sources ------------------------------------------------------- */

static void test_add(void **state)
{
    (void)state;
    char err[256];
    septune_jit *m = (septune_jit *)&m; /* must be overwritten */
    int rc = septune_jit_compile("int add(int a, int b) { return a + b; }\n", "add.c", &m, err,
                                 sizeof err);
    assert_int_equal(rc, 0);
    assert_non_null(m);
    assert_string_equal(err, ""); /* no warnings */
    int (*add)(int, int) = (int (*)(int, int))septune_jit_symbol(m, "add");
    assert_non_null(add);
    assert_int_equal(add(2, 3), 5);
    assert_int_equal(add(-40, 2), -38);
    assert_null(septune_jit_symbol(m, "sub"));
    assert_null(septune_jit_symbol(m, ""));
    assert_null(septune_jit_symbol(m, NULL));
    assert_true(septune_jit_code_size(m) > 0);
    septune_jit_free(m);
}

static const char float_src[] =
    "#include <stddef.h>\n"
    "static float sq(float x) { return x * x; }\n"
    "float sumsq(const float *a, size_t n) {\n"
    "    float s = 0.0f;\n"
    "    for (size_t i = 0; i < n; i++)\n"
    "        s += sq(a[i]) * 0.5f;\n"
    "    return s;\n"
    "}\n"
    "double table[4] = {1.5, 2.5, 3.5, 4.5};\n"
    "double avg(void) { double s = 0; for (int i = 0; i < 4; i++) s += table[i]; return s / 4; }\n";

static void test_float_loop(void **state)
{
    (void)state;
    char err[256];
    septune_jit *m = NULL;
    assert_int_equal(septune_jit_compile(float_src, "float.c", &m, err, sizeof err), 0);
    float (*sumsq)(const float *, size_t) = (float (*)(const float *, size_t))septune_jit_symbol(m, "sumsq");
    double (*avg)(void) = (double (*)(void))septune_jit_symbol(m, "avg");
    double *table = septune_jit_symbol(m, "table");
    assert_non_null(sumsq);
    assert_non_null(avg);
    assert_non_null(table);
    assert_null(septune_jit_symbol(m, "sq")); /* static */
    const float a[5] = {1, 2, 3, 4, -6};
    assert_true(sumsq(a, 5) == 33.0f); /* (1+4+9+16+36)/2, exact */
    assert_true(sumsq(a, 0) == 0.0f);
    assert_true(avg() == 3.0);
    table[0] = 5.5; /* data is writable and shared with the code */
    assert_true(avg() == 4.0);
    assert_true(septune_jit_code_size(m) > 0);
    septune_jit_free(m);
}

/* The kernel style: machine code as .byte lines with operands bound to fixed
 * registers through constraints. 48 8d 04 37 = lea (%rdi,%rsi,1),%rax. */
static const char asm_src[] =
    "long lea_add(long a, long b) {\n"
    "    long r;\n"
    "    __asm__ volatile(\".byte 0x48,0x8d,0x04,0x37\" : \"=a\"(r) : \"D\"(a), \"S\"(b));\n"
    "    return r;\n"
    "}\n"
    /* a counted loop with a numeric local label: rcx times add rdx to rax */
    "long mul_loop(long n, long x) {\n"
    "    long r;\n"
    "    __asm__ volatile(\n"
    "        \".byte 0x48,0x31,0xc0\\n\"      /* xor %rax,%rax */\n"
    "        \"1:\\n\"\n"
    "        \".byte 0x48,0x01,0xd0\\n\"      /* add %rdx,%rax */\n"
    "        \".byte 0x48,0xff,0xc9\\n\"      /* dec %rcx */\n"
    "        \"jnz 1b\\n\"\n"
    "        : \"=a\"(r), \"=c\"(n) : \"1\"(n), \"d\"(x) : \"cc\");\n"
    "    return r;\n"
    "}\n";

static void test_inline_asm_bytes(void **state)
{
    (void)state;
    char err[512];
    septune_jit *m = NULL;
    int rc = septune_jit_compile(asm_src, "asm.c", &m, err, sizeof err);
    if (rc != 0)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    long (*lea_add)(long, long) = (long (*)(long, long))septune_jit_symbol(m, "lea_add");
    long (*mul_loop)(long, long) = (long (*)(long, long))septune_jit_symbol(m, "mul_loop");
    assert_non_null(lea_add);
    assert_non_null(mul_loop);
    assert_int_equal(lea_add(40, 2), 42);
    assert_int_equal(lea_add(0x100000000L, -1), 0xffffffffL);
    assert_int_equal(mul_loop(5, 7), 35);
    septune_jit_free(m);
}

/* Undefined names are resolved against the process: libc works. */
static void test_calls_libc(void **state)
{
    (void)state;
    char err[256];
    septune_jit *m = NULL;
    const char *src = "#include <string.h>\n"
                      "void clear(float *p, int n) { memset(p, 0, n * sizeof *p); }\n";
    assert_int_equal(septune_jit_compile(src, "libc.c", &m, err, sizeof err), 0);
    void (*clear)(float *, int) = (void (*)(float *, int))septune_jit_symbol(m, "clear");
    assert_non_null(clear);
    float v[3] = {1, 2, 3};
    clear(v, 2);
    assert_true(v[0] == 0.0f && v[1] == 0.0f && v[2] == 3.0f);
    septune_jit_free(m);
}

/* ---- errors ------------------------------------------------------------- */

static void test_syntax_error(void **state)
{
    (void)state;
    char err[512];
    septune_jit *m = (septune_jit *)&m;
    const char *src = "int ok(void) { return 1; }\n"
                      "\n"
                      "int bad(void) { return 1 +; }\n"
                      "int after(void) { return 2; }\n";
    assert_int_equal(septune_jit_compile(src, "dw_3x3_avx512.c", &m, err, sizeof err), -1);
    assert_null(m);
    assert_non_null(strstr(err, "dw_3x3_avx512.c:3: error: "));
    assert_null(strchr(err, '\n')); /* a single diagnostic */
}

static void test_error_null_name_and_warnings(void **state)
{
    (void)state;
    char err[512];
    septune_jit *m = NULL;
    /* two warnings (lines 1, 2), then an error on line 4 */
    const char *src = "int *p1 = 1;\n"
                      "int *p2 = 2;\n"
                      "\n"
                      "int f(void) { return undeclared_var; }\n";
    assert_int_equal(septune_jit_compile(src, NULL, &m, err, sizeof err), -1);
    assert_null(m);
    const char *w1 = strstr(err, "<jit>:1: warning: ");
    const char *w2 = strstr(err, "\n<jit>:2: warning: ");
    const char *e = strstr(err, "\n<jit>:4: error: ");
    assert_ptr_equal(w1, err); /* first line */
    assert_non_null(w2);
    assert_non_null(e);
    assert_true(w1 < w2 && w2 < e);
    assert_non_null(strstr(e, "undeclared_var"));
    assert_true(err[strlen(err) - 1] != '\n'); /* no trailing newline */
}

static void test_warnings_on_success(void **state)
{
    (void)state;
    char err[512];
    septune_jit *m = NULL;
    assert_int_equal(septune_jit_compile("int *p = 3;\nint g(void) { return 4; }\n", "w.c", &m, err,
                                         sizeof err),
                     0);
    assert_non_null(m);
    assert_non_null(strstr(err, "w.c:1: warning: "));
    int (*g)(void) = (int (*)(void))septune_jit_symbol(m, "g");
    assert_non_null(g);
    assert_int_equal(g(), 4);
    septune_jit_free(m);
}

static void test_file_name_escaping(void **state)
{
    (void)state;
    char err[512];
    septune_jit *m = NULL;
    assert_int_equal(septune_jit_compile("\nint f( {\n", "odd \"name\"\\x.c", &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "odd \"name\"\\x.c:2: error: "));
}

static void test_undefined_symbol(void **state)
{
    (void)state;
    char err[512];
    septune_jit *m = (septune_jit *)&m;
    const char *src = "int septune_no_such_function_4711(int);\n"
                      "int g(int x) { return septune_no_such_function_4711(x) + 1; }\n";
    assert_int_equal(septune_jit_compile(src, "undef.c", &m, err, sizeof err), -1);
    assert_null(m);
    assert_non_null(strstr(err, "undef.c: error: undefined symbol 'septune_no_such_function_4711'"));

    /* called without a declaration: a warning at compile time, then the
     * error at relocation; both are reported, in order */
    const char *src2 = "int g(int x) {\n  return septune_no_such_function_4712(x);\n}\n";
    assert_int_equal(septune_jit_compile(src2, NULL, &m, err, sizeof err), -1);
    assert_null(m);
    const char *w = strstr(err, "<jit>:2: warning: implicit declaration of function 'septune_no_such_function_4712'");
    const char *e = strstr(err, "\n<jit>: error: undefined symbol 'septune_no_such_function_4712'");
    assert_non_null(w);
    assert_non_null(e);
    assert_true(w < e);
}

static void test_missing_include(void **state)
{
    (void)state;
    char err[512];
    septune_jit *m = NULL;
    assert_int_equal(
        septune_jit_compile("int a;\n#include <septune_no_such_header.h>\n", "inc.c", &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "inc.c:2: error: include file 'septune_no_such_header.h' not found"));
}

static void test_err_buffer_edges(void **state)
{
    (void)state;
    const char *bad = "int f( {\n";
    septune_jit *m = (septune_jit *)&m;

    /* NULL err, with and without a size */
    assert_int_equal(septune_jit_compile(bad, "e.c", &m, NULL, 0), -1);
    assert_null(m);
    assert_int_equal(septune_jit_compile(bad, "e.c", &m, NULL, 100), -1);

    /* err_size 0: not a single byte is written */
    char sentinel[4] = {'x', 'y', 'z', 'w'};
    assert_int_equal(septune_jit_compile(bad, "e.c", &m, sentinel, 0), -1);
    assert_memory_equal(sentinel, "xyzw", 4);

    /* err_size 1: just the NUL */
    sentinel[0] = 'x';
    assert_int_equal(septune_jit_compile(bad, "e.c", &m, sentinel, 1), -1);
    assert_int_equal(sentinel[0], '\0');
    assert_int_equal(sentinel[1], 'y');

    /* a long report (150 warnings, then an error) truncated at every size */
    size_t srclen = 150 * 32 + 64;
    char *src = malloc(srclen);
    assert_non_null(src);
    size_t pos = 0;
    for (int i = 0; i < 150; i++)
        pos += (size_t)snprintf(src + pos, srclen - pos, "int *p%d = %d;\n", i, i + 1);
    snprintf(src + pos, srclen - pos, "int f(void) { return nope; }\n");
    char full[16384];
    assert_int_equal(septune_jit_compile(src, "long.c", &m, full, sizeof full), -1);
    size_t full_len = strlen(full);
    assert_true(full_len > 5000);
    assert_true(full_len < sizeof full - 1); /* the whole report fit */
    assert_non_null(strstr(full, "long.c:151: error: "));
    for (size_t size = 2; size < 300; size += 37) {
        char small[300 + 8];
        memset(small, 'Q', sizeof small);
        assert_int_equal(septune_jit_compile(src, "long.c", &m, small, size), -1);
        assert_int_equal(strlen(small), size - 1);
        assert_memory_equal(small, full, size - 1);
        assert_int_equal(small[size], 'Q'); /* nothing written past err_size */
    }
    free(src);
}

static void test_null_args(void **state)
{
    (void)state;
    char err[128];
    septune_jit *m = (septune_jit *)&m;
    assert_int_equal(septune_jit_compile(NULL, "x.c", &m, err, sizeof err), -1);
    assert_null(m);
    assert_string_equal(err, "septune_jit_compile: source is NULL");
    assert_int_equal(septune_jit_compile(NULL, NULL, NULL, NULL, 0), -1);
    assert_int_equal(septune_jit_compile("int x;", "x.c", NULL, err, sizeof err), -1);
    assert_string_equal(err, "septune_jit_compile: out is NULL");
    assert_null(septune_jit_symbol(NULL, "x"));
    assert_int_equal(septune_jit_code_size(NULL), 0);
    septune_jit_free(NULL);

    /* an empty source is a valid, empty module */
    assert_int_equal(septune_jit_compile("", "empty.c", &m, err, sizeof err), 0);
    assert_non_null(m);
    assert_null(septune_jit_symbol(m, "x"));
    septune_jit_free(m);
}

/* ---- resources ---------------------------------------------------------- */

/* Total size of the process's writable+executable mappings (where module
 * code lives), from /proc/self/maps; -1 when unreadable or meaningless:
 * under valgrind, whose own translation cache is rwx and grows as it likes
 * (valgrind preloads its vgpreload_*.so into the client). */
static long long rwx_bytes(void)
{
    const char *preload = getenv("LD_PRELOAD");
    if (preload && strstr(preload, "vgpreload"))
        return -1;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return -1;
    long long total = 0;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        unsigned long long lo, hi;
        char perms[8];
        if (sscanf(line, "%llx-%llx %7s", &lo, &hi, perms) == 3 && strncmp(perms, "rwx", 3) == 0)
            total += (long long)(hi - lo);
    }
    fclose(f);
    return total;
}

/* Many compile/free cycles: LSan (sanitizer build) and valgrind (ctest
 * test_jit_valgrind) report anything a cycle leaks on the heap; the code
 * mappings, which neither sees, are counted from /proc/self/maps. Several
 * modules are kept alive at once so frees happen out of order. */
static void test_cycles(void **state)
{
    (void)state;
    int cycles = env_int("SEPTUNE_JIT_TEST_CYCLES", 1000);
    long long rwx_before = rwx_bytes();
    enum { LIVE = 4 };
    septune_jit *live[LIVE] = {0};
    char err[256];
    for (int i = 0; i < cycles; i++) {
        char src[96];
        snprintf(src, sizeof src, "int v(void) { return %d; }\n", i);
        septune_jit *m = NULL;
        int rc = septune_jit_compile(src, "cycle.c", &m, err, sizeof err);
        if (rc != 0)
            print_error("cycle %d: %s\n", i, err);
        assert_int_equal(rc, 0);
        int (*v)(void) = (int (*)(void))septune_jit_symbol(m, "v");
        assert_non_null(v);
        assert_int_equal(v(), i);
        septune_jit_free(live[i % LIVE]);
        live[i % LIVE] = m;
    }
    for (int i = 0; i < LIVE; i++) {
        if (live[i]) {
            int (*v)(void) = (int (*)(void))septune_jit_symbol(live[i], "v");
            assert_non_null(v);
            assert_int_equal(v() % LIVE, i); /* still the module's own code */
        }
        septune_jit_free(live[i]);
    }
    long long rwx_after = rwx_bytes();
    if (rwx_before >= 0 && rwx_after >= 0) {
        if (rwx_after > rwx_before)
            print_error("rwx mappings grew from %lld to %lld bytes\n", rwx_before, rwx_after);
        assert_true(rwx_after <= rwx_before); /* every module unmapped its code */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* first: the process's first compiles happen on worker threads */
        cmocka_unit_test(test_first_compile_from_worker_threads),
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_float_loop),
        cmocka_unit_test(test_inline_asm_bytes),
        cmocka_unit_test(test_calls_libc),
        cmocka_unit_test(test_syntax_error),
        cmocka_unit_test(test_error_null_name_and_warnings),
        cmocka_unit_test(test_warnings_on_success),
        cmocka_unit_test(test_file_name_escaping),
        cmocka_unit_test(test_undefined_symbol),
        cmocka_unit_test(test_missing_include),
        cmocka_unit_test(test_err_buffer_edges),
        cmocka_unit_test(test_null_args),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_cycles),
    };
    return cmocka_run_group_tests_name("jit", tests, NULL, NULL);
}
