/* budget.c -- re-timing to a power, dI/dt or droop budget: a list scheduler
** over time-indexed profiles.
**
** Blocks. Instructions tied by exact lags must move together; so must any
** set whose constraints form a cycle once blocks are rigid. The blocks are
** the strongly connected components (iterative Tarjan) of the graph with an
** edge j -> i for every dep, i -> j as well for an exact dep, and p -> i from
** each instruction to the next on its unit. Moving a whole component by one
** delay keeps all constraints inside it (they held at delay 0), so the
** condensation is a DAG of blocks with difference constraints between them.
**
** Scheduler (serial list scheduling). Blocks are taken in a topological
** order (Kahn) that prefers the original start or the latest start (longest
** path to the end: the critical path); each is placed at the smallest delay
** >= its earliest start (from the blocks already placed) at which the
** chip's profiles keep every budget. Per chip the profiles are arrays over
** bins: ops power (with a Fenwick tree for window sums when the window is
** long), each rail's ops current (dI/dt), each rail's droop through the
** first Kt taps of the PDN kernel (droop). A block's exact per-bin profile
** comes from integrals of its trapezoids (the current model of DESIGN.md),
** so a check costs O(block bins + window), never a re-analysis. A power
** violation in window a jumps by bisection to the first delay at which the
** block's share of that window fits (exact for one instruction: the share
** of a trapezoid in a window is unimodal in the delay); dI/dt and droop
** violations step forward (a power violation takes the furthest jump of
** three broken windows: first, last, most broken).
**
** Under a power cap, forward-backward passes follow (schedule_back): the
** blocks right-justified against the best makespan, then packed forward
** again in that order; kept when shorter (docs/budgets.md).
**
** Lower bound: original makespan, critical path, unit busy time, energy and
** the packing bound (dual feasible functions u^(k) over every sliding window,
** least over every placement of each block; docs/budgets.md).
**
** Idle power is a constant per bin (an upper bound: the analyzer's last bin
** may be partial), so the cap on ops power is cap - P_idle. The droop check
** uses the truncated kernel; the tail is taken into account by a margin,
** and the final schedule is re-analyzed in full (budget_analyze): if the
** droop still breaks the guardband, the margin grows by the excess and the
** schedule is rebuilt (a few rounds at most).
**
** Sizes: O(n + deps) for the graph, O(bins x (1 + rails)) per chip for the
** profiles; 10^6 instructions re-time in a few seconds. */
#include "budget.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glpk.h>

#include "current.h"
#include "pdn.h"

#define FEN_MIN_W 48      /* windows longer than this use the Fenwick tree */
#define KT_MAX 256        /* kernel taps used by the droop check */
#define ROUNDS 8          /* re-analysis rounds for the droop margin */
#define DFF_K 6           /* packing bound: u^(k) for k = 1..DFF_K */
#define LP_GRID 500       /* packing bound, LP: item shares rounded down to 1/LP_GRID */
#define LP_SMALL 25       /* ... those below LP_SMALL/LP_GRID count by their share alone */
#define LP_ROUNDS 400     /* ... configurations added to the LP, at most */
#define FB_PASSES 4       /* forward-backward improvement passes, at most */
#define ORDER_FB 100      /* schedule(): the order of the last backward pass */

typedef struct lane {     /* one chip's profiles; bins past nb are zero */
    size_t nb;
    double *pw;           /* [nb] ops power (W) per bin */
    double *fw;           /* [nb + 1] Fenwick over pw, or NULL */
    double *ra;           /* [nr][nb] ops current per rail (A), or NULL */
    double *vd;           /* [nr][nb] truncated droop per rail (V), or NULL */
} lane;

typedef struct ctx {
    const sio_chip *c;
    const sio_schedule *s;
    double T, bin;
    size_t nr, nch, n;
    int use_pw, use_didt, use_droop, use_fen;
    size_t W;             /* window in bins */
    double B;             /* budget of a window sum of ops power */
    double p_idle_w;      /* idle power of one chip */
    size_t *wd;           /* [nr] dI/dt window in bins */
    double *lim_didt;     /* [nr] A per w bins */
    const double **h;     /* [nr] kernels */
    size_t *kt;           /* [nr] taps used */
    double *z0_idle_v;    /* [nr] steady idle droop */
    double *margin_v;     /* [nr] allowance for the kernel's tail */
    double *lim_droop;    /* [nr] limit on the truncated ops droop */
    double *idle_a;       /* [nr] */
    /* blocks */
    size_t ng;
    uint32_t *grp;        /* [n] block of each instruction */
    size_t *g_off;        /* [ng + 1] */
    uint32_t *g_mem;      /* [n] members by block */
    size_t *s_off;        /* [ng + 1] successors of each block (with repeats) */
    uint32_t *s_list;
    size_t *indeg0;       /* [ng] */
    uint32_t *uprev;      /* [n] previous instruction on the unit, or UINT32_MAX */
    double *key_start, *key_crit;
    double *key_fb;       /* [ng] start of each block in the last backward pass */
    /* placement */
    int64_t *d;           /* [ng] delay of each block */
    int64_t base;         /* cycles added to every start in the profiles (the backward pass) */
    lane *lanes;          /* [nch] */
    double *gp, *gr, *gv; /* scratch: block power, rail currents, droop */
    size_t gcap;
    size_t LB, RB;        /* the block's bins in scratch */
    sio_error *err;
} ctx;

static size_t bin_of(const ctx *x, double t)
{
    double b = floor(t / x->bin);
    return b < 0 ? 0 : (size_t)b;
}

/* ---- profiles ------------------------------------------------------------ */

static int grow(ctx *x, size_t want)
{
    if (want <= x->gcap) return 0;
    size_t c = x->gcap ? x->gcap : 256;
    while (c < want) c *= 2;
    double *a = realloc(x->gp, c * sizeof *a);
    if (!a) return -1;
    x->gp = a;
    a = realloc(x->gr, c * (x->nr ? x->nr : 1) * sizeof *a);
    if (!a) return -1;
    x->gr = a;
    a = realloc(x->gv, c * sizeof *a);
    if (!a) return -1;
    x->gv = a;
    x->gcap = c;
    return 0;
}

/* Builds block g's per-bin profile at delay d into gp / gr (span bins from
** x->LB). */
/* The exact per-bin profile of the m instructions mem[] moved by d into the
** scratch arrays (bins LB..RB). */
static int members_profile(ctx *x, const uint32_t *mem, size_t m, int64_t d)
{
    size_t LB = SIZE_MAX, RB = 0;
    for (size_t k = 0; k < m; k++) {
        size_t i = mem[k];
        int64_t st = x->s->start_cyc[i] + d + x->base;
        size_t lb = bin_of(x, (double)st * x->T), rb = bin_of(x, (double)(st + x->s->cycles[i]) * x->T);
        if (lb < LB) LB = lb;
        if (rb > RB) RB = rb;
    }
    size_t span = RB - LB + 1;
    if (grow(x, span)) return -1;
    memset(x->gp, 0, span * sizeof *x->gp);
    memset(x->gr, 0, span * x->nr * sizeof *x->gr);
    for (size_t k = 0; k < m; k++) {
        size_t i = mem[k];
        int64_t st = x->s->start_cyc[i] + d + x->base;
        if (x->c->ops[x->s->op[i]].current_a * x->s->activity[i] == 0.0) continue;
        size_t r = x->c->units[x->s->unit[i]].rail;
        double vdd = x->c->rails[r].vdd_v;
        size_t lb = bin_of(x, (double)st * x->T), rb = bin_of(x, (double)(st + x->s->cycles[i]) * x->T);
        double prev = current_op_charge_before(x->c, x->s, i, st, (double)lb * x->bin);
        for (size_t b = lb; b <= rb; b++) {
            double nx = current_op_charge_before(x->c, x->s, i, st, (double)(b + 1) * x->bin);
            double a = (nx - prev) / x->bin;
            prev = nx;
            x->gp[b - LB] += vdd * a;
            x->gr[r * span + b - LB] += a;
        }
    }
    x->LB = LB;
    x->RB = RB;
    return 0;
}

static int block_profile(ctx *x, size_t g, int64_t d)
{
    return members_profile(x, x->g_mem + x->g_off[g], x->g_off[g + 1] - x->g_off[g], d);
}

static void fen_add(double *f, size_t nb, size_t b, double v)
{
    for (size_t k = b + 1; k <= nb; k += k & (~k + 1)) f[k] += v;
}

static double fen_prefix(const double *f, size_t nb, size_t b)   /* sum of bins [0, b) */
{
    if (b > nb) b = nb;
    double s = 0;
    for (size_t k = b; k > 0; k -= k & (~k + 1)) s += f[k];
    return s;
}

