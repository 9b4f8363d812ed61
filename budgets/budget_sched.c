/* budget_sched.c -- the re-timer's scheduler: exact groups placed one at a
** time on time-indexed profiles, with the other constraints as difference
** constraints that may be broken and repaired.
**
** Groups and edges. The groups are the instructions tied by exact deps
** (union-find); they move rigidly, by one delay d_g >= 0 each. Every other
** constraint between two instructions in different groups (a dep of the
** other two kinds, or unit order: each unit keeps the order of its
** instructions) becomes an edge h -> g, d_g >= d_h + w, with w the
** separation the constraint needs minus the one the original starts have
** (so w <= 0 where the original had slack). Groups that interleave on a unit
** have edges both ways: the graph has cycles, but no positive one (delay 0
** everywhere is feasible), so the constraints are a simple temporal network.
**
** A pass (budget_pass) in direction dir (+1 forward: least delays; -1
** backward: latest delays against a makespan) works in y = dir x d, where
** every constraint reads y_b >= y_a + w (the in-edges reversed for dir -1).
** It keeps for each group a least value lo[g], raised by every placed
** predecessor. A group becomes ready when its predecessors are placed: all
** of those in other strongly connected sets of groups (their condensation
** is acyclic), and inside its own set those earlier in the pass's order
** (rk). The ready one with the least priority key is placed at the first
** y >= lo[g] at which its exact profile keeps every budget on its chip's
** profiles (place). Then each successor k gets lo[k] >= y + w; a successor
** already placed (it came first through a cycle, or was placed before its
** predecessor was evicted) whose y is now too small is evicted: its
** profile taken off, lo raised, and queued again ("iterative repair with
** forward propagation"). Each eviction raises a lo, so a pass ends. A set
** whose groups keep evicting each other (RIGID_AFTER evictions of one of
** them) is then placed whole, at one delay in its original shape, unless
** that shape fits nowhere. Past a cap on evictions the pass stops trying
** the budget and places each group at its lo, which by the same repair ends
** with every constraint kept (a label-correcting longest path: no positive
** cycle), and says so in x->relaxed.
**
** Profiles are sparse (parr: pages made on first write), so memory follows
** the bins that hold work: two instructions 10^9 cycles apart cost two pages.
** A check reads the lane's bins it needs into a dense scratch (lane_bins)
** and costs O(group bins + window) for power, and per rail O(group bins + w)
** for dI/dt and O((group bins + kt) kt) for droop. */
#include "budget_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "current.h"

/* ---- sparse arrays ------------------------------------------------------- */

double *pa_page(parr *a, size_t b)
{
    size_t p = b >> PG_BITS, t = p >> DIR_BITS, m = p & (((size_t)1 << DIR_BITS) - 1);
    if (t >= a->nt) {
        size_t nt = a->nt ? a->nt : 1;
        while (nt <= t) nt *= 2;
        double ***q = realloc(a->top, nt * sizeof *q);
        if (!q) return NULL;
        memset(q + a->nt, 0, (nt - a->nt) * sizeof *q);
        a->top = q;
        a->nt = nt;
    }
    if (!a->top[t] && !(a->top[t] = calloc((size_t)1 << DIR_BITS, sizeof **a->top))) return NULL;
    if (!a->top[t][m] && !(a->top[t][m] = calloc(PG, sizeof(double)))) return NULL;
    if ((p + 1) << PG_BITS > a->end) a->end = (p + 1) << PG_BITS;
    return a->top[t][m];
}

void pa_free(parr *a)
{
    for (size_t t = 0; t < a->nt; t++) {
        if (!a->top[t]) continue;
        for (size_t m = 0; m < ((size_t)1 << DIR_BITS); m++) free(a->top[t][m]);
        free(a->top[t]);
    }
    free(a->top);
    a->top = NULL;
    a->nt = 0;
}

/* The page of bin b, or NULL when it was never written. */
static const double *pa_find(const parr *a, size_t b)
{
    size_t p = b >> PG_BITS, t = p >> DIR_BITS;
    if (t >= a->nt || !a->top[t]) return NULL;
    return a->top[t][p & (((size_t)1 << DIR_BITS) - 1)];
}

/* Copies bins [b0, b0 + n) of a into out (zeros where no page is), a page
** at a time. */
static void pa_read(const parr *a, size_t b0, size_t n, double *out)
{
    for (size_t k = 0; k < n;) {
        size_t b = b0 + k, off = b & (PG - 1), m = PG - off;
        if (m > n - k) m = n - k;
        const double *pg = pa_find(a, b);
        if (pg) memcpy(out + k, pg + off, m * sizeof *out);
        else memset(out + k, 0, m * sizeof *out);
        k += m;
    }
}

/* Adds sign x v[0 .. n-1] to bins [b0, b0 + n) of a, making pages as
** needed. -1 when out of memory. */
static int pa_addv(parr *a, size_t b0, size_t n, const double *v, double sign)
{
    for (size_t k = 0; k < n;) {
        size_t b = b0 + k, off = b & (PG - 1), m = PG - off;
        if (m > n - k) m = n - k;
        double *pg = pa_page(a, b);
        if (!pg) return -1;
        for (size_t q = 0; q < m; q++) pg[off + q] += sign * v[k + q];
        k += m;
    }
    return 0;
}

/* ---- group profiles ------------------------------------------------------ */

static size_t bin_of(const ctx *x, double t)
{
    double b = floor(t / x->bin);
    return b < 0 ? 0 : (size_t)b;
}

static int grow(ctx *x, size_t want)
{
    if (want <= x->gcap) return 0;
    size_t c = x->gcap ? x->gcap : 256;
    while (c < want) c *= 2;
    double *a = realloc(x->buf_gp, c * sizeof *a);
    if (!a) return -1;
    x->buf_gp = a;
    a = realloc(x->buf_gr, c * (x->nr ? x->nr : 1) * sizeof *a);
    if (!a) return -1;
    x->buf_gr = a;
    a = realloc(x->buf_st, c * (1 + x->nr) * sizeof *a);
    if (!a) return -1;
    x->buf_st = a;
    x->gcap = c;
    return 0;
}

