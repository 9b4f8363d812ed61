/* schedgen.c -- writes valid, realistic schedules for any pda-chip/1 chip.
**
**   schedgen CHIP -o OUT.csv [--ops N] [--seed S] [--kind decode|prefill|mixed]
**            [--chips K] [--extra]
**
** The chip is read with sio_chip_load; units are picked by class. When the
** chip has a class named MXM and feeders (MEM and/or SRAM) the generator
** builds a transformer-like program, layer by layer and phase by phase:
** - every tile streams weights from k feeder slices into each MXM plane
**   (MEM/SRAM `read` at t, MXM `load_weights` at t + lag, an exact `ID=lag`
**   dep; lag = the stream hops between the two units' x centres);
** - then activations stream the same way into `matmul`, all selected planes
**   starting on the same cycle (`ID+0` deps on the first plane: together, but a
**   re-timer may stagger them, as the planes are independent): the largest
**   current steps of such chips;
** - VXM accumulates with pipelined `ID+N` deps on the matmuls, VXM `act`/`mul`
**   feeds SXM through another exact lag, results go back to MEM (`ID` deps);
** - ICU `sync` opens each phase, C2C `send`/`recv` close the all-reduce phases
**   (on K chips a ring: recv on the next chip exactly one link latency after
**   the send; on one chip the other chips are simulated by an idle wait).
** Classes it does not know get a few ops per phase; a chip without MXM or
** feeders gets a generic round-robin schedule over whatever units and ops
** exist, with the same three dep kinds and simultaneous bursts.
**
** Invariants (checked on every row before it is written; a breach is an
** internal error, never silent): a unit's ops never overlap (per chip and
** unit a "next free cycle" is kept and every start is placed at or after
** it), every dep is satisfied with exact lags exact, deps only name rows
** already written on the same chip (so there is no cycle), ids are unique per
** chip. Truncating at --ops keeps all of this because of the last point.
**
** Sizes: memory is O(chips x units); rows stream out through a 64 KiB
** buffer, ~10^7 rows per few seconds. Deterministic for a given seed. */
#include "sio.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINK_LATENCY_CYC 216   /* chip-to-chip link latency (NUMBERS.md) */
#define MAX_DEPS 24
#define WBUF_BYTES 65536

enum kind { KIND_DECODE, KIND_PREFILL, KIND_MIXED };

typedef struct opts {
    const char *chip_path, *out_path;
    uint64_t n_ops, seed;
    int kind;
    size_t n_chips;
    int extra;
} opts;

/* A written row, as far as later deps need it. id 0 = none. */
typedef struct ins {
    uint64_t id;
    size_t chip;
    int64_t start, end;
} ins;

enum { DEP_END, DEP_START, DEP_EXACT };
typedef struct dep {
    ins on;
    int kind;
    int64_t n;
} dep;

/* A role: the units of one class and the ops found for it. */
typedef struct role {
    int present;
    size_t cls;
    size_t *units, n;
} role;

typedef struct wbuf {
    FILE *f;
    char b[WBUF_BYTES];
    size_t n;
} wbuf;

/* Per-phase shape of the transformer-like program. */
typedef struct phase {
    const char *name;
    int tiles_lo, tiles_hi;
    int allreduce;   /* ends with a C2C exchange */
    int vx;          /* VXM op after the accumulate: 0 mul, 1 act */
    int sx;          /* SXM op: 0 permute, 1 shift, 2 transpose */
} phase;

static const phase PHASES[] = {
    {"qkv", 16, 28, 0, 0, 0},
    {"attn", 6, 10, 0, 1, 2},
    {"o", 6, 10, 1, 0, 0},
    {"up", 24, 40, 0, 1, 1},
    {"down", 12, 20, 1, 0, 0},
};
#define N_PHASES (sizeof PHASES / sizeof PHASES[0])

typedef struct gen {
    const sio_chip *chip;
    opts o;
    wbuf *w;
    uint64_t rng;
    size_t nu, nk;           /* units, chips */
    int64_t *free_cyc;       /* [chip][unit]: next free cycle */
    uint64_t *next_id;       /* [chip] */
    uint64_t *stamp;         /* [unit]: tile serial that picked it */
    uint64_t tile_serial;
    uint64_t emitted;
    int done, failed;
    size_t *name_len;        /* [unit] */
    double pitch_mm;         /* one stream hop */
    char note[48];
    /* roles */
    role mxm, mem, sram, vxm, sxm, c2c, icu;
    size_t *other; size_t n_other;
    size_t op_mm, op_lw, op_mread, op_mwrite, op_sread, op_swrite;
    size_t op_vx[3];         /* add, mul, act */
    size_t op_sx[3];         /* permute, shift, transpose */
    size_t op_send, op_recv, op_sync, op_nop;
    /* feeders per MXM plane (index into mxm.units) */
    size_t **wfeed, *n_wfeed, **afeed, *n_afeed;
    size_t *rr_w, *rr_a;     /* [chip][plane] cursors */
    size_t rr_mem, rr_sram, rr_vxm, rr_sxm, rr_c2c, rr_icu;
} gen;

/* ---- small helpers ---------------------------------------------------- */

