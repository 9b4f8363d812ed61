/* current.c -- exact per-bin current maps, walked in time tiles.
**
** An op's trapezoid is a sum of "kinks": ramp functions s*max(0, t - tau)
** (four per op: +I/R at the start, -I/R where the ramp ends, -I/R where the
** ramp down begins, +I/R at the end) or, for r = 0, steps h*H(t - tau). The
** bin average of a kink is zero before its bin, exact (a square or a
** fraction) in its bin, and linear in the bin index after it. So each kink
** adds O(1) entries to two difference arrays -- dv (level) and ds (slope per
** bin) -- and one pass per tile turns them into bin averages:
**     slope += ds[k]; level += slope + dv[k]; out[k] = level.
** A ramp shorter than about a bin goes in as its bins' averages instead
** (deposit_ramp): its slope entries would cancel to round-off of bin/R
** times its height. Level and slope carry from tile to tile; entries that
** fall past the tile (at most two bins) spill into the next. Kinks of long ops that lie in later
** tiles wait in a pending list. Work is O(kinks + bins x arrays), memory
** O(tile x arrays): the timeline is never held whole.
**
** Idle current is a unit's idle_a from 0 to the end of the last bin: one
** step at 0. A chip idles after its last instruction, it is not switched off,
** so the last bin is an average of the chip's current like any other (were
** idle to stop at the makespan, a last bin that ends past the makespan would
** fall below idle and fake a dI/dt step). Rails and dies get the kinks of every unit on them, so unit maps are
** only made when asked for.
**
** Constant runs (CURRENT_CONST). At a tile where no op starts, the tiles up
** to the next one where an op starts or a pending kink falls hold no kink; when the last tile left nothing in its spill
** bins and no ramp is in progress (a pending ramp-end kink whose ramp-start
** kink is not pending), the current of every row is its level over all of
** them, and they go out as one tile of stride 0, in O(rows + pending). The
** slope is then set to zero: without a ramp in progress it is only the
** round-off of ramps that have ended (see reconstruct). The plan is sparse when the timeline
** has many more tiles than ops: the tiles that have ops, ascending, with
** their ops (in place when the file lists them by tile, else sorted), so
** that a gap of 10^7 tiles costs nothing. */
#include "current.h"
#include "sio_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A kink's time is held as the bin its op starts in and its place from
** that bin's start, in bins: far along a long timeline an absolute time
** has too few bits left for an op much shorter than a bin (at 4.5 x 10^9
** bins the last bit of a bin index is 10^-6 of a bin), but the op's own
** edges, placed from its start, keep their full precision, and so does its
** charge. */
typedef struct kink {
    size_t base;         /* the bin of the op's start */
    double at;           /* from the start of bin `base`, in bins (>= 0) */
    double s;            /* ramp slope (A/ns), or step height (A) */
    int step;
} kink;

/* kink k (0..3) of op, in a later tile; k = 4 + m: its short ramp (kinks
** 2m and 2m + 1, deposit_ramp) whole */
typedef struct pend { uint32_t op; uint8_t k; } pend;

/* The first kink of pending entry k. */
static unsigned pend_kink(unsigned k) { return k < 4 ? k : 2 * (k - 4); }

typedef struct arrset {  /* one group of arrays: rails, dies or units */
    size_t n;            /* rows: chips x per-chip */
    double *dv, *ds;     /* n x (stride + 2) */
    int32_t *dn;         /* n x (stride + 2): ramps starting (+1) and ending (-1), with ds */
    double *out;         /* n x stride */
    double *out2;        /* rails only: the tile before, kept (see current_next) */
    double *level, *slope;
    int64_t *ramps;      /* ramps in progress (see reconstruct) */
} arrset;

struct current_iter {
    const sio_chip *chip;
    const sio_schedule *s;
    size_t split_min_ops;        /* current_iter_opts.split_min_ops */
    const double *extra_idle;    /* current_iter_opts.extra_idle_a, or NULL */
    double bin_ns, inv_bin, T;   /* T: the clock period (ns) */
    double cpb;                  /* bins a cycle: T / bin_ns */
    size_t n_bins, tile, n_tiles, next_tile;
    double makespan_ns;
    int64_t makespan_cyc;
    /* the ops by the tile of their start: either each tile's span of the
    ** file (first and past-last op of the tile; the ops of other tiles in it
    ** are skipped), when the file lists them in time order or nearly, or a
    ** counting sort (bucket, by bucket_off) */
    size_t *span;        /* 2 x n_tiles, or NULL */
    size_t *bucket_off;  /* n_tiles + 1, with bucket */
    uint32_t *bucket;
    pend *pend;
    size_t n_pend, cap_pend;
    arrset rail, die, unit;
    int with_units, with_dies;
    int konst;           /* CURRENT_CONST: constant runs go out as stride-0 tiles */
    size_t busy_at;      /* the first tile with ops at or after the last tile asked (next_busy) */
    /* the sparse plan: the nz tiles that have ops (zt, ascending), their ops
    ** [zoff[z], zoff[z+1]) of bucket (NULL: of the file), zcur the first
    ** tile not behind the walk */
    size_t *zt, *zoff, nz, zcur;
};

/* ---- the model ----------------------------------------------------------- */

/* Op i's ramp (cycles): the op's ramp_cycles, at most half its length. */
static double op_ramp_cyc(const sio_chip *c, const sio_schedule *s, size_t i)
{
    double r = (double)c->ops[s->op[i]].ramp_cycles, half = 0.5 * (double)s->cycles[i];
    return r > half ? half : r;
}

