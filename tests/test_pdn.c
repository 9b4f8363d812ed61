/* test_pdn.c -- PDN droop: properties and independent references.
**
** Physics, not stored numbers: exact IR drop under constant current,
** superposition, the closed-form step response of a one-stage ladder, a table
** sampled from a ladder against the ladder, tiling invariance, the example
** ladder's figures (58 mV / 1.2 mOhm near 100 MHz), refusals with reasons, and
** ngspice transients of the same ladders (skipped only when /usr/bin/ngspice
** is absent). Set PDN_NGSPICE_NS to run the ngspice comparison on a longer
** waveform (chained windows of 2000 ns; see docs/pdn.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pdn.h"

#define M_PI_ 3.14159265358979323846

static const sio_stage design_stages[3] = {
    {"board", 1.5e-4, 1e-9, 5e-3, 2e-4, 0.0},
    {"package", 5e-5, 2e-11, 1e-4, 1.5e-4, 0.0},
    {"die", 1e-4, 1e-12, 2.5e-6, 1e-4, 0.0},
};

static sio_rail ladder_rail(const sio_stage *st, size_t n)
{
    sio_rail r = {.name = "core", .vdd_v = 0.8, .guardband_mv = 70.0,
                  .stages = (sio_stage *)st, .n_stages = n};
    return r;
}

static pdn_model *make_model_with(const sio_rail *r, double bin_ns, int method)
{
    pdn_model *m = NULL;
    sio_error err = {0};
    int rc = pdn_model_create_with(r, bin_ns, method, &m, &err);
    if (rc != PDN_OK) fprintf(stderr, "pdn_model_create: %s\n", err.text);
    assert_int_equal(rc, PDN_OK);
    assert_non_null(m);
    if (method != PDN_AUTO) assert_int_equal(pdn_model_method(m), method);
    return m;
}

static pdn_model *make_model(const sio_rail *r, double bin_ns)
{
    return make_model_with(r, bin_ns, PDN_AUTO);
}

static const int methods[2] = {PDN_STATE, PDN_FFT};

/* Deterministic bursts: idle, then blocks of random height and length. */
static void bursts(double *i_a, size_t n, double idle_a, double peak_a, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 12345u;
    size_t k = 0;
    while (k < n) {
        x = x * 1664525u + 1013904223u;
        size_t len = 1 + (x >> 8) % 60;
        x = x * 1664525u + 1013904223u;
        double lvl = (x >> 31) ? idle_a + peak_a * (double)((x >> 9) % 1000) / 1000.0 : idle_a;
        for (size_t j = 0; j < len && k < n; j++, k++) i_a[k] = lvl;
    }
}

static double max_abs(const double *v, size_t n)
{
    double m = 0.0;
    for (size_t k = 0; k < n; k++) if (fabs(v[k]) > m) m = fabs(v[k]);
    return m;
}

/* ---- DC -------------------------------------------------------------- */

static void test_constant_idle_exact(void **state)
{
    (void)state;
    sio_rail r = ladder_rail(design_stages, 3);
    pdn_model *m = make_model(&r, 1.0);
    double rdc = 1.5e-4 + 5e-5 + 1e-4;
    assert_true(fabs(pdn_model_z0_ohm(m) - rdc) <= 1e-15);
    /* the kernel sums to Z(0) */
    const double *h = pdn_model_kernel(m);
    double sum = 0.0;
    for (size_t k = 0; k < pdn_model_kernel_len(m); k++) sum += h[k];
    assert_true(fabs(sum - rdc) <= 1e-12 * rdc);
    size_t n = 5000;
    double *i = malloc(n * sizeof *i), *v = malloc(n * sizeof *v);
    for (size_t k = 0; k < n; k++) i[k] = 37.0;
    assert_int_equal(pdn_droop(m, 37.0, i, n, v), PDN_OK);
    for (size_t k = 0; k < n; k++) assert_true(fabs(v[k] - 37.0 * rdc) <= 1e-15);
    free(i);
    free(v);
    pdn_model_destroy(m);
}

/* A constant current that differs from the idle one settles to I*Z(0): the
** truncated kernel (FFT) exactly once the kernel has passed; the state,
** which is the untruncated response, to within the truncation's 1e-7 of
** Z(0) times the step there and to round-off a kernel length later. */
static void test_settles_to_ir(void **state)
{
    (void)state;
    sio_rail r = ladder_rail(design_stages, 3);
    for (int q = 0; q < 2; q++) {
        pdn_model *m = make_model_with(&r, 1.0, methods[q]);
        size_t klen = pdn_model_kernel_len(m), n = 2 * klen + 10;
        double *i = malloc(n * sizeof *i), *v = malloc(n * sizeof *v);
        for (size_t k = 0; k < n; k++) i[k] = 150.0;
        assert_int_equal(pdn_droop(m, 20.0, i, n, v), PDN_OK);
        const double *h = pdn_model_kernel(m);
        double hmax = fmax(pdn_model_z0_ohm(m), max_abs(h, klen));
        double ir = 150.0 * 3e-4, trunc = 1e-7 * hmax * (150.0 - 20.0);
        for (size_t k = klen; k < n; k++) {
            double tol = methods[q] == PDN_FFT || k >= 2 * klen ? 1e-12 : trunc;
            if (!(fabs(v[k] - ir) <= tol)) fail_msg("method %d bin %zu: %.3g V off", methods[q], k, v[k] - ir);
        }
        free(i);
        free(v);
        pdn_model_destroy(m);
    }
}

