/* sweep.c -- reading a sweep file, making each point's chip, running a task
** (see sweep.h), and the pool of threads that runs tasks.
**
** A varied path is resolved once against the chip file's tree (jansson) to
** the steps of sio_json_span, which gives the bytes of the value in the
** chip's text. A point's chip text is the chip's text with each varied
** value's bytes replaced by the value as the sweep file writes it (its
** literal token), so lines do not move and an error in a point's chip is
** positioned as it would be in a file holding those values. */
#include "sweep.h"

#include <errno.h>
#include <float.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "pipeline_int.h"
#include "sio_int.h"
#include "sio_json_int.h"
#include "sweep_int.h"

#define SWEEP_FORMAT "pda-sweep/1"
enum { MAX_STEPS = 16 };
/* Far above any sweep one would run, and small enough that counts cannot
** overflow anywhere. */
#define SWEEP_MAX_POINTS ((size_t)1 << 24)
#define SWEEP_MAX_SCHEDULES ((size_t)4096)

typedef struct vary {
    char *path;            /* as written in the sweep file */
    size_t n;
    double *v;             /* the values */
    char **lit;            /* each value's token as written */
    size_t start, end;     /* the value's bytes in the chip's text (a value of the chip) */
    int budget;            /* 1 + the index in RETIME_KEYS of a value of the budget ("retime.KEY"), else 0 */
} vary;

struct sweep {
    char *path;            /* the sweep file */
    char *text;            /* its bytes */
    size_t len;
    char *chip_path;       /* resolved against the sweep file's folder */
    char *chip_text;
    size_t chip_len;
    sio_chip *chip;        /* the chip as written */
    size_t ns;
    char **sched_name;     /* as written */
    char **sched_path;     /* resolved */
    sio_schedule **sched;
    size_t nv;
    vary *v;
    size_t *by_start;      /* vary indices by their place in the chip's text */
    int zip;
    size_t np;
    pda_run_opts ro;
    int has_budget;        /* every ok run is re-timed to bs, with the point's values of any vary
                           ** "retime.KEY" (retime_row) */
    budget_spec bs;
    pda_cache *pc;         /* the PDN models and thermal plans the points share (pipeline_cache.h) */
    const char **inputs;
    size_t n_inputs;
};

/* ---- errors in the sweep file ------------------------------------------ */

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* An error at the value (or at_key: the key) reached by steps in the sweep
** file. */
static int ferr(const sweep *sw, const sio_jstep *steps, size_t depth, int at_key, sio_error *err,
                const char *fmt, ...) PRINTF_LIKE(6, 7);
static int ferr(const sweep *sw, const sio_jstep *steps, size_t depth, int at_key, sio_error *err,
                const char *fmt, ...)
{
    char msg[800];
    int line = 1, col = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sio_json_locate(sw->text, sw->len, steps, depth, at_key, &line, &col);
    sio_error_set(err, sw->path, line, col, "%s", msg);
    return SIO_EINPUT;
}

static int nomem(const char *path, sio_error *err)
{
    sio_error_set(err, path, 0, 0, "out of memory");
    return SIO_ENOMEM;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: case JSON_REAL: return "a number";
    case JSON_TRUE: case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* The closest of n names to s, for "did you mean" (NULL when none is close). */
static const char *closest(const char *s, const char *const *names, size_t n)
{
    const char *best = NULL;
    size_t bd = 3;
    for (size_t i = 0; i < n; i++) {
        size_t d = sio_edit_distance(s, names[i]);
        if (d < bd) {
            bd = d;
            best = names[i];
        }
    }
    return best;
}

/* ---- files ------------------------------------------------------------- */

/* The whole of a file (at most max bytes), NUL-terminated. */
static int slurp(const char *path, size_t max, const char *what, char **text, size_t *len, sio_error *err)
{
    FILE *f = fopen(path, "rb");
    *text = NULL;
    *len = 0;
    if (!f) {
        sio_error_set(err, path, 0, 0, "cannot read the %s: %s", what, strerror(errno));
        return SIO_EIO;
    }
    size_t cap = 0, n = 0;
    char *b = NULL;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            size_t c = cap ? 2 * cap : 65536 + 1;
            char *q = realloc(b, c);
            if (!q) {
                free(b);
                fclose(f);
                return nomem(path, err);
            }
            b = q;
            cap = c;
        }
        size_t got = fread(b + n, 1, 65536, f);
        n += got;
        if (n > max) {
            free(b);
            fclose(f);
            sio_error_set(err, path, 0, 0, "the %s is longer than %zu bytes", what, max);
            return SIO_EINPUT;
        }
        if (got < 65536) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        sio_error_set(err, path, 0, 0, "cannot read the %s", what);
        return SIO_EIO;
    }
    b[n] = 0;
    *text = b;
    *len = n;
    return SIO_OK;
}

/* rel against the folder of base (absolute paths stay). */
static char *resolve(const char *base, const char *rel)
{
    const char *slash = strrchr(base, '/');
    size_t dl = slash && rel[0] != '/' ? (size_t)(slash - base) + 1 : 0, rl = strlen(rel);
    char *s = malloc(dl + rl + 1);
    if (!s) return NULL;
    memcpy(s, base, dl);
    memcpy(s + dl, rel, rl + 1);
    return s;
}

/* ---- paths into the chip ----------------------------------------------- */

/* The name an element of a chip list goes by: its "name", or for ops
** "class.op". Written into buf; NULL when it has none. */
static const char *elem_name(const json_t *e, char *buf, size_t cap)
{
    const char *n = json_string_value(json_object_get(e, "name"));
    if (n) return n;
    const char *cls = json_string_value(json_object_get(e, "class"));
    const char *op = json_string_value(json_object_get(e, "op"));
    if (!cls || !op) return NULL;
    snprintf(buf, cap, "%s.%s", cls, op);
    return buf;
}

/* Whether element e of a chip list goes by sel: its "name", or for ops
** "class.op" (compared in parts: no length is cut). */
static int elem_is(const json_t *e, const char *sel)
{
    const char *n = json_string_value(json_object_get(e, "name"));
    if (n) return !strcmp(n, sel);
    const char *cls = json_string_value(json_object_get(e, "class"));
    const char *op = json_string_value(json_object_get(e, "op"));
    size_t cl = cls ? strlen(cls) : 0;
    return cls && op && !strncmp(sel, cls, cl) && sel[cl] == '.' && !strcmp(sel + cl + 1, op);
}

