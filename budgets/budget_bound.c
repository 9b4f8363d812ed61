/* budget_bound.c -- lower bounds on the makespan of any re-timing that meets
** the budget (docs/budgets.md, "Lower bound on the makespan"): the original
** makespan (only delays), the critical path of the deps, each unit's busy
** time, the energy bound of a power cap (per chip and, with a system cap,
** for the system), and the packing bound: dual feasible functions u^(k) and
** the configuration LP's function (GLPK) over every sliding window, each
** exact group counted at its least favourable phase against the bins.
**
** The items of the packing bound are the groups of ctx: the instructions
** tied by exact deps, the only sets whose shape no valid schedule changes.
** Cost: one group profile per cycle phase per group and one LP per chip. */
#include "budget_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glpk.h>

#include "current.h"

#define DFF_K 6           /* packing bound: u^(k) for k = 1..DFF_K */
#define LP_GRID 500       /* packing bound, LP: item shares rounded down to 1/LP_GRID */
#define LP_SMALL 25       /* ... those below LP_SMALL/LP_GRID count by their share alone */
#define LP_ROUNDS 400     /* ... configurations added to the LP, at most */

typedef struct bk { int64_t k; uint32_t i; } bk;

static int cmp_bk(const void *a, const void *b)
{
    const bk *p = a, *q = b;
    if (p->k != q->k) return p->k < q->k ? -1 : 1;
    return p->i < q->i ? -1 : p->i > q->i;
}

/* The dual feasible function u^(k) of Fekete and Schepers: if sum x <= 1
** then sum u(x) <= 1, and u(x) <= (k + 1) / k x for every x >= 0. Rounded
** down (a tolerance below each step), so it never exceeds the exact one. */
static double dff(int k, double v)
{
    double m = ceil((double)(k + 1) * v - 1e-9) - 1;
    return m > 0 ? m / (double)k : 0.0;
}

/* The u^(k) of a share v for k = 1..DFF_K, added (times mult) to sum[k]:
** from a table over the grid of 1/DFF_Q (a multiple of every k + 1), at the
** grid point below v, so never more than dff(k, v) (u^(k) is
** nondecreasing), and less only for v within 1/DFF_Q above a step. One
** floor a window instead of DFF_K. */
#define DFF_Q 10080
#define DFF_QMAX (4 * DFF_Q)
static void dff_table(double *tab)   /* [(DFF_K + 1) * (DFF_QMAX + 1)] */
{
    for (int k = 1; k <= DFF_K; k++)
        for (size_t q = 0; q <= DFF_QMAX; q++) tab[(size_t)k * (DFF_QMAX + 1) + q] = dff(k, (double)q / DFF_Q);
}