/* The state recursion against FFTW overlap-save of the kernel, two
** independent computations of the same convolution: they differ by the
** kernel's truncation alone (<= 1e-7 of max(Z0, max|h|) times the largest
** |i - i_idle|), for ladders of 1-3 stages, with and without ESL, at bins of
** 0.25 to 3 ns. With ESL on the die the regularizing conductance moves the
** DC gain by ~1e-6 (docs/pdn.md); the FFT kernel puts the correction to
** Z(0) in its last tap, the state in its first, so there the bound is 1e-6. */
static void test_state_vs_fft(void **state)
{
    (void)state;
    static const sio_stage esl_stages[3] = {
        {"board", 1.5e-4, 1e-9, 5e-3, 2e-4, 0.0},
        {"package", 5e-5, 2e-11, 1e-4, 1.5e-4, 1e-12},
        {"die", 1e-4, 1e-12, 2.5e-6, 1e-4, 2e-13},
    };
    const struct { const sio_stage *st; size_t n; double bin_ns, rel; } cases[] = {
        {design_stages, 3, 1.0, 1e-7}, {design_stages, 3, 0.25, 1e-7}, {design_stages, 3, 3.0, 1e-7},
        {design_stages + 2, 1, 1.0, 1e-7}, {design_stages + 1, 2, 0.5, 1e-7}, {esl_stages, 3, 1.0, 1e-6},
        {esl_stages + 2, 1, 1.0, 1e-6},
    };
    size_t n = 400000;
    double *i = malloc(n * sizeof *i), *vs = malloc(n * sizeof *vs), *vf = malloc(n * sizeof *vf);
    bursts(i, n, 30.0, 200.0, 11);
    double swing = 0.0;   /* the largest |i - i_idle| */
    for (size_t k = 0; k < n; k++) swing = fmax(swing, fabs(i[k] - 30.0));
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        sio_rail r = ladder_rail(cases[c].st, cases[c].n);
        pdn_model *ms = make_model_with(&r, cases[c].bin_ns, PDN_STATE);
        pdn_model *mf = make_model_with(&r, cases[c].bin_ns, PDN_FFT);
        assert_int_equal(pdn_droop(ms, 30.0, i, n, vs), PDN_OK);
        assert_int_equal(pdn_droop(mf, 30.0, i, n, vf), PDN_OK);
        const double *h = pdn_model_kernel(mf);
        double hmax = fmax(pdn_model_z0_ohm(mf), max_abs(h, pdn_model_kernel_len(mf)));
        double worst = 0.0;
        for (size_t k = 0; k < n; k++) worst = fmax(worst, fabs(vs[k] - vf[k]));
        printf("state vs fft, %zu stage(s), bin %g ns: worst %.3g V of peak %.4g V\n", cases[c].n,
               cases[c].bin_ns, worst, max_abs(vf, n));
        assert_true(worst <= cases[c].rel * hmax * swing + 1e-13);
        assert_true(worst > 0.0);   /* two computations, not one */
        pdn_model_destroy(ms);
        pdn_model_destroy(mf);
    }
    free(i); free(vs); free(vf);
}

/* PDN_AUTO picks the state for the example ladder (test_table_matches_ladder
** checks that a table gets FFT); a table cannot be forced onto the state,
** and an unknown method is refused. */
static void test_method_choice(void **state)
{
    (void)state;
    sio_rail r = ladder_rail(design_stages, 3);
    pdn_model *m = make_model(&r, 1.0);
    assert_int_equal(pdn_model_method(m), PDN_STATE);
    assert_int_equal(pdn_model_fft_len(m), 0);
    pdn_model_destroy(m);
    sio_rail t = {.name = "t", .vdd_v = 0.8};
    sio_error err = {0};
    assert_int_equal(pdn_model_create_with(&t, 1.0, PDN_STATE, &m, &err), PDN_EINPUT);
    assert_null(m);
    assert_non_null(strstr(err.text, "no state model"));
    assert_int_equal(pdn_model_create_with(&r, 1.0, 7, &m, &err), PDN_EINPUT);
    assert_null(m);
}

/* ---- linearity ------------------------------------------------------- */

static void superposition(int method)
{
    sio_rail r = ladder_rail(design_stages, 3);
    pdn_model *m = make_model_with(&r, 1.0, method);
    size_t n = 30000;
    double *i1 = malloc(n * sizeof *i1), *i2 = malloc(n * sizeof *i2), *i3 = malloc(n * sizeof *i3);
    double *v1 = malloc(n * sizeof *v1), *v2 = malloc(n * sizeof *v2), *v3 = malloc(n * sizeof *v3);
    bursts(i1, n, 10.0, 150.0, 1);
    bursts(i2, n, 40.0, 80.0, 2);
    double a = 0.7, b = -1.9, id1 = 10.0, id2 = 40.0;
    for (size_t k = 0; k < n; k++) i3[k] = a * i1[k] + b * i2[k];
    assert_int_equal(pdn_droop(m, id1, i1, n, v1), PDN_OK);
    assert_int_equal(pdn_droop(m, id2, i2, n, v2), PDN_OK);
    assert_int_equal(pdn_droop(m, a * id1 + b * id2, i3, n, v3), PDN_OK);
    double scale = max_abs(v3, n), worst = 0.0;
    for (size_t k = 0; k < n; k++) {
        double d = fabs(v3[k] - (a * v1[k] + b * v2[k]));
        if (d > worst) worst = d;
    }
    assert_true(worst <= 1e-12 * scale + 1e-15);
    /* time invariance: the response to a delayed change is delayed */
    for (size_t k = 0; k < n; k++) i3[k] = k < 500 ? id1 : i1[k - 500];
    assert_int_equal(pdn_droop(m, id1, i3, n, v3), PDN_OK);
    worst = 0.0;
    for (size_t k = 500; k < n; k++) {
        double d = fabs(v3[k] - v1[k - 500]);
        if (d > worst) worst = d;
    }
    assert_true(worst <= 1e-12 * scale);
    free(i1); free(i2); free(i3); free(v1); free(v2); free(v3);
    pdn_model_destroy(m);
}

static void test_superposition(void **state)
{
    (void)state;
    for (int q = 0; q < 2; q++) superposition(methods[q]);
}

/* ---- closed form ------------------------------------------------------ */

