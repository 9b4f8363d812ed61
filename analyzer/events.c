/* events.c -- streaming event detection, rail statistics and attribution.
**
** State per chip and rail: the statistics, one open event per kind, a ring of
** the last w bin currents (for the dI/dt test) and a droop histogram of
** HIST_STEP_MV steps over [HIST_LO_MV, HIST_HI_MV) (values outside land in
** the end buckets). Events go to a min-heap of the `cap` most severe per
** kind (its array grows with the events, up to cap); the count stays exact. Attribution runs once, at the end, over the
** kept events only, with an index of each unit's ops sorted by start (built
** in O(n) when the file already lists each unit's ops in time order). */
#include "events.h"
#include "walk.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "current.h"
#include "lanes.h"
#include "sio_int.h"

#define HIST_STEP_MV 0.05
#define HIST_LO_MV (-100.0)
#define HIST_HI_MV 500.0
#define HIST_N ((size_t)((HIST_HI_MV - HIST_LO_MV) / HIST_STEP_MV))
/* beyond the fine range, coarse buckets of 10 mV over +-10 V (then clamped) */
#define COARSE_STEP_MV 10.0
#define COARSE_LO_MV (-10000.0)
#define COARSE_N ((size_t)(20000.0 / COARSE_STEP_MV))

typedef struct open_ev {
    int open;
    size_t b_start, b_peak;
    double peak;
} open_ev;

typedef struct rail_state {
    events_rail_stats st;
    open_ev ev[2];
    double *ring;        /* last w currents */
    size_t w;
    size_t seen;
    double tl_max_v;     /* the timeline's worst droop (st.max_droop_v takes the tail too): the percentiles' bound */
    double dyn_sum;      /* sum over the bins of current - idle (ev->idle): an idle bin adds exactly 0, however
                         ** the bins come (one by one, or a constant run at once: a share of a system's chips
                         ** and the whole system then agree); sum_a and avg_a from it at the end */
    uint64_t *hist;      /* 64-bit: a constant run adds 10^12 bins at once */
    uint64_t *coarse;    /* values outside the fine range */
} rail_state;

typedef struct heap {
    events_event *e;
    size_t n, cap;         /* events held; the most kept (events_cap) */
    size_t alloc;          /* room in e: grown as events come, up to cap */
    int failed;            /* e could not grow: events_finish says out of memory */
} heap;

struct events_detector {
    const sio_chip *chip;
    size_t n_chips;
    size_t index_two_min;  /* events_set_index_two_min */
    int64_t span_cyc;      /* events_set_span_cyc; 0: the schedule's makespan */
    double bin_ns;
    rail_state *rs;       /* [chip][rail] */
    heap h[2];
    size_t total[2];
    double *attr_w;       /* per rail */
    double *idle;         /* [chip][rail] */
    events_event *sorted; /* the kept events, merged and sorted, after finish */
    size_t n_sorted;
};

static rail_state *state(const events_detector *ev, size_t c, size_t r)
{
    return &ev->rs[c * ev->chip->n_rails + r];
}

int events_create(const sio_chip *chip, size_t n_chips, double bin_ns, size_t cap,
                  const double *attr_window_ns, const double *i_idle_a, events_detector **out)
{
    *out = NULL;
    events_detector *ev = calloc(1, sizeof *ev);
    if (!ev) return SIO_ENOMEM;
    ev->index_two_min = EVENTS_INDEX_TWO_MIN;
    ev->chip = chip;
    ev->n_chips = n_chips;
    ev->bin_ns = bin_ns;
    size_t nr = chip->n_rails;
    ev->rs = calloc(n_chips * nr, sizeof *ev->rs);
    ev->attr_w = calloc(nr, sizeof *ev->attr_w);
    ev->idle = calloc(n_chips * nr + 1, sizeof *ev->idle);
    for (int k = 0; k < 2; k++) {
        ev->h[k].cap = cap ? cap : 1;
        ev->h[k].alloc = ev->h[k].cap < 256 ? ev->h[k].cap : 256;
        ev->h[k].e = malloc(ev->h[k].alloc * sizeof *ev->h[k].e);
        if (!ev->h[k].e) goto oom;
    }
    if (!ev->rs || !ev->attr_w || !ev->idle) goto oom;
    for (size_t r = 0; r < nr; r++) {
        for (size_t c = 0; c < n_chips; c++) ev->idle[c * nr + r] = i_idle_a ? i_idle_a[r] : 0.0;
        double w = attr_window_ns && attr_window_ns[r] > 0 ? attr_window_ns[r] : chip->rails[r].didt_window_ns;
        ev->attr_w[r] = w;
    }
    for (size_t c = 0; c < n_chips; c++) {
        for (size_t r = 0; r < nr; r++) {
            rail_state *s = state(ev, c, r);
            s->w = walk_didt_bins(&chip->rails[r], bin_ns);
            s->ring = malloc(s->w * sizeof *s->ring);
            s->hist = calloc(HIST_N, sizeof *s->hist);
            s->coarse = calloc(COARSE_N, sizeof *s->coarse);
            if (!s->ring || !s->hist || !s->coarse) goto oom;
            for (size_t k = 0; k < s->w; k++) s->ring[k] = ev->idle[c * nr + r];
            s->st.min_droop_v = INFINITY;
            s->st.max_droop_v = s->tl_max_v = -INFINITY;
        }
    }
    *out = ev;
    return SIO_OK;
oom:
    events_destroy(ev);
    return SIO_ENOMEM;
}

