/*
 * layer_parse.c — the model-file line format: septune_layer_parse and
 * septune_op_format.
 *
 * A line is an op name followed by key=value tokens separated by spaces or
 * tabs; a '#' anywhere starts a comment that runs to the end of the line
 * (so a name cannot contain '#'). No spaces around '='. Keys may come in any
 * order, each at most once.
 *
 *   dw  n h w c  k | kh kw  s | sh sw  d | dh dw  pad=same|valid|t,l,b,r  m
 *   pw  n h w ci co
 *   sep n h w c  (the dw keys)  co  dw.act pw.act dw.bias pw.bias
 *   ir  n h w ci  t | mid  co  (the dw keys)  residual=0|1
 *       expand.act dw.act project.act expand.bias dw.bias project.bias
 *   all: act=none|relu|relu6|hswish|hsigmoid|sigmoid|silu|gelu|gelu_tanh|clamp(min,max)
 *        bias=0|1  name=...
 *
 * Required: h w c and a kernel size (dw); h w ci co (pw); h w c co and a
 * kernel size (sep); h w ci co, t or mid, and a kernel size (ir). Defaults:
 * n=1, stride 1, dilation 1, pad=valid, m=1, act=none, bias=0, residual=0,
 * no name. In a block, act= sets every stage but an inverted residual's
 * project (linear unless project.act says otherwise), bias= every stage;
 * <stage>.act and <stage>.bias set one stage. A stride key on a pointwise
 * stage (pw.s, expand.sh, project.stride, ...) is rejected by name: only the
 * depthwise stage strides.
 * pad=same is applied after all keys are read, as it depends on k, s, d.
 *
 * Errors: per-key problems (syntax, ranges) are SEPTUNE_ERR_PARSE with a
 * message starting with the key; an op that parses but fails
 * septune_op_validate (e.g. an output size of 0) is
 * SEPTUNE_ERR_INVALID_ARGUMENT with validate's message.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The longest value echoed back in an error message. */
#define ECHO_MAX 64

/* Room for a number token copied out to be NUL-terminated for strtoll/strtof. */
#define NUMBUF 80

#define OP_DW 1
#define OP_PW 2
#define OP_SEP 4
#define OP_IR 8
#define OP_CONV (OP_DW | OP_SEP | OP_IR) /* the ops with a depthwise stage */
#define OP_ALL (OP_DW | OP_PW | OP_SEP | OP_IR)

enum {
  K_N, K_H, K_W, K_C, K_K, K_KH, K_KW, K_S, K_SH, K_SW, K_D, K_DH, K_DW, K_PAD, K_M,
  K_CI, K_CO, K_ACT, K_BIAS, K_NAME, K_T, K_MID, K_RESIDUAL,
  /* a block's stages: K_ACT0 + i and K_BIAS0 + i for stage i */
  K_ACT0, K_ACT1, K_ACT2, K_BIAS0, K_BIAS1, K_BIAS2, NUM_KEYS
};

static const struct {
  const char *name;
  int ops;   /* OP_*: the ops that accept the key */
} keys[NUM_KEYS] = {
  {"n", OP_ALL}, {"h", OP_ALL}, {"w", OP_ALL}, {"c", OP_DW | OP_SEP},
  {"k", OP_CONV}, {"kh", OP_CONV}, {"kw", OP_CONV}, {"s", OP_CONV}, {"sh", OP_CONV}, {"sw", OP_CONV},
  {"d", OP_CONV}, {"dh", OP_CONV}, {"dw", OP_CONV}, {"pad", OP_CONV}, {"m", OP_CONV},
  {"ci", OP_PW | OP_IR}, {"co", OP_PW | OP_SEP | OP_IR}, {"act", OP_ALL}, {"bias", OP_ALL},
  {"name", OP_ALL}, {"t", OP_IR}, {"mid", OP_IR}, {"residual", OP_IR},
  /* the stage keys' names depend on the op: stage_key() */
  {NULL, OP_SEP | OP_IR}, {NULL, OP_SEP | OP_IR}, {NULL, OP_IR},
  {NULL, OP_SEP | OP_IR}, {NULL, OP_SEP | OP_IR}, {NULL, OP_IR},
};

