/* test_thermal.c -- the thermal solver against independent references.
**
** - A direct solve of the finite-difference grid model (docs/thermal.md), assembled here
**   node by node from the written rules (dense matrix, Gaussian elimination
**   with partial pivoting), on small non-square grids, stacks of 1 to 6 (and
**   a realistic 7) layers, insulated and cooled bottoms: steady states must
**   agree to 1e-9 of the largest rise.
** - Transient: the same dense model integrated by backward Euler with 128,
**   256 and 512 substeps per frame, combined by Richardson extrapolation
**   (third order); agreement to 1e-8 of the largest rise is required (the
**   extrapolated reference is itself good to ~1e-9 on these stacks; the
**   exact modal step has no time-step error of its own).
** - The 1-D layered slab under uniform power: series thermal resistances.
** - Energy balance: in steady state the heat leaving top and bottom equals
**   the power put in.
** - Power-map spreading: hand-computed overlaps, conservation, edges.
** - Properties: steady state is a fixed point of a frame; a very long frame
**   lands on the steady state; argument and stack checks.
** - Leakage (thermal_run_leak_steady): the steady fixed point of temperature
**   and leakage against a plain fixed-point iteration of the dense grid
**   model, with the units' cell weights computed here from their rectangles,
**   on random stacks and rectangles straddling cells: 1e-9.
** - Periodic steady state (thermal_state_periodic): against explicit
**   repetitions of the period from ambient until they stop changing, and a
**   period stepped from it returns to it: 1e-9 of the largest rise. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sio.h"
#include "thermal.h"
#include "thermal_run.h"

/* ---- helpers ---- */

static uint64_t rng_state = 88172645463325252u;
static double rnd(void) /* uniform in [0, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}

static double *xcalloc(size_t n)
{
    double *p = calloc(n ? n : 1, sizeof *p);
    assert_non_null(p);
    return p;
}

/* Dense grid model: G (n x n) and C (n), node (l, j, i) at l nm + j nx + i. */
typedef struct dense {
    size_t n, nx, ny, nl;
    double *g, *c;
    double gtop_cell, gbot_cell;   /* per-cell conductance to ambient */
} dense;

static void couple(dense *d, size_t a, size_t b, double g)
{
    d->g[a * d->n + a] += g;
    d->g[b * d->n + b] += g;
    d->g[a * d->n + b] -= g;
    d->g[b * d->n + a] -= g;
}

static dense dense_build(const thermal_stack *s, size_t nx, size_t ny)
{
    dense d = {.nx = nx, .ny = ny, .nl = s->n_layers};
    size_t nm = nx * ny;
    d.n = nm * d.nl;
    d.g = xcalloc(d.n * d.n);
    d.c = xcalloc(d.n);
    double dx = s->width_m / (double)nx, dy = s->height_m / (double)ny, a = dx * dy;
    for (size_t l = 0; l < d.nl; l++) {
        const thermal_layer *ly = &s->layers[l];
        double gx = ly->k_w_mk * ly->thickness_m * dy / dx;
        double gy = ly->k_w_mk * ly->thickness_m * dx / dy;
        for (size_t j = 0; j < ny; j++) {
            for (size_t i = 0; i < nx; i++) {
                size_t n0 = l * nm + j * nx + i;
                d.c[n0] = ly->cv_j_m3k * ly->thickness_m * a;
                if (i + 1 < nx) couple(&d, n0, n0 + 1, gx);
                if (j + 1 < ny) couple(&d, n0, n0 + nx, gy);
                if (l + 1 < d.nl) {
                    const thermal_layer *up = &s->layers[l + 1];
                    couple(&d, n0, n0 + nm,
                           1.0 / (ly->thickness_m / (2 * ly->k_w_mk * a) +
                                  up->thickness_m / (2 * up->k_w_mk * a)));
                } else {
                    d.gtop_cell = 1.0 / (ly->thickness_m / (2 * ly->k_w_mk * a) +
                                         1.0 / (s->h_top_w_m2k * a));
                    d.g[n0 * d.n + n0] += d.gtop_cell;
                }
                if (l == 0 && s->h_bottom_w_m2k > 0) {
                    d.gbot_cell = 1.0 / (ly->thickness_m / (2 * ly->k_w_mk * a) +
                                         1.0 / (s->h_bottom_w_m2k * a));
                    d.g[n0 * d.n + n0] += d.gbot_cell;
                }
            }
        }
    }
    return d;
}

static void dense_free(dense *d)
{
    free(d->g);
    free(d->c);
}

/* LU with partial pivoting in place; piv receives the row order. */
static void lu_factor(size_t n, double *a, size_t *piv)
{
    for (size_t i = 0; i < n; i++) piv[i] = i;
    for (size_t k = 0; k < n; k++) {
        size_t best = k;
        for (size_t r = k + 1; r < n; r++)
            if (fabs(a[r * n + k]) > fabs(a[best * n + k])) best = r;
        assert_true(a[best * n + k] != 0.0);
        if (best != k) {
            for (size_t c = 0; c < n; c++) {
                double t = a[k * n + c];
                a[k * n + c] = a[best * n + c];
                a[best * n + c] = t;
            }
            size_t t = piv[k]; piv[k] = piv[best]; piv[best] = t;
        }
        for (size_t r = k + 1; r < n; r++) {
            double f = a[r * n + k] / a[k * n + k];
            a[r * n + k] = f;
            for (size_t c = k + 1; c < n; c++) a[r * n + c] -= f * a[k * n + c];
        }
    }
}

static void lu_solve(size_t n, const double *a, const size_t *piv,
                     const double *b, double *x)
{
    for (size_t i = 0; i < n; i++) {
        double s = b[piv[i]];
        for (size_t k = 0; k < i; k++) s -= a[i * n + k] * x[k];
        x[i] = s;
    }
    for (size_t i = n; i-- > 0;) {
        double s = x[i];
        for (size_t k = i + 1; k < n; k++) s -= a[i * n + k] * x[k];
        x[i] = s / a[i * n + i];
    }
}

