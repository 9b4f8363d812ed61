/* pipeline_cache.c -- PDN models and thermal plans kept across runs (see
** pipeline_cache.h). A handful of entries, searched in a line under one
** lock; building and destroying happen outside it. */
#include "pipeline_cache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PC_KEEP 8   /* objects no run holds, kept per kind */

enum { K_PDN, K_PLAN };

typedef struct entry {
    int kind;
    unsigned char *key;   /* every number the builder reads, as bytes */
    size_t klen;
    void *obj;
    size_t users;         /* runs holding it now (a plan: 0 or 1) */
    uint64_t used;        /* the cache's clock when it was last handed back */
} entry;

struct pda_cache {
    pthread_mutex_t mu;
    entry *e;
    size_t n, cap;
    uint64_t clock;
};

int pda_cache_create(pda_cache **out)
{
    *out = NULL;
    pda_cache *pc = calloc(1, sizeof *pc);
    if (!pc) return PDA_ENOMEM;
    if (pthread_mutex_init(&pc->mu, NULL)) {
        free(pc);
        return PDA_ENOMEM;
    }
    *out = pc;
    return PDA_OK;
}

static void destroy_obj(int kind, void *obj)
{
    if (kind == K_PDN) pdn_model_destroy(obj);
    else thermal_plan_destroy(obj);
}

void pda_cache_destroy(pda_cache *pc)
{
    if (!pc) return;
    for (size_t i = 0; i < pc->n; i++) {
        destroy_obj(pc->e[i].kind, pc->e[i].obj);
        free(pc->e[i].key);
    }
    free(pc->e);
    pthread_mutex_destroy(&pc->mu);
    free(pc);
}

/* ---- keys ---------------------------------------------------------------- */

typedef struct kbuf {
    unsigned char *b;
    size_t n, cap;
    int oom;
} kbuf;

static void put(kbuf *k, const void *p, size_t n)
{
    if (k->oom) return;
    if (k->n + n > k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 256;
        while (cap < k->n + n) cap *= 2;
        unsigned char *b = realloc(k->b, cap);
        if (!b) {
            k->oom = 1;
            return;
        }
        k->b = b;
        k->cap = cap;
    }
    memcpy(k->b + k->n, p, n);
    k->n += n;
}

static void put_d(kbuf *k, double v) { put(k, &v, sizeof v); }
static void put_z(kbuf *k, size_t v) { put(k, &v, sizeof v); }

/* What pdn_model_create reads of a rail, and the bin. */
static void pdn_key(kbuf *k, const sio_rail *rl, double bin_ns)
{
    put_d(k, bin_ns);
    put_z(k, rl->n_stages);
    for (size_t s = 0; s < rl->n_stages; s++) {
        const sio_stage *st = &rl->stages[s];
        put_d(k, st->r_ohm); put_d(k, st->l_h); put_d(k, st->c_f); put_d(k, st->esr_ohm); put_d(k, st->esl_h);
    }
    put_z(k, rl->n_z);
    if (rl->n_z) {
        put(k, rl->z_f_hz, rl->n_z * sizeof *rl->z_f_hz);
        put(k, rl->z_re_ohm, rl->n_z * sizeof *rl->z_re_ohm);
        put(k, rl->z_im_ohm, rl->n_z * sizeof *rl->z_im_ohm);
    }
    put_z(k, (size_t)rl->vrm.present);
    put_z(k, rl->vrm.sense_node);
    put_d(k, rl->vrm.bandwidth_hz);
    put_d(k, rl->vrm.loadline_ohm);
}

/* What thermal_plan_create_ex reads. */
static void plan_key(kbuf *k, const thermal_stack *st, size_t nx, size_t ny, double frame_s, int effort)
{
    put_d(k, st->width_m); put_d(k, st->height_m);
    put_z(k, st->n_layers);
    for (size_t l = 0; l < st->n_layers; l++) {
        const thermal_layer *L = &st->layers[l];
        put_d(k, L->thickness_m); put_d(k, L->k_w_mk); put_d(k, L->cv_j_m3k); put_z(k, (size_t)(L->die + 1));
    }
    put_d(k, st->h_top_w_m2k); put_d(k, st->h_bottom_w_m2k); put_d(k, st->ambient_c);
    put_z(k, st->n_dies);
    put_z(k, nx); put_z(k, ny);
    put_d(k, frame_s);
    put_z(k, (size_t)effort);
}

/* ---- look-up, insertion, return ------------------------------------------ */