void events_set_idle(events_detector *ev, size_t chip, size_t rail, double idle_a)
{
    rail_state *s = state(ev, chip, rail);
    ev->idle[chip * ev->chip->n_rails + rail] = idle_a;
    for (size_t k = 0; k < s->w; k++) s->ring[k] = idle_a;
}

void events_destroy(events_detector *ev)
{
    if (!ev) return;
    if (ev->rs) {
        for (size_t k = 0; k < ev->n_chips * ev->chip->n_rails; k++) {
            free(ev->rs[k].ring);
            free(ev->rs[k].hist);
            free(ev->rs[k].coarse);
        }
    }
    free(ev->rs);
    free(ev->h[0].e);
    free(ev->h[1].e);
    free(ev->attr_w);
    free(ev->idle);
    free(ev->sorted);
    free(ev);
}

/* ---- the kept events ---------------------------------------------------- */

static void heap_push(heap *h, const events_event *e)
{
    if (h->n == h->alloc && h->alloc < h->cap) {   /* room for more, up to the cap */
        size_t a = h->alloc > h->cap / 2 ? h->cap : 2 * h->alloc;
        events_event *g = a <= SIZE_MAX / sizeof *g ? realloc(h->e, a * sizeof *g) : NULL;
        if (!g) {
            h->failed = 1;
            return;
        }
        h->e = g;
        h->alloc = a;
    }
    if (h->n == h->cap) {
        if (e->peak <= h->e[0].peak) return;
        /* replace the least severe, sift down */
        size_t i = 0;
        h->e[0] = *e;
        for (;;) {
            size_t l = 2 * i + 1, r = l + 1, m = i;
            if (l < h->n && h->e[l].peak < h->e[m].peak) m = l;
            if (r < h->n && h->e[r].peak < h->e[m].peak) m = r;
            if (m == i) break;
            events_event t = h->e[i]; h->e[i] = h->e[m]; h->e[m] = t;
            i = m;
        }
        return;
    }
    size_t i = h->n++;
    h->e[i] = *e;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h->e[p].peak <= h->e[i].peak) break;
        events_event t = h->e[i]; h->e[i] = h->e[p]; h->e[p] = t;
        i = p;
    }
}

static void close_ev(events_detector *ev, size_t c, size_t r, int kind, size_t b_end)
{
    rail_state *s = state(ev, c, r);
    open_ev *o = &s->ev[kind];
    events_event e;
    memset(&e, 0, sizeof e);
    e.kind = kind;
    e.chip = c;
    e.rail = r;
    e.t_start_ns = (double)o->b_start * ev->bin_ns;
    e.t_end_ns = (double)b_end * ev->bin_ns;
    e.t_peak_ns = (double)(o->b_peak + 1) * ev->bin_ns;
    e.peak = o->peak;
    /* droop builds from the event's start: look back over the event up to its
    ** peak plus the rail's attribution window */
    e.window_ns = kind == EVENTS_DROOP ? e.t_peak_ns - e.t_start_ns + ev->attr_w[r] : (double)s->w * ev->bin_ns;
    heap_push(&ev->h[kind], &e);
    ev->total[kind]++;
    if (kind == EVENTS_DROOP) s->st.droop_events++;
    else s->st.didt_events++;
    o->open = 0;
}

/* Opens or extends the event o at bin b with value v over its limit. */
static inline void extend(open_ev *o, size_t b, double v)
{
    if (!o->open) {
        o->open = 1;
        o->b_start = b;
        o->b_peak = b;
        o->peak = v;
    } else if (v > o->peak) {
        o->peak = v;
        o->b_peak = b;
    }
}

/* ---- the scan ------------------------------------------------------------ */

/* Bins go through in blocks of SCAN_B, each in passes of their own over the
** block (the dI/dt against the ring, the extrema, the sum, the histogram, the
** events): a pass with a fixed trip count and no loop-carried dependence but
** in separate lanes is vectorized, where one loop over everything, bin by
** bin, was held up by its chains of maxima and its width. A short block (the
** end of a piece) runs the same passes, unvectorized. */
#define SCAN_B 256
#define SCAN_AHEAD 2048   /* bins ahead of the block the scan asks for (prefetch) */
/* A running maximum *mx (bin *b_mx) taken over x[0..m) of bins b0..: as the
** test x > *mx bin by bin would leave it (the first bin of the largest), from
** the block's maximum bm. */
__attribute__((always_inline)) static inline int raise_max(double *mx, size_t *b_mx, const double *x, size_t m,
                                                           double bm, size_t b0)
{
    if (!(bm > *mx)) return 0;
    size_t k = 0;
    while (k < m && x[k] != bm) k++;
    *mx = bm;
    *b_mx = b0 + k;
    return 1;
}

