/*
 * onnx_import.c — the depthwise and 1x1 convolutions of an ONNX model as
 * septune layers with their weights (see onnx_import.h).
 *
 * Each layer is written as a layer line and parsed back by
 * septune_layer_parse, so what the importer hands over is exactly what
 * `septune import` writes, validated as any model file is.
 */
#include "onnx_import.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_activation.h"
#include "onnx_graph.h"
#include "onnx_proto.h"

/* The importer's state over one graph. */
typedef struct importer {
  onnx_graph gr;
  const Onnx__GraphProto *g;
  char **skip_why;     /* per node: why it was skipped (malloc'd), NULL when not (yet) */
  unsigned char *done; /* per node: 1 when imported or folded into a layer */
  onnx_model *m;
  size_t layers_cap;
} importer;

/* Outcome of one Conv node. */
enum { CONV_IMPORTED, CONV_SKIPPED, CONV_ERROR, CONV_NO_MEMORY };

static char *dup_printable(const char *s)
{
  size_t n = (s ? strlen(s) : 0) + 1;
  char *d = malloc(n);
  if (d) onnx_printable(s, d, n);
  return d;
}

static const char *node_name(const Onnx__NodeProto *n, char *buf, size_t size)
{
  onnx_printable(n->name, buf, size);
  return buf;
}

/* Records why node i is skipped; the first reason stands. Returns
 * CONV_SKIPPED, or CONV_NO_MEMORY. */