static int lane_grow(ctx *x, lane *L, size_t want)
{
    if (want <= L->nb) return 0;
    size_t nb = L->nb ? L->nb : 1024;
    while (nb < want) nb *= 2;
    size_t nr = x->nr, old = L->nb;
    if (x->use_pw) {
        double *p = realloc(L->pw, nb * sizeof *p);
        if (!p) return -1;
        L->pw = p;
        memset(p + old, 0, (nb - old) * sizeof *p);
        if (x->use_fen) {
            free(L->fw);
            L->fw = calloc(nb + 1, sizeof *L->fw);
            if (!L->fw) return -1;
            for (size_t b = 0; b < old; b++)   /* O(nb) rebuild */
                L->fw[b + 1] += p[b];
            for (size_t k = 1; k <= nb; k++) {
                size_t up = k + (k & (~k + 1));
                if (up <= nb) L->fw[up] += L->fw[k];
            }
        }
    }
    double **arrs[2] = {x->use_didt || x->use_droop ? &L->ra : NULL, x->use_droop ? &L->vd : NULL};
    for (int a = 0; a < 2; a++) {
        if (!arrs[a]) continue;
        double *p = calloc(nb * (nr ? nr : 1), sizeof *p);
        if (!p) return -1;
        for (size_t r = 0; r < nr && *arrs[a]; r++) memcpy(p + r * nb, *arrs[a] + r * old, old * sizeof *p);
        free(*arrs[a]);
        *arrs[a] = p;
    }
    L->nb = nb;
    return 0;
}

static void lane_free(lane *L)
{
    free(L->pw); free(L->fw); free(L->ra); free(L->vd);
    memset(L, 0, sizeof *L);
}

static double lane_pw(const lane *L, size_t b) { return L && b < L->nb ? L->pw[b] : 0.0; }

static double lane_wsum(const ctx *x, const lane *L, size_t a)
{
    if (!L) return 0.0;
    if (L->fw) return fen_prefix(L->fw, L->nb, a + x->W) - fen_prefix(L->fw, L->nb, a);
    double s = 0;
    for (size_t b = a; b < a + x->W && b < L->nb; b++) s += L->pw[b];
    return s;
}

/* ---- the checks ---------------------------------------------------------- */

enum { OK = 0, V_POWER = 1, V_DIDT = 2, V_DROOP = 3 };

/* Checks the block whose profile is in scratch against lane L (NULL: an
** empty chip). On V_POWER sets va[0..2] to the first window broken, the last
** one and the one broken by the most, vws[0..2] to the lane's sums over
** them. *worst gets the largest window sum of the block plus lane seen (for
** messages). */
static int check(const ctx *x, const lane *L, size_t va[3], double vws[3], double *worst)
{
    const size_t LB = x->LB, RB = x->RB, span = RB - LB + 1;
    int res = OK;
    *worst = 0;
    if (x->use_pw) {
        const size_t W = x->W;
        size_t a0 = LB + 1 >= W ? LB + 1 - W : 0;
        double ws = lane_wsum(x, L, a0), wg = 0, most = 0;
        for (size_t b = a0 > LB ? a0 : LB; b < a0 + W && b <= RB; b++) wg += x->gp[b - LB];
        for (size_t a = a0; a <= RB; a++) {
            if (ws + wg > *worst) *worst = ws + wg;
            if (ws + wg > x->B) {
                if (!res) { va[0] = a; vws[0] = ws; }
                res = V_POWER;
                va[1] = a; vws[1] = ws;
                if (ws + wg - x->B > most) { most = ws + wg - x->B; va[2] = a; vws[2] = ws; }
            }
            size_t e = a + W;
            ws += lane_pw(L, e) - lane_pw(L, a);
            wg += (e <= RB ? x->gp[e - LB] : 0.0) - (a >= LB ? x->gp[a - LB] : 0.0);
        }
        if (res) return res;
    }
    for (size_t r = 0; r < x->nr && (x->use_didt || x->use_droop); r++) {
        const double *g = x->gr + r * span;
        const double *ra = L ? L->ra + r * L->nb : NULL;
        if (x->use_didt) {
            size_t w = x->wd[r];
            for (size_t k = LB; k <= RB + w; k++) {
                double cur = (ra && k < L->nb ? ra[k] : 0.0) + (k <= RB ? g[k - LB] : 0.0);
                double prev = 0;
                if (k >= w) {
                    size_t j = k - w;
                    prev = (ra && j < L->nb ? ra[j] : 0.0) + (j >= LB && j <= RB ? g[j - LB] : 0.0);
                }
                if (fabs(cur - prev) > x->lim_didt[r]) return V_DIDT;
            }
        }
        if (x->use_droop) {
            const double *h = x->h[r], *vd = L ? L->vd + r * L->nb : NULL;
            size_t kt = x->kt[r];
            for (size_t nn = LB; nn < RB + kt; nn++) {
                size_t m0 = nn > RB ? nn - RB : 0, m1 = nn - LB < kt - 1 ? nn - LB : kt - 1;
                double v = 0;
                for (size_t m = m0; m <= m1; m++) v += h[m] * g[nn - m - LB];
                if (vd && nn < L->nb) v += vd[nn];
                if (v > x->lim_droop[r]) return V_DROOP;
            }
        }
    }
    return res;
}

/* Adds the block in scratch to lane L (grown beforehand). */
static void commit(ctx *x, lane *L)
{
    const size_t LB = x->LB, RB = x->RB, span = RB - LB + 1;
    if (x->use_pw)
        for (size_t b = LB; b <= RB; b++) {
            L->pw[b] += x->gp[b - LB];
            if (L->fw) fen_add(L->fw, L->nb, b, x->gp[b - LB]);
        }
    for (size_t r = 0; r < x->nr && (x->use_didt || x->use_droop); r++) {
        const double *g = x->gr + r * span;
        double *ra = L->ra + r * L->nb;
        for (size_t b = LB; b <= RB; b++) ra[b] += g[b - LB];
        if (x->use_droop) {
            const double *h = x->h[r];
            double *vd = L->vd + r * L->nb;
            size_t kt = x->kt[r];
            for (size_t nn = LB; nn < RB + kt; nn++) {
                size_t m0 = nn > RB ? nn - RB : 0, m1 = nn - LB < kt - 1 ? nn - LB : kt - 1;
                double v = 0;
                for (size_t m = m0; m <= m1; m++) v += h[m] * g[nn - m - LB];
                vd[nn] += v;
            }
        }
    }
}

/* The block's share (sum of bin powers) of window a at delay d. */
static double share(const ctx *x, size_t g, int64_t d, size_t a)
{
    double lo = (double)a * x->bin, hi = (double)(a + x->W) * x->bin, sum = 0;
    for (size_t k = x->g_off[g]; k < x->g_off[g + 1]; k++) {
        size_t i = x->g_mem[k];
        int64_t st = x->s->start_cyc[i] + d + x->base;
        double vdd = x->c->rails[x->c->units[x->s->unit[i]].rail].vdd_v;
        sum += vdd * (current_op_charge_before(x->c, x->s, i, st, hi) - current_op_charge_before(x->c, x->s, i, st, lo)) /
               x->bin;
    }
    return sum;
}

/* Bisection between a delay `bad` at which block g's share of window a
** breaks limit and one, `good`, at which it fits (either side of the
** other): the fitting delay nearest to bad. */
static int64_t bisect_fit(const ctx *x, size_t g, size_t a, double limit, int64_t bad, int64_t good)
{
    while (good - bad > 1 || bad - good > 1) {
        int64_t mid = bad + (good - bad) / 2;
        if (share(x, g, mid, a) <= limit) good = mid;
        else bad = mid;
    }
    return good;
}

/* The first delay > d at which block g's share of window a fits in limit
** (bisection; exact for a single instruction). */
static int64_t jump(const ctx *x, size_t g, int64_t d, size_t a, double limit)
{
    int64_t hi = d + 1;
    double end = (double)(a + x->W) * x->bin;
    for (size_t k = x->g_off[g]; k < x->g_off[g + 1]; k++) {
        size_t i = x->g_mem[k];
        int64_t past = (int64_t)ceil(end / x->T) + 1 - x->s->start_cyc[i];   /* starts after the window */
        if (past > hi) hi = past;
    }
    return bisect_fit(x, g, a, limit, d, hi);
}

/* The last delay < d at which block g's share of window a fits in limit, or
** -base - 1 when none >= -base does (bisection, the mirror of jump). */
static int64_t jump_back(const ctx *x, size_t g, int64_t d, size_t a, double limit)
{
    int64_t lo = d - 1;
    double begin = (double)a * x->bin;
    for (size_t k = x->g_off[g]; k < x->g_off[g + 1]; k++) {
        size_t i = x->g_mem[k];
        int64_t before = (int64_t)floor(begin / x->T) - 1 - x->s->start_cyc[i] - x->s->cycles[i] - x->base;
        if (before < lo) lo = before;
    }
    if (lo < -x->base) {
        if (share(x, g, -x->base, a) > limit) return -x->base - 1;
        lo = -x->base;
    }
    return bisect_fit(x, g, a, limit, d, lo);
}

static size_t lane_need(const ctx *x)
{
    size_t extra = x->W + 2;
    for (size_t r = 0; r < x->nr; r++) {
        if (x->use_didt && x->wd[r] + 2 > extra) extra = x->wd[r] + 2;
        if (x->use_droop && x->kt[r] + 2 > extra) extra = x->kt[r] + 2;
    }
    return x->RB + extra;
}