/* A block's stages by name, in execution order; the pointwise ones have no
 * stride. */
static const char *const sep_stages[] = { "dw", "pw" };
static const char *const ir_stages[] = { "expand", "dw", "project" };

enum { PAD_VALID, PAD_SAME, PAD_EXPLICIT };

typedef struct act_spec {
  septune_activation act;
  float act_min, act_max;
} act_spec;

/* Everything a line said, before it becomes an op. */
typedef struct parsed {
  int op;                    /* OP_DW, OP_PW, OP_SEP or OP_IR */
  int seen[NUM_KEYS];
  int64_t v[NUM_KEYS];       /* integer-valued keys */
  int pad_mode;
  int64_t pad[4];            /* top, left, bottom, right */
  act_spec act;              /* act=: a layer's; a block's hidden stages' */
  act_spec stage_act[3];     /* <stage>.act= of a block */
} parsed;

/* The stages of a block op, NULL for a layer. */
static const char *const *stage_names(int op, int *count)
{
  *count = op == OP_SEP ? 2 : op == OP_IR ? 3 : 0;
  return op == OP_SEP ? sep_stages : op == OP_IR ? ir_stages : NULL;
}

/* The name of key k for op, e.g. "project.act" for K_ACT2 of ir; NULL when
 * op has no such key. */
static const char *key_name(int op, int k, char *buf, size_t n)
{
  int count;
  const char *const *stages = stage_names(op, &count);
  if (!(keys[k].ops & op)) return NULL;
  if (keys[k].name) return keys[k].name;
  if (k >= K_ACT0 && k <= K_ACT2 && k - K_ACT0 < count)
    snprintf(buf, n, "%s.act", stages[k - K_ACT0]);
  else if (k >= K_BIAS0 && k <= K_BIAS2 && k - K_BIAS0 < count)
    snprintf(buf, n, "%s.bias", stages[k - K_BIAS0]);
  else
    return NULL;
  return buf;
}

static int is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* End of the token starting at s: the next space, '#' or NUL. */
static const char *token_end(const char *s)
{
  while (*s != '\0' && *s != '#' && !is_space(*s)) s++;
  return s;
}

static const char *skip_space(const char *s)
{
  while (is_space(*s)) s++;
  return s;
}

static int span_is(const char *s, size_t len, const char *word)
{
  return strlen(word) == len && memcmp(s, word, len) == 0;
}

static int echo_len(size_t len)
{
  return len > ECHO_MAX ? ECHO_MAX : (int)len;
}

/* Parses the whole of [s, s+len) as a decimal int64 (optional '-', digits,
 * nothing else) into *out, checking *out >= min. `what` names the key in
 * messages. */
static septune_status parse_int(const char *what, const char *s, size_t len, int64_t min,
                                int64_t *out, septune_error *err)
{
  char buf[NUMBUF];
  char *end;
  long long v;
  const char *digits = (len > 0 && s[0] == '-') ? s + 1 : s;
  if (len == 0) return septune_error_set(err, SEPTUNE_ERR_PARSE, "%s: missing value", what);
  if (digits >= s + len || *digits < '0' || *digits > '9')
    return septune_error_set(err, SEPTUNE_ERR_PARSE, "%s: '%.*s' is not an integer", what,
                             echo_len(len), s);
  if (len >= sizeof(buf))
    return septune_error_set(err, SEPTUNE_ERR_PARSE, "%s: '%.*s' is out of range", what,
                             echo_len(len), s);
  memcpy(buf, s, len);
  buf[len] = '\0';
  errno = 0;
  v = strtoll(buf, &end, 10);
  if (*end != '\0')
    return septune_error_set(err, SEPTUNE_ERR_PARSE, "%s: '%.*s' is not an integer", what,
                             echo_len(len), s);
  if (errno == ERANGE)
    return septune_error_set(err, SEPTUNE_ERR_PARSE, "%s: '%.*s' is out of range", what,
                             echo_len(len), s);
  if (v < min)
    return septune_error_set(err, SEPTUNE_ERR_PARSE, "%s: '%.*s' must be >= %lld", what,
                             echo_len(len), s, (long long)min);
  *out = (int64_t)v;
  return SEPTUNE_OK;
}