int budget_members_profile(ctx *x, const uint32_t *mem, size_t m, int64_t d)
{
    size_t LB = SIZE_MAX, RB = 0;
    for (size_t k = 0; k < m; k++) {
        size_t i = mem[k];
        int64_t t = x->s->start_cyc[i] + d + x->base;
        size_t lb = bin_of(x, (double)t * x->T), rb = bin_of(x, (double)(t + x->s->cycles[i]) * x->T);
        if (lb < LB) LB = lb;
        if (rb > RB) RB = rb;
    }
    size_t span = RB - LB + 1;
    if (grow(x, span + 1)) return -1;
    /* the rail currents only when a dI/dt or droop budget reads them; the
    ** plateaus go in as steps (buf_st), summed once at the end */
    int rails = x->use_didt || x->use_droop;
    size_t nrr = rails ? x->nr : 0;
    double *gp = x->buf_gp, *gr = x->buf_gr, *st = x->buf_st;
    memset(gp, 0, span * sizeof *gp);
    memset(gr, 0, span * nrr * sizeof *gr);
    memset(st, 0, (span + 1) * (1 + nrr) * sizeof *st);
    for (size_t k = 0; k < m; k++) {
        size_t i = mem[k];
        int64_t t = x->s->start_cyc[i] + d + x->base;
        if (x->c->ops[x->s->op[i]].current_a * x->s->activity[i] == 0.0) continue;
        size_t r = x->c->units[x->s->unit[i]].rail;
        double vdd = x->c->rails[r].vdd_v;
        size_t lb = bin_of(x, (double)t * x->T), rb = bin_of(x, (double)(t + x->s->cycles[i]) * x->T);
        current_op_bins_add(x->c, x->s, i, t, x->bin, lb, rb - lb + 1, vdd, gp + (lb - LB), st + (lb - LB));
        if (rails)
            current_op_bins_add(x->c, x->s, i, t, x->bin, lb, rb - lb + 1, 1.0, gr + r * span + (lb - LB),
                                st + (1 + r) * (span + 1) + (lb - LB));
    }
    for (size_t q = 0; q <= nrr; q++) {
        double *o = q ? gr + (q - 1) * span : gp, *sq = st + q * (span + 1), run = 0;
        for (size_t k = 0; k < span; k++) {
            run += sq[k];
            o[k] += run;
        }
    }
    x->gp = gp;
    x->gr = gr;
    x->LB = LB;
    x->RB = RB;
    return 0;
}

/* What one placement moves: a group, or a whole strongly connected set of
** groups moved rigidly (see budget_pass); id keys the profile cache. */
typedef struct piece {
    size_t id;
    const uint32_t *mem;   /* the instructions */
    size_t m;
} piece;

static piece group_piece(const ctx *x, size_t g)
{
    return (piece){g, x->g_mem + x->g_off[g], x->g_off[g + 1] - x->g_off[g]};
}

/* The piece's profile at delay d into x->gp / x->gr: from the cache of its
** phase (shifted by whole bins), computed into it when missing. */
static int piece_profile(ctx *x, const piece *pc, int64_t d)
{
    const uint32_t *mem = pc->mem;
    size_t m = pc->m, g = pc->id;
    if (!x->P) return budget_members_profile(x, mem, m, d);
    if (x->pc_g != g || x->pc_base != x->base) {
        for (int64_t r = 0; r < x->P; r++) x->pc[r].d = INT64_MIN;
        x->pc_g = g;
        x->pc_base = x->base;
    }
    int64_t r = ((d % x->P) + x->P) % x->P;
    struct pslot *sl = &x->pc[r];
    if (sl->d == INT64_MIN) {
        if (budget_members_profile(x, mem, m, d)) return -1;
        size_t span = x->RB - x->LB + 1, nrr = x->use_didt || x->use_droop ? x->nr : 0, need = span * (1 + nrr);
        if (need > sl->cap) {
            double *p = realloc(sl->gp, need * sizeof *p);
            if (!p) return -1;
            sl->gp = p;
            sl->cap = need;
        }
        sl->gr = sl->gp + span;
        memcpy(sl->gp, x->gp, span * sizeof *sl->gp);
        memcpy(sl->gr, x->gr, span * nrr * sizeof *sl->gr);
        sl->d = d;
        sl->LB = x->LB;
        sl->RB = x->RB;
    }
    int64_t shift = (d - sl->d) / x->P * x->binsP;
    x->gp = sl->gp;
    x->gr = sl->gr;
    x->LB = (size_t)((int64_t)sl->LB + shift);
    x->RB = (size_t)((int64_t)sl->RB + shift);
    return 0;
}

static int group_profile(ctx *x, size_t g, int64_t d)
{
    piece pc = group_piece(x, g);
    return piece_profile(x, &pc, d);
}

int64_t budget_phases(const ctx *x)
{
    for (int64_t p = 1; p <= 1000; p++) {
        double b = (double)p * x->T / x->bin;
        if (fabs(b - round(b)) < 1e-9) return p;
    }
    return 0;
}

/* ---- lanes ----------------------------------------------------------------- */

static lane *sys_lane(ctx *x) { return &x->lanes[x->nch]; }


void budget_lanes_clear(ctx *x)
{
    for (size_t k = 0; k <= x->nch; k++) {
        lane *L = &x->lanes[k];
        pa_free(&L->pw);
        for (size_t r = 0; r < x->nr; r++) {
            if (L->ra) pa_free(&L->ra[r]);
            if (L->vd) pa_free(&L->vd[r]);
        }
    }
}

/* ---- the checks ------------------------------------------------------------ */

enum { OK = 0, V_POWER = 1, V_DIDT = 2, V_DROOP = 3 };

/* x->cbuf holds at least n doubles. */
static int grow_conv(ctx *x, size_t n)
{
    if (n <= x->ccap) return 0;
    double *p = realloc(x->cbuf, n * sizeof *p);
    if (!p) return -1;
    x->cbuf = p;
    x->ccap = n;
    return 0;
}

