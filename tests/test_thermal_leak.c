/* test_thermal_leak.c -- the fixed point of temperature and leakage against
** closed forms.
**
** - Lumped: T = Ta + R (P + L exp(beta (T - Tref))). With c = R L
**   exp(beta (Ta + R P - Tref)) the least root is T = Ta + R P -
**   W0(-beta c) / beta (W0 the principal branch of Lambert's W, computed
**   here by Halley's iteration), and the fixed point exists exactly while
**   beta c <= 1/e: the runaway factor is 1 / (e beta c), where the loop gain
**   beta R L' reaches 1. Both to 1e-9 (the factor to 1e-6 required) over
**   parameters from mild to near runaway; a scale just above the factor is
**   runaway, just below is not.
** - Two units: the fixed point's residual, and at the runaway factor the
**   loop gain's largest eigenvalue (closed form of a 2 x 2) is 1.
** - Through the grid (thermal_run_leak_steady): one unit covering the whole
**   die of a one-layer stack heats uniformly, so R = t/(2 k W H) + 1/(h W H)
**   exactly: the lumped closed forms again, through power maps, steady
**   solves and unit means. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sio.h"
#include "thermal.h"
#include "thermal_leak.h"
#include "thermal_run.h"

/* W0(z), z in [-1/e, 0]: Halley's iteration from the branch point's series
** near -1/e, from z elsewhere. */
static double lambert_w0(double z)
{
    const double e = exp(1.0);
    double w;
    if (z < -0.3) {
        double p = sqrt(fmax(2.0 * (e * z + 1.0), 0.0));
        w = -1.0 + p - p * p / 3.0 + 11.0 / 72.0 * p * p * p;
    } else {
        w = z;
    }
    for (int k = 0; k < 100; k++) {
        double ew = exp(w), f = w * ew - z;
        if (f == 0 || w == -1.0) break;
        double dw = f / (ew * (w + 1.0) - (w + 2.0) * f / (2.0 * w + 2.0));
        w -= dw;
        if (fabs(dw) <= 1e-16 * fmax(1.0, fabs(w))) break;
    }
    return w;
}

typedef struct lumped { double ta, r, p, l, beta, tref; } lumped;

static double lumped_c(const lumped *q) { return q->r * q->l * exp(q->beta * (q->ta + q->r * q->p - q->tref)); }

static double lumped_t(const lumped *q)
{
    return q->ta + q->r * q->p - lambert_w0(-q->beta * lumped_c(q)) / q->beta;
}

static double lumped_factor(const lumped *q) { return 1.0 / (exp(1.0) * q->beta * lumped_c(q)); }

static void test_lambert(void **st)
{
    (void)st;
    const double zs[] = {-1.0 / exp(1.0) + 1e-12, -0.3, -0.2, -0.05, -1e-6, 0};
    for (size_t k = 0; k < sizeof zs / sizeof zs[0]; k++) {
        double w = lambert_w0(zs[k]);
        assert_true(fabs(w * exp(w) - zs[k]) <= 1e-15);
        assert_true(w >= -1.0 && w <= 0.0);
    }
}

static const lumped cases[] = {
    {40, 0.5, 60, 2, 0.036, 110},    /* mild: leakage a few W */
    {45, 0.8, 50, 8, 0.036, 110},
    {25, 0.2, 300, 30, 0.02, 85},
    {40, 1.2, 20, 1, 0.05, 100},
    {60, 0.3, 120, 40, 0.03, 110},   /* hot */
    {50, 1.0, 60, 10, 0.04, 110},    /* past runaway at scale 1 (factor 0.92) */
};