static void dff_add(const double *tab, double v, double mult, double *sum)
{
    double qf = floor(v * DFF_Q - 1e-6);
    if (qf > DFF_QMAX) {
        for (int k = 1; k <= DFF_K; k++) sum[k] += mult * dff(k, v);
        return;
    }
    size_t q = qf < 0 ? 0 : (size_t)qf;
    for (int k = 1; k <= DFF_K; k++) sum[k] += mult * tab[(size_t)k * (DFF_QMAX + 1) + q];
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
** window whose ops may hold 1 + eps. 0, -1 when the LP fails (no bound), or
** -2 when out of memory. */
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
    if (!best || !arg || !conf || !ind || !val) { rc = -2; goto out; }
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
    if (budget_members_profile(x, mem, nm, ph)) return 0;
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

/* BODY for every sliding window of W bins that meets a group of span bins
** with prefix sums row: sh its share of the window budget wb, mult how many
** windows alike. Alike: the group whole inside, or a run of windows whose
** shares agree to within 1e-10 (a plateau, up to the round-off of the
** prefix sums), counted at the least share of the run: every f used is
** nondecreasing, so the sum stays a lower bound whatever the tolerance. */
static double win_share(const double *row, size_t span, size_t W, double wb, size_t a)
{
    size_t lo = a + 1 >= W ? a + 1 - W : 0, hi = a + 1 < span ? a + 1 : span;
    return (row[hi] - row[lo]) / wb;
}

#define FOR_WINDOWS(row, span, W, wb, sh, mult, ...)                                                   \
    for (size_t a_ = 0; a_ + 1 < (span) + (W); a_++) {   /* window [a - W + 1, a + 1) in group bins */ \
        double sh = win_share(row, span, W, wb, a_), mult = 1;                                            \
        if (a_ + 1 >= (span) && a_ + 1 <= (W) && (W) > (span)) {   /* W - span + 1 windows alike */     \
            mult = (double)((W) - (span) + 1);                                                            \
            a_ += (W) - (span);                                                                           \
        } else {                                                                                          \
            for (double nx_; a_ + 2 < (span) + (W) && !(a_ + 2 >= (span) && a_ + 2 <= (W) && (W) > (span)) && \
                             fabs((nx_ = win_share(row, span, W, wb, a_ + 1)) - sh) <= 1e-10;) {     \
                if (nx_ < sh) sh = nx_;                                                                   \
                mult += 1;                                                                                \
                a_++;                                                                                     \
            }                                                                                             \
        }                                                                                                 \
        __VA_ARGS__                                                                                       \
    }

/* Packing bound (docs/budgets.md): per chip, sum over groups of the least,
** over the cycle phases of the block against the bins, of the sum over
** every sliding window of W bins that meets the block of f(block's share
** / (W x (cap - P_idle))), for f each u^(k) and the function the
** configuration LP finds (lp_dff, from the groups' shares at their own
** phase). With F the most sum f reaches in a window that may hold 1 + eps
** (a margin for the last bin, as if its idle were missing): n - 1 + W F >= the sum over the
** n + W - 1 windows that meet n bins. Returns the bound in cycles (*lp_out:
** the parts of the u^(k) and of the LP); 0 when the bin phases do not repeat within 1000 cycles
** (the placements could not all be tried) or the original makespan is
** shorter than the window. */
static int64_t packing_bound(ctx *x, double cap, int64_t *dff_out, int64_t *lp_out)
{
    *dff_out = *lp_out = 0;
    int64_t phases = budget_phases(x);
    if (!phases || x->ng == 0) return 0;
    const size_t W = x->W, P = (size_t)phases, nc = x->nch, G1 = LP_GRID + 1, NF = DFF_K + 2;
    /* the windows clipped at the ends hold no more than a whole window inside
    ** the schedule only when it spans W bins (any re-timing is no shorter) */
    if ((double)sio_schedule_makespan_cyc(x->s) * x->T < (double)W * x->bin) return 0;
    const double wb = (double)W * (cap - x->p_idle_w);     /* ops budget of a window sum */
    const double eps = x->p_idle_w / wb;                   /* the last bin's windows: this much margin */
    const size_t *it_off = x->g_off, ni = x->ng;           /* the items: instructions tied by exact deps */
    const uint32_t *it_mem = x->g_mem;
#define ITEM(g) it_mem + it_off[g], it_off[(g) + 1] - it_off[g]
    double *sum = calloc(nc * NF, sizeof *sum), *row = NULL, mx;
    double *tab = malloc((DFF_K + 1) * (DFF_QMAX + 1) * sizeof *tab);
    double *hist = calloc(nc * G1, sizeof *hist), *lpg = calloc(nc * G1, sizeof *lpg);
    double *e_all = calloc(nc, sizeof *e_all), *lpa = calloc(nc, sizeof *lpa), *fend = calloc(nc, sizeof *fend);
    int *lp_ok = calloc(nc, sizeof *lp_ok);
    size_t *gmin = calloc(nc, sizeof *gmin);   /* per chip: the least size where g > 0 */
    double *e_small = malloc((ni ? ni : 1) * sizeof *e_small);
    size_t rcap = 0, span;
    int64_t out = -1;
    if (!sum || !tab || !hist || !lpg || !e_all || !lpa || !fend || !lp_ok || !gmin || !e_small) goto done;
    dff_table(tab);
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
        int lrc = lp_dff(hist + c * G1, e_all[c], eps, &lpa[c], lpg + c * G1, &fend[c]);
        if (lrc == -2) goto done;
        lp_ok[c] = lrc == 0;
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
                dff_add(tab, sh, mult, v);
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
    free(sum); free(tab); free(row); free(hist); free(lpg); free(e_all); free(lpa); free(fend); free(lp_ok); free(gmin); free(e_small);
    return out;
}
#undef ITEM
#undef FOR_WINDOWS

/* Heads and tails (docs/budgets.md, "Lower bound on the makespan"). Every
** group g starts at or after its original start h_g (only delays), and a
** chain of constraints of at least q_g cycles follows its end (longest paths
** over every constraint, from x->key_crit): M >= end_g + d_g + q_g. So a set
** S of groups with h_g >= a and q_g >= b for all g in S holds its ops energy
** E(S) within [a T, (M - b) T]. The k <= (M - a - b) T / bin + 2 bins that
** interval spans lie in the run, and ceil(k / W) windows inside it (it spans
** W bins) cover them, each holding at most cap W bin; they hold E(S) and
** the idle over the interval whole (the idle runs to the makespan). So
** (cap - P_idle)(M - a - b) T >= E(S) - cap (W + 1) bin, for every a and b:
** tried on a grid of HT_GRID + 1 points over the original makespan, each
** group counted at the grid points at or below its head and tail, through
** suffix sums of a table of energies (additions only). a = b = 0 is the
** energy bound (with W + 1 for W). The groups are those of chip `chip`, or
** of every chip when chip is SIZE_MAX (cap and p_idle then the system's).
** Returns the bound in cycles, 0 when none, -1 when out of memory. */
#define HT_GRID 256
static int64_t headtail_bound(const ctx *x, const double *e_g, const size_t *by_chip, const size_t *ch_off,
                              size_t chip, double cap, double p_idle)
{
    int64_t mk = sio_schedule_makespan_cyc(x->s);
    if (!(cap > p_idle) || mk <= 0 || (double)mk * x->T < (double)x->W * x->bin) return 0;
    const size_t K = HT_GRID + 1;
    double *tab = calloc(K * K, sizeof *tab);
    if (!tab) return -1;
    size_t q0 = chip == SIZE_MAX ? 0 : ch_off[chip], q1 = chip == SIZE_MAX ? x->ng : ch_off[chip + 1];
    for (size_t q = q0; q < q1; q++) {
        size_t g = by_chip[q];
        int64_t head = x->g_start[g];
        int64_t tail = mk - x->key_crit[g] - (x->g_end[g] - x->g_start[g]);
        if (tail < 0) tail = 0;
        /* the grid point at or below: floor(v K / mk), whose point floor(i mk / K) <= v */
        size_t i = head >= mk ? HT_GRID : (size_t)((double)head * HT_GRID / (double)mk);
        size_t j = tail >= mk ? HT_GRID : (size_t)((double)tail * HT_GRID / (double)mk);
        while (i > 0 && (int64_t)i * mk / HT_GRID > head) i--;
        while (j > 0 && (int64_t)j * mk / HT_GRID > tail) j--;
        tab[i * K + j] += e_g[g];
    }
    for (size_t i = 0; i < K; i++)
        for (size_t j = K - 1; j-- > 0;) tab[i * K + j] += tab[i * K + j + 1];
    for (size_t i = K - 1; i-- > 0;)
        for (size_t j = 0; j < K; j++) tab[i * K + j] += tab[(i + 1) * K + j];
    int64_t best = 0;
    const double room = cap * (double)(x->W + 1) * x->bin;
    for (size_t i = 0; i < K; i++)
        for (size_t j = 0; j < K; j++) {
            double e = tab[i * K + j];
            if (e <= room) continue;
            int64_t a = (int64_t)i * mk / HT_GRID, b = (int64_t)j * mk / HT_GRID;
            int64_t m = a + b + (int64_t)ceil((e - room) / (cap - p_idle) / x->T - 1e-6);
            if (m > best) best = m;
        }
    free(tab);
    return best;
}

/* The heads-and-tails bound over every chip and, under a system cap, the
** system: 0 when there is no power cap, -1 when out of memory. */
static int64_t headtail_all(const ctx *x, const budget_spec *sp)
{
    if (!(sp->power_cap_w > 0) && !x->use_sys) return 0;
    size_t ng = x->ng, nc = x->nch;
    double *e_g = calloc(ng ? ng : 1, sizeof *e_g);
    size_t *by_chip = malloc((ng ? ng : 1) * sizeof *by_chip), *ch_off = calloc(nc + 2, sizeof *ch_off);
    int64_t best = -1;
    if (!e_g || !by_chip || !ch_off) goto out;
    for (size_t g = 0; g < ng; g++) {
        for (size_t k = x->g_off[g]; k < x->g_off[g + 1]; k++) {
            size_t i = x->g_mem[k];
            e_g[g] += x->c->rails[x->c->units[x->s->unit[i]].rail].vdd_v * current_op_charge(x->c, x->s, i);
        }
        ch_off[x->s->chip[x->g_mem[x->g_off[g]]] + 2]++;
    }
    for (size_t c = 0; c < nc; c++) ch_off[c + 2] += ch_off[c + 1];
    for (size_t g = 0; g < ng; g++) by_chip[ch_off[x->s->chip[x->g_mem[x->g_off[g]]] + 1]++] = g;
    best = 0;
    for (size_t c = 0; c < nc && sp->power_cap_w > 0; c++) {
        int64_t m = headtail_bound(x, e_g, by_chip, ch_off, c, sp->power_cap_w, x->p_idle_w);
        if (m < 0) { best = -1; goto out; }
        if (m > best) best = m;
    }
    if (x->use_sys) {
        int64_t m = headtail_bound(x, e_g, by_chip, ch_off, SIZE_MAX, sp->system_power_cap_w,
                                   (double)nc * x->p_idle_w);
        if (m < 0) { best = -1; goto out; }
        if (m > best) best = m;
    }
out:
    free(e_g); free(by_chip); free(ch_off);
    return best;
}

void budget_bound_thread_end(void) { glp_free_env(); }

/* The energy bound (cycles) of ops energy e_ops (W.ns) under cap over the
** window, with idle power idle (cap > idle): M >= (E_ops - cap window) /
** (cap - idle). A run of fewer bins than the window (M <= (W - 1) bin) is
** averaged over its own n bins, n bin < M + bin: then E_ops + idle M <= cap
** (M + bin), so M is at least the least of (W - 1) bin and (E_ops - cap bin)
** / (cap - idle). Per chip, or for the system's summed power. */
static int64_t energy_bound(const ctx *x, double e_ops, double cap, double idle)
{
    double win_ns = (double)x->W * x->bin;
    double m_ns = (e_ops - cap * win_ns) / (cap - idle);
    double short_ns = (e_ops - cap * x->bin) / (cap - idle);
    if (short_ns > win_ns - x->bin) short_ns = win_ns - x->bin;
    if (short_ns > m_ns) m_ns = short_ns;
    return (int64_t)ceil(m_ns / x->T - 1e-9);
}

int budget_lower_bound(ctx *x, const budget_spec *sp, budget_report *rep)
{
    const sio_schedule *s = x->s;
    size_t n = s->n, slots = x->nch * x->c->n_units;
    int64_t mk = sio_schedule_makespan_cyc(s);
    int64_t *es = calloc(n ? n : 1, sizeof *es), *busy = calloc(slots ? slots : 1, sizeof *busy);
    bk *ord = malloc((n ? n : 1) * sizeof *ord);
    double *e_ops = calloc(x->nch, sizeof *e_ops);
    if (!es || !busy || !ord || !e_ops) { free(es); free(busy); free(ord); free(e_ops); return -1; }
    for (size_t i = 0; i < n; i++) { ord[i].k = s->start_cyc[i]; ord[i].i = (uint32_t)i; }
    qsort(ord, n, sizeof *ord, cmp_bk);
    int64_t cp = 0, bz = 0;
    /* earliest starts along the deps, in start order: a dep's source starts
    ** no later than its target, but may start at the same cycle and come
    ** later in that order (a lag of 0), so passes repeat until none moves
    ** (each pass settles one more link of such a chain) */
    for (int moved = 1; moved;) {
        moved = 0;
        for (size_t q = 0; q < n; q++) {
            size_t i = ord[q].i;
            for (size_t e = s->dep_off[i]; e < s->dep_off[i + 1]; e++) {
                size_t j = s->dep_src[e];
                int64_t c = s->dep_kind[e] == SIO_DEP_END ? s->cycles[j] : s->dep_lag[e];
                if (es[j] + c > es[i]) { es[i] = es[j] + c; moved = 1; }
            }
        }
    }
    for (size_t q = 0; q < n; q++) {
        size_t i = ord[q].i;
        if (es[i] + s->cycles[i] > cp) cp = es[i] + s->cycles[i];
        size_t u = (size_t)s->chip[i] * x->c->n_units + s->unit[i];
        busy[u] += s->cycles[i];
        if (busy[u] > bz) bz = busy[u];
        e_ops[s->chip[i]] += x->c->rails[x->c->units[s->unit[i]].rail].vdd_v * current_op_charge(x->c, s, i);
    }
    int64_t en = 0;
    /* (a cap at or below the idle power gives no bound: a run that it does
    ** not prove impossible is shorter than a window, and met by ending) */
    if (sp->power_cap_w > x->p_idle_w)
        for (size_t c = 0; c < x->nch; c++) {
            int64_t m = energy_bound(x, e_ops[c], sp->power_cap_w, x->p_idle_w);
            if (m > en) en = m;
        }
    if (x->use_sys && sp->system_power_cap_w > (double)x->nch * x->p_idle_w) {   /* the system: every chip's ops energy */
        double e = 0;
        for (size_t c = 0; c < x->nch; c++) e += e_ops[c];
        int64_t m = energy_bound(x, e, sp->system_power_cap_w, (double)x->nch * x->p_idle_w);
        if (m > en) en = m;
    }
    int64_t ht = headtail_all(x, sp);
    if (ht < 0) { free(es); free(busy); free(ord); free(e_ops); return -1; }
    if (ht > en) en = ht;
    int64_t pk = 0;
    if (sp->power_cap_w > x->p_idle_w && !x->no_packing) {
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