/* Parses the whole of [s, s+len) as a float, not NaN, finite or infinite. */
static septune_status parse_float(const char *what, const char *s, size_t len, float *out,
                                  septune_error *err)
{
  char buf[NUMBUF];
  char *end;
  float v;
  if (len == 0) return septune_error_set(err, SEPTUNE_ERR_PARSE, "%s: missing number", what);
  if (len >= sizeof(buf) || is_space(s[0]))
    return septune_error_set(err, SEPTUNE_ERR_PARSE, "%s: '%.*s' is not a number", what,
                             echo_len(len), s);
  memcpy(buf, s, len);
  buf[len] = '\0';
  errno = 0;
  v = strtof(buf, &end);
  if (end == buf || *end != '\0' || isnan(v))
    return septune_error_set(err, SEPTUNE_ERR_PARSE, "%s: '%.*s' is not a number", what,
                             echo_len(len), s);
  /* ERANGE on underflow is fine (a denormal or zero), on overflow it is not;
   * "inf" itself parses without ERANGE. */
  if (errno == ERANGE && isinf(v))
    return septune_error_set(err, SEPTUNE_ERR_PARSE, "%s: '%.*s' is out of range", what,
                             echo_len(len), s);
  *out = v;
  return SEPTUNE_OK;
}

/* The activations a layer line names by a plain word; clamp takes bounds. */
static const septune_activation plain_acts[] = {
  SEPTUNE_ACT_NONE,     SEPTUNE_ACT_RELU,    SEPTUNE_ACT_RELU6, SEPTUNE_ACT_HSWISH, SEPTUNE_ACT_HSIGMOID,
  SEPTUNE_ACT_SIGMOID,  SEPTUNE_ACT_SILU,    SEPTUNE_ACT_GELU,  SEPTUNE_ACT_GELU_TANH,
};

static septune_status parse_act(act_spec *p, const char *s, size_t len, septune_error *err)
{
  size_t i;
  const char *comma;
  septune_status st;
  for (i = 0; i < sizeof(plain_acts) / sizeof(plain_acts[0]); i++) {
    if (span_is(s, len, septune_activation_name(plain_acts[i]))) {
      p->act = plain_acts[i];
      return SEPTUNE_OK;
    }
  }
  if (len < 8 || memcmp(s, "clamp(", 6) != 0 || s[len - 1] != ')') {
    char names[160] = "";
    for (i = 0; i < sizeof(plain_acts) / sizeof(plain_acts[0]); i++) {
      strcat(names, septune_activation_name(plain_acts[i]));
      strcat(names, ", ");
    }
    return septune_error_set(err, SEPTUNE_ERR_PARSE, "act: '%.*s' is not an activation (%sclamp(min,max))",
                             echo_len(len), s, names);
  }
  comma = memchr(s + 6, ',', len - 7);
  if (comma == NULL)
    return septune_error_set(err, SEPTUNE_ERR_PARSE,
                             "act: '%.*s' should be clamp(min,max)", echo_len(len), s);
  st = parse_float("act: clamp min", s + 6, (size_t)(comma - (s + 6)), &p->act_min, err);
  if (st != SEPTUNE_OK) return st;
  st = parse_float("act: clamp max", comma + 1, (size_t)(s + len - 1 - (comma + 1)),
                   &p->act_max, err);
  if (st != SEPTUNE_OK) return st;
  if (p->act_min > p->act_max)
    return septune_error_set(err, SEPTUNE_ERR_PARSE, "act: clamp min %g > max %g in '%.*s'",
                             (double)p->act_min, (double)p->act_max, echo_len(len), s);
  p->act = SEPTUNE_ACT_CLAMP;
  return SEPTUNE_OK;
}

