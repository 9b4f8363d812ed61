/* schedgen.c -- writes valid, realistic schedules for any pda-chip/1 chip.
**
**   schedgen CHIP -o OUT.csv [--ops N] [--seed S]
**            [--kind decode|prefill|mixed|streams] [--chips K] [--extra]
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
** --kind streams (run_streams) is made almost wholly of exact-lag streams, as
** a TSP runs: each stream is one exact group of 2-8 instructions tied by
** `ID=N` deps (slices read into a plane's load_weights or matmul and its
** result written back; a slice into the VXM, out to an SXM and back into the
** same VXM; a C2C send and its recv one link latency later; a DMA into two
** slices; on other chips, chains over whatever units have ops). A stream goes
** to the earliest start where every member's cycles are free on its unit, so
** members land in the gaps other streams left, and a stream's own members on
** one unit (the VXM before and after the SXM pass, a slice read twice, a
** plane's second pass) have other streams' members between them: unit order
** ties streams together in cycles. Streams also wait on recent streams'
** results (`ID`, `ID+N`, some with slack), each plane's matmuls on its
** weights and its weights on its matmuls (`ID`), and phases open with bursts
** (an ICU sync once the planes drain, then a stream per plane and a few more,
** starting together). One program runs on every chip (SPMD; only the activity
** differs), so on K chips a recv is the previous chip's send arriving. Its
** rows go out in start order with ids in creation order (see run_streams).
**
** Invariants (checked on every row before it is written; a breach is an
** internal error, never silent): a unit's ops never overlap (per chip and
** unit a "next free cycle" is kept and every start is placed at or after
** it), every dep is satisfied with exact lags exact, deps only name rows
** already written on the same chip (so there is no cycle), ids are unique per
** chip. Truncating at --ops keeps all of this because of the last point.
**
** Sizes: memory is O(chips x units) (streams: plus a bitmap of 8192 cycles
** per unit and the rows pending in it); rows stream out through a 64 KiB
** buffer, ~10^7 rows per few seconds. Deterministic for a given seed. */
#include "sio.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINK_LATENCY_CYC 216   /* chip-to-chip link latency (published figure) */
#define MAX_DEPS 24
#define WBUF_BYTES 65536