/* Step response of Z = (R + sL) || (ESR + 1/(sC)), regulator ideal:
** Z = ESR + (a0 + a1 s)/(s^2 + 2 al s + w0^2), a0 = (R-ESR)/(LC),
** a1 = (L - C ESR^2)/(LC), al = (R+ESR)/(2L), w0^2 = 1/(LC); so for t > 0
** S(t) = R - (R-ESR) e^{-al t} [cos wd t - (c' + (R-ESR) al)/((R-ESR) wd) sin wd t]
** with c' = a1 - 2 al (R-ESR) (underdamped), or with cosh/sinh (overdamped). */
static double one_stage_step(double r, double l, double c, double esr, double t)
{
    if (t <= 0.0) return 0.0;
    double a1 = (l - c * esr * esr) / (l * c), al = (r + esr) / (2.0 * l);
    double w02 = 1.0 / (l * c), aa = r - esr, cp = a1 - 2.0 * al * aa;
    double disc = w02 - al * al;
    if (disc > 0.0) {
        double wd = sqrt(disc);
        return r - aa * exp(-al * t) * cos(wd * t) + (cp + aa * al) / wd * exp(-al * t) * sin(wd * t);
    }
    double q = sqrt(-disc);
    /* e^{-al t} (B cosh(qt) + (C'-B al)/q sinh(qt)), B = -aa: written with
    ** decaying exponentials only */
    double ep = exp((-al + q) * t), em = exp((-al - q) * t);
    double coshp = 0.5 * (ep + em), sinhp = 0.5 * (ep - em);
    return r - aa * coshp + (cp + aa * al) / q * sinhp;
}

static void check_one_stage(double r, double l, double c, double esr, double bin_ns)
{
    sio_stage st = {"die", r, l, c, esr, 0.0};
    sio_rail rail = ladder_rail(&st, 1);
    pdn_model *m = make_model(&rail, bin_ns);
    size_t n = 4000;
    double *i = malloc(n * sizeof *i), *v = malloc(n * sizeof *v);
    for (size_t k = 0; k < n; k++) i[k] = k < 100 ? 0.0 : 1.0;
    assert_int_equal(pdn_droop(m, 0.0, i, n, v), PDN_OK);
    double dt = bin_ns * 1e-9, peak = 0.0, worst = 0.0;
    for (size_t k = 0; k < n; k++) {
        double ref = one_stage_step(r, l, c, esr, (double)(k + 1) * dt - 100.0 * dt);
        if (fabs(ref) > peak) peak = fabs(ref);
        if (fabs(v[k] - ref) > worst) worst = fabs(v[k] - ref);
    }
    /* kernel truncation leaves 1e-7 of Z(0); round-off is far below */
    assert_true(worst <= 1e-6 * peak);
    /* and the impedance itself */
    double re, im, f = 7.3e7, w = 2.0 * 3.14159265358979323846 * f;
    assert_int_equal(pdn_impedance(&rail, f, &re, &im), PDN_OK);
    double sr = r, sx = w * l, pr = esr, px = -1.0 / (w * c);
    double nr = sr * pr - sx * px, ni = sr * px + sx * pr, dr = sr + pr, di = sx + px;
    double den = dr * dr + di * di;
    assert_true(fabs(re - (nr * dr + ni * di) / den) <= 1e-12 * hypot(re, im));
    assert_true(fabs(im - (ni * dr - nr * di) / den) <= 1e-12 * hypot(re, im));
    free(i);
    free(v);
    pdn_model_destroy(m);
}

static void test_one_stage_closed_form(void **state)
{
    (void)state;
    check_one_stage(1e-4, 1e-12, 2.5e-6, 1e-4, 1.0);    /* underdamped, 100 MHz */
    check_one_stage(1e-4, 1e-12, 2.5e-6, 1e-4, 0.25);
    check_one_stage(2e-3, 1e-11, 1e-5, 5e-3, 1.0);      /* overdamped */
    check_one_stage(3e-4, 5e-12, 1e-6, 0.0, 0.5);       /* no ESR: plain C at the die */
}

/* ---- tables ----------------------------------------------------------- */

static void sample_table(const sio_rail *lad, double f_lo, double f_hi, int per_decade,
                         int with_dc, sio_rail *tab)
{
    size_t n = (size_t)ceil(log10(f_hi / f_lo) * per_decade) + 1 + (with_dc ? 1 : 0);
    tab->name = "core";
    tab->impedance_csv = "z.csv";
    tab->z_f_hz = malloc(n * sizeof(double));
    tab->z_re_ohm = malloc(n * sizeof(double));
    tab->z_im_ohm = malloc(n * sizeof(double));
    tab->n_z = n;
    for (size_t k = 0; k < n; k++) {
        size_t j = with_dc ? k - 1 : k;
        double f = (with_dc && k == 0) ? 0.0 : f_lo * pow(10.0, (double)j / per_decade);
        if (f > f_hi) f = f_hi;
        tab->z_f_hz[k] = f;
        assert_int_equal(pdn_impedance(lad, f, &tab->z_re_ohm[k], &tab->z_im_ohm[k]), PDN_OK);
    }
}

static void free_table(sio_rail *tab)
{
    free(tab->z_f_hz);
    free(tab->z_re_ohm);
    free(tab->z_im_ohm);
}

static void test_table_matches_ladder(void **state)
{
    (void)state;
    sio_rail lad = ladder_rail(design_stages, 3), tab = {0};
    sample_table(&lad, 1e3, 8e9, 100, 1, &tab);
    pdn_model *ml = make_model(&lad, 1.0), *mt = make_model(&tab, 1.0);
    assert_int_equal(pdn_model_method(mt), PDN_FFT);   /* a table: overlap-save */
    assert_true(fabs(pdn_model_z0_ohm(mt) - 3e-4) <= 1e-12);
    size_t n = 20000;
    double *i = malloc(n * sizeof *i), *vl = malloc(n * sizeof *vl), *vt = malloc(n * sizeof *vt);
    bursts(i, n, 30.0, 150.0, 7);
    assert_int_equal(pdn_droop(ml, 30.0, i, n, vl), PDN_OK);
    assert_int_equal(pdn_droop(mt, 30.0, i, n, vt), PDN_OK);
    double worst = 0.0, peak = 0.0;
    for (size_t k = 0; k < n; k++) {
        double dv = vl[k] - 30.0 * 3e-4;
        if (fabs(dv) > peak) peak = fabs(dv);
        if (fabs(vl[k] - vt[k]) > worst) worst = fabs(vl[k] - vt[k]);
    }
    fprintf(stderr, "table vs ladder: worst %.3g mV of peak %.3g mV\n", worst * 1e3, peak * 1e3);
    /* linear interpolation of Re Z on a 100-a-decade grid: ~(0.023 Q)^2/8
    ** relative near the peaks, plus Re Z held flat above 8 GHz */
    assert_true(worst <= 2e-3 * peak);
    pdn_model_destroy(ml);
    pdn_model_destroy(mt);
    free(i); free(vl); free(vt);
    free_table(&tab);
}