/* Bins b0 .. b0+m-1 (m <= SCAN_B) of rail state s: statistics, histogram,
** ring and events (closed through close_ev as they end). timeline 0: bins
** past the makespan (events_push_tail), which count for the dI/dt, the
** droop's extremes and the events, not for the current's peak and sum, the
** bins or the histogram. */
__attribute__((always_inline)) static inline void scan_block(events_detector *ev, size_t c, size_t r, rail_state *s,
                                                             const double *restrict i_a, const double *restrict d_v,
                                                             size_t b0, size_t m, double gb_mv, double didt_lim,
                                                             int timeline)
{
    events_rail_stats *st = &s->st;
    const double bin_ns = ev->bin_ns;
    const size_t w = s->w;
    double *ring = s->ring;
    double old[SCAN_B], dt[SCAN_B];
    int32_t hx[SCAN_B];
    /* the current w bins before each: the ring's for the first min(w, m),
    ** the block's own after; then the last min(w, m) currents into the ring */
    size_t slot = s->seen % w, nw = w < m ? w : m, first = w - slot < nw ? w - slot : nw;
    memcpy(old, ring + slot, first * sizeof *old);
    memcpy(old + first, ring, (nw - first) * sizeof *old);
    const double inv_w = 1.0 / ((double)w * bin_ns), inv_step = 1e3 / HIST_STEP_MV;
    for (size_t k = 0; k < nw; k++) dt[k] = fabs(i_a[k] - old[k]) * inv_w;
    size_t k4 = nw;   /* then four at a time (vectorized as they stand), the rest one by one */
    for (; k4 + LANES <= m; k4 += LANES)
        for (size_t l = 0; l < LANES; l++) dt[k4 + l] = fabs(i_a[k4 + l] - i_a[k4 + l - w]) * inv_w;
    for (; k4 < m; k4++) dt[k4] = fabs(i_a[k4] - i_a[k4 - w]) * inv_w;
    size_t at = (slot + (m - nw)) % w, run = w - at < nw ? w - at : nw;
    memcpy(ring + at, i_a + (m - nw), run * sizeof *ring);
    memcpy(ring, i_a + (m - nw) + run, (nw - run) * sizeof *ring);
    /* extrema and sum */
    size_t bk = 0;
    double peak_a = st->bins ? st->peak_a : -INFINITY;
    if (timeline && raise_max(&peak_a, &bk, i_a, m, lanes_max(i_a, m), b0)) {
        st->peak_a = peak_a;
        st->t_peak_a_ns = (double)bk * bin_ns;
    }
    const double dt_max = lanes_max(dt, m);
    if (raise_max(&st->max_didt_a_per_ns, &bk, dt, m, dt_max, b0)) st->t_max_didt_ns = (double)(bk + 1) * bin_ns;
    const double d_max = lanes_max(d_v, m), d_min = lanes_min(d_v, m);
    if (raise_max(&st->max_droop_v, &bk, d_v, m, d_max, b0)) {
        st->t_max_droop_ns = (double)(bk + 1) * bin_ns;
        st->i_at_max_droop_a = i_a[bk - b0];
    }
    s->seen += m;
    if (timeline) {   /* the sum, and the percentiles' bounds: the timeline's */
        if (d_min < st->min_droop_v) st->min_droop_v = d_min;
        if (d_max > s->tl_max_v) s->tl_max_v = d_max;
        s->dyn_sum += lanes_sum_sub(i_a, ev->idle[c * ev->chip->n_rails + r], m);
        st->bins += m;
    } else {
        st->tail_bins += m;
    }
    /* the histogram: fine steps, or the coarse buckets outside; every bin's
    ** bucket first (a pass that vectorizes), then the counts one by one
    ** (measured faster than counting runs of one bucket, or than two tables
    ** taking turns) */
    for (size_t k = 0; timeline && k < m; k++) {
        double h = (d_v[k] - HIST_LO_MV * 1e-3) * inv_step;
        hx[k] = h >= 0 && h < (double)HIST_N ? (int32_t)h : -1;
    }
    uint64_t *hist = s->hist;
    int nan = 0;   /* a NaN droop lands outside the fine steps */
    for (size_t k = 0; timeline && k < m; k++) {
        if (hx[k] >= 0) {
            hist[hx[k]]++;
            continue;
        }
        double ch = (d_v[k] * 1e3 - COARSE_LO_MV) / COARSE_STEP_MV;
        s->coarse[!(ch > 0) ? 0 : ch >= (double)(COARSE_N - 1) ? COARSE_N - 1 : (size_t)ch]++;
        nan |= d_v[k] != d_v[k];
    }
    for (size_t k = 0; !timeline && k < m; k++) nan |= d_v[k] != d_v[k];
    /* droop events: d in mV over the guardband; a block all over it or all
    ** under it needs no test per bin (the extrema pass NaNs over, and a NaN
    ** bin is not over the guardband: such a block goes bin by bin) */
    open_ev *od = &s->ev[EVENTS_DROOP];
    if (d_min * 1e3 > gb_mv && !nan) {
        if (!od->open) {
            od->open = 1;
            od->b_start = b0;
            od->peak = -INFINITY;
        }
        double pk = od->peak;   /* the peak is kept in mV: the first bin whose mV is the block's largest */
        if (d_max * 1e3 > pk) {
            size_t k = 0;
            while (k < m && d_v[k] * 1e3 != d_max * 1e3) k++;
            od->peak = d_max * 1e3;
            od->b_peak = b0 + k;
        }
    } else if (!(d_max * 1e3 > gb_mv) && !od->open) {
        /* quiet */
    } else {
        for (size_t k = 0; k < m; k++) {
            double v = d_v[k] * 1e3;
            if (v > gb_mv) extend(od, b0 + k, v);
            else if (od->open) close_ev(ev, c, r, EVENTS_DROOP, b0 + k);
        }
    }
    /* dI/dt events */
    open_ev *oi = &s->ev[EVENTS_DIDT];
    if (oi->open || dt_max > didt_lim) {
        for (size_t k = 0; k < m; k++) {
            if (dt[k] > didt_lim) extend(oi, b0 + k, dt[k]);
            else if (oi->open) close_ev(ev, c, r, EVENTS_DIDT, b0 + k);
        }
    }
}

