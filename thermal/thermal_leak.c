/* thermal_leak.c -- the fixed point of temperature and leakage on the
** units that leak, and the factor on leakage at which it vanishes
** (thermal_leak.h; docs/thermal.md, "Leakage").
**
** G(T) = T0 + A L(T) is monotone (A >= 0: heat put anywhere warms every
** unit; L increasing) and convex (L convex). Three consequences carry the
** method:
**
** - Newton from a subsolution (G(T) >= T; T0 is one) climbs monotonically
**   to the least fixed point and stays below every fixed point: with
**   M = A diag(L') the Jacobian of G, T+ = T + (I - M)^-1 (G(T) - T), and
**   convexity gives G(T+) >= T+ and T* - T+ >= 0 while (I - M)^-1 >= 0.
**   Near a fixed point with loop gain rho(M*) < 1 it converges
**   quadratically; the steps stop when the last one moved no unit by more
**   than 1e-6 K (the step is the error estimate: (I - M)^-1 r).
** - rho(M) < 1 exactly when I - M (a Z-matrix: off-diagonals <= 0) is a
**   nonsingular M-matrix, i.e. exactly when Gaussian elimination without
**   pivoting meets only positive pivots. So each Newton step tests the loop
**   gain for free while it factors I - M.
** - No fixed point: if a subsolution T_k has rho(M(T_k)) >= 1, then with w
**   the left Perron vector (w^T M = rho w^T, w >= 0) and any fixed point
**   T* >= T_k, convexity gives w^T (T* - T_k) >= w^T (G(T_k) - T_k) +
**   rho w^T (T* - T_k), so (1 - rho) w^T (T* - T_k) >= w^T r >= 0 with
**   the left side <= 0: no fixed point above a strict subsolution. A Newton
**   step that meets a pivot <= 0 is therefore a proof of runaway, and
**   Newton's step grows without bound as the gain nears 1, so it gets there
**   in a few steps. A temperature past THERMAL_LEAK_T_MAX_C also counts as
**   runaway (no chip survives it; it keeps every number finite).
**
** The runaway factor s* (every p_ref scaled by s) is where the least fixed
** point meets the fold: bisection on s (geometric) with the decision above
** at each s, each solve warm-started from the fixed point of the largest s
** known to have one (a subsolution for any larger s). The bracket closes
** to 1e-9 relative.
**
** Sizes: n x n doubles of scratch; O(n^3) per Newton step. */
#include "thermal_leak.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LEAK_TOL_K 1e-6       /* the last Newton step moved no unit by more */
#define LEAK_MAX_STEPS 200
#define LEAK_EXP_MAX 700.0    /* exp() stays finite */
#define FACTOR_RTOL 1e-9

double thermal_leak_w(double p_ref_w, double beta_per_k, double t_c, double t_ref_c)
{
    double t = t_c < THERMAL_LEAK_T_MAX_C ? t_c : THERMAL_LEAK_T_MAX_C;
    double x = beta_per_k * (t - t_ref_c);
    return p_ref_w * exp(x < LEAK_EXP_MAX ? x : LEAK_EXP_MAX);
}

typedef struct scratch { double *b, *r, *l; } scratch;

static int scratch_open(scratch *w, size_t n)
{
    w->b = malloc(n * n * sizeof *w->b);
    w->r = malloc(2 * n * sizeof *w->r);
    if (!w->b || !w->r) {
        free(w->b);
        free(w->r);
        return PDA_ENOMEM;
    }
    w->l = w->r + n;
    return PDA_OK;
}

static void scratch_close(scratch *w)
{
    free(w->b);
    free(w->r);
}

/* Factors b (n x n, row-major) in place as LU without pivoting; 0, or -1
** at the first pivot <= 0 (b is then not a nonsingular M-matrix). */
static int lu_mmatrix(double *b, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        double piv = b[k * n + k];
        if (!(piv > 0)) return -1;
        for (size_t i = k + 1; i < n; i++) {
            double f = b[i * n + k] / piv;
            b[i * n + k] = f;
            if (f == 0) continue;
            const double *bk = b + k * n;
            double *bi = b + i * n;
            for (size_t j = k + 1; j < n; j++) bi[j] -= f * bk[j];
        }
    }
    return 0;
}

/* Solves L U x = x in place, column by column: each solved entry is
** subtracted from the entries still to solve. */
static void lu_solve(const double *b, size_t n, double *x)
{
    for (size_t k = 0; k < n; k++)
        for (size_t i = k + 1; i < n; i++) x[i] -= b[i * n + k] * x[k];
    for (size_t k = n; k-- > 0;) {
        x[k] /= b[k * n + k];
        for (size_t i = 0; i < k; i++) x[i] -= b[i * n + k] * x[k];
    }
}