static void test_table_refused(void **state)
{
    (void)state;
    sio_rail lad = ladder_rail(design_stages, 3), tab = {0};
    sio_error err = {0};
    pdn_model *m = NULL;
    /* stops at 100 MHz: short of the 500 MHz bin Nyquist */
    sample_table(&lad, 1e3, 1e8, 50, 0, &tab);
    assert_int_equal(pdn_model_create(&tab, 1.0, &m, &err), PDN_EINPUT);
    assert_null(m);
    assert_non_null(strstr(err.text, "5e+08"));
    assert_non_null(strstr(err.text, "z.csv"));
    /* fine at a 10 ns bin (Nyquist 50 MHz) */
    assert_int_equal(pdn_model_create(&tab, 10.0, &m, &err), PDN_OK);
    pdn_model_destroy(m);
    free_table(&tab);
    /* starts at 1 MHz: misses the 70 kHz resonance, the response is still
    ** moving after 1 us */
    sample_table(&lad, 1e6, 8e9, 50, 0, &tab);
    memset(&err, 0, sizeof err);
    assert_int_equal(pdn_model_create(&tab, 1.0, &m, &err), PDN_EINPUT);
    assert_null(m);
    assert_non_null(strstr(err.text, "reach down"));
    free_table(&tab);
}

static void test_ladder_refused(void **state)
{
    (void)state;
    sio_error err = {0};
    pdn_model *m = NULL;
    sio_stage bad = {"die", -1e-4, 1e-12, 2.5e-6, 1e-4, 0.0};
    sio_rail r = ladder_rail(&bad, 1);
    assert_int_equal(pdn_model_create(&r, 1.0, &m, &err), PDN_EINPUT);
    assert_non_null(strstr(err.text, "die"));
    sio_stage lossless = {"die", 0.0, 1e-12, 2.5e-6, 0.0, 0.0};
    r = ladder_rail(&lossless, 1);
    memset(&err, 0, sizeof err);
    assert_int_equal(pdn_model_create(&r, 1.0, &m, &err), PDN_EINPUT);
    assert_non_null(strstr(err.text, "settled"));
    r = ladder_rail(design_stages, 3);
    assert_int_equal(pdn_model_create(&r, 0.0, &m, &err), PDN_EINPUT);
    assert_null(m);
    pdn_model_destroy(NULL);
    pdn_stream_destroy(NULL);
}

/* ---- streaming -------------------------------------------------------- */

static void tiles(int method)
{
    sio_rail r = ladder_rail(design_stages, 3);
    pdn_model *m = make_model_with(&r, 1.0, method);
    size_t n = 300000;   /* spans several overlap-save blocks */
    double *i = malloc(n * sizeof *i), *ref = malloc(n * sizeof *ref), *v = malloc(n * sizeof *v);
    bursts(i, n, 25.0, 160.0, 3);
    assert_int_equal(pdn_droop(m, 25.0, i, n, ref), PDN_OK);
    double scale = max_abs(ref, n);
    const size_t sizes[] = {1, 7, 1000, 65536, 0 /* uneven */};
    for (size_t t = 0; t < sizeof sizes / sizeof *sizes; t++) {
        pdn_stream *s = NULL;
        assert_int_equal(pdn_stream_create(m, 25.0, &s), PDN_OK);
        /* tile 1 and 7 over the first 20000 bins only (direct sums), then
        ** larger tiles; the uneven cut mixes every size */
        size_t k = 0, step = 0;
        size_t limit = sizes[t] != 0 && sizes[t] < 1000 ? 20000 : n;
        while (k < limit) {
            size_t len = sizes[t];
            if (len == 0) {
                const size_t mix[] = {1, 3, 250000, 17, 4096, 1, 99999, 5};
                len = mix[step++ % 8];
            }
            if (len > limit - k) len = limit - k;
            assert_int_equal(pdn_stream_push(s, i + k, len, v + k), PDN_OK);
            k += len;
        }
        assert_int_equal(pdn_stream_push(s, i + k, 0, v + k), PDN_OK);
        double worst = 0.0;
        for (size_t q = 0; q < limit; q++)
            if (fabs(v[q] - ref[q]) > worst) worst = fabs(v[q] - ref[q]);
        assert_true(worst <= 1e-12 * scale);
        pdn_stream_destroy(s);
    }
    free(i); free(ref); free(v);
    pdn_model_destroy(m);
}

static void test_tiles(void **state)
{
    (void)state;
    for (int q = 0; q < 2; q++) tiles(methods[q]);
}

/* ---- the example ladder ----------------------------------------------- */

static void test_design_example(void **state)
{
    (void)state;
    sio_rail r = ladder_rail(design_stages, 3);
    pdn_model *m = make_model(&r, 1.0);
    size_t n = 3000;
    double *i = malloc(n * sizeof *i), *v = malloc(n * sizeof *v);
    /* 0 -> 100 A as a linear ramp over 3 ns starting at 100 ns: bin
    ** averages 1/6, 1/2, 5/6 of 100 A */
    for (size_t k = 0; k < n; k++)
        i[k] = k < 100 ? 0.0 : k < 103 ? 100.0 * ((double)(k - 100) + 0.5) / 3.0 : 100.0;
    assert_int_equal(pdn_droop(m, 0.0, i, n, v), PDN_OK);
    double peak = max_abs(v, n);
    fprintf(stderr, "100 A in 3 ns: %.2f mV\n", peak * 1e3);
    assert_true(peak >= 0.050 && peak <= 0.065);
    double f[8], z[8];
    size_t nr = 0;
    assert_int_equal(pdn_resonances(&r, 1e3, 1e10, f, z, 8, &nr), PDN_OK);
    assert_int_equal(nr, 3);
    assert_true(f[0] < f[1] && f[1] < f[2]);
    assert_true(f[2] > 80e6 && f[2] < 120e6);
    assert_true(z[2] > 1.1e-3 && z[2] < 1.3e-3);
    assert_true(f[0] > 50e3 && f[0] < 90e3);     /* third droop ~70 kHz */
    assert_true(f[1] > 2e6 && f[1] < 5e6);       /* second droop ~3.3 MHz */
    free(i); free(v);
    pdn_model_destroy(m);
}