/* Node power vector from die maps. */
static void node_power(const thermal_stack *s, size_t nm, const double *maps,
                       double *pn)
{
    for (size_t l = 0; l < s->n_layers; l++)
        for (size_t m = 0; m < nm; m++)
            pn[l * nm + m] = s->layers[l].die >= 0
                                 ? maps[(size_t)s->layers[l].die * nm + m] : 0.0;
}

/* Steady rise of every node: G T = P. */
static void dense_steady(const dense *d, const double *pn, double *t)
{
    double *a = xcalloc(d->n * d->n);
    size_t *piv = malloc(d->n * sizeof *piv);
    assert_non_null(piv);
    memcpy(a, d->g, d->n * d->n * sizeof *a);
    lu_factor(d->n, a, piv);
    lu_solve(d->n, a, piv, pn, t);
    free(a);
    free(piv);
}

static double max_abs(const double *v, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(v[i]));
    return m;
}

/* A random stack of nl layers and nd dies, outline ~2 x 3 mm. */
static thermal_layer g_layers[8];
static thermal_stack random_stack(size_t nl, size_t nd, double h_bottom)
{
    for (size_t l = 0; l < nl; l++) {
        g_layers[l] = (thermal_layer){
            .thickness_m = 2e-5 + 4e-4 * rnd(),
            .k_w_mk = 2.0 + 398.0 * rnd(),
            .cv_j_m3k = 1.5e6 + 2e6 * rnd(),
            .die = -1};
    }
    /* dies on distinct layers, spread through the stack */
    for (size_t d = 0; d < nd; d++) g_layers[(d * nl) / nd].die = (int)d;
    return (thermal_stack){.width_m = 2e-3, .height_m = 3e-3, .layers = g_layers,
                           .n_layers = nl, .h_top_w_m2k = 2e4,
                           .h_bottom_w_m2k = h_bottom, .ambient_c = 40.0,
                           .n_dies = nd};
}

/* The example stack of samples/stack (7 layers, 2 dies; very thin layers). */
static const thermal_layer design_layers[7] = {
    {2e-6, 120, 1.75e6, 0},  {4.8e-5, 120, 1.75e6, -1}, {2e-6, 3, 2e6, -1},
    {2e-6, 120, 1.75e6, 1},  {2.98e-4, 120, 1.75e6, -1}, {3e-5, 5, 2e6, -1},
    {1.5e-3, 390, 3.45e6, -1}};
static thermal_stack design_stack(double h_bottom)
{
    return (thermal_stack){.width_m = 25e-3, .height_m = 29e-3, .layers = design_layers,
                           .n_layers = 7, .h_top_w_m2k = 2e4,
                           .h_bottom_w_m2k = h_bottom, .ambient_c = 40.0, .n_dies = 2};
}

static void random_power(double *maps, size_t n, double scale)
{
    for (size_t i = 0; i < n; i++) maps[i] = scale * rnd();
}

/* ---- steady state against the dense solve ---- */

static double steady_case(const thermal_stack *s, size_t nx, size_t ny)
{
    size_t nm = nx * ny, nl = s->n_layers, nd = s->n_dies;
    thermal_plan *p = NULL;
    assert_int_equal(thermal_plan_create(s, nx, ny, 0.0, &p), 0);
    double *pw = xcalloc(nd * nm), *pn = xcalloc(nl * nm), *ref = xcalloc(nl * nm);
    double *all = xcalloc(nl * nm), *die = xcalloc(nd * nm);
    random_power(pw, nd * nm, 0.5);
    pw[0] += 2.0;  /* a hot cell in a corner */
    node_power(s, nm, pw, pn);
    dense d = dense_build(s, nx, ny);
    dense_steady(&d, pn, ref);
    assert_int_equal(thermal_steady_layers(p, pw, all), 0);
    assert_int_equal(thermal_steady(p, pw, die), 0);
    double scale = max_abs(ref, nl * nm), err = 0;
    assert_true(scale > 0);
    for (size_t k = 0; k < nl * nm; k++) err = fmax(err, fabs(all[k] - 40.0 - ref[k]));
    for (size_t l = 0; l < nl; l++)  /* the die maps are the die layers' maps */
        if (s->layers[l].die >= 0)
            for (size_t m = 0; m < nm; m++)
                assert_true(die[(size_t)s->layers[l].die * nm + m] == all[l * nm + m]);
    dense_free(&d);
    free(pw); free(pn); free(ref); free(all); free(die);
    thermal_plan_destroy(p);
    return err / scale;
}

static void test_steady_matches_grid_model(void **st)
{
    (void)st;
    static const size_t grids[][2] = {{5, 3}, {4, 6}, {7, 7}, {1, 4}, {6, 1}, {1, 1}};
    double worst = 0;
    for (size_t g = 0; g < sizeof grids / sizeof grids[0]; g++) {
        for (size_t nl = 1; nl <= 6; nl++) {
            for (int hb = 0; hb < 2; hb++) {
                size_t nd = 1 + (nl + g) % (nl < 3 ? nl : 3);
                thermal_stack s = random_stack(nl, nd, hb ? 3e3 : 0.0);
                double e = steady_case(&s, grids[g][0], grids[g][1]);
                worst = fmax(worst, e);
                assert_true(e < 1e-9);
            }
        }
    }
    /* the realistic stiff stack: micron layers next to a 1.5 mm lid */
    for (int hb = 0; hb < 2; hb++) {
        thermal_stack s = design_stack(hb ? 1e3 : 0.0);
        double e = steady_case(&s, 7, 5);
        worst = fmax(worst, e);
        assert_true(e < 1e-9);
    }
    print_message("steady vs dense grid model: worst relative error %.2e\n", worst);
}

/* ---- transient against backward Euler + Richardson ---- */