/* Lane bins [b0, b0 + n) into the ctx's scratch x->lbuf (grown as needed). */
static const double *lane_bins(ctx *x, const parr *a, size_t b0, size_t n)
{
    if (n > x->lcap) {
        size_t c = x->lcap ? x->lcap : 4096;
        while (c < n) c *= 2;
        double *p = realloc(x->lbuf, c * sizeof *p);
        if (!p) return NULL;
        x->lbuf = p;
        x->lcap = c;
    }
    pa_read(a, b0, n, x->lbuf);
    return x->lbuf;
}

/* The windows of lane L (budget B) that the group in scratch breaks: up to
** three into va / room (the first, the last and the most broken; room the
** budget left by the lane in that window). Returns how many (0 or 3), or -1
** when out of memory. */
static int check_power(ctx *x, const lane *L, double B, size_t *va, double *room)
{
    const size_t LB = x->LB, RB = x->RB;
    /* a window longer than every bin that may hold power (the lane's pages
    ** and the group) holds the same sums whatever its length, the bins past
    ** them being 0: it is scanned at that length, the same additions in the
    ** same order, in O(that) rather than O(window) (a window of 10^9 bins
    ** over a run of 10^5) */
    const size_t hi = RB + 1 > L->pw.end ? RB + 1 : L->pw.end, W = x->W < hi ? x->W : hi;
    const double *gp = x->gp;
    size_t a0 = LB + 1 >= W ? LB + 1 - W : 0;
    const double *lp = lane_bins(x, &L->pw, a0, RB + W + 1 - a0);   /* lp[k]: bin a0 + k */
    if (!lp) return -1;
    double most = 0;
    int nv = 0;
    if (W == 1) {   /* one bin: the lane and the group side by side */
        for (size_t a = LB; a <= RB; a++) {
            double t = lp[a - a0] + gp[a - LB];
            if (t > B) {
                if (!nv) { va[0] = a; room[0] = B - lp[a - a0]; nv = 1; }
                va[1] = a; room[1] = B - lp[a - a0];
                if (t - B > most) { most = t - B; va[2] = a; room[2] = B - lp[a - a0]; }
            }
        }
        return nv ? 3 : 0;
    }
    double ws = 0, wg = 0;
    for (size_t k = 0; k < W; k++) ws += lp[k];
    for (size_t b = a0 > LB ? a0 : LB; b < a0 + W && b <= RB; b++) wg += gp[b - LB];
    for (size_t a = a0; a <= RB; a++) {
        double t = ws + wg;
        if (t > B) {
            if (!nv) { va[0] = a; room[0] = B - ws; nv = 1; }
            va[1] = a; room[1] = B - ws;
            if (t - B > most) { most = t - B; va[2] = a; room[2] = B - ws; }
        }
        size_t e = a + W;
        ws += lp[e - a0] - lp[a - a0];
        wg += (e <= RB ? gp[e - LB] : 0.0) - (a >= LB ? gp[a - LB] : 0.0);
    }
    return nv ? 3 : 0;
}

/* Checks the group in scratch against lane L (chip) and the system lane.
** On V_POWER fills va / room with *nv broken windows (with repeats). -1
** when out of memory. */
static int check(ctx *x, const lane *L, const lane *S, size_t va[6], double room[6], int *nv)
{
    const size_t LB = x->LB, RB = x->RB, span = RB - LB + 1;
    *nv = 0;
    if (x->use_pw) {
        int n1 = check_power(x, L, x->B, va, room), n2 = 0;
        if (n1 < 0) return -1;
        if (x->use_sys && (n2 = check_power(x, S, x->B_sys, va + n1, room + n1)) < 0) return -1;
        *nv = n1 + n2;
        if (*nv) return V_POWER;
    }
    for (size_t r = 0; r < x->nr && (x->use_didt || x->use_droop); r++) {
        const double *g = x->gr + r * span;
        if (x->use_didt) {
            size_t w = x->wd[r], c0 = LB >= w ? LB - w : 0;
            const double *ra = lane_bins(x, &L->ra[r], c0, RB + w + 1 - c0);   /* ra[k]: bin c0 + k */
            if (!ra) return -1;
            for (size_t k = LB; k <= RB + w; k++) {
                double cur = ra[k - c0] + (k <= RB ? g[k - LB] : 0.0), prev = 0;
                if (k >= w) {
                    size_t j = k - w;
                    prev = ra[j - c0] + (j >= LB && j <= RB ? g[j - LB] : 0.0);
                }
                if (fabs(cur - prev) > x->lim_didt[r]) return V_DIDT;
            }
        }
        if (x->use_droop) {
            const double *h = x->h[r];
            size_t kt = x->kt[r];
            const double *vd = lane_bins(x, &L->vd[r], LB, span + kt);   /* vd[k]: bin LB + k */
            if (!vd) return -1;
            for (size_t nn = LB; nn < RB + kt; nn++) {
                size_t m0 = nn > RB ? nn - RB : 0, m1 = nn - LB < kt - 1 ? nn - LB : kt - 1;
                double v = vd[nn - LB];
                for (size_t m = m0; m <= m1; m++) v += h[m] * g[nn - m - LB];
                if (v > x->lim_droop[r]) return V_DROOP;
            }
        }
    }
    return OK;
}

/* Adds (sign +1) or takes off (-1) the group in scratch to lane L and the
** system lane. -1 when out of memory. */
static int commit(ctx *x, lane *L, double sign)
{
    const size_t LB = x->LB, RB = x->RB, span = RB - LB + 1;
    if (x->use_pw) {
        if (pa_addv(&L->pw, LB, span, x->gp, sign)) return -1;
        if (x->use_sys && pa_addv(&sys_lane(x)->pw, LB, span, x->gp, sign)) return -1;
    }
    for (size_t r = 0; r < x->nr && (x->use_didt || x->use_droop); r++) {
        const double *g = x->gr + r * span;
        if (pa_addv(&L->ra[r], LB, span, g, sign)) return -1;
        if (x->use_droop) {
            const double *h = x->h[r];
            size_t kt = x->kt[r];
            if (grow_conv(x, span + kt)) return -1;
            for (size_t nn = LB; nn < RB + kt; nn++) {
                size_t m0 = nn > RB ? nn - RB : 0, m1 = nn - LB < kt - 1 ? nn - LB : kt - 1;
                double v = 0;
                for (size_t m = m0; m <= m1; m++) v += h[m] * g[nn - m - LB];
                x->cbuf[nn - LB] = v;
            }
            if (pa_addv(&L->vd[r], LB, span + kt - 1, x->cbuf, sign)) return -1;
        }
    }
    return 0;
}