/* ---- ngspice ---------------------------------------------------------- */

/* Runs ngspice on the ladder driven by the staircase i[0..n-1] (edges of
** 1 ps at the bin starts; steady state at i[0] before 0) and writes the droop
** at each bin end to v[]; returns -1 when ngspice failed. The run is cut into
** windows of at most `win` bins chained by initial conditions: node voltages
** and inductor currents at a window's end (printed with 15 digits) start the
** next one (`uic`). Each stage k: R n(k-1)->a, L a->n, C n->x, ESR x->y,
** ESL y->0 (or a 0 V source to read the branch current). When the die stage
** has ESL every branch at the die node is inductive and SPICE stops ("timestep
** too small") at the first current edge: rp_ohm > 0 then puts a resistor
** from the die node to ground (1 ohm changes Z by <= |Z|/1 ohm ~ 0.1%). */
static int ngspice_droop(const sio_stage *st, size_t ns, const sio_vrm *vrm, double bin_ns, const double *i,
                         size_t n, size_t win, double rp_ohm, double *v)
{
    if (vrm && win < n) return -1;   /* the loop's integrator is not carried across windows */
    char dir[] = "/tmp/pdn_ngspiceXXXXXX";
    if (!mkdtemp(dir)) return -1;
    char cir[128], dat[128], logf[128], cmd[512];
    snprintf(cir, sizeof cir, "%s/net.cir", dir);
    snprintf(dat, sizeof dat, "%s/out.txt", dir);
    snprintf(logf, sizeof logf, "%s/log.txt", dir);
    /* per stage: v(n), v(a), v(x), v(y), i(L), i(ESL) */
    size_t nstate = 6 * ns;
    double *ic = calloc(nstate, sizeof *ic);
    int have_ic = 0, rc = 0;
    double dt = bin_ns * 1e-9, edge = 1e-12;
    static const char *const vec[6] = {"v(n%zu)", "v(a%zu)", "v(x%zu)", "v(y%zu)", "i(L%zu)", "i(E%zu)"};
    for (size_t w0 = 0; w0 < n && rc == 0; w0 += win) {
        size_t wn = n - w0 < win ? n - w0 : win;
        FILE *fp = fopen(cir, "w");
        if (!fp) { rc = -1; break; }
        fprintf(fp, "* pdn ladder\n");
        if (vrm) {
            /* the regulator: node 0 at u, u' = wb (0 - loadline i_src - v_sense)
            ** as a current into a 1 F capacitor; i_src through a 0 V source */
            fprintf(fp, "BU m0 0 V=v(uu)\nVS m0 n0 DC 0\nCU uu 0 1\n");
            fprintf(fp, "BI 0 uu I=%.17g*(-%.17g*i(VS)-v(n%zu))\n", 2.0 * M_PI_ * vrm->bandwidth_hz,
                    vrm->loadline_ohm, vrm->sense_node);
        } else {
            fprintf(fp, "V0 n0 0 DC 0\n");
        }
        if (rp_ohm > 0.0) fprintf(fp, "RP n%zu 0 %.17g\n", ns, rp_ohm);
        for (size_t k = 1; k <= ns; k++) {
            const sio_stage *s = &st[k - 1];
            fprintf(fp, "R%zu n%zu a%zu %.17g\n", k, k - 1, k, s->r_ohm > 0 ? s->r_ohm : 1e-12);
            fprintf(fp, "L%zu a%zu n%zu %.17g", k, k, k, s->l_h);
            if (have_ic) fprintf(fp, " IC=%.17g", ic[6 * (k - 1) + 4]);
            fprintf(fp, "\nC%zu n%zu x%zu %.17g\n", k, k, k, s->c_f);
            fprintf(fp, "RS%zu x%zu y%zu %.17g\n", k, k, k, s->esr_ohm > 0 ? s->esr_ohm : 1e-12);
            if (s->esl_h > 0) {
                fprintf(fp, "LE%zu y%zu 0 %.17g", k, k, s->esl_h);
                if (have_ic) fprintf(fp, " IC=%.17g", ic[6 * (k - 1) + 5]);
                fprintf(fp, "\n");
            } else {
                fprintf(fp, "VE%zu y%zu 0 DC 0\n", k, k);
            }
        }
        /* the die draws i from the last node; bin k starts with an edge */
        fprintf(fp, "I1 n%zu 0 PWL(", ns);
        for (size_t k = 0; k < wn; k++) {
            double t = (double)k * dt;
            double before = w0 + k == 0 ? i[0] : i[w0 + k - 1];
            fprintf(fp, "%s%.17g %.17g %.17g %.17g", k ? " " : "", t, before, t + edge, i[w0 + k]);
        }
        fprintf(fp, ")\n");
        if (have_ic) {
            fprintf(fp, ".ic");
            for (size_t k = 1; k <= ns; k++)
                fprintf(fp, " v(n%zu)=%.17g v(a%zu)=%.17g v(x%zu)=%.17g v(y%zu)=%.17g", k,
                        ic[6 * (k - 1)], k, ic[6 * (k - 1) + 1], k, ic[6 * (k - 1) + 2], k,
                        ic[6 * (k - 1) + 3]);
            fprintf(fp, "\n");
        }
        fprintf(fp, ".options reltol=1e-7 abstol=1e-12 vntol=1e-10 method=gear\n");
        fprintf(fp, ".control\nset numdgt=15\ntran %.6gp %.17g 0 %.6gp%s\nwrdata %s v(n%zu)\n",
                bin_ns * 20.0, (double)wn * dt, bin_ns * 20.0, have_ic ? " uic" : "", dat, ns);
        fprintf(fp, "let nl = length(time) - 1\n");
        for (size_t k = 1; k <= ns; k++) {
            for (size_t j = 0; j < 6; j++) {
                char name[32];
                if (j == 5 && st[k - 1].esl_h > 0) snprintf(name, sizeof name, "i(LE%zu)", k);
                else if (j == 5) snprintf(name, sizeof name, "i(VE%zu)", k);
                else snprintf(name, sizeof name, vec[j], k);
                fprintf(fp, "let pdns%zu = %s[nl]\nprint pdns%zu\n", 6 * (k - 1) + j, name,
                        6 * (k - 1) + j);
            }
        }
        fprintf(fp, "quit\n.endc\n.end\n");
        fclose(fp);
        /* bounded: a stuck transient must not hold the machine */
        snprintf(cmd, sizeof cmd,
                 "ulimit -v 1000000; timeout 120 /usr/bin/ngspice -b %s >%s 2>&1", cir, logf);
        if (system(cmd) != 0) { rc = -1; break; }
        /* the waveform: "time value" per line; bin ends are breakpoints */
        fp = fopen(dat, "r");
        if (!fp) { rc = -1; break; }
        size_t next_bin = 0;
        double t0 = 0.0, y0 = 0.0, t1, y1;
        int have_prev = 0;
        while (fscanf(fp, "%lf %lf", &t1, &y1) == 2) {
            while (next_bin < wn && t1 >= (double)(next_bin + 1) * dt - 1e-18) {
                double tb = (double)(next_bin + 1) * dt, y = y1;
                if (have_prev && fabs(t1 - tb) > 1e-18 && t1 > t0)
                    y = y0 + (y1 - y0) * (tb - t0) / (t1 - t0);
                v[w0 + next_bin++] = -y;
            }
            t0 = t1;
            y0 = y1;
            have_prev = 1;
        }
        fclose(fp);
        if (next_bin < wn) { rc = -1; break; }
        /* the state at the window's end */
        fp = fopen(logf, "r");
        if (!fp) { rc = -1; break; }
        char line[512];
        size_t got = 0;
        while (fgets(line, sizeof line, fp)) {
            size_t idx;
            double val;
            if (sscanf(line, " pdns%zu = %lf", &idx, &val) == 2 && idx < nstate) {
                ic[idx] = val;
                got++;
            }
        }
        fclose(fp);
        if (got != nstate) { rc = -1; break; }
        have_ic = 1;
    }
    free(ic);
    snprintf(cmd, sizeof cmd, "%s %s", getenv("PDN_KEEP") ? "true" : "rm -rf", dir);
    if (system(cmd) != 0 && rc == 0) rc = -1;
    return rc;
}