enum kind { KIND_DECODE, KIND_PREFILL, KIND_MIXED, KIND_STREAMS };

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
    int64_t *key_start;      /* [chip]: the streams kind's last key written */
    uint64_t *key_id;        /*   (start, id); NULL for the other kinds */
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
** written after that). Checks placement and deps; a breach marks g->failed.
** id 0 numbers the row next on its chip (ids in file order). A given id is
** the streams kind's (ids in creation order, rows in start order): then the
** row's key (start, id) must exceed the last one written on its chip and
** every dep must name a smaller key, which proves that the dep's row is
** already in the file (see run_streams). */
static ins emit_as(gen *g, size_t chip, size_t unit, size_t op, int64_t start, int64_t cycles, int act_pct,
                   const dep *d, size_t nd, uint64_t id)
{
    ins r = {0, chip, start, start + cycles};
    if (g->done || g->failed) return r;
    if (g->emitted >= g->o.n_ops) { g->done = 1; return r; }
    int64_t *fr = &g->free_cyc[chip * g->nu + unit];
    int bad = start < 0 || cycles < 1 || start < *fr || g->chip->ops[op].cls != g->chip->units[unit].cls;
    if (id && !bad)
        bad = !g->key_start || start < g->key_start[chip] ||
              (start == g->key_start[chip] && id <= g->key_id[chip]);
    for (size_t k = 0; k < nd && !bad; k++) {
        const ins *on = &d[k].on;
        if (on->id == 0 || on->chip != chip) bad = 1;
        else if (id && (on->start > start || (on->start == start && on->id >= id))) bad = 1;
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
    if (id) { g->key_start[chip] = start; g->key_id[chip] = id; }
    r.id = id ? id : ++g->next_id[chip];
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

static ins emit(gen *g, size_t chip, size_t unit, size_t op, int64_t start, int64_t cycles, int act_pct,
                const dep *d, size_t nd)
{
    return emit_as(g, chip, unit, op, start, cycles, act_pct, d, nd, 0);
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

/* ---- streams: exact-lag groups interleaved on the units ----------------- */

/* Every stream is a template of 2-8 members (unit, op, offset from the
** stream's first start, cycles), each member but the roots taking an exact lag
** (`ID=N`) from an earlier one, so a stream is one exact group. A stream is
** placed at the earliest start t at which every member's [t + off, t + off +
** cycles) is free on its unit; the occupancy is a bitmap per unit over the
** S_HORIZON cycles from `now`, so a member lands in a gap that older streams
** left on its unit, and the gaps a stream leaves between its own members on
** one unit (a VXM op before and after an SXM pass, a slice read twice) are
** filled by later streams: unit order ties the streams together.
**
** Rows are written in (start, id) order, ids numbering rows in creation order.
** Every dep names a row created before (a smaller id) that starts no later
** (an exact or `ID+N` lag is >= 0, an `ID` dep waits for the end), so it has
** the smaller key and comes earlier in the file; and since every stream is
** placed at or after `now`, a row is written once `now` passes its start,
** when no row with a smaller key can still be made. Each unit's rows so come
** in start order, which emit_as checks against the unit's free cycle, and
** truncation at --ops keeps the file valid. */

#define S_HORIZON 8192           /* cycles of occupancy kept from `now` (a power of 2) */
#define S_WORDS (S_HORIZON / 64)
#define S_BACKFILL 4096          /* gaps this far behind the latest stream start are still filled */
#define S_MAX_MEM 8              /* members of a stream */
#define S_MAX_FEED 6             /* exact feeders of one member */
#define S_MAX_DEPS (S_MAX_FEED + 2)
#define S_RING 32                /* recent stream results, for deps between streams */
#define S_PLANE_KEEP 16          /* load_weights and matmuls kept per plane */
#define S_NIL UINT32_MAX
#define NONE SIZE_MAX

enum skind { SK_WEIGHTS, SK_MATMUL, SK_VECTOR, SK_XCHG, SK_IO, SK_COPY, SK_GENERIC, SK_SYNC, SK_N };
static const char *const SK_NAME[SK_N] = {"wt", "mm", "vec", "xchg", "io", "copy", "gen", "sync"};

/* A member of a stream template. */
typedef struct smem {
    size_t unit, op;
    int64_t off, cyc;
    int act;
    size_t nf, feed[S_MAX_FEED];   /* earlier members it takes an exact lag from */
    size_t nx;
    dep x[2];                      /* deps on other streams' rows (`ID`, `ID+N`) */
} smem;

typedef struct stmpl {
    smem m[S_MAX_MEM + 1];         /* the last slot soaks up a member too many */
    size_t n, mark;                /* mark: a member the caller keeps (a load_weights, a matmul) */
    int kind;
} stmpl;

/* A row made and not yet written; pending rows are kept per start cycle. */
typedef struct prow {
    int64_t start, cyc;
    uint64_t id, stream;
    uint32_t unit, op, next;
    uint8_t act, kind, nd;
    dep d[S_MAX_DEPS];
} prow;

typedef struct sgen {
    int64_t now;                   /* every stream from now on is placed at or after it */
    uint64_t *occ;                 /* [unit][S_WORDS]: busy cycles of now .. now + S_HORIZON, by cycle mod S_HORIZON */
    int64_t *tail;                 /* [unit]: the latest end placed */
    prow *pool;
    uint32_t n_pool, cap_pool, free_row;
    uint32_t head[S_HORIZON], last[S_HORIZON];   /* rows pending per start cycle mod S_HORIZON, in id order */
    uint64_t seq, rows, streams;
    ins ring[S_RING];              /* the last rows of recent streams (their results) */
    size_t n_ring, pos_ring;
    ins *plane_ops;                /* [plane][2][S_PLANE_KEEP]: its last load_weights, its last matmuls */
    size_t *n_plane_ops;           /* [plane][2]: how many were kept so far */
    const size_t *us;              /* units whose class has ops */
    size_t nus, rr_us, rr_other;
    const role *fr;                /* feeder slices: MEM, else SRAM, else none */
    int weight[SK_N];
} sgen;

/* Sets (v = 1) or clears the cycles [from, to) of unit u; to - from <= S_HORIZON. */
static void occ_set(sgen *s, size_t u, int64_t from, int64_t to, int v)
{
    uint64_t *w = s->occ + u * S_WORDS;
    for (int64_t c = from; c < to;) {
        int64_t b = c & 63, nb = 64 - b < to - c ? 64 - b : to - c;
        uint64_t m = (nb == 64 ? ~0ull : ((1ull << nb) - 1)) << b;
        size_t k = (size_t)((c & (S_HORIZON - 1)) >> 6);
        if (v) w[k] |= m; else w[k] &= ~m;
        c += nb;
    }
}

/* The first cycle in [from, to) of unit u that is busy (busy = 1) or free
** (busy = 0), else to. A word at a time. */
static int64_t occ_scan(const sgen *s, size_t u, int64_t from, int64_t to, int busy)
{
    const uint64_t *w = s->occ + u * S_WORDS;
    for (int64_t c = from; c < to; c = c - (c & 63) + 64) {
        uint64_t x = w[(c & (S_HORIZON - 1)) >> 6];
        if (!busy) x = ~x;
        x &= ~0ull << (c & 63);
        if (x) {
            int64_t r = c - (c & 63) + __builtin_ctzll(x);
            return r < to ? r : to;
        }
    }
    return to;
}

/* The first p >= x with [p, p + len) free on unit u inside the horizon, else -1. */
static int64_t first_fit(const sgen *s, size_t u, int64_t x, int64_t len)
{
    int64_t lim = s->now + S_HORIZON;
    for (;;) {
        int64_t p = occ_scan(s, u, x, lim, 0);
        if (p + len > lim) return -1;
        int64_t q = occ_scan(s, u, p, p + len, 1);
        if (q == p + len) return p;
        x = q;
    }
}

/* Writes a pending row once per chip. Every chip runs the same program (see
** run_streams); only the activity differs from chip to chip. */
static void s_write(gen *g, const prow *r)
{
    dep d[S_MAX_DEPS];
    memcpy(d, r->d, r->nd * sizeof *d);
    if (g->o.extra) snprintf(g->note, sizeof g->note, "S%" PRIu64 ".%s", r->stream, SK_NAME[r->kind]);
    for (size_t c = 0; c < g->nk && !g->done && !g->failed; c++) {
        for (size_t k = 0; k < r->nd; k++) d[k].on.chip = c;
        int act = r->act;
        if (c > 0) {
            act += (int)rint_in(g, -8, 8);
            act = act < 1 ? 1 : act > 100 ? 100 : act;
        }
        emit_as(g, c, r->unit, r->op, r->start, r->cyc, act, d, r->nd, r->id);
    }
}

/* Moves `now` to b: writes the rows that start before b (cycle by cycle, each
** cycle's in id order) and frees their cycles of the bitmaps for reuse as
** the cycles S_HORIZON later. */
static void s_advance(gen *g, sgen *s, int64_t b)
{
    if (b <= s->now) return;
    int64_t e = b < s->now + S_HORIZON ? b : s->now + S_HORIZON;
    for (int64_t c = s->now; c < e; c++) {
        size_t h = (size_t)(c & (S_HORIZON - 1));
        for (uint32_t k = s->head[h]; k != S_NIL;) {
            prow *r = &s->pool[k];
            s_write(g, r);
            uint32_t nx = r->next;
            r->next = s->free_row;
            s->free_row = k;
            k = nx;
        }
        s->head[h] = S_NIL;
    }
    for (size_t u = 0; u < g->nu; u++) occ_set(s, u, s->now, e, 0);
    s->now = b;
}

static uint32_t s_row_new(gen *g, sgen *s)
{
    if (s->free_row != S_NIL) {
        uint32_t k = s->free_row;
        s->free_row = s->pool[k].next;
        return k;
    }
    if (s->n_pool == s->cap_pool) {
        uint32_t cap = s->cap_pool ? 2 * s->cap_pool : 1024;
        prow *p = cap > s->cap_pool ? realloc(s->pool, cap * sizeof *p) : NULL;
        if (!p) { fprintf(stderr, "schedgen: out of memory\n"); g->failed = 1; return S_NIL; }
        s->pool = p;
        s->cap_pool = cap;
    }
    return s->n_pool++;
}

/* Adds a member at offset off, or later when it would overlap a member on
** the same unit (then just after that one). Returns its index. Consumers
** take their offsets from their feeders' actual offsets, so a member pushed
** later only lengthens the lags after it. */
static size_t tm_add(gen *g, stmpl *tm, size_t unit, size_t op, int64_t off, int64_t cyc, int act)
{
    if (tm->n >= S_MAX_MEM) {
        fprintf(stderr, "schedgen: internal error: stream of more than %d members\n", S_MAX_MEM);
        g->failed = 1;
        tm->m[S_MAX_MEM] = (smem){.unit = unit, .op = op, .off = off, .cyc = cyc};
        return S_MAX_MEM;
    }
    for (int moved = 1; moved;) {
        moved = 0;
        for (size_t j = 0; j < tm->n; j++) {
            const smem *o = &tm->m[j];
            if (o->unit == unit && off < o->off + o->cyc && o->off < off + cyc) { off = o->off + o->cyc; moved = 1; }
        }
    }
    tm->m[tm->n] = (smem){.unit = unit, .op = op, .off = off, .cyc = cyc, .act = act};
    return tm->n++;
}

static void tm_feed(stmpl *tm, size_t i, size_t f)
{
    if (i >= tm->n || f >= tm->n || tm->m[i].nf >= S_MAX_FEED) return;
    tm->m[i].feed[tm->m[i].nf++] = f;
}

static void tm_xdep(stmpl *tm, size_t i, ins on, int kind, int64_t n)
{
    if (on.id == 0 || i >= tm->n || tm->m[i].nx >= 2) return;
    tm->m[i].x[tm->m[i].nx++] = (dep){on, kind, n};
}

static int64_t tm_off(const stmpl *tm, size_t i) { return tm->m[i < tm->n ? i : S_MAX_MEM].off; }

/* Sorts the members by offset (ties in the order added, so a feeder stays
** before a member it feeds with lag 0), moves the first to offset 0 and checks
** that every feeder comes first and the stream fits half the horizon. */
static int tm_finish(gen *g, stmpl *tm)
{
    size_t n = tm->n, ord[S_MAX_MEM], pos[S_MAX_MEM] = {0};
    int64_t lo = INT64_MAX, hi = 0;
    for (size_t i = 0; i < n; i++) {
        ord[i] = i;
        if (tm->m[i].off < lo) lo = tm->m[i].off;
    }
    for (size_t i = 1; i < n; i++) {
        size_t v = ord[i], j = i;
        while (j > 0 && tm->m[ord[j - 1]].off > tm->m[v].off) { ord[j] = ord[j - 1]; j--; }
        ord[j] = v;
    }
    smem t[S_MAX_MEM];
    for (size_t k = 0; k < n; k++) { t[k] = tm->m[ord[k]]; pos[ord[k]] = k; }
    int bad = n == 0;
    for (size_t k = 0; k < n; k++) {
        t[k].off -= lo;
        if (t[k].off + t[k].cyc > hi) hi = t[k].off + t[k].cyc;
        for (size_t j = 0; j < t[k].nf; j++) {
            t[k].feed[j] = pos[t[k].feed[j]];
            bad |= t[k].feed[j] >= k;
        }
    }
    memcpy(tm->m, t, n * sizeof *t);
    if (tm->mark < n) tm->mark = pos[tm->mark];
    if (bad || hi > S_HORIZON / 2) {
        fprintf(stderr, "schedgen: internal error: bad stream template (%s)\n", SK_NAME[tm->kind]);
        g->failed = 1;
        return -1;
    }
    return 0;
}

/* The earliest start t >= t0 at which every member fits. t only grows; when
** a member would end past the horizon, `now` moves up (never past t, as a
** stream spans at most half the horizon). */
static int64_t s_place(gen *g, sgen *s, const stmpl *tm, int64_t t0)
{
    int64_t t = t0 > s->now ? t0 : s->now;
    for (size_t i = 0; i < tm->n;) {
        const smem *m = &tm->m[i];
        int64_t s0 = t + m->off;
        if (s0 + m->cyc > s->now + S_HORIZON) s_advance(g, s, s0 + m->cyc - S_HORIZON);
        int64_t p = first_fit(s, m->unit, s0, m->cyc);
        if (p == s0) { i++; continue; }
        t = (p < 0 ? s->now + S_HORIZON : p) - m->off;
        i = 0;
    }
    return t;
}

/* Makes the stream's rows at t (pending until `now` passes them); out[i] is
** member i's row. */
static void s_commit(gen *g, sgen *s, const stmpl *tm, int64_t t, ins *out)
{
    for (size_t i = 0; i < tm->n && !g->failed; i++) {
        const smem *m = &tm->m[i];
        uint32_t k = s_row_new(g, s);
        if (k == S_NIL) return;
        prow *r = &s->pool[k];
        int64_t st = t + m->off;
        *r = (prow){.start = st, .cyc = m->cyc, .id = ++s->seq, .stream = s->streams, .unit = (uint32_t)m->unit,
                    .op = (uint32_t)m->op, .next = S_NIL, .act = (uint8_t)m->act, .kind = (uint8_t)tm->kind};
        for (size_t j = 0; j < m->nf; j++)
            r->d[r->nd++] = (dep){out[m->feed[j]], DEP_EXACT, m->off - tm->m[m->feed[j]].off};
        for (size_t j = 0; j < m->nx; j++) r->d[r->nd++] = m->x[j];
        out[i] = (ins){r->id, 0, st, st + m->cyc};
        size_t h = (size_t)(st & (S_HORIZON - 1));
        if (s->head[h] == S_NIL) s->head[h] = k;
        else s->pool[s->last[h]].next = k;
        s->last[h] = k;
        occ_set(s, m->unit, st, st + m->cyc, 1);
        if (st + m->cyc > s->tail[m->unit]) s->tail[m->unit] = st + m->cyc;
        s->rows++;
    }
    s->streams++;
}

/* Of up to 8 units of a list from its cursor, the one free first and not yet
** in this stream (a unit already in it only when all 8 are). */
static size_t s_pick(gen *g, const sgen *s, const size_t *units, size_t n, size_t *rr)
{
    size_t win = n < 8 ? n : 8, best = units[*rr % n];
    int64_t bt = INT64_MAX;
    for (size_t j = 0; j < win; j++) {
        size_t u = units[(*rr + j) % n];
        if (g->stamp[u] != g->tile_serial && s->tail[u] < bt) { bt = s->tail[u]; best = u; }
    }
    *rr = (*rr + 1) % n;
    g->stamp[best] = g->tile_serial;
    return best;
}

/* The read (write = 0) or write op of a feeder slice, MEM or SRAM. */
static size_t fop(const gen *g, size_t u, int write)
{
    if (g->mem.present && g->chip->units[u].cls == g->mem.cls) return write ? g->op_mwrite : g->op_mread;
    return write ? g->op_swrite : g->op_sread;
}

static size_t s_pick_fr(gen *g, sgen *s)
{
    return s_pick(g, s, s->fr->units, s->fr->n, s->fr == &g->mem ? &g->rr_mem : &g->rr_sram);
}

/* Weights: 2-5 slices of the plane's weight group read at once, arriving
** together at its load_weights (exact lags = the hops). */
static void st_weights(gen *g, sgen *s, stmpl *tm, size_t p)
{
    size_t plane = g->mxm.units[p], f[5], rd[5];
    size_t k = (size_t)rint_in(g, 2, 5);
    if (k > g->n_wfeed[p]) k = g->n_wfeed[p];
    int64_t base = 0;
    for (size_t i = 0; i < k; i++) {
        f[i] = s_pick(g, s, g->wfeed[p], g->n_wfeed[p], &g->rr_w[p]);
        base = max64(base, lag_of(g, f[i], plane));
    }
    int64_t cyc = (320 + (int64_t)k - 1) / (int64_t)k + rint_in(g, 0, 6);
    int64_t at = 0;
    for (size_t i = 0; i < k; i++) {
        int64_t l = lag_of(g, f[i], plane);
        rd[i] = tm_add(g, tm, f[i], fop(g, f[i], 0), base - l, cyc, act_in(g, 50, 100));
        at = max64(at, tm_off(tm, rd[i]) + l);
    }
    size_t w = tm_add(g, tm, plane, g->op_lw, at, cyc, act_in(g, 60, 100));
    for (size_t i = 0; i < k; i++) tm_feed(tm, w, rd[i]);
    tm->mark = w;
}

/* Matmul: 1-2 activation slices stream into the plane; the result streams
** out ~20 cycles (the ripple) later into a MEM write, or through the VXM
** (accumulate) first. A quarter of them run a second pass on the same plane
** from the same slices read again, after a gap other streams fill. */
static void st_matmul(gen *g, sgen *s, stmpl *tm, size_t p)
{
    size_t plane = g->mxm.units[p], fa[2], rd[2];
    size_t ka = (size_t)rint_in(g, 1, 2);
    if (ka > g->n_afeed[p]) ka = g->n_afeed[p];
    int passes = rint_in(g, 0, 3) == 0 ? 2 : 1;
    int64_t Lm = rint_in(g, 40, 160), base = 0;
    for (size_t i = 0; i < ka; i++) {
        fa[i] = s_pick(g, s, g->afeed[p], g->n_afeed[p], &g->rr_a[p]);
        base = max64(base, lag_of(g, fa[i], plane));
    }
    size_t mm = NONE;
    for (int pass = 0; pass < passes; pass++) {
        int64_t b = pass == 0 ? base : tm_off(tm, mm) + Lm + rint_in(g, Lm / 4, Lm), at = 0;
        for (size_t i = 0; i < ka; i++) {
            int64_t l = lag_of(g, fa[i], plane);
            size_t r = tm_add(g, tm, fa[i], fop(g, fa[i], 0), b - l, Lm, act_in(g, 50, 100));
            if (pass) tm_feed(tm, r, rd[i]);   /* the same slice read again */
            rd[i] = r;
            at = max64(at, tm_off(tm, r) + l);
        }
        if (mm != NONE) at = max64(at, tm_off(tm, mm) + Lm);
        mm = tm_add(g, tm, plane, g->op_mm, at, Lm, act_in(g, 70, 100));
        for (size_t i = 0; i < ka; i++) tm_feed(tm, mm, rd[i]);
        if (pass == 0) tm->mark = mm;
        size_t src = mm, su = plane;
        if (g->vxm.present && pass == passes - 1 && tm->n + 2 <= S_MAX_MEM - 1 && rint_in(g, 0, 5) == 0) {
            su = s_pick(g, s, g->vxm.units, g->vxm.n, &g->rr_vxm);
            src = tm_add(g, tm, su, g->op_vx[0], tm_off(tm, mm) + 20 + lag_of(g, plane, su), Lm,
                         act_in(g, 60, 100));
            tm_feed(tm, src, mm);
        }
        size_t w = s_pick_fr(g, s);
        int64_t lat = src == mm ? 20 : 0;
        size_t wr = tm_add(g, tm, w, fop(g, w, 1), tm_off(tm, src) + lat + lag_of(g, su, w), Lm, act_in(g, 50, 100));
        tm_feed(tm, wr, src);
    }
}

/* Vector: a slice read into the VXM (mul/add), out to an SXM pass and back
** into the same VXM (act), then written to a slice. The VXM is idle between
** its two ops for the SXM round trip, a gap other streams fill; half the time
** the first slice is read again to meet the second op. */
static void st_vector(gen *g, sgen *s, stmpl *tm)
{
    int64_t c = rint_in(g, 8, 24);
    size_t v = s_pick(g, s, g->vxm.units, g->vxm.n, &g->rr_vxm), r1 = NONE, m = 0;
    if (s->fr) {
        m = s_pick_fr(g, s);
        r1 = tm_add(g, tm, m, fop(g, m, 0), 0, c, act_in(g, 50, 100));
    }
    size_t v1 = tm_add(g, tm, v, g->op_vx[rint_in(g, 0, 1)], r1 != NONE ? tm_off(tm, r1) + lag_of(g, m, v) : 0, c,
                       act_in(g, 60, 100));
    tm_feed(tm, v1, r1);
    size_t prev = v1;
    int64_t back;
    if (g->sxm.present) {
        size_t x = s_pick(g, s, g->sxm.units, g->sxm.n, &g->rr_sxm);
        prev = tm_add(g, tm, x, g->op_sx[rint_in(g, 0, 2)], tm_off(tm, v1) + lag_of(g, v, x), c, 100);
        tm_feed(tm, prev, v1);
        back = tm_off(tm, prev) + lag_of(g, x, v);
    } else {
        back = tm_off(tm, v1) + c + rint_in(g, 8, 40);
    }
    back = max64(back, tm_off(tm, v1) + c + rint_in(g, 2, 12));
    size_t r2 = NONE;
    if (r1 != NONE && rint_in(g, 0, 1)) {
        int64_t o2 = back - lag_of(g, m, v);
        if (o2 >= tm_off(tm, r1) + c) {
            r2 = tm_add(g, tm, m, fop(g, m, 0), o2, c, act_in(g, 50, 100));
            tm_feed(tm, r2, r1);
            back = max64(back, tm_off(tm, r2) + lag_of(g, m, v));
        }
    }
    size_t v2 = tm_add(g, tm, v, g->op_vx[2], back, c, act_in(g, 60, 100));
    tm_feed(tm, v2, prev);
    tm_feed(tm, v2, r2);
    if (s->fr) {
        size_t w = s_pick_fr(g, s);
        size_t wr = tm_add(g, tm, w, fop(g, w, 1), tm_off(tm, v2) + lag_of(g, v, w), c, act_in(g, 50, 100));
        tm_feed(tm, wr, v2);
    }
}

/* Exchange: a slice (or VXM) streams into a C2C send; the recv on the paired
** link comes exactly one link latency after the send starts (every chip runs
** the same program, so on K chips it is the previous chip's send arriving);
** the VXM adds it and it is written back. */
static void st_xchg(gen *g, sgen *s, stmpl *tm)
{
    int64_t ch = rint_in(g, 32, 160);
    size_t nc = g->c2c.n, j = g->rr_c2c++;
    size_t tx = g->c2c.units[(2 * j) % nc], rx = g->c2c.units[(2 * j + 1) % nc], src = NONE, su = 0;
    if (s->fr) {
        su = s_pick_fr(g, s);
        src = tm_add(g, tm, su, fop(g, su, 0), 0, ch, act_in(g, 50, 100));
    } else if (g->vxm.present) {
        su = s_pick(g, s, g->vxm.units, g->vxm.n, &g->rr_vxm);
        src = tm_add(g, tm, su, g->op_vx[1], 0, ch, act_in(g, 60, 100));
    }
    size_t sd = tm_add(g, tm, tx, g->op_send, src != NONE ? tm_off(tm, src) + lag_of(g, su, tx) : 0, ch, 100);
    tm_feed(tm, sd, src);
    size_t last = tm_add(g, tm, rx, g->op_recv, tm_off(tm, sd) + LINK_LATENCY_CYC, ch, 100), lu = rx;
    tm_feed(tm, last, sd);
    if (g->vxm.present) {
        size_t v = s_pick(g, s, g->vxm.units, g->vxm.n, &g->rr_vxm);
        size_t a = tm_add(g, tm, v, g->op_vx[0], tm_off(tm, last) + lag_of(g, rx, v), ch, act_in(g, 60, 100));
        tm_feed(tm, a, last);
        last = a;
        lu = v;
    }
    if (s->fr) {
        size_t w = s_pick_fr(g, s);
        size_t wr = tm_add(g, tm, w, fop(g, w, 1), tm_off(tm, last) + lag_of(g, lu, w), ch, act_in(g, 50, 100));
        tm_feed(tm, wr, last);
    }
}

/* Generic members after the first: each takes an exact lag from the last
** member (or, a quarter of the time, any earlier one); three in ten reuse a
** unit already in the stream, after a gap. */
static void st_chain(gen *g, sgen *s, stmpl *tm, size_t k)
{
    for (size_t i = 0; i < k && tm->n < S_MAX_MEM; i++) {
        size_t n = tm->n;
        size_t f = rint_in(g, 0, 3) == 0 ? (size_t)rint_in(g, 0, (int64_t)n - 1) : n - 1;
        size_t u = rint_in(g, 0, 9) < 3 ? tm->m[rint_in(g, 0, (int64_t)n - 1)].unit : s->us[rnd(g) % s->nus];
        const smem *fm = &tm->m[f];
        int64_t off = fm->off + (u == fm->unit ? fm->cyc + rint_in(g, 4, 48) : lag_of(g, fm->unit, u) + rint_in(g, 0, 4));
        size_t op = pick_op(g->chip, g->chip->units[u].cls, "", (size_t)rint_in(g, 0, 7));
        size_t m = tm_add(g, tm, u, op, off, rint_in(g, 8, 96), act_in(g, 50, 100));
        tm_feed(tm, m, f);
    }
}

/* I/O: a unit of another class (a PCIe DMA, ...) streams into two slices,
** one half each; without slices, a generic chain follows it. */
static void st_io(gen *g, sgen *s, stmpl *tm)
{
    size_t o = g->other[s->rr_other++ % g->n_other];
    size_t op = pick_op(g->chip, g->chip->units[o].cls, "", (size_t)rint_in(g, 0, 7));
    int64_t L = rint_in(g, 32, 256), h = L / 2;
    size_t a = tm_add(g, tm, o, op, 0, L, 100);
    if (!s->fr) { st_chain(g, s, tm, (size_t)rint_in(g, 1, 3)); return; }
    for (int k = 0; k < 2; k++) {
        size_t w = s_pick_fr(g, s);
        size_t i = tm_add(g, tm, w, fop(g, w, 1), (k ? h : 0) + lag_of(g, o, w), k ? L - h : h, act_in(g, 50, 100));
        tm_feed(tm, i, a);
    }
}

/* Copy (stacked SRAM): a bank streams into a MEM slice; half the time the
** slice is read back later into the same bank (each unit twice, a gap in
** between). */
static void st_copy(gen *g, sgen *s, stmpl *tm)
{
    int64_t c = rint_in(g, 32, 128);
    size_t b = s_pick(g, s, g->sram.units, g->sram.n, &g->rr_sram);
    size_t m = s_pick(g, s, g->mem.units, g->mem.n, &g->rr_mem);
    size_t rb = tm_add(g, tm, b, g->op_sread, 0, c, act_in(g, 50, 100));
    size_t wm = tm_add(g, tm, m, g->op_mwrite, tm_off(tm, rb) + lag_of(g, b, m), c, act_in(g, 50, 100));
    tm_feed(tm, wm, rb);
    if (rint_in(g, 0, 1)) {
        size_t rm = tm_add(g, tm, m, g->op_mread, tm_off(tm, wm) + c + rint_in(g, 8, 64), c, act_in(g, 50, 100));
        tm_feed(tm, rm, wm);
        size_t wb = tm_add(g, tm, b, g->op_swrite, tm_off(tm, rm) + lag_of(g, m, b), c, act_in(g, 50, 100));
        tm_feed(tm, wb, rm);
    }
}

/* Generic: 2-6 members over every unit with ops, the first round-robin. */
static void st_generic(gen *g, sgen *s, stmpl *tm)
{
    size_t u = s->us[s->rr_us++ % s->nus];
    tm_add(g, tm, u, pick_op(g->chip, g->chip->units[u].cls, "", (size_t)rint_in(g, 0, 7)), 0, rint_in(g, 8, 96),
           act_in(g, 50, 100));
    st_chain(g, s, tm, (size_t)rint_in(g, 1, 5));
}

/* The plane with the earliest gap of 64 cycles from `now` (ties: the lowest),
** so the gaps that streams waiting on their deps leave on a plane get filled. */
static size_t s_plane(const gen *g, const sgen *s)
{
    size_t best = 0;
    int64_t bt = INT64_MAX;
    for (size_t p = 0; p < g->mxm.n; p++) {
        int64_t t = first_fit(s, g->mxm.units[p], s->now, 64);
        if (t < 0) t = INT64_MAX - 1;
        if (t < bt) { bt = t; best = p; }
    }
    return best;
}

/* The plane's op of kind k (0 load_weights, 1 matmul) among the last
** S_PLANE_KEEP that ends last at or before cycle t; id 0 when none. */
static ins s_plane_before(const sgen *s, size_t p, int k, int64_t t)
{
    const ins *o = s->plane_ops + (p * 2 + (size_t)k) * S_PLANE_KEEP;
    size_t n = s->n_plane_ops[p * 2 + (size_t)k];
    ins best = {0, 0, 0, 0};
    for (size_t i = 0; i < n && i < S_PLANE_KEEP; i++)
        if (o[i].end <= t && (!best.id || o[i].end > best.end)) best = o[i];
    return best;
}

/* Places a finished template at or after t0 and after its deps, makes its
** rows (out[]) and keeps its last row as a result later streams may wait on. */
static void s_put(gen *g, sgen *s, stmpl *tm, int64_t t0, size_t p, ins *out)
{
    for (size_t i = 0; i < tm->n; i++)
        for (size_t j = 0; j < tm->m[i].nx; j++) {
            const dep *x = &tm->m[i].x[j];
            t0 = max64(t0, (x->kind == DEP_END ? x->on.end : x->on.start + x->n) - tm->m[i].off);
        }
    int64_t t = s_place(g, s, tm, t0);
    /* on a plane, a matmul waits for the weights loaded last before it, and
    ** weights wait for the matmul that ran last before them (on the old
    ** weights): `ID` deps, met where the stream landed, so a stream can still
    ** fill a gap the plane had before its newest ops */
    int k = tm->kind == SK_WEIGHTS ? 0 : tm->kind == SK_MATMUL ? 1 : -1;
    if (k >= 0 && tm->mark < tm->n)
        tm_xdep(tm, tm->mark, s_plane_before(s, p, !k, t + tm->m[tm->mark].off), DEP_END, 0);
    s_commit(g, s, tm, t, out);
    if (k >= 0 && tm->mark < tm->n && !g->failed) {
        size_t *n = &s->n_plane_ops[p * 2 + (size_t)k];
        s->plane_ops[(p * 2 + (size_t)k) * S_PLANE_KEEP + *n % S_PLANE_KEEP] = out[tm->mark];
        ++*n;
    }
    if (g->failed) return;
    s->ring[s->pos_ring++ % S_RING] = out[tm->n - 1];
    if (s->n_ring < S_RING) s->n_ring++;
    if (t - S_BACKFILL >= s->now + 64) s_advance(g, s, t - S_BACKFILL);
}

/* One of the last 8 results. */
static ins s_recent(gen *g, const sgen *s)
{
    size_t n = s->n_ring < 8 ? s->n_ring : 8;
    return s->ring[(s->pos_ring - 1 - (size_t)rint_in(g, 0, (int64_t)n - 1)) % S_RING];
}

/* The streams kind. Streams are drawn by weight from the kinds the chip
** allows (on an MXM chip with slices: matmul 40, weights 18, vector 14, copy 8
** with an SRAM die, exchange 4, I/O 4; on other chips generic 30 and vector 30
** with a VXM). Phases of 48-160 streams each open with a burst: an ICU `sync`
** after the MXM planes' (else the VXMs', else every unit's) last op, waiting
** for the two matmuls that end last, then a matmul stream per plane and 2-6
** more, all after the sync, so they start together. It is no barrier for
** the streams after the burst, which still fill the gaps before it (a barrier
** halves the MXMs' busy share: the planes' last ops run well ahead of the
** fill). Outside bursts, a fifth of the streams wait for (`ID`) and an eighth
** start after (`ID+N`) one of the last 8 results, a quarter of those with 1-64
** cycles of slack; the rest fill whatever gaps fit. On the sample TSP chip the
** MXMs are ~89% busy, the VXM ~71%.
**
** The program is made once and every chip runs it (SPMD, as tensor-parallel
** chips do): each row is written once per chip, with its activity jittered
** by up to 8 hundredths. Memory is O(units x S_HORIZON + the rows pending in
** the horizon). */
static int run_streams(gen *g, const size_t *us, size_t nus, int structured)
{
    sgen *s = calloc(1, sizeof *s);
    size_t P = structured ? g->mxm.n : 0;
    if (!s) return -1;
    s->occ = calloc(g->nu * S_WORDS + 1, sizeof *s->occ);
    s->tail = calloc(g->nu + 1, sizeof *s->tail);
    s->plane_ops = calloc(2 * P * S_PLANE_KEEP + 1, sizeof *s->plane_ops);
    s->n_plane_ops = calloc(2 * P + 1, sizeof *s->n_plane_ops);
    g->key_start = calloc(g->nk, sizeof *g->key_start);
    g->key_id = calloc(g->nk, sizeof *g->key_id);
    int rc = -1;
    if (!s->occ || !s->tail || !s->plane_ops || !s->n_plane_ops || !g->key_start || !g->key_id) goto out;
    for (size_t c = 0; c < g->nk; c++) g->key_start[c] = -1;
    memset(s->head, 0xff, sizeof s->head);
    s->free_row = S_NIL;
    s->us = us;
    s->nus = nus;
    s->fr = g->mem.present ? &g->mem : g->sram.present ? &g->sram : NULL;
    s->weight[SK_WEIGHTS] = structured ? 18 : 0;
    s->weight[SK_MATMUL] = structured ? 40 : 0;
    s->weight[SK_VECTOR] = g->vxm.present ? (structured ? 14 : 30) : 0;
    s->weight[SK_XCHG] = g->c2c.present ? 4 : 0;
    s->weight[SK_IO] = g->n_other ? 4 : 0;
    s->weight[SK_COPY] = g->sram.present && g->mem.present ? 8 : 0;
    s->weight[SK_GENERIC] = structured ? 0 : 30;
    int total = 0;
    for (int k = 0; k < SK_N; k++) total += s->weight[k];
    const size_t *bu = structured ? g->mxm.units : g->vxm.present ? g->vxm.units : us;
    size_t nbu = structured ? g->mxm.n : g->vxm.present ? g->vxm.n : nus;
    int64_t phase_left = 0, T = 0;
    size_t burst_left = 0, burst_i = 0;
    ins sync = {0, 0, 0, 0}, out[S_MAX_MEM + 1];
    while (!g->failed && s->rows * g->nk < g->o.n_ops) {
        if (phase_left-- <= 0 && burst_left == 0) {
            T = s->now;
            for (size_t i = 0; i < nbu; i++) T = max64(T, s->tail[bu[i]]);
            sync = (ins){0, 0, 0, 0};
            if (g->icu.present) {
                stmpl tm = {.n = 0, .mark = NONE, .kind = SK_SYNC};
                g->tile_serial++;
                tm_add(g, &tm, s_pick(g, s, g->icu.units, g->icu.n, &g->rr_icu), g->op_sync, 0, 2, 100);
                /* it waits for the two planes' matmuls that end last (or,
                ** without planes, the last two results) */
                ins w[2] = {{0, 0, 0, 0}, {0, 0, 0, 0}};
                for (size_t q = 0; q < P; q++) {
                    ins m = s_plane_before(s, q, 1, INT64_MAX);
                    if (m.id && (!w[0].id || m.end > w[0].end)) { w[1] = w[0]; w[0] = m; }
                    else if (m.id && (!w[1].id || m.end > w[1].end)) w[1] = m;
                }
                for (size_t j = 0; j < 2 && !P && j < s->n_ring; j++) w[j] = s->ring[(s->pos_ring - 1 - j) % S_RING];
                for (size_t j = 0; j < 2; j++) tm_xdep(&tm, 0, w[j], DEP_END, 0);
                if (tm_finish(g, &tm)) break;
                s_put(g, s, &tm, T, NONE, out);
                sync = out[0];
            }
            burst_left = P + (size_t)rint_in(g, 2, 6);
            burst_i = 0;
            phase_left = rint_in(g, 48, 160);
        }
        g->tile_serial++;
        stmpl tm = {.n = 0, .mark = NONE};
        size_t p = NONE;
        int in_burst = burst_left > 0;
        if (in_burst) {
            burst_left--;
            tm.kind = burst_i < P ? SK_MATMUL : g->vxm.present ? SK_VECTOR : structured ? SK_MATMUL : SK_GENERIC;
            if (tm.kind == SK_MATMUL) p = burst_i % P;
            burst_i++;
        } else {
            int r = (int)rint_in(g, 0, total - 1), k = 0;
            while (r >= s->weight[k]) r -= s->weight[k++];
            tm.kind = k;
        }
        if ((tm.kind == SK_WEIGHTS || tm.kind == SK_MATMUL) && p == NONE) p = s_plane(g, s);
        switch (tm.kind) {
        case SK_WEIGHTS: st_weights(g, s, &tm, p); break;
        case SK_MATMUL: st_matmul(g, s, &tm, p); break;
        case SK_VECTOR: st_vector(g, s, &tm); break;
        case SK_XCHG: st_xchg(g, s, &tm); break;
        case SK_IO: st_io(g, s, &tm); break;
        case SK_COPY: st_copy(g, s, &tm); break;
        default: st_generic(g, s, &tm); break;
        }
        /* an ICU dispatches one stream in six: a 1-cycle nop 1-4 cycles before
        ** its first member, which takes an exact lag from it (dropped when the
        ** ICU is in the stream already and the nop had to move past it) */
        if (g->icu.present && tm.n < S_MAX_MEM && rint_in(g, 0, 5) == 0) {
            size_t e = 0;
            for (size_t i = 1; i < tm.n; i++)
                if (tm.m[i].off < tm.m[e].off) e = i;
            size_t ic = tm_add(g, &tm, s_pick(g, s, g->icu.units, g->icu.n, &g->rr_icu), g->op_nop,
                               tm.m[e].off - rint_in(g, 1, 4), 1, 100);
            if (tm.m[ic].off < tm.m[e].off) tm_feed(&tm, e, ic);
            else tm.n--;
        }
        if (tm_finish(g, &tm)) break;
        int64_t t0 = s->now;
        if (in_burst) {
            t0 = max64(t0, T);
            tm_xdep(&tm, 0, sync, DEP_END, 0);
        } else if (s->n_ring) {
            int r = (int)rint_in(g, 0, 99);
            ins on = s_recent(g, s);
            if (r < 20) tm_xdep(&tm, 0, on, DEP_END, 0);
            else if (r < 32) tm_xdep(&tm, 0, on, DEP_START, rint_in(g, 0, on.end - on.start));
            if (r < 32 && rint_in(g, 0, 3) == 0) t0 = max64(t0, on.end) + rint_in(g, 1, 64);   /* slack */
        }
        s_put(g, s, &tm, t0, p, out);
        if (g->failed) break;
    }
    s_advance(g, s, s->now + S_HORIZON);   /* every pending row */
    rc = 0;
out:
    free(s->occ); free(s->tail); free(s->plane_ops); free(s->n_plane_ops); free(s->pool);
    free(g->key_start); free(g->key_id);
    g->key_start = NULL; g->key_id = NULL;
    free(s);
    return rc;
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
    fputs("usage: schedgen CHIP -o OUT.csv [--ops N] [--seed S]\n"
          "                [--kind decode|prefill|mixed|streams] [--chips K] [--extra]\n"
          "       schedgen CHIP OUT.csv [N]          (positional form)\n"
          "Writes a valid schedule (pda schedule CSV) for the chip description CHIP.\n"
          "  -o, --out PATH   output file ('-' for stdout); written whole or not at all\n"
          "  --ops N          instructions in total over all chips (default 20000; 1e7 ok)\n"
          "  --seed S         random seed (default 1); same seed, same file\n"
          "  --kind K         decode (bursty, waits on other chips; default), prefill (long\n"
          "                   matmul phases, MXMs near full), mixed (layers of both),\n"
          "                   streams (exact-lag groups of 2-8 ops interleaved on the\n"
          "                   units, dense, with bursts; every chip runs the same program)\n"
          "  --chips K        chips in the system (default 1); adds the 'chip' column and\n"
          "                   ring all-reduces with C2C send/recv one link latency apart\n"
          "  --extra          adds a 'note' column (layer.phase; streams: S<n>.<kind>)\n"
          "                   carried through by tools\n"
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
                else if (!strcmp(val, "streams")) o->kind = KIND_STREAMS;
                else {
                    fprintf(stderr, "schedgen: --kind must be decode, prefill, mixed or streams, not '%s'\n", val);
                    return -1;
                }
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
    int need_us = mode == 0 || o.kind == KIND_STREAMS;
    if (need_us && (us = malloc((g.nu + 1) * sizeof *us)) != NULL)
        for (size_t u = 0; u < g.nu; u++)
            if (class_has_ops(chip, chip->units[u].cls)) us[nus++] = u;
    if (mode < 0 || (need_us && !us)) {
        fprintf(stderr, "schedgen: out of memory\n");
        gen_free(&g); free(w); free(us); sio_chip_free(chip);
        return 4;
    }
    if (need_us && nus == 0 && o.n_ops > 0) {
        fprintf(stderr, "%s: no unit has an op: nothing to schedule\n", o.chip_path);
        gen_free(&g); free(w); free(us); sio_chip_free(chip);
        return 2;
    }
    for (size_t u = 0; u < g.nu; u++) g.name_len[u] = strlen(chip->units[u].name);
    sio_out *out = NULL;
    int to_stdout = !strcmp(o.out_path, "-");
    /* never over an input: the chip, or an impedance table it names */
    int over = !to_stdout && sio_same_file(o.out_path, chip->path);
    for (size_t r = 0; !to_stdout && r < chip->n_rails; r++)
        over |= chip->rails[r].impedance_csv && sio_same_file(o.out_path, chip->rails[r].impedance_csv);
    if (over) {
        fprintf(stderr, "%s: refusing to overwrite an input\n", o.out_path);
        gen_free(&g); free(w); free(us); sio_chip_free(chip);
        return 2;
    }
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
    int grc = o.kind == KIND_STREAMS ? (nus ? run_streams(&g, us, nus, mode == 1) : 0)
              : mode == 1 ? run_structured(&g) : (nus ? run_generic(&g, us, nus) : 0);
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