static int skip(importer *im, size_t i, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int skip(importer *im, size_t i, const char *fmt, ...)
{
  if (im->skip_why[i]) return CONV_SKIPPED;
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  im->skip_why[i] = strdup(buf);
  return im->skip_why[i] ? CONV_SKIPPED : CONV_NO_MEMORY;
}

/* Checks that v is a constant of `count` floats: 0, or -1 with why. */
static int constant_floats(const onnx_value *v, size_t count, const char *what, char *why, size_t why_size)
{
  size_t have;
  char shown[80];
  if (!v || !v->constant) {
    onnx_printable(v ? v->name : "", shown, sizeof shown);
    snprintf(why, why_size, "its %s '%s' is not a constant of the file", what, shown);
    return -1;
  }
  if (onnx_tensor_check_floats(v->constant, &have, why, why_size) != 0) return -1;
  if (have != count) {
    onnx_printable(v->name, shown, sizeof shown);
    snprintf(why, why_size, "its %s '%s' has %zu values, not %zu", what, shown, have, count);
    return -1;
  }
  return 0;
}

/* BatchNormalization node b consuming the convolution's output, folded into
 * scale and shift per output channel: y = x * scale + shift. */
static int batch_norm(const onnx_graph *gr, const Onnx__NodeProto *b, int64_t co, float **scale, float **shift,
                      char *why, size_t why_size)
{
  const onnx_value *p[4]; /* gamma, beta, mean, var */
  float *v[4] = { NULL, NULL, NULL, NULL };
  static const char *const what[4] = { "scale", "bias", "mean", "variance" };
  int rc = -1;
  for (int k = 0; k < 4; k++) {
    p[k] = onnx_graph_input(gr, b, (size_t)k + 1);
    if (constant_floats(p[k], (size_t)co, what[k], why, why_size) != 0) goto done;
  }
  for (int k = 0; k < 4; k++) {
    if (!(v[k] = malloc((size_t)co * sizeof(float)))) {
      snprintf(why, why_size, "out of memory");
      goto done;
    }
    onnx_tensor_copy_floats(p[k]->constant, v[k], (size_t)co);
  }
  float eps = onnx_attr_float(b, "epsilon", 1e-5f);
  for (int64_t o = 0; o < co; o++) {
    double s = v[0][o] / sqrt((double)v[3][o] + eps);
    v[0][o] = (float)s;
    v[1][o] = (float)(v[1][o] - v[2][o] * s);
  }
  *scale = v[0];
  *shift = v[1];
  v[0] = v[1] = NULL;
  rc = 0;
done:
  for (int k = 0; k < 4; k++) free(v[k]);
  return rc;
}

/* The padding as a model file says it: valid, same (TensorFlow's, when the
 * numbers are those), else t,l,b,r. */
static void pad_text(const onnx_window *win, int64_t h, int64_t w, char *buf, size_t size)
{
  septune_depthwise_desc d;
  septune_depthwise_desc_init(&d);
  d.h = h;
  d.w = w;
  d.kh = win->kh;
  d.kw = win->kw;
  d.stride_h = win->sh;
  d.stride_w = win->sw;
  d.dilation_h = win->dh;
  d.dilation_w = win->dw;
  if (!win->pad_top && !win->pad_left && !win->pad_bottom && !win->pad_right) {
    snprintf(buf, size, "valid");
    return;
  }
  if (septune_depthwise_pad_same(&d, NULL) == SEPTUNE_OK && d.pad_top == win->pad_top && d.pad_left == win->pad_left &&
      d.pad_bottom == win->pad_bottom && d.pad_right == win->pad_right) {
    snprintf(buf, size, "same");
    return;
  }
  snprintf(buf, size, "%lld,%lld,%lld,%lld", (long long)win->pad_top, (long long)win->pad_left,
           (long long)win->pad_bottom, (long long)win->pad_right);
}

/* What a Conv node is, as far as the line goes. */
typedef struct conv_shape {
  int depthwise;
  int64_t n, h, w, c, co, m;
  onnx_window win;
} conv_shape;

static void layer_line(const conv_shape *s, const char *name, const char *act, int bias, char *buf, size_t size)
{
  char batch[32] = "", k[48], st[48], dil[48] = "", pad[96], mult[32] = "";
  if (s->n != 1) snprintf(batch, sizeof batch, " n=%lld", (long long)s->n);
  if (!s->depthwise) {
    snprintf(buf, size, "pw  name=%s%s h=%lld w=%lld ci=%lld co=%lld act=%s bias=%d", name, batch, (long long)s->h,
             (long long)s->w, (long long)s->c, (long long)s->co, act, bias);
    return;
  }
  const onnx_window *win = &s->win;
  if (win->kh == win->kw) snprintf(k, sizeof k, "k=%lld", (long long)win->kh);
  else snprintf(k, sizeof k, "kh=%lld kw=%lld", (long long)win->kh, (long long)win->kw);
  if (win->sh == win->sw) snprintf(st, sizeof st, "s=%lld", (long long)win->sh);
  else snprintf(st, sizeof st, "sh=%lld sw=%lld", (long long)win->sh, (long long)win->sw);
  if (win->dh != win->dw) snprintf(dil, sizeof dil, " dh=%lld dw=%lld", (long long)win->dh, (long long)win->dw);
  else if (win->dh != 1) snprintf(dil, sizeof dil, " d=%lld", (long long)win->dh);
  if (s->m != 1) snprintf(mult, sizeof mult, " m=%lld", (long long)s->m);
  pad_text(win, s->h, s->w, pad, sizeof pad);
  snprintf(buf, size, "dw  name=%s%s h=%lld w=%lld c=%lld %s %s%s pad=%s%s act=%s bias=%d", name, batch,
           (long long)s->h, (long long)s->w, (long long)s->c, k, st, dil, pad, mult, act, bias);
}

/* Works out whether Conv node i (input x, weights wt) is a layer septune
 * serves. Returns CONV_IMPORTED with *s filled, or the skip. */
static int classify(importer *im, size_t i, const onnx_value *x, const onnx_value *wt, conv_shape *s)
{
  const Onnx__NodeProto *n = im->g->node[i];
  char why[200];
  if (!x || x->shape.rank != 4) return skip(im, i, "its input's shape is unknown or not 4-D (NCHW)");
  if (!wt || !wt->constant) return skip(im, i, "its weights are not a constant of the file");
  if (wt->constant->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
    return skip(im, i, "its weights are of ONNX data type %d, not float (1)", (int)wt->constant->data_type);
  if (wt->shape.rank != 4) return skip(im, i, "not a 2-D convolution (weights of rank %d)", wt->shape.rank);
  const int64_t *xd = x->shape.dim, *wd = wt->shape.dim;
  if (xd[1] < 1 || xd[2] < 1 || xd[3] < 1)
    return skip(im, i, "its input's channels, height or width are unknown (symbolic): export with a fixed size");
  int64_t group = onnx_attr_int(n, "group", 1), c = xd[1], co = wd[0];
  if (group < 1 || c % group != 0 || wd[1] != c / group || co < 1 || co % group != 0)
    return skip(im, i, "weights %lldx%lldx%lldx%lld do not fit %lld input channels in %lld groups", (long long)wd[0],
                (long long)wd[1], (long long)wd[2], (long long)wd[3], (long long)c, (long long)group);
  int64_t ks[2];
  size_t nk;
  if (onnx_attr_ints(n, "kernel_shape", 0, 0, ks, 2, &nk) != 0 || (nk && (nk != 2 || ks[0] != wd[2] || ks[1] != wd[3])))
    return skip(im, i, "kernel_shape does not match its weights");
  if (onnx_window_of(n, xd[2], xd[3], wd[2], wd[3], &s->win, why, sizeof why) != 0) return skip(im, i, "%s", why);
  *s = (conv_shape){ .n = xd[0] > 0 ? xd[0] : 1, .h = xd[2], .w = xd[3], .c = c, .co = co, .m = 1, .win = s->win };
  const onnx_window *win = &s->win;
  int unpadded = !win->pad_top && !win->pad_left && !win->pad_bottom && !win->pad_right;
  if (group == 1 && win->kh == 1 && win->kw == 1) {
    if (win->sh != 1 || win->sw != 1 || !unpadded)
      return skip(im, i, "a 1x1 convolution with stride %lldx%lld or padding: septune's pointwise layers have neither",
                  (long long)win->sh, (long long)win->sw);
    return CONV_IMPORTED;
  }
  if (group == c) {
    s->depthwise = 1;
    s->m = co / c;
    return CONV_IMPORTED;
  }
  if (group == 1)
    return skip(im, i, "a full %lldx%lld convolution (group 1): neither depthwise nor 1x1", (long long)wd[2],
                (long long)wd[3]);
  return skip(im, i, "a grouped convolution (%lld groups of %lld channels): neither depthwise nor 1x1",
              (long long)group, (long long)(c / group));
}

static int add_layer(importer *im, onnx_layer *l)
{
  onnx_model *m = im->m;
  if (m->n_layers == im->layers_cap) {
    size_t cap = im->layers_cap ? 2 * im->layers_cap : 32;
    onnx_layer *grown = realloc(m->layers, cap * sizeof *grown);
    if (!grown) return -1;
    m->layers = grown;
    im->layers_cap = cap;
  }
  m->layers[m->n_layers++] = *l;
  return 0;
}

static void free_layer(onnx_layer *l)
{
  free(l->weights);
  free(l->bias);
  free(l->node_name);
  free(l->input);
  free(l->output);
}

/* The weights in the canonical layout with the batch norm's scale folded
 * in, and the bias with its shift (a bias of zeros when the Conv has none). */
static int layer_tensors(const onnx_value *wt, const onnx_value *b, const float *scale, const float *shift,
                         onnx_layer *l, char *why, size_t why_size)
{
  const septune_op *op = &l->layer.op;
  size_t nw, nb, count, per_out;
  int64_t co = op->kind == SEPTUNE_OP_DEPTHWISE ? op->u.dw.c * op->u.dw.multiplier : op->u.pw.co;
  septune_error err;
  if (septune_op_tensor_sizes(op, NULL, NULL, &nw, &nb, &err) != SEPTUNE_OK) {
    snprintf(why, why_size, "%s", err.message);
    return CONV_ERROR;
  }
  if (onnx_tensor_check_floats(wt->constant, &count, why, why_size) != 0) return CONV_ERROR;
  if (count != nw) {
    snprintf(why, why_size, "its weights have %zu values, the layer %zu", count, nw);
    return CONV_ERROR;
  }
  if (b && constant_floats(b, (size_t)co, "bias", why, why_size) != 0) return CONV_ERROR;
  int has_bias = op->kind == SEPTUNE_OP_DEPTHWISE ? op->u.dw.has_bias : op->u.pw.has_bias;
  float *oihw = malloc(count * sizeof(float));
  l->weights = malloc(count * sizeof(float));
  if (has_bias) l->bias = calloc((size_t)co, sizeof(float));
  if (!oihw || !l->weights || (has_bias && !l->bias)) {
    free(oihw);
    snprintf(why, why_size, "out of memory for the layer's weights");
    return CONV_NO_MEMORY;
  }
  onnx_tensor_copy_floats(wt->constant, oihw, count);
  if (b) onnx_tensor_copy_floats(b->constant, l->bias, (size_t)co);
  per_out = count / (size_t)co;
  if (scale) {
    for (int64_t o = 0; o < co; o++) {
      for (size_t k = 0; k < per_out; k++) oihw[(size_t)o * per_out + k] *= scale[o];
      l->bias[o] = l->bias[o] * scale[o] + shift[o];
    }
  }
  septune_status st = septune_weights_from_pytorch(op, oihw, l->weights, &err);
  free(oihw);
  if (st != SEPTUNE_OK) {
    snprintf(why, why_size, "%s", err.message);
    return CONV_ERROR;
  }
  return CONV_IMPORTED;
}

/* Conv node i: imported as a layer with what follows it folded in, or
 * skipped with the reason recorded. CONV_ERROR and CONV_NO_MEMORY stop the
 * import with why. */
static int import_conv(importer *im, size_t i, char *why, size_t why_size)
{
  const onnx_graph *gr = &im->gr;
  const Onnx__NodeProto *n = im->g->node[i];
  const onnx_value *x = onnx_graph_input(gr, n, 0), *wt = onnx_graph_input(gr, n, 1), *b = onnx_graph_input(gr, n, 2);
  conv_shape s;
  int rc = classify(im, i, x, wt, &s);
  if (rc != CONV_IMPORTED) return rc;
  if (n->n_input > 2 && n->input[2] && *n->input[2] && (!b || !b->constant))
    return skip(im, i, "its bias is not a constant of the file");
  int y_index = n->n_output ? onnx_graph_find(gr, n->output[0]) : -1;
  if (y_index < 0) return skip(im, i, "it has no output");
  const onnx_value *y = &gr->values[y_index];

  /* A batch norm of the output alone folds into weights and bias. */
  float *scale = NULL, *shift = NULL;
  int bn = onnx_graph_sole_consumer(gr, y);
  if (bn >= 0) {
    const Onnx__NodeProto *bnode = im->g->node[bn];
    int by_index = bnode->n_output ? onnx_graph_find(gr, bnode->output[0]) : -1;
    const onnx_value *by = by_index >= 0 ? &gr->values[by_index] : NULL;
    char bwhy[200];
    if (strcmp(bnode->op_type ? bnode->op_type : "", "BatchNormalization") != 0 || bnode->n_output != 1 || !by ||
        onnx_graph_input(gr, bnode, 0) != y)
      bn = -1;
    else if (batch_norm(gr, bnode, s.co, &scale, &shift, bwhy, sizeof bwhy) != 0) {
      char shown[80];
      rc = skip(im, (size_t)bn, "batch norm not folded into Conv '%s': %s", node_name(n, shown, sizeof shown), bwhy);
      if (rc == CONV_NO_MEMORY) return rc;
      bn = -1;
    } else {
      y = by;
    }
  }

  onnx_activation act;
  int has_act = onnx_match_activation(gr, y, &act);
  char name[64], line[SEPTUNE_OP_LINE_SIZE];
  onnx_printable(n->name, name, sizeof name);
  if (!name[0]) snprintf(name, sizeof name, "node%zu", i + 1);
  int bias = b || bn >= 0;
  septune_error err;
  onnx_layer l = { .node = (int)i + 1 };
  layer_line(&s, name, has_act ? act.name : "none", bias, line, sizeof line);
  septune_status st = septune_layer_parse(line, &l.layer, &err);
  if (st != SEPTUNE_OK && has_act && !strncmp(err.message, "act", 3)) {
    /* An activation this septune does not know yet: the layer without it,
     * the activation's nodes listed. */
    for (int k = 0; k < act.n_nodes; k++) {
      rc = skip(im, (size_t)act.nodes[k],
                "activation '%s' after Conv '%s' is unknown to this septune: the layer "
                "is written without it",
                act.name, name);
      if (rc == CONV_NO_MEMORY) goto out;
    }
    has_act = 0;
    layer_line(&s, name, "none", bias, line, sizeof line);
    st = septune_layer_parse(line, &l.layer, &err);
  }
  if (st != SEPTUNE_OK) {
    snprintf(why, why_size, "Conv '%s' (node %zu): %s", name, i + 1, err.message);
    rc = CONV_ERROR;
    goto out;
  }
  snprintf(l.line, sizeof l.line, "%s", line);
  rc = layer_tensors(wt, b, scale, shift, &l, why, why_size);
  if (rc == CONV_ERROR) {
    char msg[SEPTUNE_ERROR_MESSAGE_SIZE];
    snprintf(msg, sizeof msg, "%s", why);
    snprintf(why, why_size, "Conv '%s' (node %zu): %s", name, i + 1, msg);
  }
  if (rc != CONV_IMPORTED) goto out;
  const onnx_value *last = has_act ? act.output : y;
  l.node_name = dup_printable(n->name);
  l.input = dup_printable(x->name);
  l.output = dup_printable(last->name);
  if (!l.node_name || !l.input || !l.output || add_layer(im, &l) != 0) {
    snprintf(why, why_size, "out of memory");
    rc = CONV_NO_MEMORY;
    goto out;
  }
  memset(&l, 0, sizeof l); /* the model owns its arrays now */
  im->done[i] = 1;
  if (bn >= 0) im->done[bn] = 1;
  for (int k = 0; has_act && k < act.n_nodes; k++) im->done[act.nodes[k]] = 1;
out:
  free_layer(&l);
  free(scale);
  free(shift);
  return rc;
}

/* Constants and Identity nodes passing constants on are the model's data,
 * not operations to list. */
static int is_data(const onnx_graph *gr, const Onnx__NodeProto *n)
{
  if (!n->op_type) return 0;
  if (!strcmp(n->op_type, "Constant")) return 1;
  const onnx_value *in = onnx_graph_input(gr, n, 0);
  return !strcmp(n->op_type, "Identity") && in && in->constant;
}

static int list_skipped(importer *im)
{
  onnx_model *m = im->m;
  size_t count = 0;
  for (size_t i = 0; i < im->g->n_node; i++)
    if (!im->done[i] && !is_data(&im->gr, im->g->node[i])) count++;
  m->skipped = calloc(count ? count : 1, sizeof *m->skipped);
  if (!m->skipped) return -1;
  for (size_t i = 0; i < im->g->n_node; i++) {
    const Onnx__NodeProto *n = im->g->node[i];
    if (im->done[i] || is_data(&im->gr, n)) continue;
    onnx_skipped *s = &m->skipped[m->n_skipped++];
    s->node = (int)i + 1;
    s->name = dup_printable(n->name);
    s->op_type = dup_printable(n->op_type);
    s->why = im->skip_why[i]
                 ? im->skip_why[i]
                 : strdup(!strcmp(n->op_type ? n->op_type : "", "Conv") ? "not imported"
                                                                        : "not a convolution septune serves");
    im->skip_why[i] = NULL;
    if (!s->name || !s->op_type || !s->why) return -1;
  }
  return 0;
}

/* What the header of an imported model file says. */
static void describe(const Onnx__ModelProto *mp, const onnx_graph *gr, onnx_model *m)
{
  char name[64], version[32];
  onnx_printable(mp->producer_name, name, sizeof name);
  onnx_printable(mp->producer_version, version, sizeof version);
  snprintf(m->producer, sizeof m->producer, "%s%s%s", name[0] ? name : "unknown", version[0] ? " " : "", version);
  m->ir_version = mp->has_ir_version ? mp->ir_version : 0;
  const Onnx__GraphProto *g = mp->graph;
  for (size_t i = 0; i < g->n_input; i++) {
    int x = onnx_graph_find(gr, g->input[i]->name);
    if (x < 0 || gr->values[x].constant) continue; /* old exporters list initializers as inputs */
    const onnx_shape *s = &gr->values[x].shape;
    onnx_printable(g->input[i]->name, name, sizeof name);
    size_t at = (size_t)snprintf(m->input, sizeof m->input, "%s ", name);
    for (int k = 0; k < s->rank && at < sizeof m->input; k++)
      at += (size_t)snprintf(m->input + at, sizeof m->input - at, s->dim[k] >= 0 ? "%s%lld" : "%s?", k ? "x" : "",
                             (long long)s->dim[k]);
    break;
  }
}

static int64_t default_opset(const Onnx__ModelProto *mp)
{
  for (size_t i = 0; i < mp->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
    if ((!o->domain || !*o->domain || !strcmp(o->domain, "ai.onnx")) && o->has_version) return o->version;
  }
  return -1;
}

void onnx_model_free(onnx_model *m)
{
  for (size_t i = 0; i < m->n_layers; i++) free_layer(&m->layers[i]);
  for (size_t i = 0; i < m->n_skipped; i++) {
    free(m->skipped[i].name);
    free(m->skipped[i].op_type);
    free(m->skipped[i].why);
  }
  free(m->layers);
  free(m->skipped);
  memset(m, 0, sizeof *m);
}

static onnx_import_status import_graph(const Onnx__ModelProto *mp, onnx_model *m, char *why, size_t why_size)
{
  importer im = { .g = mp->graph, .m = m };
  const Onnx__GraphProto *g = mp->graph;
  if (onnx_graph_build(&im.gr, g, why, why_size) != 0) return ONNX_IMPORT_INVALID;
  onnx_import_status rc = ONNX_IMPORT_OK;
  size_t convs = 0;
  im.skip_why = calloc(g->n_node ? g->n_node : 1, sizeof *im.skip_why);
  im.done = calloc(g->n_node ? g->n_node : 1, 1);
  if (!im.skip_why || !im.done) {
    snprintf(why, why_size, "out of memory");
    rc = ONNX_IMPORT_NO_MEMORY;
    goto out;
  }
  m->n_nodes = g->n_node;
  m->opset = default_opset(mp);
  for (size_t i = 0; i < g->n_node && rc == ONNX_IMPORT_OK; i++) {
    const Onnx__NodeProto *n = g->node[i];
    if (!n->op_type || strcmp(n->op_type, "Conv") != 0 || (n->domain && *n->domain && strcmp(n->domain, "ai.onnx")))
      continue;
    convs++;
    int c = import_conv(&im, i, why, why_size);
    if (c == CONV_ERROR) rc = ONNX_IMPORT_INVALID;
    if (c == CONV_NO_MEMORY) rc = ONNX_IMPORT_NO_MEMORY;
  }
  /* BLOCK FORMS. When septune gains the separable and inverted-residual
   * ops, this is where runs of layers become blocks: layer k+1 reading
   * layer k's output (layers[k].output == layers[k+1].input, that value
   * consumed by nothing else) makes a chain; pw(expand) -> dw -> pw(project)
   * is an inverted residual, and an Add of the chain's output with its
   * input (both read by it, and the Add's other reader is the chain) is its
   * residual; dw -> pw is a separable block. Write the block's line in
   * place of its layers' lines and mark the Add as folded. */
  if (rc == ONNX_IMPORT_OK && m->n_layers == 0) {
    /* Say why the first Conv was not taken, if there was one. */
    const char *first = NULL;
    for (size_t i = 0; i < g->n_node && !first; i++) first = im.skip_why[i];
    snprintf(why, why_size, "no depthwise or 1x1 convolution in the model (%zu nodes, %zu of them Conv)%s%s", g->n_node,
             convs, first ? "; the first Conv: " : "", first ? first : "");
    rc = ONNX_IMPORT_INVALID;
  }
  if (rc == ONNX_IMPORT_OK && list_skipped(&im) != 0) {
    snprintf(why, why_size, "out of memory");
    rc = ONNX_IMPORT_NO_MEMORY;
  }
  if (rc == ONNX_IMPORT_OK) describe(mp, &im.gr, m);
out:
  for (size_t i = 0; im.skip_why && i < g->n_node; i++) free(im.skip_why[i]);
  free(im.skip_why);
  free(im.done);
  onnx_graph_free(&im.gr);
  if (rc != ONNX_IMPORT_OK) onnx_model_free(m);
  return rc;
}

onnx_import_status onnx_import(const void *buf, size_t len, onnx_model *m, char *why, size_t why_size)
{
  onnx_proto p;
  memset(m, 0, sizeof *m);
  onnx_proto_status ps = onnx_proto_parse(&p, buf, len, why, why_size);
  if (ps != ONNX_PROTO_OK) return ps == ONNX_PROTO_NO_MEMORY ? ONNX_IMPORT_NO_MEMORY : ONNX_IMPORT_INVALID;
  onnx_import_status rc = ONNX_IMPORT_INVALID;
  if (!p.model->graph) {
    snprintf(why, why_size, "not an ONNX model: it holds no graph");
  } else if (default_opset(p.model) < 1) {
    snprintf(why, why_size, "not an ONNX model: no opset of the ONNX domain (a truncated file?)");
  } else {
    rc = import_graph(p.model, m, why, why_size);
    m->parse_peak = p.peak;
  }
  onnx_proto_free(&p);
  return rc;
}