static septune_status parse_pad(parsed *p, const char *text, size_t len, septune_error *err)
{
  const char *s = text, *end = text + len;
  int i;
  if (span_is(text, len, "same")) {
    p->pad_mode = PAD_SAME;
    return SEPTUNE_OK;
  }
  if (span_is(text, len, "valid")) {
    p->pad_mode = PAD_VALID;
    return SEPTUNE_OK;
  }
  for (i = 0; i < 4; i++) {
    const char *stop = s;
    septune_status st;
    while (stop < end && *stop != ',') stop++;
    if ((i < 3 && stop == end) || (i == 3 && stop != end))
      return septune_error_set(err, SEPTUNE_ERR_PARSE,
                               "pad: '%.*s' must be same, valid or t,l,b,r",
                               echo_len(len), text);
    st = parse_int("pad", s, (size_t)(stop - s), 0, &p->pad[i], err);
    if (st != SEPTUNE_OK) return st;
    s = stop + 1;
  }
  p->pad_mode = PAD_EXPLICIT;
  return SEPTUNE_OK;
}

/* A block's key <stage>.s, .sh, .sw or .stride for a pointwise stage: an
 * error that says why (only the depthwise stage has a stride); SEPTUNE_OK
 * for any other key. */
static septune_status pointwise_stride(int op, const char *s, size_t klen, septune_error *err)
{
  static const char *const strides[] = { "s", "sh", "sw", "stride" };
  int count;
  const char *const *stages = stage_names(op, &count);
  for (int i = 0; i < count; i++) {
    size_t n = strlen(stages[i]);
    if (strcmp(stages[i], "dw") == 0 || klen <= n + 1 || memcmp(s, stages[i], n) != 0 || s[n] != '.') continue;
    for (size_t j = 0; j < sizeof strides / sizeof strides[0]; j++)
      if (span_is(s + n + 1, klen - n - 1, strides[j]))
        return septune_error_set(err, SEPTUNE_ERR_PARSE,
                                 "%.*s: the pointwise stage %s has no stride (the block's stride is s, sh and sw: "
                                 "its depthwise stage's)",
                                 echo_len(klen), s, stages[i]);
  }
  return SEPTUNE_OK;
}

/* Parses one key=value token [s, s+len). */
static septune_status parse_token(parsed *p, septune_layer *layer, const char *s, size_t len,
                                  septune_error *err)
{
  const char *eq = memchr(s, '=', len);
  size_t klen = eq != NULL ? (size_t)(eq - s) : len;
  const char *val = eq != NULL ? eq + 1 : s + len;
  size_t vlen = (size_t)(s + len - val);
  const char *kname = NULL;
  char buf[32];
  int k;
  for (k = 0; k < NUM_KEYS; k++)
    if ((kname = key_name(p->op, k, buf, sizeof buf)) && span_is(s, klen, kname)) break;
  if (k == NUM_KEYS) {
    septune_status st = pointwise_stride(p->op, s, klen, err);
    if (st != SEPTUNE_OK) return st;
    return septune_error_set(err, SEPTUNE_ERR_PARSE, "unknown key '%.*s'", echo_len(klen), s);
  }
  if (p->seen[k]) return septune_error_set(err, SEPTUNE_ERR_PARSE, "duplicate key '%s'", kname);
  p->seen[k] = 1;
  if (vlen == 0) return septune_error_set(err, SEPTUNE_ERR_PARSE, "%s: missing value", kname);
  switch (k) {
    case K_PAD:
      return parse_pad(p, val, vlen, err);
    case K_ACT:
      return parse_act(&p->act, val, vlen, err);
    case K_ACT0:
    case K_ACT1:
    case K_ACT2: {
      septune_error why;
      if (parse_act(&p->stage_act[k - K_ACT0], val, vlen, &why) == SEPTUNE_OK) return SEPTUNE_OK;
      /* the message starts with "act: ": name the stage's key instead */
      return septune_error_set(err, why.status, "%s:%s", kname, why.message + 4);
    }
    case K_NAME:
      if (vlen > sizeof(layer->name) - 1)
        return septune_error_set(err, SEPTUNE_ERR_PARSE, "name: longer than %d characters",
                                 (int)sizeof(layer->name) - 1);
      memcpy(layer->name, val, vlen);
      layer->name[vlen] = '\0';
      return SEPTUNE_OK;
    case K_BIAS:
    case K_BIAS0:
    case K_BIAS1:
    case K_BIAS2:
    case K_RESIDUAL: {
      septune_status st = parse_int(kname, val, vlen, 0, &p->v[k], err);
      if (st != SEPTUNE_OK) return st;
      if (p->v[k] > 1)
        return septune_error_set(err, SEPTUNE_ERR_PARSE, "%s: '%.*s' must be 0 or 1", kname,
                                 echo_len(vlen), val);
      return SEPTUNE_OK;
    }
    default:
      return parse_int(kname, val, vlen, 1, &p->v[k], err);
  }
}