/* ---- jumps past a broken power window --------------------------------------- */

/* The group's share (sum of bin powers) of window a at delay d. */
static double share(const ctx *x, const piece *pc, int64_t d, size_t a)
{
    double lo = (double)a * x->bin, hi = (double)(a + x->W) * x->bin, sum = 0;
    for (size_t k = 0; k < pc->m; k++) {
        size_t i = pc->mem[k];
        int64_t st = x->s->start_cyc[i] + d + x->base;
        double vdd = x->c->rails[x->c->units[x->s->unit[i]].rail].vdd_v;
        sum += vdd * (current_op_charge_before(x->c, x->s, i, st, hi) - current_op_charge_before(x->c, x->s, i, st, lo)) /
               x->bin;
    }
    return sum;
}

/* Bisection between a delay `bad` at which the piece's share of window a
** breaks limit and one, `good`, at which it fits (either side of the
** other): the fitting delay nearest to bad. */
static int64_t bisect_fit(const ctx *x, const piece *pc, size_t a, double limit, int64_t bad, int64_t good)
{
    while (good - bad > 1 || bad - good > 1) {
        int64_t mid = bad + (good - bad) / 2;
        if (share(x, pc, mid, a) <= limit) good = mid;
        else bad = mid;
    }
    return good;
}

/* The first delay > d at which the piece's share of window a fits in limit:
** bisection, exact for a single instruction, whose share of a window is
** unimodal in the delay; for a group of several (a sum of unimodal shares)
** the bisection's answer, or with x->exact_fit the first delay before it
** that fits, found by stepping. */
static int64_t jump(const ctx *x, const piece *pc, int64_t d, size_t a, double limit)
{
    int64_t hi = d + 1;
    double end = (double)(a + x->W) * x->bin;
    for (size_t k = 0; k < pc->m; k++) {
        size_t i = pc->mem[k];
        int64_t past = (int64_t)ceil(end / x->T) + 1 - x->s->start_cyc[i] - x->base;   /* starts after the window */
        if (past > hi) hi = past;
    }
    int64_t j = bisect_fit(x, pc, a, limit, d, hi);
    for (int64_t k = d + 1; x->exact_fit && pc->m > 1 && k < j; k++)
        if (share(x, pc, k, a) <= limit) return k;
    return j;
}

/* The last delay < d at which the piece's share of window a fits in limit, or
** -base - 1 when none >= -base does (the mirror of jump, x->exact_fit too). */
static int64_t jump_back(const ctx *x, const piece *pc, int64_t d, size_t a, double limit)
{
    int64_t lo = d - 1;
    double begin = (double)a * x->bin;
    for (size_t k = 0; k < pc->m; k++) {
        size_t i = pc->mem[k];
        int64_t before = (int64_t)floor(begin / x->T) - 1 - x->s->start_cyc[i] - x->s->cycles[i] - x->base;
        if (before < lo) lo = before;
    }
    if (lo < -x->base) {
        if (share(x, pc, -x->base, a) > limit) return -x->base - 1;
        lo = -x->base;
    }
    int64_t j = bisect_fit(x, pc, a, limit, d, lo);
    for (int64_t k = d - 1; x->exact_fit && pc->m > 1 && k > j; k--)
        if (share(x, pc, k, a) <= limit) return k;
    return j;
}

/* The nearest delay to *dp, going later (dir 1) or earlier (dir -1), at
** which the piece keeps every budget on lane L; its profile is then in
** scratch. 0, 1 when none is found before `stop`, -1 when memory runs out.
** Power: every delay between d and a broken window's jump breaks that
** window (exact for one instruction), so it goes to the furthest of the
** jumps; dI/dt and droop step, by growing steps. */
static int place(ctx *x, const piece *pc, lane *L, int64_t *dp, int dir, int64_t stop)
{
    int64_t d = *dp, step = 1;
    for (;;) {
        if (dir > 0 ? d > stop : d < stop) return 1;
        if (piece_profile(x, pc, d)) return -1;
        x->cost += x->RB - x->LB + 1 + x->W;
        size_t va[6];
        double room[6];
        int nv;
        int res = check(x, L, sys_lane(x), va, room, &nv);
        if (res < 0) return -1;
        if (res == OK) break;
        if (res == V_POWER) {
            int64_t nd = d + dir;
            for (int k = 0; k < nv; k++) {
                if (k && va[k] == va[k - 1]) continue;
                int64_t j = dir > 0 ? jump(x, pc, d, va[k], room[k]) : jump_back(x, pc, d, va[k], room[k]);
                if (dir > 0 ? j > nd : j < nd) nd = j;
            }
            d = nd;
        } else d += dir * (step++ / 4 + 1);
    }
    *dp = d;
    return 0;
}

/* Group g alone on an idle chip at delay d, against the power caps: 1 when
** it breaks one, 0 when not, -1 when out of memory. Its profile is left in
** scratch. */
int budget_alone(ctx *x, size_t g, int64_t d)
{
    static const lane empty;
    size_t va[3];
    double room[3];
    if (group_profile(x, g, d)) return -1;
    int n = check_power(x, &empty, x->B, va, room);
    if (n == 0 && x->use_sys) n = check_power(x, &empty, x->B_sys, va, room);
    return n < 0 ? -1 : n > 0;
}

/* ---- groups and edges ---------------------------------------------------------- */

typedef struct by_key { int64_t k; uint32_t i; } by_key;

static int cmp_key(const void *a, const void *b)
{
    const by_key *p = a, *q = b;
    if (p->k != q->k) return p->k < q->k ? -1 : 1;
    return p->i < q->i ? -1 : p->i > q->i;
}

