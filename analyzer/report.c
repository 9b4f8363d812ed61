/* report.c -- the data of report.html: the multi-resolution waveforms of
** each series as the timeline streams past (report.h), and report_write,
** which emits the page (the drawing is the browser's: report_page.c).
**
** Overviews: column c of a level covers bins [c*n/cols, (c+1)*n/cols) and
** keeps the min and max of current, droop and dI/dt there (per chip: of the
** power). Detail: each series keeps its last REPORT_RING bins (current,
** droop in mV, dI/dt; floats) in a ring. A run of bins over a limit arms a
** window on its worst bin; a worse bin re-centres it; REPORT_DETAIL_HALF
** bins after the worst, the ring holds the whole window, which is copied
** into the kind's heap of the REPORT_DETAIL_KEEP most severe (a min-heap on
** severity, so a full heap replaces its mildest). Until the series drops
** back under the limit, no new window arms: one window per run, on its
** worst bin up to REPORT_DETAIL_HALF bins after it. Each window also takes
** its chip's power over the same bins from the chip's power ring as soon as
** the power has come that far (the pipeline pushes it after the rails).
** Memory: 7 doubles per column per series and 3 per chip, REPORT_RING x 3
** floats and the dI/dt window per series, REPORT_PRING floats per chip,
** 2 x REPORT_DETAIL_KEEP windows of REPORT_RING x 4 floats. */
#include "report.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lanes.h"
#include "report_int.h"

#define BLOCK REPORT_BLOCK

/* The ring's planes: current, droop (mV) and dI/dt of bin b at b % REPORT_RING. */
#define RING_I(h) ((h)->ring)
#define RING_D(h) ((h)->ring + REPORT_RING)
#define RING_G(h) ((h)->ring + 2 * REPORT_RING)

int report_create(size_t n_series, size_t n_bins, double bin_ns, report **out)
{
    report_opts o = {.n_chips = 1, .n_rails = n_series, .n_bins = n_bins, .run_bins = n_bins, .bin_ns = bin_ns};
    return report_create_opts(&o, out);
}

int report_create_opts(const report_opts *o, report **out)
{
    *out = NULL;
    report *r = calloc(1, sizeof *r);
    if (!r) return SIO_ENOMEM;
    const size_t ns = o->n_chips * o->n_rails;
    r->n_chips = o->n_chips;
    r->n_rails = o->n_rails;
    r->n_series = ns;
    r->n_bins = o->n_bins;
    r->run_bins = o->run_bins < o->n_bins ? o->run_bins : o->n_bins;
    r->bin_ns = o->bin_ns;
    const size_t cols[REPORT_LEVELS] = {REPORT_COLS, REPORT_FINE_COLS};
    int bad = 0;
    for (int l = 0; l < REPORT_LEVELS; l++) {
        level *L = &r->lv[l];
        L->cols = cols[l];
        L->scale = (double)cols[l] / (double)(o->n_bins ? o->n_bins : 1);
        L->c = calloc(ns * cols[l] + 1, sizeof *L->c);
        L->p = calloc(o->n_chips * cols[l] + 1, sizeof *L->p);
        bad |= !L->c || !L->p;
    }
    r->h = calloc(ns + 1, sizeof *r->h);
    r->lim = calloc(2 * o->n_rails + 1, sizeof *r->lim);
    r->pw = calloc(o->n_chips + 1, sizeof *r->pw);
    bad |= !r->h || !r->lim || !r->pw;
    for (size_t ch = 0; !bad && ch < o->n_chips; ch++) bad |= !(r->pw[ch].ring = calloc(REPORT_PRING, sizeof(float)));
    for (size_t k = 0; !bad && k < ns; k++) {
        size_t rl = k % o->n_rails;
        hist *h = &r->h[k];
        h->w = o->didt_bins && o->didt_bins[rl] >= 1 ? o->didt_bins[rl] : 1;
        h->ring = calloc(REPORT_RING * 3, sizeof *h->ring);
        h->iw = malloc(h->w * sizeof *h->iw);
        if (!h->ring || !h->iw) { bad = 1; break; }
        for (size_t j = 0; j < h->w; j++) h->iw[j] = o->idle_a ? o->idle_a[rl] : 0.0;
    }
    for (size_t rl = 0; !bad && rl < o->n_rails; rl++) {
        r->lim[2 * rl] = o->guardband_mv ? o->guardband_mv[rl] : 0;
        r->lim[2 * rl + 1] = o->didt_limit_a_per_ns ? o->didt_limit_a_per_ns[rl] : 0;
    }
    for (int kd = 0; !bad && kd < 2; kd++) {
        r->heap[kd] = calloc(REPORT_DETAIL_KEEP, sizeof *r->heap[kd]);
        r->pool[kd] = calloc(REPORT_DETAIL_KEEP * REPORT_RING * 4, sizeof *r->pool[kd]);
        bad |= !r->heap[kd] || !r->pool[kd];
    }
    if (bad) { report_destroy(r); return SIO_ENOMEM; }
    *out = r;
    return SIO_OK;
}