/* ---- blocks -------------------------------------------------------------- */

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
    size_t *off = calloc(slots + 1, sizeof *off);
    by_key *v = malloc((s->n ? s->n : 1) * sizeof *v);
    x->uprev = malloc((s->n ? s->n : 1) * sizeof *x->uprev);
    if (!off || !v || !x->uprev) { free(off); free(v); return -1; }
    for (size_t i = 0; i < s->n; i++) off[(size_t)s->chip[i] * nu + s->unit[i] + 1]++;
    for (size_t k = 0; k < slots; k++) off[k + 1] += off[k];
    size_t *pos = malloc((slots ? slots : 1) * sizeof *pos);
    if (!pos) { free(off); free(v); return -1; }
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

/* Strongly connected components (iterative Tarjan) of the constraint graph. */
static int blocks(ctx *x)
{
    const sio_schedule *s = x->s;
    size_t n = s->n;
    size_t *eo = calloc(n + 2, sizeof *eo);
    if (!eo) return -1;
    for (size_t i = 0; i < n; i++) {
        for (size_t e = s->dep_off[i]; e < s->dep_off[i + 1]; e++) {
            eo[s->dep_src[e] + 1]++;
            if (s->dep_kind[e] == SIO_DEP_EXACT) eo[i + 1]++;
        }
        if (x->uprev[i] != UINT32_MAX) eo[x->uprev[i] + 1]++;
    }
    for (size_t i = 0; i < n; i++) eo[i + 1] += eo[i];
    size_t ne = eo[n];
    uint32_t *ed = malloc((ne ? ne : 1) * sizeof *ed);
    size_t *fill = malloc((n ? n : 1) * sizeof *fill);
    uint32_t *idx = malloc((n ? n : 1) * sizeof *idx), *low = malloc((n ? n : 1) * sizeof *low);
    uint32_t *stk = malloc((n ? n : 1) * sizeof *stk), *cs = malloc((n ? n : 1) * sizeof *cs);
    size_t *cpos = malloc((n ? n : 1) * sizeof *cpos);
    unsigned char *on = calloc(n ? n : 1, 1);
    x->grp = malloc((n ? n : 1) * sizeof *x->grp);
    int rc = -1;
    if (!ed || !fill || !idx || !low || !stk || !cs || !cpos || !on || !x->grp) goto out;
    memcpy(fill, eo, n * sizeof *fill);
    for (size_t i = 0; i < n; i++) {
        for (size_t e = s->dep_off[i]; e < s->dep_off[i + 1]; e++) {
            ed[fill[s->dep_src[e]]++] = (uint32_t)i;
            if (s->dep_kind[e] == SIO_DEP_EXACT) ed[fill[i]++] = s->dep_src[e];
        }
        if (x->uprev[i] != UINT32_MAX) ed[fill[x->uprev[i]]++] = (uint32_t)i;
    }
    const uint32_t NONE = UINT32_MAX;
    for (size_t i = 0; i < n; i++) idx[i] = NONE;
    uint32_t counter = 0, ng = 0;
    size_t sp = 0, csp = 0;
    for (size_t root = 0; root < n; root++) {
        if (idx[root] != NONE) continue;
        cs[csp] = (uint32_t)root; cpos[csp++] = eo[root];
        idx[root] = low[root] = counter++;
        stk[sp++] = (uint32_t)root; on[root] = 1;
        while (csp) {
            uint32_t v = cs[csp - 1];
            if (cpos[csp - 1] < eo[v + 1]) {
                uint32_t w = ed[cpos[csp - 1]++];
                if (idx[w] == NONE) {
                    idx[w] = low[w] = counter++;
                    stk[sp++] = w; on[w] = 1;
                    cs[csp] = w; cpos[csp++] = eo[w];
                } else if (on[w] && idx[w] < low[v]) low[v] = idx[w];
                continue;
            }
            if (low[v] == idx[v]) {
                uint32_t w;
                do { w = stk[--sp]; on[w] = 0; x->grp[w] = ng; } while (w != v);
                ng++;
            }
            csp--;
            if (csp) { uint32_t u = cs[csp - 1]; if (low[v] < low[u]) low[u] = low[v]; }
        }
    }
    x->ng = ng;
    x->g_off = calloc(ng + 1, sizeof *x->g_off);
    x->g_mem = malloc((n ? n : 1) * sizeof *x->g_mem);
    if (!x->g_off || !x->g_mem) goto out;
    for (size_t i = 0; i < n; i++) x->g_off[x->grp[i] + 1]++;
    for (size_t g = 0; g < ng; g++) x->g_off[g + 1] += x->g_off[g];
    memcpy(fill, x->g_off, ng * sizeof *fill);
    for (size_t i = 0; i < n; i++) x->g_mem[fill[x->grp[i]]++] = (uint32_t)i;
    rc = 0;
out:
    free(eo); free(ed); free(fill); free(idx); free(low); free(stk); free(cs); free(cpos); free(on);
    return rc;
}

/* The constraints into instruction i from other blocks: calls fn for each
** (source j, separation c: start_i >= start_j + c). */
#define FOR_PREDS(x, i, J, C, BODY)                                                          \
    do {                                                                                     \
        const sio_schedule *s_ = (x)->s;                                                     \
        for (size_t e_ = s_->dep_off[i]; e_ < s_->dep_off[(i) + 1]; e_++) {                 \
            size_t J = s_->dep_src[e_];                                                      \
            int64_t C = s_->dep_kind[e_] == SIO_DEP_END ? s_->cycles[J] : s_->dep_lag[e_];   \
            BODY                                                                             \
        }                                                                                    \
        if ((x)->uprev[i] != UINT32_MAX) {                                                   \
            size_t J = (x)->uprev[i];                                                        \
            int64_t C = s_->cycles[J];                                                       \
            BODY                                                                             \
        }                                                                                    \
    } while (0)

static int block_dag(ctx *x, int64_t makespan)
{
    const sio_schedule *s = x->s;
    size_t ng = x->ng, n = s->n;
    x->s_off = calloc(ng + 2, sizeof *x->s_off);
    x->indeg0 = calloc(ng ? ng : 1, sizeof *x->indeg0);
    x->key_start = malloc((ng ? ng : 1) * sizeof(double));
    x->key_crit = malloc((ng ? ng : 1) * sizeof(double));
    int64_t *lp = malloc((n ? n : 1) * sizeof *lp);
    by_key *ord = malloc((n ? n : 1) * sizeof *ord);
    if (!x->s_off || !x->indeg0 || !x->key_start || !x->key_crit || !lp || !ord) { free(lp); free(ord); return -1; }
    for (size_t i = 0; i < n; i++) {
        size_t g = x->grp[i];
        FOR_PREDS(x, i, j, cc, { (void)cc; if (x->grp[j] != g) { x->s_off[x->grp[j] + 1]++; x->indeg0[g]++; } });
    }
    for (size_t g = 0; g < ng; g++) x->s_off[g + 1] += x->s_off[g];
    size_t ne = x->s_off[ng];
    x->s_list = malloc((ne ? ne : 1) * sizeof *x->s_list);
    size_t *fill = malloc((ng ? ng : 1) * sizeof *fill);
    if (!x->s_list || !fill) { free(fill); free(lp); free(ord); return -1; }
    memcpy(fill, x->s_off, ng * sizeof *fill);
    for (size_t i = 0; i < n; i++) {
        size_t g = x->grp[i];
        FOR_PREDS(x, i, j, cc, { (void)cc; if (x->grp[j] != g) x->s_list[fill[x->grp[j]]++] = (uint32_t)g; });
    }
    free(fill);
    /* longest path from each start to the end, latest order first */
    for (size_t i = 0; i < n; i++) { ord[i].k = s->start_cyc[i]; ord[i].i = (uint32_t)i; lp[i] = s->cycles[i]; }
    qsort(ord, n, sizeof *ord, cmp_key);
    for (size_t q = n; q > 0; q--) {
        size_t i = ord[q - 1].i;
        FOR_PREDS(x, i, j, cc, { if (cc + lp[i] > lp[j]) lp[j] = cc + lp[i]; });
    }
    for (size_t g = 0; g < ng; g++) {
        int64_t a = INT64_MAX;
        for (size_t k = x->g_off[g]; k < x->g_off[g + 1]; k++)
            if (s->start_cyc[x->g_mem[k]] < a) a = s->start_cyc[x->g_mem[k]];
        double ls = INFINITY;
        for (size_t k = x->g_off[g]; k < x->g_off[g + 1]; k++) {
            size_t i = x->g_mem[k];
            double v = (double)(makespan - lp[i] - (s->start_cyc[i] - a));
            if (v < ls) ls = v;
        }
        x->key_start[g] = (double)a;
        x->key_crit[g] = ls;
    }
    free(lp); free(ord);
    return 0;
}

/* ---- the heap of ready blocks ------------------------------------------- */

typedef struct heap { by_key *v; size_t n; } heap;