/* uprev: the previous instruction on the same chip and unit. */
static int unit_order(ctx *x)
{
    const sio_schedule *s = x->s;
    size_t nu = x->c->n_units, slots = x->nch * nu;
    size_t *off = calloc(slots + 1, sizeof *off), *pos = malloc((slots ? slots : 1) * sizeof *pos);
    by_key *v = malloc((s->n ? s->n : 1) * sizeof *v);
    x->uprev = malloc((s->n ? s->n : 1) * sizeof *x->uprev);
    if (!off || !pos || !v || !x->uprev) { free(off); free(pos); free(v); return -1; }
    for (size_t i = 0; i < s->n; i++) off[(size_t)s->chip[i] * nu + s->unit[i] + 1]++;
    for (size_t k = 0; k < slots; k++) off[k + 1] += off[k];
    memcpy(pos, off, slots * sizeof *pos);
    for (size_t i = 0; i < s->n; i++) {
        by_key *e = &v[pos[(size_t)s->chip[i] * nu + s->unit[i]]++];
        e->k = s->start_cyc[i];
        e->i = (uint32_t)i;
    }
    for (size_t k = 0; k < slots; k++) {
        qsort(v + off[k], off[k + 1] - off[k], sizeof *v, cmp_key);
        for (size_t q = off[k]; q < off[k + 1]; q++) x->uprev[v[q].i] = q > off[k] ? v[q - 1].i : UINT32_MAX;
    }
    free(pos); free(off); free(v);
    return 0;
}

static uint32_t uf_root(uint32_t *p, uint32_t i)
{
    while (p[i] != i) i = p[i] = p[p[i]];
    return i;
}

/* The groups: union-find over the exact deps, numbered by first member. */
static int exact_groups(ctx *x)
{
    const sio_schedule *s = x->s;
    size_t n = s->n, ng = 0;
    uint32_t *p = malloc((n ? n : 1) * sizeof *p);
    x->grp = malloc((n ? n : 1) * sizeof *x->grp);
    x->g_mem = malloc((n ? n : 1) * sizeof *x->g_mem);
    if (!p || !x->grp || !x->g_mem) { free(p); return -1; }
    for (size_t i = 0; i < n; i++) p[i] = (uint32_t)i;
    for (size_t i = 0; i < n; i++)
        for (size_t e = s->dep_off[i]; e < s->dep_off[i + 1]; e++)
            if (s->dep_kind[e] == SIO_DEP_EXACT) p[uf_root(p, (uint32_t)i)] = uf_root(p, s->dep_src[e]);
    for (size_t i = 0; i < n; i++) x->grp[i] = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        uint32_t r = uf_root(p, (uint32_t)i);
        if (x->grp[r] == UINT32_MAX) x->grp[r] = (uint32_t)ng++;
        x->grp[i] = x->grp[r];
    }
    free(p);
    x->ng = ng;
    x->g_off = calloc(ng + 2, sizeof *x->g_off);
    x->g_start = malloc((ng ? ng : 1) * sizeof *x->g_start);
    x->g_end = malloc((ng ? ng : 1) * sizeof *x->g_end);
    if (!x->g_off || !x->g_start || !x->g_end) return -1;
    for (size_t i = 0; i < n; i++) x->g_off[x->grp[i] + 2]++;
    for (size_t g = 0; g < ng; g++) x->g_off[g + 2] += x->g_off[g + 1];
    for (size_t i = 0; i < n; i++) x->g_mem[x->g_off[x->grp[i] + 1]++] = (uint32_t)i;
    for (size_t g = 0; g < ng; g++) { x->g_start[g] = INT64_MAX; x->g_end[g] = 0; }
    for (size_t i = 0; i < n; i++) {
        size_t g = x->grp[i];
        if (s->start_cyc[i] < x->g_start[g]) x->g_start[g] = s->start_cyc[i];
        if (s->start_cyc[i] + s->cycles[i] > x->g_end[g]) x->g_end[g] = s->start_cyc[i] + s->cycles[i];
    }
    return 0;
}

/* BODY for each constraint into instruction i from another instruction J:
** start_i >= start_J + C (deps of the three kinds, and unit order). */
#define FOR_PREDS(x, i, J, C, ...)                                                           \
    do {                                                                                     \
        const sio_schedule *s_ = (x)->s;                                                     \
        for (size_t e_ = s_->dep_off[i]; e_ < s_->dep_off[(i) + 1]; e_++) {                 \
            size_t J = s_->dep_src[e_];                                                      \
            int64_t C = s_->dep_kind[e_] == SIO_DEP_END ? s_->cycles[J] : s_->dep_lag[e_];   \
            __VA_ARGS__                                                                       \
        }                                                                                    \
        if ((x)->uprev[i] != UINT32_MAX) {                                                   \
            size_t J = (x)->uprev[i];                                                        \
            int64_t C = s_->cycles[J];                                                       \
            __VA_ARGS__                                                                       \
        }                                                                                    \
    } while (0)

