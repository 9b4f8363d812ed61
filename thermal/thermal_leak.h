/* thermal_leak.h -- the fixed point of temperature and leakage
** (docs/thermal.md, "Leakage").
**
** Unit i leaks p_i exp(beta_i (T_i - t_ref)) watts at its mean temperature
** T_i (p_i = vdd x leak_a: the power at t_ref). Temperatures are linear in
** power, so on the n units that leak
**
**     T = T0 + A L(T)
**
** with T0 their temperatures under the other power and A (n x n, K/W) the
** rise of unit i per watt spread over unit j: the steady solve restricted to
** those units, exact (no approximation: leakage enters only there). A is
** built by the caller (one steady solve per leaking unit); everything here
** is dense n x n algebra, O(n^3) per Newton step.
**
** The steady state is the least fixed point, found by monotone Newton from
** T0; runaway (no fixed point) is decided by a criterion that needs no
** iteration count (see thermal_leak.c). Library code: nothing is printed. */
#ifndef PDA_THERMAL_LEAK_H
#define PDA_THERMAL_LEAK_H
#include <stddef.h>

#include "pda_status.h"

/* Temperatures above this (deg C) count as runaway, and the leakage law
** is evaluated at no more than this, so a run past runaway stays finite. */
#define THERMAL_LEAK_T_MAX_C 1e4

/* The reduced problem; every array is borrowed for the call. */
typedef struct thermal_leak_problem {
    size_t n;                  /* units that leak (>= 1) */
    const double *a_k_per_w;   /* n x n, row-major: rise of unit i per W of unit j; >= 0 */
    const double *t0_c;        /* n: temperatures without leakage, deg C */
    const double *p_ref_w;     /* n: leakage at t_ref_c, W (>= 0) */
    const double *beta_per_k;  /* n: temperature coefficients, 1/K (>= 0) */
    double t_ref_c;
} thermal_leak_problem;

/* p_ref_w exp(beta (T - t_ref)), T clamped at THERMAL_LEAK_T_MAX_C: the
** law every caller evaluates. */
double thermal_leak_w(double p_ref_w, double beta_per_k, double t_c, double t_ref_c);

/* The least fixed point T = T0 + A L_s(T) with every p_ref scaled by
** scale (>= 0). t_start (n, NULL: T0) must be a subsolution: T0, or the
** fixed point of a smaller scale. Writes the temperatures (t_c, n) and the
** leakage (leak_w, n; either may be NULL), the Newton steps taken
** (*iterations) and *runaway: 0 when the fixed point was found (to 1e-6 K),
** 1 when there is none (a step reached a loop gain >= 1 from below, or a
** temperature past THERMAL_LEAK_T_MAX_C); t_c then holds the last iterate,
** a lower bound on the temperatures. Returns 0, PDA_EINPUT (n = 0, NULL
** arrays, scale < 0) or PDA_ENOMEM. */
int thermal_leak_solve(const thermal_leak_problem *p, double scale, const double *t_start, double *t_c,
                       double *leak_w, size_t *iterations, int *runaway);

/* The factor s on every p_ref at which the fixed point vanishes (the fold:
** the loop gain of the least fixed point reaches 1), to 1e-9 relative; in
** *factor, INFINITY when there is none (no unit's leakage grows with
** temperature). Returns 0, PDA_EINPUT or PDA_ENOMEM. */
int thermal_leak_runaway_factor(const thermal_leak_problem *p, double *factor);

#endif