/* A copy of the n bytes at p kept with the path's keys (freed with them);
** NULL when out of memory. */
static char *keep_copy(const char *p, size_t n, char ***keys, size_t *nkeys)
{
    char *k = strndup(p, n);
    char **nk = k ? realloc(*keys, (*nkeys + 1) * sizeof *nk) : NULL;
    if (!nk) {
        free(k);
        return NULL;
    }
    *keys = nk;
    nk[(*nkeys)++] = k;
    return k;
}

/* Resolves path (as written) in the chip's tree into steps; 0, or an
** error message in msg. */
static int resolve_path(const json_t *root, const char *path, sio_jstep *steps, size_t *depth, char ***keys,
                        size_t *nkeys, char *msg, size_t cap)
{
    const json_t *cur = root;
    char where[256] = "";
    size_t d = 0;
    const char *p = path;
    if (!*p) {
        snprintf(msg, cap, "an empty path");
        return -1;
    }
    while (*p) {
        /* a key: up to '.', '[' or the end */
        size_t kl = strcspn(p, ".[");
        if (kl) {
            char *key = keep_copy(p, kl, keys, nkeys);
            if (!key) {
                snprintf(msg, cap, "out of memory");
                return -2;
            }
            if (!json_is_object(cur)) {
                snprintf(msg, cap, "%s is %s, it has no key '%s'", where[0] ? where : "the chip", type_name(cur), key);
                return -1;
            }
            const json_t *next = json_object_get(cur, key);
            if (!next) {
                const char *names[64];
                size_t n = 0;
                const char *k;
                json_t *val;
                json_object_foreach((json_t *)cur, k, val) if (n < 64) names[n++] = k;
                const char *hint = closest(key, names, n);
                snprintf(msg, cap, "no '%s' in %s: a path names a value written in the chip description%s%s%s",
                         key, where[0] ? where : "the chip description", hint ? " (did you mean '" : "",
                         hint ? hint : "", hint ? "'?)" : "");
                return -1;
            }
            if (d == MAX_STEPS) {
                snprintf(msg, cap, "a path of more than %d steps", MAX_STEPS);
                return -1;
            }
            steps[d].key = key;
            steps[d++].index = 0;
            size_t wl = strlen(where);
            snprintf(where + wl, sizeof where - wl, "%s%s", wl ? "." : "", key);
            cur = next;
            p += kl;
        } else if (*p == '.') {
            snprintf(msg, cap, "an empty key at '%s'", p);
            return -1;
        }
        /* selectors */
        while (*p == '[') {
            const char *close = strchr(p, ']');
            if (!close) {
                snprintf(msg, cap, "'[' without ']'");
                return -1;
            }
            char *sel = keep_copy(p + 1, (size_t)(close - p - 1), keys, nkeys);
            if (!sel) {
                snprintf(msg, cap, "out of memory");
                return -2;
            }
            if (!json_is_array(cur)) {
                snprintf(msg, cap, "%s is %s, not a list: '[%s]' selects nothing", where[0] ? where : "the chip",
                         type_name(cur), sel);
                return -1;
            }
            size_t n = json_array_size(cur), found = n;
            const json_t *e0 = json_array_get(cur, 0);
            if (e0 && json_is_object(e0)) {
                char nb[256], hint[256] = "";
                size_t bd = 3;
                for (size_t i = 0; i < n && found == n; i++)
                    if (elem_is(json_array_get(cur, i), sel)) found = i;
                for (size_t i = 0; i < n && found == n; i++) {
                    const char *nm = elem_name(json_array_get(cur, i), nb, sizeof nb);
                    size_t dist = nm ? sio_edit_distance(sel, nm) : (size_t)-1;
                    if (dist < bd) {
                        bd = dist;
                        snprintf(hint, sizeof hint, "%s", nm);
                    }
                }
                if (found == n) {
                    snprintf(msg, cap, "no element named '%s' in %s%s%s%s", sel, where, hint[0] ? " (did you mean '" : "",
                             hint, hint[0] ? "'?)" : "");
                    return -1;
                }
            } else {
                char *end;
                errno = 0;
                unsigned long long k = strtoull(sel, &end, 10);
                if (!(sel[0] >= '0' && sel[0] <= '9') || *end || errno || k >= n) {   /* digits alone */
                    snprintf(msg, cap, "%s has %zu values: '[%s]' is not an index 0..%zu", where, n, sel,
                             n ? n - 1 : 0);
                    return -1;
                }
                found = (size_t)k;
            }
            if (d == MAX_STEPS) {
                snprintf(msg, cap, "a path of more than %d steps", MAX_STEPS);
                return -1;
            }
            steps[d].key = NULL;
            steps[d++].index = found;
            size_t wl = strlen(where);
            snprintf(where + wl, sizeof where - wl, "[%s]", sel);
            cur = json_array_get(cur, found);
            p = close + 1;
        }
        if (*p == '.') {
            p++;
            if (!*p) {
                snprintf(msg, cap, "a path ending in '.'");
                return -1;
            }
        } else if (*p) {
            snprintf(msg, cap, "unexpected '%c' after %s", *p, where);
            return -1;
        }
    }
    if (!json_is_number(cur)) {
        snprintf(msg, cap, "%s is %s in the chip description, not a number", where, type_name(cur));
        return -1;
    }
    *depth = d;
    return 0;
}

/* ---- the sweep file ----------------------------------------------------- */

static const char *const TOP_KEYS[] = {"format", "chip", "schedules", "vary", "mode", "run", "retime"};
static const char *const RUN_KEYS[] = {"no_thermal", "window_ns", "bin_ns", "safety_mv", "grid", "frame_ns"};
/* The budget's keys, as budget_field numbers them (the four limits first), and their largest values. */
static const char *const RETIME_KEYS[] = {"power_cap_w", "system_power_cap_w", "didt_a_per_ns", "guardband_mv",
                                          "window_ns"};