void report_destroy(report *r)
{
    if (!r) return;
    for (int l = 0; l < REPORT_LEVELS; l++) { free(r->lv[l].c); free(r->lv[l].p); }
    for (size_t k = 0; r->h && k < r->n_series; k++) { free(r->h[k].ring); free(r->h[k].iw); }
    free(r->h);
    free(r->lim);
    for (size_t ch = 0; r->pw && ch < r->n_chips; ch++) free(r->pw[ch].ring);
    free(r->pw);
    for (int kd = 0; kd < 2; kd++) { free(r->heap[kd]); free(r->pool[kd]); }
    free(r);
}

/* ---- overviews ---------------------------------------------------------------- */

/* The column of bin b. */
static size_t col_of(const level *L, size_t b)
{
    size_t ci = (size_t)((double)b * L->scale);
    return ci >= L->cols ? L->cols - 1 : ci;
}

/* The end of the run of bins from b (< end) in b's column *ci. */
static size_t col_end(const level *L, size_t b, size_t end, size_t *ci)
{
    size_t c = col_of(L, b), e = end;
    if (c + 1 < L->cols) {   /* the column's first bin after b, near (c + 1) / scale */
        double g = ceil((double)(c + 1) / L->scale);
        e = g < (double)end ? (size_t)g : end;
        if (e <= b) e = b + 1;
        while (e > b + 1 && col_of(L, e - 1) > c) e--;
        while (e < end && col_of(L, e) == c) e++;
    }
    *ci = c;
    return e;
}

static void widen(double *lo, double *hi, double a, double b)
{
    if (a < *lo) *lo = a;
    if (b > *hi) *hi = b;
}

/* Widens column c to currents i0..i1, droops d0..d1 (mV), dI/dt g0..g1. */
static void col_merge(col *c, const double v[6])
{
    if (!c->any) {
        c->imin = v[0]; c->imax = v[1]; c->dmin = v[2]; c->dmax = v[3]; c->gmin = v[4]; c->gmax = v[5];
        c->any = 1;
        return;
    }
    widen(&c->imin, &c->imax, v[0], v[1]);
    widen(&c->dmin, &c->dmax, v[2], v[3]);
    widen(&c->gmin, &c->gmax, v[4], v[5]);
}

static void pcol_merge(pcol *c, double lo, double hi)
{
    if (!c->any) { c->lo = lo; c->hi = hi; c->any = 1; return; }
    widen(&c->lo, &c->hi, lo, hi);
}

