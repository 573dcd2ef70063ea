/*
 * fuzz_layer_line.c — the layer-line parser (septune_layer_parse) and the
 * canonical line (septune_op_format).
 *
 * Any input: parsing returns OK, or PARSE / INVALID_ARGUMENT with a message.
 * A line that parses gives a valid op whose canonical line fits
 * SEPTUNE_OP_LINE_SIZE, parses back to the same op, and formats to itself;
 * septune_op_format keeps snprintf's contract on short buffers; the op's
 * sizes can be computed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "septune.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  return 0;
}

static int same_float(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

static int same_op(const septune_op *a, const septune_op *b);

/* A block stage by stage. */
static int same_block(const septune_op *a, const septune_op *b)
{
  septune_op x, y;
  memset(&x, 0, sizeof x);
  memset(&y, 0, sizeof y);
  x.kind = y.kind = SEPTUNE_OP_DEPTHWISE;
  x.u.dw = a->kind == SEPTUNE_OP_SEPARABLE ? a->u.sep.dw : a->u.ir.dw;
  y.u.dw = b->kind == SEPTUNE_OP_SEPARABLE ? b->u.sep.dw : b->u.ir.dw;
  if (!same_op(&x, &y)) return 0;
  x.kind = y.kind = SEPTUNE_OP_POINTWISE;
  if (a->kind == SEPTUNE_OP_SEPARABLE) {
    x.u.pw = a->u.sep.pw;
    y.u.pw = b->u.sep.pw;
    return same_op(&x, &y);
  }
  x.u.pw = a->u.ir.expand;
  y.u.pw = b->u.ir.expand;
  if (!same_op(&x, &y)) return 0;
  x.u.pw = a->u.ir.project;
  y.u.pw = b->u.ir.project;
  return same_op(&x, &y) && a->u.ir.residual == b->u.ir.residual;
}

/* Field by field: a union compared with memcmp would compare padding. */
static int same_op(const septune_op *a, const septune_op *b)
{
  if (a->kind != b->kind) return 0;
  if (a->kind == SEPTUNE_OP_SEPARABLE || a->kind == SEPTUNE_OP_INVERTED_RESIDUAL) return same_block(a, b);
  if (a->kind == SEPTUNE_OP_DEPTHWISE) {
    const septune_depthwise_desc *x = &a->u.dw, *y = &b->u.dw;
    return x->n == y->n && x->h == y->h && x->w == y->w && x->c == y->c && x->kh == y->kh && x->kw == y->kw &&
           x->stride_h == y->stride_h && x->stride_w == y->stride_w && x->dilation_h == y->dilation_h &&
           x->dilation_w == y->dilation_w && x->pad_top == y->pad_top && x->pad_left == y->pad_left &&
           x->pad_bottom == y->pad_bottom && x->pad_right == y->pad_right && x->multiplier == y->multiplier &&
           x->has_bias == y->has_bias && x->act == y->act && same_float(x->act_min, y->act_min) &&
           same_float(x->act_max, y->act_max);
  }
  const septune_pointwise_desc *x = &a->u.pw, *y = &b->u.pw;
  return x->n == y->n && x->h == y->h && x->w == y->w && x->ci == y->ci && x->co == y->co &&
         x->has_bias == y->has_bias && x->act == y->act && same_float(x->act_min, y->act_min) &&
         same_float(x->act_max, y->act_max);
}

/* septune_op_format into a buffer of `size` bytes behaves like snprintf of
 * the full line `full` (n characters). */
static void check_short_buffer(const septune_op *op, const char *full, int n, size_t size)
{
  char buf[SEPTUNE_OP_LINE_SIZE + 8];
  memset(buf, 'X', sizeof buf);
  int m = septune_op_format(op, size ? buf : NULL, size);
  FUZZ_CHECK(m == n, "format into %zu bytes returned %d, the full line has %d", size, m, n);
  if (size == 0) return;
  size_t kept = (size_t)n < size - 1 ? (size_t)n : size - 1;
  FUZZ_CHECK(memcmp(buf, full, kept) == 0 && buf[kept] == '\0', "format into %zu bytes: '%.*s' is not a prefix of '%s'",
             size, (int)kept, buf, full);
  for (size_t i = size; i < sizeof buf; i++) FUZZ_CHECK(buf[i] == 'X', "format into %zu bytes wrote byte %zu", size, i);
}

static void check_op(const septune_op *op, const char *line)
{
  char canon[SEPTUNE_OP_LINE_SIZE], again[SEPTUNE_OP_LINE_SIZE];
  septune_layer back;
  septune_error err;
  FUZZ_CHECK(septune_op_validate(op, &err) == SEPTUNE_OK, "'%s' parsed to an invalid op: %s", line, err.message);
  int n = septune_op_format(op, canon, sizeof canon);
  FUZZ_CHECK(n > 0 && (size_t)n < sizeof canon, "'%s': canonical line of %d characters", line, n);
  FUZZ_CHECK(strlen(canon) == (size_t)n, "'%s': format returned %d for '%s'", line, n, canon);
  septune_status st = septune_layer_parse(canon, &back, &err);
  FUZZ_CHECK(st == SEPTUNE_OK, "'%s': its canonical line '%s' does not parse: %s", line, canon, err.message);
  FUZZ_CHECK(same_op(op, &back.op), "'%s': its canonical line '%s' parses to another op", line, canon);
  FUZZ_CHECK(back.name[0] == '\0', "canonical line '%s' has a name", canon);
  FUZZ_CHECK(septune_op_format(&back.op, again, sizeof again) == n && strcmp(canon, again) == 0,
             "canonical line '%s' formats to '%s'", canon, again);

  size_t sizes[] = { 0, 1, 2, (size_t)n / 2, (size_t)n, (size_t)n + 1 };
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) check_short_buffer(op, canon, n, sizes[i]);

  size_t in, out, w, b;
  int64_t oh, ow;
  FUZZ_CHECK(septune_op_tensor_sizes(op, &in, &out, &w, &b, &err) == SEPTUNE_OK, "'%s': tensor sizes: %s", canon,
             err.message);
  FUZZ_CHECK(in >= 1 && out >= 1 && w >= 1, "'%s': empty tensors (%zu, %zu, %zu)", canon, in, out, w);
  FUZZ_CHECK(septune_op_output_size(op, &oh, &ow, &err) == SEPTUNE_OK && oh >= 1 && ow >= 1,
             "'%s': output size %lld x %lld", canon, (long long)oh, (long long)ow);
  double flops = septune_op_flops(op);
  FUZZ_CHECK(flops > 0 && isfinite(flops), "'%s': %g flops", canon, flops);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *line = fuzz_string(data, size);
  septune_layer layer;
  septune_error err;
  memset(&err, 'E', sizeof err);
  septune_status st = septune_layer_parse(line, &layer, &err);
  if (st == SEPTUNE_OK) {
    FUZZ_CHECK(memchr(layer.name, '\0', sizeof layer.name) != NULL, "name not terminated");
    FUZZ_CHECK(strchr(layer.name, '#') == NULL && strchr(layer.name, ' ') == NULL, "name '%s'", layer.name);
    check_op(&layer.op, line);
  } else {
    FUZZ_CHECK(st == SEPTUNE_ERR_PARSE || st == SEPTUNE_ERR_INVALID_ARGUMENT, "status %d", (int)st);
    FUZZ_CHECK(err.status == st, "err.status %d, returned %d", (int)err.status, (int)st);
    FUZZ_CHECK(fuzz_message_ok(err.message, sizeof err.message), "no message for status %d", (int)st);
  }
  free(line);
  return 0;
}