/* The edges between groups (out- and in-lists) and the priority keys:
** key_start the group's first start, key_crit its latest start against the
** original makespan (longest path to the end over all constraints: the
** critical path first). */
static int edges_and_keys(ctx *x, int64_t makespan)
{
    const sio_schedule *s = x->s;
    size_t ng = x->ng, n = s->n;
    x->eo_off = calloc(ng + 2, sizeof *x->eo_off);
    x->ei_off = calloc(ng + 2, sizeof *x->ei_off);
    x->key_start = malloc((ng ? ng : 1) * sizeof *x->key_start);
    x->key_crit = malloc((ng ? ng : 1) * sizeof *x->key_crit);
    int64_t *lp = malloc((n ? n : 1) * sizeof *lp);
    by_key *ord = malloc((n ? n : 1) * sizeof *ord);
    int rc = -1;
    if (!x->eo_off || !x->ei_off || !x->key_start || !x->key_crit || !lp || !ord) goto out;
    for (size_t i = 0; i < n; i++) {
        size_t g = x->grp[i];
        FOR_PREDS(x, i, j, cc, {
            (void)cc;
            if (x->grp[j] != g) { x->eo_off[x->grp[j] + 2]++; x->ei_off[g + 2]++; }
        });
    }
    for (size_t g = 0; g < ng; g++) { x->eo_off[g + 2] += x->eo_off[g + 1]; x->ei_off[g + 2] += x->ei_off[g + 1]; }
    size_t ne = x->eo_off[ng + 1];
    x->eo = malloc((ne ? ne : 1) * sizeof *x->eo);
    x->ei = malloc((ne ? ne : 1) * sizeof *x->ei);
    if (!x->eo || !x->ei) goto out;
    for (size_t i = 0; i < n; i++) {
        size_t g = x->grp[i];
        FOR_PREDS(x, i, j, cc, {
            size_t h = x->grp[j];
            if (h != g) {
                int64_t w = s->start_cyc[j] + cc - s->start_cyc[i];
                gedge *o = &x->eo[x->eo_off[h + 1]++], *q = &x->ei[x->ei_off[g + 1]++];
                o->w = w; o->to = (uint32_t)g;
                q->w = w; q->to = (uint32_t)h;
            }
        });
    }
    /* longest path from each start to the end, latest start first */
    for (size_t i = 0; i < n; i++) { ord[i].k = s->start_cyc[i]; ord[i].i = (uint32_t)i; lp[i] = s->cycles[i]; }
    qsort(ord, n, sizeof *ord, cmp_key);
    for (size_t q = n; q > 0; q--) {
        size_t i = ord[q - 1].i;
        FOR_PREDS(x, i, j, cc, { if (cc + lp[i] > lp[j]) lp[j] = cc + lp[i]; });
    }
    for (size_t g = 0; g < ng; g++) { x->key_start[g] = x->g_start[g]; x->key_crit[g] = INT64_MAX; }
    for (size_t i = 0; i < n; i++) {
        size_t g = x->grp[i];
        int64_t v = makespan - lp[i] - (s->start_cyc[i] - x->g_start[g]);
        if (v < x->key_crit[g]) x->key_crit[g] = v;
    }
    rc = 0;
out:
    free(lp); free(ord);
    return rc;
}

/* The strongly connected sets of groups through the out-edges (iterative
** Tarjan), each with its groups and its instructions. */
static int group_sccs(ctx *x)
{
    size_t ng = x->ng, n = x->s->n;
    const uint32_t NONE = UINT32_MAX;
    uint32_t *idx = malloc((ng ? ng : 1) * sizeof *idx), *low = malloc((ng ? ng : 1) * sizeof *low);
    uint32_t *stk = malloc((ng ? ng : 1) * sizeof *stk), *cs = malloc((ng ? ng : 1) * sizeof *cs);
    size_t *cpos = malloc((ng ? ng : 1) * sizeof *cpos);
    unsigned char *on = calloc(ng ? ng : 1, 1);
    x->scc = malloc((ng ? ng : 1) * sizeof *x->scc);
    int rc = -1;
    if (!idx || !low || !stk || !cs || !cpos || !on || !x->scc) goto out;
    for (size_t g = 0; g < ng; g++) idx[g] = NONE;
    uint32_t counter = 0, nc = 0;
    size_t sp = 0, csp = 0;
    for (size_t root = 0; root < ng; root++) {
        if (idx[root] != NONE) continue;
        cs[csp] = (uint32_t)root; cpos[csp++] = x->eo_off[root];
        idx[root] = low[root] = counter++;
        stk[sp++] = (uint32_t)root; on[root] = 1;
        while (csp) {
            uint32_t v = cs[csp - 1];
            if (cpos[csp - 1] < x->eo_off[v + 1]) {
                uint32_t w = x->eo[cpos[csp - 1]++].to;
                if (idx[w] == NONE) {
                    idx[w] = low[w] = counter++;
                    stk[sp++] = w; on[w] = 1;
                    cs[csp] = w; cpos[csp++] = x->eo_off[w];
                } else if (on[w] && idx[w] < low[v]) low[v] = idx[w];
                continue;
            }
            if (low[v] == idx[v]) {
                uint32_t w;
                do { w = stk[--sp]; on[w] = 0; x->scc[w] = nc; } while (w != v);
                nc++;
            }
            csp--;
            if (csp) { uint32_t u = cs[csp - 1]; if (low[v] < low[u]) low[u] = low[v]; }
        }
    }
    x->n_scc = nc;
    x->sc_goff = calloc(nc + 2, sizeof *x->sc_goff);
    x->sc_ioff = calloc(nc + 2, sizeof *x->sc_ioff);
    x->sc_grp = malloc((ng ? ng : 1) * sizeof *x->sc_grp);
    x->sc_ins = malloc((n ? n : 1) * sizeof *x->sc_ins);
    x->rigid = malloc(nc ? nc : 1);
    x->ev = malloc(ng ? ng : 1);
    if (!x->sc_goff || !x->sc_ioff || !x->sc_grp || !x->sc_ins || !x->rigid || !x->ev) goto out;
    for (size_t g = 0; g < ng; g++) x->sc_goff[x->scc[g] + 2]++;
    for (size_t i = 0; i < n; i++) x->sc_ioff[x->scc[x->grp[i]] + 2]++;
    for (size_t c = 0; c < nc; c++) { x->sc_goff[c + 2] += x->sc_goff[c + 1]; x->sc_ioff[c + 2] += x->sc_ioff[c + 1]; }
    for (size_t g = 0; g < ng; g++) x->sc_grp[x->sc_goff[x->scc[g] + 1]++] = (uint32_t)g;
    for (size_t i = 0; i < n; i++) x->sc_ins[x->sc_ioff[x->scc[x->grp[i]] + 1]++] = (uint32_t)i;
    rc = 0;
out:
    free(idx); free(low); free(stk); free(cs); free(cpos); free(on);
    return rc;
}