/* Monotone Newton from t (in place). */
static void newton(const thermal_leak_problem *p, double s, double *t, scratch *w, size_t *iterations, int *runaway)
{
    const size_t n = p->n;
    const double *a = p->a_k_per_w;
    *runaway = 0;
    *iterations = 0;
    for (size_t k = 0; k < LEAK_MAX_STEPS; k++) {
        for (size_t j = 0; j < n; j++) {
            if (!(t[j] <= THERMAL_LEAK_T_MAX_C)) { *runaway = 1; return; }
            w->l[j] = s * thermal_leak_w(p->p_ref_w[j], p->beta_per_k[j], t[j], p->t_ref_c);
        }
        for (size_t i = 0; i < n; i++) {
            double g = p->t0_c[i];
            for (size_t j = 0; j < n; j++) {
                g += a[i * n + j] * w->l[j];
                w->b[i * n + j] = (i == j) - a[i * n + j] * p->beta_per_k[j] * w->l[j];
            }
            w->r[i] = g - t[i];
        }
        if (lu_mmatrix(w->b, n)) { *runaway = 1; return; }
        lu_solve(w->b, n, w->r);
        double step = 0;
        for (size_t i = 0; i < n; i++) {
            t[i] += w->r[i];
            if (fabs(w->r[i]) > step || !isfinite(w->r[i])) step = isfinite(w->r[i]) ? fabs(w->r[i]) : INFINITY;
        }
        *iterations = k + 1;
        if (step <= LEAK_TOL_K) {
            for (size_t j = 0; j < n; j++)
                if (!(t[j] <= THERMAL_LEAK_T_MAX_C)) { *runaway = 1; return; }
            return;
        }
    }
    *runaway = 1;   /* not settled in LEAK_MAX_STEPS: as close to the fold as doubles tell */
}

static int check(const thermal_leak_problem *p)
{
    return !p || !p->n || !p->a_k_per_w || !p->t0_c || !p->p_ref_w || !p->beta_per_k;
}

int thermal_leak_solve(const thermal_leak_problem *p, double scale, const double *t_start, double *t_c,
                       double *leak_w, size_t *iterations, int *runaway)
{
    if (check(p) || !t_c || !iterations || !runaway || !(scale >= 0)) return PDA_EINPUT;
    scratch w;
    if (scratch_open(&w, p->n)) return PDA_ENOMEM;
    memcpy(t_c, t_start ? t_start : p->t0_c, p->n * sizeof *t_c);
    newton(p, scale, t_c, &w, iterations, runaway);
    if (leak_w)
        for (size_t j = 0; j < p->n; j++)
            leak_w[j] = scale * thermal_leak_w(p->p_ref_w[j], p->beta_per_k[j], t_c[j], p->t_ref_c);
    scratch_close(&w);
    return PDA_OK;
}

int thermal_leak_runaway_factor(const thermal_leak_problem *p, double *factor)
{
    if (check(p) || !factor) return PDA_EINPUT;
    const size_t n = p->n;
    int grows = 0;
    for (size_t j = 0; j < n; j++) grows |= p->p_ref_w[j] > 0 && p->beta_per_k[j] > 0;
    if (!grows) {
        *factor = INFINITY;
        return PDA_OK;
    }
    scratch w;
    double *lo = malloc(2 * n * sizeof *lo);
    if (!lo || scratch_open(&w, n)) {
        free(lo);
        return PDA_ENOMEM;
    }
    double *t = lo + n;
    size_t it;
    int ra;
    double s_lo = 0, s_hi = INFINITY;
    memcpy(lo, p->t0_c, n * sizeof *lo);
    /* a bracket: up from 1 while a fixed point exists, down while none */
    for (double s = 1; s < 1e300 && s > 1e-300;) {
        memcpy(t, lo, n * sizeof *t);
        newton(p, s, t, &w, &it, &ra);
        if (!ra) {
            s_lo = s;
            memcpy(lo, t, n * sizeof *lo);
            if (s_hi < INFINITY) break;
            s *= 16;
        } else {
            s_hi = s;
            if (s_lo > 0) break;
            s /= 16;
        }
    }
    while (s_lo > 0 && s_hi < INFINITY && s_hi > s_lo * (1 + FACTOR_RTOL)) {
        double s = sqrt(s_lo * s_hi);
        if (!(s > s_lo && s < s_hi)) break;
        memcpy(t, lo, n * sizeof *t);
        newton(p, s, t, &w, &it, &ra);
        if (!ra) {
            s_lo = s;
            memcpy(lo, t, n * sizeof *lo);
        } else {
            s_hi = s;
        }
    }
    *factor = s_hi == INFINITY ? INFINITY : s_lo > 0 ? sqrt(s_lo * s_hi) : s_hi;
    scratch_close(&w);
    free(lo);
    return PDA_OK;
}
