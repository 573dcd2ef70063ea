/*
 * generator.c — hosts LuaJIT and calls generator/septune_gen.lua.
 */
#include "generator.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <luajit.h>

#include "act_consts.h"
#include "internal.h"
#include "lua_root.h"

/* Lua errors raised on purpose for a bad knob string, or for a shape an
 * ISA's kernels cannot serve, start with these, so they map to
 * SEPTUNE_ERR_UNSUPPORTED rather than to a generator fault. */
#define KNOB_ERROR_PREFIX "knobs: "
#define UNSUPPORTED_ERROR_PREFIX "unsupported: "

static pthread_mutex_t gen_lock = PTHREAD_MUTEX_INITIALIZER;
static lua_State *gen_state;

/* septune_host.pw_tile_score(pixels, co, mr, vectors, nr, streaming). */
static int host_pw_tile_score(lua_State *L)
{
  lua_pushnumber(L, septune_pw_tile_score(luaL_checknumber(L, 1), luaL_checknumber(L, 2), luaL_checknumber(L, 3),
                                          luaL_checknumber(L, 4), luaL_checknumber(L, 5), lua_toboolean(L, 6)));
  return 1;
}

/* septune_host.threads_worth(flops, threads). */
static int host_threads_worth(lua_State *L)
{
  lua_pushinteger(L, septune_threads_worth(luaL_checknumber(L, 1), (int)luaL_checkinteger(L, 2)));
  return 1;
}

static void set_size(lua_State *L, const char *key, size_t v)
{
  lua_pushnumber(L, (lua_Number)v);
  lua_setfield(L, -2, key);
}

/* Pushes the cache budgets as septune_gen's opts.hw wants them. */
static void push_hw(lua_State *L, const septune_cache_budget *b)
{
  lua_createtable(L, 0, 6);
  set_size(L, "l1d", b->caches.l1d);
  set_size(L, "l2", b->caches.l2);
  set_size(L, "l3", b->caches.l3);
  set_size(L, "resident", b->resident);
  set_size(L, "panel", b->panel);
  set_size(L, "m_block", b->m_block);
}

/* Pushes the activations' constants (act_consts.h) by name. */
static void push_act_consts(lua_State *L)
{
  lua_createtable(L, 0, 32);
#define PUSH_CONST(name, value) \
  lua_pushnumber(L, (lua_Number)(value));  \
  lua_setfield(L, -2, #name);
  SEPTUNE_ACT_CONSTS(PUSH_CONST)
#undef PUSH_CONST
}

void septune_gen_preload_host(lua_State *L)
{
  septune_cache_budget own;
  septune_cpu_cache_budget(&own);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "loaded");
  lua_createtable(L, 0, 6);
  lua_pushinteger(L, SEPTUNE_KERNEL_PACK_LANES);
  lua_setfield(L, -2, "pack_lanes");
  lua_pushcfunction(L, host_pw_tile_score);
  lua_setfield(L, -2, "pw_tile_score");
  lua_pushcfunction(L, host_threads_worth);
  lua_setfield(L, -2, "threads_worth");
  lua_pushinteger(L, SEPTUNE_MAX_THREADS);
  lua_setfield(L, -2, "threads_max");
  push_hw(L, &own);
  lua_setfield(L, -2, "hw");
  push_act_consts(L);
  lua_setfield(L, -2, "act_consts");
  lua_setfield(L, -2, "septune_host");
  lua_pop(L, 2);
}

/* Creates the state and loads septune_gen into the registry. Called with the
 * lock held. On failure leaves gen_state NULL and describes why. */
