/* sio_chip.c -- reads a `pda-chip/1` chip description (JSON, jansson).
**
** The file is parsed by jansson as it is read (json_load_callback: a stream
** that is not JSON stops at its first bytes), kept whole for the positions
** of errors, and bounded (SIO_CHIP_MAX_BYTES, SIO_CHIP_MAX_VALUES: counted as
** it comes, as jansson's own memory is the larger cost); duplicate keys are
** refused. It is then checked object by object against tables of {key,
** kind, unit, required, default, limits, destination offset}: one table per
** kind of object (chip, die, rail, pdn, stage, unit, op, thermal, layer).
** A generic pass refuses
** unknown keys (with a "did you mean" hint), missing required keys, wrong
** types and out-of-range numbers, applies defaults and stores the values;
** hand-written passes then resolve references (unit -> die, rail, class;
** op -> class; layer -> die), check geometry against the outline, refuse
** duplicate names, and read a rail's `impedance_csv` table (libcsv, streamed
** a line at a time so rows carry line numbers; lines and the file bounded).
**
** Errors: first one wins, "file:line:col: where: what", where is a path
** such as rails[0].pdn.stages[1].c_f. jansson keeps no positions after a
** successful parse, so positions are found again in the text by
** sio_json_locate (sio_json.c) on the error path only.
**
** Invariants of a loaded chip: every array count matches its data; every
** index (unit.cls/die/rail, op.cls, layer.die) is in range; classes are the
** distinct unit classes in first-seen order; each die is carried by exactly
** one thermal layer when thermal.present. A chip is small (units ~10^2-10^4):
** duplicate names of units, rails, dies, stages and layers are found by
** sorting; die ids and ops (tens) pairwise; references by linear search. */
#include "sio.h"
#include "sio_int.h"
#include "sio_json_int.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIO_CHIP_FORMAT "pda-chip/1"
/* Slack when comparing a unit's far edge with the outline (mm): sums of
** decimal coordinates are not exact in binary. */
#define OUTLINE_TOL_MM 1e-9
#define UNIT_MIN_MM 1e-6     /* a unit's least width and height (1 nm), as a floorplan import takes */

/* ---- the tables -------------------------------------------------------- */

enum fkind {
    F_STR,    /* string; lo = minimum length */
    F_REAL,   /* number (integer or real) within limits */
    F_REALS,  /* array of exactly n numbers, each within limits */
    F_INT,    /* integer within limits, stored as int */
    F_I64,    /* integer within limits, stored as int64_t */
    F_SIZES,  /* array of exactly n integers within limits, stored as size_t */
    F_OBJ,    /* object, read by hand */
    F_ARR     /* array of at least lo entries, read by hand */
};

#define NO_OFF ((size_t)-1)

typedef struct field {
    const char *key;
    enum fkind kind;
    const char *unit;  /* for messages, "" when none */
    int required;
    double def;        /* applied when absent and not required */
    double lo;         /* lower limit */
    int lo_open;       /* 1: value > lo, 0: value >= lo */
    double hi;         /* upper limit, inclusive */
    size_t n;          /* element count of F_REALS and F_SIZES */
    size_t off;        /* offset in the destination, NO_OFF: read by hand */
} field;

#define REQ 1, 0
#define OPT(d) 0, (d)
#define ANY (-DBL_MAX), 0, DBL_MAX
#define GT0 0, 1, DBL_MAX
#define GE0 0, 0, DBL_MAX
#define NONEMPTY 1, 0, DBL_MAX
#define CELSIUS (-273.15), 1, 1e4
/* Physical values with an upper limit far beyond any chip, so that no
** product of them overflows (a 1e308 A op would make every sum infinite). */
#define POS(hi) 0, 1, (hi)
#define NONNEG(hi) 0, 0, (hi)
/* The heat path's values also have a lower limit far below any chip, as
** they divide: a 1e-308 W/(m^2 K) cooling made every temperature infinite. */
#define RANGE(lo, hi) (lo), 0, (hi)

static const field chip_fields[] = {
    {"format", F_STR, "", REQ, NONEMPTY, 0, NO_OFF},
    {"name", F_STR, "", REQ, NONEMPTY, 0, offsetof(sio_chip, name)},
    {"clock_ghz", F_REAL, "GHz", REQ, POS(1e3), 0, offsetof(sio_chip, clock_ghz)},
    {"outline_mm", F_REALS, "mm", REQ, RANGE(1e-3, 1e4), 2, offsetof(sio_chip, outline_mm)},
    {"dies", F_ARR, "", REQ, NONEMPTY, 0, NO_OFF},
    {"rails", F_ARR, "", REQ, NONEMPTY, 0, NO_OFF},
    {"units", F_ARR, "", REQ, NONEMPTY, 0, NO_OFF},
    {"ops", F_ARR, "", REQ, GE0, 0, NO_OFF},
    {"thermal", F_OBJ, "", OPT(0), ANY, 0, NO_OFF},
};

static const field die_fields[] = {
    {"id", F_INT, "", REQ, 0, 0, INT_MAX, 0, offsetof(sio_die, id)},
    {"name", F_STR, "", REQ, NONEMPTY, 0, offsetof(sio_die, name)},
};

static const field rail_fields[] = {
    {"name", F_STR, "", REQ, NONEMPTY, 0, offsetof(sio_rail, name)},
    {"vdd_v", F_REAL, "V", REQ, POS(1e3), 0, offsetof(sio_rail, vdd_v)},
    {"guardband_mv", F_REAL, "mV", OPT(70), NONNEG(1e6), 0, offsetof(sio_rail, guardband_mv)},
    {"didt_limit_a_per_ns", F_REAL, "A/ns", OPT(8), POS(1e9), 0,
     offsetof(sio_rail, didt_limit_a_per_ns)},
    {"didt_window_ns", F_REAL, "ns", OPT(5), POS(1e6), 0, offsetof(sio_rail, didt_window_ns)},
    {"pdn", F_OBJ, "", OPT(0), ANY, 0, NO_OFF},
    {"impedance_csv", F_STR, "", OPT(0), NONEMPTY, 0, NO_OFF},
};

static const field pdn_fields[] = {
    {"stages", F_ARR, "", OPT(0), NONEMPTY, 0, NO_OFF},
    {"impedance_csv", F_STR, "", OPT(0), NONEMPTY, 0, NO_OFF},
    {"vrm", F_OBJ, "", OPT(0), ANY, 0, NO_OFF},
};

static const field vrm_fields[] = {
    {"sense", F_STR, "", OPT(0), NONEMPTY, 0, offsetof(sio_vrm, sense)},
    {"bandwidth_hz", F_REAL, "Hz", OPT(4e4), POS(1e12), 0, offsetof(sio_vrm, bandwidth_hz)},
    {"loadline_ohm", F_REAL, "ohm", OPT(0), NONNEG(1e3), 0, offsetof(sio_vrm, loadline_ohm)},
};

static const field stage_fields[] = {
    {"name", F_STR, "", REQ, NONEMPTY, 0, offsetof(sio_stage, name)},
    {"r_ohm", F_REAL, "ohm", REQ, NONNEG(1e3), 0, offsetof(sio_stage, r_ohm)},
    {"l_h", F_REAL, "H", REQ, NONNEG(1e3), 0, offsetof(sio_stage, l_h)},
    {"c_f", F_REAL, "F", REQ, POS(1e6), 0, offsetof(sio_stage, c_f)},
    {"esr_ohm", F_REAL, "ohm", OPT(0), NONNEG(1e3), 0, offsetof(sio_stage, esr_ohm)},
    {"esl_h", F_REAL, "H", OPT(0), NONNEG(1e3), 0, offsetof(sio_stage, esl_h)},
};