static void heap_push(heap *h, int64_t k, uint32_t i)
{
    size_t c = h->n++;
    h->v[c].k = k; h->v[c].i = i;
    while (c > 0) {
        size_t p = (c - 1) / 2;
        if (cmp_key(&h->v[p], &h->v[c]) <= 0) break;
        by_key t = h->v[p]; h->v[p] = h->v[c]; h->v[c] = t;
        c = p;
    }
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

/* ---- infeasibility -------------------------------------------------------- */

static int name_block(ctx *x, size_t g, budget_report *rep, const char *why, double got, double lim,
                      const char *unit)
{
    size_t i = x->g_mem[x->g_off[g]];
    for (size_t k = x->g_off[g]; k < x->g_off[g + 1]; k++)
        if (x->s->line[x->g_mem[k]] < x->s->line[i]) i = x->g_mem[k];
    size_t m = x->g_off[g + 1] - x->g_off[g];
    char tied[96] = "";
    if (m > 1) snprintf(tied, sizeof tied, " (with the %zu instructions that must move with it)", m - 1);
    sio_error_set(x->err, x->s->path, (int)x->s->line[i], 0,
                  "instruction '%s'%s cannot meet the budget: %s %.6g %s, above the budget of %.6g %s",
                  sio_schedule_id(x->s, i), tied, why, got, unit, lim, unit);
    rep->culprit = i;
    return BUDGET_EINFEASIBLE;
}

/* Every block alone, on an idle chip, at the phases of the bins. */
static int alone(ctx *x, budget_report *rep)
{
    int64_t phases = 1;
    for (int64_t p = 1; p <= 1000; p++) {
        double b = (double)p * x->T / x->bin;
        if (fabs(b - round(b)) < 1e-9) { phases = p; break; }
        if (p == 1000) phases = 64;
    }
    for (size_t g = 0; g < x->ng; g++) {
        int res = OK;
        double best = INFINITY;
        for (int64_t ph = 0; ph < phases; ph++) {
            if (block_profile(x, g, ph)) return BUDGET_ENOMEM;
            size_t va[3];
            double vws[3], worst;
            res = check(x, NULL, va, vws, &worst);
            if (worst < best) best = worst;
            if (res == OK) break;
        }
        if (res == V_POWER)
            return name_block(x, g, rep, "with the idle power it draws over the window on average", best / (double)x->W + x->p_idle_w,
                              x->B / (double)x->W + x->p_idle_w, "W");
        if (res == V_DIDT) {
            size_t i = x->g_mem[x->g_off[g]];
            sio_error_set(x->err, x->s->path, (int)x->s->line[i], 0,
                          "instruction '%s' cannot meet the dI/dt budget: alone on an idle chip its own current "
                          "changes faster than the budget", sio_schedule_id(x->s, i));
            rep->culprit = i;
            return BUDGET_EINFEASIBLE;
        }
        if (res == V_DROOP) {
            size_t i = x->g_mem[x->g_off[g]];
            sio_error_set(x->err, x->s->path, (int)x->s->line[i], 0,
                          "instruction '%s' cannot meet the droop budget: alone on an idle chip it droops its rail "
                          "past the guardband (with the steady idle droop)",
                          sio_schedule_id(x->s, i));
            rep->culprit = i;
            return BUDGET_EINFEASIBLE;
        }
    }
    return BUDGET_OK;
}

/* ---- one pass of the scheduler ------------------------------------------- */

/* The nearest delay to *d, going later (dir 1) or earlier (dir -1), at
** which block g keeps every budget on lane L; its profile is then in
** scratch. 0, 1 when none is found before `stop`, -1 when memory runs out.
** Power: every delay between d and a broken window's jump breaks that
** window (exact for one instruction), so it goes to the furthest of the
** jumps; dI/dt and droop step. */
static int place(ctx *x, size_t g, lane *L, int64_t *dp, int dir, int64_t stop)
{
    int64_t d = *dp, step = 1;
    for (;;) {
        if (dir > 0 ? d > stop : d < stop) return 1;
        if (block_profile(x, g, d) || lane_grow(x, L, lane_need(x))) return -1;
        size_t va[3] = {0, 0, 0};
        double vws[3] = {0, 0, 0}, worst;
        int res = check(x, L, va, vws, &worst);
        if (res == OK) break;
        if (res == V_POWER) {
            int64_t nd = d + dir;
            for (int k = 0; k < 3; k++) {
                if (k && va[k] == va[k - 1]) continue;
                int64_t j = dir > 0 ? jump(x, g, d, va[k], x->B - vws[k]) : jump_back(x, g, d, va[k], x->B - vws[k]);
                if (dir > 0 ? j > nd : j < nd) nd = j;
            }
            d = nd;
        } else d += dir * (step++ / 4 + 1);
    }
    *dp = d;
    return 0;
}

static int schedule(ctx *x, int order, int64_t cap_cyc, budget_report *rep)
{
    size_t ng = x->ng;
    size_t *indeg = malloc((ng ? ng : 1) * sizeof *indeg);
    heap h = {malloc((ng ? ng : 1) * sizeof(by_key)), 0};
    int rc = BUDGET_ENOMEM;
    if (!indeg || !h.v) goto out;
    for (size_t k = 0; k < x->nch; k++) lane_free(&x->lanes[k]);
    memcpy(indeg, x->indeg0, ng * sizeof *indeg);
    const double *key = order == BUDGET_ORDER_CRITICAL ? x->key_crit : order == ORDER_FB ? x->key_fb : x->key_start;
    for (size_t g = 0; g < ng; g++) if (!indeg[g]) heap_push(&h, (int64_t)key[g], (uint32_t)g);
    size_t done = 0;
    while (h.n) {
        size_t g = heap_pop(&h);
        int64_t d = 0;
        for (size_t k = x->g_off[g]; k < x->g_off[g + 1]; k++) {
            size_t i = x->g_mem[k];
            FOR_PREDS(x, i, j, cc, {
                if (x->grp[j] != g) {
                    int64_t need = x->s->start_cyc[j] + x->d[x->grp[j]] + cc - x->s->start_cyc[i];
                    if (need > d) d = need;
                }
            });
        }
        lane *L = &x->lanes[x->s->chip[x->g_mem[x->g_off[g]]]];
        int p = place(x, g, L, &d, 1, d + cap_cyc);
        if (p < 0) goto out;
        if (p) {
            rc = name_block(x, g, rep, "no start found within", (double)cap_cyc, (double)cap_cyc, "cycles of delay");
            goto out;
        }
        commit(x, L);
        x->d[g] = d;
        done++;
        for (size_t e = x->s_off[g]; e < x->s_off[g + 1]; e++) {
            uint32_t q = x->s_list[e];
            if (--indeg[q] == 0) heap_push(&h, (int64_t)key[q], q);
        }
    }
    rc = done == ng ? BUDGET_OK : BUDGET_EINTERNAL;
    if (rc) sio_error_set(x->err, x->s->path, 0, 0, "internal: the blocks do not form a DAG");
out:
    if (rc == BUDGET_ENOMEM) sio_error_set(x->err, x->s->path, 0, 0, "out of memory while re-timing");
    free(indeg);
    free(h.v);
    return rc;
}

/* The latest end of block g's instructions at their original starts. */
static int64_t block_end(const ctx *x, size_t g)
{
    int64_t end = 0;
    for (size_t k = x->g_off[g]; k < x->g_off[g + 1]; k++) {
        size_t i = x->g_mem[k];
        if (x->s->start_cyc[i] + x->s->cycles[i] > end) end = x->s->start_cyc[i] + x->s->cycles[i];
    }
    return end;
}

/* The starts of the schedule in x->d into st; returns its makespan. */
static int64_t starts_of(const ctx *x, int64_t *st)
{
    int64_t mk = 0;
    for (size_t i = 0; i < x->s->n; i++) {
        st[i] = x->s->start_cyc[i] + x->d[x->grp[i]];
        if (st[i] + x->s->cycles[i] > mk) mk = st[i] + x->s->cycles[i];
    }
    return mk;
}

/* The backward pass of forward-backward improvement ("justification"): the
** blocks, latest finishing first in the schedule in x->d, each put at the
** latest delay that keeps every budget, the blocks already placed (which all
** come after it) and the makespan mk. Only its order is used: x->key_fb gets
** each block's start, the key of the next forward pass, which then packs the
** blocks that finished late as early as they go; so a block may go before
** its original start here (the profiles are shifted by mk to keep them at
** bins >= 0). x->d is left alone. 0, 1 when a block finds no place (then
** there is no key), or -1 when memory runs out. */
static int schedule_back(ctx *x, int64_t mk)
{
    const sio_schedule *s = x->s;
    size_t ng = x->ng;
    size_t *outdeg = calloc(ng ? ng : 1, sizeof *outdeg);
    int64_t *hi = malloc((ng ? ng : 1) * sizeof *hi);
    int64_t *db = malloc((ng ? ng : 1) * sizeof *db);
    heap h = {malloc((ng ? ng : 1) * sizeof(by_key)), 0};
    int rc = -1;
    if (!outdeg || !hi || !db || !h.v || (!x->key_fb && !(x->key_fb = malloc((ng ? ng : 1) * sizeof(double))))) goto out;
    for (size_t k = 0; k < x->nch; k++) lane_free(&x->lanes[k]);
    x->base = mk;
    for (size_t g = 0; g < ng; g++) {
        outdeg[g] = x->s_off[g + 1] - x->s_off[g];
        int64_t end = block_end(x, g);
        hi[g] = mk - end;
        if (!outdeg[g]) heap_push(&h, -(end + x->d[g]), (uint32_t)g);
    }
    size_t done = 0;
    while (h.n) {
        size_t g = heap_pop(&h);
        int64_t d = hi[g];
        lane *L = &x->lanes[s->chip[x->g_mem[x->g_off[g]]]];
        int found = place(x, g, L, &d, -1, -mk);
        if (found) { rc = found < 0 ? -1 : 1; goto out; }
        commit(x, L);
        db[g] = d;
        done++;
        for (size_t k = x->g_off[g]; k < x->g_off[g + 1]; k++) {
            size_t i = x->g_mem[k];
            FOR_PREDS(x, i, j, cc, {
                size_t p = x->grp[j];
                if (p != g) {
                    int64_t lim = s->start_cyc[i] + d - cc - s->start_cyc[j];
                    if (lim < hi[p]) hi[p] = lim;
                    if (--outdeg[p] == 0) heap_push(&h, -(block_end(x, p) + x->d[p]), (uint32_t)p);
                }
            });
        }
    }
    if (done != ng) { rc = 1; goto out; }
    for (size_t g = 0; g < ng; g++) x->key_fb[g] = x->key_start[g] + (double)db[g];
    rc = 0;
out:
    x->base = 0;
    free(outdeg); free(hi); free(db); free(h.v);
    return rc;
}

/* ---- lower bound ----------------------------------------------------------- */

/* The dual feasible function u^(k) of Fekete and Schepers: if sum x <= 1
** then sum u(x) <= 1, and u(x) <= (k + 1) / k x for every x >= 0. Rounded
** down (a tolerance below each step), so it never exceeds the exact one. */
static double dff(int k, double v)
{
    double m = ceil((double)(k + 1) * v - 1e-9) - 1;
    return m > 0 ? m / (double)k : 0.0;
}

/* The most that a + sum g[s] reaches over the multisets of grid sizes s in
** [LP_SMALL, LP_GRID] (items with g[s] > 0) whose sizes sum to at most cap;
** conf, when not NULL, gets one such multiset as counts per size. */
static double knap(const double *g, size_t cap, double *best, int *arg, int *conf)
{
    best[0] = 0;
    for (size_t c = 1; c <= cap; c++) {
        best[c] = best[c - 1];
        arg[c] = -1;
        for (int sz = LP_SMALL; sz <= LP_GRID && (size_t)sz <= c; sz++)
            if (g[sz] > 0 && best[c - (size_t)sz] + g[sz] > best[c]) { best[c] = best[c - (size_t)sz] + g[sz]; arg[c] = sz; }
    }
    if (conf) {
        memset(conf, 0, (LP_GRID + 1) * sizeof *conf);
        for (size_t c = cap; c > 0;) {
            if (arg[c] < 0) { c--; continue; }
            conf[arg[c]]++;
            c -= (size_t)arg[c];
        }
    }
    return best[cap];
}

/* A dual feasible function found by linear programming (the configuration
** LP of bin packing, solved by adding the most violated configuration until
** none is left): f(x) = a x for a share x < LP_SMALL / LP_GRID, and
** a x + g[floor(x LP_GRID)] above, g >= 0 and nondecreasing. f is valid when a + sum g <= 1 over
** every multiset of rounded sizes that fits in one (the rounded sizes of
** items that fit, fit; the small items' share is at most what the large
** ones leave). It maximizes sum f over the items of hist (counts per
** rounded size, e_all the sum of all shares).
** The result is checked by the knapsack and scaled down if the LP's
** tolerance left it a hair over; *f_end is the most sum f can reach in a
** window whose ops may hold 1 + eps. 0, or -1 when the LP fails (no bound). */
static int lp_dff(const double *hist, double e_all, double eps, double *a_out, double *g, double *f_end)
{
    const int s0 = LP_SMALL, G = LP_GRID, ng = G - s0 + 1;
    /* the knapsack for F up to a window that may hold 4 budgets; past that
    ** (a cap just above the idle power) F from the largest g(s) / s */
    int big = !(eps <= 3);
    size_t capx = big ? (size_t)G : (size_t)floor((double)G * (1 + eps));
    double *best = malloc((capx + 1) * sizeof *best);
    int *arg = malloc((capx + 1) * sizeof *arg), *conf = malloc((LP_GRID + 1) * sizeof *conf);
    int *ind = malloc((size_t)(ng + 2) * sizeof *ind);
    double *val = malloc((size_t)(ng + 2) * sizeof *val);
    int rc = -1;
    glp_prob *lp = NULL;
    if (!best || !arg || !conf || !ind || !val) goto out;
    lp = glp_create_prob();
    glp_set_obj_dir(lp, GLP_MAX);
    glp_add_cols(lp, 1 + ng);                        /* column 1: a; 2..: g[s0..G] */
    glp_set_col_bnds(lp, 1, GLP_DB, 0.0, 1.0);
    glp_set_obj_coef(lp, 1, e_all);
    for (int k = 0; k < ng; k++) {
        glp_set_col_bnds(lp, 2 + k, GLP_LO, 0.0, 0.0);
        glp_set_obj_coef(lp, 2 + k, hist[s0 + k]);
    }
    for (int k = 0; k < ng; k++) {                   /* one item alone fits; g nondecreasing */
        int r = glp_add_rows(lp, k + 1 < ng ? 2 : 1);
        ind[1] = 1; val[1] = 1; ind[2] = 2 + k; val[2] = 1;
        glp_set_mat_row(lp, r, 2, ind, val);
        glp_set_row_bnds(lp, r, GLP_UP, 0.0, 1.0);
        if (k + 1 < ng) {
            ind[1] = 2 + k; val[1] = 1; ind[2] = 3 + k; val[2] = -1;
            glp_set_mat_row(lp, r + 1, 2, ind, val);
            glp_set_row_bnds(lp, r + 1, GLP_UP, 0.0, 0.0);
        }
    }
    glp_smcp prm;
    glp_init_smcp(&prm);
    prm.msg_lev = GLP_MSG_OFF;
    prm.meth = GLP_DUALP;
    double a = 0;
    for (int round_ = 0;; round_++) {
        if (glp_simplex(lp, &prm) != 0 || glp_get_status(lp) != GLP_OPT) goto out;
        a = glp_get_col_prim(lp, 1);
        for (int k = 0; k < ng; k++) g[s0 + k] = glp_get_col_prim(lp, 2 + k);
        double m = a + knap(g, (size_t)G, best, arg, conf);
        if (m <= 1 + 1e-9 || round_ == LP_ROUNDS) break;
        int nz = 0;                                  /* the most violated configuration */
        ind[++nz] = 1; val[nz] = 1;
        for (int sz = s0; sz <= G; sz++) if (conf[sz]) { ind[++nz] = 2 + sz - s0; val[nz] = conf[sz]; }
        int r = glp_add_rows(lp, 1);
        glp_set_mat_row(lp, r, nz, ind, val);
        glp_set_row_bnds(lp, r, GLP_UP, 0.0, 1.0);
    }
    for (int sz = 0; sz < s0; sz++) g[sz] = 0;
    double m = a + knap(g, (size_t)G, best, arg, NULL);   /* valid whatever the LP's tolerance */
    double sc = m > 1 ? 1 / m : 1;
    for (int sz = s0; sz <= G; sz++) g[sz] *= sc;
    *a_out = a * sc;
    if (!big) {
        *f_end = *a_out * (1 + eps) + knap(g, capx, best, arg, NULL);
    } else {
        double r = 0;   /* sum g(s_j) <= (sum s_j) max g(s) / s */
        for (int sz = s0; sz <= G; sz++) if (g[sz] / sz > r) r = g[sz] / sz;
        *f_end = (*a_out + r * G) * (1 + eps);
    }
    rc = 0;
out:
    if (lp) glp_delete_prob(lp);
    free(best); free(arg); free(conf); free(ind); free(val);
    return rc;
}

/* Packing bound (docs/budgets.md): per chip, sum over blocks of the least,
** over the cycle phases of the block against the bins, of the sum over
** every sliding window of W bins that meets the block of u^(k)(block's share
** / (W x (cap - P_idle))); one sum per k. At most n - 1 + W (k+1)/k (1 + eps)
** summed over the n + W - 1 windows that meet n bins. Returns the bound in
** cycles; 0 when the bin phases do not repeat within 1000 cycles (the
** placements could not all be tried) or the original makespan is shorter
** than the window. */
static uint32_t uf_root(uint32_t *p, uint32_t i)
{
    while (p[i] != i) i = p[i] = p[p[i]];
    return i;
}

/* The instructions tied by exact deps, group by group (*off: n + 1 starts,
** *mem: members): the only sets whose shape no valid schedule can change.
** (A block is more: a set whose constraints form a cycle once blocks are
** rigid, which the scheduler moves as one but another schedule may bend.)
** Returns the number of groups, or SIZE_MAX when out of memory. */
static size_t exact_groups(const sio_schedule *s, size_t **off, uint32_t **mem)
{
    size_t n = s->n, ng = 0;
    uint32_t *p = malloc((n ? n : 1) * sizeof *p), *id = malloc((n ? n : 1) * sizeof *id);
    *off = NULL;
    *mem = malloc((n ? n : 1) * sizeof **mem);
    if (!p || !id || !*mem) goto oom;
    for (size_t i = 0; i < n; i++) p[i] = (uint32_t)i;
    for (size_t i = 0; i < n; i++)
        for (size_t e = s->dep_off[i]; e < s->dep_off[i + 1]; e++)
            if (s->dep_kind[e] == SIO_DEP_EXACT) p[uf_root(p, (uint32_t)i)] = uf_root(p, s->dep_src[e]);
    for (size_t i = 0; i < n; i++) id[i] = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        uint32_t r = uf_root(p, (uint32_t)i);
        if (id[r] == UINT32_MAX) id[r] = (uint32_t)ng++;
    }
    if (!(*off = calloc(ng + 2, sizeof **off))) goto oom;
    for (size_t i = 0; i < n; i++) (*off)[id[uf_root(p, (uint32_t)i)] + 2]++;
    for (size_t g = 0; g < ng; g++) (*off)[g + 2] += (*off)[g + 1];
    for (size_t i = 0; i < n; i++) (*mem)[(*off)[id[uf_root(p, (uint32_t)i)] + 1]++] = (uint32_t)i;
    free(p); free(id);
    return ng;
oom:
    free(p); free(id); free(*off); free(*mem);
    *off = NULL; *mem = NULL;
    return SIZE_MAX;
}

