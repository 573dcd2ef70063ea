/*
 * internal.h — declarations shared by the runtime's source files and its
 * tests. Not installed, not part of the API: names and signatures may change.
 *
 * Keep it grouped by the file that defines each function, one section per
 * file, in the order below.
 */
#ifndef SEPTUNE_INTERNAL_H
#define SEPTUNE_INTERNAL_H

#include <stddef.h>

#include "septune.h"

#if defined(__GNUC__) || defined(__clang__)
#define SEPTUNE_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define SEPTUNE_PRINTF(fmt, args)
#endif

/* A symbol of a generated source, with its NUL: a prefix of up to 63
 * characters, the kernel's name after it and a function suffix. */
#define SEPTUNE_SYMBOL_SIZE 128

/* ------------------------------------------------------------------------ */
/* status.c                                                                  */

/* Fills *err (when not NULL) with `status` and a printf-style one-line
 * message (truncated to SEPTUNE_ERROR_MESSAGE_SIZE - 1 bytes). Returns
 * `status`, so that a failing function can end with
 *   return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "...", ...); */
septune_status septune_error_set(septune_error *err, septune_status status, const char *fmt, ...)
    SEPTUNE_PRINTF(3, 4);

/* Sets *err (when not NULL) to SEPTUNE_OK with an empty message. Returns
 * SEPTUNE_OK. Public functions call it on success so that err never keeps a
 * stale message. */
septune_status septune_error_clear(septune_error *err);

/* ------------------------------------------------------------------------ */
/* desc.c                                                                    */

/* *one = op with n = 1: the layer a kernel, a tuning record or an emitted
 * table entry is for (each serves the layer at any batch size). */
void septune_op_one_image(const septune_op *op, septune_op *one);

/* The most stages a block has (an inverted residual's three). */
#define SEPTUNE_MAX_STAGES 3

/* The stages of op as ops of their own, in execution order (separable: dw,
 * pw; inverted residual: expand, dw, project; a layer: itself); returns
 * their count. */
int septune_op_stages(const septune_op *op, septune_op stage[SEPTUNE_MAX_STAGES]);

/* 1 when op (any of a block's stages) has a bias. */
int septune_op_has_bias(const septune_op *op);

/* The op's batch n. */
int64_t septune_op_batch(const septune_op *op);

/* ------------------------------------------------------------------------ */
/* reference.c                                                               */

/* Activation act of x (clamp bounds lo, hi), in double: what the reference
 * kernels round to float, the exact function of x to within a few units of
 * 2^-52. NaN gives NaN; silu, gelu and gelu_tanh of -inf are -0. */
double septune_activation_exact(septune_activation act, float lo, float hi, double x);

/* ------------------------------------------------------------------------ */
/* cpu.c                                                                     */

/* ISA detection.
 *   sse     SSE2 (the x86-64 baseline; only SSE2 is required).
 *   avx2    AVX, AVX2 and FMA3 in CPUID, OSXSAVE set, and XCR0 bits 1 and 2
 *           (SSE and AVX state) enabled by the OS.
 *   avx512  everything avx2 needs, plus AVX512F, AVX512VL, AVX512BW and
 *           AVX512DQ in CPUID (the Skylake-SP baseline), and XCR0 bits 5, 6
 *           and 7 (opmask, upper ZMM0-15, ZMM16-31).
 * On a build for anything but x86-64 only scalar (and auto) are available.
 *
 * Environment override, for testing: SEPTUNE_MAX_ISA=scalar|sse|avx2|avx512
 * caps septune_cpu_has_isa (an ISA wider than the cap returns 0), hence
 * septune_cpu_best_isa and the ISA part of septune_cpu_signature. "auto", an
 * empty or an unknown value means no cap. CPUID is read once per process,
 * the variable on every call, so a test may setenv() between calls. */
#define SEPTUNE_MAX_ISA_ENV "SEPTUNE_MAX_ISA"

/* Like septune_cpu_has_isa but ignores SEPTUNE_MAX_ISA: what the hardware
 * and OS can run. */
int septune_cpu_hw_has_isa(septune_isa isa);

/* Writes a one-line CPU signature, used as the CPU part of a tuning-database
 * key, e.g.
 *   GenuineIntel:6.143.8:Intel(R)_Xeon(R)_Platinum_8480+:avx512:l1d=48K,l2=2048K,l3=107520K
 * fields separated by ':': vendor; family.model.stepping (display values,
 * extended fields folded in); brand string with runs of characters other
 * than [A-Za-z0-9.()+@-] replaced by one '_' ("unknown" if absent); the best
 * ISA (honouring SEPTUNE_MAX_ISA, so that a capped tune gets its own key);
 * cache sizes in KiB per instance (0 when unknown). The signature contains
 * no spaces, '#' or ':' besides the separators. On non-x86 builds:
 * "generic:0.0.0:<arch>:scalar:l1d=0K,l2=0K,l3=0K". Like snprintf: returns
 * the length of the full signature, writes at most n bytes including the
 * NUL (nothing when n is 0). */
size_t septune_cpu_signature(char *buf, size_t n);

/* Cache sizes in bytes, of one instance each (the L2 one core has); 0 when
 * unknown. */
typedef struct septune_caches {
  size_t l1d, l2, l3;
} septune_caches;

/* The caches the tiling heuristics go by: this CPU's as the signature
 * reports them, with the sizes SEPTUNE_CACHES gives (the signature's last
 * field, e.g. "l1d=32K,l2=1024K"; any subset) in their place, so tests can
 * try other machines. A malformed SEPTUNE_CACHES is ignored. */
#define SEPTUNE_CACHES_ENV "SEPTUNE_CACHES"
void septune_cpu_caches(septune_caches *caches);

/* Parses a signature's cache field, "l1d=48K,l2=2048K,l3=0K" (any subset,
 * in any order, sizes in KiB), into *caches, leaving sizes it does not name
 * as they were. Returns 0, or -1 (caches untouched) when s is not such a
 * list. */
int septune_caches_parse(const char *s, septune_caches *caches);

#endif /* SEPTUNE_INTERNAL_H */