static uint64_t rnd(gen *g)
{
    uint64_t z = (g->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static int64_t rint_in(gen *g, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd(g) % (uint64_t)(hi - lo + 1));
}
/* activity in hundredths, lo..hi */
static int act_in(gen *g, int lo, int hi) { return (int)rint_in(g, lo, hi); }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

static void wb_flush(wbuf *w)
{
    if (w->n) fwrite(w->b, 1, w->n, w->f);
    w->n = 0;
}
static void wb_put(wbuf *w, const char *s, size_t n)
{
    if (w->n + n > sizeof w->b) wb_flush(w);
    if (n > sizeof w->b) { fwrite(s, 1, n, w->f); return; }
    memcpy(w->b + w->n, s, n);
    w->n += n;
}
static void wb_ch(wbuf *w, char c) { wb_put(w, &c, 1); }
static void wb_u64(wbuf *w, uint64_t v)
{
    char t[24];
    size_t k = sizeof t;
    do { t[--k] = (char)('0' + v % 10); v /= 10; } while (v);
    wb_put(w, t + k, sizeof t - k);
}

static double xc(const gen *g, size_t u)
{
    const double *r = g->chip->units[u].rect_mm;
    return r[0] + 0.5 * r[2];
}
/* Stream cycles from unit a to unit b: one per hop of pitch_mm along x, plus
** one (same die) or two (through the bond) to get on and off the stream. */
static int64_t lag_of(const gen *g, size_t a, size_t b)
{
    double hops = fabs(xc(g, a) - xc(g, b)) / g->pitch_mm;
    int64_t l = (int64_t)floor(hops + 0.5) + (g->chip->units[a].die == g->chip->units[b].die ? 1 : 2);
    return l > 255 ? 255 : l;
}

/* ---- the one place rows are written ------------------------------------ */

/* Writes one row and returns it (id 0 when --ops is reached: nothing more is
** written after that). Checks placement and deps; a breach marks g->failed. */
static ins emit(gen *g, size_t chip, size_t unit, size_t op, int64_t start, int64_t cycles, int act_pct,
                const dep *d, size_t nd)
{
    ins r = {0, chip, start, start + cycles};
    if (g->done || g->failed) return r;
    if (g->emitted >= g->o.n_ops) { g->done = 1; return r; }
    int64_t *fr = &g->free_cyc[chip * g->nu + unit];
    int bad = start < 0 || cycles < 1 || start < *fr || g->chip->ops[op].cls != g->chip->units[unit].cls;
    for (size_t k = 0; k < nd && !bad; k++) {
        const ins *on = &d[k].on;
        if (on->id == 0 || on->chip != chip) bad = 1;
        else if (d[k].kind == DEP_END) bad = start < on->end;
        else if (d[k].kind == DEP_START) bad = d[k].n < 0 || start < on->start + d[k].n;
        else bad = d[k].n < 0 || start != on->start + d[k].n;
    }
    if (bad) {
        fprintf(stderr, "schedgen: internal error: invalid placement of '%s' on '%s' at cycle %" PRId64 "\n",
                g->chip->ops[op].name, g->chip->units[unit].name, start);
        g->failed = 1;
        return r;
    }
    *fr = start + cycles;
    r.id = ++g->next_id[chip];
    g->emitted++;
    wbuf *w = g->w;
    wb_u64(w, r.id);
    wb_ch(w, ',');
    wb_put(w, g->chip->units[unit].name, g->name_len[unit]);
    wb_ch(w, ',');
    wb_put(w, g->chip->ops[op].name, strlen(g->chip->ops[op].name));
    wb_ch(w, ',');
    wb_u64(w, (uint64_t)start);
    wb_ch(w, ',');
    wb_u64(w, (uint64_t)cycles);
    if (g->nk > 1) { wb_ch(w, ','); wb_u64(w, chip); }
    wb_ch(w, ',');
    if (act_pct >= 100) wb_ch(w, '1');
    else { char a[4] = {'0', '.', (char)('0' + act_pct / 10), (char)('0' + act_pct % 10)}; wb_put(w, a, 4); }
    wb_ch(w, ',');
    for (size_t k = 0; k < nd; k++) {
        if (k) wb_ch(w, ';');
        wb_u64(w, d[k].on.id);
        if (d[k].kind != DEP_END) { wb_ch(w, d[k].kind == DEP_START ? '+' : '='); wb_u64(w, (uint64_t)d[k].n); }
    }
    if (g->o.extra) { wb_ch(w, ','); wb_put(w, g->note, strlen(g->note)); }
    wb_ch(w, '\n');
    return r;
}

static int64_t ufree(const gen *g, size_t chip, size_t unit) { return g->free_cyc[chip * g->nu + unit]; }

/* Appends a dep when `on` was written (id != 0). */
static void add_dep(dep *d, size_t *nd, ins on, int kind, int64_t n)
{
    if (on.id == 0 || *nd >= MAX_DEPS) return;
    d[*nd].on = on; d[*nd].kind = kind; d[*nd].n = n;
    (*nd)++;
}

/* ---- roles ------------------------------------------------------------ */

/* Op of class cls named `name`, else the k-th op of the class (cycling), else
** SIZE_MAX when the class has none. */
static size_t pick_op(const sio_chip *c, size_t cls, const char *name, size_t k)
{
    size_t idx, n = 0;
    if (sio_chip_find_op(c, cls, name, strlen(name), &idx) == 0) return idx;
    for (size_t i = 0; i < c->n_ops; i++) n += c->ops[i].cls == cls;
    if (n == 0) return SIZE_MAX;
    k %= n;
    for (size_t i = 0; i < c->n_ops; i++)
        if (c->ops[i].cls == cls && k-- == 0) return i;
    return SIZE_MAX;
}

static int class_has_ops(const sio_chip *c, size_t cls)
{
    for (size_t i = 0; i < c->n_ops; i++)
        if (c->ops[i].cls == cls) return 1;
    return 0;
}

static int role_init(gen *g, role *r, const char *cls_name)
{
    const sio_chip *c = g->chip;
    size_t cls;
    if (sio_chip_find_class(c, cls_name, strlen(cls_name), &cls) != 0 || !class_has_ops(c, cls)) return 0;
    r->units = malloc(c->n_units * sizeof *r->units);
    if (!r->units) return -1;
    for (size_t u = 0; u < c->n_units; u++)
        if (c->units[u].cls == cls) r->units[r->n++] = u;
    r->cls = cls;
    r->present = r->n > 0;
    return 0;
}

/* Sorts unit indices by x centre (insertion sort: classes hold ~100 units). */
static void sort_by_x(const gen *g, size_t *u, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        size_t v = u[i], j = i;
        while (j > 0 && xc(g, u[j - 1]) > xc(g, v)) { u[j] = u[j - 1]; j--; }
        u[j] = v;
    }
}

