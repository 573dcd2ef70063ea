/*
 * generic_kernels.c — the generic depthwise and pointwise kernels of
 * libseptune_rt: any shape, built by the system compiler.
 *
 * CMake compiles this file once per variant, with SEPTUNE_GENERIC_VARIANT
 * naming it (avx512, avx2, sse, portable) and that variant's ISA flags; the
 * variant's kernels are the table septune_generic_<name> (generic.h).
 *
 * The register-blocked code is written with GCC/Clang vector extensions so
 * that its speed does not depend on the auto-vectorizer: accumulators are
 * small arrays of vectors in loops of constant trip count marked for full
 * unrolling, which the compilers turn into registers. Compilers without the
 * extensions (and tcc, which ignores vector_size) get the same code over a
 * struct of floats.
 *
 * Pointwise is a GEMM, out[M pixels][co] = in[M][ci] x W[ci][co]: a tile of
 * mr rows x nv vectors of accumulators, fed by one broadcast input float
 * per row and nv weight vectors per step of K. Weights are packed into
 * panels of nr = nv*lanes columns: the panel's bias row, then ci rows,
 * zero beyond co. The tile is picked per layer from a few (pw_kinds) to
 * waste least on the remainders of co and of the pixels; K is blocked so
 * that one panel's block stays in L1, M so that the input block stays in
 * L2.
 *
 * Depthwise goes per image through bands of output rows (their input rows
 * stay in L2), per band through blocks of a few channel vectors (a block's
 * tap rows stay in L1 from one output row to the next), per row through
 * tiles of a few output pixels. A work item, the unit threads share, is one
 * band of one block (pointwise: one M block of one panel). Channels are contiguous in NHWC, so every
 * tap of every pixel is one vector load and one FMA per channel vector.
 * Tiles whose taps all fall inside the image run without a check; border
 * tiles read a zero vector for the taps outside. 3x3 kernels, the common
 * case, have their own code that keeps a block's nine tap weights in
 * registers for the whole band.
 *
 * Nothing touches memory outside the tensors: a partial channel vector is
 * read and written with masked loads and stores (AVX-512, AVX2) or lane by
 * lane, and a pointwise row tile past the last pixel re-reads the last
 * row's input and stores nothing.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "act_consts.h"
#include "generic.h"

/* ---- the variant ----------------------------------------------------------- */

#define GV_avx512 4
#define GV_avx2 3
#define GV_sse 2
#define GV_portable 1
#define GV_CAT_(a, b) a##b
#define GV_CAT(a, b) GV_CAT_(a, b)
#define GV GV_CAT(GV_, SEPTUNE_GENERIC_VARIANT)
#define GV_TABLE GV_CAT(septune_generic_, SEPTUNE_GENERIC_VARIANT)

/* Per variant: lanes per vector; the most rows and vectors of a pointwise
 * tile (the tiles are listed at pw_kinds); the most vectors per channel
 * block and pixels per tile of depthwise; for 3x3 depthwise, the vectors
 * per channel block and pixels per tile with all nine taps' weights held
 * in registers. Accumulators plus the weight vectors fill at most the
 * register file (32 vectors on AVX-512, 16 elsewhere; without FMA one more
 * for the product). */
#if GV == 4
#if !defined(__AVX512F__) || !defined(__FMA__)
#error "the avx512 variant needs -mavx512f -mfma"
#endif
#define ISA SEPTUNE_ISA_AVX512
#define LANES 16
#define MR_MAX 14
#define PW_NV_MAX 6
#define DW_NV_MAX 4
#define DW_PX 6
#define DW3_NV 2
#define DW3_PX 4
#elif GV == 3
#if !defined(__AVX2__) || !defined(__FMA__)
#error "the avx2 variant needs -mavx2 -mfma"
#endif
#define ISA SEPTUNE_ISA_AVX2
#define LANES 8
#define MR_MAX 12
#define PW_NV_MAX 3
#define DW_NV_MAX 2
#define DW_PX 6
#define DW3_NV 1
#define DW3_PX 5
#elif GV == 2 || GV == 1
/* sse and portable: the same four-lane tiles */
#if GV == 2 && !defined(__SSE2__)
#error "the sse variant needs SSE2"
#endif
#define ISA (GV == 2 ? SEPTUNE_ISA_SSE : SEPTUNE_ISA_SCALAR)
#define LANES 4
#define MR_MAX 8
#define PW_NV_MAX 2
#define DW_NV_MAX 2
#define DW_PX 5
#define DW3_NV 1
#define DW3_PX 4
#else
#error "SEPTUNE_GENERIC_VARIANT must be avx512, avx2, sse or portable"
#endif


#if GV >= 2 && defined(__GNUC__) && !defined(__TINYC__)
#include <immintrin.h>
#endif

/* ---- vectors ------------------------------------------------------------------- */

#if defined(__GNUC__) && !defined(__TINYC__) && !defined(SEPTUNE_GENERIC_PLAIN_C)

#define HAVE_VECTORS 1
#define INLINE static inline __attribute__((always_inline))
#define PRAGMA_(x) _Pragma(#x)
/* Full unrolling of a constant-count loop: its accumulators become
 * registers. Clang takes GCC's spelling without a word and ignores it; its
 * own plain `unroll` unrolls a loop of unknown count partially, which it
 * does to the helpers before inlining makes their counts known. */
#if defined(__clang__)
#define UNROLLED PRAGMA_(clang loop unroll(full))
#else
#define UNROLLED PRAGMA_(GCC unroll 16)
#endif
/* Hides how pointer p was computed, so the compiler addresses from it
 * instead of hoisting every (tap, pixel) offset of an unrolled tile into a
 * register of its own (more than there are: they spill). */
#define OPAQUE(p) __asm__("" : "+r"(p))

typedef float vec __attribute__((vector_size(4 * LANES)));
typedef int32_t veci __attribute__((vector_size(4 * LANES)));

INLINE vec vload(const float *p) { vec v; __builtin_memcpy(&v, p, sizeof v); return v; }
INLINE void vstore(float *p, vec v) { __builtin_memcpy(p, &v, sizeof v); }
INLINE vec vzero(void) { vec v = { 0 }; return v; }
/* x - 0 is x for every x (also -0), so this is a plain broadcast. */
INLINE vec vbcast(float x) { return x - vzero(); }
INLINE vec vfma(vec acc, vec a, vec b) { return acc + a * b; }
INLINE vec vadd(vec a, vec b) { return a + b; }
INLINE vec vmul(vec a, vec b) { return a * b; }
/* x < lo ? lo : x lane by lane (a NaN x stays NaN, as in the reference):
 * x86's max and min return their second operand when one is NaN, one
 * instruction where the compare-and-select is two. */