#define NFRAMES 4

/* Runs the dense model from t0 over NFRAMES frames of power pn[k] with nsub
** backward Euler substeps per frame; out[k] = rise at the end of frame k. */
static void dense_be(const dense *d, double dt, size_t nsub, const double *t0,
                     double *const *pn, double *const *out)
{
    size_t n = d->n;
    double h = dt / (double)nsub;
    double *a = xcalloc(n * n), *t = xcalloc(n), *rhs = xcalloc(n);
    size_t *piv = malloc(n * sizeof *piv);
    assert_non_null(piv);
    memcpy(a, d->g, n * n * sizeof *a);
    for (size_t i = 0; i < n; i++) a[i * n + i] += d->c[i] / h;
    lu_factor(n, a, piv);
    memcpy(t, t0, n * sizeof *t);
    for (size_t k = 0; k < NFRAMES; k++) {
        for (size_t s = 0; s < nsub; s++) {
            for (size_t i = 0; i < n; i++) rhs[i] = d->c[i] / h * t[i] + pn[k][i];
            lu_solve(n, a, piv, rhs, t);
        }
        memcpy(out[k], t, n * sizeof *t);
    }
    free(a); free(t); free(rhs); free(piv);
}

static double transient_case(const thermal_stack *s, size_t nx, size_t ny, double dt)
{
    size_t nm = nx * ny, nl = s->n_layers, nd = s->n_dies, n = nl * nm;
    thermal_plan *p = NULL;
    thermal_state *st = NULL;
    assert_int_equal(thermal_plan_create(s, nx, ny, dt, &p), 0);
    assert_int_equal(thermal_state_create(p, &st), 0);
    dense d = dense_build(s, nx, ny);
    double *pw0 = xcalloc(nd * nm), *pn0 = xcalloc(n), *t0 = xcalloc(n);
    double *pw[NFRAMES], *pn[NFRAMES], *r1[NFRAMES], *r2[NFRAMES], *r4[NFRAMES];
    random_power(pw0, nd * nm, 0.3);
    node_power(s, nm, pw0, pn0);
    dense_steady(&d, pn0, t0);
    for (size_t k = 0; k < NFRAMES; k++) {
        pw[k] = xcalloc(nd * nm); pn[k] = xcalloc(n);
        r1[k] = xcalloc(n); r2[k] = xcalloc(n); r4[k] = xcalloc(n);
        random_power(pw[k], nd * nm, k % 2 ? 0.1 : 1.0);  /* bursts and lulls */
        node_power(s, nm, pw[k], pn[k]);
    }
    dense_be(&d, dt, 128, t0, pn, r1);
    dense_be(&d, dt, 256, t0, pn, r2);
    dense_be(&d, dt, 512, t0, pn, r4);

    double *all = xcalloc(n), *die = xcalloc(nd * nm), err = 0, scale = 0;
    assert_int_equal(thermal_state_set_steady(p, st, pw0), 0);
    assert_int_equal(thermal_state_layers(p, st, all), 0);
    for (size_t i = 0; i < n; i++) {   /* the start is the steady state */
        scale = fmax(scale, fabs(t0[i]));
        err = fmax(err, fabs(all[i] - 40.0 - t0[i]));
    }
    for (size_t k = 0; k < NFRAMES; k++) {
        assert_int_equal(thermal_step(p, st, pw[k], die), 0);
        assert_int_equal(thermal_state_layers(p, st, all), 0);
        for (size_t i = 0; i < n; i++) {
            double ref = (r1[k][i] - 6.0 * r2[k][i] + 8.0 * r4[k][i]) / 3.0;
            scale = fmax(scale, fabs(ref));
            err = fmax(err, fabs(all[i] - 40.0 - ref));
        }
        for (size_t l = 0; l < nl; l++)
            if (s->layers[l].die >= 0)
                for (size_t m = 0; m < nm; m++)
                    assert_true(fabs(die[(size_t)s->layers[l].die * nm + m] -
                                     all[l * nm + m]) < 1e-12 * (40.0 + scale));
    }
    for (size_t k = 0; k < NFRAMES; k++) {
        free(pw[k]); free(pn[k]); free(r1[k]); free(r2[k]); free(r4[k]);
    }
    free(pw0); free(pn0); free(t0); free(all); free(die);
    dense_free(&d);
    thermal_state_destroy(st);
    thermal_plan_destroy(p);
    return err / scale;
}

static void test_transient_matches_grid_model(void **st)
{
    (void)st;
    static const size_t grids[][2] = {{5, 3}, {4, 6}};
    double worst = 0;
    for (size_t g = 0; g < 2; g++) {
        for (size_t nl = 1; nl <= 6; nl++) {
            for (int hb = 0; hb < 2; hb++) {
                size_t nd = 1 + (nl + g) % (nl < 3 ? nl : 3);
                thermal_stack s = random_stack(nl, nd, hb ? 3e3 : 0.0);
                double e = transient_case(&s, grids[g][0], grids[g][1], 2e-4);
                worst = fmax(worst, e);
                assert_true(e < 1e-8);
            }
        }
    }
    /* the realistic stack, micron layers included, on 10 us frames */
    for (int hb = 0; hb < 2; hb++) {
        thermal_stack s = design_stack(hb ? 1e3 : 0.0);
        double e = transient_case(&s, 5, 3, 1e-5);
        worst = fmax(worst, e);
        assert_true(e < 1e-8);
    }
    print_message("transient vs backward Euler + Richardson: worst relative error %.2e\n",
                  worst);
}

/* ---- 1-D slab: series resistances ---- */