/* The bins b0..b0+n-1 into the columns of every level at once: the runs
** between the boundaries of any level's columns, each reduced once in lanes
** (lanes.h) to its extrema, which are then gathered per level and column
** (min and max of the runs' min and max: exactly the column's). nv values
** a run: the extrema of each of the nv / 2 arrays x[a], as pairs (min,
** max); scale[a] multiplies both (> 0: the order is kept). Levels l0 ..
** l1 - 1; done(l, c, v) takes level l's column c with its gathered v. */
#define NV_MAX 6
typedef void col_done(report *r, size_t who, int l, size_t c, double *v);
static void levels_push(report *r, int l0, int l1, size_t who, size_t b0, const double *const *x,
                        const double *scale, size_t nv, size_t n, col_done *done)
{
    const size_t end = b0 + n;
    double acc[REPORT_LEVELS][NV_MAX];
    size_t cur[REPORT_LEVELS];
    int open[REPORT_LEVELS] = {0};
    for (size_t b = b0; b < end;) {
        size_t e = end, ci[REPORT_LEVELS];
        for (int l = l0; l < l1; l++) {
            size_t el = col_end(&r->lv[l], b, end, &ci[l]);
            if (el < e) e = el;
        }
        double v[NV_MAX];
        for (size_t a = 0; a < nv / 2; a++) {
            v[2 * a] = lanes_min(x[a] + (b - b0), e - b) * scale[a];
            v[2 * a + 1] = lanes_max(x[a] + (b - b0), e - b) * scale[a];
        }
        b = e;
        for (int l = l0; l < l1; l++) {
            if (open[l] && ci[l] == cur[l]) {
                for (size_t q = 0; q < nv; q += 2) widen(&acc[l][q], &acc[l][q + 1], v[q], v[q + 1]);
                continue;
            }
            if (open[l]) done(r, who, l, cur[l], acc[l]);
            memcpy(acc[l], v, nv * sizeof *v);
            cur[l] = ci[l];
            open[l] = 1;
        }
    }
    for (int l = l0; l < l1; l++)
        if (open[l]) done(r, who, l, cur[l], acc[l]);
}

/* A column of series k's overview: NaNs are passed over; a run of nothing
** else leaves its column as it was. */
static void col_done_series(report *r, size_t k, int l, size_t c, double *v)
{
    if (!(v[0] <= v[1] && v[2] <= v[3])) return;   /* NaNs only: nothing to draw */
    if (!(v[4] <= v[5])) v[4] = v[5] = 0;
    col_merge(&r->lv[l].c[k * r->lv[l].cols + c], v);
}

static void col_done_power(report *r, size_t ch, int l, size_t c, double *v)
{
    if (v[0] <= v[1]) pcol_merge(&r->lv[l].p[ch * r->lv[l].cols + c], v[0], v[1]);
}

/* Current, droop (mV) and dI/dt of series k into its columns of levels l0
** .. l1 - 1. */
static void cols_push(report *r, int l0, int l1, size_t k, size_t b0, const double *i_a, const double *d_v,
                      const double *g, size_t n)
{
    const double *x[3] = {i_a, d_v, g}, scale[3] = {1.0, 1e3, 1.0};
    levels_push(r, l0, l1, k, b0, x, scale, 6, n, col_done_series);
}

static void pcols_push_levels(report *r, int l0, int l1, size_t ch, size_t b0, const double *p, size_t n)
{
    const double *x[1] = {p}, scale[1] = {1.0};
    levels_push(r, l0, l1, ch, b0, x, scale, 2, n, col_done_power);
}

static void pcols_push(report *r, size_t ch, size_t b0, const double *p, size_t n)
{
    pcols_push_levels(r, 0, REPORT_LEVELS, ch, b0, p, n);
}

/* ---- detail windows ----------------------------------------------------------- */

/* The chip's power over window c, once it has all come and while the ring
** still holds it. */
static void power_take(capture *c, const pring *pr)
{
    if (c->p_state || pr->seen < c->b0 + c->n) return;
    if (pr->seen - c->b0 > REPORT_PRING) { c->p_state = -1; return; }
    for (size_t b = c->b0; b < c->b0 + c->n; b++) c->p[b - c->b0] = pr->ring[b % REPORT_PRING];
    c->p_state = 1;
}

/* Gives every window of chip ch its power as far as it has come: 1 when
** some window still waits for it. */
static int power_waiting(report *r, size_t ch)
{
    int wait = 0;
    for (int kind = 0; kind < 2; kind++)
        for (size_t j = 0; j < r->n_heap[kind]; j++) {
            capture *c = &r->heap[kind][j];
            if (c->series / r->n_rails != ch || c->p_state) continue;
            power_take(c, &r->pw[ch]);
            wait |= !c->p_state;
        }
    return wait;
}