static septune_status open_state(septune_error *err)
{
  char root[SEPTUNE_LUA_ROOT_PATH_SIZE];
  septune_status st = septune_lua_root(root, sizeof root, err);
  if (st != SEPTUNE_OK) return st;
  lua_State *L = luaL_newstate();
  if (!L)
    return septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "generator: cannot create a Lua state");
  luaL_openlibs(L);
  /* The generator runs each template a handful of times per plan: LuaJIT's
   * trace compiler never pays for itself there, and every trace it compiles
   * costs two mprotect calls (TLB flushes, slow on a VM). The interpreter
   * alone creates plans 2.5x faster (test_depthwise, 60 shapes: 36.6 s ->
   * 14.4 s, of which 19 s of system time -> 0.4 s). */
  luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);

  lua_getglobal(L, "package");
  lua_pushfstring(L, "%s/generator/?.lua;%s/templates/?.lua", root, root);
  lua_setfield(L, -2, "path");
  lua_pop(L, 1);
  lua_pushstring(L, root);
  lua_setglobal(L, "SEPTUNE_LUA_ROOT");
  septune_gen_preload_host(L);

  lua_getglobal(L, "require");
  lua_pushliteral(L, "septune_gen");
  if (lua_pcall(L, 1, 1, 0) != 0) {
    septune_error_set(err, SEPTUNE_ERR_GENERATOR, "generator: cannot load septune_gen from %s: %s", root,
                      lua_tostring(L, -1));
    lua_close(L);
    return SEPTUNE_ERR_GENERATOR;
  }
  lua_setfield(L, LUA_REGISTRYINDEX, "septune_gen");
  gen_state = L;
  return SEPTUNE_OK;
}

static void set_int(lua_State *L, const char *key, int64_t v)
{
  lua_pushnumber(L, (lua_Number)v);
  lua_setfield(L, -2, key);
}

static void set_num(lua_State *L, const char *key, double v)
{
  lua_pushnumber(L, v);
  lua_setfield(L, -2, key);
}

/* Pushes the op as a table with the field names of septune.h, with n = 1
 * (kernels are for one image). */
static void push_op(lua_State *L, const septune_op *batch)
{
  septune_op one, *op = &one;
  septune_op_one_image(batch, &one);
  lua_createtable(L, 0, 20);
  if (op->kind == SEPTUNE_OP_DEPTHWISE) {
    const septune_depthwise_desc *d = &op->u.dw;
    lua_pushliteral(L, "dw");
    lua_setfield(L, -2, "kind");
    set_int(L, "n", d->n); set_int(L, "h", d->h); set_int(L, "w", d->w); set_int(L, "c", d->c);
    set_int(L, "kh", d->kh); set_int(L, "kw", d->kw);
    set_int(L, "sh", d->stride_h); set_int(L, "sw", d->stride_w);
    set_int(L, "dil_h", d->dilation_h); set_int(L, "dil_w", d->dilation_w);
    set_int(L, "pt", d->pad_top); set_int(L, "pl", d->pad_left);
    set_int(L, "pb", d->pad_bottom); set_int(L, "pr", d->pad_right);
    set_int(L, "m", d->multiplier);
    set_int(L, "bias", d->has_bias);
    lua_pushstring(L, septune_activation_name(d->act));
    lua_setfield(L, -2, "act");
    set_num(L, "act_min", d->act_min); set_num(L, "act_max", d->act_max);
  } else {
    const septune_pointwise_desc *p = &op->u.pw;
    lua_pushliteral(L, "pw");
    lua_setfield(L, -2, "kind");
    set_int(L, "n", p->n); set_int(L, "h", p->h); set_int(L, "w", p->w);
    set_int(L, "ci", p->ci); set_int(L, "co", p->co);
    set_int(L, "bias", p->has_bias);
    lua_pushstring(L, septune_activation_name(p->act));
    lua_setfield(L, -2, "act");
    set_num(L, "act_min", p->act_min); set_num(L, "act_max", p->act_max);
  }
  char line[SEPTUNE_OP_LINE_SIZE];
  int len = septune_op_format(op, line, sizeof line);
  if (len > 0 && (size_t)len < sizeof line) {
    lua_pushstring(L, line);
    lua_setfield(L, -2, "line");
  }
}

/* Pushes the options table of septune_gen's functions: { hw = budgets,
 * threads =, resplit =, prefix = } (prefix NULL: none). */
static void push_opts(lua_State *L, const septune_cache_budget *b, const septune_gen_request *req)
{
  lua_createtable(L, 0, 4);
  push_hw(L, b);
  lua_setfield(L, -2, "hw");
  lua_pushinteger(L, req->threads > 0 ? req->threads : 1);
  lua_setfield(L, -2, "threads");
  lua_pushboolean(L, req->resplit);
  lua_setfield(L, -2, "resplit");
  if (req->prefix) {
    lua_pushstring(L, req->prefix);
    lua_setfield(L, -2, "prefix");
  }
}

/* Calls septune_gen[name](op, isa, req->knobs, opts) leaving `nresults`
 * results on the stack. Called with the lock held and the state open. */