static void test_lumped(void **st)
{
    (void)st;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const lumped *q = &cases[k];
        double sstar = lumped_factor(q);
        double t0 = q->ta + q->r * q->p;
        thermal_leak_problem p = {.n = 1, .a_k_per_w = &q->r, .t0_c = &t0, .p_ref_w = &q->l, .beta_per_k = &q->beta,
                                  .t_ref_c = q->tref};
        double f;
        assert_int_equal(thermal_leak_runaway_factor(&p, &f), 0);
        assert_true(fabs(f / sstar - 1) <= 1e-6);
        /* at scales from far below to just below the fold */
        const double s[] = {0.01, 0.3, 0.9, 0.999, 1 - 1e-6};
        for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
            lumped qs = *q;
            qs.l = q->l * s[i] * sstar;
            double t, lw, want = lumped_t(&qs);
            size_t it;
            int ra;
            assert_int_equal(thermal_leak_solve(&p, s[i] * sstar, NULL, &t, &lw, &it, &ra), 0);
            assert_int_equal(ra, 0);
            /* near the fold the root moves as sqrt(distance): 1e-6 of it is ~1e-3 of the rise */
            double tol = s[i] < 0.99 ? 1e-9 * fabs(want) : 2e-4 * (want - t0);
            if (fabs(t - want) > tol)
                fail_msg("case %zu scale %g: T %.12g, closed form %.12g", k, s[i], t, want);
            assert_true(fabs(lw - qs.l * exp(q->beta * (want - q->tref))) <= 1e-6 * lw + 1e-12);
            if (s[i] < 0.99) assert_true(it <= 12);
        }
        /* past the fold: a verdict, in bounded steps */
        const double over[] = {1 + 1e-6, 1.001, 2, 1e3, 1e8};
        for (size_t i = 0; i < sizeof over / sizeof over[0]; i++) {
            double t;
            size_t it;
            int ra;
            assert_int_equal(thermal_leak_solve(&p, over[i] * sstar, NULL, &t, NULL, &it, &ra), 0);
            assert_int_equal(ra, 1);
            assert_true(it <= 200);
            assert_true(isfinite(t));
        }
        /* the reported scale: 1 */
        double t, want = lumped_t(q);
        size_t it;
        int ra;
        assert_int_equal(thermal_leak_solve(&p, 1.0, NULL, &t, NULL, &it, &ra), 0);
        assert_int_equal(ra, sstar < 1);
        if (sstar > 1) assert_true(fabs(t - want) <= 1e-9 * want);
    }
}

/* Two coupled units: at the fixed point the residual vanishes; at the
** runaway factor the largest eigenvalue of s A diag(beta L) is 1. */
static void test_two_units(void **st)
{
    (void)st;
    const double a[4] = {0.6, 0.25, 0.25, 0.9}, t0[2] = {70, 85}, pref[2] = {3, 5}, beta[2] = {0.036, 0.025};
    thermal_leak_problem p = {.n = 2, .a_k_per_w = a, .t0_c = t0, .p_ref_w = pref, .beta_per_k = beta,
                              .t_ref_c = 110};
    double t[2], lw[2], f;
    size_t it;
    int ra;
    assert_int_equal(thermal_leak_solve(&p, 1.0, NULL, t, lw, &it, &ra), 0);
    assert_int_equal(ra, 0);
    for (int i = 0; i < 2; i++) {
        double g = t0[i] + a[2 * i] * lw[0] + a[2 * i + 1] * lw[1];
        assert_true(fabs(g - t[i]) <= 1e-9);
        assert_true(t[i] > t0[i]);
    }
    assert_int_equal(thermal_leak_runaway_factor(&p, &f), 0);
    assert_true(f > 1 && isfinite(f));
    /* just below: a fixed point whose loop gain is 1 to within the bracket's sqrt */
    assert_int_equal(thermal_leak_solve(&p, f * (1 - 1e-8), NULL, t, lw, &it, &ra), 0);
    assert_int_equal(ra, 0);
    double m00 = a[0] * beta[0] * lw[0], m01 = a[1] * beta[1] * lw[1], m10 = a[2] * beta[0] * lw[0],
           m11 = a[3] * beta[1] * lw[1];
    double tr = m00 + m11, det = m00 * m11 - m01 * m10, rho = 0.5 * (tr + sqrt(tr * tr - 4 * det));
    if (fabs(rho - 1) > 1e-3) fail_msg("loop gain at the runaway factor %.9g", rho);
    assert_int_equal(thermal_leak_solve(&p, f * (1 + 1e-8), NULL, t, lw, &it, &ra), 0);
    assert_int_equal(ra, 1);
    /* no growth with temperature: never runaway */
    const double b0[2] = {0, 0};
    p.beta_per_k = b0;
    assert_int_equal(thermal_leak_runaway_factor(&p, &f), 0);
    assert_true(isinf(f));
    /* arguments */
    assert_int_equal(thermal_leak_solve(NULL, 1.0, NULL, t, lw, &it, &ra), PDA_EINPUT);
    assert_int_equal(thermal_leak_solve(&p, -1.0, NULL, t, lw, &it, &ra), PDA_EINPUT);
    p.n = 0;
    assert_int_equal(thermal_leak_runaway_factor(&p, &f), PDA_EINPUT);
}