int budget_groups(ctx *x, int64_t makespan)
{
    size_t ng;
    if (unit_order(x) || exact_groups(x) || edges_and_keys(x, makespan) || group_sccs(x)) return -1;
    ng = x->ng ? x->ng : 1;
    x->d = calloc(ng, sizeof *x->d);
    x->lo = malloc(ng * sizeof *x->lo);
    x->ready = malloc(ng * sizeof *x->ready);
    x->placed = malloc(ng);
    x->inq = malloc(ng);
    x->rk = malloc(ng * sizeof *x->rk);
    return x->d && x->lo && x->ready && x->placed && x->inq && x->rk ? 0 : -1;
}

/* ---- a pass ------------------------------------------------------------------ */

typedef struct heap { by_key *v; size_t n, cap; } heap;

static int heap_push(heap *h, int64_t k, uint32_t i)
{
    if (h->n == h->cap) {
        size_t c = h->cap ? 2 * h->cap : 1024;
        by_key *v = realloc(h->v, c * sizeof *v);
        if (!v) return -1;
        h->v = v;
        h->cap = c;
    }
    size_t c = h->n++;
    h->v[c].k = k; h->v[c].i = i;
    while (c > 0) {
        size_t p = (c - 1) / 2;
        if (cmp_key(&h->v[p], &h->v[c]) <= 0) break;
        by_key t = h->v[p]; h->v[p] = h->v[c]; h->v[c] = t;
        c = p;
    }
    return 0;
}

static uint32_t heap_pop(heap *h)
{
    uint32_t top = h->v[0].i;
    h->v[0] = h->v[--h->n];
    size_t c = 0;
    for (;;) {
        size_t l = 2 * c + 1, r = l + 1, m = c;
        if (l < h->n && cmp_key(&h->v[l], &h->v[m]) < 0) m = l;
        if (r < h->n && cmp_key(&h->v[r], &h->v[m]) < 0) m = r;
        if (m == c) break;
        by_key t = h->v[m]; h->v[m] = h->v[c]; h->v[c] = t;
        c = m;
    }
    return top;
}

/* Does the edge a -> b hold b back until a is placed? Always between two
** strongly connected sets (their condensation is acyclic); inside one set
** only when a comes first in the pass's order (rk, then index). */
static int waits(const ctx *x, size_t a, size_t b)
{
    if (x->scc[a] != x->scc[b]) return 1;
    return x->rk[a] < x->rk[b] || (x->rk[a] == x->rk[b] && a < b);
}

/* BODY for each edge of g in the out-lists (out != 0: K the target) or the
** in-lists (out == 0: K the source), Wt its weight. */
#define FOR_EDGES(x, out, g, K, Wt, ...)                                                       \
    do {                                                                                       \
        const size_t *off_ = (out) ? (x)->eo_off : (x)->ei_off;                                \
        const gedge *ed_ = (out) ? (x)->eo : (x)->ei;                                          \
        for (size_t e_ = off_[g]; e_ < off_[(g) + 1]; e_++) {                                  \
            size_t K = ed_[e_].to;                                                             \
            int64_t Wt = ed_[e_].w;                                                            \
            __VA_ARGS__                                                                        \
        }                                                                                      \
    } while (0)
/* In y = dir x d: the y-out-edges of g (y_K >= y_g + Wt) are its out-list
** forward and its in-list backward; the y-in-edges the other way round. */
#define FOR_YOUT(x, dir, g, K, Wt, ...) FOR_EDGES(x, (dir) > 0, g, K, Wt, __VA_ARGS__)
#define FOR_YIN(x, dir, g, K, Wt, ...) FOR_EDGES(x, (dir) < 0, g, K, Wt, __VA_ARGS__)

static lane *lane_of(ctx *x, size_t g) { return &x->lanes[x->s->chip[x->g_mem[x->g_off[g]]]]; }

/* Takes placed group k out again (its y is below need): profile off its
** lanes, lo raised to need, its successors in the order not ready. */
/* Takes placed group k's profile off its lanes; its successors in the
** order are not ready any more. */
static int unplace(ctx *x, int dir, size_t k)
{
    if (group_profile(x, k, x->d[k]) || commit(x, lane_of(x, k), -1.0)) return -1;
    x->placed[k] = 0;
    FOR_YOUT(x, dir, k, m, w, { (void)w; if (waits(x, k, m)) x->ready[m]++; });
    return 0;
}

#define RIGID_AFTER 8   /* evictions of one group before its set moves whole */

static int evict(ctx *x, int dir, size_t k, int64_t need, const int64_t *prio, heap *h)
{
    if (unplace(x, dir, k)) return -1;
    x->lo[k] = need;
    x->evictions++;
    if (x->ev[k] < 255 && ++x->ev[k] > RIGID_AFTER && !x->rigid[x->scc[k]]) x->rigid[x->scc[k]] = 1;
    if (!x->ready[k] && !x->inq[k]) {
        x->inq[k] = 1;
        if (heap_push(h, prio[k], (uint32_t)k)) return -1;
    }
    return 0;
}

static void progress(ctx *x)
{
    x->placements++;
    const budget_spec *sp = x->sp;
    if (!sp->progress || !x->work) return;
    size_t step = x->work / 200 + 1;
    if (x->placements % step == 0) {
        double f = (double)x->placements / (double)x->work;
        sp->progress(sp->progress_arg, f < 1 ? f : 1);
    }
}

/* A forward pass's least delay of group g: 0, or sampling's drawn one (x->lo0). */
static int64_t fwd_lo(const ctx *x, size_t g) { return x->lo0 ? x->lo0[g] : 0; }