/* floor(b) clamped at 0; the conversion truncates, which is floor for
** b >= 1 (floor itself is a libm call without SSE4.1, once per kink) */
static size_t bin_floor(double b) { return b < 1 ? 0 : (size_t)b; }

/* Where cycle `start` falls, cpb bins a cycle: the bin, and in *f0 the
** place in it (bins, exact). An op's edges are placed from there, in its
** own frame (see kink). */
static size_t start_place(int64_t start, double cpb, double *f0)
{
    double pos = (double)start * cpb;
    size_t b = bin_floor(pos);
    *f0 = pos - (double)b;
    return b;
}

/* Op i started at start: [t0, t1) ns, ramps of R ns, I amperes (the
** walk places its kinks from the op's start instead: op_kinks). */
static void shape_at(const sio_chip *c, const sio_schedule *s, size_t i, int64_t start, double *t0, double *t1,
                     double *R, double *I)
{
    const sio_op *o = &c->ops[s->op[i]];
    double T = 1.0 / c->clock_ghz, r = op_ramp_cyc(c, s, i);
    *t0 = (double)start * T;
    *t1 = (double)(start + s->cycles[i]) * T;
    *R = r * T;
    *I = o->current_a * s->activity[i];
}

/* From the op's length, not its times: far along a timeline t1 - t0 has
** lost the low bits. */
double current_op_charge(const sio_chip *c, const sio_schedule *s, size_t i)
{
    const sio_op *o = &c->ops[s->op[i]];
    return o->current_a * s->activity[i] * ((double)s->cycles[i] - op_ramp_cyc(c, s, i)) / c->clock_ghz;
}

/* Charge of the trapezoid up to time t (the antiderivative). */
static double trap_cum(double t, double t0, double t1, double R, double I)
{
    if (t <= t0) return 0.0;
    if (t >= t1) return I * (t1 - t0 - R);
    if (R > 0 && t < t0 + R) return I * (t - t0) * (t - t0) / (2 * R);
    if (R > 0 && t > t1 - R) return I * (t1 - t0 - R) - I * (t1 - t) * (t1 - t) / (2 * R);
    return I * (t - t0 - 0.5 * R);
}

double current_op_charge_before(const sio_chip *c, const sio_schedule *s, size_t i, int64_t start_cyc, double t)
{
    double t0, t1, R, I;
    shape_at(c, s, i, start_cyc, &t0, &t1, &R, &I);
    return trap_cum(t, t0, t1, R, I);
}

double current_op_avg(const sio_chip *c, const sio_schedule *s, size_t i, double a, double b)
{
    if (b <= a) return 0.0;
    return (current_op_charge_before(c, s, i, s->start_cyc[i], b) -
            current_op_charge_before(c, s, i, s->start_cyc[i], a)) / (b - a);
}

void current_op_bins_add(const sio_chip *c, const sio_schedule *s, size_t i, int64_t start_cyc, double bin_ns,
                         size_t b0, size_t n, double scale, double *out, double *step)
{
    /* in the op's own frame, as the walk places its kinks (op_kinks): times
    ** from its start, bin edges from the bin it starts in and its place
    ** there, so that far along a timeline the edges keep their precision
    ** and the bins match the walk's to round-off of the op, not of the time */
    const sio_op *o = &c->ops[s->op[i]];
    double T = 1.0 / c->clock_ghz, D = (double)s->cycles[i] * T, R = op_ramp_cyc(c, s, i) * T;
    double I = o->current_a * s->activity[i];
    if (I == 0.0 || n == 0) return;
    double f0, base = (double)start_place(start_cyc, T / bin_ns, &f0);
#define EDGE(k) ((((double)(k) - base) - f0) * bin_ns)   /* bin k's start, ns from the op's */
    /* the plateau's whole bins [p0, p1) */
    double q0 = base + ceil(f0 + R / bin_ns), q1 = base + floor(f0 + (D - R) / bin_ns);
    size_t p0 = q0 < 0 ? 0 : (size_t)q0, p1 = q1 < q0 ? p0 : (size_t)q1;
    size_t b1 = b0 + n;
    if (p0 < b0) p0 = b0;
    if (p0 > b1) p0 = b1;
    if (p1 > b1) p1 = b1;
    if (p1 < p0) p1 = p0;
    /* the edges before and after the plateau: differences of the antiderivative */
    double prev = trap_cum(EDGE(b0), 0.0, D, R, I);
    for (size_t b = b0; b < p0; b++) {
        double nx = trap_cum(EDGE(b + 1), 0.0, D, R, I);
        out[b - b0] += scale * (nx - prev) / bin_ns;
        prev = nx;
    }
    step[p0 - b0] += scale * I;   /* the plateau as a step */
    step[p1 - b0] -= scale * I;
    prev = trap_cum(EDGE(p1), 0.0, D, R, I);
    for (size_t b = p1; b < b1; b++) {
        double nx = trap_cum(EDGE(b + 1), 0.0, D, R, I);
        out[b - b0] += scale * (nx - prev) / bin_ns;
        prev = nx;
    }
#undef EDGE
}

/* The bin that cycle `start` falls in. */
static size_t start_bin(const current_iter *it, int64_t start)
{
    double f0;
    return start_place(start, it->cpb, &f0);
}