static const double RETIME_MAX[] = {DBL_MAX, DBL_MAX, DBL_MAX, DBL_MAX, WALK_WINDOW_NS_MAX};   /* as analyzer retime takes them */

static double *budget_field(budget_spec *b, size_t k)
{
    double *f[] = {&b->power_cap_w, &b->system_power_cap_w, &b->didt_a_per_ns, &b->guardband_mv, &b->window_ns};
    return f[k];
}
#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

static int known_keys(const sweep *sw, const json_t *obj, const sio_jstep *at, size_t depth,
                      const char *const *keys, size_t nk, const char *what, sio_error *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        size_t i = 0;
        while (i < nk && strcmp(keys[i], k) != 0) i++;
        if (i < nk) continue;
        sio_jstep s[4];
        if (depth) memcpy(s, at, depth * sizeof *s);
        s[depth].key = k;
        s[depth].index = 0;
        const char *hint = closest(k, keys, nk);
        if (hint) return ferr(sw, s, depth + 1, 1, err, "unknown key '%s' in %s (did you mean '%s'?)", k, what, hint);
        return ferr(sw, s, depth + 1, 1, err, "unknown key '%s' in %s", k, what);
    }
    return SIO_OK;
}

/* The error for x (at steps at) outside [lo, hi] (lo_open: (lo, hi]; hi
** DBL_MAX: no upper end), what naming the value. */
static int out_of_range(const sweep *sw, const sio_jstep *at, size_t depth, const char *what, double x, double lo,
                        int lo_open, double hi, sio_error *err)
{
    if (hi == DBL_MAX)
        return ferr(sw, at, depth, 0, err, "%s: must be %s %.15g, got %.15g", what, lo_open ? ">" : ">=", lo, x);
    return ferr(sw, at, depth, 0, err, "%s: must be in %s%.15g, %.15g], got %.15g", what, lo_open ? "(" : "[", lo,
                hi, x);
}

/* A number of section sect ("run" or "retime") within [lo, hi] (lo_open:
** > lo); *out is left alone when the key is absent. */
static int sect_number(const sweep *sw, const json_t *obj, const char *sect, const char *key, double lo, int lo_open,
                       double hi, double *out, sio_error *err)
{
    const json_t *v = json_object_get(obj, key);
    sio_jstep s[2] = {{sect, 0}, {key, 0}};
    if (!v) return SIO_OK;
    double x = json_number_value(v);
    if (!json_is_number(v)) return ferr(sw, s, 2, 0, err, "%s.%s: expected a number, got %s", sect, key, type_name(v));
    if (!(lo_open ? x > lo : x >= lo) || x > hi) {
        char what[96];
        snprintf(what, sizeof what, "%s.%s", sect, key);
        return out_of_range(sw, s, 2, what, x, lo, lo_open, hi, err);
    }
    *out = x;
    return SIO_OK;
}

static int read_run(sweep *sw, const json_t *run, sio_error *err)
{
    sio_jstep at[1] = {{"run", 0}};
    pda_run_opts *o = &sw->ro;
    int rc;
    if (!json_is_object(run)) return ferr(sw, at, 1, 0, err, "run: expected an object, got %s", type_name(run));
    if ((rc = known_keys(sw, run, at, 1, RUN_KEYS, NKEYS(RUN_KEYS), "run", err))) return rc;
    const json_t *nt = json_object_get(run, "no_thermal");
    if (nt) {
        sio_jstep s[2] = {{"run", 0}, {"no_thermal", 0}};
        if (!json_is_boolean(nt))
            return ferr(sw, s, 2, 0, err, "run.no_thermal: expected true or false, got %s", type_name(nt));
        o->thermal = !json_is_true(nt);
    }
    double frame = 0;
    if ((rc = sect_number(sw, run, "run", "window_ns", 0, 1, WALK_WINDOW_NS_MAX, &o->window_ns, err)) ||
        (rc = sect_number(sw, run, "run", "bin_ns", WALK_BIN_NS_MIN, 0, WALK_BIN_NS_MAX, &o->bin_ns, err)) ||
        (rc = sect_number(sw, run, "run", "safety_mv", 0, 0, 1e6, &o->safety_mv, err)) ||
        (rc = sect_number(sw, run, "run", "frame_ns", 1, 0, 1e12, &frame, err)))
        return rc;
    if (frame != floor(frame)) {
        sio_jstep s[2] = {{"run", 0}, {"frame_ns", 0}};
        return ferr(sw, s, 2, 0, err, "run.frame_ns: expected a whole number of ns, got %.15g", frame);
    }
    o->frame_ns = (int64_t)frame;
    const json_t *g = json_object_get(run, "grid");
    if (g) {
        sio_jstep s[2] = {{"run", 0}, {"grid", 0}};
        double a = json_number_value(json_array_get(g, 0)), b = json_number_value(json_array_get(g, 1));
        if (!json_is_array(g) || json_array_size(g) != 2 || !json_is_integer(json_array_get(g, 0)) ||
            !json_is_integer(json_array_get(g, 1)) || a < 2 || b < 2 || a > 4096 || b > 4096)
            return ferr(sw, s, 2, 0, err, "run.grid: expected [NX, NY], whole numbers from 2 to 4096");
        o->grid[0] = (size_t)a;
        o->grid[1] = (size_t)b;
    }
    return SIO_OK;
}

/* The budget every run is re-timed to (docs/sweeps.md), as `analyzer retime`
** takes it: caps, dI/dt and guardband limits, and the cap's window
** (check_budget completes it). */
static int read_retime(sweep *sw, const json_t *rt, sio_error *err)
{
    sio_jstep at[1] = {{"retime", 0}};
    int rc;
    if (!json_is_object(rt)) return ferr(sw, at, 1, 0, err, "retime: expected an object, got %s", type_name(rt));
    if ((rc = known_keys(sw, rt, at, 1, RETIME_KEYS, NKEYS(RETIME_KEYS), "retime", err))) return rc;
    budget_spec *b = &sw->bs;
    for (size_t k = 0; k < NKEYS(RETIME_KEYS); k++)
        if ((rc = sect_number(sw, rt, "retime", RETIME_KEYS[k], 0, 1, RETIME_MAX[k], budget_field(b, k), err)))
            return rc;
    sw->has_budget = 1;
    return SIO_OK;
}

