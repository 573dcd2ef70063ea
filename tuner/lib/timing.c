/*
 * timing.c — clock, CPU pinning, median-of-samples measurement, interleaved
 * measurement and the FMA peak probe. See timing.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_setaffinity, sched_getcpu, CPU_SET */
#endif
#include "timing.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double bench_now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

int bench_pin_cpu(int cpu)
{
  if (cpu < 0) {
    cpu = sched_getcpu();
    if (cpu < 0) return -1;
  }
  if (cpu >= CPU_SETSIZE) return -1;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) return -1;
  return cpu;
}

int bench_pin_cpus(int count)
{
  cpu_set_t allowed, set;
  int here = sched_getcpu(), pinned = 0;
  if (count < 1 || sched_getaffinity(0, sizeof allowed, &allowed) != 0) return -1;
  if (here < 0 || !CPU_ISSET(here, &allowed)) here = 0;
  CPU_ZERO(&set);
  for (int i = 0; i < CPU_SETSIZE && pinned < count; i++) {
    int cpu = (here + i) % CPU_SETSIZE;
    if (CPU_ISSET(cpu, &allowed)) {
      CPU_SET(cpu, &set);
      pinned++;
    }
  }
  if (pinned == 0 || sched_setaffinity(0, sizeof set, &set) != 0) return -1;
  return pinned;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Sorts v in place and fills the order statistics of out. */
static void fill_stats(double *v, int n, long reps, bench_stats *out)
{
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  out->samples = n;
  out->reps = reps;
  out->min_us = v[0];
  out->max_us = v[n - 1];
  out->median_us = (n % 2) ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Runs fn for at least warm_us (and at least once); returns the estimated
 * time per call in *per_call_us. */
static int warm_up(bench_fn fn, void *ctx, double warm_us, double *per_call_us)
{
  long calls = 0;
  double t0 = bench_now_us(), t = t0;
  do {
    int rc = fn(ctx);
    if (rc != 0) return rc;
    calls++;
    t = bench_now_us();
  } while (t - t0 < warm_us);
  *per_call_us = (t - t0) / (double)calls;
  if (*per_call_us <= 0) *per_call_us = 1e-3;
  return 0;
}

static long reps_for(double target_us, double per_call_us)
{
  double r = ceil(target_us / per_call_us);
  if (r < 1) r = 1;
  if (r > 1e9) r = 1e9;
  return (long)r;
}

int bench_measure(bench_fn fn, void *ctx, double min_total_ms, bench_stats *out)
{
  if (min_total_ms <= 0) min_total_ms = 200;
  double warm_ms = min_total_ms / 4 < 20 ? min_total_ms / 4 : 20;
  double per_call;
  int rc = warm_up(fn, ctx, warm_ms * 1000, &per_call);
  if (rc != 0) return rc;
  long reps = reps_for(100.0, per_call);

  int cap = 64, n = 0;
  double *samples = malloc((size_t)cap * sizeof *samples);
  if (!samples) return -1;
  double start = bench_now_us();
  while (n < 5 || bench_now_us() - start < min_total_ms * 1000) {
    if (n == cap) {
      if (cap >= (1 << 20)) break;
      double *grown = realloc(samples, (size_t)cap * 2 * sizeof *samples);
      if (!grown) break;
      samples = grown;
      cap *= 2;
    }
    double t0 = bench_now_us();
    for (long r = 0; r < reps; r++) {
      rc = fn(ctx);
      if (rc != 0) {
        free(samples);
        return rc;
      }
    }
    samples[n++] = (bench_now_us() - t0) / (double)reps;
  }
  if (out) fill_stats(samples, n, reps, out);
  free(samples);
  return 0;
}

int bench_measure_interleaved(size_t k, const bench_fn fns[], void *const ctxs[], int rounds,
                              double round_ms, bench_stats out[])
{
  return bench_measure_interleaved_settled(k, fns, ctxs, rounds, round_ms, 0, out);
}

void bench_pause_ms(double ms)
{
  struct timespec t = { (time_t)(ms / 1000), (long)(fmod(ms, 1000) * 1e6) };
  while (nanosleep(&t, &t) != 0 && errno == EINTR) {
  }
}

int bench_measure_interleaved_settled(size_t k, const bench_fn fns[], void *const ctxs[], int rounds,
                                      double round_ms, double settle_ms, bench_stats out[])
{
  if (k == 0) return 0;
  if (rounds < 1) rounds = 15;
  if (round_ms <= 0) round_ms = 2;
  long *reps = malloc(k * sizeof *reps);
  double *samples = malloc(k * (size_t)rounds * sizeof *samples);
  int rc = -1;
  if (!reps || !samples) goto done;

  /* Warm every candidate once (caches, page faults, lazy JIT), then calibrate
   * each on its own so that one round of it lasts about round_ms. */
  for (size_t i = 0; i < k; i++) {
    double per_call;
    rc = warm_up(fns[i], ctxs[i], 5000, &per_call);
    if (rc != 0) goto done;
    reps[i] = reps_for(round_ms * 1000, per_call);
  }
  for (int r = 0; r < rounds; r++) {
    for (size_t j = 0; j < k; j++) {
      size_t i = (j + (size_t)r) % k; /* rotate who goes first */
      if (settle_ms > 0) bench_pause_ms(settle_ms);
      /* One untimed call first: the previous candidate has just evicted this
       * one's data from L1/L2, and a short round would otherwise charge that
       * reload (up to a few % for weights near L2's size) to one library. */
      rc = fns[i](ctxs[i]);
      if (rc != 0) goto done;
      double t0 = bench_now_us();
      for (long q = 0; q < reps[i]; q++) {
        rc = fns[i](ctxs[i]);
        if (rc != 0) goto done;
      }
      samples[i * (size_t)rounds + (size_t)r] = (bench_now_us() - t0) / (double)reps[i];
    }
  }
  for (size_t i = 0; i < k; i++) fill_stats(samples + i * (size_t)rounds, rounds, reps[i], &out[i]);
  rc = 0;
done:
  free(reps);
  free(samples);
  return rc;
}

float bench_flush_caches(float *buf, size_t n)
{
  float sum = 0;
  for (size_t i = 0; i < n; i += 16) buf[i] += 1.0f;
  for (size_t i = 0; i < n; i += 16) sum += buf[i];
  return sum;
}

int bench_measure_cold(size_t k, const bench_fn fns[], void *const ctxs[], int rounds, double flush_mb,
                       bench_stats out[])
{
  if (k == 0) return 0;
  if (rounds < 1) rounds = 15;
  size_t n = flush_mb > 0 ? (size_t)(flush_mb * 1048576.0 / sizeof(float)) : 1;
  float *flush = calloc(n, sizeof(float));
  double *samples = malloc(k * (size_t)rounds * sizeof *samples);
  int rc = -1;
  volatile float sink = 0;
  if (!flush || !samples) goto done;
  for (int r = 0; r < rounds; r++)
    for (size_t j = 0; j < k; j++) {
      size_t i = (j + (size_t)r) % k;
      sink += bench_flush_caches(flush, n);
      double t0 = bench_now_us();
      rc = fns[i](ctxs[i]);
      if (rc != 0) goto done;
      samples[i * (size_t)rounds + (size_t)r] = bench_now_us() - t0;
    }
  for (size_t i = 0; i < k; i++) fill_stats(samples + i * (size_t)rounds, rounds, 1, &out[i]);
  rc = 0;
done:
  (void)sink;
  free(flush);
  free(samples);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* FMA peak. GNU inline asm in AT&T syntax so that the build needs no
 * -mavx512f / -mfma: the assembler accepts every instruction, and the code
 * is only called after a run-time CPU check. 12 independent accumulators
 * cover FMA latency (4) x 2 FMA ports with room to spare. */

#if defined(__x86_64__) && defined(__GNUC__)
#define BENCH_HAVE_X86_PEAK 1

#define FMA12(op, r)                                                                           \
  op " %%" r "12, %%" r "13, %%" r "0\n\t" op " %%" r "12, %%" r "13, %%" r "1\n\t" op       \
     " %%" r "12, %%" r "13, %%" r "2\n\t" op " %%" r "12, %%" r "13, %%" r "3\n\t" op       \
     " %%" r "12, %%" r "13, %%" r "4\n\t" op " %%" r "12, %%" r "13, %%" r "5\n\t" op       \
     " %%" r "12, %%" r "13, %%" r "6\n\t" op " %%" r "12, %%" r "13, %%" r "7\n\t" op       \
     " %%" r "12, %%" r "13, %%" r "8\n\t" op " %%" r "12, %%" r "13, %%" r "9\n\t" op       \
     " %%" r "12, %%" r "13, %%" r "10\n\t" op " %%" r "12, %%" r "13, %%" r "11\n\t"

#define VEC_CLOBBERS                                                                          \
  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",     \
      "xmm11", "xmm12", "xmm13", "cc"

static const float peak_one = 1.0f;
static const float peak_tiny = 1e-7f;

/* 12 x 16 lanes x 2 flops = 384 flops per iteration. */
__attribute__((noinline)) static void peak_loop_avx512(long iters)
{
  __asm__ volatile(
      "vpxord %%zmm0, %%zmm0, %%zmm0\n\t"
      "vmovaps %%zmm0, %%zmm1\n\tvmovaps %%zmm0, %%zmm2\n\tvmovaps %%zmm0, %%zmm3\n\t"
      "vmovaps %%zmm0, %%zmm4\n\tvmovaps %%zmm0, %%zmm5\n\tvmovaps %%zmm0, %%zmm6\n\t"
      "vmovaps %%zmm0, %%zmm7\n\tvmovaps %%zmm0, %%zmm8\n\tvmovaps %%zmm0, %%zmm9\n\t"
      "vmovaps %%zmm0, %%zmm10\n\tvmovaps %%zmm0, %%zmm11\n\t"
      "vbroadcastss %[one], %%zmm12\n\t"
      "vbroadcastss %[tiny], %%zmm13\n\t"
      ".p2align 4\n"
      "1:\n\t" FMA12("vfmadd231ps", "zmm") "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(iters)
      : [one] "m"(peak_one), [tiny] "m"(peak_tiny)
      : VEC_CLOBBERS);
}

/* 12 x 8 lanes x 2 flops = 192 flops per iteration. */
__attribute__((noinline)) static void peak_loop_avx2(long iters)
{
  __asm__ volatile(
      "vxorps %%ymm0, %%ymm0, %%ymm0\n\t"
      "vmovaps %%ymm0, %%ymm1\n\tvmovaps %%ymm0, %%ymm2\n\tvmovaps %%ymm0, %%ymm3\n\t"
      "vmovaps %%ymm0, %%ymm4\n\tvmovaps %%ymm0, %%ymm5\n\tvmovaps %%ymm0, %%ymm6\n\t"
      "vmovaps %%ymm0, %%ymm7\n\tvmovaps %%ymm0, %%ymm8\n\tvmovaps %%ymm0, %%ymm9\n\t"
      "vmovaps %%ymm0, %%ymm10\n\tvmovaps %%ymm0, %%ymm11\n\t"
      "vbroadcastss %[one], %%ymm12\n\t"
      "vbroadcastss %[tiny], %%ymm13\n\t"
      ".p2align 4\n"
      "1:\n\t" FMA12("vfmadd231ps", "ymm") "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(iters)
      : [one] "m"(peak_one), [tiny] "m"(peak_tiny)
      : VEC_CLOBBERS);
}

/* 6 mulps + 6 addps on independent registers, 4 lanes each: 48 flops per
 * iteration. Multiplying by 1.0 and adding 1e-7 keeps every value normal. */
__attribute__((noinline)) static void peak_loop_sse(long iters)
{
  __asm__ volatile(
      "movss %[one], %%xmm12\n\t"
      "shufps $0, %%xmm12, %%xmm12\n\t"
      "movss %[tiny], %%xmm13\n\t"
      "shufps $0, %%xmm13, %%xmm13\n\t"
      "movaps %%xmm12, %%xmm0\n\tmovaps %%xmm12, %%xmm1\n\tmovaps %%xmm12, %%xmm2\n\t"
      "movaps %%xmm12, %%xmm3\n\tmovaps %%xmm12, %%xmm4\n\tmovaps %%xmm12, %%xmm5\n\t"
      "xorps %%xmm6, %%xmm6\n\txorps %%xmm7, %%xmm7\n\txorps %%xmm8, %%xmm8\n\t"
      "xorps %%xmm9, %%xmm9\n\txorps %%xmm10, %%xmm10\n\txorps %%xmm11, %%xmm11\n\t"
      ".p2align 4\n"
      "1:\n\t"
      "mulps %%xmm12, %%xmm0\n\taddps %%xmm13, %%xmm6\n\t"
      "mulps %%xmm12, %%xmm1\n\taddps %%xmm13, %%xmm7\n\t"
      "mulps %%xmm12, %%xmm2\n\taddps %%xmm13, %%xmm8\n\t"
      "mulps %%xmm12, %%xmm3\n\taddps %%xmm13, %%xmm9\n\t"
      "mulps %%xmm12, %%xmm4\n\taddps %%xmm13, %%xmm10\n\t"
      "mulps %%xmm12, %%xmm5\n\taddps %%xmm13, %%xmm11\n\t"
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      : [n] "+r"(iters)
      : [one] "m"(peak_one), [tiny] "m"(peak_tiny)
      : VEC_CLOBBERS);
}
#endif

double bench_fma_peak_gflops(const char **isa)
{
#ifdef BENCH_HAVE_X86_PEAK
  void (*loop)(long);
  double flops_per_iter;
  const char *name;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    loop = peak_loop_avx512, flops_per_iter = 384, name = "avx512";
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    loop = peak_loop_avx2, flops_per_iter = 192, name = "avx2";
  } else {
    loop = peak_loop_sse, flops_per_iter = 48, name = "sse";
  }
  if (isa) *isa = name;

  /* Calibrate to ~30 ms per trial (also ramps the core's frequency up). */
  long iters = 100000;
  double t0 = bench_now_us();
  loop(iters);
  double dt = bench_now_us() - t0;
  if (dt > 0) iters = (long)((double)iters * 30000.0 / dt);
  if (iters < 1000) iters = 1000;

  double best = 0;
  for (int trial = 0; trial < 6; trial++) {
    t0 = bench_now_us();
    loop(iters);
    dt = bench_now_us() - t0;
    double gflops = flops_per_iter * (double)iters / (dt * 1e3);
    if (gflops > best) best = gflops;
  }
  return best;
#else
  if (isa) *isa = "none";
  return 0.0;
#endif
}