static const field unit_fields[] = {
    {"name", F_STR, "", REQ, NONEMPTY, 0, offsetof(sio_unit, name)},
    {"class", F_STR, "", REQ, NONEMPTY, 0, NO_OFF},
    {"die", F_INT, "", REQ, 0, 0, INT_MAX, 0, NO_OFF},
    {"rail", F_STR, "", REQ, NONEMPTY, 0, NO_OFF},
    {"rect_mm", F_REALS, "mm", REQ, ANY, 4, offsetof(sio_unit, rect_mm)},
    {"idle_a", F_REAL, "A", OPT(0), NONNEG(1e6), 0, offsetof(sio_unit, idle_a)},
    {"leak_a", F_REAL, "A", OPT(0), NONNEG(1e6), 0, offsetof(sio_unit, leak_a)},
    /* -1 when absent: read_leakage fills in thermal.leakage.beta_per_k */
    {"leak_beta_per_k", F_REAL, "1/K", OPT(-1), NONNEG(1), 0, offsetof(sio_unit, leak_beta_per_k)},
};

static const field op_fields[] = {
    {"op", F_STR, "", REQ, NONEMPTY, 0, offsetof(sio_op, name)},
    {"class", F_STR, "", REQ, NONEMPTY, 0, NO_OFF},
    {"current_a", F_REAL, "A", REQ, NONNEG(1e6), 0, offsetof(sio_op, current_a)},
    {"ramp_cycles", F_I64, "cycles", OPT(0), NONNEG(4503599627370496.0), 0, offsetof(sio_op, ramp_cycles)},
};

static const field thermal_fields[] = {
    {"ambient_c", F_REAL, "C", OPT(40), CELSIUS, 0, offsetof(sio_thermal, ambient_c)},
    {"grid", F_SIZES, "cells", OPT(64), 2, 0, 4096, 2, offsetof(sio_thermal, grid)},
    {"h_top_w_m2k", F_REAL, "W/(m^2 K)", REQ, RANGE(1e-3, 1e12), 0, offsetof(sio_thermal, h_top_w_m2k)},
    {"h_bottom_w_m2k", F_REAL, "W/(m^2 K)", OPT(0), NONNEG(1e12), 0,
     offsetof(sio_thermal, h_bottom_w_m2k)},
    {"hotspot_c", F_REAL, "C", OPT(95), CELSIUS, 0, offsetof(sio_thermal, hotspot_c)},
    {"limit_c", F_REAL, "C", OPT(105), CELSIUS, 0, offsetof(sio_thermal, limit_c)},
    {"frame_ns", F_I64, "ns", OPT(10000), 1, 0, 1e12, 0, offsetof(sio_thermal, frame_ns)},
    {"layers", F_ARR, "", REQ, NONEMPTY, 0, NO_OFF},
    {"leakage", F_OBJ, "", OPT(0), ANY, 0, NO_OFF},
};

static const field leakage_fields[] = {
    {"t_ref_c", F_REAL, "C", REQ, CELSIUS, 0, offsetof(sio_leakage, t_ref_c)},
    {"beta_per_k", F_REAL, "1/K", REQ, NONNEG(1), 0, offsetof(sio_leakage, beta_per_k)},
};

static const field layer_fields[] = {
    {"name", F_STR, "", REQ, NONEMPTY, 0, offsetof(sio_layer, name)},
    {"die", F_INT, "", OPT(0), 0, 0, INT_MAX, 0, NO_OFF},
    {"thickness_m", F_REAL, "m", REQ, RANGE(1e-9, 10), 0, offsetof(sio_layer, thickness_m)},
    {"k_w_mk", F_REAL, "W/(m K)", REQ, RANGE(1e-4, 1e6), 0, offsetof(sio_layer, k_w_mk)},
    {"cv_j_m3k", F_REAL, "J/(m^3 K)", REQ, RANGE(1e-3, 1e12), 0, offsetof(sio_layer, cv_j_m3k)},
};

#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* ---- context, paths and errors ----------------------------------------- */

enum { MAX_DEPTH = 8 };

typedef struct ctx {
    const char *path;   /* the chip file, as given */
    const char *text;   /* its bytes */
    size_t len;
    sio_error *err;
    sio_jstep steps[MAX_DEPTH];  /* where we are: the path of the value */
    size_t depth;
    sio_chip *chip;
} ctx;

static void push_key(ctx *c, const char *key)
{
    if (c->depth < MAX_DEPTH) {
        c->steps[c->depth].key = key;
        c->steps[c->depth].index = 0;
    }
    c->depth++;
}

static void push_index(ctx *c, size_t i)
{
    if (c->depth < MAX_DEPTH) {
        c->steps[c->depth].key = NULL;
        c->steps[c->depth].index = i;
    }
    c->depth++;
}

static void pop(ctx *c)
{
    c->depth--;
}