static septune_status call_gen(lua_State *L, const char *name, const septune_op *op, septune_isa isa,
                               const septune_gen_request *req, const septune_cache_budget *budget, int nresults,
                               septune_error *err)
{
  const char *arg = (req->knobs && *req->knobs) ? req->knobs : NULL;
  if (op->kind != SEPTUNE_OP_DEPTHWISE && op->kind != SEPTUNE_OP_POINTWISE)
    return septune_error_set(err, SEPTUNE_ERR_UNSUPPORTED,
                             "generator: a block (separable, inverted residual) has no kernel of its own in this "
                             "version: its plan runs its stages' kernels band by band");
  lua_getfield(L, LUA_REGISTRYINDEX, "septune_gen");
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
  if (!lua_isfunction(L, -1)) {
    lua_pop(L, 1);
    return septune_error_set(err, SEPTUNE_ERR_GENERATOR, "generator: septune_gen.%s is not a function", name);
  }
  push_op(L, op);
  lua_pushstring(L, septune_isa_name(isa));
  if (arg) lua_pushstring(L, arg); else lua_pushnil(L);
  push_opts(L, budget, req);
  if (lua_pcall(L, 4, nresults, 0) != 0) {
    const char *msg = lua_tostring(L, -1);
    if (!msg) msg = "(error object is not a string)";
    int unsupported = strncmp(msg, KNOB_ERROR_PREFIX, strlen(KNOB_ERROR_PREFIX)) == 0 ||
                      strncmp(msg, UNSUPPORTED_ERROR_PREFIX, strlen(UNSUPPORTED_ERROR_PREFIX)) == 0;
    septune_status st = unsupported ? SEPTUNE_ERR_UNSUPPORTED : SEPTUNE_ERR_GENERATOR;
    septune_error_set(err, st, "%s", msg);
    lua_pop(L, 1);
    return st;
  }
  return SEPTUNE_OK;
}

static int copy_field(lua_State *L, int idx, char *dst, size_t n)
{
  const char *s = lua_tostring(L, idx);
  if (!s || strlen(s) >= n) return -1;
  memcpy(dst, s, strlen(s) + 1);
  return 0;
}

/* In the order of septune_gen_role. */
static const char *const role_names[] = { "kernel", "packed_floats", "pack", "work", "threads" };

/* The longest symbol prefix: its symbols then fit SEPTUNE_SYMBOL_SIZE. */
#define PREFIX_MAX 63

/* 1 when s is a C identifier of at most PREFIX_MAX characters. */
static int is_prefix(const char *s)
{
  size_t n = 0;
  for (; s[n]; n++) {
    char c = s[n];
    int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(n > 0 && c >= '0' && c <= '9')) return 0;
  }
  return n > 0 && n <= PREFIX_MAX;
}

/* Reads the exports list at stack index idx into out->exports. Returns 0,
 * or -1 when it is not a list of { role, name, declaration } that fit. */
static int read_exports(lua_State *L, int idx, septune_kernel_source_text *out)
{
  if (idx < 0) idx = lua_gettop(L) + idx + 1;
  if (!lua_istable(L, idx)) return -1;
  size_t n = lua_objlen(L, idx);
  if (n == 0 || n > SEPTUNE_GEN_EXPORTS_MAX) return -1;
  for (size_t i = 0; i < n; i++) {
    septune_gen_export *x = &out->exports[i];
    int ok = 0;
    lua_rawgeti(L, idx, (int)i + 1);
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "role");
      lua_getfield(L, -2, "name");
      lua_getfield(L, -3, "declaration");
      const char *role = lua_tostring(L, -3);
      size_t r = 0;
      while (role && r < sizeof role_names / sizeof role_names[0] && strcmp(role, role_names[r]) != 0) r++;
      if (role && r < sizeof role_names / sizeof role_names[0] && copy_field(L, -2, x->name, sizeof x->name) == 0 &&
          copy_field(L, -1, x->declaration, sizeof x->declaration) == 0) {
        x->role = (septune_gen_role)r;
        ok = 1;
      }
      lua_pop(L, 3);
    }
    lua_pop(L, 1);
    if (!ok) return -1;
  }
  out->nexports = n;
  return 0;
}

const septune_gen_export *septune_gen_export_of(const septune_kernel_source_text *text, septune_gen_role role)
{
  for (size_t i = 0; text && i < text->nexports; i++)
    if (text->exports[i].role == role) return &text->exports[i];
  return NULL;
}