/* The grid size of a share (rounded down, a tolerance below each step). */
static size_t grid_of(double sh)
{
    double v = floor(sh * LP_GRID - 1e-9);
    return v <= 0 ? 0 : v >= LP_GRID ? LP_GRID : (size_t)v;
}

/* The profile of the m instructions mem[] at phase ph as prefix sums in
** *row (grown as needed); returns its span in bins, 0 on failure. */
static size_t profile_sums(ctx *x, const uint32_t *mem, size_t nm, int64_t ph, double **row, size_t *rcap, double *mx)
{
    if (members_profile(x, mem, nm, ph)) return 0;
    size_t span = x->RB - x->LB + 1;
    if (span + 1 > *rcap) {
        double *q = realloc(*row, 2 * (span + 1) * sizeof *q);
        if (!q) return 0;
        *row = q;
        *rcap = 2 * (span + 1);
    }
    double *r = *row, m = 0;
    r[0] = 0;
    for (size_t q = 0; q < span; q++) {
        r[q + 1] = r[q] + x->gp[q];
        if (x->gp[q] > m) m = x->gp[q];
    }
    *mx = m;
    return span;
}

/* BODY for every sliding window of W bins that meets a block of span bins
** with prefix sums row: sh its share of the window budget wb, mult how many
** windows alike (the block whole inside). */
#define FOR_WINDOWS(row, span, W, wb, sh, mult, BODY)                                                  \
    for (size_t a_ = 0; a_ + 1 < (span) + (W); a_++) {   /* window [a - W + 1, a + 1) in block bins */ \
        size_t lo_ = a_ + 1 >= (W) ? a_ + 1 - (W) : 0, hi_ = a_ + 1 < (span) ? a_ + 1 : (span);           \
        double sh = ((row)[hi_] - (row)[lo_]) / (wb), mult = 1;                                           \
        if (lo_ == 0 && hi_ == (span) && (W) > (span)) {   /* W - span + 1 windows alike */               \
            mult = (double)((W) - (span) + 1);                                                            \
            a_ += (W) - (span);                                                                           \
        }                                                                                                 \
        BODY                                                                                              \
    }