/* The slot of the kind's heap for window c when it is among the most
** severe (its v and p storage), else NULL; the caller fills the slot's
** data and then calls heap_fix. */
static capture *heap_slot(report *r, int kind, const capture *c, size_t *at)
{
    capture *hp = r->heap[kind];
    size_t *n = &r->n_heap[kind];
    if (*n < REPORT_DETAIL_KEEP) {
        *at = (*n)++;
        hp[*at].v = r->pool[kind] + *at * REPORT_RING * 4;
        hp[*at].p = hp[*at].v + REPORT_RING * 3;
    } else if (report_milder(&hp[0], c)) {
        *at = 0;
    } else {
        return NULL;
    }
    return &hp[*at];
}

/* Restores the min-heap after slot `at` changed: up from a new leaf, or
** down from the root. */
static void heap_fix(report *r, int kind, size_t at)
{
    capture *hp = r->heap[kind];
    const size_t n = r->n_heap[kind];
    if (at) {
        while (at && report_milder(&hp[at], &hp[(at - 1) / 2])) {
            capture t = hp[at]; hp[at] = hp[(at - 1) / 2]; hp[(at - 1) / 2] = t;
            at = (at - 1) / 2;
        }
        return;
    }
    for (;;) {
        size_t l = 2 * at + 1, m = at;
        if (l < n && report_milder(&hp[l], &hp[m])) m = l;
        if (l + 1 < n && report_milder(&hp[l + 1], &hp[m])) m = l + 1;
        if (m == at) break;
        capture t = hp[at]; hp[at] = hp[m]; hp[m] = t;
        at = m;
    }
}

/* Copies series k's window armed in a into the kind's heap, when among the
** most severe; `last` is the window's last bin. */
static void detail_close(report *r, size_t k, int kind, const arm *a, size_t last)
{
    const hist *h = &r->h[k];
    size_t b0 = a->peak >= REPORT_DETAIL_HALF ? a->peak - REPORT_DETAIL_HALF : 0;
    if (last + 1 > REPORT_RING && b0 < last + 1 - REPORT_RING) b0 = last + 1 - REPORT_RING;
    capture c = {.series = k, .kind = kind, .b0 = b0, .n = last + 1 - b0, .sev = a->sev};
    size_t at;
    capture *slot = heap_slot(r, kind, &c, &at);
    if (!slot) return;
    c.v = slot->v;
    c.p = slot->p;
    for (size_t b = b0; b <= last; b++) {
        size_t q = b % REPORT_RING;
        float *v = c.v + 3 * (b - b0);
        v[0] = RING_I(h)[q];
        v[1] = RING_D(h)[q];
        v[2] = RING_G(h)[q];
    }
    power_take(&c, &r->pw[k / r->n_rails]);
    *slot = c;
    heap_fix(r, kind, at);
}

/* o[q] = (float)(x[q] * scale), scale 1.0 exact; LANES at a time
** (vectorized as it stands, as a plain loop is not at -O2). */
static void to_floats(float *restrict o, const double *restrict x, double scale, size_t m)
{
    size_t q = 0;
    for (; q + LANES <= m; q += LANES)
        for (size_t l = 0; l < LANES; l++) o[q + l] = (float)(x[q + l] * scale);
    for (; q < m; q++) o[q] = (float)(x[q] * scale);
}

/* n values x (times scale) into a ring of cap floats from slot at: to the
** ring's end, then from its start. */
static void ring_write(float *ring, size_t cap, size_t at, const double *x, double scale, size_t n)
{
    for (size_t j = 0; j < n;) {
        size_t m = n - j < cap - at ? n - j : cap - at;
        to_floats(ring + at, x + j, scale, m);
        j += m;
        at = 0;
    }
}