/* pdn against ngspice on random bursts (idle 20 A) through the ladder st,
** with the regulator vrm (or none); the worst difference over the peak. */
static double compare_ngspice(const sio_stage *st, size_t ns, const sio_vrm *vrm, double bin_ns, size_t n, size_t win)
{
    sio_rail r = ladder_rail(st, ns);
    if (vrm) r.vrm = *vrm;
    pdn_model *m = make_model(&r, bin_ns);
    double *i = malloc(n * sizeof *i), *v = malloc(n * sizeof *v), *vs = malloc(n * sizeof *vs);
    bursts(i, n, 20.0, 120.0, (uint32_t)(ns * 10 + (st[ns - 1].esl_h > 0) + (vrm ? 100 + vrm->sense_node : 0)));
    i[0] = 20.0;
    assert_int_equal(pdn_droop(m, 20.0, i, n, v), PDN_OK);
    double rp = st[ns - 1].esl_h > 0 ? 1.0 : 0.0;
    assert_int_equal(ngspice_droop(st, ns, vrm, bin_ns, i, n, win, rp, vs), 0);
    double peak = 0.0, worst = 0.0;
    for (size_t k = 0; k < n; k++) {
        if (fabs(v[k]) > peak) peak = fabs(v[k]);
        if (fabs(v[k] - vs[k]) > worst) worst = fabs(v[k] - vs[k]);
    }
    int esl = 0;
    for (size_t k = 0; k < ns; k++) esl += st[k].esl_h > 0;
    fprintf(stderr, "ngspice %zu stage(s), ESL on %d", ns, esl);
    if (vrm)
        fprintf(stderr, ", regulator %.3g Hz sensing node %zu, load line %.3g ohm", vrm->bandwidth_hz,
                vrm->sense_node, vrm->loadline_ohm);
    fprintf(stderr, ", %zu x %g ns: worst %.4g mV of peak %.4g mV (%.3g%%)\n", n, bin_ns, worst * 1e3, peak * 1e3,
            100.0 * worst / peak);
    free(i); free(v); free(vs);
    pdn_model_destroy(m);
    return worst / peak;
}

static void test_ngspice(void **state)
{
    (void)state;
    if (access("/usr/bin/ngspice", X_OK) != 0) {
        fprintf(stderr, "SKIP ngspice comparison: /usr/bin/ngspice is absent\n");
        skip();
    }
    /* ESL on the die stage (SPICE needs the 1 ohm path, see above). ngspice
    ** 39 fails ("timestep too small") on ESL in the board or package
    ** stages of this ladder, so those are checked in pdn only through the
    ** closed form and the table test (docs/pdn.md) */
    static const sio_stage esl3[1] = {{"die", 1e-4, 1e-12, 2.5e-6, 1e-4, 2e-13}};
    const char *env = getenv("PDN_NGSPICE_NS");
    size_t n = env ? (size_t)strtoul(env, NULL, 10) : 2000;
    if (n < 10) n = 2000;
    assert_true(compare_ngspice(design_stages + 2, 1, NULL, 1.0, n, 2000) <= 0.01);
    assert_true(compare_ngspice(design_stages + 1, 2, NULL, 1.0, n, 2000) <= 0.01);
    assert_true(compare_ngspice(design_stages, 3, NULL, 1.0, n, 2000) <= 0.01);
    assert_true(compare_ngspice(esl3, 1, NULL, 1.0, n, 2000) <= 0.01);
    static const sio_stage esl2[2] = {
        {"package", 5e-5, 2e-11, 1e-4, 1.5e-4, 0.0},
        {"die", 1e-4, 1e-12, 2.5e-6, 1e-4, 2e-13},
    };
    assert_true(compare_ngspice(esl2, 2, NULL, 1.0, n, 2000) <= 0.01);
}