/* Packing bound (docs/budgets.md): per chip, sum over blocks of the least,
** over the cycle phases of the block against the bins, of the sum over
** every sliding window of W bins that meets the block of f(block's share
** / (W x (cap - P_idle))), for f each u^(k) and the function the
** configuration LP finds (lp_dff, from the blocks' shares at their own
** phase). With F the most sum f reaches in a window that may hold 1 + eps
** (the last bin's idle may be partial): n - 1 + W F >= the sum over the
** n + W - 1 windows that meet n bins. Returns the bound in cycles (*lp_out:
** the parts of the u^(k) and of the LP); 0 when the bin phases do not repeat within 1000 cycles
** (the placements could not all be tried) or the original makespan is
** shorter than the window. */
static int64_t packing_bound(ctx *x, double cap, int64_t *dff_out, int64_t *lp_out)
{
    *dff_out = *lp_out = 0;
    int64_t phases = 0;
    for (int64_t p = 1; p <= 1000 && !phases; p++) {
        double b = (double)p * x->T / x->bin;
        if (fabs(b - round(b)) < 1e-9) phases = p;
    }
    if (!phases || x->ng == 0) return 0;
    const size_t W = x->W, P = (size_t)phases, nc = x->nch, G1 = LP_GRID + 1, NF = DFF_K + 2;
    /* the windows clipped at the ends hold no more than a whole window inside
    ** the schedule only when it spans W bins (any re-timing is no shorter) */
    if ((double)sio_schedule_makespan_cyc(x->s) * x->T < (double)W * x->bin) return 0;
    const double wb = (double)W * (cap - x->p_idle_w);     /* ops budget of a window sum */
    const double eps = x->p_idle_w / wb;                   /* the last bin's windows may hold this much more */
    size_t *it_off = NULL, ni;                             /* the items: instructions tied by exact deps */
    uint32_t *it_mem = NULL;
    if ((ni = exact_groups(x->s, &it_off, &it_mem)) == SIZE_MAX) return -1;
#define ITEM(g) it_mem + it_off[g], it_off[(g) + 1] - it_off[g]
    double *sum = calloc(nc * NF, sizeof *sum), *row = NULL, mx;
    double *hist = calloc(nc * G1, sizeof *hist), *lpg = calloc(nc * G1, sizeof *lpg);
    double *e_all = calloc(nc, sizeof *e_all), *lpa = calloc(nc, sizeof *lpa), *fend = calloc(nc, sizeof *fend);
    int *lp_ok = calloc(nc, sizeof *lp_ok);
    size_t *gmin = calloc(nc, sizeof *gmin);   /* per chip: the least size where g > 0 */
    double *e_small = malloc((ni ? ni : 1) * sizeof *e_small);
    size_t rcap = 0, span;
    int64_t out = -1;
    if (!sum || !hist || !lpg || !e_all || !lpa || !fend || !lp_ok || !gmin || !e_small) goto done;
    /* the LP's items: their window shares at their own phase; an item too
    ** small for every u^(k) and for the LP's large items at phase 0 gets the
    ** same f sum, a x its energy, at every phase: kept in e_small */
    for (size_t g = 0; g < ni; g++) {
        size_t c = x->s->chip[it_mem[it_off[g]]];
        if (!(span = profile_sums(x, ITEM(g), 0, &row, &rcap, &mx))) goto done;
        double top = mx * (double)(span < W ? span : W) / wb;
        if (top * (DFF_K + 1) <= 1 && grid_of(top) < LP_SMALL) {
            e_small[g] = row[span] * (double)W / wb;
            e_all[c] += e_small[g];
            continue;
        }
        e_small[g] = -1;
        FOR_WINDOWS(row, span, W, wb, sh, mult, {
            e_all[c] += mult * sh;
            size_t sz = grid_of(sh);
            if (sz >= LP_SMALL) hist[c * G1 + sz] += mult;
        });
    }
    for (size_t c = 0; c < nc; c++) {
        lp_ok[c] = lp_dff(hist + c * G1, e_all[c], eps, &lpa[c], lpg + c * G1, &fend[c]) == 0;
        for (gmin[c] = LP_SMALL; gmin[c] <= LP_GRID && !(lpg[c * G1 + gmin[c]] > 0); gmin[c]++) continue;
    }
    for (size_t g = 0; g < ni; g++) {
        size_t c = x->s->chip[it_mem[it_off[g]]];
        const double *gc = lpg + c * G1;
        double best[DFF_K + 2];
        for (size_t k = 1; k < NF; k++) best[k] = INFINITY;
        if (e_small[g] >= 0) {
            for (int k = 1; k <= DFF_K; k++) best[k] = 0;
            best[DFF_K + 1] = lpa[c] * e_small[g];
        }
        for (size_t ph = 0; ph < P && e_small[g] < 0; ph++) {   /* the profile at each phase */
            if (!(span = profile_sums(x, ITEM(g), (int64_t)ph, &row, &rcap, &mx))) goto done;
            /* every u^(k) is 0 when no window share can reach 1 / (k + 1),
            ** and f is a x when none reaches a size where g > 0 */
            double top = mx * (double)(span < W ? span : W) / wb;
            if (top * (DFF_K + 1) <= 1 && grid_of(top) < gmin[c]) {
                for (int k = 1; k <= DFF_K; k++) best[k] = 0;
                best[DFF_K + 1] = lpa[c] * row[span] * (double)W / wb;
                break;
            }
            double v[DFF_K + 2] = {0};
            FOR_WINDOWS(row, span, W, wb, sh, mult, {
                for (int k = 1; k <= DFF_K; k++) v[k] += mult * dff(k, sh);
                size_t sz = grid_of(sh);
                v[DFF_K + 1] += mult * (lpa[c] * sh + (sz >= LP_SMALL ? gc[sz] : 0.0));
            });
            for (size_t k = 1; k < NF; k++) if (v[k] < best[k]) best[k] = v[k];
        }
        for (size_t k = 1; k < NF; k++) sum[c * NF + k] += best[k];
    }
    out = 0;
    for (size_t c = 0; c < nc; c++)
        for (size_t k = 1; k < NF; k++) {
            if (k == DFF_K + 1 && !lp_ok[c]) continue;
            /* F = (k + 1) / k (1 + eps) bounds sum u^(k) in a window */
            double F = k <= DFF_K ? (double)(k + 1) / (double)k * (1 + eps) : fend[c];
            double nb = sum[c * NF + k] - (double)W * F + 1;
            double m_ns = (nb - 1) * x->bin;   /* M > (n - 1) bin */
            int64_t m = (int64_t)ceil(m_ns / x->T - 1e-6);
            if (m > out) out = m;
            int64_t *part = k <= DFF_K ? dff_out : lp_out;
            if (m > *part) *part = m;
        }
done:
    free(sum); free(row); free(hist); free(lpg); free(e_all); free(lpa); free(fend); free(lp_ok); free(gmin); free(e_small);
    free(it_off); free(it_mem);
    return out;
}
#undef ITEM
#undef FOR_WINDOWS