/* Bins b0..b0+n-1 (n <= BLOCK) of series k through the ring and the
** windows; their dI/dt (A/ns, signed) into g. A block with no window armed
** and no bin near a limit (nearly all of them) is only written into the
** ring, plane by plane; any other goes bin by bin. */
static void track(report *r, size_t k, size_t b0, const double *i_a, const double *d_v, size_t n, double *g)
{
    hist *h = &r->h[k];
    const size_t rl = k % r->n_rails, w = h->w;
    const double inv = 1.0 / ((double)w * r->bin_ns), lim[2] = {r->lim[2 * rl], r->lim[2 * rl + 1]};
    /* at or under near, a bin is under its limit for sure (x / lim <= 0.999
    ** (1 + 2^-52) < 1) */
    const double near[2] = {0.999 * lim[0], 0.999 * lim[1]};
    /* dI/dt against the bin w before: iw[b % w] holds bin b - w's current
    ** for the first min(w, n) bins, the block itself after; then the last
    ** min(w, n) currents into iw */
    size_t nw = w < n ? w : n, at = b0 % w;
    for (size_t j = 0; j < nw; j++) {
        g[j] = (i_a[j] - h->iw[at]) * inv;
        if (++at == w) at = 0;
    }
    for (size_t j = nw; j < n; j++) g[j] = (i_a[j] - i_a[j - w]) * inv;
    at = (b0 + n - nw) % w;
    for (size_t j = n - nw; j < n; j++) {
        h->iw[at] = i_a[j];
        if (++at == w) at = 0;
    }
    /* quiet: no window armed, every bin at or under near (NaNs count as
    ** under, as below; the extrema pass them over) */
    int quiet = n > 0;
    for (int kind = 0; kind < 2; kind++) quiet &= !(lim[kind] > 0 && h->arm[kind].armed);
    if (quiet && lim[0] > 0 && lanes_max(d_v, n) * 1e3 > near[0]) quiet = 0;
    if (quiet && lim[1] > 0 && (lanes_max(g, n) > near[1] || lanes_min(g, n) < -near[1])) quiet = 0;
    float *ri = RING_I(h), *rd = RING_D(h), *rg = RING_G(h);
    size_t ring_at = b0 % REPORT_RING;
    if (quiet) {
        ring_write(ri, REPORT_RING, ring_at, i_a, 1.0, n);
        ring_write(rd, REPORT_RING, ring_at, d_v, 1e3, n);
        ring_write(rg, REPORT_RING, ring_at, g, 1.0, n);
        for (int kind = 0; kind < 2; kind++)
            if (lim[kind] > 0) h->arm[kind].hold = 0;
        h->seen = b0 + n;
        return;
    }
    for (size_t j = 0; j < n; j++) {
        size_t b = b0 + j;
        double dmv = d_v[j] * 1e3;
        ri[ring_at] = (float)i_a[j];
        rd[ring_at] = (float)dmv;
        rg[ring_at] = (float)g[j];
        if (++ring_at == REPORT_RING) ring_at = 0;
        for (int kind = 0; kind < 2; kind++) {
            if (!(lim[kind] > 0)) continue;
            double x = kind ? fabs(g[j]) : dmv;
            arm *a = &h->arm[kind];
            if (!a->armed && !(x > near[kind])) {   /* under the limit (or NaN): as !(sev > 1) below */
                a->hold = 0;
                continue;
            }
            double sev = x / lim[kind];
            if (a->armed) {
                if (sev > a->sev) { a->sev = sev; a->peak = b; }
                else if (b >= a->peak + REPORT_DETAIL_HALF) {
                    detail_close(r, k, kind, a, b);
                    a->armed = 0;
                    a->hold = sev > 1;
                }
            } else if (sev > 1 && !a->hold) {
                a->armed = 1; a->sev = sev; a->peak = b;
            } else if (!(sev > 1)) {
                a->hold = 0;
            }
        }
    }
    h->seen = b0 + n;
}

void report_finish(report *r)
{
    for (size_t k = 0; k < r->n_series; k++)
        for (int kind = 0; kind < 2; kind++) {
            arm *a = &r->h[k].arm[kind];
            if (a->armed && r->h[k].seen) detail_close(r, k, kind, a, r->h[k].seen - 1);
            a->armed = 0;
        }
}

/* ---- pushes ----------------------------------------------------------------------- */

void report_push(report *r, size_t k, size_t b0, const double *i_a, const double *d_v, size_t n)
{
    double g[BLOCK];
    for (size_t j = 0; j < n; j += BLOCK) {
        size_t m = n - j < BLOCK ? n - j : BLOCK;
        track(r, k, b0 + j, i_a + j, d_v + j, m, g);
        cols_push(r, 0, REPORT_LEVELS, k, b0 + j, i_a + j, d_v + j, g, m);
    }
}

