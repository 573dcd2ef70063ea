/*
 * onnx_node.c — what the importer reads off single ONNX messages: node
 * attributes, tensor data, the window of a convolution or pooling node, and
 * names made printable (see onnx_graph.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "onnx_graph.h"

void onnx_printable(const char *s, char *buf, size_t n)
{
  size_t i = 0;
  if (!n) return;
  for (; s && s[i] && i + 1 < n; i++) {
    unsigned char c = (unsigned char)s[i];
    buf[i] = c > ' ' && c < 0x7f && c != '#' && c != '=' ? (char)c : '_';
  }
  buf[i] = 0;
}

const Onnx__AttributeProto *onnx_attr(const Onnx__NodeProto *n, const char *name)
{
  for (size_t i = 0; i < n->n_attribute; i++)
    if (n->attribute[i]->name && !strcmp(n->attribute[i]->name, name)) return n->attribute[i];
  return NULL;
}

int64_t onnx_attr_int(const Onnx__NodeProto *n, const char *name, int64_t def)
{
  const Onnx__AttributeProto *a = onnx_attr(n, name);
  return a && a->has_i ? a->i : def;
}

float onnx_attr_float(const Onnx__NodeProto *n, const char *name, float def)
{
  const Onnx__AttributeProto *a = onnx_attr(n, name);
  return a && a->has_f ? a->f : def;
}

void onnx_attr_string(const Onnx__NodeProto *n, const char *name, const char *def, char *buf, size_t size)
{
  const Onnx__AttributeProto *a = onnx_attr(n, name);
  if (a && a->has_s) {
    size_t k = a->s.len < size - 1 ? a->s.len : size - 1;
    memcpy(buf, a->s.data, k);
    buf[k] = 0;
    /* a NUL inside the value must not make it read as a shorter one */
    if (memchr(buf, 0, k)) buf[0] = '?';
  } else {
    snprintf(buf, size, "%s", def);
  }
}

int onnx_attr_ints(const Onnx__NodeProto *n, const char *name, int64_t def, size_t def_count, int64_t *out, size_t max,
                   size_t *count)
{
  const Onnx__AttributeProto *a = onnx_attr(n, name);
  if (!a || !a->n_ints) {
    for (size_t i = 0; i < def_count && i < max; i++) out[i] = def;
    *count = def_count;
    return 0;
  }
  *count = a->n_ints;
  if (a->n_ints > max) return -1;
  memcpy(out, a->ints, a->n_ints * sizeof *out);
  return 0;
}

int onnx_tensor_count(const Onnx__TensorProto *t, size_t *count)
{
  size_t c = 1;
  for (size_t i = 0; i < t->n_dims; i++) {
    if (t->dims[i] < 0) return -1;
    if (t->dims[i] && c > SIZE_MAX / (uint64_t)t->dims[i]) return -1;
    c *= (size_t)t->dims[i];
  }
  *count = c;
  return 0;
}

int onnx_tensor_check_floats(const Onnx__TensorProto *t, size_t *count, char *why, size_t why_size)
{
  char name[80];
  onnx_printable(t->name, name, sizeof name);
  if (!t->has_data_type || t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
    snprintf(why, why_size, "tensor '%s' holds data of type %d, not float (1)", name, (int)t->data_type);
    return -1;
  }
  if (onnx_tensor_count(t, count) != 0 || *count > SIZE_MAX / sizeof(float)) {
    snprintf(why, why_size, "tensor '%s' has dimensions whose product overflows", name);
    return -1;
  }
  size_t have = t->has_raw_data ? t->raw_data.len / sizeof(float) : t->n_float_data;
  int exact = t->has_raw_data ? t->raw_data.len % sizeof(float) == 0 : 1;
  if (have != *count || !exact) {
    snprintf(why, why_size, "tensor '%s' declares %zu elements but holds %zu bytes of data", name, *count,
             t->has_raw_data ? t->raw_data.len : t->n_float_data * sizeof(float));
    return -1;
  }
  return 0;
}

void onnx_tensor_copy_floats(const Onnx__TensorProto *t, float *out, size_t count)
{
  /* raw_data is little-endian and may be unaligned: copied bytewise, which
   * is the value on a little-endian host (all that septune's machine code
   * targets). */
  if (t->has_raw_data) memcpy(out, t->raw_data.data, count * sizeof(float));
  else memcpy(out, t->float_data, count * sizeof(float));
}