/* Splits feeders f[0..nf) over the planes: contiguous runs in x order, or
** nearest plane by x (near = 1). Planes left empty are filled round-robin. */
static int make_groups(gen *g, const size_t *f, size_t nf, int near, size_t ***grp, size_t **ngrp)
{
    size_t P = g->mxm.n;
    size_t **gp = calloc(P, sizeof *gp);
    size_t *ng = calloc(P, sizeof *ng);
    size_t *sorted = malloc((nf ? nf : 1) * sizeof *sorted);
    if (!gp || !ng || !sorted) { free(gp); free(ng); free(sorted); return -1; }
    *grp = gp; *ngrp = ng;
    memcpy(sorted, f, nf * sizeof *f);
    sort_by_x(g, sorted, nf);
    for (size_t p = 0; p < P; p++)
        if (!(gp[p] = malloc((nf + 1) * sizeof **gp))) { free(sorted); return -1; }
    for (size_t i = 0; i < nf; i++) {
        size_t p = 0;
        if (near) {
            double best = INFINITY;
            for (size_t q = 0; q < P; q++) {
                double dx = fabs(xc(g, sorted[i]) - xc(g, g->mxm.units[q]));
                if (dx < best) { best = dx; p = q; }
            }
        } else {
            p = i * P / nf;
        }
        gp[p][ng[p]++] = sorted[i];
    }
    for (size_t p = 0; p < P && nf > 0; p++)
        if (ng[p] == 0) gp[p][ng[p]++] = sorted[p % nf];
    free(sorted);
    return 0;
}

/* ---- the transformer-like program -------------------------------------- */

typedef struct lane {
    ins bar;    /* the last row the next phase waits for */
} lane;

static void set_note(gen *g, int layer, const char *what)
{
    if (g->o.extra) snprintf(g->note, sizeof g->note, "L%d.%s", layer, what);
}

/* Picks up to k distinct feeders of plane p on chip c, not yet used by this
** tile: the ones that can deliver first (free cycle + lag), looked for in a
** window of up to 32 from the round-robin cursor (bounded cost, and ties go
** round the group so every slice gets used). */
static size_t pick_feeders(gen *g, size_t c, size_t *const *grp, const size_t *ngrp, size_t *rr, size_t p,
                           size_t k, size_t *out)
{
    size_t n = ngrp[p], win = n < 32 ? n : 32, got = 0, base = *rr;
    size_t plane = g->mxm.units[p];
    while (got < k) {
        size_t best = SIZE_MAX;
        int64_t bt = INT64_MAX;
        for (size_t j = 0; j < win; j++) {
            size_t u = grp[p][(base + j) % n];
            if (g->stamp[u] == g->tile_serial) continue;
            int64_t t = ufree(g, c, u) + lag_of(g, u, plane);
            if (t < bt) { bt = t; best = u; }
        }
        if (best == SIZE_MAX) break;
        g->stamp[best] = g->tile_serial;
        out[got++] = best;
    }
    *rr = (base + got) % n;
    return got;
}

/* The unit of role r free first among up to 16 from the cursor. */
static size_t pick_free(const gen *g, size_t c, const role *r, size_t *rr)
{
    size_t n = r->n, win = n < 16 ? n : 16, best = r->units[*rr % n];
    for (size_t j = 1; j < win; j++) {
        size_t u = r->units[(*rr + j) % n];
        if (ufree(g, c, u) < ufree(g, c, best)) best = u;
    }
    *rr = (*rr + 1) % n;
    return best;
}