void report_push_const(report *r, size_t k, size_t b0, double i_a, double droop_v, size_t n)
{
    if (n == 0) return;
    double bi[BLOCK], bd[BLOCK], bg[BLOCK];
    for (size_t j = 0; j < BLOCK; j++) { bi[j] = i_a; bd[j] = droop_v; bg[j] = 0; }
    /* the first bins one by one: after the dI/dt window and a ring of them
    ** every later bin is the same (dI/dt 0, any window closed) */
    hist *h = &r->h[k];
    size_t head = REPORT_RING + h->w;
    if (head > n) head = n;
    for (size_t j = 0; j < head; j += BLOCK) report_push(r, k, b0 + j, bi, bd, head - j < BLOCK ? head - j : BLOCK);
    if (head == n) return;
    const size_t rest = n - head, s0 = b0 + head;
    h->seen = b0 + n;
    int nan = !(i_a == i_a && droop_v == droop_v);
    double v[6] = {i_a, i_a, droop_v * 1e3, droop_v * 1e3, 0, 0};
    for (int l = 0; l < REPORT_LEVELS; l++) {
        level *L = &r->lv[l];
        col *cs = L->c + k * L->cols;
        if (rest <= 2 * L->cols || L->scale > 0.5) {   /* short: bin by bin */
            for (size_t j = 0; j < rest; j += BLOCK)
                cols_push(r, l, l + 1, k, s0 + j, bi, bd, bg, rest - j < BLOCK ? rest - j : BLOCK);
        } else if (!nan) {   /* every column from the first bin's to the last's holds some */
            for (size_t ci = col_of(L, s0), c1 = col_of(L, s0 + rest - 1); ci <= c1; ci++) col_merge(&cs[ci], v);
        }
    }
}

void report_push_power(report *r, size_t ch, size_t b0, const double *p_w, size_t n)
{
    pring *pr = &r->pw[ch];
    for (size_t j = 0; j < n; j += BLOCK) {
        size_t m = n - j < BLOCK ? n - j : BLOCK;
        ring_write(pr->ring, REPORT_PRING, (b0 + j) % REPORT_PRING, p_w + j, 1.0, m);
        pr->seen = b0 + j + m;
        power_waiting(r, ch);
    }
    pcols_push(r, ch, b0, p_w, n);
}

void report_push_power_const(report *r, size_t ch, size_t b0, double p_w, size_t n)
{
    if (n == 0) return;
    /* into the ring bin by bin while a window waits for it (or until the
    ** ring is all this value), then in one step */
    pring *pr = &r->pw[ch];
    size_t k = 0;
    for (; k < n && (k < REPORT_PRING || power_waiting(r, ch)); k++) {
        pr->ring[(b0 + k) % REPORT_PRING] = (float)p_w;
        pr->seen = b0 + k + 1;
        if ((k & (BLOCK - 1)) == BLOCK - 1) power_waiting(r, ch);
    }
    pr->seen = b0 + n;
    power_waiting(r, ch);
    if (p_w != p_w) return;
    double bp[BLOCK];
    for (size_t j = 0; j < BLOCK; j++) bp[j] = p_w;
    for (int l = 0; l < REPORT_LEVELS; l++) {
        level *L = &r->lv[l];
        pcol *ps = L->p + ch * L->cols;
        if (n <= 2 * L->cols || L->scale > 0.5) {   /* short, or more columns than bins: bin by bin (as report_push_const) */
            for (size_t j = 0; j < n; j += BLOCK) pcols_push_levels(r, l, l + 1, ch, b0 + j, bp, n - j < BLOCK ? n - j : BLOCK);
        } else {   /* every column from the first bin's to the last's holds some */
            for (size_t ci = col_of(L, b0), c1 = col_of(L, b0 + n - 1); ci <= c1; ci++) pcol_merge(&ps[ci], p_w, p_w);
        }
    }
}

int report_column(const report *r, size_t k, size_t c, double out[4])
{
    const col *x = &r->lv[0].c[k * REPORT_COLS + c];
    out[0] = x->imin; out[1] = x->imax; out[2] = x->dmin; out[3] = x->dmax;
    return x->any;
}

