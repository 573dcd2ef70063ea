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
 *   both: act=none|relu|relu6|hswish|hsigmoid|sigmoid|silu|gelu|gelu_tanh|clamp(min,max)
 *         bias=0|1  name=...
 *
 * Required: h w c and a kernel size (dw); h w ci co (pw). Defaults: n=1,
 * stride 1, dilation 1, pad=valid, m=1, act=none, bias=0, no name.
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

enum {
  K_N, K_H, K_W, K_C, K_K, K_KH, K_KW, K_S, K_SH, K_SW, K_D, K_DH, K_DW, K_PAD, K_M,
  K_CI, K_CO, K_ACT, K_BIAS, K_NAME, NUM_KEYS
};

static const struct {
  const char *name;
  int ops;   /* OP_DW | OP_PW: the ops that accept the key */
} keys[NUM_KEYS] = {
  {"n", OP_DW | OP_PW}, {"h", OP_DW | OP_PW}, {"w", OP_DW | OP_PW}, {"c", OP_DW},
  {"k", OP_DW}, {"kh", OP_DW}, {"kw", OP_DW}, {"s", OP_DW}, {"sh", OP_DW}, {"sw", OP_DW},
  {"d", OP_DW}, {"dh", OP_DW}, {"dw", OP_DW}, {"pad", OP_DW}, {"m", OP_DW},
  {"ci", OP_PW}, {"co", OP_PW}, {"act", OP_DW | OP_PW}, {"bias", OP_DW | OP_PW},
  {"name", OP_DW | OP_PW},
};

enum { PAD_VALID, PAD_SAME, PAD_EXPLICIT };

/* Everything a line said, before it becomes an op. */
typedef struct parsed {
  int op;                    /* OP_DW or OP_PW */
  int seen[NUM_KEYS];
  int64_t v[NUM_KEYS];       /* integer-valued keys */
  int pad_mode;
  int64_t pad[4];            /* top, left, bottom, right */
  septune_activation act;
  float act_min, act_max;
} parsed;

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

static septune_status parse_act(parsed *p, const char *s, size_t len, septune_error *err)
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