/* One tile on chip c: weight loads, a simultaneous matmul burst, the VXM
** accumulate; with `finish`, the activation, SXM pass and the write-back.
** With set_bar the tile's last row becomes the lane's barrier (what the next
** phase waits for). */
static void tile(gen *g, size_t c, int prefill, const phase *ph, int finish, int set_bar, ins sync, lane *ln)
{
    size_t P = g->mxm.n;
    size_t fw[16], fa[64];
    int64_t lw_cyc_base;
    g->tile_serial++;
    /* which planes: all (a burst) or, in decode, sometimes a subset */
    int use[64] = {0};
    size_t first = SIZE_MAX;
    int subset = !prefill && P > 1 && rint_in(g, 0, 9) < 3;
    for (size_t p = 0; p < P && p < 64; p++) use[p] = subset ? (int)rint_in(g, 0, 1) : 1;
    ins lw[64], mm[64];
    size_t nfa[64];
    size_t afu[64][12];
    /* vectors streamed + the ~20-cycle ripple over the superlanes */
    int64_t Lm = prefill ? rint_in(g, 384, 1536) : rint_in(g, 40, 72);
    for (size_t p = 0; p < P && p < 64; p++) {
        lw[p].id = 0; mm[p].id = 0;
        if (!use[p]) continue;
        size_t plane = g->mxm.units[p];
        size_t kw = pick_feeders(g, c, g->wfeed, g->n_wfeed, &g->rr_w[c * P + p], p, 8, fw);
        if (kw == 0) { use[p] = 0; continue; }
        lw_cyc_base = (320 + (int64_t)kw - 1) / (int64_t)kw;
        int64_t Lw = lw_cyc_base + rint_in(g, 0, 6);
        int64_t t = ufree(g, c, plane);
        for (size_t k = 0; k < kw; k++) {
            int64_t l = lag_of(g, fw[k], plane);
            t = max64(t, ufree(g, c, fw[k]) + l);
            if (sync.id) t = max64(t, sync.end + l);
        }
        dep d[MAX_DEPS];
        size_t nd = 0;
        ins rd[16];
        for (size_t k = 0; k < kw; k++) {
            int64_t l = lag_of(g, fw[k], plane);
            size_t nd1 = 0;
            dep d1[1];
            add_dep(d1, &nd1, sync, DEP_END, 0);
            size_t op = g->chip->units[fw[k]].cls == g->mem.cls && g->mem.present ? g->op_mread : g->op_sread;
            rd[k] = emit(g, c, fw[k], op, t - l, Lw, act_in(g, 50, 100), d1, nd1);
            add_dep(d, &nd, rd[k], DEP_EXACT, l);
        }
        lw[p] = emit(g, c, plane, g->op_lw, t, Lw, act_in(g, 60, 100), d, nd);
    }
    /* activation feeders, distinct over the burst */
    int64_t T = 0;
    size_t ka_want = prefill ? (size_t)1 : (size_t)rint_in(g, 1, 2);
    for (size_t p = 0; p < P && p < 64; p++) {
        nfa[p] = 0;
        if (!use[p] || lw[p].id == 0) { use[p] = 0; continue; }
        size_t ka = prefill ? g->n_afeed[p] : ka_want;
        if (ka > 12) ka = 12;
        size_t plane = g->mxm.units[p];
        nfa[p] = pick_feeders(g, c, g->afeed, g->n_afeed, &g->rr_a[c * P + p], p, ka, fa);
        memcpy(afu[p], fa, nfa[p] * sizeof *fa);
        T = max64(T, max64(ufree(g, c, plane), lw[p].end));
        for (size_t k = 0; k < nfa[p]; k++) {
            int64_t l = lag_of(g, fa[k], plane);
            T = max64(T, ufree(g, c, fa[k]) + l);
            if (sync.id) T = max64(T, sync.end + l);
        }
    }
    ins first_mm = {0, c, 0, 0};
    for (size_t p = 0; p < P && p < 64; p++) {
        if (!use[p]) continue;
        size_t plane = g->mxm.units[p];
        dep d[MAX_DEPS];
        size_t nd = 0;
        for (size_t k = 0; k < nfa[p]; k++) {
            size_t f = afu[p][k];
            int64_t l = lag_of(g, f, plane);
            size_t op = g->chip->units[f].cls == g->mem.cls && g->mem.present ? g->op_mread : g->op_sread;
            ins a = emit(g, c, f, op, T - l, Lm, prefill ? act_in(g, 60, 100) : act_in(g, 50, 100), NULL, 0);
            add_dep(d, &nd, a, DEP_EXACT, l);
        }
        add_dep(d, &nd, lw[p], DEP_END, 0);
        add_dep(d, &nd, first_mm, DEP_START, 0);
        mm[p] = emit(g, c, plane, g->op_mm, T, Lm, prefill ? act_in(g, 80, 100) : act_in(g, 70, 100), d, nd);
        if (first_mm.id == 0) { first_mm = mm[p]; first = p; }
    }
    if (first == SIZE_MAX) return;
    /* VXM accumulate: pipelined on the matmul outputs */
    ins acc = {0, c, 0, 0};
    if (g->vxm.present) {
        size_t v = g->vxm.units[g->rr_vxm++ % g->vxm.n];
        int64_t N = Lm < 24 ? Lm : 24;
        int64_t s = ufree(g, c, v);
        dep d[MAX_DEPS];
        size_t nd = 0;
        for (size_t p = 0; p < P && p < 64; p++)
            if (mm[p].id) { s = max64(s, mm[p].start + N); add_dep(d, &nd, mm[p], DEP_START, N); }
        acc = emit(g, c, v, g->op_vx[0], s, prefill ? Lm / 2 : Lm + 4, act_in(g, 60, 100), d, nd);
    }
    if (set_bar) ln->bar = acc.id ? acc : mm[first];
    if (!finish) return;
    /* VXM act/mul -> SXM through an exact stream lag -> MEM write-back */
    ins last = ln->bar;
    if (g->vxm.present && g->sxm.present) {
        size_t v = g->vxm.units[g->rr_vxm++ % g->vxm.n];
        size_t sx = g->sxm.units[g->rr_sxm++ % g->sxm.n];
        int64_t l = lag_of(g, v, sx);
        int64_t cyc = prefill ? max64(Lm / 4, 8) : max64(Lm, 8);
        int64_t s = max64(max64(ufree(g, c, v), last.end), ufree(g, c, sx) - l);
        dep d[2];
        size_t nd = 0;
        add_dep(d, &nd, last, DEP_END, 0);
        ins va = emit(g, c, v, g->op_vx[ph->vx ? 2 : 1], s, cyc, act_in(g, 60, 100), d, nd);
        nd = 0;
        add_dep(d, &nd, va, DEP_EXACT, l);
        last = emit(g, c, sx, g->op_sx[ph->sx], s + l, cyc, 100, d, nd);
    } else if (g->vxm.present || g->sxm.present) {
        size_t v = g->vxm.present ? g->vxm.units[g->rr_vxm++ % g->vxm.n] : g->sxm.units[g->rr_sxm++ % g->sxm.n];
        size_t op = g->vxm.present ? g->op_vx[ph->vx ? 2 : 1] : g->op_sx[ph->sx];
        dep d[1];
        size_t nd = 0;
        add_dep(d, &nd, last, DEP_END, 0);
        last = emit(g, c, v, op, max64(ufree(g, c, v), last.end), prefill ? max64(Lm / 4, 8) : Lm, 100, d, nd);
    }
    /* write-back: KV-cache appends go to SRAM in the attention phase when the
    ** chip has it, everything else to MEM */
    int to_sram = g->sram.present && (!g->mem.present || ph->sx == 2);
    role *wr = to_sram ? &g->sram : &g->mem;
    if (wr->present && last.id) {
        size_t u = pick_free(g, c, wr, to_sram ? &g->rr_sram : &g->rr_mem);
        dep d[1];
        size_t nd = 0;
        add_dep(d, &nd, last, DEP_END, 0);
        int64_t cyc = prefill ? max64(Lm / 2, 8) : max64(Lm, 8);
        last = emit(g, c, u, to_sram ? g->op_swrite : g->op_mwrite, max64(ufree(g, c, u), last.end), cyc,
                    act_in(g, 50, 100), d, nd);
    }
    if (last.id && set_bar) ln->bar = last;
}