#if GV == 4
INLINE vec vmax(vec x, vec lo) { return (vec)_mm512_max_ps((__m512)lo, (__m512)x); }
INLINE vec vmin(vec x, vec hi) { return (vec)_mm512_min_ps((__m512)hi, (__m512)x); }
#elif GV == 3
INLINE vec vmax(vec x, vec lo) { return (vec)_mm256_max_ps((__m256)lo, (__m256)x); }
INLINE vec vmin(vec x, vec hi) { return (vec)_mm256_min_ps((__m256)hi, (__m256)x); }
#elif GV == 2
INLINE vec vmax(vec x, vec lo) { return (vec)_mm_max_ps((__m128)lo, (__m128)x); }
INLINE vec vmin(vec x, vec hi) { return (vec)_mm_min_ps((__m128)hi, (__m128)x); }
#else
INLINE vec vmax(vec x, vec lo) { veci m = x < lo; return (vec)(((veci)lo & m) | ((veci)x & ~m)); }
INLINE vec vmin(vec x, vec hi) { veci m = x > hi; return (vec)(((veci)hi & m) | ((veci)x & ~m)); }
#endif
INLINE float vlane(vec v, int i) { return v[i]; }
INLINE vec vset_lane(vec v, int i, float x) { v[i] = x; return v; }
INLINE vec vsub(vec a, vec b) { return a - b; }
INLINE vec vdiv(vec a, vec b) { return a / b; }
/* Bitwise or, and a left shift of each lane's bits (unsigned: no overflow). */
typedef uint32_t vecu __attribute__((vector_size(4 * LANES)));
INLINE vec vor_bits(vec a, vec b) { return (vec)((vecu)a | (vecu)b); }
INLINE vec vshl_bits(vec a, int n) { return (vec)((vecu)a << n); }

#else

#define HAVE_VECTORS 0
#define INLINE static inline
#define UNROLLED
#define OPAQUE(p) ((void)0)

typedef struct vec { float f[LANES]; } vec;

INLINE vec vload(const float *p) { vec v; memcpy(v.f, p, sizeof v.f); return v; }
INLINE void vstore(float *p, vec v) { memcpy(p, v.f, sizeof v.f); }
INLINE vec vzero(void) { vec v; int i; for (i = 0; i < LANES; i++) v.f[i] = 0; return v; }
INLINE vec vbcast(float x) { vec v; int i; for (i = 0; i < LANES; i++) v.f[i] = x; return v; }
INLINE vec vfma(vec acc, vec a, vec b) { int i; for (i = 0; i < LANES; i++) acc.f[i] += a.f[i] * b.f[i]; return acc; }
INLINE vec vadd(vec a, vec b) { int i; for (i = 0; i < LANES; i++) a.f[i] += b.f[i]; return a; }
INLINE vec vmul(vec a, vec b) { int i; for (i = 0; i < LANES; i++) a.f[i] *= b.f[i]; return a; }
INLINE vec vmax(vec x, vec lo) { int i; for (i = 0; i < LANES; i++) if (x.f[i] < lo.f[i]) x.f[i] = lo.f[i]; return x; }
INLINE vec vmin(vec x, vec hi) { int i; for (i = 0; i < LANES; i++) if (x.f[i] > hi.f[i]) x.f[i] = hi.f[i]; return x; }
INLINE float vlane(vec v, int i) { return v.f[i]; }
INLINE vec vset_lane(vec v, int i, float x) { v.f[i] = x; return v; }
INLINE vec vsub(vec a, vec b) { int i; for (i = 0; i < LANES; i++) a.f[i] -= b.f[i]; return a; }
INLINE vec vdiv(vec a, vec b) { int i; for (i = 0; i < LANES; i++) a.f[i] /= b.f[i]; return a; }
INLINE vec vor_bits(vec a, vec b)
{
  int i;
  for (i = 0; i < LANES; i++) {
    uint32_t x, y;
    memcpy(&x, &a.f[i], 4);
    memcpy(&y, &b.f[i], 4);
    x |= y;
    memcpy(&a.f[i], &x, 4);
  }
  return a;
}
INLINE vec vshl_bits(vec a, int n)
{
  int i;
  for (i = 0; i < LANES; i++) {
    uint32_t x;
    memcpy(&x, &a.f[i], 4);
    x <<= n;
    memcpy(&a.f[i], &x, 4);
  }
  return a;
}

#endif

/* A partial vector: its first n lanes (0 < n < LANES). The mask is made
 * once per tile; the hardware masks never touch the lanes left out, so a
 * tensor's last pixel may end at an unmapped page. */