/* After read_run and read_vary: the budget (the "retime" object's, and any
** varied values) at the runs' bin, the window one bin unless given, and a
** limit to meet among its values. */
static int check_budget(sweep *sw, const json_t *root, sio_error *err)
{
    int any = 0;
    for (size_t k = 0; k < 4; k++) any |= *budget_field(&sw->bs, k) > 0;
    for (size_t k = 0; k < sw->nv; k++) {
        sw->has_budget |= sw->v[k].budget > 0;
        any |= sw->v[k].budget > 0 && sw->v[k].budget <= 4;
    }
    if (!sw->has_budget) return SIO_OK;
    sw->bs.bin_ns = sw->ro.bin_ns;
    if (!(sw->bs.window_ns > 0)) sw->bs.window_ns = sw->bs.bin_ns;
    if (any) return SIO_OK;
    sio_jstep at[1] = {{json_object_get(root, "retime") ? "retime" : "vary", 0}};
    return ferr(sw, at, 1, 0, err,
                "retime: needs a budget: power_cap_w, system_power_cap_w, didt_a_per_ns or guardband_mv");
}

static int read_schedules(sweep *sw, const json_t *arr, sio_error *err)
{
    sio_jstep at[2] = {{"schedules", 0}, {NULL, 0}};
    if (!arr) return ferr(sw, NULL, 0, 0, err, "needs 'schedules': a list of schedule files");
    if (!json_is_array(arr) || !json_array_size(arr))
        return ferr(sw, at, 1, 0, err, "schedules: expected a non-empty list of schedule files, got %s",
                    json_is_array(arr) ? "an empty list" : type_name(arr));
    sw->ns = json_array_size(arr);
    if (sw->ns > SWEEP_MAX_SCHEDULES)
        return ferr(sw, at, 1, 0, err, "schedules: more than %zu", SWEEP_MAX_SCHEDULES);
    if (!(sw->sched_name = calloc(sw->ns, sizeof *sw->sched_name)) ||
        !(sw->sched_path = calloc(sw->ns, sizeof *sw->sched_path)) || !(sw->sched = calloc(sw->ns, sizeof *sw->sched)))
        return nomem(sw->path, err);
    for (size_t i = 0; i < sw->ns; i++) {
        const json_t *e = json_array_get(arr, i);
        at[1].index = i;
        if (!json_is_string(e) || !json_string_length(e))
            return ferr(sw, at, 2, 0, err, "schedules[%zu]: expected a file name, got %s", i,
                        json_is_string(e) ? "an empty string" : type_name(e));
        if (!(sw->sched_name[i] = strdup(json_string_value(e))) ||
            !(sw->sched_path[i] = resolve(sw->path, sw->sched_name[i])))
            return nomem(sw->path, err);
        for (size_t k = 0; k < i; k++)
            if (!strcmp(sw->sched_name[k], sw->sched_name[i]))
                return ferr(sw, at, 2, 0, err, "schedules[%zu]: '%s' is already schedules[%zu]", i, sw->sched_name[i], k);
    }
    return SIO_OK;
}

static int read_vary(sweep *sw, const json_t *obj, const json_t *chip_root, sio_error *err)
{
    sio_jstep at[3] = {{"vary", 0}, {NULL, 0}, {NULL, 0}};
    if (!obj) return ferr(sw, NULL, 0, 0, err, "needs 'vary': paths of the chip description, each with its values");
    if (!json_is_object(obj) || !json_object_size(obj))
        return ferr(sw, at, 1, 0, err, "vary: expected an object of paths and lists of values, got %s",
                    json_is_object(obj) ? "an empty object" : type_name(obj));
    sw->nv = json_object_size(obj);
    if (!(sw->v = calloc(sw->nv, sizeof *sw->v)) || !(sw->by_start = calloc(sw->nv, sizeof *sw->by_start)))
        return nomem(sw->path, err);
    const char *key;
    json_t *vals;
    size_t k = 0;
    json_object_foreach((json_t *)obj, key, vals) {
        vary *v = &sw->v[k];
        at[1].key = key;
        if (!(v->path = strdup(key))) return nomem(sw->path, err);
        if (!strncmp(key, "retime.", 7)) {   /* a value of the budget, not of the chip */
            for (size_t i = 0; i < NKEYS(RETIME_KEYS) && !v->budget; i++)
                if (!strcmp(key + 7, RETIME_KEYS[i])) v->budget = (int)i + 1;
            if (!v->budget) {
                const char *hint = closest(key + 7, RETIME_KEYS, NKEYS(RETIME_KEYS));
                return ferr(sw, at, 2, 1, err, "vary: '%s': the budget has no '%s'%s%s%s", key, key + 7,
                            hint ? " (did you mean 'retime." : "", hint ? hint : "", hint ? "'?)" : "");
            }
            /* the "retime" object's value would be dropped for every point */
            if (*budget_field(&sw->bs, (size_t)v->budget - 1) > 0)
                return ferr(sw, at, 2, 1, err, "vary: '%s': retime.%s sets it for every point", key, key + 7);
            v->start = v->end = SIZE_MAX;   /* sorts after the chip's values, none of whose text it replaces */
        } else if ((sw->ro.grid[0] && !strncmp(key, "thermal.grid", 12) && (!key[12] || key[12] == '[')) ||
                   (sw->ro.frame_ns && !strcmp(key, "thermal.frame_ns"))) {
            /* the run's option would set every point's value alike */
            return ferr(sw, at, 2, 1, err, "vary: '%s': run.%s sets it for every point", key,
                        key[8] == 'g' ? "grid" : "frame_ns");
        } else {
            sio_jstep steps[MAX_STEPS];
            char **keys = NULL, msg[800];
            size_t depth = 0, nkeys = 0;
            int r = resolve_path(chip_root, key, steps, &depth, &keys, &nkeys, msg, sizeof msg);
            if (!r && sio_json_span(sw->chip_text, sw->chip_len, steps, depth, &v->start, &v->end) != 0) {
                snprintf(msg, sizeof msg, "cannot find its value in the chip's text");
                r = -1;
            }
            for (size_t i = 0; i < nkeys; i++) free(keys[i]);
            free(keys);
            if (r == -2) return nomem(sw->path, err);
            if (r) return ferr(sw, at, 2, 1, err, "vary: '%s': %s", key, msg);
            for (size_t j = 0; j < k; j++)
                if (!sw->v[j].budget && sw->v[j].start == v->start)
                    return ferr(sw, at, 2, 1, err, "vary: '%s' names the same value as '%s'", key, sw->v[j].path);
        }
        if (!json_is_array(vals) || !json_array_size(vals))
            return ferr(sw, at, 2, 0, err, "vary: '%s': expected a non-empty list of numbers, got %s", key,
                        json_is_array(vals) ? "an empty list" : type_name(vals));
        v->n = json_array_size(vals);
        if (!(v->v = calloc(v->n, sizeof *v->v)) || !(v->lit = calloc(v->n, sizeof *v->lit)))
            return nomem(sw->path, err);
        for (size_t i = 0; i < v->n; i++) {
            const json_t *e = json_array_get(vals, i);
            at[2].key = NULL;
            at[2].index = i;
            if (!json_is_number(e))
                return ferr(sw, at, 3, 0, err, "vary: '%s'[%zu]: expected a number, got %s", key, i, type_name(e));
            v->v[i] = json_number_value(e);
            if (v->budget && !(v->v[i] > 0 && v->v[i] <= RETIME_MAX[v->budget - 1])) {
                char what[300];
                snprintf(what, sizeof what, "vary: '%s'[%zu]", key, i);
                return out_of_range(sw, at, 3, what, v->v[i], 0, 1, RETIME_MAX[v->budget - 1], err);
            }
            size_t s0, s1;
            if (sio_json_span(sw->text, sw->len, at, 3, &s0, &s1) != 0)
                return ferr(sw, at, 3, 0, err, "vary: '%s'[%zu]: cannot find the number in the text", key, i);
            if (!(v->lit[i] = strndup(sw->text + s0, s1 - s0))) return nomem(sw->path, err);
        }
        /* by their place in the chip's text (a handful: insertion) */
        size_t j = k;
        while (j > 0 && sw->v[sw->by_start[j - 1]].start > v->start) {
            sw->by_start[j] = sw->by_start[j - 1];
            j--;
        }
        sw->by_start[j] = k;
        k++;
    }
    return SIO_OK;
}