static int lower_bound(ctx *x, const budget_spec *sp, budget_report *rep)
{
    const sio_schedule *s = x->s;
    size_t n = s->n, slots = x->nch * x->c->n_units;
    int64_t mk = sio_schedule_makespan_cyc(s);
    int64_t *es = malloc((n ? n : 1) * sizeof *es), *busy = calloc(slots ? slots : 1, sizeof *busy);
    by_key *ord = malloc((n ? n : 1) * sizeof *ord);
    double *e_ops = calloc(x->nch, sizeof *e_ops);
    if (!es || !busy || !ord || !e_ops) { free(es); free(busy); free(ord); free(e_ops); return -1; }
    for (size_t i = 0; i < n; i++) { ord[i].k = s->start_cyc[i]; ord[i].i = (uint32_t)i; }
    qsort(ord, n, sizeof *ord, cmp_key);
    int64_t cp = 0, bz = 0;
    for (size_t q = 0; q < n; q++) {
        size_t i = ord[q].i;
        es[i] = 0;
        for (size_t e = s->dep_off[i]; e < s->dep_off[i + 1]; e++) {
            size_t j = s->dep_src[e];
            int64_t c = s->dep_kind[e] == SIO_DEP_END ? s->cycles[j] : s->dep_lag[e];
            if (es[j] + c > es[i]) es[i] = es[j] + c;
        }
        if (es[i] + s->cycles[i] > cp) cp = es[i] + s->cycles[i];
        size_t u = (size_t)s->chip[i] * x->c->n_units + s->unit[i];
        busy[u] += s->cycles[i];
        if (busy[u] > bz) bz = busy[u];
        e_ops[s->chip[i]] += x->c->rails[x->c->units[s->unit[i]].rail].vdd_v * current_op_charge(x->c, s, i);
    }
    int64_t en = 0;
    if (sp->power_cap_w > 0) {
        double win_ns = (double)x->W * x->bin, cap = sp->power_cap_w;
        for (size_t c = 0; c < x->nch; c++) {
            double m_ns = (e_ops[c] - cap * win_ns) / (cap - x->p_idle_w);
            int64_t m = (int64_t)ceil(m_ns / x->T - 1e-9);
            if (m > en) en = m;
        }
    }
    int64_t pk = 0;
    if (sp->power_cap_w > 0) {
        pk = packing_bound(x, sp->power_cap_w, &rep->lb_dff_cyc, &rep->lb_lp_cyc);
        if (pk < 0) { free(es); free(busy); free(ord); free(e_ops); return -1; }
    }
    rep->lb_packing_cyc = pk;
    rep->lb_makespan_cyc = mk;
    rep->lb_critical_cyc = cp;
    rep->lb_busy_cyc = bz;
    rep->lb_energy_cyc = en;
    int64_t lb = mk;
    if (cp > lb) lb = cp;
    if (bz > lb) lb = bz;
    if (en > lb) lb = en;
    if (pk > lb) lb = pk;
    rep->lb_cyc = lb;
    free(es); free(busy); free(ord); free(e_ops);
    return 0;
}

/* ---- the entry point ------------------------------------------------------- */

static void ctx_free(ctx *x)
{
    free(x->wd); free(x->lim_didt); free(x->h); free(x->kt); free(x->z0_idle_v); free(x->margin_v);
    free(x->lim_droop); free(x->idle_a); free(x->grp); free(x->g_off); free(x->g_mem); free(x->s_off);
    free(x->s_list); free(x->indeg0); free(x->uprev); free(x->key_start); free(x->key_crit); free(x->d);
    free(x->key_fb);
    for (size_t k = 0; x->lanes && k < x->nch; k++) lane_free(&x->lanes[k]);
    free(x->lanes); free(x->gp); free(x->gr); free(x->gv);
}

void budget_report_free(budget_report *rep)
{
    if (!rep) return;
    budget_figs_free(&rep->before);
    budget_figs_free(&rep->after);
}

const char *budget_strerror(int rc)
{
    switch (rc) {
    case BUDGET_OK: return "ok";
    case BUDGET_EINPUT: return "bad input";
    case BUDGET_ENOMEM: return "out of memory";
    case BUDGET_EINFEASIBLE: return "the budget cannot be met";
    case BUDGET_EINTERNAL: return "internal error";
    default: return "unknown error";
    }
}

/* Does figs f meet the spec? Sets *excess_v[r] (max over chips) for droop. */
static int meets(const ctx *x, const budget_spec *sp, const budget_figs *f, double *excess_v, double *excess_didt)
{
    int ok = 1;
    if (sp->power_cap_w > 0 && f->chip_peak_window_w > sp->power_cap_w * (1 + 1e-9)) ok = 0;
    for (size_t r = 0; r < x->nr; r++) { excess_v[r] = 0; excess_didt[r] = 0; }
    for (size_t q = 0; q < f->n_rails; q++) {
        size_t r = q % x->nr;
        if (sp->didt_a_per_ns > 0 && f->rail_didt_a_per_ns[q] > sp->didt_a_per_ns * (1 + 1e-9)) {
            ok = 0;
            double e = f->rail_didt_a_per_ns[q] - sp->didt_a_per_ns;
            if (e > excess_didt[r]) excess_didt[r] = e;
        }
        if (sp->guardband_mv > 0 && f->rail_droop_mv[q] > sp->guardband_mv * (1 + 1e-9)) {
            ok = 0;
            double e = (f->rail_droop_mv[q] - sp->guardband_mv) * 1e-3;
            if (e > excess_v[r]) excess_v[r] = e;
        }
    }
    return ok;
}