/* The kinks of op i, kink k (0..3) in out[k], and its height I: ramps start
** and end at t0 and t1 with slopes +-I/R, or steps of +-I when there is no
** ramp; each placed from the op's start (see kink). Returns the mask of
** those that exist (none for an op that draws nothing). Always inlined,
** like the three below: the walk calls them per kink, and as calls they
** cost an eighth of the map's time (bench_walk). */
__attribute__((always_inline)) static inline unsigned op_kinks(const current_iter *it, size_t i, kink out[4],
                                                             double *height)
{
    const sio_op *o = &it->chip->ops[it->s->op[i]];
    double I = o->current_a * it->s->activity[i];
    *height = I;
    if (I == 0.0) return 0;
    double f0;
    size_t base = start_place(it->s->start_cyc[i], it->cpb, &f0);
    double r = op_ramp_cyc(it->chip, it->s, i), f1 = f0 + (double)it->s->cycles[i] * it->cpb;
    if (r <= 0) {
        out[0] = (kink){base, f0, I, 1};
        out[1] = (kink){base, f1, -I, 1};
        return 3;
    }
    double sl = I / (r * it->T), rb = r * it->cpb;
    out[0] = (kink){base, f0, sl, 0};
    out[1] = (kink){base, f0 + rb, -sl, 0};
    out[2] = (kink){base, f1 - rb, -sl, 0};
    out[3] = (kink){base, f1, sl, 0};
    return 15;
}

/* Where kink k falls: its bin (at most the last) and the fraction of that
** bin after the kink, in [0, 1]. */
typedef struct kink_at { size_t kb; double after; } kink_at;

__attribute__((always_inline)) static inline kink_at kink_place(const current_iter *it, const kink *k)
{
    size_t j = bin_floor(k->at);
    kink_at p = {k->base + j, 0.0};
    double f = (double)(j + 1) - k->at;
    if (p.kb >= it->n_bins) {   /* an end exactly at the makespan */
        p.kb = it->n_bins - 1;
        f = p.kb + 1 >= k->base ? (double)(p.kb + 1 - k->base) - k->at : 0.0;
    }
    p.after = f < 0 ? 0 : f > 1 ? 1 : f;
    return p;
}

/* The tile of op i's start. [*lo, *hi) are the bins of the tile found last,
** *cur its index: tried first, since a division per op cost more than the
** rest of the bucketing. */
__attribute__((always_inline)) static inline size_t op_tile(const current_iter *it, size_t i, size_t *lo, size_t *hi,
                                                          size_t *cur)
{
    size_t kb = start_bin(it, it->s->start_cyc[i]);
    if (kb < *lo || kb >= *hi) {
        *cur = kb / it->tile;
        *lo = *cur * it->tile;
        *hi = *lo + it->tile;
    }
    return *cur < it->n_tiles ? *cur : it->n_tiles ? it->n_tiles - 1 : 0;
}

/* Adds kink k, with the fraction f of its bin after tau, at local bin j of
** the row whose difference arrays are dv, ds and dn (end: the kink ends a
** ramp, kinks 1 and 3, rather than starts one). The bin averages are: a
** step h, h f in the bin and h after; a ramp of slope s, s D f^2 / 2 in the
** bin, then s D (f + 1/2), rising by s D a bin. `step` is a constant where
** the walk calls it, so each kind gets its own straight code. */
__attribute__((always_inline)) static inline void deposit(double *dv, double *ds, int32_t *dn, size_t j, double f,
                                                          double s, int step, int end, double bin_ns)
{
    if (step) {
        double x = s * f;
        dv[j] += x;
        dv[j + 1] += s - x;
    } else {
        double sd = s * bin_ns;
        double x = 0.5 * sd * f * f;
        dv[j] += x;
        dv[j + 1] += sd * (f + 0.5) - x;
        ds[j + 2] += sd;
        dn[j + 2] += end ? -1 : 1;
    }
}

/* A ramp of height h (+I rising, kinks 0 and 1; -I falling, kinks 2 and 3)
** whose two kinks lie in one bin j (two = 0) or in j and j + 1 (two = 1),
** fa and fb the fractions of their bins after them: its bins' averages
** written as steps, dv only. Through deposit's slope entries a ramp much
** shorter than a bin would be the difference of terms bin / R times its
** height (bins of 1 ms, ramps of 1.5 cycles: 10^-5 of the charge lost to
** round-off); here each entry is at most the height. In one bin the
** average is (fa + fb) / 2 of the height; across two, over L = fa + 1 - fb
** bins, the first holds fa^2 / 2L and the second (1 - fb)(fa / L + 1) / 2
** + fb. */
__attribute__((always_inline)) static inline void deposit_ramp(double *dv, size_t j, double fa, int two, double fb,
                                                               double h)
{
    double v0 = 0.5 * (fa + fb), v1 = 1.0, L = fa + (1.0 - fb);
    if (two && L > 0) {
        v0 = fa * fa / (2.0 * L);
        v1 = 0.5 * (1.0 - fb) * (fa / L + 1.0) + fb;
    }
    dv[j] += h * v0;
    dv[j + 1] += h * (v1 - v0);
    dv[j + 2] += h * (1.0 - v1);
}

/* A ramp's two kinks a and a + 1 close enough for deposit_ramp. */
static int short_ramp(const kink_at *p, unsigned a) { return p[a + 1].kb - p[a].kb <= 1; }

/* Adds kink k at p (local bin j = p.kb - tile start) to row r of a. */
__attribute__((always_inline)) static inline void add_kink(const current_iter *it, arrset *a, size_t row, size_t j,
                                                           const kink_at *p, const kink *k)
{
    size_t st = it->tile + 2;
    deposit(a->dv + row * st, a->ds + row * st, a->dn + row * st, j, p->after, k->s, k->step, 0, it->bin_ns);
}