static int read_mode(sweep *sw, const json_t *root, sio_error *err)
{
    const json_t *m = json_object_get(root, "mode");
    sio_jstep at[2] = {{"mode", 0}, {NULL, 0}};
    if (m && (!json_is_string(m) || (strcmp(json_string_value(m), "grid") && strcmp(json_string_value(m), "zip"))))
        return ferr(sw, at, 1, 0, err, "mode: expected \"grid\" or \"zip\", got %s%s%s",
                    json_is_string(m) ? "\"" : type_name(m), json_is_string(m) ? json_string_value(m) : "",
                    json_is_string(m) ? "\"" : "");
    sw->zip = m && !strcmp(json_string_value(m), "zip");
    if (sw->zip) {
        for (size_t k = 1; k < sw->nv; k++) {
            if (sw->v[k].n == sw->v[0].n) continue;
            sio_jstep s[2] = {{"vary", 0}, {sw->v[k].path, 0}};
            return ferr(sw, s, 2, 0, err, "mode zip needs lists of one length: '%s' has %zu values, '%s' %zu",
                        sw->v[k].path, sw->v[k].n, sw->v[0].path, sw->v[0].n);
        }
        sw->np = sw->v[0].n;
    } else {
        sw->np = 1;
        for (size_t k = 0; k < sw->nv; k++) {
            if (sw->np > SWEEP_MAX_POINTS / sw->v[k].n)
                return ferr(sw, at, 0, 0, err, "the grid has more than %zu points", SWEEP_MAX_POINTS);
            sw->np *= sw->v[k].n;
        }
    }
    if (sw->np > SWEEP_MAX_POINTS / sw->ns)
        return ferr(sw, at, 0, 0, err, "more than %zu runs (points times schedules)", SWEEP_MAX_POINTS);
    return SIO_OK;
}

static int read_sweep(sweep *sw, sio_error *err)
{
    json_error_t je;
    json_t *root = json_loadb(sw->text, sw->len, JSON_REJECT_DUPLICATES, &je), *chip_root = NULL;
    if (!root) {
        sio_error_set(err, sw->path, je.line > 0 ? je.line : 1, je.column > 0 ? je.column : 1, "invalid JSON: %s",
                      je.text);
        return json_error_code(&je) == json_error_out_of_memory ? SIO_ENOMEM : SIO_EINPUT;
    }
    int rc = SIO_OK;
    const json_t *fmt = json_object_get(root, "format"), *chip = json_object_get(root, "chip");
    sio_jstep s[1] = {{"format", 0}};
    if (!json_is_object(root)) {
        rc = ferr(sw, NULL, 0, 0, err, "expected a JSON object at the top level, got %s", type_name(root));
    } else if (!fmt) {
        rc = ferr(sw, NULL, 0, 0, err, "needs \"format\": \"%s\"", SWEEP_FORMAT);
    } else if (!json_is_string(fmt) || strcmp(json_string_value(fmt), SWEEP_FORMAT)) {
        rc = ferr(sw, s, 1, 0, err, "format: expected \"%s\", got %s%s%s", SWEEP_FORMAT,
                  json_is_string(fmt) ? "\"" : type_name(fmt), json_is_string(fmt) ? json_string_value(fmt) : "",
                  json_is_string(fmt) ? "\"" : "");
    } else if (!(rc = known_keys(sw, root, NULL, 0, TOP_KEYS, NKEYS(TOP_KEYS), "the sweep", err))) {
        s[0].key = "chip";
        if (!chip || !json_is_string(chip) || !json_string_length(chip))
            rc = ferr(sw, chip ? s : NULL, chip ? 1 : 0, 0, err, chip ? "chip: expected a file name, got %s"
                                                                       : "needs 'chip': the chip description%s",
                      chip ? (json_is_string(chip) ? "an empty string" : type_name(chip)) : "");
    }
    if (!rc && json_object_get(root, "run")) rc = read_run(sw, json_object_get(root, "run"), err);
    if (!rc && json_object_get(root, "retime")) rc = read_retime(sw, json_object_get(root, "retime"), err);
    if (!rc) rc = read_schedules(sw, json_object_get(root, "schedules"), err);
    /* the chip: its text (kept, for the points) read as a file would be */
    if (!rc && !(sw->chip_path = resolve(sw->path, json_string_value(chip)))) rc = nomem(sw->path, err);
    if (!rc) rc = slurp(sw->chip_path, SIO_CHIP_MAX_BYTES, "chip description", &sw->chip_text, &sw->chip_len, err);
    if (!rc) rc = sio_chip_from_buffer(sw->chip_path, sw->chip_text, sw->chip_len, &sw->chip, err);
    if (!rc && !(chip_root = json_loadb(sw->chip_text, sw->chip_len, 0, &je))) rc = nomem(sw->chip_path, err);
    if (!rc) rc = read_vary(sw, json_object_get(root, "vary"), chip_root, err);
    if (!rc) rc = read_mode(sw, root, err);
    if (!rc) rc = check_budget(sw, root, err);
    for (size_t i = 0; !rc && i < sw->ns; i++) rc = sio_schedule_load(sw->chip, sw->sched_path[i], &sw->sched[i], err);
    json_decref(chip_root);
    json_decref(root);
    return rc;
}