/* One pass (see the top of the file). dir +1: forward from lo = 0 (or
** x->lo0, sampling's drawn least delays), order rk = key_start (or x->rk0,
** sampling's perturbed order), priority prio; the delays land in x->d. dir -1: backward
** against makespan mk from the schedule in x->d (groups latest-finishing
** first; x->d is overwritten with the backward delays). stop_cyc bounds how
** far one placement searches. Returns 0, 1 when a backward placement finds
** no room before time 0 (the pass is abandoned), -1 when out of memory.
** Sets x->relaxed when some group was placed without its budget. */
int budget_pass(ctx *x, int dir, const int64_t *prio, int64_t mk, int64_t stop_cyc, size_t evict_cap)
{
    size_t ng = x->ng;
    heap h = {NULL, 0, 0};
    int rc = -1;
    budget_lanes_clear(x);
    x->lane_end = 0;
    x->evictions = 0;
    x->relaxed = 0;
    x->base = dir > 0 ? 0 : mk;
    int64_t *pr = dir > 0 ? (int64_t *)(uintptr_t)prio : x->rk;
    for (size_t g = 0; g < ng; g++) {
        if (dir > 0) {
            x->rk[g] = x->rk0 ? x->rk0[g] : x->key_start[g];
            x->lo[g] = fwd_lo(x, g);
        } else {
            x->rk[g] = -(x->g_end[g] + x->d[g]);
            x->lo[g] = x->g_end[g] - mk;   /* -d >= end - mk: the group ends by mk */
        }
        x->ready[g] = 0;
        x->placed[g] = 0;
        x->inq[g] = 0;
        x->ev[g] = 0;
    }
    memset(x->rigid, 0, x->n_scc ? x->n_scc : 1);
    for (size_t g = 0; g < ng; g++)
        FOR_YOUT(x, dir, g, k, w, { (void)w; if (waits(x, g, k)) x->ready[k]++; });
    for (size_t g = 0; g < ng; g++)
        if (!x->ready[g]) {
            x->inq[g] = 1;
            if (heap_push(&h, pr[g], (uint32_t)g)) goto out;
        }
    while (h.n) {
        size_t g = heap_pop(&h);
        x->inq[g] = 0;
        if (x->placed[g] || x->ready[g]) continue;
        if (x->evictions > evict_cap && dir < 0) { rc = 1; goto out; }   /* no use relaxed: abandon */
        /* what moves: group g, or its whole set once that set went rigid */
        size_t c = x->scc[g];
        int whole = x->rigid[c] == 1 && x->sc_goff[c + 1] - x->sc_goff[c] > 1;
        piece pc = group_piece(x, g);
        int64_t y0 = x->lo[g];
        if (whole) {
            pc = (piece){ng + c, x->sc_ins + x->sc_ioff[c], x->sc_ioff[c + 1] - x->sc_ioff[c]};
            /* its groups' least y from the placed groups outside it (the
            ** pushes from inside are void: the set keeps its own shape) */
            y0 = dir > 0 ? 0 : INT64_MIN;
            for (size_t q = x->sc_goff[c]; q < x->sc_goff[c + 1]; q++) {
                size_t u = x->sc_grp[q];
                if (x->placed[u] && unplace(x, dir, u)) goto out;
                int64_t lu = dir > 0 ? fwd_lo(x, u) : x->g_end[u] - mk;
                FOR_YIN(x, dir, u, hsrc, w, {
                    if (x->scc[hsrc] != c && x->placed[hsrc] && dir * x->d[hsrc] + w > lu) lu = dir * x->d[hsrc] + w;
                });
                x->lo[u] = lu;
                if (lu > y0) y0 = lu;
            }
        }
        lane *L = lane_of(x, g);
        int64_t d = dir * y0;
        int p = 1;
        if (x->evictions <= evict_cap) {
            /* forward, a piece that has not fit by the time it lies wholly
            ** past everything placed (and the phases and tails after it)
            ** fits nowhere */
            int64_t stop = -mk;
            if (dir > 0) {
                int64_t first = INT64_MAX;
                for (size_t k = 0; k < pc.m; k++)
                    if (x->s->start_cyc[pc.mem[k]] < first) first = x->s->start_cyc[pc.mem[k]];
                stop = (x->lane_end > first ? x->lane_end - first : 0) + x->tail_cyc;
                if (stop < d) stop = d;
                if (stop > d + stop_cyc) stop = d + stop_cyc;
            }
            p = place(x, &pc, L, &d, dir, stop);
            if (p < 0) goto out;
            if (p && dir < 0) { rc = 1; goto out; }
            if (p && whole) {   /* the set does not fit whole: back to its groups one by one */
                x->rigid[c] = 2;
                for (size_t q = x->sc_goff[c]; q < x->sc_goff[c + 1]; q++) {
                    size_t u = x->sc_grp[q];
                    if (!x->ready[u] && !x->inq[u]) {
                        x->inq[u] = 1;
                        if (heap_push(&h, pr[u], (uint32_t)u)) goto out;
                    }
                }
                continue;
            }
        }
        if (p) {   /* placed without its budget: at its least delay */
            x->relaxed = 1;
            d = dir * y0;
            if (piece_profile(x, &pc, d)) goto out;
        }
        if (commit(x, L, 1.0)) goto out;
        for (size_t k = 0; k < pc.m; k++) {
            size_t i = pc.mem[k];
            if (x->s->start_cyc[i] + x->s->cycles[i] + d > x->lane_end) x->lane_end = x->s->start_cyc[i] + x->s->cycles[i] + d;
        }
        int64_t y = dir * d;
        size_t q0 = whole ? x->sc_goff[c] : 0, q1 = whole ? x->sc_goff[c + 1] : 1;
        for (size_t q = q0; q < q1; q++) {
            size_t u = whole ? x->sc_grp[q] : g;
            x->placed[u] = 1;
            x->d[u] = d;
            progress(x);
        }
        for (size_t q = q0; q < q1; q++) {
            size_t u = whole ? x->sc_grp[q] : g;
            FOR_YOUT(x, dir, u, k, w, {
                int64_t need = y + w;
                if (whole && x->scc[k] == c) {
                    /* inside the set: its shape keeps the constraint */
                } else if (x->placed[k]) {
                    if (dir * x->d[k] < need && evict(x, dir, k, need, pr, &h)) goto out;
                } else if (x->lo[k] < need) x->lo[k] = need;
                if (waits(x, u, k) && --x->ready[k] == 0 && !x->placed[k] && !x->inq[k]) {
                    x->inq[k] = 1;
                    if (heap_push(&h, pr[k], (uint32_t)k)) goto out;
                }
            });
        }
    }
    rc = 0;
    for (size_t g = 0; g < ng; g++)
        if (!x->placed[g]) rc = -2;   /* cannot happen: the order's edges form a DAG */
out:
    x->base = 0;
    free(h.v);
    return rc;
}