/* Parses one key=value token [s, s+len). */
static septune_status parse_token(parsed *p, septune_layer *layer, const char *s, size_t len,
                                  septune_error *err)
{
  const char *eq = memchr(s, '=', len);
  size_t klen = eq != NULL ? (size_t)(eq - s) : len;
  const char *val = eq != NULL ? eq + 1 : s + len;
  size_t vlen = (size_t)(s + len - val);
  const char *kname;
  int k;
  for (k = 0; k < NUM_KEYS; k++)
    if ((keys[k].ops & p->op) && span_is(s, klen, keys[k].name)) break;
  if (k == NUM_KEYS)
    return septune_error_set(err, SEPTUNE_ERR_PARSE, "unknown key '%.*s'", echo_len(klen), s);
  kname = keys[k].name;
  if (p->seen[k]) return septune_error_set(err, SEPTUNE_ERR_PARSE, "duplicate key '%s'", kname);
  p->seen[k] = 1;
  if (vlen == 0) return septune_error_set(err, SEPTUNE_ERR_PARSE, "%s: missing value", kname);
  switch (k) {
    case K_PAD:
      return parse_pad(p, val, vlen, err);
    case K_ACT:
      return parse_act(p, val, vlen, err);
    case K_NAME:
      if (vlen > sizeof(layer->name) - 1)
        return septune_error_set(err, SEPTUNE_ERR_PARSE, "name: longer than %d characters",
                                 (int)sizeof(layer->name) - 1);
      memcpy(layer->name, val, vlen);
      layer->name[vlen] = '\0';
      return SEPTUNE_OK;
    case K_BIAS: {
      septune_status st = parse_int(kname, val, vlen, 0, &p->v[k], err);
      if (st != SEPTUNE_OK) return st;
      if (p->v[k] > 1)
        return septune_error_set(err, SEPTUNE_ERR_PARSE, "bias: '%.*s' must be 0 or 1",
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

/* Turns what a dw line said into layer->op. */
static septune_status build_dw(parsed *p, septune_layer *layer, septune_error *err)
{
  septune_depthwise_desc *d = &layer->op.u.dw;
  septune_status st;
  if ((st = combine(p, K_K, K_KH, K_KW, err)) != SEPTUNE_OK) return st;
  if ((st = combine(p, K_S, K_SH, K_SW, err)) != SEPTUNE_OK) return st;
  if ((st = combine(p, K_D, K_DH, K_DW, err)) != SEPTUNE_OK) return st;
  if ((st = require(p, K_H, err)) != SEPTUNE_OK) return st;
  if ((st = require(p, K_W, err)) != SEPTUNE_OK) return st;
  if ((st = require(p, K_C, err)) != SEPTUNE_OK) return st;
  if (!p->seen[K_KH] && !p->seen[K_KW])
    return septune_error_set(err, SEPTUNE_ERR_PARSE, "missing key 'k' (or kh and kw)");
  if ((st = require(p, K_KH, err)) != SEPTUNE_OK) return st;
  if ((st = require(p, K_KW, err)) != SEPTUNE_OK) return st;
  layer->op.kind = SEPTUNE_OP_DEPTHWISE;
  septune_depthwise_desc_init(d);
  if (p->seen[K_N]) d->n = p->v[K_N];
  d->h = p->v[K_H];
  d->w = p->v[K_W];
  d->c = p->v[K_C];
  d->kh = p->v[K_KH];
  d->kw = p->v[K_KW];
  if (p->seen[K_SH]) d->stride_h = p->v[K_SH];
  if (p->seen[K_SW]) d->stride_w = p->v[K_SW];
  if (p->seen[K_DH]) d->dilation_h = p->v[K_DH];
  if (p->seen[K_DW]) d->dilation_w = p->v[K_DW];
  if (p->seen[K_M]) d->multiplier = p->v[K_M];
  d->has_bias = (int)p->v[K_BIAS];
  d->act = p->act;
  d->act_min = p->act_min;
  d->act_max = p->act_max;
  if (p->pad_mode == PAD_SAME) return septune_depthwise_pad_same(d, err);
  d->pad_top = p->pad[0];
  d->pad_left = p->pad[1];
  d->pad_bottom = p->pad[2];
  d->pad_right = p->pad[3];
  return SEPTUNE_OK;
}

static septune_status build_pw(parsed *p, septune_layer *layer, septune_error *err)
{
  septune_pointwise_desc *d = &layer->op.u.pw;
  septune_status st;
  if ((st = require(p, K_H, err)) != SEPTUNE_OK) return st;
  if ((st = require(p, K_W, err)) != SEPTUNE_OK) return st;
  if ((st = require(p, K_CI, err)) != SEPTUNE_OK) return st;
  if ((st = require(p, K_CO, err)) != SEPTUNE_OK) return st;
  layer->op.kind = SEPTUNE_OP_POINTWISE;
  septune_pointwise_desc_init(d);
  if (p->seen[K_N]) d->n = p->v[K_N];
  d->h = p->v[K_H];
  d->w = p->v[K_W];
  d->ci = p->v[K_CI];
  d->co = p->v[K_CO];
  d->has_bias = (int)p->v[K_BIAS];
  d->act = p->act;
  d->act_min = p->act_min;
  d->act_max = p->act_max;
  return SEPTUNE_OK;
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
  p.act = SEPTUNE_ACT_NONE;
  s = skip_space(line);
  if (*s == '\0' || *s == '#') return septune_error_set(err, SEPTUNE_ERR_PARSE, "empty line");
  e = token_end(s);
  if (span_is(s, (size_t)(e - s), "dw"))
    p.op = OP_DW;
  else if (span_is(s, (size_t)(e - s), "pw"))
    p.op = OP_PW;
  else
    return septune_error_set(err, SEPTUNE_ERR_PARSE, "unknown op '%.*s' (expected dw or pw)",
                             echo_len((size_t)(e - s)), s);
  for (s = skip_space(e); *s != '\0' && *s != '#'; s = skip_space(e)) {
    e = token_end(s);
    st = parse_token(&p, layer, s, (size_t)(e - s), err);
    if (st != SEPTUNE_OK) return st;
  }
  st = p.op == OP_DW ? build_dw(&p, layer, err) : build_pw(&p, layer, err);
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

int septune_op_format(const septune_op *op, char *buf, size_t buf_size)
{
  char act[64];
  if (septune_op_validate(op, NULL) != SEPTUNE_OK) return -1;
  if (op->kind == SEPTUNE_OP_DEPTHWISE) {
    const septune_depthwise_desc *d = &op->u.dw;
    format_act(act, sizeof(act), d->act, d->act_min, d->act_max);
    return snprintf(buf, buf_size,
                    "dw n=%lld h=%lld w=%lld c=%lld kh=%lld kw=%lld sh=%lld sw=%lld dh=%lld "
                    "dw=%lld pad=%lld,%lld,%lld,%lld m=%lld act=%s bias=%d",
                    (long long)d->n, (long long)d->h, (long long)d->w, (long long)d->c,
                    (long long)d->kh, (long long)d->kw, (long long)d->stride_h,
                    (long long)d->stride_w, (long long)d->dilation_h, (long long)d->dilation_w,
                    (long long)d->pad_top, (long long)d->pad_left, (long long)d->pad_bottom,
                    (long long)d->pad_right, (long long)d->multiplier, act, d->has_bias);
  } else {
    const septune_pointwise_desc *p = &op->u.pw;
    format_act(act, sizeof(act), p->act, p->act_min, p->act_max);
    return snprintf(buf, buf_size, "pw n=%lld h=%lld w=%lld ci=%lld co=%lld act=%s bias=%d",
                    (long long)p->n, (long long)p->h, (long long)p->w, (long long)p->ci,
                    (long long)p->co, act, p->has_bias);
  }
}