int sweep_load(const char *path, sweep **out, sio_error *err)
{
    *out = NULL;
    err->text[0] = 0;
    sweep *sw = calloc(1, sizeof *sw);
    if (!sw || !(sw->path = strdup(path))) {
        free(sw);
        return nomem(path, err);
    }
    pda_run_opts_default(&sw->ro);
    sw->ro.report = 0;   /* no files per point */
    int rc = pda_cache_create(&sw->pc) ? nomem(path, err) : SIO_OK;
    if (!rc) rc = slurp(path, SIO_CHIP_MAX_BYTES, "sweep file", &sw->text, &sw->len, err);
    if (!rc) rc = read_sweep(sw, err);
    if (!rc) {
        /* the inputs: the sweep, the chip, its tables, the schedules */
        sw->inputs = calloc(2 + sw->chip->n_rails + sw->ns, sizeof *sw->inputs);
        if (!sw->inputs) rc = nomem(path, err);
        else {
            sw->inputs[sw->n_inputs++] = sw->path;
            sw->inputs[sw->n_inputs++] = sw->chip_path;
            for (size_t r = 0; r < sw->chip->n_rails; r++)
                if (sw->chip->rails[r].impedance_csv) sw->inputs[sw->n_inputs++] = sw->chip->rails[r].impedance_csv;
            for (size_t i = 0; i < sw->ns; i++) sw->inputs[sw->n_inputs++] = sw->sched_path[i];
        }
    }
    if (rc) {
        sweep_free(sw);
        return rc;
    }
    *out = sw;
    return SIO_OK;
}

void sweep_free(sweep *sw)
{
    if (!sw) return;
    pda_cache_destroy(sw->pc);
    for (size_t i = 0; i < sw->ns; i++) {
        if (sw->sched_name) free(sw->sched_name[i]);
        if (sw->sched_path) free(sw->sched_path[i]);
        if (sw->sched) sio_schedule_free(sw->sched[i]);
    }
    for (size_t k = 0; sw->v && k < sw->nv; k++) {
        for (size_t i = 0; sw->v[k].lit && i < sw->v[k].n; i++) free(sw->v[k].lit[i]);
        free(sw->v[k].lit);
        free(sw->v[k].v);
        free(sw->v[k].path);
    }
    free(sw->v);
    free(sw->by_start);
    free(sw->sched_name);
    free(sw->sched_path);
    free(sw->sched);
    sio_chip_free(sw->chip);
    free(sw->chip_text);
    free(sw->chip_path);
    free(sw->text);
    free(sw->path);
    free(sw->inputs);
    free(sw);
}

/* ---- accessors ----------------------------------------------------------- */

size_t sweep_n_points(const sweep *sw) { return sw->np; }
size_t sweep_n_schedules(const sweep *sw) { return sw->ns; }
size_t sweep_n_tasks(const sweep *sw) { return sw->np * sw->ns; }