/* ---- the regulator ----------------------------------------------------- */

static sio_rail vrm_rail(const sio_stage *st, size_t n, size_t sense, double bw_hz, double ll_ohm)
{
    sio_rail r = ladder_rail(st, n);
    r.vrm = (sio_vrm){.present = 1, .sense = sense ? st[sense - 1].name : NULL, .sense_node = sense,
                      .bandwidth_hz = bw_hz, .loadline_ohm = ll_ohm};
    return r;
}

/* Sensing node 0 with no load line the loop holds node 0 at vdd: the droop
** is the ideal source's, to round-off, for either method and any bandwidth;
** and so is Z(f). */
static void test_vrm_at_node0_is_ideal(void **state)
{
    (void)state;
    const size_t n = 6000;
    double *i = malloc(n * sizeof *i), *v0 = malloc(n * sizeof *v0), *v1 = malloc(n * sizeof *v1);
    bursts(i, n, 30.0, 150.0, 7);
    sio_rail ideal = ladder_rail(design_stages, 3);
    const double bws[3] = {1e3, 4e4, 1e6};
    for (int mi = 0; mi < 2; mi++) {
        pdn_model *m0 = make_model_with(&ideal, 1.0, methods[mi]);
        assert_int_equal(pdn_droop(m0, 30.0, i, n, v0), PDN_OK);
        for (int b = 0; b < 3; b++) {
            sio_rail r = vrm_rail(design_stages, 3, 0, bws[b], 0.0);
            pdn_model *m = make_model_with(&r, 1.0, methods[mi]);
            assert_true(fabs(pdn_model_z0_ohm(m) - pdn_model_z0_ohm(m0)) <= 1e-15);
            assert_int_equal(pdn_droop(m, 30.0, i, n, v1), PDN_OK);
            double worst = 0.0;
            for (size_t k = 0; k < n; k++) if (fabs(v1[k] - v0[k]) > worst) worst = fabs(v1[k] - v0[k]);
            assert_true(worst <= 1e-9 * max_abs(v0, n));
            for (double f = 10.0; f < 1e9; f *= 3.7) {
                double a, bb, c, d;
                assert_int_equal(pdn_impedance(&ideal, f, &a, &bb), PDN_OK);
                assert_int_equal(pdn_impedance(&r, f, &c, &d), PDN_OK);
                assert_true(hypot(a - c, bb - d) <= 1e-12 * hypot(a, bb));
            }
            pdn_model_destroy(m);
        }
        pdn_model_destroy(m0);
    }
    free(i); free(v0); free(v1);
}

/* A constant current settles to I (load line + the series resistance after
** the sensed node), from the model's Z(0), the kernel's sum, Z(f -> 0) and a
** long step through the recursion; for each sensed node. */
static void test_vrm_dc(void **state)
{
    (void)state;
    const double ll = 2e-4, bin = 20.0, I0 = 10.0, I1 = 110.0;
    const size_t n = 40000;   /* 800 us: many loop time constants at 40 kHz */
    double *i = malloc(n * sizeof *i), *v = malloc(n * sizeof *v);
    for (size_t k = 0; k < n; k++) i[k] = I1;
    for (size_t sense = 0; sense <= 3; sense++) {
        double want = ll;
        for (size_t k = sense; k < 3; k++) want += design_stages[k].r_ohm;
        sio_rail r = vrm_rail(design_stages, 3, sense, 4e4, ll);
        for (int mi = 0; mi < 2; mi++) {
            pdn_model *m = make_model_with(&r, bin, methods[mi]);
            assert_true(fabs(pdn_model_z0_ohm(m) - want) <= 1e-15);
            double sum = 0.0;
            for (size_t k = 0; k < pdn_model_kernel_len(m); k++) sum += pdn_model_kernel(m)[k];
            assert_true(fabs(sum - want) <= 1e-12 * want);
            assert_int_equal(pdn_droop(m, I0, i, n, v), PDN_OK);
            assert_true(fabs(v[n - 1] - I1 * want) <= 1e-6 * I1 * want);
            pdn_model_destroy(m);
        }
        double re, im;
        assert_int_equal(pdn_impedance(&r, 1e-3, &re, &im), PDN_OK);
        assert_true(fabs(re - want) <= 1e-6 * want && fabs(im) <= 1e-6 * want);
    }
    free(i); free(v);
}

/* Z(f) (the transfer matrices of pdn_impedance) against the time-domain
** model (the kernel's discrete Fourier transform): two computations that
** share nothing but the loop's equation. At f << 1 / bin the kernel's
** transform is Z(f) up to the hold's phase, so their magnitudes agree to
** ~(2 pi f bin)^2. Every sensed node, with a load line, below and above the
** loop's bandwidth. */
static void test_vrm_impedance_matches_kernel(void **state)
{
    (void)state;
    const double bin = 10.0;
    for (size_t sense = 0; sense <= 3; sense++) {
        sio_rail r = vrm_rail(design_stages, 3, sense, 4e4, 1e-4);
        pdn_model *m = make_model_with(&r, bin, PDN_FFT);
        const double *h = pdn_model_kernel(m);
        size_t k = pdn_model_kernel_len(m);
        for (double f = 1e3; f <= 1.01e6; f *= 3.0) {
            double complex acc = 0.0;
            for (size_t j = 0; j < k; j++) acc += h[j] * cexp(-I * 2.0 * M_PI_ * f * (double)j * bin * 1e-9);
            double re, im;
            assert_int_equal(pdn_impedance(&r, f, &re, &im), PDN_OK);
            double za = hypot(re, im), ka = cabs(acc);
            if (fabs(ka - za) > 5e-3 * za)
                fprintf(stderr, "sense %zu f %g Hz: |Z| %.6g, kernel %.6g\n", sense, f, za, ka);
            assert_true(fabs(ka - za) <= 5e-3 * za);
        }
        pdn_model_destroy(m);
    }
}

