/* jbuild.h -- building a jansson tree without losing a failed allocation.
** json_object_set_new and json_array_append_new tell that they could not
** add (a NULL value from a failed json_real or json_object, or no memory
** for the slot) only in their return value; jset and jpush set *bad
** instead, so a builder checks once at the end and hands back NULL rather
** than a tree with holes. Both take v whatever happens, as jansson does.
** Also jdump and jload, jansson's text out and in made safe the same way. */
#ifndef PDA_JBUILD_H
#define PDA_JBUILD_H
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline void jset(json_t *o, const char *k, json_t *v, int *bad)
{
    if (json_object_set_new(o, k, v) != 0) *bad = 1;
}

static inline void jpush(json_t *a, json_t *v, int *bad)
{
    if (json_array_append_new(a, v) != 0) *bad = 1;
}

/* A number, or null when it is not finite (json_real refuses those, and
** its NULL would read as out of memory): a runaway's infinite temperature,
** a figure not computed (NaN). */
static inline json_t *jreal(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* o, or NULL (o freed) when bad. */
static inline json_t *jdone(json_t *o, int bad)
{
    if (!bad) return o;
    json_decref(o);
    return NULL;
}

typedef struct jtext { char *p; size_t n, cap; int bad; } jtext;

static inline int jtext_put(const char *b, size_t n, void *data)
{
    jtext *t = data;
    if (t->bad) return -1;
    if (t->n + n + 1 > t->cap) {
        size_t c = t->cap ? t->cap : 4096;
        while (c < t->n + n + 1) c *= 2;
        char *q = realloc(t->p, c);
        if (!q) {
            t->bad = 1;
            return -1;
        }
        t->p = q;
        t->cap = c;
    }
    memcpy(t->p + t->n, b, n);
    t->n += n;
    t->p[t->n] = 0;
    return 0;
}

/* v as JSON text (malloc'd; free() it), or NULL when out of memory. What
** json_dumps gives, but not through it: jansson (2.14) does not check that
** an object's key was written, so when its buffer cannot grow there a key
** goes missing and json_dumps still returns the text. Here every byte goes
** through jtext_put, which remembers a failure. */
static inline char *jdump(const json_t *v, size_t flags)
{
    jtext t = {NULL, 0, 0, 0};
    if (json_dump_callback(v, jtext_put, &t, flags) != 0 || t.bad || !t.p) {
        free(t.p);
        return NULL;
    }
    return t.p;
}

/* The JSON text parsed (NULL when it does not parse or out of memory).
** Parsed twice and the trees compared: jansson's parser drops a byte of a
** token longer than 15 bytes when it cannot grow its buffer, and goes on. */
static inline json_t *jload(const char *text)
{
    json_t *a = json_loads(text, 0, NULL), *b = a ? json_loads(text, 0, NULL) : NULL;
    int same = b && json_equal(a, b);
    json_decref(b);
    if (same) return a;
    json_decref(a);
    return NULL;
}
#endif