septune_status septune_gen_render(const septune_op *op, septune_isa isa, const char *knobs,
                                  septune_kernel_source_text *out, septune_error *err)
{
  septune_gen_request req = { knobs, NULL, NULL, 1, 0 };
  return septune_gen_render_request(op, isa, &req, out, err);
}

septune_status septune_gen_render_request(const septune_op *op, septune_isa isa, const septune_gen_request *req,
                                          septune_kernel_source_text *out, septune_error *err)
{
  if (!op || !out || !req)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "generator: %s is NULL",
                             !op ? "op" : !out ? "out" : "req");
  if (isa == SEPTUNE_ISA_AUTO)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "generator: isa must be resolved, not auto");
  if (req->prefix && !is_prefix(req->prefix))
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT,
                             "generator: symbol prefix '%.80s' is not a C identifier of 1 to %d characters",
                             req->prefix, PREFIX_MAX);
  memset(out, 0, sizeof *out);
  septune_cache_budget own;
  if (!req->budget) septune_cpu_cache_budget(&own);

  pthread_mutex_lock(&gen_lock);
  septune_status st = gen_state ? SEPTUNE_OK : open_state(err);
  if (st == SEPTUNE_OK) {
    lua_State *L = gen_state;
    int top = lua_gettop(L);
    st = call_gen(L, "render", op, isa, req, req->budget ? req->budget : &own, 4, err);
    if (st == SEPTUNE_OK) {
      size_t len = 0;
      const char *src = lua_tolstring(L, -4, &len);
      if (!src || copy_field(L, -3, out->symbol, sizeof out->symbol) != 0 ||
          copy_field(L, -2, out->knobs, sizeof out->knobs) != 0 || read_exports(L, -1, out) != 0 ||
          out->exports[0].role != SEPTUNE_GEN_KERNEL || strcmp(out->exports[0].name, out->symbol) != 0) {
        st = septune_error_set(err, SEPTUNE_ERR_GENERATOR,
                               "generator: render must return source, symbol (< %d chars), knobs (< 128 chars) "
                               "and the exported functions, the kernel first",
                               SEPTUNE_SYMBOL_SIZE);
      } else if (!(out->source = malloc(len + 1))) {
        st = septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "generator: out of memory for %zu bytes", len);
      } else {
        memcpy(out->source, src, len + 1);
      }
    }
    lua_settop(L, top);
    /* Templates build large strings; give the memory back between plans. */
    lua_gc(L, LUA_GCCOLLECT, 0);
  }
  pthread_mutex_unlock(&gen_lock);
  if (st != SEPTUNE_OK) septune_gen_free(out);
  else septune_error_clear(err);
  return st;
}

septune_status septune_gen_call(const char *name, const septune_op *op, septune_isa isa,
                                const septune_gen_request *req, char **result, septune_error *err)
{
  static const septune_gen_request none = { NULL, NULL, NULL, 1, 0 };
  if (!name || !op || !result)
    return septune_error_set(err, SEPTUNE_ERR_INVALID_ARGUMENT, "generator: NULL argument");
  *result = NULL;
  if (!req) req = &none;
  septune_cache_budget own;
  if (req->budget) own = *req->budget;
  else septune_cpu_cache_budget(&own);
  pthread_mutex_lock(&gen_lock);
  septune_status st = gen_state ? SEPTUNE_OK : open_state(err);
  if (st == SEPTUNE_OK) {
    lua_State *L = gen_state;
    int top = lua_gettop(L);
    st = call_gen(L, name, op, isa, req, &own, 1, err);
    if (st == SEPTUNE_OK) {
      size_t len = 0;
      const char *s = lua_tolstring(L, -1, &len);
      if (!s)
        st = septune_error_set(err, SEPTUNE_ERR_GENERATOR, "generator: septune_gen.%s must return a string", name);
      else if (!(*result = malloc(len + 1)))
        st = septune_error_set(err, SEPTUNE_ERR_OUT_OF_MEMORY, "generator: out of memory");
      else
        memcpy(*result, s, len + 1);
    }
    lua_settop(L, top);
  }
  pthread_mutex_unlock(&gen_lock);
  if (st == SEPTUNE_OK) septune_error_clear(err);
  return st;
}

void septune_gen_free(septune_kernel_source_text *text)
{
  if (!text) return;
  free(text->source);
  text->source = NULL;
}
