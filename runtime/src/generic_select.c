/* placeholder until the generic kernels land: naive loops */
#include <string.h>

#include "generic.h"

static float act(const septune_activation a, float lo, float hi, float x)
{
  switch (a) {
  case SEPTUNE_ACT_RELU: return x > 0 ? x : 0;
  case SEPTUNE_ACT_RELU6: return x < 0 ? 0 : x > 6 ? 6 : x;
  case SEPTUNE_ACT_CLAMP: return x < lo ? lo : x > hi ? hi : x;
  case SEPTUNE_ACT_HSWISH: { float t = x + 3; t = t < 0 ? 0 : t > 6 ? 6 : t; return x * t / 6; }
  default: return x;
  }
}

static void dw(const septune_depthwise_desc *d, const float *packed, const float *in, float *out)
{
  long oh = (d->h + d->pad_top + d->pad_bottom - d->dilation_h * (d->kh - 1) - 1) / d->stride_h + 1;
  long ow = (d->w + d->pad_left + d->pad_right - d->dilation_w * (d->kw - 1) - 1) / d->stride_w + 1;
  long c = d->c, cp = (c + 15) / 16 * 16;
  for (long n = 0; n < d->n; n++)
    for (long y = 0; y < oh; y++)
      for (long x = 0; x < ow; x++)
        for (long ch = 0; ch < c; ch++) {
          float s = packed[ch];
          for (long i = 0; i < d->kh; i++)
            for (long j = 0; j < d->kw; j++) {
              long iy = y * d->stride_h - d->pad_top + i * d->dilation_h;
              long ix = x * d->stride_w - d->pad_left + j * d->dilation_w;
              if (iy < 0 || iy >= d->h || ix < 0 || ix >= d->w) continue;
              s += in[((n * d->h + iy) * d->w + ix) * c + ch] * packed[(1 + i * d->kw + j) * cp + ch];
            }
          out[((n * oh + y) * ow + x) * c + ch] = act(d->act, d->act_min, d->act_max, s);
        }
}

static size_t pw_floats(const septune_pointwise_desc *d) { return (size_t)(d->co + d->ci * d->co); }

static void pw_pack(const septune_pointwise_desc *d, const float *w, const float *b, float *p)
{
  for (long i = 0; i < d->co; i++) p[i] = b ? b[i] : 0;
  memcpy(p + d->co, w, sizeof(float) * (size_t)(d->ci * d->co));
}

static void pw(const septune_pointwise_desc *d, const float *p, const float *in, float *out)
{
  long px = d->n * d->h * d->w;
  for (long q = 0; q < px; q++)
    for (long o = 0; o < d->co; o++) {
      float s = p[o];
      for (long k = 0; k < d->ci; k++) s += in[q * d->ci + k] * p[d->co + k * d->co + o];
      out[q * d->co + o] = act(d->act, d->act_min, d->act_max, s);
    }
}

static const septune_generic_kernels portable = { SEPTUNE_ISA_SCALAR, dw, pw_floats, pw_pack, pw };

const septune_generic_kernels *septune_generic_select(septune_isa isa)
{
  (void)isa;
  return &portable;
}