/* ICU sync opening a phase (or the barrier itself when there is no ICU). */
static ins phase_sync(gen *g, size_t c, ins bar)
{
    if (!g->icu.present) return bar;
    size_t u = g->icu.units[g->rr_icu++ % g->icu.n];
    dep d[1];
    size_t nd = 0;
    add_dep(d, &nd, bar, DEP_END, 0);
    ins s = emit(g, c, u, g->op_sync, max64(ufree(g, c, u), bar.id ? bar.end : 0), 2, 100, d, nd);
    return s.id ? s : bar;
}

/* A few ops on the units of classes without a role. */
static void others(gen *g, size_t c, ins sync)
{
    for (size_t i = 0; i < g->n_other; i++) {
        if (rint_in(g, 0, 1)) continue;
        size_t u = g->other[i];
        size_t op = pick_op(g->chip, g->chip->units[u].cls, "", (size_t)rint_in(g, 0, 7));
        if (op == SIZE_MAX) continue;
        dep d[1];
        size_t nd = 0;
        add_dep(d, &nd, sync, DEP_END, 0);
        emit(g, c, u, op, max64(ufree(g, c, u), sync.id ? sync.end : 0), rint_in(g, 32, 512), 100, d, nd);
    }
}

/* The all-reduce closing a phase. K chips: a ring of K-1 steps, each chip
** sends its chunk to the next, which receives it exactly one link latency
** later and adds it on the VXM. One chip: the other chips are simulated by a
** wait (an ICU nop fills it). */
static void exchange(gen *g, lane *ln, int prefill)
{
    size_t K = g->nk;
    if (!g->c2c.present) {
        if (K == 1 && g->icu.present && ln[0].bar.id) {   /* idle wait only */
            size_t u = g->icu.units[g->rr_icu++ % g->icu.n];
            dep d[1];
            size_t nd = 0;
            add_dep(d, &nd, ln[0].bar, DEP_END, 0);
            ins n = emit(g, 0, u, g->op_nop, max64(ufree(g, 0, u), ln[0].bar.end),
                         prefill ? rint_in(g, 50, 400) : rint_in(g, 200, 3000), 100, d, nd);
            if (n.id) ln[0].bar = n;
        }
        return;
    }
    size_t nc = g->c2c.n;
    size_t j = g->rr_c2c++;
    size_t tx = g->c2c.units[(2 * j) % nc], rx = g->c2c.units[(2 * j + 1) % nc];
    int64_t chunk = prefill ? rint_in(g, 128, 512) : rint_in(g, 32, 160);
    if (K == 1) {
        ins b = ln[0].bar;
        dep d[2];
        size_t nd = 0;
        add_dep(d, &nd, b, DEP_END, 0);
        ins s = emit(g, 0, tx, g->op_send, max64(ufree(g, 0, tx), b.id ? b.end : 0), chunk, 100, d, nd);
        if (!s.id) return;
        int64_t wait = prefill ? rint_in(g, 50, 400) : rint_in(g, 200, 4000);
        int64_t t = max64(ufree(g, 0, rx), s.start + LINK_LATENCY_CYC + wait);
        if (g->icu.present) {
            size_t u = g->icu.units[g->rr_icu++ % g->icu.n];
            int64_t n0 = max64(ufree(g, 0, u), s.end);
            nd = 0;
            add_dep(d, &nd, s, DEP_END, 0);
            if (t - n0 >= 1) emit(g, 0, u, g->op_nop, n0, t - n0, 100, d, nd);
        }
        ins r = emit(g, 0, rx, g->op_recv, t, chunk, 100, NULL, 0);
        if (r.id) ln[0].bar = r;
    } else {
        ins *snap = malloc(K * sizeof *snap);
        if (!snap) { g->failed = 1; return; }
        for (size_t step = 0; step + 1 < K && !g->done; step++) {
            for (size_t c = 0; c < K; c++) snap[c] = ln[c].bar;
            for (size_t c = 0; c < K; c++) {
                size_t to = (c + 1) % K;
                int64_t ts = max64(ufree(g, c, tx), ufree(g, to, rx) - LINK_LATENCY_CYC);
                if (snap[c].id) ts = max64(ts, snap[c].end);
                dep d[1];
                size_t nd = 0;
                add_dep(d, &nd, snap[c], DEP_END, 0);
                ins s = emit(g, c, tx, g->op_send, ts, chunk, 100, d, nd);
                if (!s.id) break;
                ins r = emit(g, to, rx, g->op_recv, ts + LINK_LATENCY_CYC, chunk, 100, NULL, 0);
                if (!r.id) break;
                ln[to].bar = r;
                if (g->vxm.present) {
                    size_t v = g->vxm.units[g->rr_vxm++ % g->vxm.n];
                    nd = 0;
                    add_dep(d, &nd, r, DEP_END, 0);
                    ins a = emit(g, to, v, g->op_vx[0], max64(ufree(g, to, v), r.end), chunk, act_in(g, 60, 100),
                                 d, nd);
                    if (a.id) ln[to].bar = a;
                }
            }
        }
        free(snap);
    }
}