/* Checks that a combined key (k, s, d) and its per-axis keys are not mixed,
 * and spreads the combined value to both axes. */
static septune_status combine(parsed *p, int both, int kh, int kw, septune_error *err)
{
  if (!p->seen[both]) return SEPTUNE_OK;
  if (p->seen[kh])
    return septune_error_set(err, SEPTUNE_ERR_PARSE, "%s and %s both given", keys[both].name,
                             keys[kh].name);
  if (p->seen[kw])
    return septune_error_set(err, SEPTUNE_ERR_PARSE, "%s and %s both given", keys[both].name,
                             keys[kw].name);
  p->seen[kh] = p->seen[kw] = 1;
  p->v[kh] = p->v[kw] = p->v[both];
  return SEPTUNE_OK;
}

static septune_status require(const parsed *p, int k, septune_error *err)
{
  if (p->seen[k]) return SEPTUNE_OK;
  return septune_error_set(err, SEPTUNE_ERR_PARSE, "missing key '%s'", keys[k].name);
}

/* The activation and bias of a block's stage i (a layer: i = -1): its own
 * keys when given, else the block's act (none for a `linear` stage: an
 * inverted residual's project) and bias. */
static act_spec stage_act(const parsed *p, int i, int linear)
{
  act_spec none = { SEPTUNE_ACT_NONE, 0.0f, 0.0f };
  if (i >= 0 && p->seen[K_ACT0 + i]) return p->stage_act[i];
  return linear ? none : p->act;
}

static int stage_bias(const parsed *p, int i)
{
  if (i >= 0 && p->seen[K_BIAS0 + i]) return (int)p->v[K_BIAS0 + i];
  return (int)p->v[K_BIAS];
}

/* The depthwise desc a line describes (a dw layer, or a block's dw stage
 * number `stage`) over c channels. */
static septune_status fill_dw(parsed *p, int stage, int64_t c, septune_depthwise_desc *d, septune_error *err)
{
  septune_status st;
  if ((st = combine(p, K_K, K_KH, K_KW, err)) != SEPTUNE_OK) return st;
  if ((st = combine(p, K_S, K_SH, K_SW, err)) != SEPTUNE_OK) return st;
  if ((st = combine(p, K_D, K_DH, K_DW, err)) != SEPTUNE_OK) return st;
  if (!p->seen[K_KH] && !p->seen[K_KW])
    return septune_error_set(err, SEPTUNE_ERR_PARSE, "missing key 'k' (or kh and kw)");
  if ((st = require(p, K_KH, err)) != SEPTUNE_OK) return st;
  if ((st = require(p, K_KW, err)) != SEPTUNE_OK) return st;
  septune_depthwise_desc_init(d);
  if (p->seen[K_N]) d->n = p->v[K_N];
  d->h = p->v[K_H];
  d->w = p->v[K_W];
  d->c = c;
  d->kh = p->v[K_KH];
  d->kw = p->v[K_KW];
  if (p->seen[K_SH]) d->stride_h = p->v[K_SH];
  if (p->seen[K_SW]) d->stride_w = p->v[K_SW];
  if (p->seen[K_DH]) d->dilation_h = p->v[K_DH];
  if (p->seen[K_DW]) d->dilation_w = p->v[K_DW];
  if (p->seen[K_M]) d->multiplier = p->v[K_M];
  d->has_bias = stage_bias(p, stage);
  act_spec a = stage_act(p, stage, 0);
  d->act = a.act;
  d->act_min = a.act_min;
  d->act_max = a.act_max;
  if (p->pad_mode == PAD_SAME) return septune_depthwise_pad_same(d, err);
  d->pad_top = p->pad[0];
  d->pad_left = p->pad[1];
  d->pad_bottom = p->pad[2];
  d->pad_right = p->pad[3];
  return SEPTUNE_OK;
}