const char *const *sweep_inputs(const sweep *sw, size_t *n)
{
    *n = sw->n_inputs;
    return sw->inputs;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

uint64_t sweep_fingerprint(const sweep *sw)
{
    uint64_t h = fnv(14695981039346656037ull, sw->text, sw->len);
    h = fnv(h, sw->chip_text, sw->chip_len);
    for (size_t i = 0; i < sw->ns; i++) {
        uint64_t x[2] = {sw->sched[i]->n, (uint64_t)sio_schedule_makespan_cyc(sw->sched[i])};
        h = fnv(h, x, sizeof x);
    }
    return h;
}

/* Index of vary k's value at point p. */
static size_t value_index(const sweep *sw, size_t k, size_t p)
{
    if (sw->zip) return p;
    size_t stride = 1;
    for (size_t j = k + 1; j < sw->nv; j++) stride *= sw->v[j].n;
    return (p / stride) % sw->v[k].n;
}

/* ---- a task ------------------------------------------------------------ */

/* The chip text of point p (malloc'd, *len set), or NULL. */
static char *point_text(const sweep *sw, size_t p, size_t *len)
{
    size_t n = sw->chip_len;
    for (size_t k = 0; k < sw->nv; k++) {
        const vary *v = &sw->v[k];
        if (!v->budget) n = n - (v->end - v->start) + strlen(v->lit[value_index(sw, k, p)]);
    }
    char *t = malloc(n + 1), *o = t;
    if (!t) return NULL;
    size_t at = 0;
    for (size_t i = 0; i < sw->nv; i++) {
        const vary *v = &sw->v[sw->by_start[i]];
        if (v->budget) continue;
        const char *lit = v->lit[value_index(sw, sw->by_start[i], p)];
        size_t ll = strlen(lit);
        memcpy(o, sw->chip_text + at, v->start - at);
        o += v->start - at;
        memcpy(o, lit, ll);
        o += ll;
        at = v->end;
    }
    memcpy(o, sw->chip_text + at, sw->chip_len - at);
    o += sw->chip_len - at;
    *o = 0;
    *len = n;
    return t;
}

static void fail_row(sweep_row *row, const char *msg)
{
    row->ok = 0;
    snprintf(row->status, sizeof row->status, "%s", msg);
}

/* The row's figures from a run. */
static int fill_row(const sio_chip *c, const pda_result *res, sweep_row *row)
{
    const pda_power *pw = pda_result_power(res);
    row->ok = 1;
    snprintf(row->status, sizeof row->status, "ok");
    row->peak_w = pw->peak_w;
    row->peak_window_w = pw->peak_window_w;
    row->energy_j = pw->energy_j;
    size_t nq;
    const margin_rail *mr = pda_result_margin(res, &nq);
    size_t worst = 0;
    row->max_droop_mv = row->needed_guardband_mv = -INFINITY;
    for (size_t q = 0; q < nq; q++) {
        if (mr[q].worst_droop_mv > row->max_droop_mv) row->max_droop_mv = mr[q].worst_droop_mv;
        if (mr[q].needed_guardband_mv > row->needed_guardband_mv) row->needed_guardband_mv = mr[q].needed_guardband_mv;
        if (mr[q].headroom_mv < mr[worst].headroom_mv) worst = q;
        const events_rail_stats *st = pda_result_rail_stats(res, mr[q].chip, mr[q].rail);
        if (st && st->droop_events) row->broken |= SWEEP_BROKE_DROOP;
        if (st && st->didt_events) row->broken |= SWEEP_BROKE_DIDT;
    }
    if (nq) {
        row->saving_w = mr[worst].saving_w;
        row->worst_chip = mr[worst].chip;
        row->worst_rail = mr[worst].rail;
    }
    if (pda_result_has_thermal(res)) {
        row->has_thermal = 1;
        row->max_c = -INFINITY;
        for (size_t ch = 0; ch < pda_result_n_chips(res); ch++) {
            for (size_t d = 0; d < c->n_dies; d++) {
                size_t nx = 0, ny = 0;
                const double *h = pda_result_heat(res, ch, d, 1, &nx, &ny);
                for (size_t i = 0; h && i < nx * ny; i++)
                    if (h[i] > row->max_c) row->max_c = h[i];
            }
        }
        if (row->max_c > c->thermal.limit_c) row->broken |= SWEEP_BROKE_THERMAL;
        size_t nh;
        pda_result_hotspots(res, &nh);
        row->hotspots = (int64_t)nh;
        /* leakage: only what the run reports (thermal.leakage.total_w, and runaway) */
        int runaway;
        if (pda_leak_figures(res, &row->leakage_w, &runaway)) {
            row->has_leakage = 1;
            if (runaway) row->broken |= SWEEP_BROKE_RUNAWAY;
        }
    }
    return PDA_OK;
}

/* The run's schedule re-timed to the sweep's budget on the point's chip:
** the outcome into the row. PDA_OK, or out of memory or an internal error
** (*err set: the whole sweep fails, as for a run). */
static int retime_row(const sweep *sw, size_t p, const sio_chip *c, const sio_schedule *s, sweep_row *row,
                      sio_error *err)
{
    budget_spec bs = sw->bs;   /* with the point's values of the budget's varied keys */
    for (size_t k = 0; k < sw->nv; k++)
        if (sw->v[k].budget) *budget_field(&bs, (size_t)sw->v[k].budget - 1) = sw->v[k].v[value_index(sw, k, p)];
    int64_t *starts = NULL;
    budget_report rep;
    sio_error e;
    int brc = budget_retime(c, s, &bs, &starts, &rep, &e);
    free(starts);
    if (brc == BUDGET_OK) {
        row->slowdown = rep.slowdown;
        row->gap = rep.gap;
    }
    if (brc == BUDGET_OK || brc == BUDGET_ENOTMET) budget_report_free(&rep);
    switch (brc) {
    case BUDGET_OK:
        row->retime = SWEEP_RETIME_MET;
        return PDA_OK;
    case BUDGET_ENOTMET:
    case BUDGET_EINFEASIBLE:
    case BUDGET_EINPUT:
        row->retime = brc == BUDGET_ENOTMET ? SWEEP_RETIME_NOT_MET
                      : brc == BUDGET_EINFEASIBLE ? SWEEP_RETIME_CANNOT : SWEEP_RETIME_FAILED;
        snprintf(row->retime_why, sizeof row->retime_why, "%s", e.text);
        return PDA_OK;
    default:
        *err = e;
        return brc == BUDGET_ENOMEM ? PDA_ENOMEM : PDA_EINTERNAL;
    }
}

int sweep_task(const sweep *sw, size_t t, sweep_row *row, sio_error *err)
{
    memset(row, 0, sizeof *row);
    if (t >= sweep_n_tasks(sw)) {
        sio_error_set(err, sw->path, 0, 0, "task %zu of %zu", t, sweep_n_tasks(sw));
        return PDA_EINTERNAL;
    }
    size_t p = t / sw->ns, s = t % sw->ns, len;
    char *text = point_text(sw, p, &len);
    if (!text) return nomem(sw->path, err);
    sio_chip *c = NULL;
    sio_error e;
    int rc = sio_chip_from_buffer(sw->chip_path, text, len, &c, &e);
    free(text);
    if (rc == SIO_EINPUT) {
        fail_row(row, e.text);
        return PDA_OK;
    }
    if (rc) {
        *err = e;
        return rc;
    }
    pda_result *res = NULL;
    rc = pda_run_walk(c, sw->sched[s], &sw->ro, 1, sw->pc, &res, &e);   /* pda_run, with the cache */
    if (rc == PDA_ENOMEM || rc == PDA_EIO || rc == PDA_EINTERNAL) {
        *err = e;
    } else if (rc) {
        fail_row(row, e.text);   /* the values make the run impossible (a stack the solver refuses, ...) */
        rc = PDA_OK;
    } else if ((rc = fill_row(c, res, row)) != PDA_OK) {
        nomem(sw->path, err);
    } else if (sw->has_budget) {
        rc = retime_row(sw, p, c, sw->sched[s], row, err);
    }
    pda_result_free(res);
    sio_chip_free(c);
    return rc;
}

/* ---- the pool ------------------------------------------------------------ */

typedef struct pool {
    const sweep *sw;
    int (*next)(void *, size_t *);
    int (*done)(void *, size_t, const sweep_row *);
    void *arg;
    pthread_mutex_t mu;
    int rc;                /* the first error */
    sio_error err;
} pool;

static void *pool_main(void *arg)
{
    pool *pl = arg;
    sweep_row *row = malloc(sizeof *row);
    sio_error e;
    size_t t;
    if (!row) {
        pthread_mutex_lock(&pl->mu);
        if (!pl->rc) {
            pl->rc = nomem(pl->sw->path, &pl->err);
        }
        pthread_mutex_unlock(&pl->mu);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&pl->mu);
        int stop = pl->rc != 0;
        pthread_mutex_unlock(&pl->mu);
        if (stop || pl->next(pl->arg, &t)) break;
        int rc = sweep_task(pl->sw, t, row, &e);
        if (!rc && pl->done(pl->arg, t, row)) rc = -1;
        if (rc) {
            pthread_mutex_lock(&pl->mu);
            if (!pl->rc) {
                pl->rc = rc;
                pl->err = e;
            }
            pthread_mutex_unlock(&pl->mu);
            break;
        }
    }
    free(row);
    return NULL;
}