/* One stage, R and C (no L), the die node sensed, load line k R: with
** droops x = (v0, v1), i_src = (v1 - v0) / R,
**     v0' = wb (ll i_src - v1),   C v1' = I - i_src,
** a second-order system x' = A x + B I; from rest, a step of I gives
** x(t) = A^-1 (e^(A t) - 1) B I, with e^(A t) for a 2 x 2 matrix in closed
** form: e^(tau t) (cosh(mu t) 1 + sinh(mu t) / mu (A - tau 1)), tau = tr/2,
** mu = sqrt(tau^2 - det) (complex when the response rings). */
static double vrm_one_stage_step(double r, double c, double wb, double ll, double t)
{
    double a00 = -wb * ll / r, a01 = wb * (ll / r - 1.0), a10 = 1.0 / (r * c), a11 = -1.0 / (r * c);
    double tau = 0.5 * (a00 + a11), det = a00 * a11 - a01 * a10;
    double complex mu = csqrt((double complex)(tau * tau - det));
    double complex ch = ccosh(mu * t), sh = cabs(mu) > 0 ? csinh(mu * t) / mu : t;
    double complex e01 = sh * a01, e11 = ch + sh * (a11 - tau);
    double g = exp(tau * t);
    /* (e^(A t) - 1) B, B = (0, 1 / C) */
    double complex y0 = g * e01 / c, y1 = (g * e11 - 1.0) / c;
    /* A^-1 y: the second component */
    double complex x1 = (-a10 * y0 + a00 * y1) / det;
    return creal(x1);
}

static void test_vrm_one_stage_closed_form(void **state)
{
    (void)state;
    static const sio_stage st[1] = {{"die", 1e-3, 0.0, 1e-6, 0.0, 0.0}};
    const double bw[3] = {2e4, 1e5, 1e6}, llf[3] = {0.0, 0.5, 2.0};
    const size_t n = 4000;
    const double bin = 10.0, amp = 50.0;
    double *i = malloc(n * sizeof *i), *v = malloc(n * sizeof *v);
    for (size_t k = 0; k < n; k++) i[k] = amp;
    for (int b = 0; b < 3; b++)
        for (int l = 0; l < 3; l++) {
            double ll = llf[l] * st[0].r_ohm;
            sio_rail r = vrm_rail(st, 1, 1, bw[b], ll);
            for (int mi = 0; mi < 2; mi++) {
                pdn_model *m = make_model_with(&r, bin, methods[mi]);
                assert_int_equal(pdn_droop(m, 0.0, i, n, v), PDN_OK);
                double worst = 0.0, peak = 0.0;
                for (size_t k = 0; k < n; k++) {
                    double want = amp * vrm_one_stage_step(st[0].r_ohm, st[0].c_f, 2.0 * M_PI_ * bw[b], ll,
                                                         (double)(k + 1) * bin * 1e-9);
                    if (fabs(want) > peak) peak = fabs(want);
                    if (fabs(v[k] - want) > worst) worst = fabs(v[k] - want);
                }
                assert_true(worst <= 1e-6 * peak);
                pdn_model_destroy(m);
            }
        }
    free(i); free(v);
}

/* A loop faster than the LC resonance between the regulator and the sensed
** node has no steady state: refused, the rail and the reason named. */
static void test_vrm_unstable_refused(void **state)
{
    (void)state;
    sio_rail r = vrm_rail(design_stages, 3, 3, 5e6, 0.0);
    pdn_model *m = NULL;
    sio_error err = {0};
    assert_int_equal(pdn_model_create(&r, 1.0, &m, &err), PDN_EINPUT);
    assert_null(m);
    assert_non_null(strstr(err.text, "rail core"));
    assert_non_null(strstr(err.text, "unstable"));
    /* the same loop at a bandwidth below the board's 71 kHz resonance settles */
    r.vrm.bandwidth_hz = 2e4;
    assert_int_equal(pdn_model_create(&r, 1.0, &m, &err), PDN_OK);
    pdn_model_destroy(m);
}

/* compare_ngspice with a regulator: 2000 bins of 10 ns, long enough for the loop to act. */
static double compare_ngspice_vrm(const sio_stage *st, size_t ns, size_t sense, double bw, double ll)
{
    sio_rail r = vrm_rail(st, ns, sense, bw, ll);
    return compare_ngspice(st, ns, &r.vrm, 10.0, 2000, 2000);
}

static void test_ngspice_vrm(void **state)
{
    (void)state;
    if (access("/usr/bin/ngspice", X_OK) != 0) {
        fprintf(stderr, "SKIP ngspice comparison: /usr/bin/ngspice is absent\n");
        skip();
    }
    for (size_t sense = 0; sense <= 3; sense++)
        assert_true(compare_ngspice_vrm(design_stages, 3, sense, 4e4, sense == 2 ? 3e-4 : 0.0) <= 0.01);
    assert_true(compare_ngspice_vrm(design_stages + 1, 2, 1, 3e5, 1e-4) <= 0.01);
    static const sio_stage rc1[1] = {{"die", 1e-3, 0.0, 1e-6, 0.0, 0.0}};
    assert_true(compare_ngspice_vrm(rc1, 1, 1, 1e5, 5e-4) <= 0.01);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant_idle_exact),
        cmocka_unit_test(test_settles_to_ir),
        cmocka_unit_test(test_superposition),
        cmocka_unit_test(test_one_stage_closed_form),
        cmocka_unit_test(test_table_matches_ladder),
        cmocka_unit_test(test_table_refused),
        cmocka_unit_test(test_ladder_refused),
        cmocka_unit_test(test_tiles),
        cmocka_unit_test(test_state_vs_fft),
        cmocka_unit_test(test_method_choice),
        cmocka_unit_test(test_design_example),
        cmocka_unit_test(test_ngspice),
        cmocka_unit_test(test_vrm_at_node0_is_ideal),
        cmocka_unit_test(test_vrm_dc),
        cmocka_unit_test(test_vrm_impedance_matches_kernel),
        cmocka_unit_test(test_vrm_one_stage_closed_form),
        cmocka_unit_test(test_vrm_unstable_refused),
        cmocka_unit_test(test_ngspice_vrm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