/* Closed form for uniform power q_d (W/m^2) on the die layers: resistances
** per unit area between node centres, superposed over dies; a die's heat
** splits between the top and bottom paths in inverse ratio of their
** resistances; with an insulated bottom the layers below a die sit at its
** temperature. Writes the rise of every layer. */
static void slab_closed_form(const thermal_stack *s, const double *q, double *rise)
{
    size_t nl = s->n_layers;
    /* r_up[l]: node l to top ambient; r_dn[l]: node l to bottom ambient */
    double r_up[8], r_dn[8];
    const thermal_layer *ly = s->layers;
    r_up[nl - 1] = ly[nl - 1].thickness_m / (2 * ly[nl - 1].k_w_mk) + 1.0 / s->h_top_w_m2k;
    for (size_t l = nl - 1; l-- > 0;)
        r_up[l] = r_up[l + 1] + ly[l].thickness_m / (2 * ly[l].k_w_mk) +
                  ly[l + 1].thickness_m / (2 * ly[l + 1].k_w_mk);
    double hb = s->h_bottom_w_m2k;
    r_dn[0] = hb > 0 ? ly[0].thickness_m / (2 * ly[0].k_w_mk) + 1.0 / hb : INFINITY;
    for (size_t l = 1; l < nl; l++)
        r_dn[l] = r_dn[l - 1] + ly[l].thickness_m / (2 * ly[l].k_w_mk) +
                  ly[l - 1].thickness_m / (2 * ly[l - 1].k_w_mk);
    for (size_t l = 0; l < nl; l++) rise[l] = 0;
    for (size_t k = 0; k < nl; k++) {
        if (ly[k].die < 0) continue;
        double qk = q[ly[k].die];
        double up = isinf(r_dn[k]) ? qk : qk * r_dn[k] / (r_up[k] + r_dn[k]);
        double dn = qk - up;
        for (size_t l = 0; l < nl; l++) {
            if (l >= k) rise[l] += up * r_up[l];
            else if (isinf(r_dn[l])) rise[l] += up * r_up[k]; /* no flow below */
            else rise[l] += dn * r_dn[l];
        }
    }
}

static void slab_case(const thermal_stack *s, size_t nx, size_t ny, const double *pdie_w)
{
    size_t nm = nx * ny, nl = s->n_layers, nd = s->n_dies;
    thermal_plan *p = NULL;
    assert_int_equal(thermal_plan_create(s, nx, ny, 0.0, &p), 0);
    double *pw = xcalloc(nd * nm), *all = xcalloc(nl * nm), q[8], rise[8];
    for (size_t d = 0; d < nd; d++) {
        for (size_t m = 0; m < nm; m++) pw[d * nm + m] = pdie_w[d] / (double)nm;
        q[d] = pdie_w[d] / (s->width_m * s->height_m);
    }
    slab_closed_form(s, q, rise);
    assert_int_equal(thermal_steady_layers(p, pw, all), 0);
    for (size_t l = 0; l < nl; l++)
        for (size_t m = 0; m < nm; m++)
            assert_true(fabs(all[l * nm + m] - s->ambient_c - rise[l]) <= 1e-10 * rise[l]);
    free(pw); free(all);
    thermal_plan_destroy(p);
}

static void test_slab_series_resistance(void **st)
{
    (void)st;
    const double p2[2] = {220.0, 80.0};
    thermal_stack s = design_stack(0.0);
    slab_case(&s, 8, 6, p2);
    s = design_stack(2e3);
    slab_case(&s, 5, 9, p2);
    for (size_t nl = 1; nl <= 6; nl++) {
        s = random_stack(nl, nl < 2 ? 1 : 2, nl % 2 ? 0.0 : 4e3);
        slab_case(&s, 3, 4, p2);
    }
    /* a hand check: one 100 um silicon layer, 1 W/cm^2 = 1e4 W/m^2, h = 1e4:
    ** rise = q (t/(2k) + 1/h) = 1e4 (1e-4/240 + 1e-4) = 1.0041666... K */
    thermal_layer one = {1e-4, 120, 1.75e6, 0};
    thermal_stack s1 = {.width_m = 1e-2, .height_m = 1e-2, .layers = &one, .n_layers = 1,
                        .h_top_w_m2k = 1e4, .ambient_c = 25.0, .n_dies = 1};
    thermal_plan *p = NULL;
    assert_int_equal(thermal_plan_create(&s1, 4, 4, 0.0, &p), 0);
    double pw[16], t[16];
    for (int i = 0; i < 16; i++) pw[i] = 1.0 / 16.0;  /* 1 W over 1 cm^2 */
    assert_int_equal(thermal_steady(p, pw, t), 0);
    for (int i = 0; i < 16; i++) assert_true(fabs(t[i] - 25.0 - (1.0 + 1.0 / 240.0)) < 1e-12);
    thermal_plan_destroy(p);
}

/* ---- energy balance ---- */

static void test_energy_balance(void **st)
{
    (void)st;
    for (int hb = 0; hb < 2; hb++) {
        thermal_stack s = design_stack(hb ? 5e3 : 0.0);
        size_t nx = 24, ny = 17, nm = nx * ny;
        thermal_plan *p = NULL;
        assert_int_equal(thermal_plan_create(&s, nx, ny, 0.0, &p), 0);
        double *pw = xcalloc(2 * nm), *all = xcalloc(7 * nm), total = 0;
        random_power(pw, 2 * nm, 1.0);
        for (size_t k = 0; k < 2 * nm; k++) total += pw[k];
        assert_int_equal(thermal_steady_layers(p, pw, all), 0);
        dense d = {0};
        double dx = s.width_m / (double)nx, dy = s.height_m / (double)ny, a = dx * dy;
        d.gtop_cell = 1.0 / (1.5e-3 / (2 * 390 * a) + 1.0 / (2e4 * a));
        d.gbot_cell = hb ? 1.0 / (2e-6 / (2 * 120 * a) + 1.0 / (5e3 * a)) : 0.0;
        double out_top = 0, out_bot = 0;
        for (size_t m = 0; m < nm; m++) {
            out_top += d.gtop_cell * (all[6 * nm + m] - 40.0);
            out_bot += d.gbot_cell * (all[m] - 40.0);
        }
        assert_true(fabs(out_top + out_bot - total) < 1e-9 * total);
        if (hb) assert_true(out_bot > 0.01 * total);
        free(pw); free(all);
        thermal_plan_destroy(p);
    }
}