/* The pieces' bins block by block: full blocks with a fixed trip count (the
** passes vectorized, AVX2 where the machine has it), then the rest. */
__attribute__((target_clones("avx2", "default")))
static void scan_piece(events_detector *ev, size_t c, size_t r, size_t b0, const double *i_a, const double *d_v,
                       size_t n, int timeline)
{
    rail_state *s = state(ev, c, r);
    const sio_rail *rail = &ev->chip->rails[r];
    /* the guardband as events have always been compared against it
    ** (mV -> V -> mV: it may differ from guardband_mv in the last bit) */
    const double gb_mv = rail->guardband_mv * 1e-3 * 1e3, didt_lim = rail->didt_limit_a_per_ns;
    size_t k = 0;
    for (; n - k >= SCAN_B; k += SCAN_B) {
        /* the bins SCAN_AHEAD on (past n: the caller's next piece of the
        ** row): the tile comes from the walk's other thread, and waiting for
        ** it was half the scan */
        /* (addresses as integers: they may lie past the arrays, which a
        ** prefetch may name but pointer arithmetic may not) */
        for (size_t j = 0; j < SCAN_B; j += 8) {
            __builtin_prefetch((const void *)((uintptr_t)(i_a + k) + (SCAN_AHEAD + j) * sizeof(double)));
            __builtin_prefetch((const void *)((uintptr_t)(d_v + k) + (SCAN_AHEAD + j) * sizeof(double)));
        }
        scan_block(ev, c, r, s, i_a + k, d_v + k, b0 + k, SCAN_B, gb_mv, didt_lim, timeline);
    }
    if (k < n) scan_block(ev, c, r, s, i_a + k, d_v + k, b0 + k, n - k, gb_mv, didt_lim, timeline);
}

int events_push(events_detector *ev, size_t c, size_t r, size_t b0, const double *i_a, const double *droop_v,
                size_t n)
{
    scan_piece(ev, c, r, b0, i_a, droop_v, n, 1);
    return SIO_OK;
}

int events_push_tail(events_detector *ev, size_t c, size_t r, size_t b0, const double *i_a, const double *droop_v,
                     size_t n)
{
    scan_piece(ev, c, r, b0, i_a, droop_v, n, 0);
    return SIO_OK;
}

/* A constant run: its first w bins (the dI/dt window still sees the bins
** before) through the scan; after them every bin is the same -- dI/dt 0,
** the same droop -- so each test the scan makes per bin has the answer it
** had at the first of them, and the counts add n at once. */
int events_push_const(events_detector *ev, size_t c, size_t r, size_t b0, double i_a, double droop_v, size_t n)
{
    rail_state *s = state(ev, c, r);
    double bi[SCAN_B], bd[SCAN_B];
    for (size_t k = 0; k < SCAN_B; k++) { bi[k] = i_a; bd[k] = droop_v; }
    size_t head = n < s->w ? n : s->w;
    for (size_t k = 0; k < head;) {
        size_t m = head - k < SCAN_B ? head - k : SCAN_B;
        scan_piece(ev, c, r, b0 + k, bi, bd, m, 1);
        k += m;
    }
    if (head == n) return SIO_OK;
    size_t b = b0 + head, m = n - head;
    events_rail_stats *st = &s->st;
    const sio_rail *rail = &ev->chip->rails[r];
    const double gb_mv = rail->guardband_mv * 1e-3 * 1e3, didt_lim = rail->didt_limit_a_per_ns;
    /* the ring holds the last w bins: all i_a now (its order does not matter) */
    for (size_t k = 0; k < s->w; k++) s->ring[k] = i_a;
    if (i_a > st->peak_a) { st->peak_a = i_a; st->t_peak_a_ns = (double)b * ev->bin_ns; }
    if (0.0 > st->max_didt_a_per_ns) { st->max_didt_a_per_ns = 0.0; st->t_max_didt_ns = (double)(b + 1) * ev->bin_ns; }
    if (droop_v > st->max_droop_v) {
        st->max_droop_v = droop_v;
        st->t_max_droop_ns = (double)(b + 1) * ev->bin_ns;
        st->i_at_max_droop_a = i_a;
    }
    if (droop_v < st->min_droop_v) st->min_droop_v = droop_v;
    if (droop_v > s->tl_max_v) s->tl_max_v = droop_v;
    s->dyn_sum += (i_a - ev->idle[c * ev->chip->n_rails + r]) * (double)m;
    st->bins += m;
    s->seen += m;
    double h = (droop_v - HIST_LO_MV * 1e-3) * (1e3 / HIST_STEP_MV);
    if (h >= 0 && h < (double)HIST_N) {
        s->hist[(size_t)h] += m;
    } else {
        double ch = (droop_v * 1e3 - COARSE_LO_MV) / COARSE_STEP_MV;
        s->coarse[!(ch > 0) ? 0 : ch >= (double)(COARSE_N - 1) ? COARSE_N - 1 : (size_t)ch] += m;
    }
    double v = droop_v * 1e3;
    if (v > gb_mv) extend(&s->ev[EVENTS_DROOP], b, v);
    else if (s->ev[EVENTS_DROOP].open) close_ev(ev, c, r, EVENTS_DROOP, b);
    if (0.0 > didt_lim) extend(&s->ev[EVENTS_DIDT], b, 0.0);
    else if (s->ev[EVENTS_DIDT].open) close_ev(ev, c, r, EVENTS_DIDT, b);
    return SIO_OK;
}

/* ---- attribution ---------------------------------------------------------- */

typedef struct by_start { double start, end; uint32_t i; } by_start;   /* end: of the op, for the searches */

#define ATTR_WIDEN 16   /* a droop event's window grows up to this many times when it holds no cause (attribute) */