static int run_structured(gen *g)
{
    size_t K = g->nk;
    lane *ln = calloc(K, sizeof *ln);
    if (!ln) return -1;
    for (int layer = 0; !g->done && !g->failed; layer++) {
        uint64_t before = g->emitted;
        int prefill = g->o.kind == KIND_PREFILL || (g->o.kind == KIND_MIXED && rint_in(g, 0, 1));
        for (size_t ph = 0; ph < N_PHASES && !g->done && !g->failed; ph++) {
            const phase *P = &PHASES[ph];
            int tiles = (int)rint_in(g, P->tiles_lo, P->tiles_hi);
            /* tensor-parallel over K chips: each does 1/K of the phase */
            if (K > 1) tiles = (int)(((size_t)tiles + K - 1) / K);
            set_note(g, layer, P->name);
            for (size_t c = 0; c < K && !g->done; c++) {
                ins s = phase_sync(g, c, ln[c].bar);
                others(g, c, s);
                for (int t = 0; t < tiles && !g->done; t++) {
                    /* prefill is token-tiled: the next phase waits for the
                    ** first tile's results only, so the MXMs never drain */
                    int finish = prefill || t == tiles - 1 || t % 4 == 3;
                    int set_bar = !prefill || t == 0;
                    tile(g, c, prefill, P, finish, set_bar, t == 0 ? s : (ins){0, c, 0, 0}, &ln[c]);
                }
            }
            if (P->allreduce) {
                set_note(g, layer, "allreduce");
                exchange(g, ln, prefill);
            }
        }
        if (g->emitted == before) break;   /* nothing placeable: stop */
    }
    free(ln);
    return 0;
}

/* ---- generic round-robin for chips without the known classes ----------- */

static int run_generic(gen *g, const size_t *us, size_t n)
{
    ins *last = calloc(g->nk, sizeof *last);
    if (!last) return -1;
    uint64_t i = 0;
    while (!g->done && !g->failed) {
        size_t c = (size_t)(i / (uint64_t)(4 * n)) % g->nk;
        size_t u = us[i % n];
        if (g->o.extra) snprintf(g->note, sizeof g->note, "g%" PRIu64, i / 1000);
        size_t op = pick_op(g->chip, g->chip->units[u].cls, "", (size_t)rint_in(g, 0, 7));
        int64_t cyc = rint_in(g, 8, 256);
        int64_t s = ufree(g, c, u) + (rint_in(g, 0, 3) == 0 ? rint_in(g, 1, 64) : 0);
        dep d[2];
        size_t nd = 0;
        int r = (int)rint_in(g, 0, 9);
        ins L = last[c];
        if (i % (8 * n) == 0 && n > 1) {
            /* a burst: every unit starts on the same cycle */
            int64_t T = 0;
            for (size_t k = 0; k < n; k++) T = max64(T, ufree(g, c, us[k]));
            ins f = {0, c, 0, 0};
            for (size_t k = 0; k < n && !g->done; k++) {
                size_t o2 = pick_op(g->chip, g->chip->units[us[k]].cls, "", (size_t)rint_in(g, 0, 7));
                nd = 0;
                add_dep(d, &nd, f, DEP_EXACT, 0);
                ins e = emit(g, c, us[k], o2, T, cyc, act_in(g, 50, 100), d, nd);
                if (f.id == 0) f = e;
                last[c] = e;
            }
            i += n;
            continue;
        }
        if (L.id && r < 3) {
            s = max64(s, L.end);
            add_dep(d, &nd, L, DEP_END, 0);
        } else if (L.id && r < 5) {
            int64_t N = rint_in(g, 0, 32);
            s = max64(s, L.start + N);
            add_dep(d, &nd, L, DEP_START, N);
        } else if (L.id && r < 6) {
            int64_t N = max64(0, ufree(g, c, u) - L.start) + rint_in(g, 0, 16);
            s = L.start + N;
            add_dep(d, &nd, L, DEP_EXACT, N);
        }
        ins e = emit(g, c, u, op, s, cyc, act_in(g, 50, 100), d, nd);
        if (e.id) last[c] = e;
        i++;
    }
    free(last);
    return 0;
}

/* ---- setup and the command line --------------------------------------- */

static void gen_free(gen *g)
{
    role *rs[] = {&g->mxm, &g->mem, &g->sram, &g->vxm, &g->sxm, &g->c2c, &g->icu};
    for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++) free(rs[i]->units);
    for (size_t p = 0; p < g->mxm.n; p++) {
        if (g->wfeed) free(g->wfeed[p]);
        if (g->afeed) free(g->afeed[p]);
    }
    free(g->wfeed); free(g->n_wfeed); free(g->afeed); free(g->n_afeed);
    free(g->rr_w); free(g->rr_a); free(g->other);
    free(g->free_cyc); free(g->next_id); free(g->stamp); free(g->name_len);
}