/* ---- transient properties ---- */

static void test_transient_properties(void **st)
{
    (void)st;
    thermal_stack s = design_stack(0.0);
    size_t nx = 16, ny = 12, nm = nx * ny;
    double *pw = xcalloc(2 * nm), *ss = xcalloc(2 * nm), *t = xcalloc(2 * nm);
    random_power(pw, 2 * nm, 2.0);
    thermal_plan *p = NULL;
    thermal_state *x = NULL;
    /* steady is a fixed point of 10 us frames */
    assert_int_equal(thermal_plan_create(&s, nx, ny, 1e-5, &p), 0);
    assert_int_equal(thermal_steady(p, pw, ss), 0);
    assert_int_equal(thermal_state_create(p, &x), 0);
    assert_int_equal(thermal_state_set_steady(p, x, pw), 0);
    double rise = 0;
    for (size_t k = 0; k < 2 * nm; k++) rise = fmax(rise, ss[k] - 40.0);
    for (int f = 0; f < 50; f++) assert_int_equal(thermal_step(p, x, pw, t), 0);
    for (size_t k = 0; k < 2 * nm; k++) assert_true(fabs(t[k] - ss[k]) < 1e-9 * rise);
    /* from ambient the die warms but stays below the steady state */
    assert_int_equal(thermal_state_set_steady(p, x, NULL), 0);
    assert_int_equal(thermal_state_temps(p, x, t), 0);
    for (size_t k = 0; k < 2 * nm; k++) assert_true(fabs(t[k] - 40.0) < 1e-12);
    assert_int_equal(thermal_step(p, x, pw, t), 0);
    double mx = 0;
    for (size_t k = 0; k < 2 * nm; k++) mx = fmax(mx, t[k] - 40.0);
    assert_true(mx > 0 && mx < rise);
    thermal_state_destroy(x);
    thermal_plan_destroy(p);
    /* one 1000 s frame from ambient lands on the steady state */
    assert_int_equal(thermal_plan_create(&s, nx, ny, 1e3, &p), 0);
    assert_int_equal(thermal_state_create(p, &x), 0);
    assert_int_equal(thermal_step(p, x, pw, t), 0);
    for (size_t k = 0; k < 2 * nm; k++) assert_true(fabs(t[k] - ss[k]) < 1e-9 * rise);
    thermal_state_destroy(x);
    thermal_plan_destroy(p);
    free(pw); free(ss); free(t);
}

/* ---- power maps ---- */

static double sum(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += v[i];
    return s;
}

static void test_power_map(void **st)
{
    (void)st;
    /* 4 x 2 mm outline, 1 mm cells; [0.5, 0.5, 2, 1] at 8 W = 4 W/mm^2 */
    double map[8] = {0};
    const double r1[4] = {0.5, 0.5, 2.0, 1.0};
    assert_int_equal(thermal_power_map(r1, 4.0, 2.0, 4, 2, 8.0, map), 0);
    const double want[8] = {1, 2, 1, 0, 1, 2, 1, 0};
    for (int i = 0; i < 8; i++) assert_true(fabs(map[i] - want[i]) < 1e-14);
    /* accumulates; the whole outline is uniform */
    const double whole[4] = {0, 0, 4, 2};
    assert_int_equal(thermal_power_map(whole, 4.0, 2.0, 4, 2, 4.0, map), 0);
    for (int i = 0; i < 8; i++) assert_true(fabs(map[i] - want[i] - 0.5) < 1e-14);

    /* the TSP-like outline on an awkward grid: floorplan-style rectangles
    ** straddling cells and touching the edges keep their power */
    size_t nx = 37, ny = 23;
    double *m2 = xcalloc(nx * ny), total = 0;
    const double rects[][4] = {{0, 3, 2, 24.15},      {23, 3, 2, 24.15},
                               {12.04, 3, 0.92, 24.15}, {0, 0, 25, 1.5},
                               {0, 27.15, 25, 1.85},  {5.16, 7.6, 0.16, 1.15},
                               {24.99, 28.99, 0.01, 0.01}};
    for (size_t r = 0; r < sizeof rects / sizeof rects[0]; r++) {
        double pr = 10.0 + (double)r;
        assert_int_equal(thermal_power_map(rects[r], 25.0, 29.0, nx, ny, pr, m2), 0);
        total += pr;
        assert_true(fabs(sum(m2, nx * ny) - total) < 1e-12 * total);
    }
    /* the tiny corner rectangle sits in the last cell alone */
    double before = m2[nx * ny - 1];
    const double corner[4] = {24.999, 28.999, 0.001, 0.001};
    assert_int_equal(thermal_power_map(corner, 25.0, 29.0, nx, ny, 1.0, m2), 0);
    assert_true(fabs(m2[nx * ny - 1] - before - 1.0) < 1e-12);
    /* each cell's share equals its overlap area times the density: a
    ** rectangle over cells of 25/37 x 29/23 mm */
    double *m3 = xcalloc(nx * ny);
    const double r3[4] = {1.0, 2.0, 3.3, 4.4};
    assert_int_equal(thermal_power_map(r3, 25.0, 29.0, nx, ny, 7.0, m3), 0);
    double cx = 25.0 / 37.0, cy = 29.0 / 23.0;
    for (size_t j = 0; j < ny; j++)
        for (size_t i = 0; i < nx; i++) {
            double ox = fmax(0, fmin(4.3, (double)(i + 1) * cx) - fmax(1.0, (double)i * cx));
            double oy = fmax(0, fmin(6.4, (double)(j + 1) * cy) - fmax(2.0, (double)j * cy));
            assert_true(fabs(m3[j * nx + i] - 7.0 * ox * oy / (3.3 * 4.4)) < 1e-12);
        }
    /* round-off overhang at the edge is clipped, power kept */
    double m4[4] = {0};
    const double over[4] = {0.5, 0.0, 1.5 + 1e-12, 1.0};
    assert_int_equal(thermal_power_map(over, 2.0, 1.0, 2, 2, 3.0, m4), 0);
    assert_true(fabs(sum(m4, 4) - 3.0) < 1e-14);
    assert_true(fabs(m4[0] - 0.5) < 1e-12 && fabs(m4[1] - 1.0) < 1e-12);
    /* outside, empty: refused, map untouched */
    const double out1[4] = {1.5, 0.0, 1.0, 1.0}, out2[4] = {-0.1, 0, 1, 1};
    const double empty[4] = {0.5, 0.5, 0.0, 0.2}, neg[4] = {0.5, 0.5, 0.2, -0.2};
    double m5[4] = {0};
    assert_int_equal(thermal_power_map(out1, 2.0, 1.0, 2, 2, 1.0, m5), THERMAL_ERANGE);
    assert_int_equal(thermal_power_map(out2, 2.0, 1.0, 2, 2, 1.0, m5), THERMAL_ERANGE);
    assert_int_equal(thermal_power_map(empty, 2.0, 1.0, 2, 2, 1.0, m5), THERMAL_ERANGE);
    assert_int_equal(thermal_power_map(neg, 2.0, 1.0, 2, 2, 1.0, m5), THERMAL_ERANGE);
    assert_true(sum(m5, 4) == 0.0);
    assert_int_equal(thermal_power_map(NULL, 2.0, 1.0, 2, 2, 1.0, m5), THERMAL_EINVAL);
    assert_int_equal(thermal_power_map(r1, 2.0, 1.0, 0, 2, 1.0, m5), THERMAL_EINVAL);
    assert_int_equal(thermal_power_map(r1, 2.0, NAN, 2, 2, 1.0, m5), THERMAL_EINVAL);
    free(m2); free(m3);
}