/* A one-layer, one-unit chip: the grid path against the lumped closed form. */
static void test_grid_lumped(void **st)
{
    (void)st;
    const double w_mm = 10, h_mm = 8, t_m = 5e-4, k = 150, htop = 5e3, vdd = 0.8;
    const double area = w_mm * h_mm * 1e-6, r = t_m / (2 * k * area) + 1 / (htop * area);
    for (size_t cse = 0; cse < 3; cse++) {
        const double leak_a[] = {0.5, 4.0, 9.0}, idle_a[] = {20, 30, 35}, beta = 0.036, tref = 110, ta = 40;
        char text[2048];
        snprintf(text, sizeof text,
                 "{\"format\": \"pda-chip/1\", \"name\": \"lumped\", \"clock_ghz\": 1, \"outline_mm\": [%g, %g],"
                 " \"dies\": [{\"id\": 0, \"name\": \"d\"}],"
                 " \"rails\": [{\"name\": \"core\", \"vdd_v\": %g, \"pdn\": {\"stages\": [{\"name\": \"s\","
                 " \"r_ohm\": 1e-4, \"l_h\": 1e-12, \"c_f\": 1e-6}]}}],"
                 " \"units\": [{\"name\": \"u\", \"class\": \"U\", \"die\": 0, \"rail\": \"core\","
                 " \"rect_mm\": [0, 0, %g, %g], \"idle_a\": %g, \"leak_a\": %g}],"
                 " \"ops\": [], \"thermal\": {\"ambient_c\": %g, \"grid\": [6, 5], \"h_top_w_m2k\": %g,"
                 " \"leakage\": {\"t_ref_c\": %g, \"beta_per_k\": %g},"
                 " \"layers\": [{\"name\": \"si\", \"die\": 0, \"thickness_m\": %g, \"k_w_mk\": %g,"
                 " \"cv_j_m3k\": 1.75e6}]}}",
                 w_mm, h_mm, vdd, w_mm, h_mm, idle_a[cse], leak_a[cse], ta, htop, tref, beta, t_m, k);
        sio_chip *c;
        sio_error err;
        if (sio_chip_from_buffer("lumped.json", text, strlen(text), &c, &err)) fail_msg("%s", err.text);
        thermal_layer ly = {t_m, k, 1.75e6, 0};
        thermal_stack s = {.width_m = w_mm * 1e-3, .height_m = h_mm * 1e-3, .layers = &ly, .n_layers = 1,
                           .h_top_w_m2k = htop, .ambient_c = ta, .n_dies = 1};
        thermal_plan *plan;
        thermal_units *tu;
        assert_int_equal(thermal_plan_create(&s, 6, 5, 0.0, &plan), 0);
        assert_int_equal(thermal_units_create(c, 6, 5, &tu), 0);
        double pw = idle_a[cse] * vdd, lw;
        thermal_leak_steady out;
        assert_int_equal(thermal_run_leak_steady(plan, tu, c, &pw, 1, &lw, &out), 0);
        lumped q = {ta, r, pw, leak_a[cse] * vdd, beta, tref};
        double sstar = lumped_factor(&q);
        assert_true(fabs(out.runaway_factor / sstar - 1) <= 1e-6);
        assert_int_equal(out.runaway, sstar < 1);
        if (sstar > 1) {
            double want = q.l * exp(beta * (lumped_t(&q) - tref));
            if (fabs(lw - want) > 1e-9 * want) fail_msg("case %zu: leakage %.12g W, closed form %.12g", cse, lw, want);
            assert_true(fabs(out.total_w - lw) <= 1e-12 * lw);
        }
        assert_int_equal(out.n_leaking, 1);
        /* the matrix-free path: the same, runaway by divergence */
        thermal_leak_steady fast;
        double lf;
        assert_int_equal(thermal_run_leak_steady(plan, tu, c, &pw, 0, &lf, &fast), 0);
        assert_int_equal(fast.runaway, sstar < 1);
        if (sstar > 1) assert_true(fabs(lf - lw) <= 1e-7 * lw);
        thermal_units_destroy(tu);
        thermal_plan_destroy(plan);
        sio_chip_free(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lambert),
        cmocka_unit_test(test_lumped),
        cmocka_unit_test(test_two_units),
        cmocka_unit_test(test_grid_lumped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
