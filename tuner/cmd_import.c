/*
 * cmd_import.c — `septune import`: an ONNX model's depthwise and 1x1
 * convolutions written as a model file (onnx_import.h says what is taken
 * and folded), the nodes it cannot serve listed on stderr.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "model_file.h"
#include "onnx_graph.h"
#include "onnx_import.h"
#include "safe_file.h"

const char cli_import_help[] = "usage: septune import MODEL.onnx [-o FILE]\n"
                               "\n"
                               "Reads an ONNX model and writes its depthwise convolutions (group equal to the\n"
                               "input channels, any multiplier) and 1x1 convolutions as a model file for run,\n"
                               "tune and emit: padding (pads or auto_pad), strides, dilations, the bias with a\n"
                               "following BatchNormalization folded in, and the activation that follows:\n"
                               "Relu, Clip (relu6, clamp), HardSwish and x*HardSigmoid(x) (hswish), HardSigmoid\n"
                               "(hsigmoid), x*Sigmoid(x) (silu), Sigmoid, Gelu and its Erf form (gelu), when\n"
                               "this septune knows the activation. Every other node is listed on stderr with\n"
                               "the reason it was skipped, which is no error. run, tune and emit also take the\n"
                               "ONNX file itself; run then uses the model's own weights.\n"
                               "\n"
                               "  -o, --out FILE  write the model file to FILE, replaced whole (default: stdout)\n"
                               "\n"
                               "The file must hold its weights (no external data) and be at most 1024 MiB.\n"
                               "Exit status: 0 ok, 1 out of memory or the output cannot be written, 2 bad\n"
                               "usage or a file that cannot be imported (not ONNX, truncated, corrupt, no\n"
                               "depthwise or 1x1 convolution, external data, absurd sizes).\n";

static void write_model(FILE *f, const char *path, const onnx_model *m)
{
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  char shown[256];
  onnx_printable(base, shown, sizeof shown);
  fprintf(f, "# %s: imported by septune import (%s, ONNX IR version %lld, opset %lld)\n", shown, m->producer,
          (long long)m->ir_version, (long long)m->opset);
  fprintf(f, "# input %s; %zu layers of %zu nodes, %zu nodes skipped (septune import lists them on stderr)\n",
          m->input[0] ? m->input : "unknown", m->n_layers, m->n_nodes, m->n_skipped);
  fprintf(f, "# Batch norm and the activation after each convolution are folded into its layer; names are the\n"
             "# Conv nodes'. One layer per line: <op> key=value ...; README.md, \"Model files\", has the format.\n");
  for (size_t i = 0; i < m->n_layers; i++) fprintf(f, "%s\n", m->layers[i].line);
}

static int write_to(const char *out, const char *path, const onnx_model *m)
{
  if (!out || !strcmp(out, "-")) {
    write_model(stdout, path, m);
    if (fflush(stdout) == 0) return CLI_OK;
    cli_error("import: cannot write the model file to stdout");
    return CLI_FAILED;
  }
  septune_file_target t;
  septune_file_writer w;
  septune_error err;
  if (septune_file_resolve(out, "import", &t, &err) != SEPTUNE_OK ||
      septune_file_begin(&t, t.exists ? &t.st : NULL, "import", &w, &err) != SEPTUNE_OK) {
    cli_error("%s", err.message);
    return CLI_FAILED;
  }
  write_model(w.f, path, m);
  if (septune_file_commit(&w, "import", &err) != SEPTUNE_OK) {
    cli_error("%s", err.message);
    return CLI_FAILED;
  }
  return CLI_OK;
}

int cmd_import(int argc, char **argv)
{
  enum { OPT_OUT = 'o' };
  static const struct option options[] = {
    { "out", required_argument, NULL, OPT_OUT },
    CLI_HELP_OPTION,
    { NULL, 0, NULL, 0 },
  };
  const char *out = NULL, *path;
  int c;
  cli_getopt_start();
  while ((c = getopt_long(argc, argv, ":ho:", options, NULL)) != -1) {
    switch (c) {
      case CLI_HELP: fputs(cli_import_help, stdout); return CLI_OK;
      case OPT_OUT: out = optarg; break;
      default: return cli_option_error("import", c, argv);
    }
  }
  if (cli_model_arg("import", NULL, argv + optind, argc - optind, &path) != CLI_OK) return CLI_USAGE;
  if (!path) {
    cli_error("import: no ONNX file given (e.g. septune import mobilenet_v2.onnx -o mobilenet_v2.txt)");
    return CLI_USAGE;
  }
  onnx_model m;
  char why[SEPTUNE_ERROR_MESSAGE_SIZE + 4096];
  model_file_status st = model_file_read_onnx(path, &m, why, sizeof why);
  if (st != MODEL_FILE_OK) {
    cli_error("import: %s", why);
    return st == MODEL_FILE_NO_MEMORY ? CLI_FAILED : CLI_USAGE;
  }
  for (size_t i = 0; i < m.n_skipped; i++) {
    const onnx_skipped *s = &m.skipped[i];
    cli_error("import: skipped node %d%s%s%s (%s): %s", s->node, s->name[0] ? " '" : "", s->name, s->name[0] ? "'" : "",
              s->op_type, s->why);
  }
  int rc = write_to(out, path, &m);
  if (rc == CLI_OK)
    cli_error("import: %zu layer%s from %s, %zu node%s skipped%s%s", m.n_layers, m.n_layers == 1 ? "" : "s", path,
              m.n_skipped, m.n_skipped == 1 ? "" : "s", out && strcmp(out, "-") ? ", written to " : "",
              out && strcmp(out, "-") ? out : "");
  onnx_model_free(&m);
  return rc;
}