/* Fills roles and feeder groups. Returns 1 when the structured program
** applies, 0 for the generic one, -1 out of memory. */
static int gen_setup(gen *g)
{
    const sio_chip *c = g->chip;
    if (role_init(g, &g->mxm, "MXM") || role_init(g, &g->mem, "MEM") || role_init(g, &g->sram, "SRAM") ||
        role_init(g, &g->vxm, "VXM") || role_init(g, &g->sxm, "SXM") || role_init(g, &g->c2c, "C2C") ||
        role_init(g, &g->icu, "ICU"))
        return -1;
    /* one stream hop: the narrowest feeder slice, else 0.16 mm */
    g->pitch_mm = INFINITY;
    const role *fr = g->mem.present ? &g->mem : &g->sram;
    for (size_t i = 0; i < fr->n; i++)
        if (c->units[fr->units[i]].rect_mm[2] < g->pitch_mm) g->pitch_mm = c->units[fr->units[i]].rect_mm[2];
    if (!(g->pitch_mm >= 0.05) || !isfinite(g->pitch_mm)) g->pitch_mm = 0.16;
    if (g->mxm.present) {
        g->op_mm = pick_op(c, g->mxm.cls, "matmul", 0);
        g->op_lw = pick_op(c, g->mxm.cls, "load_weights", 1);
    }
    if (g->mem.present) {
        g->op_mread = pick_op(c, g->mem.cls, "read", 0);
        g->op_mwrite = pick_op(c, g->mem.cls, "write", 1);
    }
    if (g->sram.present) {
        g->op_sread = pick_op(c, g->sram.cls, "read", 0);
        g->op_swrite = pick_op(c, g->sram.cls, "write", 1);
    }
    static const char *const vx[3] = {"add", "mul", "act"}, *const sx[3] = {"permute", "shift", "transpose"};
    for (size_t k = 0; k < 3; k++) {
        if (g->vxm.present) g->op_vx[k] = pick_op(c, g->vxm.cls, vx[k], k);
        if (g->sxm.present) g->op_sx[k] = pick_op(c, g->sxm.cls, sx[k], k);
    }
    if (g->c2c.present) {
        g->op_send = pick_op(c, g->c2c.cls, "send", 0);
        g->op_recv = pick_op(c, g->c2c.cls, "recv", 1);
    }
    if (g->icu.present) {
        g->op_sync = pick_op(c, g->icu.cls, "sync", 0);
        g->op_nop = pick_op(c, g->icu.cls, "nop", 1);
    }
    /* units of other classes (with ops) */
    if (!(g->other = malloc((c->n_units + 1) * sizeof *g->other))) return -1;
    const role *known[] = {&g->mxm, &g->mem, &g->sram, &g->vxm, &g->sxm, &g->c2c, &g->icu};
    for (size_t u = 0; u < c->n_units; u++) {
        int k = 0;
        for (size_t r = 0; r < sizeof known / sizeof known[0]; r++)
            k |= known[r]->present && known[r]->cls == c->units[u].cls;
        if (!k && class_has_ops(c, c->units[u].cls)) g->other[g->n_other++] = u;
    }
    if (!g->mxm.present || g->mxm.n > 64 || (!g->mem.present && !g->sram.present)) return 0;
    sort_by_x(g, g->mxm.units, g->mxm.n);
    size_t P = g->mxm.n;
    /* activations from MEM (contiguous x runs), weights from the SRAM banks
    ** nearest each plane when there is an SRAM die, else from MEM too */
    const role *ar = g->mem.present ? &g->mem : &g->sram;
    if (make_groups(g, ar->units, ar->n, 0, &g->afeed, &g->n_afeed)) return -1;
    if (g->sram.present && g->mem.present) {
        if (make_groups(g, g->sram.units, g->sram.n, 1, &g->wfeed, &g->n_wfeed)) return -1;
    } else {
        /* one feeder class: interleave each plane's slices, even ones stream
        ** weights, odd ones activations, so a long activation read never
        ** holds up the next weight load */
        if (make_groups(g, ar->units, ar->n, 0, &g->wfeed, &g->n_wfeed)) return -1;
        for (size_t p = 0; p < P; p++) {
            size_t n = g->n_afeed[p], nw = 0, na = 0;
            if (n < 2) continue;
            for (size_t k = 0; k < n; k++) {
                if (k % 2 == 0) g->wfeed[p][nw++] = g->afeed[p][k];
                else g->afeed[p][na++] = g->afeed[p][k];
            }
            g->n_wfeed[p] = nw;
            g->n_afeed[p] = na;
        }
    }
    g->rr_w = calloc(g->nk * P, sizeof *g->rr_w);
    g->rr_a = calloc(g->nk * P, sizeof *g->rr_a);
    if (!g->rr_w || !g->rr_a) return -1;
    return 1;
}

static void usage(FILE *f)
{
    fputs("usage: schedgen CHIP -o OUT.csv [--ops N] [--seed S] [--kind decode|prefill|mixed]\n"
          "                [--chips K] [--extra]\n"
          "       schedgen CHIP OUT.csv [N]          (positional form)\n"
          "Writes a valid schedule (pda schedule CSV) for the chip description CHIP.\n"
          "  -o, --out PATH   output file ('-' for stdout); written whole or not at all\n"
          "  --ops N          instructions in total over all chips (default 20000; 1e7 ok)\n"
          "  --seed S         random seed (default 1); same seed, same file\n"
          "  --kind K         decode (bursty, waits on other chips; default), prefill (long\n"
          "                   matmul phases, MXMs near full), mixed (layers of both)\n"
          "  --chips K        chips in the system (default 1); adds the 'chip' column and\n"
          "                   ring all-reduces with C2C send/recv one link latency apart\n"
          "  --extra          adds a 'note' column (layer.phase) carried through by tools\n"
          "Units are picked by class (MXM, MEM, SRAM, VXM, SXM, C2C, ICU); other classes get\n"
          "a few ops per phase; a chip without MXM and MEM/SRAM gets a generic round-robin\n"
          "schedule. Exit: 0 ok, 2 bad usage or chip, 4 I/O or internal error.\n",
          f);
}

static int parse_count(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || end == s || *end || !(d >= 0) || d > 9.0e15 || d != floor(d)) return -1;
    *v = (uint64_t)d;
    return 0;
}