/* The pointwise desc of a pw layer or of a block's pointwise stage number
 * `stage` (linear: no activation unless its own key gives one). */
static void fill_pw(const parsed *p, int stage, int linear, int64_t h, int64_t w, int64_t ci, int64_t co,
                    septune_pointwise_desc *d)
{
  septune_pointwise_desc_init(d);
  if (p->seen[K_N]) d->n = p->v[K_N];
  d->h = h;
  d->w = w;
  d->ci = ci;
  d->co = co;
  d->has_bias = stage_bias(p, stage);
  act_spec a = stage_act(p, stage, linear);
  d->act = a.act;
  d->act_min = a.act_min;
  d->act_max = a.act_max;
}

/* The output size of a valid depthwise desc (0 when it would be invalid:
 * validation reports it afterwards). */
static void dw_out(const septune_depthwise_desc *d, int64_t *oh, int64_t *ow)
{
  septune_op op;
  memset(&op, 0, sizeof op);
  op.kind = SEPTUNE_OP_DEPTHWISE;
  op.u.dw = *d;
  if (septune_op_output_size(&op, oh, ow, NULL) != SEPTUNE_OK) *oh = *ow = 1;
}

static septune_status require_all(const parsed *p, const int *list, int n, septune_error *err)
{
  for (int i = 0; i < n; i++) {
    septune_status st = require(p, list[i], err);
    if (st != SEPTUNE_OK) return st;
  }
  return SEPTUNE_OK;
}

/* Turns what a line said into layer->op. */
static septune_status build_op(parsed *p, septune_layer *layer, septune_error *err)
{
  static const int dw_keys[] = { K_H, K_W, K_C }, pw_keys[] = { K_H, K_W, K_CI, K_CO },
                   sep_keys[] = { K_H, K_W, K_C, K_CO }, ir_keys[] = { K_H, K_W, K_CI, K_CO };
  septune_op *op = &layer->op;
  septune_status st;
  int64_t oh, ow;
  switch (p->op) {
    case OP_DW:
      if ((st = require_all(p, dw_keys, 3, err)) != SEPTUNE_OK) return st;
      op->kind = SEPTUNE_OP_DEPTHWISE;
      return fill_dw(p, -1, p->v[K_C], &op->u.dw, err);
    case OP_PW:
      if ((st = require_all(p, pw_keys, 4, err)) != SEPTUNE_OK) return st;
      op->kind = SEPTUNE_OP_POINTWISE;
      fill_pw(p, -1, 0, p->v[K_H], p->v[K_W], p->v[K_CI], p->v[K_CO], &op->u.pw);
      return SEPTUNE_OK;
    case OP_SEP:
      if ((st = require_all(p, sep_keys, 4, err)) != SEPTUNE_OK) return st;
      op->kind = SEPTUNE_OP_SEPARABLE;
      if ((st = fill_dw(p, 0, p->v[K_C], &op->u.sep.dw, err)) != SEPTUNE_OK) return st;
      dw_out(&op->u.sep.dw, &oh, &ow);
      fill_pw(p, 1, 0, oh, ow, op->u.sep.dw.c * op->u.sep.dw.multiplier, p->v[K_CO], &op->u.sep.pw);
      return SEPTUNE_OK;
    default: {
      int64_t mid = p->v[K_MID];
      if ((st = require_all(p, ir_keys, 4, err)) != SEPTUNE_OK) return st;
      if (p->seen[K_T] == p->seen[K_MID])
        return septune_error_set(err, SEPTUNE_ERR_PARSE, p->seen[K_T] ? "t and mid both given"
                                                                      : "missing key 't' (or mid)");
      if (p->seen[K_T] && p->v[K_T] > INT64_MAX / p->v[K_CI])
        return septune_error_set(err, SEPTUNE_ERR_PARSE, "t: ci*t overflows int64 (ci=%lld, t=%lld)",
                                 (long long)p->v[K_CI], (long long)p->v[K_T]);
      if (p->seen[K_T]) mid = p->v[K_CI] * p->v[K_T];
      op->kind = SEPTUNE_OP_INVERTED_RESIDUAL;
      septune_inverted_residual_desc *b = &op->u.ir;
      fill_pw(p, 0, 0, p->v[K_H], p->v[K_W], p->v[K_CI], mid, &b->expand);
      if ((st = fill_dw(p, 1, mid, &b->dw, err)) != SEPTUNE_OK) return st;
      dw_out(&b->dw, &oh, &ow);
      fill_pw(p, 2, 1, oh, ow, mid * b->dw.multiplier, p->v[K_CO], &b->project);
      b->residual = (int)p->v[K_RESIDUAL];
      return SEPTUNE_OK;
    }
  }
}

