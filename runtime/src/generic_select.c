/*
 * generic_select.c — picks the variant of the generic kernels
 * (generic_kernels.c) for a requested ISA and this CPU.
 *
 * The build defines SEPTUNE_GENERIC_HAVE_<VARIANT> for each variant it
 * compiled; the portable one is always there, so selection never fails.
 */
#include <stddef.h>

#include "generic.h"

extern const septune_generic_kernels septune_generic_portable;
#ifdef SEPTUNE_GENERIC_HAVE_SSE
extern const septune_generic_kernels septune_generic_sse;
#endif
#ifdef SEPTUNE_GENERIC_HAVE_AVX2
extern const septune_generic_kernels septune_generic_avx2;
#endif
#ifdef SEPTUNE_GENERIC_HAVE_AVX512
extern const septune_generic_kernels septune_generic_avx512;
#endif

/* Widest first. */
static const septune_generic_kernels *const variants[] = {
#ifdef SEPTUNE_GENERIC_HAVE_AVX512
  &septune_generic_avx512,
#endif
#ifdef SEPTUNE_GENERIC_HAVE_AVX2
  &septune_generic_avx2,
#endif
#ifdef SEPTUNE_GENERIC_HAVE_SSE
  &septune_generic_sse,
#endif
  &septune_generic_portable,
};

const septune_generic_kernels *septune_generic_select(septune_isa isa)
{
  size_t i, n = sizeof variants / sizeof variants[0];
  for (i = 0; i + 1 < n; i++) {
    const septune_generic_kernels *k = variants[i];
    /* septune_isa values grow with the vector width */
    if (isa != SEPTUNE_ISA_AUTO && (int)k->isa > (int)isa) continue;
    if (septune_cpu_has_isa(k->isa)) return k;
  }
  return variants[n - 1];
}