int sweep_pool(const sweep *sw, size_t jobs, int (*next)(void *arg, size_t *t),
               int (*done)(void *arg, size_t t, const sweep_row *row), void *arg, sio_error *err)
{
    pool pl = {.sw = sw, .next = next, .done = done, .arg = arg};
    if (pthread_mutex_init(&pl.mu, NULL)) return nomem(sw->path, err);
    if (jobs < 1) jobs = 1;
    pthread_t *th = calloc(jobs, sizeof *th);
    size_t started = 0;
    /* jobs - 1 threads, and this one */
    for (size_t j = 1; th && j < jobs; j++) {
        if (pthread_create(&th[started], NULL, pool_main, &pl)) break;   /* fewer threads: slower, same rows */
        started++;
    }
    pool_main(&pl);
    for (size_t j = 0; j < started; j++) pthread_join(th[j], NULL);
    free(th);
    pthread_mutex_destroy(&pl.mu);
    if (pl.rc > 0) *err = pl.err;
    else if (pl.rc < 0) sio_error_set(err, sw->path, 0, 0, "the sweep was stopped");
    return pl.rc > 0 ? pl.rc : pl.rc < 0 ? PDA_EINTERNAL : PDA_OK;
}

typedef struct local {
    sweep_row *rows;
    size_t next, done, n;
    pthread_mutex_t mu;
    void (*progress)(void *, size_t, size_t);
    void *arg;
} local;

static int local_next(void *arg, size_t *t)
{
    local *l = arg;
    pthread_mutex_lock(&l->mu);
    int none = l->next >= l->n;
    if (!none) *t = l->next++;
    pthread_mutex_unlock(&l->mu);
    return none;
}

static int local_done(void *arg, size_t t, const sweep_row *row)
{
    local *l = arg;
    l->rows[t] = *row;   /* each task's own slot */
    pthread_mutex_lock(&l->mu);
    l->done++;
    if (l->progress) l->progress(l->arg, l->done, l->n);
    pthread_mutex_unlock(&l->mu);
    return 0;
}

int sweep_run(const sweep *sw, size_t jobs, sweep_row *rows, void (*progress)(void *arg, size_t done, size_t total),
              void *arg, sio_error *err)
{
    local l = {.rows = rows, .n = sweep_n_tasks(sw), .progress = progress, .arg = arg};
    if (pthread_mutex_init(&l.mu, NULL)) return nomem(sw->path, err);
    int rc = sweep_pool(sw, jobs, local_next, local_done, &l, err);
    pthread_mutex_destroy(&l.mu);
    return rc;
}

size_t sweep_n_failed(const sweep *sw, const sweep_row *rows)
{
    size_t n = 0;
    for (size_t t = 0; t < sweep_n_tasks(sw); t++) n += !rows[t].ok;
    return n;
}

size_t sweep_n_broken(const sweep *sw, const sweep_row *rows)
{
    size_t n = 0;
    for (size_t t = 0; t < sweep_n_tasks(sw); t++) n += rows[t].ok && rows[t].broken;
    return n;
}

size_t sweep_n_retimed(const sweep *sw, const sweep_row *rows, int retime)
{
    size_t n = 0;
    for (size_t t = 0; t < sweep_n_tasks(sw); t++) n += rows[t].retime == retime;
    return n;
}

/* ---- for the writers (sweep_int.h) --------------------------------------- */

const char *sweep_path(const sweep *sw) { return sw->path; }
const char *sweep_chip_path(const sweep *sw) { return sw->chip_path; }
const sio_chip *sweep_chip(const sweep *sw) { return sw->chip; }
int sweep_is_zip(const sweep *sw) { return sw->zip; }
size_t sweep_n_vary(const sweep *sw) { return sw->nv; }
const char *sweep_vary_path(const sweep *sw, size_t k) { return sw->v[k].path; }
size_t sweep_vary_n(const sweep *sw, size_t k) { return sw->v[k].n; }
double sweep_vary_value(const sweep *sw, size_t k, size_t i) { return sw->v[k].v[i]; }
double sweep_point_value(const sweep *sw, size_t k, size_t p) { return sw->v[k].v[value_index(sw, k, p)]; }
const char *sweep_schedule_name(const sweep *sw, size_t s) { return s < sw->ns ? sw->sched_name[s] : NULL; }
const pda_run_opts *sweep_run_opts(const sweep *sw) { return &sw->ro; }
int sweep_has_budget(const sweep *sw) { return sw->has_budget; }
int sweep_budget_fixed(const sweep *sw, size_t k, const char **key, double *value)
{
    if (k >= NKEYS(RETIME_KEYS)) return -1;
    *key = RETIME_KEYS[k];
    *value = *budget_field((budget_spec *)&sw->bs, k);
    for (size_t j = 0; j < sw->nv; j++)
        if (sw->v[j].budget == (int)k + 1) return 0;
    return sw->has_budget && *value > 0;
}