/* ---- argument and stack checks ---- */

static void test_errors(void **st)
{
    (void)st;
    thermal_plan *p = (thermal_plan *)&p;
    thermal_layer ly[2] = {{1e-4, 120, 1.75e6, 0}, {1e-3, 390, 3.45e6, -1}};
    thermal_stack good = {.width_m = 1e-2, .height_m = 1e-2, .layers = ly, .n_layers = 2,
                          .h_top_w_m2k = 1e4, .ambient_c = 40, .n_dies = 1};
    thermal_stack s;
#define BAD(expr, code)                                                  \
    do {                                                                 \
        s = good; ly[0] = (thermal_layer){1e-4, 120, 1.75e6, 0};         \
        ly[1] = (thermal_layer){1e-3, 390, 3.45e6, -1};                  \
        expr;                                                            \
        assert_int_equal(thermal_plan_create(&s, 4, 4, 1e-5, &p), code); \
        assert_null(p);                                                  \
    } while (0)
    BAD(s.h_top_w_m2k = 0, THERMAL_ESTACK);
    BAD(s.h_bottom_w_m2k = -1, THERMAL_ESTACK);
    BAD(s.width_m = 0, THERMAL_ESTACK);
    BAD(s.height_m = NAN, THERMAL_ESTACK);
    BAD(ly[1].thickness_m = 0, THERMAL_ESTACK);
    BAD(ly[1].k_w_mk = -3, THERMAL_ESTACK);
    BAD(ly[0].cv_j_m3k = INFINITY, THERMAL_ESTACK);
    BAD(ly[1].die = 0, THERMAL_ESTACK);        /* die 0 twice */
    BAD(ly[0].die = -1, THERMAL_ESTACK);       /* die 0 nowhere */
    BAD(ly[1].die = 1, THERMAL_ESTACK);        /* die out of range */
    BAD(ly[1].die = -2, THERMAL_ESTACK);
    BAD(s.n_dies = 2, THERMAL_ESTACK);         /* die 1 nowhere */
    BAD(s.n_layers = 0, THERMAL_ESTACK);
    BAD(s.layers = NULL, THERMAL_ESTACK);
#undef BAD
    s = good;
    assert_int_equal(thermal_plan_create(&s, 0, 4, 0, &p), THERMAL_EINVAL);
    assert_int_equal(thermal_plan_create(&s, 4, 0, 0, &p), THERMAL_EINVAL);
    assert_int_equal(thermal_plan_create(&s, 4, 4, -1.0, &p), THERMAL_EINVAL);
    assert_null(p);
    assert_int_equal(thermal_plan_create(NULL, 4, 4, 0, &p), THERMAL_EINVAL);
    assert_int_equal(thermal_plan_create(&s, 4, 4, 0, NULL), THERMAL_EINVAL);

    /* a steady-only plan has no states; states belong to their plan */
    thermal_state *x = (thermal_state *)&x;
    assert_int_equal(thermal_plan_create(&s, 4, 4, 0.0, &p), 0);
    assert_int_equal(thermal_state_create(p, &x), THERMAL_ESTEADY);
    assert_null(x);
    double pw[16] = {0}, t[16];
    assert_int_equal(thermal_steady(p, NULL, t), THERMAL_EINVAL);
    assert_int_equal(thermal_steady(p, pw, NULL), THERMAL_EINVAL);
    size_t nx, ny, nl, nd;
    double fr;
    thermal_plan_size(p, &nx, &ny, &nl, &nd, &fr);
    assert_true(nx == 4 && ny == 4 && nl == 2 && nd == 1 && fr == 0.0);
    thermal_plan *q = NULL;
    assert_int_equal(thermal_plan_create(&s, 4, 4, 1e-5, &q), 0);
    assert_int_equal(thermal_state_create(q, &x), 0);
    assert_int_equal(thermal_step(p, x, pw, t), THERMAL_EINVAL);
    assert_int_equal(thermal_step(q, x, NULL, t), THERMAL_EINVAL);
    assert_int_equal(thermal_step(q, x, pw, NULL), 0);
    assert_int_equal(thermal_state_temps(q, x, t), 0);
    assert_true(t[0] == 40.0);
    thermal_state_destroy(x);
    thermal_plan_destroy(q);
    thermal_plan_destroy(p);
    thermal_plan_destroy(NULL);
    thermal_state_destroy(NULL);

    /* every code has its own message */
    for (int a = 0; a <= THERMAL_ESTEADY; a++) {
        assert_non_null(thermal_strerror(a));
        for (int b = 0; b < a; b++)
            assert_string_not_equal(thermal_strerror(a), thermal_strerror(b));
    }
    assert_non_null(thermal_strerror(-1));
    assert_non_null(thermal_strerror(999));
}

