/*
 * test_ops.h — small op constructors shared by the cmocka tests.
 */
#ifndef SEPTUNE_TEST_OPS_H
#define SEPTUNE_TEST_OPS_H

#include <stdint.h>
#include <string.h>

#include "septune.h"

/* A kh=kw=k depthwise op with stride s and no padding; a pointwise op. */
static inline septune_op make_dw(int64_t h, int64_t w, int64_t c, int64_t k, int64_t s)
{
  septune_op op;
  memset(&op, 0, sizeof(op));
  op.kind = SEPTUNE_OP_DEPTHWISE;
  septune_depthwise_desc_init(&op.u.dw);
  op.u.dw.h = h;
  op.u.dw.w = w;
  op.u.dw.c = c;
  op.u.dw.kh = op.u.dw.kw = k;
  op.u.dw.stride_h = op.u.dw.stride_w = s;
  return op;
}

static inline septune_op make_pw(int64_t h, int64_t w, int64_t ci, int64_t co)
{
  septune_op op;
  memset(&op, 0, sizeof(op));
  op.kind = SEPTUNE_OP_POINTWISE;
  septune_pointwise_desc_init(&op.u.pw);
  op.u.pw.h = h;
  op.u.pw.w = w;
  op.u.pw.ci = ci;
  op.u.pw.co = co;
  return op;
}

#endif