static int cmp_start(const void *a, const void *b)
{
    const by_start *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

typedef struct unit_index {
    size_t *off;         /* [chip][unit] + 1 */
    by_start *ops;
} unit_index;

typedef struct span { double lo, hi; } span;

static int cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

/* 1 when [a, b) meets one of the n disjoint, sorted spans. *hint is the
** first span ending after the a of the last call: tried first, since ops
** come mostly in time order. */
static int meets(const span *sp, size_t n, double a, double b, size_t *hint)
{
    size_t h = *hint, lo, hi;
    if ((h == n || sp[h].hi > a) && (h == 0 || sp[h - 1].hi <= a)) {
        lo = h;
    } else if (h < n && sp[h].hi <= a && (h + 1 == n || sp[h + 1].hi > a)) {
        lo = h + 1;
    } else {
        lo = 0, hi = n;
        while (lo < hi) {   /* the first span ending after a */
            size_t mid = (lo + hi) / 2;
            if (sp[mid].hi <= a) lo = mid + 1;
            else hi = mid;
        }
    }
    *hint = lo;
    return lo < n && sp[lo].lo < b;
}

/* The rows of [i0, i1) whose op meets one of the spans, in file order. */
typedef struct keep_job {
    const sio_schedule *s;
    const span *sp;
    size_t nsp;
    double T;
    size_t i0, i1;
    uint32_t *rows;   /* out: n of them (malloc'd) */
    size_t n;
    int oom;
} keep_job;

static void *keep_rows(void *arg)
{
    keep_job *j = arg;
    const sio_schedule *s = j->s;
    size_t cap = 1024, hint = 0;
    j->rows = malloc(cap * sizeof *j->rows);
    j->oom = !j->rows;
    for (size_t i = j->i0; i < j->i1 && !j->oom; i++) {
        double a = (double)s->start_cyc[i] * j->T, b = (double)(s->start_cyc[i] + s->cycles[i]) * j->T;
        if (!meets(j->sp, j->nsp, a, b, &hint)) continue;
        if (j->n == cap) {
            uint32_t *q = realloc(j->rows, 2 * cap * sizeof *q);
            if (!q) { j->oom = 1; break; }
            j->rows = q;
            cap *= 2;
        }
        j->rows[j->n++] = (uint32_t)i;
    }
    return NULL;
}

/* The [chip][unit] slot of instruction i in the index. */
void events_set_index_two_min(events_detector *ev, size_t n_two_min) { ev->index_two_min = n_two_min; }
void events_set_span_cyc(events_detector *ev, int64_t span_cyc) { ev->span_cyc = span_cyc; }

static size_t unit_slot(const sio_chip *chip, const sio_schedule *s, uint32_t i)
{
    return (size_t)s->chip[i] * chip->n_units + s->unit[i];
}

/* Each unit's ops sorted by start, keeping only the ops that overlap the
** windows of the kept events (the attribution looks nowhere else): one pass
** over the schedule (two halves at once for a big one), memory for the few
** ops kept, which a counting sort puts in per-unit lists. */
static int build_index(const events_detector *ev, const sio_schedule *s, unit_index *ix)
{
    const sio_chip *chip = ev->chip;
    size_t slots = ev->n_chips * chip->n_units, ne = ev->n_sorted, nsp = 0;
    double T = 1.0 / chip->clock_ghz;
    span *sp = malloc((ne ? ne : 1) * sizeof *sp);
    ix->off = calloc(slots + 1, sizeof *ix->off);
    if (!sp || !ix->off) { free(sp); return -1; }
    for (size_t k = 0; k < ne; k++) {
        const events_event *e = &ev->sorted[k];
        sp[k].lo = e->t_peak_ns - e->window_ns * (e->kind == EVENTS_DROOP ? ATTR_WIDEN : 1) - 2 * ev->bin_ns;
        sp[k].hi = e->t_peak_ns + ev->bin_ns;
    }
    qsort(sp, ne, sizeof *sp, cmp_span);
    for (size_t k = 0; k < ne; k++) {   /* merge overlapping spans */
        if (nsp && sp[k].lo <= sp[nsp - 1].hi) {
            if (sp[k].hi > sp[nsp - 1].hi) sp[nsp - 1].hi = sp[k].hi;
        } else {
            sp[nsp++] = sp[k];
        }
    }
    int two = s->n >= ev->index_two_min && s->n >= 2;
    keep_job a = {s, sp, nsp, T, 0, two ? s->n / 2 : s->n, NULL, 0, 0};
    keep_job b = {s, sp, nsp, T, a.i1, s->n, NULL, 0, 0};
    sio_both(two, keep_rows, &a, keep_rows, &b);
    size_t kept = a.n + b.n;
    size_t *fill = NULL;
    int rc = a.oom || b.oom ? -1 : 0;
    if (!rc) {
        ix->ops = malloc((kept ? kept : 1) * sizeof *ix->ops);
        fill = malloc((slots ? slots : 1) * sizeof *fill);
        if (!ix->ops || !fill) rc = -1;
    }
    if (!rc) {
        /* a counting sort by unit: the first half's rows, then the second's,
        ** keep file order inside each unit */
        const keep_job *part[2] = {&a, &b};
        for (int h = 0; h < 2; h++)
            for (size_t k = 0; k < part[h]->n; k++) ix->off[unit_slot(chip, s, part[h]->rows[k]) + 1]++;
        for (size_t k = 0; k < slots; k++) ix->off[k + 1] += ix->off[k];
        memcpy(fill, ix->off, slots * sizeof *fill);
        for (int h = 0; h < 2; h++)
            for (size_t k = 0; k < part[h]->n; k++) {
                uint32_t i = part[h]->rows[k];
                double st = (double)s->start_cyc[i] * T;
                by_start *o = &ix->ops[fill[unit_slot(chip, s, i)]++];
                o->start = st;
                o->end = st + (double)s->cycles[i] * T;
                o->i = i;
            }
        for (size_t k = 0; k < slots; k++) {
            by_start *bs = ix->ops + ix->off[k];
            size_t m = ix->off[k + 1] - ix->off[k], j = 1;
            while (j < m && bs[j - 1].start <= bs[j].start) j++;
            if (j < m) qsort(bs, m, sizeof *bs, cmp_start);
        }
    }
    free(a.rows);
    free(b.rows);
    free(fill);
    free(sp);
    return rc;
}

/* First op of the unit's sorted list whose end is after t (ops on a unit do
** not overlap: ends are sorted too), searched from *at, the answer for a
** nearby t, and left there: it steps out in doubling strides, then bisects
** what they bracket. The kept events come in time order, so the answer is
** mostly a step or two away (a bisection of the whole list was most of the
** attribution's time). */
static size_t first_ending_after(const by_start *b, size_t m, double t, size_t *at)
{
    size_t h = *at < m ? *at : m, lo = 0, hi = m, step = 1;   /* the answer is in [lo, hi] */
    if (h < m && b[h].end <= t) {
        lo = h + 1;
        while (lo + step - 1 < m && b[lo + step - 1].end <= t) { lo += step; step *= 2; }
        if (lo + step - 1 < m) hi = lo + step - 1;
    } else {
        hi = h;
        while (hi >= step && b[hi - step].end > t) { hi -= step; step *= 2; }
        if (hi >= step) lo = hi - step + 1;
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b[mid].end <= t) lo = mid + 1;
        else hi = mid;
    }
    *at = lo;
    return lo;
}