/* ---- periodic steady state against explicit repetitions ---- */

static double periodic_case(const thermal_stack *s, size_t nx, size_t ny, size_t nfr, double dt)
{
    const size_t nm = nx * ny, nd = s->n_dies;
    thermal_plan *p = NULL;
    thermal_state *a = NULL, *b = NULL;
    assert_int_equal(thermal_plan_create(s, nx, ny, dt, &p), 0);
    assert_int_equal(thermal_state_create(p, &a), 0);
    assert_int_equal(thermal_state_create(p, &b), 0);
    double *pw = xcalloc(nfr * nd * nm), *ta = xcalloc(nd * nm), *tb = xcalloc(nd * nm);
    for (size_t f = 0; f < nfr; f++) random_power(pw + f * nd * nm, nd * nm, f % 2 ? 0.1 : 1.0);
    /* the periodic start */
    assert_int_equal(thermal_state_set_steady(p, a, NULL), 0);
    for (size_t f = 0; f < nfr; f++) assert_int_equal(thermal_step(p, a, pw + f * nd * nm, NULL), 0);
    assert_int_equal(thermal_state_periodic(p, a, nfr), 0);
    assert_int_equal(thermal_state_temps(p, a, ta), 0);
    /* explicit repetitions from ambient until a period changes nothing */
    assert_int_equal(thermal_state_set_steady(p, b, NULL), 0);
    double moved = INFINITY;
    size_t reps = 0;
    for (; reps < 100000 && moved > 1e-13; reps++) {
        for (size_t f = 0; f < nfr; f++) assert_int_equal(thermal_step(p, b, pw + f * nd * nm, NULL), 0);
        assert_int_equal(thermal_state_temps(p, b, tb), 0);
        moved = 0;
        for (size_t k = 0; k < nd * nm; k++) moved = fmax(moved, fabs(tb[k] - ta[k]));
    }
    assert_true(reps > 3);   /* the stack's memory spans several periods */
    double scale = 0, err = moved;
    for (size_t k = 0; k < nd * nm; k++) scale = fmax(scale, ta[k] - s->ambient_c);
    /* a period stepped from the periodic start returns to it */
    assert_int_equal(thermal_state_copy(p, b, a), 0);
    for (size_t f = 0; f < nfr; f++) assert_int_equal(thermal_step(p, b, pw + f * nd * nm, tb), 0);
    for (size_t k = 0; k < nd * nm; k++) err = fmax(err, fabs(tb[k] - ta[k]));
    assert_int_equal(thermal_state_periodic(p, a, 0), THERMAL_EINVAL);
    free(pw); free(ta); free(tb);
    thermal_state_destroy(a);
    thermal_state_destroy(b);
    thermal_plan_destroy(p);
    return err / scale;
}

static void test_periodic_matches_repetitions(void **st)
{
    (void)st;
    double worst = 0;
    for (int k = 0; k < 6; k++) {
        size_t nl = 1 + (size_t)k % 4, nd = nl > 1 && k % 2 ? 2 : 1;
        thermal_stack s = random_stack(nl, nd, k % 3 ? 0.0 : 1e3);
        worst = fmax(worst, periodic_case(&s, k % 2 ? 5 : 4, 3, 3 + (size_t)k % 3, 2e-3));
    }
    thermal_stack ds = design_stack(0.0);
    worst = fmax(worst, periodic_case(&ds, 6, 5, 4, 0.05));
    if (worst > 1e-9) fail_msg("periodic state vs repetitions: %.3g", worst);
}

/* ---- leakage against a fixed-point iteration of the dense model ---- */

/* Weight of cell m of an nx x ny grid of a w x h (mm) outline in rect r: its overlap area / the rect's area. */
static double cell_weight(const double *r, double w, double h, size_t nx, size_t ny, size_t m)
{
    double dx = w / (double)nx, dy = h / (double)ny, x0 = (double)(m % nx) * dx, y0 = (double)(m / nx) * dy;
    double ox = fmin(r[0] + r[2], x0 + dx) - fmax(r[0], x0), oy = fmin(r[1] + r[3], y0 + dy) - fmax(r[1], y0);
    return ox > 0 && oy > 0 ? ox * oy / (r[2] * r[3]) : 0.0;
}