#if GV == 4 && HAVE_VECTORS
typedef __mmask16 vmask;
INLINE vmask vmask_of(int n) { return (vmask)((1u << n) - 1u); }
INLINE vec vload_part(const float *p, vmask m) { return (vec)_mm512_maskz_loadu_ps(m, p); }
INLINE void vstore_part(float *p, vec v, vmask m) { _mm512_mask_storeu_ps(p, m, (__m512)v); }
#elif GV == 3 && HAVE_VECTORS
typedef __m256i vmask;
INLINE vmask vmask_of(int n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
INLINE vec vload_part(const float *p, vmask m) { return (vec)_mm256_maskload_ps(p, m); }
INLINE void vstore_part(float *p, vec v, vmask m) { _mm256_maskstore_ps(p, m, (__m256)v); }
#else
typedef int vmask;
INLINE vmask vmask_of(int n) { return n; }
INLINE vec vload_part(const float *p, vmask n)
{
  vec v = vzero();
  int i;
  for (i = 0; i < n; i++) v = vset_lane(v, i, p[i]);
  return v;
}
INLINE void vstore_part(float *p, vec v, vmask n)
{
  int i;
  for (i = 0; i < n; i++) p[i] = vlane(v, i);
}
#endif

/* ---- activations -------------------------------------------------------------- */

enum { ACT_NONE, ACT_CLAMP, ACT_HSWISH, ACT_HSIGMOID, ACT_SIGMOID, ACT_SILU, ACT_GELU, ACT_GELU_TANH };

/* relu and relu6 are clamps; an infinite bound never bites. */
typedef struct act_t {
  int kind;
  float lo, hi;
} act_t;

static act_t act_of(septune_activation a, float lo, float hi)
{
  act_t r = { ACT_NONE, 0.0f, 0.0f };
  switch (a) {
  case SEPTUNE_ACT_RELU: r.kind = ACT_CLAMP; r.hi = INFINITY; break;
  case SEPTUNE_ACT_RELU6: r.kind = ACT_CLAMP; r.hi = 6.0f; break;
  case SEPTUNE_ACT_CLAMP: r.kind = ACT_CLAMP; r.lo = lo; r.hi = hi; break;
  case SEPTUNE_ACT_HSWISH: r.kind = ACT_HSWISH; break;
  case SEPTUNE_ACT_HSIGMOID: r.kind = ACT_HSIGMOID; break;
  case SEPTUNE_ACT_SIGMOID: r.kind = ACT_SIGMOID; break;
  case SEPTUNE_ACT_SILU: r.kind = ACT_SILU; break;
  case SEPTUNE_ACT_GELU: r.kind = ACT_GELU; break;
  case SEPTUNE_ACT_GELU_TANH: r.kind = ACT_GELU_TANH; break;
  default: break;
  }
  return r;
}

/* x * (t / 6), the machine code's order: x * t would overflow near FLT_MAX. */
INLINE vec hswish(vec x)
{
  vec t = vmin(vmax(vadd(x, vbcast(3.0f)), vzero()), vbcast(6.0f));
  return vmul(x, vmul(t, vbcast(1.0f / 6.0f)));
}

/* vmax and vmin keep a NaN x: NaN in, NaN out. */
INLINE vec hsigmoid(vec x)
{
  vec t = vmin(vmax(vadd(x, vbcast(3.0f)), vzero()), vbcast(6.0f));
  return vmul(t, vbcast(1.0f / 6.0f));
}

/* The constants of the sigmoid family (act_consts.h): AC(name) broadcasts one. */
#define ACT_CONST_INDEX(name, value) AC_##name,
enum { SEPTUNE_ACT_CONSTS(ACT_CONST_INDEX) AC_COUNT };
#define ACT_CONST_VALUE(name, value) value,
static const float act_consts[AC_COUNT] = { SEPTUNE_ACT_CONSTS(ACT_CONST_VALUE) };
#define AC(name) vbcast(act_consts[AC_##name])

/* x * sigmoid(w), or sigmoid(w) when !times_x: the steps and the reasons of
 * generator/x86_activation.lua, vector for vector. */
INLINE vec sigmoid_of(vec x, vec w, int times_x)
{
  vec z = vmax(vor_bits(w, AC(sign)), AC(zmin));
  vec nb = vfma(AC(magic), z, AC(log2e));
  vec s = vshl_bits(nb, 23);
  vec n = vsub(nb, AC(magic));
  vec t = vfma(vfma(z, n, AC(nln2_hi)), n, AC(nln2_lo));
  vec p = vfma(AC(exp_c5), AC(exp_c6), t);
  p = vfma(AC(exp_c4), p, t);
  p = vfma(AC(exp_c3), p, t);
  p = vfma(AC(exp_c2), p, t);
  p = vfma(AC(exp_c1), p, t);
  vec e = vfma(s, vmul(t, s), p);
  vec den = vadd(e, AC(scale));
  vec num = vmax(e, vmin(vmul(x, AC(big)), AC(scale)));
  if (!times_x) return vdiv(num, den);
  vec y = vdiv(vmul(vmin(vmax(x, AC(nhuge)), AC(huge)), num), den);
  return vmax(y, vsub(x, AC(one)));
}

INLINE vec gelu_tanh_w(vec x)
{
  return vmul(vfma(AC(gelu_tanh_c1), vmul(x, x), AC(gelu_tanh_c3)), x);
}

INLINE vec gelu_w(vec x)
{
  vec y = vmin(vmul(x, x), AC(gelu_x2max));
  vec r = vfma(AC(gelu_r6), AC(gelu_r7), y);
  r = vfma(AC(gelu_r5), r, y);
  r = vfma(AC(gelu_r4), r, y);
  r = vfma(AC(gelu_r3), r, y);
  r = vfma(AC(gelu_r2), r, y);
  r = vfma(AC(gelu_r1), r, y);
  r = vfma(AC(gelu_r0), r, y);
  return vmul(r, x);
}

/* Applies the activation to n accumulators (n constant after inlining). */
INLINE void act_apply(vec *acc, int n, const act_t *a)
{
  int i;
  switch (a->kind) {
  case ACT_CLAMP: {
    vec lo = vbcast(a->lo), hi = vbcast(a->hi);
    UNROLLED for (i = 0; i < n; i++) acc[i] = vmin(vmax(acc[i], lo), hi);
    break;
  }
  case ACT_HSWISH: UNROLLED for (i = 0; i < n; i++) acc[i] = hswish(acc[i]); break;
  case ACT_HSIGMOID: UNROLLED for (i = 0; i < n; i++) acc[i] = hsigmoid(acc[i]); break;
  case ACT_SIGMOID: UNROLLED for (i = 0; i < n; i++) acc[i] = sigmoid_of(acc[i], acc[i], 0); break;
  case ACT_SILU: UNROLLED for (i = 0; i < n; i++) acc[i] = sigmoid_of(acc[i], acc[i], 1); break;
  case ACT_GELU: UNROLLED for (i = 0; i < n; i++) acc[i] = sigmoid_of(acc[i], gelu_w(acc[i]), 1); break;
  case ACT_GELU_TANH: UNROLLED for (i = 0; i < n; i++) acc[i] = sigmoid_of(acc[i], gelu_tanh_w(acc[i]), 1); break;
  default: break;
  }
}

static ptrdiff_t min_pd(ptrdiff_t a, ptrdiff_t b) { return a < b ? a : b; }
static ptrdiff_t max_pd(ptrdiff_t a, ptrdiff_t b) { return a > b ? a : b; }
static ptrdiff_t ceil_div(ptrdiff_t a, ptrdiff_t b) { return (a + b - 1) / b; }

/* ---- pointwise ------------------------------------------------------------------ */

/* One call of a tile function: the row tiles of one M block for one panel
 * and one K block. */
typedef struct pw_tile {
  const float *a;     /* input row of the block's first pixel, at the K block's first k */
  float *c;           /* output row of that pixel, at the panel's first column */
  const float *w;     /* the panel's weight row for the K block's first k */
  const float *bias;  /* the panel's bias row; NULL: add to the partial sums in c */
  const act_t *act;   /* NULL: not the last K block, store partial sums */
  ptrdiff_t lda, ldc; /* floats from one pixel to the next: ci, co */
  ptrdiff_t kc;       /* steps of K in the block */
  ptrdiff_t rows;     /* pixels in the M block */
  int cols;           /* 1..nr valid columns */
} pw_tile;

typedef void (*pw_tile_fn)(const pw_tile *t);

/* Loads (or zeroes) the partial sums of one output row. */
INLINE void pw_load_row(vec *acc, int nv, const float *c, int cols, vmask tail)
{
  int v;
  UNROLLED for (v = 0; v < nv; v++) {
    int n = cols - v * LANES;
    acc[v] = n >= LANES ? vload(c + v * LANES) : n > 0 ? vload_part(c + v * LANES, tail) : vzero();
  }
}

INLINE void pw_store_row(float *c, const vec *acc, int nv, int cols, vmask tail)
{
  int v;
  UNROLLED for (v = 0; v < nv; v++) {
    int n = cols - v * LANES;
    if (n >= LANES) vstore(c + v * LANES, acc[v]);
    else if (n > 0) vstore_part(c + v * LANES, acc[v], tail);
  }
}

/* The microkernel on rows [r0, r0 + mr) of the M block, of which `valid`
 * exist: the others repeat the last one's input and are not stored. mr
 * and nv are constants after inlining. */
INLINE void pw_microkernel(const int mr, const int nv, const pw_tile *t, ptrdiff_t r0, ptrdiff_t valid,
                           vmask tail)
{
  vec acc[MR_MAX][PW_NV_MAX];
  const float *a[MR_MAX];
  const float *w = t->w;
  float *c = t->c + r0 * t->ldc;
  ptrdiff_t k;
  int r, v;

  UNROLLED for (r = 0; r < mr; r++)
    a[r] = t->a + (r0 + (r < valid ? r : valid - 1)) * t->lda;
  if (t->bias) {
    UNROLLED for (r = 0; r < mr; r++)
      UNROLLED for (v = 0; v < nv; v++) acc[r][v] = vload(t->bias + v * LANES);
  } else {
    UNROLLED for (r = 0; r < mr; r++)
      pw_load_row(acc[r], nv, c + (r < valid ? r : valid - 1) * t->ldc, t->cols, tail);
  }
  for (k = 0; k < t->kc; k++, w += nv * LANES) {
    vec b[PW_NV_MAX];
    UNROLLED for (v = 0; v < nv; v++) b[v] = vload(w + v * LANES);
    UNROLLED for (r = 0; r < mr; r++) {
      vec x = vbcast(a[r][k]);
      UNROLLED for (v = 0; v < nv; v++) acc[r][v] = vfma(acc[r][v], x, b[v]);
    }
  }
  UNROLLED for (r = 0; r < mr; r++) {
    if (r < valid) {
      if (t->act) act_apply(acc[r], nv, t->act);
      pw_store_row(c + r * t->ldc, acc[r], nv, t->cols, tail);
    }
  }
}

/* All row tiles of the M block; the full ones with `valid` a constant, so
 * that they are free of the checks for the last. */
INLINE void pw_tile_body(const int mr, const int nv, const pw_tile *t)
{
  vmask tail = vmask_of(t->cols % LANES);
  ptrdiff_t r0;
  for (r0 = 0; r0 < t->rows; r0 += mr) pw_microkernel(mr, nv, t, r0, min_pd(mr, t->rows - r0), tail);
}

/* The tiles of the variant, mr rows x nv vectors: per width the most rows
 * the registers hold and a few less, so that the pixel count can be cut
 * with little waste (7 for the 7x7, 14x14, 28x28 ... of many networks). */
#define PW_TILE(mr, nv) \
  static void pw_tile_##mr##x##nv(const pw_tile *t) { pw_tile_body(mr, nv, t); }
#define PW_ENTRY(mr, nv) { mr, nv, pw_tile_##mr##x##nv }

typedef struct pw_tile_kind {
  int mr, nv;
  pw_tile_fn fn;
} pw_tile_kind;

#if GV == 4
PW_TILE(7, 1) PW_TILE(8, 1) PW_TILE(12, 1) PW_TILE(14, 1)
PW_TILE(7, 2) PW_TILE(10, 2) PW_TILE(12, 2) PW_TILE(14, 2)
PW_TILE(7, 3) PW_TILE(8, 3)
PW_TILE(5, 4) PW_TILE(6, 4)
PW_TILE(4, 5) PW_TILE(5, 5)
PW_TILE(4, 6)
static const pw_tile_kind pw_kinds[] = {
  PW_ENTRY(7, 1), PW_ENTRY(8, 1), PW_ENTRY(12, 1), PW_ENTRY(14, 1),
  PW_ENTRY(7, 2), PW_ENTRY(10, 2), PW_ENTRY(12, 2), PW_ENTRY(14, 2),
  PW_ENTRY(7, 3), PW_ENTRY(8, 3),
  PW_ENTRY(5, 4), PW_ENTRY(6, 4),
  PW_ENTRY(4, 5), PW_ENTRY(5, 5),
  PW_ENTRY(4, 6),
};
#elif GV == 3
PW_TILE(7, 1) PW_TILE(12, 1)
PW_TILE(5, 2) PW_TILE(6, 2)
PW_TILE(3, 3) PW_TILE(4, 3)
static const pw_tile_kind pw_kinds[] = {
  PW_ENTRY(7, 1), PW_ENTRY(12, 1), PW_ENTRY(5, 2), PW_ENTRY(6, 2), PW_ENTRY(3, 3), PW_ENTRY(4, 3),
};
#else
PW_TILE(7, 1) PW_TILE(8, 1)
PW_TILE(4, 2) PW_TILE(5, 2)
static const pw_tile_kind pw_kinds[] = {
  PW_ENTRY(7, 1), PW_ENTRY(8, 1), PW_ENTRY(4, 2), PW_ENTRY(5, 2),
};
#endif

/* How a layer is cut up. The packed size depends on it, so it is a function
 * of the descriptor alone: pack and execute agree. */
typedef struct pw_shape {
  const pw_tile_kind *tile;
  ptrdiff_t nr;       /* panel width in floats: the tile's nv vectors */
  ptrdiff_t panels;
  ptrdiff_t kc, mc;   /* K and M blocks */
} pw_shape;

/* The tile that scores best (cache_budget.h): least waste on the co and
 * pixel remainders, few loads per FMA. A layer whose tensors stream from
 * beyond L2 wants each output row written in one pass: one panel as wide
 * as co when a tile is (the tiles of more than four vectors, short of
 * registers, serve only that), and tiles of at most 8 rows. */
static const pw_tile_kind *pw_pick_tile(const septune_cache_budget *b, ptrdiff_t pixels, ptrdiff_t ci, ptrdiff_t co)
{
  const pw_tile_kind *best = &pw_kinds[0];
  double best_score = -1;
  int streaming = 4.0 * (double)pixels * (double)(ci + co) > (double)b->resident;
  size_t i;
  for (i = 0; i < sizeof pw_kinds / sizeof pw_kinds[0]; i++) {
    const pw_tile_kind *k = &pw_kinds[i];
    ptrdiff_t nr = (ptrdiff_t)k->nv * LANES;
    double score = septune_pw_tile_score((double)pixels, (double)co, k->mr, k->nv, (double)nr, streaming);
    if (nr - LANES >= co) continue; /* a whole vector of padding */
    if (streaming && k->mr > 8) continue;
    if (k->nv > 4 && !(streaming && nr >= co)) continue; /* only to write rows in one pass */
    if (score > best_score + 1e-9) best = k, best_score = score;
  }
  return best;
}

/* For a plan of `threads` threads: a work item is one M block of one image
 * and one panel, with the whole K loop inside; when those are fewer than
 * the threads, the M blocks get smaller. One image's pixels decide the tile
 * (a kernel serves any batch). */
static void pw_shape_of(const septune_pointwise_desc *d, const septune_cache_budget *b, int threads, pw_shape *s)
{
  ptrdiff_t k = (ptrdiff_t)d->ci, pixels = (ptrdiff_t)(d->h * d->w), kc_max, blocks, rows, want;
  s->tile = pw_pick_tile(b, pixels, k, (ptrdiff_t)d->co);
  s->nr = (ptrdiff_t)s->tile->nv * LANES;
  s->panels = ceil_div((ptrdiff_t)d->co, s->nr);
  /* equal K blocks, each within the L1 budget of one panel */
  kc_max = max_pd(16, (ptrdiff_t)b->panel / (s->nr * 4));
  blocks = ceil_div(k, kc_max);
  s->kc = ceil_div(k, blocks);
  /* M blocks of whole tiles whose input rows fit the L2 budget */
  rows = max_pd(4 * s->tile->mr, (ptrdiff_t)b->m_block / (k * 4));
  s->mc = rows / s->tile->mr * s->tile->mr;
  want = ceil_div(threads, s->panels);
  if (threads > 1 && ceil_div(pixels, s->mc) < want)
    s->mc = ceil_div(ceil_div(pixels, want), s->tile->mr) * s->tile->mr;
}

static size_t pw_packed_floats(const septune_pointwise_desc *d, const septune_cache_budget *b)
{
  pw_shape s;
  pw_shape_of(d, b, 1, &s);
  return (size_t)s.panels * (size_t)(d->ci + 1) * (size_t)s.nr;
}

static long pw_work(const septune_pointwise_desc *d, const septune_cache_budget *b, int threads)
{
  pw_shape s;
  pw_shape_of(d, b, threads, &s);
  return (long)(ceil_div((ptrdiff_t)(d->h * d->w), s.mc) * s.panels);
}

/* Panel j: nr bias floats, then ci rows of nr weights; zeros past co. */
static void pw_pack(const septune_pointwise_desc *d, const septune_cache_budget *b, const float *weights,
                    const float *bias, float *packed)
{
  pw_shape s;
  ptrdiff_t ci = (ptrdiff_t)d->ci, co = (ptrdiff_t)d->co, j, k, x;
  pw_shape_of(d, b, 1, &s);
  for (j = 0; j < s.panels; j++) {
    float *p = packed + j * (ci + 1) * s.nr;
    for (x = 0; x < s.nr; x++) {
      ptrdiff_t o = j * s.nr + x;
      p[x] = (bias && o < co) ? bias[o] : 0.0f;
      for (k = 0; k < ci; k++) p[(1 + k) * s.nr + x] = o < co ? weights[k * co + o] : 0.0f;
    }
  }
}

/* Items (M block, panel) with the panels inner (the block's input rows stay
 * in L2 while the panels go by), then K blocks (a panel's K block stays in
 * L1 while the block's row tiles go by). */
static void pw(const septune_pointwise_desc *d, const septune_cache_budget *b, int threads, const float *packed,
               const float *in, float *out, long begin, long end)
{
  pw_shape s;
  ptrdiff_t m = (ptrdiff_t)(d->h * d->w), k = (ptrdiff_t)d->ci, co = (ptrdiff_t)d->co;
  ptrdiff_t m0, j, k0, item, work;
  act_t act = act_of(d->act, d->act_min, d->act_max);
  pw_shape_of(d, b, threads, &s);
  work = ceil_div(m, s.mc) * s.panels;
  for (item = begin; item < end; item++) {
    const float *image = in + item / work * m * k;
    float *image_out = out + item / work * m * co;
    m0 = item % work / s.panels * s.mc;
    j = item % s.panels;
    {
      const float *panel = packed + j * (k + 1) * s.nr;
      for (k0 = 0; k0 < k; k0 += s.kc) {
        pw_tile t;
        t.a = image + m0 * k + k0;
        t.c = image_out + m0 * co + j * s.nr;
        t.w = panel + (1 + k0) * s.nr;
        t.bias = k0 == 0 ? panel : NULL;
        t.act = k0 + s.kc >= k ? &act : NULL;
        t.lda = k;
        t.ldc = co;
        t.kc = min_pd(s.kc, k - k0);
        t.rows = min_pd(s.mc, m - m0);
        t.cols = (int)min_pd(s.nr, co - j * s.nr);
        s.tile->fn(&t);
      }
    }
  }
}

/* ---- depthwise ------------------------------------------------------------------ */

/* One call of a tile: px neighbouring output pixels x nv channel vectors
 * (the 3x3 code reads the same fields, as its comments say). */
typedef struct dw_tile {
  const float *row;    /* input row of the first tap row inside the image, pixel 0, at the block's channel */
  const float *wt;     /* weights of tap (that tap row, kx 0), at the block's channel; 3x3: of tap (0, 0) */
  const float *bias;   /* the bias row, at the block's channel */
  float *out;          /* the tile's first output pixel, at the block's channel */
  ptrdiff_t ix0;       /* input column of tap kx 0 of the tile's first pixel (may be < 0); 3x3: of output column 0 */
  ptrdiff_t sw, dil;   /* stride and dilation along w */
  ptrdiff_t w, c;      /* image width; floats per pixel */
  ptrdiff_t ky_step;   /* input floats from one tap row to the next (dilation_h * w * c) */
  ptrdiff_t wt_row;    /* weight floats from one tap row to the next (kw * co_pad) */
  ptrdiff_t cpad;      /* weight floats from one tap to the next */
  int kys, kw;         /* valid tap rows (0: bias only); tap columns */
  int tail;            /* lanes of the block's last vector when the tile is masked */
} dw_tile;

typedef void (*dw_tile_fn)(const dw_tile *t, const act_t *act);

/* What a tap outside the image reads: zero times its weight adds nothing. */
static const float dw_zeros[DW_NV_MAX * LANES];

/* The tile; px, nv, masked (the block's last vector is partial) and edge
 * (some taps fall outside the image: those read dw_zeros) are constants
 * after inlining. Tap rows outside the image are never visited. */
INLINE void dw_tile_body(const int px, const int nv, const int masked, const int edge, const dw_tile *t,
                         const act_t *act)
{
  vec acc[DW_PX][DW_NV_MAX];
  vmask tail = vmask_of(masked ? t->tail : 0);
  int ky, kx, p, v;

  UNROLLED for (p = 0; p < px; p++)
    UNROLLED for (v = 0; v < nv; v++) acc[p][v] = vload(t->bias + v * LANES);
  for (ky = 0; ky < t->kys; ky++) {
    const float *row = t->row + ky * t->ky_step;
    for (kx = 0; kx < t->kw; kx++) {
      const float *wt = t->wt + ky * t->wt_row + kx * t->cpad;
      ptrdiff_t ix = t->ix0 + kx * t->dil;
      vec b[DW_NV_MAX];
      UNROLLED for (v = 0; v < nv; v++) b[v] = vload(wt + v * LANES);
      UNROLLED for (p = 0; p < px; p++) {
        ptrdiff_t i = ix + p * t->sw;
        const float *x = !edge || (size_t)i < (size_t)t->w ? row + i * t->c : dw_zeros;
        UNROLLED for (v = 0; v < nv; v++) {
          vec xv = (masked && v == nv - 1) ? vload_part(x + v * LANES, tail) : vload(x + v * LANES);
          acc[p][v] = vfma(acc[p][v], xv, b[v]);
        }
      }
    }
  }
  UNROLLED for (p = 0; p < px; p++) {
    float *o = t->out + p * t->c;
    act_apply(acc[p], nv, act);
    UNROLLED for (v = 0; v < nv; v++) {
      if (masked && v == nv - 1) vstore_part(o + v * LANES, acc[p][v], tail);
      else vstore(o + v * LANES, acc[p][v]);
    }
  }
}

/* The tiles of nv vectors: every width up to DW_PX, each plain and masked,
 * of the inside and of the edge kind. */
#define DW_FN(nv, m, e, px) \
  static void dw_##nv##_##m##e##_##px(const dw_tile *t, const act_t *a) { dw_tile_body(px, nv, m, e, t, a); }
#define DW_FNS(nv, m, e) DW_FN(nv, m, e, 1) DW_FN(nv, m, e, 2) DW_FN(nv, m, e, 3) DW_FN(nv, m, e, 4) \
  DW_FN(nv, m, e, 5) DW_FN_6(nv, m, e)
#define DW_TILES(nv) DW_FNS(nv, 0, 0) DW_FNS(nv, 0, 1) DW_FNS(nv, 1, 0) DW_FNS(nv, 1, 1)
#define DW_LIST(nv, m, e) \
  { dw_##nv##_##m##e##_1, dw_##nv##_##m##e##_2, dw_##nv##_##m##e##_3, dw_##nv##_##m##e##_4, \
    dw_##nv##_##m##e##_5 DW_LIST_6(nv, m, e) }
#define DW_TABLE(nv) { { DW_LIST(nv, 0, 0), DW_LIST(nv, 0, 1) }, { DW_LIST(nv, 1, 0), DW_LIST(nv, 1, 1) } }
#if DW_PX == 6
#define DW_FN_6(nv, m, e) DW_FN(nv, m, e, 6)
#define DW_LIST_6(nv, m, e) , dw_##nv##_##m##e##_6
#elif DW_PX == 5
#define DW_FN_6(nv, m, e)
#define DW_LIST_6(nv, m, e)
#else
#error "DW_PX must be 5 or 6"
#endif

DW_TILES(1)
DW_TILES(2)
#if DW_NV_MAX == 4
DW_TILES(3)
DW_TILES(4)
#endif

/* [nv - 1][masked][edge][px - 1] */
static const dw_tile_fn dw_tiles[DW_NV_MAX][2][2][DW_PX] = {
  DW_TABLE(1), DW_TABLE(2),
#if DW_NV_MAX == 4
  DW_TABLE(3), DW_TABLE(4),
#endif
};

/* Columns [x, x + tiles*width + wider) cut into tiles of equal width: the
 * first `wider` one wider. Worked out once per layer, not per row (it
 * divides). */
typedef struct dw_split {
  ptrdiff_t x, tiles, width, wider;
} dw_split;

static dw_split split_of(ptrdiff_t x, ptrdiff_t end, ptrdiff_t most)
{
  dw_split s = { x, 0, 0, 0 };
  if (end > x) {
    s.tiles = ceil_div(end - x, most);
    s.width = (end - x) / s.tiles;
    s.wider = (end - x) % s.tiles;
  }
  return s;
}

/* A layer's geometry. */
typedef struct dw_geom {
  const septune_depthwise_desc *d;
  ptrdiff_t oh, ow, c, cpad;
  ptrdiff_t x_lo, x_hi;     /* output columns whose taps all fall inside the image */
  int k3;                   /* a 3x3 kernel: blocks of DW3_NV vectors by dw3_block */
  dw_split k3_cols[3];      /* 3x3: the left border, the inside, the right border */
  act_t act;
} dw_geom;

/* The first tap [k0 returned] and the count of taps in range of a window
 * starting at input index i0 with step dil over an axis of n. */
static int taps_in(ptrdiff_t i0, ptrdiff_t dil, ptrdiff_t k, ptrdiff_t n, int *count)
{
  ptrdiff_t k0 = i0 < 0 ? ceil_div(-i0, dil) : 0;
  ptrdiff_t k1 = i0 <= n - 1 ? min_pd(k, (n - 1 - i0) / dil + 1) : 0;
  *count = k1 > k0 ? (int)(k1 - k0) : 0;
  return (int)k0;
}

/* One output row of one channel block [c0, c0 + nv vectors) in the tiles of
 * sp (at most DW_PX wide), the edge kind where a tile reaches past the
 * columns whose taps are all inside. */
static void dw_span(const dw_geom *g, dw_tile *t, float *out_row, ptrdiff_t c0, int nv, const dw_split *sp)
{
  const septune_depthwise_desc *d = g->d;
  const dw_tile_fn (*fns)[DW_PX] = dw_tiles[nv - 1][t->tail != 0];
  ptrdiff_t x = sp->x, i;
  for (i = 0; i < sp->tiles; i++) {
    ptrdiff_t px = sp->width + (i < sp->wider);
    int edge = x < g->x_lo || x + px > g->x_hi;
    t->out = out_row + x * g->c + c0;
    t->ix0 = x * d->stride_w - d->pad_left;
    fns[edge][px - 1](t, &g->act);
    x += px;
  }
}

/* ---- 3x3 depthwise: the nine taps' weights of a block in registers ---- */

/* One output row's three tap rows: input rows at pixel 0 and the block's
 * channel; NULL for a row outside the image. */
typedef struct dw3_rows {
  const float *row[3];
} dw3_rows;

/* Adds tap row ky of px pixels whose taps are all inside (row: input row
 * ky at the first pixel's tap kx 0). Tap by tap, so that neighbouring
 * FMAs go to different accumulators; each pixel's input is addressed from
 * a pointer of its own, made opaque so that the compiler does not hoist
 * every (tap, pixel) offset into a register of its own (there are not
 * enough: they would spill). */
INLINE void dw3_row_inside(vec acc[DW3_PX][DW3_NV], const int px, const int masked, vmask tail, const float *row,
                           const dw_tile *t, vec wt[9][DW3_NV], int ky)
{
  const float *x[DW3_PX];
  ptrdiff_t step = t->sw * t->c, kx_step = t->dil * t->c;
  int p, kx, v;
  UNROLLED for (p = 0; p < px; p++) {
    x[p] = p == 0 ? row : x[p - 1] + step;
    OPAQUE(x[p]);
  }
  UNROLLED for (kx = 0; kx < 3; kx++)
    UNROLLED for (p = 0; p < px; p++)
      UNROLLED for (v = 0; v < DW3_NV; v++) {
        const float *xv = x[p] + kx * kx_step + v * LANES;
        vec in = (masked && v == DW3_NV - 1) ? vload_part(xv, tail) : vload(xv);
        acc[p][v] = vfma(acc[p][v], in, wt[ky * 3 + kx][v]);
      }
}

/* The same for pixels some of whose taps fall outside (ix: input column of
 * the first pixel's tap kx 0): those read dw_zeros. */
INLINE void dw3_row_edge(vec acc[DW3_PX][DW3_NV], const int px, const int masked, vmask tail, const float *row,
                         ptrdiff_t ix, const dw_tile *t, vec wt[9][DW3_NV], int ky)
{
  int p, kx, v;
  UNROLLED for (kx = 0; kx < 3; kx++)
    UNROLLED for (p = 0; p < px; p++) {
      ptrdiff_t i = ix + p * t->sw + kx * t->dil;
      const float *x = (size_t)i < (size_t)t->w ? row + i * t->c : dw_zeros;
      UNROLLED for (v = 0; v < DW3_NV; v++) {
        vec in = (masked && v == DW3_NV - 1) ? vload_part(x + v * LANES, tail) : vload(x + v * LANES);
        acc[p][v] = vfma(acc[p][v], in, wt[ky * 3 + kx][v]);
      }
    }
}

/* px output pixels from column x of one row (out_row: its column 0 at the
 * block's channel). */
INLINE void dw3_pixels(const int px, const int masked, const int edge, vmask tail, const dw_tile *t,
                       const dw3_rows *r, ptrdiff_t x, float *out_row, vec wt[9][DW3_NV], const act_t *act)
{
  vec acc[DW3_PX][DW3_NV];
  ptrdiff_t ix = t->ix0 + x * t->sw;
  float *out = out_row + x * t->c;
  int p, v, ky;
  UNROLLED for (p = 0; p < px; p++)
    UNROLLED for (v = 0; v < DW3_NV; v++) acc[p][v] = vload(t->bias + v * LANES);
  UNROLLED for (ky = 0; ky < 3; ky++) {
    if (!r->row[ky]) continue; /* the tap row is outside the image */
    if (edge) dw3_row_edge(acc, px, masked, tail, r->row[ky], ix, t, wt, ky);
    else dw3_row_inside(acc, px, masked, tail, r->row[ky] + ix * t->c, t, wt, ky);
  }
  UNROLLED for (p = 0; p < px; p++) {
    act_apply(acc[p], DW3_NV, act);
    UNROLLED for (v = 0; v < DW3_NV; v++) {
      if (masked && v == DW3_NV - 1) vstore_part(out + p * t->c + v * LANES, acc[p][v], tail);
      else vstore(out + p * t->c + v * LANES, acc[p][v]);
    }
  }
}

/* The columns of sp in one row, all of one kind. */
INLINE void dw3_columns(const int masked, const int edge, vmask tail, const dw_tile *t, const dw3_rows *r,
                        const dw_split *sp, float *out_row, vec wt[9][DW3_NV], const act_t *act)
{
  ptrdiff_t x = sp->x, i;
  for (i = 0; i < sp->tiles; i++) {
    ptrdiff_t px = sp->width + (i < sp->wider);
    /* one inlined tile per width: the accumulators are registers only at
     * a width known when compiling */
    switch (px) {
    case 1: dw3_pixels(1, masked, edge, tail, t, r, x, out_row, wt, act); break;
    case 2: dw3_pixels(2, masked, edge, tail, t, r, x, out_row, wt, act); break;
    case 3: dw3_pixels(3, masked, edge, tail, t, r, x, out_row, wt, act); break;
#if DW3_PX >= 4
    case 4: dw3_pixels(4, masked, edge, tail, t, r, x, out_row, wt, act); break;
#endif
#if DW3_PX >= 5
    case 5: dw3_pixels(5, masked, edge, tail, t, r, x, out_row, wt, act); break;
#endif
#if DW3_PX >= 6
    case 6: dw3_pixels(6, masked, edge, tail, t, r, x, out_row, wt, act); break;
#endif
    default: break;
    }
    x += px;
  }
}

/* Output rows [y0, y1) of a 3x3 block of DW3_NV vectors (t: the block's
 * fields; in and out at the block's channel), the weights loaded once. Per row three spans of columns: the
 * borders, where taps that fall outside read as zeros, and the rest
 * without a check; tap rows outside the image are skipped. */
INLINE void dw3_block_body(const int masked, const dw_geom *g, const dw_tile *t, const float *in, float *out,
                           ptrdiff_t y0, ptrdiff_t y1)
{
  const septune_depthwise_desc *d = g->d;
  vec wt[9][DW3_NV];
  vmask tail = vmask_of(masked ? t->tail : 0);
  ptrdiff_t oy;
  int tap, v;

  UNROLLED for (tap = 0; tap < 9; tap++)
    UNROLLED for (v = 0; v < DW3_NV; v++) wt[tap][v] = vload(t->wt + tap * t->cpad + v * LANES);
  for (oy = y0; oy < y1; oy++) {
    ptrdiff_t iy = oy * d->stride_h - d->pad_top;
    float *out_row = out + oy * g->ow * g->c;
    dw3_rows r;
    int ky, s;
    for (ky = 0; ky < 3; ky++) {
      ptrdiff_t y = iy + ky * d->dilation_h;
      r.row[ky] = y >= 0 && y < d->h ? in + y * d->w * g->c : NULL;
    }
    for (s = 0; s < 3; s++) {
      if (s == 1) dw3_columns(masked, 0, tail, t, &r, &g->k3_cols[s], out_row, wt, &g->act);
      else dw3_columns(masked, 1, tail, t, &r, &g->k3_cols[s], out_row, wt, &g->act);
    }
  }
}

static void dw3_block(const dw_geom *g, const dw_tile *t, const float *in, float *out, ptrdiff_t y0, ptrdiff_t y1)
{
  dw3_block_body(0, g, t, in, out, y0, y1);
}

static void dw3_block_masked(const dw_geom *g, const dw_tile *t, const float *in, float *out, ptrdiff_t y0,
                             ptrdiff_t y1)
{
  dw3_block_body(1, g, t, in, out, y0, y1);
}

/* Output rows [y0, y1) of channel block [c0, c0 + nv vectors) of one image,
 * row by row: the block's few input rows stay in L1 from one output row to
 * the next, where a walk over all channels per row would bring every row
 * back from L2 per tap row. */
static void dw_block(const dw_geom *g, const float *packed, const float *in, float *out, ptrdiff_t c0, int nv,
                     ptrdiff_t y0, ptrdiff_t y1)
{
  const septune_depthwise_desc *d = g->d;
  ptrdiff_t end = c0 + nv * LANES, oy;
  int tail = end > g->c ? (int)(g->c - (end - LANES)) : 0;
  dw_split cols = split_of(0, g->ow, DW_PX);
  dw_tile t;
  t.bias = packed + c0;
  t.sw = d->stride_w;
  t.dil = d->dilation_w;
  t.w = d->w;
  t.c = g->c;
  t.ky_step = d->dilation_h * d->w * g->c;
  t.wt_row = d->kw * g->cpad;
  t.cpad = g->cpad;
  t.kw = (int)d->kw;
  t.tail = tail;
  if (g->k3 && nv == DW3_NV) {
    t.wt = packed + g->cpad + c0;
    t.ix0 = -d->pad_left;
    if (tail) dw3_block_masked(g, &t, in + c0, out + c0, y0, y1);
    else dw3_block(g, &t, in + c0, out + c0, y0, y1);
    return;
  }
  for (oy = y0; oy < y1; oy++) {
    ptrdiff_t iy = oy * d->stride_h - d->pad_top;
    int ky0 = taps_in(iy, d->dilation_h, d->kh, d->h, &t.kys);
    float *out_row = out + oy * g->ow * g->c;
    /* pointers to tap rows inside the image only; none when there is none */
    t.row = t.kys > 0 ? in + (iy + ky0 * d->dilation_h) * d->w * g->c + c0 : in;
    t.wt = t.kys > 0 ? packed + (1 + ky0 * d->kw) * g->cpad + c0 : packed;
    dw_span(g, &t, out_row, c0, nv, &cols);
  }
}

/* A layer's geometry and its work items for a plan of `threads` threads: an
 * item is one band of output rows of one image times one channel block. */
typedef struct dw_items {
  ptrdiff_t nvec, blocks, band, bands;
} dw_items;

static void dw_layout(const septune_depthwise_desc *d, const septune_cache_budget *budget, int threads, dw_geom *g,
                      dw_items *it)
{
  ptrdiff_t reach_w = d->dilation_w * (d->kw - 1), lo, hi;
  g->d = d;
  g->oh = (ptrdiff_t)((d->h + d->pad_top + d->pad_bottom - d->dilation_h * (d->kh - 1) - 1) / d->stride_h + 1);
  g->ow = (ptrdiff_t)((d->w + d->pad_left + d->pad_right - reach_w - 1) / d->stride_w + 1);
  g->c = (ptrdiff_t)d->c;
  g->cpad = ceil_div(g->c, SEPTUNE_KERNEL_PACK_LANES) * SEPTUNE_KERNEL_PACK_LANES;
  g->act = act_of(d->act, d->act_min, d->act_max);
  /* all taps inside: ox*sw - pl >= 0 and ox*sw - pl + reach_w <= w - 1 */
  g->x_lo = ceil_div((ptrdiff_t)d->pad_left, (ptrdiff_t)d->stride_w);
  g->x_hi = d->w - 1 + d->pad_left - reach_w >= 0
                ? min_pd(g->ow, (ptrdiff_t)((d->w - 1 + d->pad_left - reach_w) / d->stride_w) + 1)
                : 0;
  lo = min_pd(g->x_lo, g->ow);
  hi = max_pd(lo, g->x_hi);
  g->k3_cols[0] = split_of(0, lo, DW3_PX);
  g->k3_cols[1] = split_of(lo, hi, DW3_PX);
  g->k3_cols[2] = split_of(hi, g->ow, DW3_PX);
  /* blocks of DW3_NV vectors for 3x3 (the last may be narrower), else of at
   * most DW_NV_MAX vectors, as even as possible */
  g->k3 = d->kh == 3 && d->kw == 3;
  it->nvec = ceil_div(g->c, LANES);
  it->blocks = ceil_div(it->nvec, g->k3 ? DW3_NV : DW_NV_MAX);
  /* bands of output rows whose input and output rows stay in L2 while
   * the channel blocks go by; with threads, at least as many items as
   * threads when the rows allow */
  it->band = max_pd(1, (ptrdiff_t)budget->dw_band / ((d->stride_h * d->w + g->ow) * g->c * 4));
  if (threads > 1 && ceil_div(g->oh, it->band) * it->blocks < threads)
    it->band = max_pd(1, ceil_div(g->oh, ceil_div(threads, it->blocks)));
  it->bands = ceil_div(g->oh, it->band);
}

static long dw_work(const septune_depthwise_desc *d, const septune_cache_budget *budget, int threads)
{
  dw_geom g;
  dw_items it;
  dw_layout(d, budget, threads, &g, &it);
  return (long)(it.bands * it.blocks);
}

static void dw(const septune_depthwise_desc *d, const septune_cache_budget *budget, int threads, const float *packed,
               const float *in, float *out, long begin, long end)
{
  dw_geom g;
  dw_items it;
  ptrdiff_t item, work, b, y0, c0;
  dw_layout(d, budget, threads, &g, &it);
  work = it.bands * it.blocks;
  for (item = begin; item < end; item++) {
    const float *image = in + item / work * d->h * d->w * g.c;
    float *image_out = out + item / work * g.oh * g.ow * g.c;
    int nv;
    y0 = item % work / it.blocks * it.band;
    b = item % it.blocks;
    if (g.k3) {
      c0 = b * DW3_NV * LANES;
      nv = (int)min_pd(DW3_NV, it.nvec - c0 / LANES);
    } else {
      c0 = (b * (it.nvec / it.blocks) + min_pd(b, it.nvec % it.blocks)) * LANES;
      nv = (int)(it.nvec / it.blocks + (b < it.nvec % it.blocks));
    }
    dw_block(&g, packed, image, image_out, c0, nv, y0, min_pd(g.oh, y0 + it.band));
  }
}

/* ---- the variant's table ----------------------------------------------------------- */

extern const septune_generic_kernels GV_TABLE;
const septune_generic_kernels GV_TABLE = { ISA, dw_work, dw, pw_packed_floats, pw_pack, pw_work, pw };