int budget_retime(const sio_chip *c, const sio_schedule *s, const budget_spec *spec, int64_t **out,
                  budget_report *rep, sio_error *err)
{
    *out = NULL;
    memset(rep, 0, sizeof *rep);
    rep->culprit = SIZE_MAX;
    sio_error scratch;
    if (!err) err = &scratch;
    err->text[0] = 0;
    budget_spec sp = *spec;
    if (sp.bin_ns == 0) sp.bin_ns = 1.0;
    if (!(sp.bin_ns > 0) || !(sp.window_ns >= 0) || !(sp.power_cap_w >= 0) || !(sp.didt_a_per_ns >= 0) ||
        !(sp.guardband_mv >= 0) || sp.order < 0 || sp.order > 2) {
        sio_error_set(err, NULL, 0, 0, "budget: bin, window and budgets must be finite and >= 0");
        return BUDGET_EINPUT;
    }
    if (sp.power_cap_w == 0 && sp.didt_a_per_ns == 0 && sp.guardband_mv == 0) {
        sio_error_set(err, NULL, 0, 0, "budget: no budget given (power cap, dI/dt or guardband)");
        return BUDGET_EINPUT;
    }
    if (sp.window_ns == 0) sp.window_ns = sp.bin_ns;
    ctx x;
    memset(&x, 0, sizeof x);
    x.c = c; x.s = s; x.err = err;
    x.T = 1.0 / c->clock_ghz; x.bin = sp.bin_ns; x.nr = c->n_rails; x.nch = s->n_chips; x.n = s->n;
    x.use_pw = sp.power_cap_w > 0; x.use_didt = sp.didt_a_per_ns > 0; x.use_droop = sp.guardband_mv > 0;
    double wb = round(sp.window_ns / sp.bin_ns);
    x.W = wb < 1 ? 1 : (size_t)wb;
    x.use_fen = x.use_pw && x.W > FEN_MIN_W;
    int rc = BUDGET_ENOMEM;
    pdn_model **models = NULL;
    int64_t *st = NULL, *best = NULL;
    size_t nr1 = x.nr ? x.nr : 1;
    x.wd = calloc(nr1, sizeof *x.wd); x.lim_didt = calloc(nr1, sizeof(double));
    x.h = calloc(nr1, sizeof *x.h); x.kt = calloc(nr1, sizeof *x.kt);
    x.z0_idle_v = calloc(nr1, sizeof(double)); x.margin_v = calloc(nr1, sizeof(double));
    x.lim_droop = calloc(nr1, sizeof(double)); x.idle_a = calloc(nr1, sizeof(double));
    x.lanes = calloc(x.nch ? x.nch : 1, sizeof *x.lanes);
    models = calloc(nr1, sizeof *models);
    if (!x.wd || !x.lim_didt || !x.h || !x.kt || !x.z0_idle_v || !x.margin_v || !x.lim_droop || !x.idle_a ||
        !x.lanes || !models)
        goto fail;
    for (size_t u = 0; u < c->n_units; u++) {
        x.idle_a[c->units[u].rail] += c->units[u].idle_a;
        x.p_idle_w += c->rails[c->units[u].rail].vdd_v * c->units[u].idle_a;
    }
    if (x.use_pw) {
        if (x.p_idle_w >= sp.power_cap_w) {
            sio_error_set(err, s->path, 0, 0, "the power cap of %.6g W cannot be met: the chip's idle power alone is %.6g W",
                          sp.power_cap_w, x.p_idle_w);
            rc = BUDGET_EINFEASIBLE;
            goto fail;
        }
        double B = (double)x.W * (sp.power_cap_w - x.p_idle_w);
        x.B = B - 1e-9 * (double)x.W * sp.power_cap_w;   /* round-off allowance */
    }
    for (size_t r = 0; r < x.nr; r++) {
        double w = round(c->rails[r].didt_window_ns / sp.bin_ns);
        x.wd[r] = w < 1 ? 1 : (size_t)w;
        x.lim_didt[r] = sp.didt_a_per_ns * (double)x.wd[r] * sp.bin_ns * (1 - 1e-9);
        if (x.use_droop) {
            int prc = pdn_model_create(&c->rails[r], sp.bin_ns, &models[r], err);
            if (prc) { rc = prc == PDN_EINPUT ? BUDGET_EINPUT : BUDGET_ENOMEM; goto fail; }
            x.h[r] = pdn_model_kernel(models[r]);
            x.kt[r] = pdn_model_kernel_len(models[r]);
            if (x.kt[r] > KT_MAX) x.kt[r] = KT_MAX;
            if (x.kt[r] < 1) x.kt[r] = 1;
            x.z0_idle_v[r] = pdn_model_z0_ohm(models[r]) * x.idle_a[r];
            if (x.z0_idle_v[r] * 1e3 >= sp.guardband_mv) {
                sio_error_set(err, s->path, 0, 0, "the guardband of %.6g mV cannot be met on rail '%s': its idle current "
                              "alone droops %.6g mV", sp.guardband_mv, c->rails[r].name, x.z0_idle_v[r] * 1e3);
                rc = BUDGET_EINFEASIBLE;
                goto fail;
            }
        }
    }
    rc = budget_analyze(c, s, s->start_cyc, sp.bin_ns, sp.window_ns, x.use_droop, &rep->before, err);
    if (rc) goto fail;
    rc = BUDGET_ENOMEM;
    if (unit_order(&x) || blocks(&x) || block_dag(&x, rep->before.makespan_cyc) || lower_bound(&x, &sp, rep)) goto fail;
    x.d = calloc(x.ng ? x.ng : 1, sizeof *x.d);
    st = malloc((s->n ? s->n : 1) * sizeof *st);
    best = malloc((s->n ? s->n : 1) * sizeof *best);
    if (!x.d || !st || !best) goto fail;
    for (size_t g = 0; g < x.ng; g++) {
        size_t m = x.g_off[g + 1] - x.g_off[g];
        if (m > rep->max_block) rep->max_block = m;
    }
    rep->blocks = x.ng;
    if (x.use_droop) {
        /* the tail of the kernel past the taps used: its share of the original schedule's droop */
        for (size_t r = 0; r < x.nr; r++) x.margin_v[r] = 0;
    }
    int64_t cap_cyc = rep->before.makespan_cyc * 4 + 1000000;
    double *exv = calloc(nr1, sizeof *exv), *exd = calloc(nr1, sizeof *exd);
    if (!exv || !exd) { free(exv); free(exd); goto fail; }
    int met = 0;
    for (int round_ = 0; round_ < ROUNDS && !met; round_++) {
        for (size_t r = 0; r < x.nr; r++) {
            x.lim_droop[r] = sp.guardband_mv * 1e-3 * (1 - 1e-9) - x.z0_idle_v[r] - x.margin_v[r];
            if (x.use_droop && x.lim_droop[r] <= 0) x.lim_droop[r] = 1e-12;
        }
        if (round_ == 0 && (rc = alone(&x, rep)) != BUDGET_OK) { free(exv); free(exd); goto fail; }
        int64_t best_mk = INT64_MAX;
        rep->fb_passes = 0;
        for (int o = 1; o <= 2; o++) {
            if (sp.order && sp.order != o) continue;
            rc = schedule(&x, o, cap_cyc, rep);
            if (rc) { free(exv); free(exd); goto fail; }
            int64_t mk = starts_of(&x, st);
            if (mk < best_mk) { best_mk = mk; memcpy(best, st, s->n * sizeof *st); rep->order_used = o; }
        }
        /* forward-backward improvement from the best schedule so far: the
        ** blocks right-justified against its makespan, then packed forward
        ** again in the order of their backward starts; kept when shorter */
        if (x.use_pw && best_mk > rep->lb_cyc + rep->lb_cyc / 1000) {   /* within 0.1% of the bound: little to gain */
            for (size_t g = 0; g < x.ng; g++) x.d[g] = best[x.g_mem[x.g_off[g]]] - s->start_cyc[x.g_mem[x.g_off[g]]];
            int64_t mk = best_mk;
            int passes = sp.fb_passes ? sp.fb_passes : FB_PASSES;
            for (int pass = 0; pass < passes; pass++) {
                int b = schedule_back(&x, mk);
                if (b < 0) { rc = BUDGET_ENOMEM; free(exv); free(exd); goto fail; }
                if (b) break;
                rc = schedule(&x, ORDER_FB, cap_cyc, rep);
                if (rc) { free(exv); free(exd); goto fail; }
                mk = starts_of(&x, st);
                int gain = mk < best_mk - best_mk / 1000;   /* by 0.1% at least: worth another pass */
                if (mk < best_mk) { best_mk = mk; memcpy(best, st, s->n * sizeof *st); rep->fb_passes = pass + 1; }
                if (!gain) break;
            }
        }
        budget_figs_free(&rep->after);
        rc = budget_analyze(c, s, best, sp.bin_ns, sp.window_ns, x.use_droop, &rep->after, err);
        if (rc) { free(exv); free(exd); goto fail; }
        met = meets(&x, &sp, &rep->after, exv, exd);
        if (!met) {
            for (size_t r = 0; r < x.nr; r++) {
                if (exv[r] > 0) x.margin_v[r] += exv[r] * 1.2 + 1e-4;
                if (exd[r] > 0) x.lim_didt[r] -= exd[r] * 1.2 * (double)x.wd[r] * x.bin + 1e-6;
            }
        }
    }
    free(exv); free(exd);
    if (!met) {
        sio_error_set(err, s->path, 0, 0, "the budget could not be met after %d rounds: power %.6g W, dI/dt %.6g A/ns, "
                      "droop %.6g mV", ROUNDS, rep->after.chip_peak_window_w, rep->after.max_didt_a_per_ns,
                      rep->after.max_droop_mv);
        rc = BUDGET_EINFEASIBLE;
        goto fail;
    }
    sio_error verr;
    if (sio_schedule_verify(c, s, best, &verr) != SIO_OK) {
        sio_error_set(err, s->path, 0, 0, "internal: the re-timed schedule breaks a rule: %s", verr.text);
        rc = BUDGET_EINTERNAL;
        goto fail;
    }
    for (size_t i = 0; i < s->n; i++) rep->moved += best[i] != s->start_cyc[i];
    int64_t mk0 = rep->before.makespan_cyc, mk1 = rep->after.makespan_cyc;
    rep->slowdown = mk0 ? (double)mk1 / (double)mk0 - 1 : 0;
    rep->gap = rep->lb_cyc ? (double)mk1 / (double)rep->lb_cyc - 1 : 0;
    *out = best;
    best = NULL;
    rc = BUDGET_OK;
fail:
    if (rc) budget_report_free(rep);
    for (size_t r = 0; models && r < x.nr; r++) pdn_model_destroy(models[r]);
    free(models);
    free(st);
    free(best);
    ctx_free(&x);
    return rc;
}