static double leak_case(size_t nl, size_t nd, size_t nx, size_t ny, double h_bottom)
{
    enum { NU = 5 };
    thermal_stack s = random_stack(nl, nd, h_bottom);
    const size_t nm = nx * ny, n = nl * nm;
    const double wmm = s.width_m * 1e3, hmm = s.height_m * 1e3, t_ref = 110, vdd = 0.75;
    sio_die dies[3] = {{0, "d0"}, {1, "d1"}, {2, "d2"}};
    sio_rail rail = {.name = "core", .vdd_v = vdd};
    sio_unit units[NU];
    double pdyn[NU], wts[NU][64];
    for (size_t u = 0; u < NU; u++) {
        double rw = wmm * (0.2 + 0.5 * rnd()), rh = hmm * (0.2 + 0.5 * rnd());
        units[u] = (sio_unit){.name = "u", .die = u % nd, .rail = 0,
                              .rect_mm = {(wmm - rw) * rnd(), (hmm - rh) * rnd(), rw, rh},
                              .leak_a = u == 3 ? 0.0 : 0.05 + 0.2 * rnd(), .leak_beta_per_k = 0.02 + 0.03 * rnd()};
        pdyn[u] = 0.1 + 0.4 * rnd();
        assert_true(nm <= 64);
        for (size_t m = 0; m < nm; m++) wts[u][m] = cell_weight(units[u].rect_mm, wmm, hmm, nx, ny, m);
    }
    sio_chip c = {.outline_mm = {wmm, hmm}, .dies = dies, .n_dies = nd, .rails = &rail, .n_rails = 1,
                  .units = units, .n_units = NU,
                  .thermal = {.present = 1, .ambient_c = s.ambient_c, .leakage = {1, t_ref, 0.03}}};
    /* the reference: T = G^-1 (P + L(T)), iterated from L = 0 until it stops moving */
    dense d = dense_build(&s, nx, ny);
    double *a = xcalloc(n * n), *pn = xcalloc(n), *t = xcalloc(n), *tu = xcalloc(NU), *lk = xcalloc(NU);
    size_t *piv = malloc(n * sizeof *piv);
    assert_non_null(piv);
    memcpy(a, d.g, n * n * sizeof *a);
    lu_factor(n, a, piv);
    size_t die_layer[3];
    for (size_t l = 0; l < nl; l++) if (s.layers[l].die >= 0) die_layer[s.layers[l].die] = l;
    for (int it = 0; it < 500; it++) {
        memset(pn, 0, n * sizeof *pn);
        for (size_t u = 0; u < NU; u++)
            for (size_t m = 0; m < nm; m++) pn[die_layer[units[u].die] * nm + m] += (pdyn[u] + lk[u]) * wts[u][m];
        lu_solve(n, a, piv, pn, t);
        double moved = 0;
        for (size_t u = 0; u < NU; u++) {
            double tm = s.ambient_c;
            for (size_t m = 0; m < nm; m++) tm += wts[u][m] * t[die_layer[units[u].die] * nm + m];
            double l = units[u].leak_a * vdd * exp(units[u].leak_beta_per_k * (tm - t_ref));
            moved = fmax(moved, fabs(l - lk[u]));
            tu[u] = tm;
            lk[u] = l;
        }
        if (moved < 1e-15) break;
    }
    /* the solver */
    thermal_plan *p = NULL;
    thermal_units *tun = NULL;
    assert_int_equal(thermal_plan_create(&s, nx, ny, 0.0, &p), 0);
    assert_int_equal(thermal_units_create(&c, nx, ny, &tun), 0);
    double lw[NU];
    thermal_leak_steady out;
    assert_int_equal(thermal_run_leak_steady(p, tun, &c, pdyn, 1, lw, &out), 0);
    assert_int_equal(out.runaway, 0);
    assert_int_equal(out.n_leaking, NU - 1);
    assert_true(out.runaway_factor > 1);
    assert_true(lw[3] == 0.0);
    double err = 0, tot = 0;
    for (size_t u = 0; u < NU; u++) {
        err = fmax(err, fabs(lw[u] - lk[u]) / lk[u == 3 ? 0 : u]);
        tot += lw[u];
    }
    assert_true(fabs(tot - out.total_w) <= 1e-12 * tot);
    /* the matrix-free path: the same fixed point to its 1e-7 K residual */
    double lf[NU];
    thermal_leak_steady fast;
    assert_int_equal(thermal_run_leak_steady(p, tun, &c, pdyn, 0, lf, &fast), 0);
    assert_int_equal(fast.runaway, 0);
    assert_true(isnan(fast.runaway_factor) && fast.iterations >= 1 && fast.iterations <= 12);
    for (size_t u = 0; u < NU; u++) assert_true(fabs(lf[u] - lk[u]) <= 1e-7 * lk[u == 3 ? 0 : u]);
    /* and the map under the power with that leakage */
    double pw[NU], *maps = xcalloc(nd * nm), *tm = xcalloc(nd * nm);
    for (size_t u = 0; u < NU; u++) pw[u] = pdyn[u] + lw[u];
    assert_int_equal(thermal_run_power_maps(&c, pw, nx, ny, maps), 0);
    assert_int_equal(thermal_steady(p, maps, tm), 0);
    double scale = max_abs(t, n);
    for (size_t dd = 0; dd < nd; dd++)
        for (size_t m = 0; m < nm; m++)
            err = fmax(err, fabs(tm[dd * nm + m] - s.ambient_c - t[die_layer[dd] * nm + m]) / scale);
    thermal_units_destroy(tun);
    thermal_plan_destroy(p);
    dense_free(&d);
    free(a); free(pn); free(t); free(tu); free(lk); free(piv); free(maps); free(tm);
    return err;
}

static void test_leakage_matches_grid_model(void **st)
{
    (void)st;
    double worst = 0;
    for (int k = 0; k < 12; k++) {
        size_t nl = 1 + (size_t)k % 4, nd = 1 + (size_t)k % 3;
        if (nd > nl) nd = nl;
        double e = leak_case(nl, nd, k % 2 ? 5 : 4, k % 2 ? 3 : 6, k % 3 ? 0.0 : 1e3);
        worst = fmax(worst, e);
    }
    if (worst > 1e-9) fail_msg("leakage fixed point vs the dense model: %.3g", worst);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steady_matches_grid_model),
        cmocka_unit_test(test_transient_matches_grid_model),
        cmocka_unit_test(test_slab_series_resistance),
        cmocka_unit_test(test_energy_balance),
        cmocka_unit_test(test_transient_properties),
        cmocka_unit_test(test_power_map),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_leakage_matches_grid_model),
        cmocka_unit_test(test_periodic_matches_repetitions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