/* An entry of kind with key k free for the caller (any for a shared kind,
** one no run holds for a plan), taken; NULL when there is none. */
static void *take(pda_cache *pc, int kind, const kbuf *k)
{
    void *obj = NULL;
    pthread_mutex_lock(&pc->mu);
    for (size_t i = 0; i < pc->n && !obj; i++) {
        entry *e = &pc->e[i];
        if (e->kind != kind || e->klen != k->n || memcmp(e->key, k->b, k->n)) continue;
        if (kind == K_PLAN && e->users) continue;
        e->users++;
        obj = e->obj;
    }
    pthread_mutex_unlock(&pc->mu);
    return obj;
}

/* Keeps obj (just built, held by the caller) under key k, whose bytes it
** takes over (k->b set to NULL). Out of memory it is simply not kept (k
** left to the caller): _done then destroys it. */
static void add(pda_cache *pc, int kind, kbuf *k, void *obj)
{
    pthread_mutex_lock(&pc->mu);
    if (pc->n == pc->cap) {
        size_t cap = pc->cap ? 2 * pc->cap : 16;
        entry *e = realloc(pc->e, cap * sizeof *e);
        if (!e) {
            pthread_mutex_unlock(&pc->mu);
            return;
        }
        pc->e = e;
        pc->cap = cap;
    }
    pc->e[pc->n++] = (entry){.kind = kind, .key = k->b, .klen = k->n, .obj = obj, .users = 1};
    k->b = NULL;
    pthread_mutex_unlock(&pc->mu);
}

/* The caller is done with obj: kept for the next run, or destroyed when it
** was never kept; past PC_KEEP idle objects of its kind the least recently
** used ones go. */
static void done(pda_cache *pc, int kind, void *obj)
{
    void *gone[PC_KEEP + 2];
    size_t ng = 0;
    pthread_mutex_lock(&pc->mu);
    size_t i = 0;
    while (i < pc->n && pc->e[i].obj != obj) i++;
    if (i == pc->n) {
        gone[ng++] = obj;
    } else {
        pc->e[i].users--;
        pc->e[i].used = ++pc->clock;
        for (;;) {
            size_t idle = 0, lru = SIZE_MAX;
            for (size_t j = 0; j < pc->n; j++) {
                if (pc->e[j].kind != kind || pc->e[j].users) continue;
                idle++;
                if (lru == SIZE_MAX || pc->e[j].used < pc->e[lru].used) lru = j;
            }
            if (idle <= PC_KEEP || ng == sizeof gone / sizeof gone[0]) break;
            gone[ng++] = pc->e[lru].obj;
            free(pc->e[lru].key);
            pc->e[lru] = pc->e[--pc->n];
        }
    }
    pthread_mutex_unlock(&pc->mu);
    for (size_t j = 0; j < ng; j++) destroy_obj(kind, gone[j]);
}

int pda_cache_pdn(pda_cache *pc, const sio_chip *c, size_t r, double bin_ns, pdn_model **out, sio_error *err)
{
    if (!pc) return pdn_model_for_rail(c, r, bin_ns, out, err);
    kbuf k = {0};
    pdn_key(&k, &c->rails[r], bin_ns);
    if (!k.oom && (*out = take(pc, K_PDN, &k))) {
        free(k.b);
        return PDA_OK;
    }
    int rc = pdn_model_for_rail(c, r, bin_ns, out, err);
    if (!rc && !k.oom) add(pc, K_PDN, &k, *out);
    free(k.b);
    return rc;
}

void pda_cache_pdn_done(pda_cache *pc, pdn_model *m)
{
    if (!m) return;
    if (!pc) pdn_model_destroy(m);
    else done(pc, K_PDN, m);
}

int pda_cache_plan(pda_cache *pc, const thermal_stack *st, size_t nx, size_t ny, double frame_s, int effort,
                   thermal_plan **out)
{
    if (!pc) return thermal_plan_create_ex(st, nx, ny, frame_s, effort, out);
    kbuf k = {0};
    plan_key(&k, st, nx, ny, frame_s, effort);
    if (!k.oom && (*out = take(pc, K_PLAN, &k))) {
        free(k.b);
        return THERMAL_OK;
    }
    int rc = thermal_plan_create_ex(st, nx, ny, frame_s, effort, out);
    if (!rc && !k.oom) add(pc, K_PLAN, &k, *out);
    free(k.b);
    return rc;
}

void pda_cache_plan_done(pda_cache *pc, thermal_plan *p)
{
    if (!p) return;
    if (!pc) thermal_plan_destroy(p);
    else done(pc, K_PLAN, p);
}