size_t report_n_details(const report *r) { return r->n_heap[0] + r->n_heap[1]; }

int report_detail(const report *r, size_t j, size_t *series, int *kind, size_t *b0, size_t *len)
{
    if (j >= report_n_details(r)) return SIO_EINPUT;
    const capture *c = j < r->n_heap[0] ? &r->heap[0][j] : &r->heap[1][j - r->n_heap[0]];
    *series = c->series; *kind = c->kind; *b0 = c->b0; *len = c->n;
    return SIO_OK;
}

/* ---- a share's report (report_pack, report_unpack) ------------------------------ */

/* One capture's fixed fields in a pack. */
typedef struct capture_head {
    uint64_t series, b0, n;
    int32_t kind, p_state;
    double sev;
} capture_head;

int report_pack(const report *r, FILE *f)
{
    int bad = 0;
    for (int l = 0; l < REPORT_LEVELS; l++) {
        const level *L = &r->lv[l];
        bad |= fwrite(L->c, sizeof *L->c, r->n_series * L->cols, f) != r->n_series * L->cols;
        bad |= fwrite(L->p, sizeof *L->p, r->n_chips * L->cols, f) != r->n_chips * L->cols;
    }
    for (int kind = 0; kind < 2; kind++) {
        uint64_t n = r->n_heap[kind];
        bad |= fwrite(&n, sizeof n, 1, f) != 1;
        for (size_t j = 0; j < r->n_heap[kind]; j++) {
            const capture *c = &r->heap[kind][j];
            capture_head h = {c->series, c->b0, c->n, c->kind, c->p_state, c->sev};
            bad |= fwrite(&h, sizeof h, 1, f) != 1;
            bad |= fwrite(c->v, sizeof *c->v, 3 * c->n, f) != 3 * c->n;
            bad |= fwrite(c->p, sizeof *c->p, c->n, f) != c->n;
        }
    }
    return bad ? -1 : 0;
}

int report_unpack(report *r, FILE *f, size_t n_chips, size_t chip_lo, size_t chip_step)
{
    const size_t nr = r->n_rails;
    for (size_t ch = 0; ch < n_chips; ch++)
        if (chip_lo + ch * chip_step >= r->n_chips) return -1;
    for (int l = 0; l < REPORT_LEVELS; l++) {
        level *L = &r->lv[l];
        for (size_t ch = 0; ch < n_chips; ch++) {   /* its series' columns */
            size_t g = chip_lo + ch * chip_step;
            if (fread(L->c + g * nr * L->cols, sizeof *L->c, nr * L->cols, f) != nr * L->cols) return -1;
        }
        for (size_t ch = 0; ch < n_chips; ch++) {   /* its power's */
            size_t g = chip_lo + ch * chip_step;
            if (fread(L->p + g * L->cols, sizeof *L->p, L->cols, f) != L->cols) return -1;
        }
    }
    for (int kind = 0; kind < 2; kind++) {
        uint64_t n;
        if (fread(&n, sizeof n, 1, f) != 1 || n > REPORT_DETAIL_KEEP) return -1;
        for (uint64_t j = 0; j < n; j++) {
            capture_head h;
            if (fread(&h, sizeof h, 1, f) != 1 || h.kind != kind || h.n == 0 || h.n > REPORT_RING ||
                h.series >= n_chips * nr)
                return -1;
            size_t g = chip_lo + (size_t)(h.series / nr) * chip_step;
            capture c = {.series = g * nr + (size_t)(h.series % nr), .kind = kind, .b0 = (size_t)h.b0,
                         .n = (size_t)h.n, .sev = h.sev, .p_state = h.p_state};
            float buf[REPORT_RING * 4];
            if (fread(buf, sizeof *buf, 4 * c.n, f) != 4 * c.n) return -1;
            size_t at;
            capture *slot = heap_slot(r, kind, &c, &at);
            if (!slot) continue;
            c.v = slot->v;
            c.p = slot->p;
            memcpy(c.v, buf, 3 * c.n * sizeof *buf);
            memcpy(c.p, buf + 3 * c.n, c.n * sizeof *buf);
            *slot = c;
            heap_fix(r, kind, at);
        }
    }
    return 0;
}