septune_status septune_layer_parse(const char *line, septune_layer *layer, septune_error *err)
{
  parsed p;
  const char *s, *e;
  septune_status st;
  if (line == NULL || layer == NULL)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "layer: %s is NULL",
                             line == NULL ? "line" : "layer");
  memset(layer, 0, sizeof(*layer));
  memset(&p, 0, sizeof(p));
  p.pad_mode = PAD_VALID;
  p.act.act = SEPTUNE_ACT_NONE;
  s = skip_space(line);
  if (*s == '\0' || *s == '#') return septune_error_set(err, SEPTUNE_ERR_PARSE, "empty line");
  e = token_end(s);
  if (span_is(s, (size_t)(e - s), "dw"))
    p.op = OP_DW;
  else if (span_is(s, (size_t)(e - s), "pw"))
    p.op = OP_PW;
  else if (span_is(s, (size_t)(e - s), "sep"))
    p.op = OP_SEP;
  else if (span_is(s, (size_t)(e - s), "ir"))
    p.op = OP_IR;
  else
    return septune_error_set(err, SEPTUNE_ERR_PARSE, "unknown op '%.*s' (expected dw, pw, sep or ir)",
                             echo_len((size_t)(e - s)), s);
  for (s = skip_space(e); *s != '\0' && *s != '#'; s = skip_space(e)) {
    e = token_end(s);
    st = parse_token(&p, layer, s, (size_t)(e - s), err);
    if (st != SEPTUNE_OK) return st;
  }
  st = build_op(&p, layer, err);
  if (st != SEPTUNE_OK) return st;
  return septune_op_validate(&layer->op, err);
}

/* ------------------------------------------------------------------------ */
/* Formatting                                                                */

/* "none", ..., or "clamp(min,max)" with bounds that read back exactly. */
static void format_act(char *buf, size_t n, septune_activation act, float lo, float hi)
{
  if (act == SEPTUNE_ACT_CLAMP)
    snprintf(buf, n, "clamp(%.9g,%.9g)", (double)lo, (double)hi);
  else
    snprintf(buf, n, "%s", septune_activation_name(act));
}