int onnx_tensor_scalar(const Onnx__TensorProto *t, float *value)
{
  size_t count;
  char why[8];
  if (onnx_tensor_check_floats(t, &count, why, sizeof why) != 0 || count != 1) return -1;
  onnx_tensor_copy_floats(t, value, 1);
  return 0;
}

/* The output size of one axis: floor (or ceil) of (in + pads - extent) / s, + 1. */
static int64_t window_out(int64_t in, int64_t pads, int64_t extent, int64_t s, int ceil_mode)
{
  int64_t span = in + pads - extent;
  if (span < 0) return 0;
  return (ceil_mode ? (span + s - 1) / s : span / s) + 1;
}

/* SAME_UPPER / SAME_LOWER padding of one axis: output ceil(in/s). */
static void same_pads(int64_t in, int64_t extent, int64_t s, int lower, int64_t *begin, int64_t *end)
{
  int64_t out = (in + s - 1) / s;
  int64_t total = (out - 1) * s + extent - in;
  if (total < 0) total = 0;
  *begin = lower ? total - total / 2 : total / 2;
  *end = total - *begin;
}

static int in_range(const int64_t *v, size_t n, int64_t lo)
{
  for (size_t i = 0; i < n; i++)
    if (v[i] < lo || v[i] > ONNX_MAX_DIM) return 0;
  return 1;
}

int onnx_window_of(const Onnx__NodeProto *n, int64_t h, int64_t w, int64_t kh, int64_t kw, onnx_window *win, char *why,
                   size_t why_size)
{
  int64_t s[2], d[2], p[4];
  size_t ns, nd, np;
  char auto_pad[32];
  if (onnx_attr_ints(n, "strides", 1, 2, s, 2, &ns) != 0 || ns != 2 || !in_range(s, 2, 1)) {
    snprintf(why, why_size, "strides: not two values in [1, %d]", ONNX_MAX_DIM);
    return -1;
  }
  if (onnx_attr_ints(n, "dilations", 1, 2, d, 2, &nd) != 0 || nd != 2 || !in_range(d, 2, 1)) {
    snprintf(why, why_size, "dilations: not two values in [1, %d]", ONNX_MAX_DIM);
    return -1;
  }
  if (onnx_attr_ints(n, "pads", 0, 4, p, 4, &np) != 0 || np != 4 || !in_range(p, 4, 0)) {
    snprintf(why, why_size, "pads: not four values in [0, %d]", ONNX_MAX_DIM);
    return -1;
  }
  if (kh < 1 || kw < 1 || kh > ONNX_MAX_DIM || kw > ONNX_MAX_DIM) {
    snprintf(why, why_size, "kernel %lldx%lld out of range", (long long)kh, (long long)kw);
    return -1;
  }
  onnx_attr_string(n, "auto_pad", "NOTSET", auto_pad, sizeof auto_pad);
  int ceil_mode = onnx_attr_int(n, "ceil_mode", 0) != 0;
  *win = (onnx_window){ .kh = kh, .kw = kw, .sh = s[0], .sw = s[1], .dh = d[0], .dw = d[1] };
  int64_t eh = d[0] * (kh - 1) + 1, ew = d[1] * (kw - 1) + 1;
  if (!strcmp(auto_pad, "NOTSET")) {
    win->pad_top = p[0];
    win->pad_left = p[1];
    win->pad_bottom = p[2];
    win->pad_right = p[3];
  } else if (!strcmp(auto_pad, "SAME_UPPER") || !strcmp(auto_pad, "SAME_LOWER")) {
    int lower = auto_pad[5] == 'L';
    ceil_mode = 0;
    if (h > 0) same_pads(h, eh, s[0], lower, &win->pad_top, &win->pad_bottom);
    if (w > 0) same_pads(w, ew, s[1], lower, &win->pad_left, &win->pad_right);
  } else if (strcmp(auto_pad, "VALID") != 0) {
    char shown[32];
    onnx_printable(auto_pad, shown, sizeof shown);
    snprintf(why, why_size, "auto_pad: unknown value '%s' (NOTSET SAME_UPPER SAME_LOWER VALID)", shown);
    return -1;
  }
  win->oh = h > 0 ? window_out(h, win->pad_top + win->pad_bottom, eh, s[0], ceil_mode) : -1;
  win->ow = w > 0 ? window_out(w, win->pad_left + win->pad_right, ew, s[1], ceil_mode) : -1;
  return 0;
}