static int push_pend(current_iter *it, uint32_t op, uint8_t k)
{
    if (it->n_pend == it->cap_pend) {
        size_t c = it->cap_pend ? 2 * it->cap_pend : 1024;
        pend *p = realloc(it->pend, c * sizeof *p);
        if (!p) return -1;
        it->pend = p;
        it->cap_pend = c;
    }
    it->pend[it->n_pend].op = op;
    it->pend[it->n_pend].k = k;
    it->n_pend++;
    return 0;
}

/* The difference arrays (dv in rv, ds in rs) of the rows op i adds to: its
** rail's, and its die's and unit's when those maps are made; their count. */
__attribute__((always_inline)) static inline int op_rows(const current_iter *it, size_t i, double **rv, double **rs,
                                                          int32_t **rn)
{
    const sio_unit *u = &it->chip->units[it->s->unit[i]];
    size_t c = it->s->chip[i], st = it->tile + 2, n = 0, row;
    row = (c * it->chip->n_rails + u->rail) * st;
    rv[n] = it->rail.dv + row; rs[n] = it->rail.ds + row; rn[n++] = it->rail.dn + row;
    if (it->with_dies) {
        row = (c * it->chip->n_dies + u->die) * st;
        rv[n] = it->die.dv + row; rs[n] = it->die.ds + row; rn[n++] = it->die.dn + row;
    }
    if (it->with_units) {
        row = (c * it->chip->n_units + it->s->unit[i]) * st;
        rv[n] = it->unit.dv + row; rs[n] = it->unit.ds + row; rn[n++] = it->unit.dn + row;
    }
    return (int)n;
}

/* Adds kinks ks[0..nk) of op i (all steps or all ramps, as `step` says;
** height I) to the tile [b0, b1): those past it wait in the pending list, a
** short ramp (its two kinks in one bin or two neighbours) whole from the
** tile of its first kink (deposit_ramp: its second may fall in the spill
** bins). -1 when that list cannot grow. */
__attribute__((always_inline)) static inline int put_kinks(current_iter *it, uint32_t i, const kink *ks, unsigned nk,
                                                           int step, double I, size_t b0, size_t b1)
{
    double *rv[3], *rs[3];
    int32_t *rn[3];
    int nrow = op_rows(it, i, rv, rs, rn);
    kink_at p[4];
    for (unsigned kk = 0; kk < nk; kk++) {   /* all placed first: independent, side by side */
        p[kk] = kink_place(it, &ks[kk]);
        if (p[kk].kb < b0) p[kk].kb = b0;   /* cannot happen: starts sort by tile */
    }
    for (unsigned a = 0; a < nk; a += 2) {   /* the up and the down edge */
        if (!step && short_ramp(p, a)) {
            if (p[a].kb >= b1) {
                if (push_pend(it, i, (uint8_t)(4 + a / 2))) return -1;
                continue;
            }
            for (int w = 0; w < nrow; w++)
                deposit_ramp(rv[w], p[a].kb - b0, p[a].after, p[a + 1].kb != p[a].kb, p[a + 1].after, a ? -I : I);
            continue;
        }
        for (unsigned kk = a; kk < a + 2; kk++) {
            if (p[kk].kb >= b1) {
                if (push_pend(it, i, (uint8_t)kk)) return -1;
                continue;
            }
            for (int w = 0; w < nrow; w++)
                deposit(rv[w], rs[w], rn[w], p[kk].kb - b0, p[kk].after, ks[kk].s, step, kk & 1, it->bin_ns);
        }
    }
    return 0;
}

/* The kinks of op i in the tile [b0, b1), those past it pending. */
__attribute__((always_inline)) static inline int op_into_tile(current_iter *it, uint32_t i, size_t b0, size_t b1)
{
    kink ks[4];
    double I;
    unsigned has = op_kinks(it, i, ks, &I);
    if (has == 15) return put_kinks(it, i, ks, 4, 0, I, b0, b1);
    if (has) return put_kinks(it, i, ks, 2, 1, I, b0, b1);
    return 0;
}

/* ---- set-up ---------------------------------------------------------------- */

static int arrset_init(arrset *a, size_t n, size_t tile)
{
    a->n = n;
    a->dv = calloc(n * (tile + 2), sizeof *a->dv);
    a->ds = calloc(n * (tile + 2), sizeof *a->ds);
    a->dn = calloc(n * (tile + 2), sizeof *a->dn);
    a->out = calloc(n * tile, sizeof *a->out);
    a->level = calloc(n, sizeof *a->level);
    a->slope = calloc(n, sizeof *a->slope);
    a->ramps = calloc(n, sizeof *a->ramps);
    return a->dv && a->ds && a->dn && a->out && a->level && a->slope && a->ramps ? 0 : -1;
}

static void arrset_free(arrset *a)
{
    free(a->dv); free(a->ds); free(a->out); free(a->out2); free(a->level); free(a->slope); free(a->ramps); free(a->dn);
}

typedef struct tile_count { const current_iter *it; size_t i0, i1, *count, *span; } tile_count;

/* Counts the ops of rows [i0, i1) per tile (count[t + 1]) and the span of
** the file they lie in (span[2t], span[2t + 1]; set where the count is not
** zero). */
static void *count_tiles(void *arg)
{
    tile_count *j = arg;
    size_t lo = 0, hi = 0, cur = 0;
    for (size_t i = j->i0; i < j->i1; i++) {
        size_t t = op_tile(j->it, i, &lo, &hi, &cur);
        if (!j->count[t + 1]++) j->span[2 * t] = i;
        j->span[2 * t + 1] = i + 1;
    }
    return NULL;
}