/* The depthwise keys of a dw line or a block, "kh=3 kw=3 ... m=1". */
static void format_dw_keys(char *buf, size_t n, const septune_depthwise_desc *d)
{
  snprintf(buf, n, "kh=%lld kw=%lld sh=%lld sw=%lld dh=%lld dw=%lld pad=%lld,%lld,%lld,%lld m=%lld",
           (long long)d->kh, (long long)d->kw, (long long)d->stride_h, (long long)d->stride_w,
           (long long)d->dilation_h, (long long)d->dilation_w, (long long)d->pad_top, (long long)d->pad_left,
           (long long)d->pad_bottom, (long long)d->pad_right, (long long)d->multiplier);
}

/* " <stage>.act=... <stage>.bias=..." */
static void format_stage(char *buf, size_t n, const char *stage, septune_activation act, float lo, float hi,
                         int has_bias)
{
  char a[64];
  format_act(a, sizeof a, act, lo, hi);
  snprintf(buf, n, " %s.act=%s %s.bias=%d", stage, a, stage, has_bias);
}

static int format_block(const septune_op *op, char *buf, size_t buf_size)
{
  char dw[160], st[3][96];
  if (op->kind == SEPTUNE_OP_SEPARABLE) {
    const septune_separable_desc *b = &op->u.sep;
    format_dw_keys(dw, sizeof dw, &b->dw);
    format_stage(st[0], sizeof st[0], "dw", b->dw.act, b->dw.act_min, b->dw.act_max, b->dw.has_bias);
    format_stage(st[1], sizeof st[1], "pw", b->pw.act, b->pw.act_min, b->pw.act_max, b->pw.has_bias);
    return snprintf(buf, buf_size, "sep n=%lld h=%lld w=%lld c=%lld %s co=%lld%s%s", (long long)b->dw.n,
                    (long long)b->dw.h, (long long)b->dw.w, (long long)b->dw.c, dw, (long long)b->pw.co, st[0],
                    st[1]);
  }
  const septune_inverted_residual_desc *b = &op->u.ir;
  format_dw_keys(dw, sizeof dw, &b->dw);
  format_stage(st[0], sizeof st[0], "expand", b->expand.act, b->expand.act_min, b->expand.act_max,
               b->expand.has_bias);
  format_stage(st[1], sizeof st[1], "dw", b->dw.act, b->dw.act_min, b->dw.act_max, b->dw.has_bias);
  format_stage(st[2], sizeof st[2], "project", b->project.act, b->project.act_min, b->project.act_max,
               b->project.has_bias);
  return snprintf(buf, buf_size, "ir n=%lld h=%lld w=%lld ci=%lld mid=%lld co=%lld %s%s%s%s residual=%d",
                  (long long)b->expand.n, (long long)b->expand.h, (long long)b->expand.w, (long long)b->expand.ci,
                  (long long)b->expand.co, (long long)b->project.co, dw, st[0], st[1], st[2], b->residual);
}

int septune_op_format(const septune_op *op, char *buf, size_t buf_size)
{
  char act[64];
  if (septune_op_validate(op, NULL) != SEPTUNE_OK) return -1;
  if (op->kind == SEPTUNE_OP_SEPARABLE || op->kind == SEPTUNE_OP_INVERTED_RESIDUAL)
    return format_block(op, buf, buf_size);
  if (op->kind == SEPTUNE_OP_DEPTHWISE) {
    const septune_depthwise_desc *d = &op->u.dw;
    char dw[160];
    format_act(act, sizeof(act), d->act, d->act_min, d->act_max);
    format_dw_keys(dw, sizeof dw, d);
    return snprintf(buf, buf_size, "dw n=%lld h=%lld w=%lld c=%lld %s act=%s bias=%d", (long long)d->n,
                    (long long)d->h, (long long)d->w, (long long)d->c, dw, act, d->has_bias);
  } else {
    const septune_pointwise_desc *p = &op->u.pw;
    format_act(act, sizeof(act), p->act, p->act_min, p->act_max);
    return snprintf(buf, buf_size, "pw n=%lld h=%lld w=%lld ci=%lld co=%lld act=%s bias=%d",
                    (long long)p->n, (long long)p->h, (long long)p->w, (long long)p->ci,
                    (long long)p->co, act, p->has_bias);
  }
}