/* Sum of the average currents over [a, bb) of the unit's ops from j on. */
static double unit_avg(const sio_chip *chip, const sio_schedule *s, const by_start *b, size_t m, size_t j, double a,
                       double bb)
{
    double sum = 0;
    for (; j < m && b[j].start < bb; j++) sum += current_op_avg(chip, s, b[j].i, a, bb);
    return sum;
}

/* Unit u's ops on event e's chip, by start, into *b; 0 when it has none or
** draws from another rail than e's. k: its slot in the per-unit search hints. */
static size_t rail_unit_ops(const events_detector *ev, const unit_index *ix, const events_event *e, size_t u,
                            const by_start **b, size_t *k)
{
    if (ev->chip->units[u].rail != e->rail) return 0;
    *k = e->chip * ev->chip->n_units + u;
    *b = ix->ops + ix->off[*k];
    return ix->off[*k + 1] - ix->off[*k];
}

/* A place among event e's top causes (by |delta|, largest first) for one
** of delta d, zeroed; NULL when it does not make the top EVENTS_MAX_CAUSES. */
static events_cause *cause_slot(events_event *e, double d)
{
    size_t pos = e->n_causes;
    while (pos > 0 && fabs(e->causes[pos - 1].delta_a) < fabs(d)) pos--;
    if (pos >= EVENTS_MAX_CAUSES) return NULL;
    size_t last = e->n_causes < EVENTS_MAX_CAUSES ? e->n_causes : EVENTS_MAX_CAUSES - 1;
    for (size_t q = last; q > pos; q--) e->causes[q] = e->causes[q - 1];
    if (e->n_causes < EVENTS_MAX_CAUSES) e->n_causes++;
    memset(&e->causes[pos], 0, sizeof e->causes[pos]);
    return &e->causes[pos];
}

/* The causes of event e: the units of its rail whose current differs
** between the bin before the peak and the bin before the window (tw). */
static void causes_in(const events_detector *ev, const sio_schedule *s, const unit_index *ix, size_t *at,
                      events_event *e, double tw)
{
    const sio_chip *chip = ev->chip;
    double D = ev->bin_ns;
    double tp = e->t_peak_ns;
    e->n_causes = 0;
    for (size_t u = 0; u < chip->n_units; u++) {
        const by_start *b;
        size_t k, m = rail_unit_ops(ev, ix, e, u, &b, &k);
        if (!m) continue;
        /* at[k]: where the window's start fell for the last event */
        size_t jw = first_ending_after(b, m, tw - D, &at[k]), jp = jw;
        first_ending_after(b, m, tp - D, &jp);
        double d = unit_avg(chip, s, b, m, jp, tp - D, tp) - unit_avg(chip, s, b, m, jw, tw - D, tw);
        if (fabs(d) < 1e-3) continue;   /* below a milliampere: not a cause */
        events_cause *c = cause_slot(e, d);
        if (!c) continue;
        c->unit = u;
        c->delta_a = d;
        /* the ops whose own current differs between the two bins: those that
        ** started, ended or ramped in the window */
        for (size_t j = jw; j < m && b[j].start < tp; j++) {
            double dj = current_op_avg(chip, s, b[j].i, tp - D, tp) - current_op_avg(chip, s, b[j].i, tw - D, tw);
            if (fabs(dj) >= 1e-3 && c->n_ops < EVENTS_MAX_IDS) c->ops[c->n_ops++] = b[j].i;
        }
    }
}