/* it->bucket_off[t + 1] and it->span of every tile (both zeroed): a big
** schedule in two halves at once, the second's counts and spans merged
** after. -1 out of memory. */
static int tile_ops(current_iter *it)
{
    size_t n = it->s->n, nt = it->n_tiles;
    tile_count a = {it, 0, n, it->bucket_off, it->span}, b = {it, n, n, NULL, NULL};
    int two = n >= it->split_min_ops && n >= 2;
    if (two) {
        b.count = calloc(nt + 2, sizeof *b.count);
        b.span = calloc(2 * nt + 2, sizeof *b.span);
        if (!b.count || !b.span) { free(b.count); free(b.span); return -1; }
        a.i1 = b.i0 = n / 2;
    }
    sio_both(two, count_tiles, &a, count_tiles, &b);
    if (two) {
        for (size_t t = 0; t < nt; t++) {
            if (!b.count[t + 1]) continue;
            if (!a.count[t + 1]) it->span[2 * t] = b.span[2 * t];
            it->span[2 * t + 1] = b.span[2 * t + 1];
            it->bucket_off[t + 1] += b.count[t + 1];
        }
    }
    free(b.count);
    free(b.span);
    return 0;
}

typedef struct tile_op { size_t t; uint32_t i; } tile_op;

static int cmp_tile_op(const void *a, const void *b)
{
    const tile_op *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* The sparse plan (zt, zoff, nz; bucket unless the file lists its ops by
** tile): O(n) memory whatever the number of tiles. -1 out of memory. */
static int plan_sparse(current_iter *it)
{
    size_t n = it->s->n, lo = 0, hi = 0, cur = 0, prev = 0, nz = 0;
    int in_order = 1;
    for (size_t i = 0; i < n; i++) {
        size_t t = op_tile(it, i, &lo, &hi, &cur);
        if (i && t < prev) in_order = 0;
        if (!i || t != prev) nz++;
        prev = t;
    }
    tile_op *a = NULL;
    if (!in_order) {
        if (!(a = malloc((n ? n : 1) * sizeof *a)) || !(it->bucket = malloc((n ? n : 1) * sizeof *it->bucket))) {
            free(a);
            return -1;
        }
        lo = hi = cur = 0;
        for (size_t i = 0; i < n; i++) a[i] = (tile_op){op_tile(it, i, &lo, &hi, &cur), (uint32_t)i};
        qsort(a, n, sizeof *a, cmp_tile_op);
        nz = 0;
        for (size_t k = 0; k < n; k++) {
            it->bucket[k] = a[k].i;
            if (!k || a[k].t != a[k - 1].t) nz++;
        }
    }
    it->zt = malloc((nz + 1) * sizeof *it->zt);
    it->zoff = malloc((nz + 1) * sizeof *it->zoff);
    if (!it->zt || !it->zoff) { free(a); return -1; }
    size_t z = 0;
    lo = hi = cur = 0;
    for (size_t k = 0; k < n; k++) {
        size_t t = a ? a[k].t : op_tile(it, k, &lo, &hi, &cur);
        if (!k || t != it->zt[z - 1]) { it->zt[z] = t; it->zoff[z++] = k; }
    }
    it->zoff[z] = n;
    it->nz = z;
    free(a);
    return 0;
}

void current_iter_opts_default(current_iter_opts *o)
{
    memset(o, 0, sizeof *o);
    o->bin_ns = 1.0;
    o->split_min_ops = CURRENT_SPLIT_MIN_OPS;
}

int current_iter_create(const sio_chip *chip, const sio_schedule *s, double bin_ns, size_t tile_bins,
                        unsigned maps, current_iter **out, sio_error *err)
{
    current_iter_opts o;
    current_iter_opts_default(&o);
    o.bin_ns = bin_ns;
    o.tile_bins = tile_bins;
    o.maps = maps;
    return current_iter_open(chip, s, &o, out, err);
}

int current_iter_open(const sio_chip *chip, const sio_schedule *s, const current_iter_opts *o, current_iter **out,
                      sio_error *err)
{
    double bin_ns = o->bin_ns;
    size_t tile_bins = o->tile_bins;
    unsigned maps = o->maps;
    *out = NULL;
    current_iter *it = calloc(1, sizeof *it);
    if (!it) goto oom;
    it->chip = chip;
    it->s = s;
    it->split_min_ops = o->split_min_ops;
    it->extra_idle = o->extra_idle_a;
    it->bin_ns = bin_ns;
    it->inv_bin = 1.0 / bin_ns;
    it->T = 1.0 / chip->clock_ghz;
    it->cpb = it->T / bin_ns;
    int with_units = (maps & CURRENT_UNITS) != 0, with_dies = (maps & CURRENT_DIES) != 0;
    it->with_units = with_units;
    it->with_dies = with_dies;
    it->makespan_cyc = sio_schedule_makespan_cyc(s);
    if (o->span_cyc > it->makespan_cyc) it->makespan_cyc = o->span_cyc;   /* a share of a system */
    it->makespan_ns = (double)it->makespan_cyc * it->T;
    double nb = ceil(it->makespan_ns / bin_ns - 1e-9);
    /* 2^40 bins (18 minutes at 1 ns): the walk skips idle stretches, so time
    ** is no limit; beyond it a time held as a double no longer places an
    ** edge within its bin to 2^-12 of a bin (2^52 / 2^40) */
    if (!(nb <= 1099511627776.0)) {
        sio_error_set(err, s->path, 0, 0, "a timeline of %.3g ns is %.3g bins of %g ns, more than 2^40 (beyond, an "
                      "edge's place within its bin is lost to rounding): use a larger --bin-ns",
                      (double)it->makespan_cyc / chip->clock_ghz, nb, bin_ns);
        free(it);
        return SIO_EINPUT;
    }
    it->n_bins = nb > 0 ? (size_t)nb : 0;
    size_t rows = (o->plan_chips ? o->plan_chips : s->n_chips) * (chip->n_rails + (with_dies ? chip->n_dies : 0) + (with_units ? chip->n_units : 0));
    if (!tile_bins) {
        /* three doubles per row and bin; keep it near 256 MB, within 2^12..2^18 */
        tile_bins = (size_t)(256.0 * 1024 * 1024 / (24.0 * (double)(rows ? rows : 1)));
        if (tile_bins > (1u << 18)) tile_bins = 1u << 18;
        if (tile_bins < (1u << 12)) tile_bins = 1u << 12;
    }
    if (it->n_bins && tile_bins > it->n_bins) tile_bins = it->n_bins;
    it->tile = tile_bins;
    it->n_tiles = it->n_bins ? (it->n_bins + tile_bins - 1) / tile_bins : 0;
    it->konst = (maps & CURRENT_CONST) != 0;
    if (arrset_init(&it->rail, s->n_chips * chip->n_rails, tile_bins) ||
        !(it->rail.out2 = calloc(it->rail.n * tile_bins, sizeof *it->rail.out2)) ||
        (with_dies && arrset_init(&it->die, s->n_chips * chip->n_dies, tile_bins)) ||
        (with_units && arrset_init(&it->unit, s->n_chips * chip->n_units, tile_bins)))
        goto oom;
    if (it->konst && it->n_tiles / 2 > s->n + 4096) {   /* many more tiles than ops: a sparse plan */
        if (plan_sparse(it)) goto oom;
        *out = it;
        return SIO_OK;
    }
    /* each tile's span of the file; when the spans add up to little more
    ** than the file (a schedule in time order, or nearly: ops are listed by
    ** issue, a few cycles out of order), the walk reads them in place;
    ** otherwise the ops go through a counting sort. Either way a tile's ops
    ** come in file order. */
    it->span = calloc(2 * it->n_tiles + 2, sizeof *it->span);
    it->bucket_off = calloc(it->n_tiles + 2, sizeof *it->bucket_off);
    if (!it->span || !it->bucket_off) goto oom;
    if (tile_ops(it)) goto oom;
    size_t lo = 0, hi = 0, cur = 0, spans = 0;
    for (size_t t = 0; t < it->n_tiles; t++) spans += it->span[2 * t + 1] - it->span[2 * t];
    if (spans <= s->n + s->n / 4) {
        free(it->bucket_off);
        it->bucket_off = NULL;
    } else {
        free(it->span);
        it->span = NULL;
        for (size_t t = 0; t <= it->n_tiles; t++) it->bucket_off[t + 1] += it->bucket_off[t];
        it->bucket = malloc(s->n * sizeof *it->bucket);
        if (!it->bucket) goto oom;
        lo = hi = cur = 0;
        for (size_t i = 0; i < s->n; i++) it->bucket[it->bucket_off[op_tile(it, i, &lo, &hi, &cur)]++] = (uint32_t)i;
        for (size_t t = it->n_tiles + 1; t > 0; t--) it->bucket_off[t] = it->bucket_off[t - 1];
        it->bucket_off[0] = 0;
    }
    *out = it;
    return SIO_OK;
oom:
    current_iter_destroy(it);
    sio_error_set(err, s->path, 0, 0, "out of memory for the current maps (tile of %zu bins)", tile_bins);
    return SIO_ENOMEM;
}

void current_iter_destroy(current_iter *it)
{
    if (!it) return;
    arrset_free(&it->rail);
    arrset_free(&it->die);
    arrset_free(&it->unit);
    free(it->span);
    free(it->bucket_off);
    free(it->bucket);
    free(it->pend);
    free(it->zt);
    free(it->zoff);
    free(it);
}

size_t current_n_bins(const current_iter *it) { return it->n_bins; }
size_t current_tile_bins(const current_iter *it) { return it->tile; }
int64_t current_makespan_cyc(const current_iter *it) { return it->makespan_cyc; }

/* ---- the walk ------------------------------------------------------------- */

/* Idle: unit u draws idle_a (plus its extra idle current on this chip) from
** 0 on, one step per unit and chip, applied with the first tile. */
static void apply_idle(current_iter *it, size_t b0)
{
    const sio_chip *c = it->chip;
    kink at = {0, 0.0, 0.0, 1};
    kink_at p = kink_place(it, &at);
    if (p.kb != b0) return;
    for (size_t ch = 0; ch < it->s->n_chips; ch++) {
        for (size_t u = 0; u < c->n_units; u++) {
            double ia = c->units[u].idle_a + (it->extra_idle ? it->extra_idle[ch * c->n_units + u] : 0.0);
            if (ia == 0.0) continue;
            kink k = {0, 0.0, ia, 1};
            add_kink(it, &it->rail, ch * c->n_rails + c->units[u].rail, 0, &p, &k);
            if (it->with_dies) add_kink(it, &it->die, ch * c->n_dies + c->units[u].die, 0, &p, &k);
            if (it->with_units) add_kink(it, &it->unit, ch * c->n_units + u, 0, &p, &k);
        }
    }
}

/* Ramps in progress are counted beside the slope: where none is, the slope
** is zero exactly, not the round-off its +s and -s left (~1e-15 A a bin),
** which the level would carry as a drift for the rest of the timeline
** (1e-9 A after 10^6 bins, 1e-3 A after 10^12). */
static void reconstruct(const current_iter *it, arrset *a, size_t nb)
{
    size_t st = it->tile + 2;
    for (size_t r = 0; r < a->n; r++) {
        double *dv = a->dv + r * st, *ds = a->ds + r * st, *o = a->out + r * it->tile;
        int32_t *dn = a->dn + r * st;
        double level = a->level[r], slope = a->slope[r];
        int64_t ramps = a->ramps[r];
        for (size_t k = 0; k < nb; k++) {
            ramps += dn[k];
            slope += ds[k];
            slope = ramps ? slope : 0.0;
            level += slope + dv[k];
            o[k] = level;
        }
        a->level[r] = level;
        a->slope[r] = slope;
        a->ramps[r] = ramps;
        /* the two spill bins become the next tile's first two; a tile of nb
        ** bins writes only its first nb + 2 entries (kinks fall in its bins,
        ** clamped to the last), so only those are cleared: a short timeline
        ** under a long tile floor (walk.c) leaves the rest of the arrays
        ** untouched, never backed by memory */
        double v0 = dv[nb], v1 = dv[nb + 1], s0 = ds[nb], s1 = ds[nb + 1];
        int32_t n0 = dn[nb], n1 = dn[nb + 1];
        memset(dv, 0, (nb + 2) * sizeof *dv);
        memset(ds, 0, (nb + 2) * sizeof *ds);
        memset(dn, 0, (nb + 2) * sizeof *dn);
        dv[0] = v0; dv[1] = v1; ds[0] = s0; ds[1] = s1; dn[0] = n0; dn[1] = n1;
    }
}

/* The first tile at or after ti where ops start (n_tiles: none). */
static size_t next_busy(current_iter *it, size_t ti)
{
    if (it->zt) {
        size_t z = it->zcur;
        while (z < it->nz && it->zt[z] < ti) z++;
        return z < it->nz ? it->zt[z] : it->n_tiles;
    }
    if (ti <= it->busy_at) return it->busy_at;   /* found from a tile at or before ti */
    size_t t = ti;
    if (it->span) while (t < it->n_tiles && it->span[2 * t + 1] == it->span[2 * t]) t++;
    else while (t < it->n_tiles && it->bucket_off[t + 1] == it->bucket_off[t]) t++;
    it->busy_at = t;
    return t;
}

/* 1 when row set a left something in its spill bins (see reconstruct). */
static int spilled(const current_iter *it, const arrset *a)
{
    size_t st = it->tile + 2;
    for (size_t r = 0; r < a->n; r++) {
        const double *dv = a->dv + r * st, *ds = a->ds + r * st;
        const int32_t *dn = a->dn + r * st;
        if (dv[0] != 0.0 || dv[1] != 0.0 || ds[0] != 0.0 || ds[1] != 0.0 || dn[0] || dn[1]) return 1;
    }
    return 0;
}

/* The tile after the constant run that starts at tile ti: ti when none does
** (see the top of the file). */
static size_t const_run_end(current_iter *it, size_t ti)
{
    if (!it->konst || ti == 0) return ti;   /* tile 0 holds the idle current's start */
    size_t te = next_busy(it, ti);
    if (te <= ti) return ti;
    for (size_t q = 0; q < it->n_pend && te > ti; q++) {
        pend e = it->pend[q];
        kink ks[4];
        double I;
        unsigned has = op_kinks(it, e.op, ks, &I);
        size_t tk = kink_place(it, &ks[pend_kink(e.k)]).kb / it->tile;
        if (tk < te) te = tk;
        /* a ramp's end pending without its start: the ramp is in progress */
        if (has == 15 && e.k < 4 && (e.k & 1) && !(q > 0 && it->pend[q - 1].op == e.op && it->pend[q - 1].k == e.k - 1))
            return ti;
    }
    if (te <= ti) return ti;
    if (spilled(it, &it->rail) || (it->with_dies && spilled(it, &it->die)) || (it->with_units && spilled(it, &it->unit)))
        return ti;
    return te;
}

/* Row set a's levels as a constant run: one value per row, the slope zero. */
static void level_out(arrset *a)
{
    for (size_t r = 0; r < a->n; r++) {
        a->out[r] = a->level[r];
        a->slope[r] = 0.0;
    }
}

int current_next(current_iter *it, current_tile *t)
{
    if (it->next_tile >= it->n_tiles) return 0;
    size_t ti = it->next_tile++;
    size_t te = const_run_end(it, ti);
    if (te > ti) {
        double *keep_out = it->rail.out;   /* the tile handed out last stays as it is */
        it->rail.out = it->rail.out2;
        it->rail.out2 = keep_out;
        level_out(&it->rail);
        if (it->with_dies) level_out(&it->die);
        if (it->with_units) level_out(&it->unit);
        it->next_tile = te;
        t->b0 = ti * it->tile;
        t->nb = (te - ti) * it->tile;
        /* a run to the timeline's end ends there (not at the tile grid's):
        ** a share of a system (span_cyc) may idle through its last tile */
        if (t->b0 + t->nb > it->n_bins) t->nb = it->n_bins - t->b0;
        t->stride = 0;
        t->rail_a = it->rail.out;
        t->die_a = it->with_dies ? it->die.out : NULL;
        t->unit_a = it->with_units ? it->unit.out : NULL;
        return 1;
    }
    size_t b0 = ti * it->tile, b1 = b0 + it->tile;
    if (b1 > it->n_bins) b1 = it->n_bins;
    kink k;
    /* kinks waiting from earlier tiles */
    size_t keep = 0;
    for (size_t q = 0; q < it->n_pend; q++) {
        pend e = it->pend[q];
        kink ks[4];
        double I;
        op_kinks(it, e.op, ks, &I);
        unsigned k0 = pend_kink(e.k);
        k = ks[k0];
        kink_at p = kink_place(it, &k);
        if (p.kb >= b1) {
            it->pend[keep++] = e;
            continue;
        }
        double *rv[3], *rs[3];
        int32_t *rn[3];
        int nrow = op_rows(it, e.op, rv, rs, rn);
        if (e.k >= 4) {   /* a short ramp, whole */
            kink_at p1 = kink_place(it, &ks[k0 + 1]);
            for (int w = 0; w < nrow; w++) deposit_ramp(rv[w], p.kb - b0, p.after, p1.kb != p.kb, p1.after, k0 ? -I : I);
            continue;
        }
        for (int w = 0; w < nrow; w++) deposit(rv[w], rs[w], rn[w], p.kb - b0, p.after, k.s, k.step, e.k & 1, it->bin_ns);
    }
    it->n_pend = keep;
    /* ops that start in this tile */
    if (it->zt) {
        while (it->zcur < it->nz && it->zt[it->zcur] < ti) it->zcur++;
        if (it->zcur < it->nz && it->zt[it->zcur] == ti)
            for (size_t q = it->zoff[it->zcur]; q < it->zoff[it->zcur + 1]; q++)
                if (op_into_tile(it, it->bucket ? it->bucket[q] : (uint32_t)q, b0, b1)) return -1;
    } else if (it->span) {
        size_t q0 = it->span[2 * ti], q1 = it->span[2 * ti + 1];
        size_t t_lo = 0, t_hi = 0, t_cur = 0;
        for (size_t q = q0; q < q1; q++)   /* the ops of other tiles in the span are skipped */
            if (op_tile(it, q, &t_lo, &t_hi, &t_cur) == ti && op_into_tile(it, (uint32_t)q, b0, b1)) return -1;
    } else {
        for (size_t q = it->bucket_off[ti]; q < it->bucket_off[ti + 1]; q++)
            if (op_into_tile(it, it->bucket[q], b0, b1)) return -1;
    }
    apply_idle(it, b0);
    size_t nb = b1 - b0;
    double *keep_out = it->rail.out;   /* the tile handed out last stays as it is */
    it->rail.out = it->rail.out2;
    it->rail.out2 = keep_out;
    reconstruct(it, &it->rail, nb);
    if (it->with_dies) reconstruct(it, &it->die, nb);
    if (it->with_units) reconstruct(it, &it->unit, nb);
    t->b0 = b0;
    t->nb = nb;
    t->stride = it->tile;
    t->rail_a = it->rail.out;
    t->die_a = it->with_dies ? it->die.out : NULL;
    t->unit_a = it->with_units ? it->unit.out : NULL;
    return 1;
}

/* ---- moving window ----------------------------------------------------------- */

int current_window_init(current_window *cw, size_t w)
{
    memset(cw, 0, sizeof *cw);
    cw->w = w ? w : 1;
    cw->ring = calloc(cw->w, sizeof *cw->ring);
    return cw->ring ? 0 : -1;
}

void current_window_push(current_window *cw, const double *x, size_t n)
{
    /* locals, written back at the end: the compiler cannot keep struct
    ** fields in registers across the stores to the ring */
    const size_t w = cw->w;
    size_t slot = cw->n_seen % w;   /* one division per piece, not per value */
    size_t seen = cw->n_seen, peak_end = cw->peak_end, max_at = SIZE_MAX;
    double inv = 1.0 / (double)w, sum = cw->sum, peak = cw->peak, mx = cw->max, total = cw->total;
    double *ring = cw->ring;
    int any = cw->any;
    for (size_t k = 0; k < n; k++) {
        if (x[k] > mx) { mx = x[k]; max_at = seen; }
        total += x[k];
        sum += x[k] - ring[slot];
        ring[slot] = x[k];
        if (++slot == w) slot = 0;
        seen++;
        if (seen >= w) {
            double avg = sum * inv;
            if (!any || avg > peak) {
                peak = avg;
                peak_end = seen;
                any = 1;
            }
        }
    }
    if (max_at != SIZE_MAX) { cw->max = mx; cw->max_at = max_at; }
    cw->total = total;
    cw->n_seen = seen;
    cw->peak_end = peak_end;
    cw->sum = sum;
    cw->peak = peak;
    cw->any = any;
}

void current_window_push_const(current_window *cw, double x, size_t n)
{
    /* the first w values through the ring; after them the window holds x
    ** alone: its sum changes by x - x = 0, so the peak and the largest value
    ** stay, and only the count and the total move */
    double v[512];
    for (size_t k = 0; k < 512; k++) v[k] = x;
    size_t head = n < cw->w ? n : cw->w;
    for (size_t k = 0; k < head; k += 512) current_window_push(cw, v, head - k < 512 ? head - k : 512);
    n -= head;
    cw->n_seen += n;
    cw->total += x * (double)n;
}

double current_window_peak(const current_window *cw)
{
    if (cw->any) return cw->peak;
    return cw->n_seen ? cw->sum / (double)cw->n_seen : 0.0;
}

void current_window_free(current_window *cw)
{
    free(cw->ring);
    cw->ring = NULL;
}