static int parse_args(int argc, char **argv, opts *o)
{
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 1; }
        if (!strcmp(a, "--extra")) { o->extra = 1; continue; }
        int takes = !strcmp(a, "-o") || !strcmp(a, "--out") || !strcmp(a, "--ops") || !strcmp(a, "--seed") ||
                    !strcmp(a, "--kind") || !strcmp(a, "--chips");
        if (takes) {
            if (!val) { fprintf(stderr, "schedgen: %s needs a value\n", a); return -1; }
            i++;
            if (!strcmp(a, "-o") || !strcmp(a, "--out")) o->out_path = val;
            else if (!strcmp(a, "--kind")) {
                if (!strcmp(val, "decode")) o->kind = KIND_DECODE;
                else if (!strcmp(val, "prefill")) o->kind = KIND_PREFILL;
                else if (!strcmp(val, "mixed")) o->kind = KIND_MIXED;
                else { fprintf(stderr, "schedgen: --kind must be decode, prefill or mixed, not '%s'\n", val); return -1; }
            } else if (parse_count(val, &v)) {
                fprintf(stderr, "schedgen: %s needs a whole number >= 0, not '%s'\n", a, val);
                return -1;
            } else if (!strcmp(a, "--ops")) o->n_ops = v;
            else if (!strcmp(a, "--seed")) o->seed = v;
            else {
                if (v < 1 || v > 65536) { fprintf(stderr, "schedgen: --chips must be 1..65536\n"); return -1; }
                o->n_chips = (size_t)v;
            }
            continue;
        }
        if (a[0] == '-' && a[1] != 0) { fprintf(stderr, "schedgen: unknown option '%s'\n", a); return -1; }
        if (npos == 0) o->chip_path = a;
        else if (npos == 1 && !o->out_path) o->out_path = a;
        else if (npos <= 2 && !parse_count(a, &v)) o->n_ops = v;
        else { fprintf(stderr, "schedgen: unexpected argument '%s'\n", a); return -1; }
        npos++;
    }
    if (!o->chip_path || !o->out_path) { usage(stderr); return -1; }
    return 0;
}

int main(int argc, char **argv)
{
    opts o = {.n_ops = 20000, .seed = 1, .kind = KIND_DECODE, .n_chips = 1};
    int pr = parse_args(argc, argv, &o);
    if (pr) return pr > 0 ? 0 : 2;
    sio_error err = {0};
    sio_chip *chip = NULL;
    int rc = sio_chip_load(o.chip_path, &chip, &err);
    if (rc) {
        fprintf(stderr, "%s\n", err.text[0] ? err.text : sio_strerror(rc));
        return rc == SIO_EINPUT ? 2 : 4;
    }
    gen g = {.chip = chip, .o = o, .rng = o.seed * 0x2545F4914F6CDD1Dull + 0x1234567ull,
             .nu = chip->n_units, .nk = o.n_chips};
    wbuf *w = calloc(1, sizeof *w);
    g.free_cyc = calloc(g.nk * g.nu + 1, sizeof *g.free_cyc);
    g.next_id = calloc(g.nk, sizeof *g.next_id);
    g.stamp = calloc(g.nu + 1, sizeof *g.stamp);
    g.name_len = calloc(g.nu + 1, sizeof *g.name_len);
    int mode = (w && g.free_cyc && g.next_id && g.stamp && g.name_len) ? gen_setup(&g) : -1;
    size_t *us = NULL, nus = 0;
    if (mode == 0 && (us = malloc((g.nu + 1) * sizeof *us)) != NULL)
        for (size_t u = 0; u < g.nu; u++)
            if (class_has_ops(chip, chip->units[u].cls)) us[nus++] = u;
    if (mode < 0 || (mode == 0 && !us)) {
        fprintf(stderr, "schedgen: out of memory\n");
        gen_free(&g); free(w); free(us); sio_chip_free(chip);
        return 4;
    }
    if (mode == 0 && nus == 0 && o.n_ops > 0) {
        fprintf(stderr, "%s: no unit has an op: nothing to schedule\n", o.chip_path);
        gen_free(&g); free(w); free(us); sio_chip_free(chip);
        return 2;
    }
    for (size_t u = 0; u < g.nu; u++) g.name_len[u] = strlen(chip->units[u].name);
    sio_out *out = NULL;
    int to_stdout = !strcmp(o.out_path, "-");
    if (to_stdout) w->f = stdout;
    else if (sio_out_open(o.out_path, &out, &err)) {
        fprintf(stderr, "%s\n", err.text);
        gen_free(&g); free(w); free(us); sio_chip_free(chip);
        return 4;
    } else {
        w->f = sio_out_file(out);
    }
    g.w = w;
    const char *hdr = g.nk > 1 ? "id,unit,op,start,cycles,chip,activity,deps" : "id,unit,op,start,cycles,activity,deps";
    wb_put(w, hdr, strlen(hdr));
    if (o.extra) wb_put(w, ",note", 5);
    wb_ch(w, '\n');
    if (o.n_ops == 0) g.done = 1;
    int grc = mode == 1 ? run_structured(&g) : (nus ? run_generic(&g, us, nus) : 0);
    wb_flush(w);
    int status = 0;
    if (grc || g.failed) {
        if (grc) fprintf(stderr, "schedgen: out of memory\n");
        sio_out_abort(out);
        status = 4;
    } else if (to_stdout) {
        if (fflush(stdout) || ferror(stdout)) { fprintf(stderr, "schedgen: write failed\n"); status = 4; }
    } else if (sio_out_commit(out, &err)) {
        fprintf(stderr, "%s\n", err.text);
        status = 4;
    }
    gen_free(&g);
    free(w);
    free(us);
    sio_chip_free(chip);
    return status;
}