/* The causes of event e as the units whose current went up and back down
** within (tw, peak): a pulse that came and went nets no change between the
** window's ends, yet its ringing is the droop. Each unit's delta is the
** largest current of its ops that start or end inside the window, those
** ops its instructions. */
static void pulses_in(const events_detector *ev, const sio_schedule *s, const unit_index *ix, size_t *at,
                      events_event *e, double tw)
{
    const sio_chip *chip = ev->chip;
    const double tp = e->t_peak_ns;
    e->n_causes = 0;
    for (size_t u = 0; u < chip->n_units; u++) {
        const by_start *b;
        size_t k, m = rail_unit_ops(ev, ix, e, u, &b, &k);
        if (!m) continue;
        events_cause c;
        memset(&c, 0, sizeof c);
        c.unit = u;
        for (size_t j = first_ending_after(b, m, tw, &at[k]); j < m && b[j].start < tp; j++) {
            if (!(b[j].start > tw || b[j].end < tp)) continue;   /* on all through the window */
            double a = chip->ops[s->op[b[j].i]].current_a * s->activity[b[j].i];
            if (a < 1e-3) continue;
            if (a > c.delta_a) c.delta_a = a;
            if (c.n_ops < EVENTS_MAX_IDS) c.ops[c.n_ops++] = b[j].i;
        }
        events_cause *slot = c.n_ops ? cause_slot(e, c.delta_a) : NULL;
        if (slot) *slot = c;
    }
}

/* The start of the op with the last edge (its start or its end) before
** event e's peak on the units of its rail; INFINITY when there is none. */
static double last_edge_op_start(const events_detector *ev, const unit_index *ix, size_t *at, const events_event *e)
{
    const sio_chip *chip = ev->chip;
    const double tp = e->t_peak_ns;
    double edge = -INFINITY, start = INFINITY;
    for (size_t u = 0; u < chip->n_units; u++) {
        const by_start *b;
        size_t k, m = rail_unit_ops(ev, ix, e, u, &b, &k);
        if (!m) continue;
        /* a unit's ops follow one another: sorted by start, so by end */
        size_t j = first_ending_after(b, m, tp, &at[k]);
        if (j < m && b[j].start < tp && b[j].start > edge) { edge = b[j].start; start = b[j].start; }
        if (j > 0 && b[j - 1].end > edge) { edge = b[j - 1].end; start = b[j - 1].start; }
    }
    return start;
}

/* A droop can peak well after the current step behind it, when a slower
** resonance of the ladder (the package's, ~MHz) carries it: when no unit's
** current changed within a droop event's window, the window is doubled,
** up to ATTR_WIDEN times, until one did (window_ns then says the window
** used). When none did even then, the causes are the pulses inside that
** widest window, stretched back to hold the op of the rail's last change of
** current before the peak (pulses_in): the ringing of a pulse long gone. A
** dI/dt event's window always holds its change. */
static void attribute(const events_detector *ev, const sio_schedule *s, const unit_index *ix, size_t *at,
                      events_event *e)
{
    double w = e->window_ns;
    causes_in(ev, s, ix, at, e, e->t_peak_ns - w);
    for (double f = 2; e->kind == EVENTS_DROOP && !e->n_causes && f <= ATTR_WIDEN; f *= 2) {
        causes_in(ev, s, ix, at, e, e->t_peak_ns - w * f);
        if (e->n_causes) e->window_ns = w * f;
    }
    if (e->kind == EVENTS_DROOP && !e->n_causes) {
        double tw = e->t_peak_ns - w * ATTR_WIDEN, t0 = last_edge_op_start(ev, ix, at, e) - ev->bin_ns;
        if (t0 < tw) tw = t0;
        pulses_in(ev, s, ix, at, e, tw);
        if (e->n_causes) e->window_ns = e->t_peak_ns - tw;
    }
}

/* Attribution of the kept events k0 .. k1-1: each event reads the schedule
** and the index and writes only itself, so two threads share the list. */
typedef struct attr_job {
    const events_detector *ev;
    const sio_schedule *s;
    const unit_index *ix;
    size_t k0, k1;
    int oom;   /* out */
} attr_job;

static void *attr_run(void *arg)
{
    attr_job *j = arg;
    size_t *at = calloc(j->ev->n_chips * j->ev->chip->n_units + 1, sizeof *at);   /* search hints, per unit */
    j->oom = !at;
    if (!at) return NULL;
    for (size_t k = j->k0; k < j->k1; k++) attribute(j->ev, j->s, j->ix, at, &j->ev->sorted[k]);
    free(at);
    return NULL;
}

static int cmp_event(const void *a, const void *b)
{
    const events_event *x = a, *y = b;
    if (x->chip != y->chip) return x->chip < y->chip ? -1 : 1;
    if (x->rail != y->rail) return x->rail < y->rail ? -1 : 1;
    if (x->t_start_ns != y->t_start_ns) return x->t_start_ns < y->t_start_ns ? -1 : 1;
    return x->kind - y->kind;
}

int events_finish(events_detector *ev, const sio_schedule *s)
{
    for (size_t c = 0; c < ev->n_chips; c++)
        for (size_t r = 0; r < ev->chip->n_rails; r++)
            for (int k = 0; k < 2; k++) {
                rail_state *st = state(ev, c, r);
                if (st->ev[k].open) close_ev(ev, c, r, k, st->seen);
            }
    int64_t span_cyc = ev->span_cyc ? ev->span_cyc : s ? sio_schedule_makespan_cyc(s) : 0;
    double span_ns = (double)span_cyc / ev->chip->clock_ghz;
    for (size_t k = 0; k < ev->n_chips * ev->chip->n_rails; k++) {
        events_rail_stats *st = &ev->rs[k].st;
        double whole = (double)st->bins * ev->bin_ns;
        /* the bins hold exact averages: sum x bin = the charge; past the
        ** makespan, to the end of the last bin, only the idle current's,
        ** so the current above idle spreads over the makespan */
        double r_idle = ev->idle[k], dyn = ev->rs[k].dyn_sum;
        st->sum_a = r_idle * (double)st->bins + dyn;
        st->avg_a = !st->bins ? 0.0 : r_idle + dyn * ev->bin_ns / (span_ns > 0 && span_ns < whole ? span_ns : whole);
    }
    if (ev->h[0].failed || ev->h[1].failed) return SIO_ENOMEM;
    size_t n = ev->h[0].n + ev->h[1].n;
    ev->sorted = malloc((n ? n : 1) * sizeof *ev->sorted);
    if (!ev->sorted) return SIO_ENOMEM;
    memcpy(ev->sorted, ev->h[0].e, ev->h[0].n * sizeof *ev->sorted);
    memcpy(ev->sorted + ev->h[0].n, ev->h[1].e, ev->h[1].n * sizeof *ev->sorted);
    ev->n_sorted = n;
    qsort(ev->sorted, n, sizeof *ev->sorted, cmp_event);
    if (n && s) {
        unit_index ix = {NULL, NULL};
        int bad = build_index(ev, s, &ix);
        if (!bad) {
            attr_job lo = {ev, s, &ix, 0, n / 2, 0}, hi = {ev, s, &ix, n / 2, n, 0};
            sio_both(n >= 64, attr_run, &lo, attr_run, &hi);
            if (lo.oom || hi.oom) bad = 1;
        }
        free(ix.off);
        free(ix.ops);
        if (bad) return SIO_ENOMEM;
    }
    return SIO_OK;
}