/* Renders steps[0..depth) as "rails[0].pdn.stages[1]". */
static void path_str(const ctx *c, size_t depth, char *buf, size_t size)
{
    size_t used = 0, d;
    buf[0] = '\0';
    for (d = 0; d < depth && d < MAX_DEPTH && used + 1 < size; d++) {
        int w;
        if (c->steps[d].key)
            w = snprintf(buf + used, size - used, "%s%s", d ? "." : "", c->steps[d].key);
        else
            w = snprintf(buf + used, size - used, "[%zu]", c->steps[d].index);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* Records an input error at the current path: at its value, or (at_key) at
** its key, whose parent is then the "where" of the message. */
static int fail(ctx *c, int at_key, const char *fmt, ...) PRINTF_LIKE(3, 4);
static int fail(ctx *c, int at_key, const char *fmt, ...)
{
    char msg[640], where[320];
    int line = 1, col = 1;
    size_t depth = c->depth < MAX_DEPTH ? c->depth : MAX_DEPTH;
    va_list ap;
    sio_json_locate(c->text, c->len, c->steps, depth, at_key, &line, &col);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    path_str(c, at_key && depth > 0 ? depth - 1 : depth, where, sizeof where);
    if (where[0])
        sio_error_set(c->err, c->path, line, col, "%s: %s", where, msg);
    else
        sio_error_set(c->err, c->path, line, col, "%s", msg);
    return SIO_EINPUT;
}

static int fail_nomem(ctx *c)
{
    sio_error_set(c->err, c->path, 0, 0, "out of memory");
    return SIO_ENOMEM;
}

/* Line of the value at path "arr[i].key" from the top, for "first at line". */
static int line_of(const ctx *c, const char *arr, size_t i, const char *key)
{
    sio_jstep s[3] = {{arr, 0}, {NULL, i}, {key, 0}};
    int line = 0, col = 0;
    sio_json_locate(c->text, c->len, s, 3, 0, &line, &col);
    return line;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* Formats, for "must be ..." messages, the limit that x breaks: the lower
** one alone when x is below it (the usual mistake: a sign, a zero). */
static void limits_str(const field *f, double x, char *buf, size_t size)
{
    int below = f->lo_open ? !(x > f->lo) : !(x >= f->lo);
    if (f->hi < DBL_MAX && !below)
        snprintf(buf, size, "at most %.15g", f->hi);
    else
        snprintf(buf, size, "%s %.15g", f->lo_open ? ">" : ">=", f->lo);
}

static int in_limits(const field *f, double x)
{
    if (f->lo_open ? !(x > f->lo) : !(x >= f->lo))
        return 0;
    return x <= f->hi;
}

/* ---- the generic pass --------------------------------------------------- */

static int read_number(ctx *c, const field *f, const json_t *v, int integer, double *x)
{
    char lim[96];
    if (integer ? !json_is_integer(v) : !json_is_number(v))
        return fail(c, 0, "expected %s%s%s%s, got %s", integer ? "an integer" : "a number",
                    f->unit[0] ? " (" : "", f->unit, f->unit[0] ? ")" : "", type_name(v));
    *x = json_number_value(v);
    if (!in_limits(f, *x)) {
        limits_str(f, *x, lim, sizeof lim);
        if (integer)
            return fail(c, 0, "must be %s, got %" JSON_INTEGER_FORMAT, lim,
                        json_integer_value(v));
        return fail(c, 0, "must be %s, got %.15g", lim, *x);
    }
    return 0;
}

static void store_default(const field *f, void *dst)
{
    char *p;
    size_t i;
    if (f->off == NO_OFF || !dst)
        return;
    p = (char *)dst + f->off;
    switch (f->kind) {
    case F_REAL: *(double *)(void *)p = f->def; break;
    case F_INT: *(int *)(void *)p = (int)f->def; break;
    case F_I64: *(int64_t *)(void *)p = (int64_t)f->def; break;
    case F_REALS:
        for (i = 0; i < f->n; i++)
            ((double *)(void *)p)[i] = f->def;
        break;
    case F_SIZES:
        for (i = 0; i < f->n; i++)
            ((size_t *)(void *)p)[i] = (size_t)f->def;
        break;
    default: break;
    }
}

/* Checks one present value against its field (the path ends at its key)
** and stores it. */
static int read_value(ctx *c, const field *f, const json_t *v, void *dst)
{
    char *p = dst && f->off != NO_OFF ? (char *)dst + f->off : NULL;
    double x;
    size_t i;
    int rc;
    switch (f->kind) {
    case F_STR:
        if (!json_is_string(v))
            return fail(c, 0, "expected a string, got %s", type_name(v));
        if ((double)json_string_length(v) < f->lo)
            return fail(c, 0, "must not be empty");
        if (strcmp(f->key, "format") != 0 && strcmp(f->key, "impedance_csv") != 0) {
            /* names go into CSV, JSON and HTML outputs: no quoting surprises */
            const char *t = json_string_value(v);
            char shown[80];
            if (sio_name_bad(t, json_string_length(v)) < json_string_length(v))
                return fail(c, 0, "names may not hold commas, double quotes or control characters: '%s'",
                            sio_quote(t, json_string_length(v), shown, sizeof shown));
        }
        if (p) {
            char *s = strdup(json_string_value(v));
            if (!s)
                return fail_nomem(c);
            *(char **)(void *)p = s;
        }
        return 0;
    case F_REAL:
    case F_INT:
    case F_I64:
        if ((rc = read_number(c, f, v, f->kind != F_REAL, &x)) != 0)
            return rc;
        if (p && f->kind == F_REAL)
            *(double *)(void *)p = x;
        else if (p && f->kind == F_INT)
            *(int *)(void *)p = (int)json_integer_value(v);
        else if (p)
            *(int64_t *)(void *)p = (int64_t)json_integer_value(v);
        return 0;
    case F_REALS:
    case F_SIZES:
        if (!json_is_array(v) || json_array_size(v) != f->n)
            return fail(c, 0, "expected an array of %zu %s%s%s%s, got %s", f->n,
                        f->kind == F_REALS ? "numbers" : "integers",
                        f->unit[0] ? " (" : "", f->unit, f->unit[0] ? ")" : "",
                        json_is_array(v) ? "a different length" : type_name(v));
        for (i = 0; i < f->n; i++) {
            push_index(c, i);
            rc = read_number(c, f, json_array_get(v, i), f->kind == F_SIZES, &x);
            pop(c);
            if (rc)
                return rc;
            if (p && f->kind == F_REALS)
                ((double *)(void *)p)[i] = x;
            else if (p)
                ((size_t *)(void *)p)[i] = (size_t)json_integer_value(json_array_get(v, i));
        }
        return 0;
    case F_OBJ:
        if (!json_is_object(v))
            return fail(c, 0, "expected an object, got %s", type_name(v));
        return 0;
    case F_ARR:
        if (!json_is_array(v))
            return fail(c, 0, "expected an array, got %s", type_name(v));
        if ((double)json_array_size(v) < f->lo)
            return fail(c, 0, "must not be empty");
        return 0;
    }
    return 0;
}

/* Checks the object at the current path against table t (unknown keys
** first, in document order; then each field in table order) and stores
** the values into dst (may be NULL when no field has an offset). */
static int read_fields(ctx *c, const json_t *obj, const field *t, size_t nt, void *dst)
{
    const char *key;
    json_t *v;
    size_t i;
    if (!json_is_object(obj))
        return fail(c, 0, "expected an object, got %s", type_name(obj));
    json_object_foreach((json_t *)obj, key, v) {
        const char *hint;
        for (i = 0; i < nt && strcmp(t[i].key, key) != 0; i++)
            ;
        if (i < nt)
            continue;
        hint = sio_closest(key, t, nt, sizeof t[0], offsetof(field, key));
        push_key(c, key);
        if (hint)
            return fail(c, 1, "unknown key '%s' (did you mean '%s'?)", key, hint);
        return fail(c, 1, "unknown key '%s'", key);
    }
    for (i = 0; i < nt; i++) {
        int rc;
        v = json_object_get(obj, t[i].key);
        if (!v) {
            if (t[i].required)
                return fail(c, 0, "missing required key '%s'", t[i].key);
            store_default(&t[i], dst);
            continue;
        }
        push_key(c, t[i].key);
        rc = read_value(c, &t[i], v, dst);
        pop(c);
        if (rc)
            return rc;
    }
    return 0;
}

/* Allocates and reads obj[key], an array of objects of one table, into
** *items (elem bytes each) and *count. The count is set as soon as the
** array exists, so a partial chip frees cleanly. */
static int read_array(ctx *c, const json_t *obj, const char *key, const field *t, size_t nt,
                      size_t elem, void **items, size_t *count)
{
    const json_t *arr = json_object_get(obj, key);
    size_t n = json_array_size(arr), i;
    int rc = 0;
    if (n == 0)
        return 0;
    *items = calloc(n, elem);
    if (!*items)
        return fail_nomem(c);
    *count = n;
    push_key(c, key);
    for (i = 0; i < n && rc == 0; i++) {
        push_index(c, i);
        rc = read_fields(c, json_array_get(arr, i), t, nt, (char *)*items + i * elem);
        pop(c);
    }
    pop(c);
    return rc;
}

/* Sets the path to arr[i].key (key may be NULL) from the top. */
static void at(ctx *c, const char *outer, const char *arr, size_t i, const char *key)
{
    c->depth = 0;
    if (outer)
        push_key(c, outer);
    push_key(c, arr);
    push_index(c, i);
    if (key)
        push_key(c, key);
}

/* ---- duplicates ---------------------------------------------------------- */

typedef struct named {
    const char *name;
    size_t idx;
} named;

static int cmp_named(const void *a, const void *b)
{
    const named *x = a, *y = b;
    int r = strcmp(x->name, y->name);
    if (r)
        return r;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Finds the earliest entry whose name repeats an earlier one: returns 1 and
** sets *dup and *first, 0 when all names differ, -1 out of memory. */
static int find_dup(const void *base, size_t n, size_t stride, size_t off, size_t *dup,
                    size_t *first)
{
    named *v;
    size_t i, g = 0;
    int found = 0;
    if (n < 2)
        return 0;
    v = malloc(n * sizeof *v);
    if (!v)
        return -1;
    for (i = 0; i < n; i++) {
        v[i].name = *(const char *const *)(const void *)((const char *)base + i * stride + off);
        v[i].idx = i;
    }
    qsort(v, n, sizeof *v, cmp_named);
    for (i = 1; i < n; i++) {
        if (strcmp(v[i].name, v[g].name) != 0) {
            g = i;
        } else if (!found || v[i].idx < *dup) {
            found = 1;
            *dup = v[i].idx;
            *first = v[g].idx;
        }
    }
    free(v);
    return found;
}

/* Refuses a repeated name in the array at [outer.]arr: the error points at
** the repeat and says where the first one is. */
static int check_unique(ctx *c, const char *outer, const char *arr, const char *what,
                        const void *base, size_t n, size_t stride, size_t off)
{
    size_t dup = 0, first = 0;
    int r = find_dup(base, n, stride, off, &dup, &first), line = 0, col = 0;
    const char *name;
    sio_jstep s[4];
    size_t d = 0;
    if (r < 0)
        return fail_nomem(c);
    if (r == 0)
        return 0;
    if (outer)
        s[d++] = (sio_jstep){outer, 0};
    s[d++] = (sio_jstep){arr, 0};
    s[d++] = (sio_jstep){NULL, first};
    s[d++] = (sio_jstep){"name", 0};
    sio_json_locate(c->text, c->len, s, d, 0, &line, &col);
    name = *(const char *const *)(const void *)((const char *)base + dup * stride + off);
    at(c, outer, arr, dup, "name");
    return fail(c, 0, "duplicate %s name '%s' (first at line %d)", what, name, line);
}

/* ---- impedance tables (libcsv) --------------------------------------------- */

typedef struct zread {
    const char *path;       /* the csv file, as resolved */
    sio_error *err;
    const char *line;       /* text of the line being parsed */
    long lineno;
    size_t field;           /* index of the next field in the record */
    int first_record;       /* a header is allowed here */
    int header;             /* the current record is the header */
    int failed;             /* an error has been recorded: ignore the rest */
    double vals[3];
    double *f_hz, *re_ohm, *im_ohm;
    size_t n, cap;
} zread;

static const char *const z_cols[3] = {"f_hz", "re_ohm", "im_ohm"};

/* 1-based character column of field k of the current line (commas inside
** double quotes do not count). */
static int z_col(const zread *z, size_t k)
{
    const char *s = z->line ? z->line : "";
    size_t i = 0, f = 0;
    int quoted = 0, col = 1;
    for (; s[i] && s[i] != '\n' && f < k; i++) {
        if (s[i] == '"')
            quoted = !quoted;
        else if (s[i] == ',' && !quoted)
            f++;
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            col++;
    }
    return col;
}

/* Records an error at field k of the current line: "<column>: <msg>". */
static void z_fail(zread *z, size_t k, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void z_fail(zread *z, size_t k, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sio_error_set(z->err, z->path, (int)z->lineno, z_col(z, k), "%s: %s", z_cols[k], msg);
    z->failed = SIO_EINPUT;
}

static int parse_double(const char *s, double *x)
{
    char *end;
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s)
        return -1;
    errno = 0;
    *x = strtod(s, &end);
    while (*end == ' ' || *end == '\t' || *end == '\r')
        end++;
    if (*end || !isfinite(*x) || (errno == ERANGE && fabs(*x) >= 1.0))   /* an underflow is its value */
        return -1;
    return 0;
}

static void z_field(void *s, size_t len, void *data)
{
    zread *z = data;
    size_t k = z->field++;
    char buf[64];
    double x;
    const char *txt = s ? (const char *)s : "";
    if (z->failed || z->header || k >= 3)
        return;
    if (s && memchr(s, 0, len)) {   /* strtod would stop at it and take the part before */
        z_fail(z, k, "holds a NUL byte");
        return;
    }
    if (parse_double(txt, &x) != 0) {
        if (k == 0 && z->first_record) {
            z->header = 1;
            return;
        }
        z_fail(z, k, "expected a finite number, got '%s'", sio_quote(txt, strlen(txt), buf, sizeof buf));
        return;
    }
    z->vals[k] = x;
}

static void z_record(int term, void *data)
{
    zread *z = data;
    (void)term;
    if (!z->failed && !z->header) {
        if (z->field != 3) {
            char msg[96];
            snprintf(msg, sizeof msg, "expected 3 fields (f_hz,re_ohm,im_ohm), got %zu", z->field);
            sio_error_set(z->err, z->path, (int)z->lineno, 1, "%s", msg);
            z->failed = SIO_EINPUT;
        } else if (z->vals[0] < 0) {
            z_fail(z, 0, "must be >= 0, got %.15g", z->vals[0]);
        } else if (z->n > 0 && !(z->vals[0] > z->f_hz[z->n - 1])) {
            z_fail(z, 0, "must increase strictly from row to row, got %.15g after %.15g",
                   z->vals[0], z->f_hz[z->n - 1]);
        } else {
            if (z->n == z->cap) {
                size_t cap = z->cap ? 2 * z->cap : 64;
                double *f = realloc(z->f_hz, cap * sizeof *f);
                double *re = f ? realloc(z->re_ohm, cap * sizeof *re) : NULL;
                double *im = re ? realloc(z->im_ohm, cap * sizeof *im) : NULL;
                if (f)
                    z->f_hz = f;
                if (re)
                    z->re_ohm = re;
                if (!im) {
                    sio_error_set(z->err, z->path, 0, 0, "out of memory");
                    z->failed = SIO_ENOMEM;
                    return;
                }
                z->im_ohm = im;
                z->cap = cap;
            }
            z->f_hz[z->n] = z->vals[0];
            z->re_ohm[z->n] = z->vals[1];
            z->im_ohm[z->n] = z->vals[2];
            z->n++;
        }
    }
    z->field = 0;
    z->header = 0;
    z->first_record = 0;
}

/* The next line of fp, with its '\n', into *buf (NUL-terminated, *cap
** bytes): returns its length, 0 at the end of the file, -1 on a read error,
** -2 when it is longer than max bytes (then the rest is not read). Unlike
** getline, never holds more than max + 1 bytes. */
static long read_line_max(FILE *fp, char **buf, size_t *cap, size_t max)
{
    size_t n = 0;
    int ch;
    while ((ch = getc(fp)) != EOF) {
        if (n == max)
            return -2;
        if (n + 2 > *cap) {
            size_t c = *cap ? 2 * *cap : 256;
            char *b = realloc(*buf, c);
            if (!b) {
                errno = ENOMEM;
                return -1;
            }
            *buf = b;
            *cap = c;
        }
        (*buf)[n++] = (char)ch;
        if (ch == '\n')
            break;
    }
    if (ch == EOF && ferror(fp))
        return -1;
    if (n)
        (*buf)[n] = '\0';
    return (long)n;
}

/* Reads the rail's impedance table from r->impedance_csv into r->z_*. The
** path of the chip is at the `impedance_csv` value, for open errors. The
** file and its lines are bounded (SIO_CHIP_MAX_BYTES, SIO_TABLE_MAX_LINE):
** past either, an error at the line. */
static int read_impedance(ctx *c, sio_rail *r)
{
    zread z;
    struct csv_parser p;
    FILE *fp;
    char *buf = NULL;
    size_t cap = 0, total = 0;
    long got;
    int rc = 0;
    memset(&z, 0, sizeof z);
    z.path = r->impedance_csv;
    z.err = c->err;
    z.first_record = 1;
    fp = fopen(r->impedance_csv, "rb");
    if (!fp)
        return fail(c, 0, "cannot open '%s': %s", r->impedance_csv, strerror(errno));
    if (csv_init(&p, CSV_APPEND_NULL) != 0) {
        fclose(fp);
        return fail_nomem(c);
    }
    while (!z.failed && (got = read_line_max(fp, &buf, &cap, SIO_TABLE_MAX_LINE)) != 0) {
        z.lineno++;
        if (got == -1 && !ferror(fp)) {
            sio_error_set(c->err, z.path, 0, 0, "out of memory");
            z.failed = SIO_ENOMEM;
        }
        if (got == -1)
            break;
        if (got == -2 || (total += (size_t)got) > SIO_CHIP_MAX_BYTES) {
            if (got == -2)
                sio_error_set(c->err, z.path, (int)z.lineno, 1, "line longer than %zu bytes", SIO_TABLE_MAX_LINE);
            else
                sio_error_set(c->err, z.path, (int)z.lineno, 1, "table longer than %zu bytes", SIO_CHIP_MAX_BYTES);
            z.failed = SIO_EINPUT;
            break;
        }
        z.line = buf;
        if (csv_parse(&p, buf, (size_t)got, z_field, z_record, &z) != (size_t)got) {
            sio_error_set(c->err, z.path, (int)z.lineno, 1, "%s", csv_strerror(csv_error(&p)));
            z.failed = SIO_EINPUT;
        }
    }
    if (!z.failed && ferror(fp)) {
        sio_error_set(c->err, z.path, 0, 0, "read error: %s", strerror(errno));
        z.failed = SIO_EIO;
    }
    if (!z.failed)
        csv_fini(&p, z_field, z_record, &z);
    csv_free(&p);
    free(buf);
    fclose(fp);
    if (!z.failed && z.n < 2) {
        sio_error_set(c->err, z.path, (int)(z.lineno ? z.lineno : 1), 1,
                      "needs at least 2 rows of f_hz,re_ohm,im_ohm, found %zu", z.n);
        z.failed = SIO_EINPUT;
    }
    r->z_f_hz = z.f_hz;
    r->z_re_ohm = z.re_ohm;
    r->z_im_ohm = z.im_ohm;
    r->n_z = z.n;
    if (z.failed)
        rc = z.failed;
    return rc;
}

/* The csv path relative to the chip file's folder (absolute paths stay). */
static char *resolve_path(const char *chip_path, const char *rel)
{
    const char *slash = strrchr(chip_path, '/');
    size_t dl = slash ? (size_t)(slash - chip_path) + 1 : 0, rl = strlen(rel);
    char *s;
    if (rel[0] == '/')
        dl = 0;
    s = malloc(dl + rl + 1);
    if (!s)
        return NULL;
    memcpy(s, chip_path, dl);
    memcpy(s + dl, rel, rl + 1);
    return s;
}

/* ---- the hand-written passes ----------------------------------------------- */

static int find_die_id(const sio_chip *chip, json_int_t id, size_t *idx)
{
    size_t i;
    for (i = 0; i < chip->n_dies; i++) {
        if ((json_int_t)chip->dies[i].id == id) {
            *idx = i;
            return 0;
        }
    }
    return -1;
}

static int check_dies(ctx *c)
{
    const sio_chip *chip = c->chip;
    size_t i, j;
    for (i = 1; i < chip->n_dies; i++) {
        for (j = 0; j < i; j++) {
            if (chip->dies[i].id == chip->dies[j].id) {
                int line = line_of(c, "dies", j, "id");
                at(c, NULL, "dies", i, "id");
                return fail(c, 0, "duplicate die id %d (first at line %d)", chip->dies[i].id,
                            line);
            }
        }
    }
    return check_unique(c, NULL, "dies", "die", chip->dies, chip->n_dies, sizeof(sio_die),
                        offsetof(sio_die, name));
}

/* The ladder's regulator, `pdn.vrm`, when given; its `sense` names one of
** the rail's stages (the node after it is sensed). */
static int read_vrm(ctx *c, const json_t *vrm, sio_rail *r, size_t i)
{
    int rc;
    if (!vrm)
        return 0;
    at(c, NULL, "rails", i, "pdn");
    push_key(c, "vrm");
    if ((rc = read_fields(c, vrm, vrm_fields, NFIELDS(vrm_fields), &r->vrm)) != 0)
        return rc;
    r->vrm.present = 1;
    {
        int line = 0, col = 0;
        sio_json_locate(c->text, c->len, c->steps, c->depth < MAX_DEPTH ? c->depth : MAX_DEPTH, 0, &line, &col);
        r->vrm.line = line;
        r->vrm.col = col;
    }
    if (!r->vrm.sense)
        return 0;
    for (size_t k = 0; k < r->n_stages; k++)
        if (strcmp(r->stages[k].name, r->vrm.sense) == 0) {
            r->vrm.sense_node = k + 1;
            return 0;
        }
    push_key(c, "sense");
    return fail(c, 0, "no stage named '%s' on rail '%s' (the node after the named stage is sensed)",
                r->vrm.sense, r->name);
}

static int read_pdn(ctx *c, const json_t *jr, sio_rail *r, size_t i)
{
    const json_t *pdn = json_object_get(jr, "pdn");
    const json_t *csv_rail = json_object_get(jr, "impedance_csv");
    const json_t *stages = NULL, *csv_pdn = NULL, *csv;
    int rc;
    at(c, NULL, "rails", i, NULL);
    if (pdn) {
        push_key(c, "pdn");
        if ((rc = read_fields(c, pdn, pdn_fields, NFIELDS(pdn_fields), NULL)) != 0)
            return rc;
        stages = json_object_get(pdn, "stages");
        csv_pdn = json_object_get(pdn, "impedance_csv");
        if (stages && csv_pdn) {
            push_key(c, "impedance_csv");
            return fail(c, 1, "give either 'stages' or 'impedance_csv', not both");
        }
        if (csv_rail && (stages || csv_pdn)) {
            at(c, NULL, "rails", i, "impedance_csv");
            return fail(c, 1, "give either 'pdn' or 'impedance_csv', not both");
        }
        if (!stages && !csv_pdn)
            return fail(c, 0, "needs 'stages' (a list of ladder stages) or 'impedance_csv'");
        if (stages) {
            if ((rc = read_array(c, pdn, "stages", stage_fields, NFIELDS(stage_fields),
                                 sizeof(sio_stage), (void **)&r->stages, &r->n_stages)) != 0)
                return rc;
            return read_vrm(c, json_object_get(pdn, "vrm"), r, i);
        }
        if (json_object_get(pdn, "vrm")) {
            push_key(c, "vrm");
            return fail(c, 1, "a regulator needs a ladder ('stages'), not a table");
        }
    } else if (!csv_rail) {
        return fail(c, 0, "needs a power-delivery network: 'pdn' with 'stages', or "
                          "'impedance_csv'");
    }
    csv = csv_pdn ? csv_pdn : csv_rail;
    if (csv_pdn)
        push_key(c, "impedance_csv");
    else
        at(c, NULL, "rails", i, "impedance_csv");
    r->impedance_csv = resolve_path(c->path, json_string_value(csv));
    if (!r->impedance_csv)
        return fail_nomem(c);
    return read_impedance(c, r);
}

static int check_stage_names(ctx *c, const sio_rail *r, size_t i)
{
    size_t dup = 0, first = 0;
    int f = find_dup(r->stages, r->n_stages, sizeof(sio_stage), offsetof(sio_stage, name),
                     &dup, &first);
    sio_jstep s[5] = {{"rails", 0}, {NULL, i}, {"pdn", 0}, {"stages", 0}, {NULL, 0}};
    int line = 0, col = 0;
    if (f < 0)
        return fail_nomem(c);
    if (f == 0)
        return 0;
    s[4].index = first;
    sio_json_locate(c->text, c->len, s, 5, 0, &line, &col);
    at(c, NULL, "rails", i, "pdn");
    push_key(c, "stages");
    push_index(c, dup);
    push_key(c, "name");
    return fail(c, 0, "duplicate stage name '%s' (first at line %d)", r->stages[dup].name,
                line);
}

static int read_rails(ctx *c, const json_t *root)
{
    sio_chip *chip = c->chip;
    const json_t *arr = json_object_get(root, "rails");
    size_t i;
    int rc;
    c->depth = 0;
    if ((rc = read_array(c, root, "rails", rail_fields, NFIELDS(rail_fields), sizeof(sio_rail),
                         (void **)&chip->rails, &chip->n_rails)) != 0)
        return rc;
    if ((rc = check_unique(c, NULL, "rails", "rail", chip->rails, chip->n_rails,
                           sizeof(sio_rail), offsetof(sio_rail, name))) != 0)
        return rc;
    for (i = 0; i < chip->n_rails; i++) {
        sio_rail *r = &chip->rails[i];
        const json_t *pdn = json_object_get(json_array_get(arr, i), "pdn");
        if ((rc = read_pdn(c, json_array_get(arr, i), r, i)) != 0)
            return rc;
        if (pdn && r->n_stages && (rc = check_stage_names(c, r, i)) != 0)
            return rc;
    }
    return 0;
}

static int intern_class(ctx *c, const char *name, size_t *idx)
{
    sio_chip *chip = c->chip;
    char **v;
    size_t i;
    for (i = 0; i < chip->n_classes; i++) {
        if (strcmp(chip->classes[i], name) == 0) {
            *idx = i;
            return 0;
        }
    }
    v = realloc(chip->classes, (chip->n_classes + 1) * sizeof *v);
    if (!v)
        return fail_nomem(c);
    chip->classes = v;
    v[chip->n_classes] = strdup(name);
    if (!v[chip->n_classes])
        return fail_nomem(c);
    *idx = chip->n_classes++;
    return 0;
}

static int check_rect(ctx *c, const sio_unit *u, size_t i)
{
    const sio_chip *chip = c->chip;
    const double *r = u->rect_mm;
    int k;
    for (k = 0; k < 2; k++) {
        const char *axis = k ? "y" : "x", *size = k ? "height" : "width";
        double lo = r[k], ext = r[k + 2], hi = chip->outline_mm[k];
        at(c, NULL, "units", i, "rect_mm");
        if (!(ext >= UNIT_MIN_MM)) {
            push_index(c, (size_t)k + 2);
            return fail(c, 0, "the %s must be at least %g mm (1 nm), got %.15g", size, UNIT_MIN_MM, ext);
        }
        if (lo < 0 || lo + ext > hi + OUTLINE_TOL_MM)
            return fail(c, 0, "unit '%s' spans %s = %.15g..%.15g mm, outside the outline "
                        "(0..%.15g mm)", u->name, axis, lo, lo + ext, hi);
    }
    return 0;
}

static int read_units(ctx *c, const json_t *root)
{
    sio_chip *chip = c->chip;
    const json_t *arr = json_object_get(root, "units");
    size_t i, k;
    int rc;
    c->depth = 0;
    if ((rc = read_array(c, root, "units", unit_fields, NFIELDS(unit_fields), sizeof(sio_unit),
                         (void **)&chip->units, &chip->n_units)) != 0)
        return rc;
    for (i = 0; i < chip->n_units; i++) {
        sio_unit *u = &chip->units[i];
        const json_t *ju = json_array_get(arr, i);
        const char *cls = json_string_value(json_object_get(ju, "class"));
        const char *rail = json_string_value(json_object_get(ju, "rail"));
        json_int_t die = json_integer_value(json_object_get(ju, "die"));
        if ((rc = intern_class(c, cls, &u->cls)) != 0)
            return rc;
        if (find_die_id(chip, die, &u->die) != 0) {
            at(c, NULL, "units", i, "die");
            return fail(c, 0, "no die has id %" JSON_INTEGER_FORMAT, die);
        }
        for (k = 0; k < chip->n_rails && strcmp(chip->rails[k].name, rail) != 0; k++)
            ;
        if (k == chip->n_rails) {
            const char *hint = sio_closest(rail, chip->rails, chip->n_rails, sizeof(sio_rail),
                                       offsetof(sio_rail, name));
            at(c, NULL, "units", i, "rail");
            if (hint)
                return fail(c, 0, "unknown rail '%s' (did you mean '%s'?)", rail, hint);
            return fail(c, 0, "unknown rail '%s'", rail);
        }
        u->rail = k;
        if ((rc = check_rect(c, u, i)) != 0)
            return rc;
    }
    return check_unique(c, NULL, "units", "unit", chip->units, chip->n_units, sizeof(sio_unit),
                        offsetof(sio_unit, name));
}

static int read_ops(ctx *c, const json_t *root)
{
    sio_chip *chip = c->chip;
    const json_t *arr = json_object_get(root, "ops");
    size_t i, j;
    int rc;
    c->depth = 0;
    if ((rc = read_array(c, root, "ops", op_fields, NFIELDS(op_fields), sizeof(sio_op),
                         (void **)&chip->ops, &chip->n_ops)) != 0)
        return rc;
    for (i = 0; i < chip->n_ops; i++) {
        sio_op *o = &chip->ops[i];
        const char *cls = json_string_value(json_object_get(json_array_get(arr, i), "class"));
        if (sio_chip_find_class(chip, cls, strlen(cls), &o->cls) != 0) {
            const char *hint = sio_closest(cls, chip->classes, chip->n_classes, sizeof(char *), 0);
            at(c, NULL, "ops", i, "class");
            if (hint)
                return fail(c, 0, "no unit has class '%s' (did you mean '%s'?)", cls, hint);
            return fail(c, 0, "no unit has class '%s'", cls);
        }
        for (j = 0; j < i; j++) {
            if (chip->ops[j].cls == o->cls && strcmp(chip->ops[j].name, o->name) == 0) {
                int line = line_of(c, "ops", j, "op");
                at(c, NULL, "ops", i, "op");
                return fail(c, 0, "duplicate op '%s' for class '%s' (first at line %d)",
                            o->name, cls, line);
            }
        }
    }
    return 0;
}

static int read_thermal(ctx *c, const json_t *root)
{
    sio_chip *chip = c->chip;
    sio_thermal *th = &chip->thermal;
    const json_t *jt = json_object_get(root, "thermal"), *arr;
    size_t i, d;
    int rc;
    c->depth = 0;
    if (!jt) {
        /* absent: present = 0, the other defaults still filled in */
        for (i = 0; i < NFIELDS(thermal_fields); i++)
            store_default(&thermal_fields[i], th);
        return 0;
    }
    if (chip->n_dies > SIO_THERMAL_MAX_DIES) {
        push_key(c, "dies");
        push_index(c, SIO_THERMAL_MAX_DIES);
        return fail(c, 0, "a chip with a thermal stack has at most %d dies, this one %zu", SIO_THERMAL_MAX_DIES,
                    chip->n_dies);
    }
    push_key(c, "thermal");
    if ((rc = read_fields(c, jt, thermal_fields, NFIELDS(thermal_fields), th)) != 0)
        return rc;
    th->present = 1;
    const json_t *jl = json_object_get(jt, "leakage");
    if (jl) {
        push_key(c, "leakage");
        if ((rc = read_fields(c, jl, leakage_fields, NFIELDS(leakage_fields), &th->leakage)) != 0)
            return rc;
        th->leakage.present = 1;
        pop(c);
    }
    if ((rc = read_array(c, jt, "layers", layer_fields, NFIELDS(layer_fields), sizeof(sio_layer),
                         (void **)&th->layers, &th->n_layers)) != 0)
        return rc;
    if ((rc = check_unique(c, "thermal", "layers", "layer", th->layers, th->n_layers,
                           sizeof(sio_layer), offsetof(sio_layer, name))) != 0)
        return rc;
    arr = json_object_get(jt, "layers");
    for (i = 0; i < th->n_layers; i++) {
        const json_t *jd = json_object_get(json_array_get(arr, i), "die");
        sio_layer *l = &th->layers[i];
        if (!jd)
            continue;
        at(c, "thermal", "layers", i, "die");
        if (find_die_id(chip, json_integer_value(jd), &l->die) != 0)
            return fail(c, 0, "no die has id %" JSON_INTEGER_FORMAT, json_integer_value(jd));
        l->has_die = 1;
        for (d = 0; d < i; d++) {
            if (th->layers[d].has_die && th->layers[d].die == l->die)
                return fail(c, 0, "die %d is already carried by layer '%s'",
                            chip->dies[l->die].id, th->layers[d].name);
        }
    }
    for (d = 0; d < chip->n_dies; d++) {
        for (i = 0; i < th->n_layers && !(th->layers[i].has_die && th->layers[i].die == d); i++)
            ;
        if (i == th->n_layers) {
            c->depth = 0;
            push_key(c, "thermal");
            push_key(c, "layers");
            return fail(c, 0, "no layer carries die %d ('%s'): give one layer \"die\": %d",
                        chip->dies[d].id, chip->dies[d].name, chip->dies[d].id);
        }
    }
    return 0;
}

/* Leakage (after thermal): a unit with leak_a > 0 needs thermal.leakage;
** a unit without its own leak_beta_per_k gets the chip's (0 when the chip
** has none: such a unit draws no leakage anyway). */
static int read_leakage(ctx *c)
{
    sio_chip *chip = c->chip;
    const sio_thermal *th = &chip->thermal;
    for (size_t i = 0; i < chip->n_units; i++) {
        sio_unit *u = &chip->units[i];
        if (u->leak_beta_per_k < 0) u->leak_beta_per_k = th->leakage.present ? th->leakage.beta_per_k : 0.0;
        if (u->leak_a > 0 && !th->leakage.present) {
            if (!th->present) {
                at(c, NULL, "units", i, "leak_a");
                return fail(c, 0, "unit '%s' leaks, but the chip has no 'thermal' object (leakage needs "
                            "\"thermal\": {..., \"leakage\": {\"t_ref_c\": ..., \"beta_per_k\": ...}})",
                            u->name);
            }
            c->depth = 0;
            push_key(c, "thermal");
            return fail(c, 0, "missing required key 'leakage' (unit '%s' has leak_a > 0: give "
                        "\"leakage\": {\"t_ref_c\": ..., \"beta_per_k\": ...})", u->name);
        }
    }
    return 0;
}

static int read_chip(ctx *c, const json_t *root)
{
    const json_t *fmt;
    int rc;
    if (!json_is_object(root))
        return fail(c, 0, "expected a JSON object at the top level, got %s", type_name(root));
    /* the format first: other errors mean little in a file of another
    ** format (a missing one is reported by the generic pass, after a
    ** misspelt key such as 'fromat') */
    fmt = json_object_get(root, "format");
    if (fmt) {
        push_key(c, "format");
        if (!json_is_string(fmt))
            return fail(c, 0, "expected \"%s\", got %s", SIO_CHIP_FORMAT, type_name(fmt));
        if (strcmp(json_string_value(fmt), SIO_CHIP_FORMAT) != 0)
            return fail(c, 0, "expected \"%s\", got \"%s\"", SIO_CHIP_FORMAT,
                        json_string_value(fmt));
        pop(c);
    }
    if ((rc = read_fields(c, root, chip_fields, NFIELDS(chip_fields), c->chip)) != 0)
        return rc;
    if ((rc = read_array(c, root, "dies", die_fields, NFIELDS(die_fields), sizeof(sio_die),
                         (void **)&c->chip->dies, &c->chip->n_dies)) != 0)
        return rc;
    if ((rc = check_dies(c)) != 0)
        return rc;
    if ((rc = read_rails(c, root)) != 0)
        return rc;
    if ((rc = read_units(c, root)) != 0)
        return rc;
    if ((rc = read_ops(c, root)) != 0)
        return rc;
    if ((rc = read_thermal(c, root)) != 0)
        return rc;
    return read_leakage(c);
}

/* The chip file as jansson parses it (json_load_callback), so that a
** stream that is not JSON stops at its first bytes: every byte is kept, for
** the positions of later errors, and counted against SIO_CHIP_MAX_BYTES;
** and the values and keys are counted against SIO_CHIP_MAX_VALUES (an upper
** bound: one for the top value, one more for each '{', '[', ',' and ':'
** outside strings, as each value or key but the first follows one). */
typedef struct jread {
    FILE *fp;             /* the file, or NULL: the bytes at mem (mem_len of them) */
    const char *mem;
    size_t mem_len, mem_pos;
    char *text;
    size_t len, cap;
    size_t values;
    int in_str, esc;
    enum { J_OK, J_BYTES, J_VALUES, J_READ, J_NOMEM } stop;   /* why the reading stopped */
    size_t stop_at;       /* J_BYTES, J_VALUES: the offset of the byte past the limit */
    int err;              /* J_READ: errno */
} jread;

static size_t jread_cb(void *buffer, size_t buflen, void *data)
{
    jread *j = data;
    char *b = buffer;
    if (j->stop)
        return (size_t)-1;
    size_t want = SIO_CHIP_MAX_BYTES + 1 - j->len < buflen ? SIO_CHIP_MAX_BYTES + 1 - j->len : buflen;
    size_t got, i;
    if (j->fp) {
        got = fread(b, 1, want, j->fp);
    } else {
        got = j->mem_len - j->mem_pos < want ? j->mem_len - j->mem_pos : want;
        memcpy(b, j->mem + j->mem_pos, got);
        j->mem_pos += got;
    }
    if (got == 0) {
        if (!j->fp || !ferror(j->fp))
            return 0;
        j->err = errno ? errno : EIO;
        j->stop = J_READ;
        return (size_t)-1;
    }
    if (j->len + got > j->cap) {
        size_t cap = j->cap ? 2 * j->cap : 16384;
        char *t;
        while (cap < j->len + got)
            cap *= 2;
        if (!(t = realloc(j->text, cap))) {
            j->stop = J_NOMEM;
            return (size_t)-1;
        }
        j->text = t;
        j->cap = cap;
    }
    memcpy(j->text + j->len, b, got);
    for (i = 0; i < got; i++) {
        char ch = b[i];
        if (j->in_str) {
            if (j->esc)
                j->esc = 0;
            else if (ch == '\\')
                j->esc = 1;
            else if (ch == '"')
                j->in_str = 0;
        } else if (ch == '"') {
            j->in_str = 1;
        } else if ((ch == '{' || ch == '[' || ch == ',' || ch == ':') && ++j->values > SIO_CHIP_MAX_VALUES) {
            j->stop = J_VALUES;
            j->stop_at = j->len + i;
            break;
        }
    }
    j->len += got;
    if (!j->stop && j->len > SIO_CHIP_MAX_BYTES) {
        j->stop = J_BYTES;
        j->stop_at = SIO_CHIP_MAX_BYTES;
    }
    return j->stop ? (size_t)-1 : got;
}

/* Confirms the first parse of the chip's text (a tree, or NULL with *je):
** SIO_OK, SIO_EINPUT (*je says why) or SIO_ENOMEM. jansson does not tell
** every allocation failure inside its parser: most come back as syntax
** errors or with no message, and one while it saves a token longer than 15
** bytes drops a byte of the token without a word. So the text read (all of
** it, or the part read before the parser stopped) is parsed again: the two
** trees must be equal, and a syntax error is one that the second parse
** finds again, in the same place with the same message. Anything else is
** memory. The first tree is kept only when confirmed (else freed). */
static int confirm_json(const char *text, size_t len, json_t **root, const json_error_t *je)
{
    json_error_t e2;
    json_t *a = *root, *b = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e2);
    int rc = a && b && json_equal(a, b) ? SIO_OK : SIO_ENOMEM;
    if (!a && !b && je->text[0] && json_error_code(je) != json_error_out_of_memory &&
        e2.position == je->position && strcmp(e2.text, je->text) == 0)
        rc = SIO_EINPUT;
    json_decref(b);
    if (rc != SIO_OK) json_decref(a);
    *root = rc == SIO_OK ? a : NULL;
    return rc;
}

/* ---- public ---------------------------------------------------------------- */

/* The reader of both entry points: the file named path, or (file NULL)
** the len bytes at mem; path names the source in messages and becomes the
** chip's path. */
static int chip_read(const char *path, const char *file, const char *mem, size_t len, sio_chip **out,
                     sio_error *err)
{
    sio_error scratch;
    jread jr, *j = &jr;
    if (!err)
        err = &scratch;
    err->line = err->col = 0;
    err->text[0] = '\0';
    *out = NULL;
    memset(j, 0, sizeof *j);
    j->mem = mem;
    j->mem_len = len;
    if (file && !(j->fp = fopen(file, "rb"))) {
        sio_error_set(err, path, 0, 0, "cannot read the chip description: %s", strerror(errno));
        return SIO_EIO;
    }
    json_error_t je;
    json_t *root;
    ctx c;
    int rc;
    memset(&c, 0, sizeof c);
    c.path = path;
    c.err = err;
    j->values = 1;
    /* parsed as it is read, under the limits (jread_cb: bytes and values),
    ** so a stream that is not JSON stops at once; then confirmed */
    root = json_load_callback(jread_cb, j, JSON_REJECT_DUPLICATES, &je);
    if (j->fp)
        fclose(j->fp);
    rc = SIO_OK;
    if (j->stop == J_OK) rc = confirm_json(j->text ? j->text : "", j->len, &root, &je);
    if (j->stop != J_OK || rc != SIO_OK) {
        int line = 1, col = 1;
        if (j->stop == J_BYTES || j->stop == J_VALUES)
            sio_json_line_col(j->text, j->stop_at, &line, &col);
        if (j->stop == J_BYTES) {
            sio_error_set(err, path, line, col, "chip description longer than %zu bytes", SIO_CHIP_MAX_BYTES);
            rc = SIO_EINPUT;
        } else if (j->stop == J_VALUES) {
            sio_error_set(err, path, line, col, "more than %zu JSON values and keys", SIO_CHIP_MAX_VALUES);
            rc = SIO_EINPUT;
        } else if (j->stop == J_READ) {
            sio_error_set(err, path, 0, 0, "cannot read the chip description: %s", strerror(j->err));
            rc = SIO_EIO;
        } else if (j->stop == J_NOMEM || rc == SIO_ENOMEM) {
            rc = fail_nomem(&c);
        } else {
            sio_error_set(err, path, je.line > 0 ? je.line : 1, je.column > 0 ? je.column : 1,
                          "invalid JSON: %s", je.text);
            rc = SIO_EINPUT;
        }
        free(j->text);
        return rc;
    }
    c.text = j->text;
    c.len = j->len;
    c.chip = calloc(1, sizeof *c.chip);
    if (!c.chip || !(c.chip->path = strdup(path))) {
        rc = fail_nomem(&c);
    } else {
        rc = read_chip(&c, root);
    }
    json_decref(root);
    free((char *)c.text);
    if (rc != 0) {
        sio_chip_free(c.chip);
        return rc;
    }
    *out = c.chip;
    return SIO_OK;
}

int sio_chip_load(const char *path, sio_chip **out, sio_error *err)
{
    return chip_read(path, path, NULL, 0, out, err);
}

int sio_chip_from_buffer(const char *name, const char *text, size_t len, sio_chip **out, sio_error *err)
{
    return chip_read(name ? name : "<buffer>", NULL, text ? text : "", text ? len : 0, out, err);
}

int sio_chip_locate(const sio_chip *c, const char *where, int *line, int *col)
{
    *line = *col = 0;
    if (!c || !c->path || !where)
        return -1;
    /* opened without blocking (the path may have become a FIFO since the
    ** load), then taken only as a regular file */
    int fd = open(c->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    struct stat sb;
    if (fd < 0)
        return -1;
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > SIO_CHIP_MAX_BYTES) {
        close(fd);
        return -1;
    }
    size_t len = (size_t)sb.st_size, got = 0;
    char *text = malloc(len + 1), *keys = malloc(strlen(where) + MAX_DEPTH + 1), *q = keys;
    int rc = -1;
    while (text && got < len) {
        ssize_t r = read(fd, text + got, len - got);
        if (r <= 0 && !(r < 0 && errno == EINTR))
            break;
        got += r > 0 ? (size_t)r : 0;
    }
    if (!text || !keys || got != len)
        goto out;
    /* the steps: keys between the dots (copied out, each ended), indices in [] */
    sio_jstep steps[MAX_DEPTH];
    size_t depth = 0;
    for (const char *p = where; *p;) {
        if (depth == MAX_DEPTH)
            goto out;
        if (*p == '[') {
            char *end;
            errno = 0;
            unsigned long long i = strtoull(p + 1, &end, 10);
            if (end == p + 1 || *end != ']' || errno)
                goto out;
            steps[depth++] = (sio_jstep){NULL, (size_t)i};
            p = end + 1;
        } else {
            size_t k = strcspn(p, ".[");
            if (!k)
                goto out;
            memcpy(q, p, k);
            q[k] = '\0';
            steps[depth++] = (sio_jstep){q, 0};
            q += k + 1;
            p += k;
        }
        if (*p == '.')
            p++;
    }
    /* the file as it is now (it may have changed since the load): located
    ** only when it still parses */
    json_error_t je;
    json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (v && depth)
        rc = sio_json_locate(text, len, steps, depth, 0, line, col);
    json_decref(v);
    if (rc)
        *line = *col = 0;
out:
    close(fd);
    free(text);
    free(keys);
    return rc;
}

void sio_chip_free(sio_chip *c)
{
    size_t i, k;
    if (!c)
        return;
    for (i = 0; i < c->n_dies; i++)
        free(c->dies[i].name);
    for (i = 0; i < c->n_rails; i++) {
        sio_rail *r = &c->rails[i];
        for (k = 0; k < r->n_stages; k++)
            free(r->stages[k].name);
        free(r->stages);
        free(r->name);
        free(r->impedance_csv);
        free(r->vrm.sense);
        free(r->z_f_hz);
        free(r->z_re_ohm);
        free(r->z_im_ohm);
    }
    for (i = 0; i < c->n_units; i++)
        free(c->units[i].name);
    for (i = 0; i < c->n_ops; i++)
        free(c->ops[i].name);
    for (i = 0; i < c->n_classes; i++)
        free(c->classes[i]);
    for (i = 0; i < c->thermal.n_layers; i++)
        free(c->thermal.layers[i].name);
    free(c->thermal.layers);
    free(c->classes);
    free(c->dies);
    free(c->rails);
    free(c->units);
    free(c->ops);
    free(c->name);
    free(c->path);
    free(c);
}

double sio_chip_period_ns(const sio_chip *c)
{
    return 1.0 / c->clock_ghz;
}

static int name_is(const char *name, const char *s, size_t len)
{
    return name && strncmp(name, s, len) == 0 && name[len] == '\0';
}

int sio_chip_find_unit(const sio_chip *c, const char *name, size_t len, size_t *idx)
{
    size_t i;
    for (i = 0; i < c->n_units; i++) {
        if (name_is(c->units[i].name, name, len)) {
            *idx = i;
            return 0;
        }
    }
    return -1;
}

int sio_chip_find_class(const sio_chip *c, const char *name, size_t len, size_t *idx)
{
    size_t i;
    for (i = 0; i < c->n_classes; i++) {
        if (name_is(c->classes[i], name, len)) {
            *idx = i;
            return 0;
        }
    }
    return -1;
}

int sio_chip_find_op(const sio_chip *c, size_t cls, const char *name, size_t len, size_t *idx)
{
    size_t i;
    for (i = 0; i < c->n_ops; i++) {
        if (c->ops[i].cls == cls && name_is(c->ops[i].name, name, len)) {
            *idx = i;
            return 0;
        }
    }
    return -1;
}