const events_rail_stats *events_stats(const events_detector *ev, size_t c, size_t r)
{
    return &state(ev, c, r)->st;
}

double events_droop_quantile(const events_detector *ev, size_t c, size_t r, double q)
{
    const rail_state *s = state(ev, c, r);
    if (!s->st.bins) return 0.0;
    double want = q * (double)s->st.bins, acc = 0, v = s->st.max_droop_v;
    /* in value order: coarse buckets below the fine range, fine, coarse above */
    size_t c_lo = (size_t)((HIST_LO_MV - COARSE_LO_MV) / COARSE_STEP_MV);
    size_t c_hi = (size_t)((HIST_HI_MV - COARSE_LO_MV) / COARSE_STEP_MV);
    int found = 0;
    for (size_t k = 0; k < c_lo + 1 && !found; k++) {
        acc += (double)s->coarse[k];
        if (s->coarse[k] && acc >= want) { v = (COARSE_LO_MV + ((double)k + 0.5) * COARSE_STEP_MV) * 1e-3; found = 1; }
    }
    for (size_t k = 0; k < HIST_N && !found; k++) {
        acc += (double)s->hist[k];
        if (s->hist[k] && acc >= want) { v = (HIST_LO_MV + ((double)k + 0.5) * HIST_STEP_MV) * 1e-3; found = 1; }
    }
    for (size_t k = c_hi; k < COARSE_N && !found; k++) {
        acc += (double)s->coarse[k];
        if (s->coarse[k] && acc >= want) { v = (COARSE_LO_MV + ((double)k + 0.5) * COARSE_STEP_MV) * 1e-3; found = 1; }
    }
    /* never beyond what the timeline holds */
    if (v > s->tl_max_v) v = s->tl_max_v;
    if (v < s->st.min_droop_v) v = s->st.min_droop_v;
    return v;
}

const events_event *events_list(const events_detector *ev, size_t *n)
{
    *n = ev->n_sorted;
    return ev->sorted;
}

size_t events_total(const events_detector *ev) { return ev->total[0] + ev->total[1]; }

int events_write_csv(const events_detector *ev, const sio_schedule *s, FILE *f)
{
    fprintf(f, "kind,chip,rail,t_start_ns,t_end_ns,t_peak_ns,peak,peak_unit,window_ns,causes,instructions\n");
    for (size_t k = 0; k < ev->n_sorted; k++) {
        const events_event *e = &ev->sorted[k];
        fprintf(f, "%s,%zu,%s,%.3f,%.3f,%.3f,%.6g,%s,%.3f,", e->kind == EVENTS_DROOP ? "droop" : "didt", e->chip,
                ev->chip->rails[e->rail].name, e->t_start_ns, e->t_end_ns, e->t_peak_ns, e->peak,
                e->kind == EVENTS_DROOP ? "mV" : "A/ns", e->window_ns);
        /* causes: unit:delta_a;...  instructions: id;id (ids quoted as CSV) */
        for (size_t c = 0; c < e->n_causes; c++)
            fprintf(f, "%s%s:%+.3f", c ? ";" : "", ev->chip->units[e->causes[c].unit].name, e->causes[c].delta_a);
        fputc(',', f);
        int any = 0;
        fputc('"', f);
        for (size_t c = 0; c < e->n_causes; c++)
            for (size_t j = 0; j < e->causes[c].n_ops; j++) {
                const char *id = sio_schedule_id(s, e->causes[c].ops[j]);
                if (any++) fputc(';', f);
                for (const char *p = id; *p; p++) {
                    if (*p == '"') fputc('"', f);
                    fputc(*p, f);
                }
            }
        fputs("\"\n", f);
    }
    return ferror(f) ? SIO_EIO : SIO_OK;
}

int events_import(events_detector *ev, const events_rail_stats *st, const events_event *list, size_t n)
{
    events_event *e = malloc((n ? n : 1) * sizeof *e);
    if (!e) return SIO_ENOMEM;
    if (n) memcpy(e, list, n * sizeof *e);   /* none: list may be NULL */
    qsort(e, n, sizeof *e, cmp_event);
    free(ev->sorted);
    ev->sorted = e;
    ev->n_sorted = n;
    ev->total[0] = ev->total[1] = 0;
    for (size_t k = 0; k < ev->n_chips * ev->chip->n_rails; k++) {
        ev->rs[k].st = st[k];
        ev->total[0] += st[k].droop_events;
        ev->total[1] += st[k].didt_events;
    }
    return SIO_OK;
}
