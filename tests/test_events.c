/* test_events.c -- event detection, statistics and attribution (events.h),
** and the margin report (margin.h), on synthetic waveforms whose answers are
** known by construction, and on small schedules through the real PDN
** (attribution also against a brute force over every op). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "current.h"
#include "events.h"
#include "margin.h"
#include "pdn.h"
#include "report.h"
#include "sio.h"
#include "testkit.h"

static char *classes[] = {"A", "B"};
static sio_stage stages[] = {
    {.name = "board", .r_ohm = 1.5e-4, .l_h = 1e-9, .c_f = 5e-3, .esr_ohm = 2e-4},
    {.name = "package", .r_ohm = 5e-5, .l_h = 2e-11, .c_f = 1e-4, .esr_ohm = 1.5e-4},
    {.name = "die", .r_ohm = 1e-4, .l_h = 1e-12, .c_f = 2.5e-6, .esr_ohm = 1e-4},
};
static sio_rail rails[] = {{.name = "core", .vdd_v = 0.8, .guardband_mv = 50, .didt_limit_a_per_ns = 4,
                            .didt_window_ns = 5, .stages = stages, .n_stages = 3}};
static sio_die dies[] = {{.id = 0, .name = "logic"}};
static sio_unit units[] = {
    {.name = "BIG", .cls = 0, .rail = 0, .die = 0, .idle_a = 10},
    {.name = "SMALL", .cls = 1, .rail = 0, .die = 0, .idle_a = 1},
};
static sio_op ops[] = {
    {.name = "burst", .cls = 0, .current_a = 150.0, .ramp_cycles = 2},
    {.name = "tick", .cls = 1, .current_a = 2.0},
};
static sio_chip chip = {
    .name = "mini", .clock_ghz = 1.0, .rails = rails, .n_rails = 1, .dies = dies, .n_dies = 1,
    .units = units, .n_units = 2, .ops = ops, .n_ops = 2, .classes = classes, .n_classes = 2,
};

/* Synthetic droop with three bumps over a 50 mV guardband: three events with
** the right bounds and peaks; a cap of 2 keeps the two worst, counts 3. */
static void test_droop_events_and_cap(void **st)
{
    (void)st;
    events_detector *ev;
    double idle = 11;
    assert_int_equal(events_create(&chip, 1, 1.0, 2, NULL, &idle, &ev), 0);
    double i[300], d[300];
    for (int k = 0; k < 300; k++) {
        i[k] = idle;
        d[k] = 0.01;
    }
    for (int k = 50; k < 60; k++) d[k] = 0.055 + 0.001 * (k == 55);
    for (int k = 100; k < 103; k++) d[k] = 0.070;
    for (int k = 200; k < 240; k++) d[k] = 0.052;
    /* in three uneven pieces */
    events_push(ev, 0, 0, 0, i, d, 101);
    events_push(ev, 0, 0, 101, i + 101, d + 101, 1);
    events_push(ev, 0, 0, 102, i + 102, d + 102, 198);
    assert_int_equal(events_finish(ev, NULL), 0);
    const events_rail_stats *s = events_stats(ev, 0, 0);
    assert_int_equal(s->droop_events, 3);
    assert_int_equal(s->didt_events, 0);
    assert_true(fabs(s->max_droop_v - 0.070) < 1e-12);
    assert_true(fabs(s->t_max_droop_ns - 101) < 1e-9);   /* end of bin 100 */
    size_t n;
    const events_event *e = events_list(ev, &n);
    assert_int_equal(n, 2);
    assert_true(fabs(e[0].t_start_ns - 50) < 1e-9 && fabs(e[0].t_end_ns - 60) < 1e-9);
    assert_true(fabs(e[0].peak - 56) < 1e-9 && fabs(e[0].t_peak_ns - 56) < 1e-9);
    assert_true(fabs(e[1].t_start_ns - 100) < 1e-9 && fabs(e[1].t_end_ns - 103) < 1e-9);
    /* quantiles from the histogram: 257 bins at 10 mV, 43 above 50 */
    assert_true(fabs(events_droop_quantile(ev, 0, 0, 0.5) - 0.010) < 1e-4);
    assert_true(events_droop_quantile(ev, 0, 0, 0.99) > 0.05);
    events_destroy(ev);
}

/* 1000 droop events of distinct peaks under caps of 1, 300 (past the kept
** array's first size, so it grows) and SIZE_MAX / sizeof(events_event) + 2
** (whose size in bytes wraps: nothing is allocated up front but what the
** events need): each keeps the cap most severe, all 1000 counted. */
static void test_cap_sizes(void **st)
{
    (void)st;
    enum { NE = 1000, NB = 4 * NE };
    static double i[NB], d[NB];
    double idle = 11;
    for (int k = 0; k < NB; k++) {
        i[k] = idle;
        d[k] = k % 4 == 1 ? 0.051 + 1e-5 * (double)((k / 4) * 389 % NE) : 0.01;   /* peaks in a scrambled order */
    }
    const size_t caps[] = {1, 300, SIZE_MAX / sizeof(events_event) + 2};
    for (size_t q = 0; q < 3; q++) {
        events_detector *ev;
        assert_int_equal(events_create(&chip, 1, 1.0, caps[q], NULL, &idle, &ev), 0);
        events_push(ev, 0, 0, 0, i, d, NB);
        assert_int_equal(events_finish(ev, NULL), 0);
        assert_int_equal(events_stats(ev, 0, 0)->droop_events, NE);
        size_t n, want = caps[q] < NE ? caps[q] : NE;
        const events_event *e = events_list(ev, &n);
        assert_int_equal(n, want);
        /* the kept are the most severe: peaks (51 + 0.01 j mV) j = NE - want .. NE - 1 */
        double least = INFINITY;
        for (size_t k = 0; k < n; k++) least = e[k].peak < least ? e[k].peak : least;
        assert_true(fabs(least - (51.0 + 0.01 * (double)(NE - want))) < 1e-6);
        events_destroy(ev);
    }
}

/* dI/dt over a w = 5 ns window: a 40 A step in one bin gives 8 A/ns for
** exactly w bins; idle before time 0 means no false step at the start. */
static void test_didt(void **st)
{
    (void)st;
    events_detector *ev;
    double idle = 20;
    assert_int_equal(events_create(&chip, 1, 1.0, 10, NULL, &idle, &ev), 0);
    double i[100], d[100];
    for (int k = 0; k < 100; k++) {
        i[k] = k < 30 ? 20 : 60;
        d[k] = 0;
    }
    events_push(ev, 0, 0, 0, i, d, 100);
    events_finish(ev, NULL);
    const events_rail_stats *s = events_stats(ev, 0, 0);
    assert_int_equal(s->didt_events, 1);
    assert_true(fabs(s->max_didt_a_per_ns - 8.0) < 1e-12);
    size_t n;
    const events_event *e = events_list(ev, &n);
    assert_int_equal(n, 1);
    assert_int_equal(e[0].kind, EVENTS_DIDT);
    assert_true(fabs(e[0].t_start_ns - 30) < 1e-9 && fabs(e[0].t_end_ns - 35) < 1e-9);
    events_destroy(ev);
    /* events that end on the first bin of a block of the scan (256): the
    ** step at 251 and a droop over the guardband over 250 .. 255 */
    assert_int_equal(events_create(&chip, 1, 1.0, 10, NULL, &idle, &ev), 0);
    double i2[600], d2[600];
    for (int k = 0; k < 600; k++) {
        i2[k] = k < 251 ? 20 : 60;
        d2[k] = k >= 250 && k < 256 ? 0.06 : 0.01;
    }
    events_push(ev, 0, 0, 0, i2, d2, 600);
    events_finish(ev, NULL);
    e = events_list(ev, &n);
    assert_int_equal(n, 2);
    for (size_t k = 0; k < 2; k++) {
        assert_true(e[k].t_end_ns == 256);
        assert_true(e[k].t_start_ns == (e[k].kind == EVENTS_DIDT ? 251 : 250));
    }
    events_destroy(ev);
}

/* The tail past the makespan (events_push_tail): one waveform, pushed whole
** and pushed as 120 bins of timeline and 480 of tail, gives the same events,
** dI/dt and worst droop; the peak current, the mean, the bin count, the
** least droop and the percentiles (to the bit) are those of the timeline's
** 120 bins alone. An event open at
** the end of the tail closes there. */
static void test_tail(void **st)
{
    (void)st;
    enum { NB = 600, NT = 120 };
    static double i[NB], d[NB];
    double idle = 20;
    for (int k = 0; k < NB; k++) {
        i[k] = k >= 100 && k < 121 ? 60 : k == 121 ? 90 : idle;   /* a burst and a spike as the run ends */
        d[k] = k < NT ? 0.01 + 1e-4 * k : 0.03 + 0.03 * exp(-(k - NT) / 40.0) * cos((k - NT) / 6.0);
    }
    d[NB - 1] = 0.055;   /* over the guardband at the very end */
    events_detector *whole, *split, *ref;
    assert_int_equal(events_create(&chip, 1, 1.0, 100, NULL, &idle, &whole), 0);
    assert_int_equal(events_create(&chip, 1, 1.0, 100, NULL, &idle, &split), 0);
    assert_int_equal(events_create(&chip, 1, 1.0, 100, NULL, &idle, &ref), 0);
    events_push(whole, 0, 0, 0, i, d, NB);
    events_push(split, 0, 0, 0, i, d, NT);
    events_push_tail(split, 0, 0, NT, i + NT, d + NT, 37);   /* in uneven pieces */
    events_push_tail(split, 0, 0, NT + 37, i + NT + 37, d + NT + 37, NB - NT - 37);
    events_push(ref, 0, 0, 0, i, d, NT);
    assert_int_equal(events_finish(whole, NULL), 0);
    assert_int_equal(events_finish(split, NULL), 0);
    assert_int_equal(events_finish(ref, NULL), 0);
    const events_rail_stats *a = events_stats(whole, 0, 0), *b = events_stats(split, 0, 0), *r = events_stats(ref, 0, 0);
    assert_true(b->max_didt_a_per_ns == a->max_didt_a_per_ns && b->t_max_didt_ns == a->t_max_didt_ns);
    assert_true(b->max_droop_v == a->max_droop_v && b->t_max_droop_ns == a->t_max_droop_ns);
    assert_true(b->min_droop_v == r->min_droop_v);   /* the timeline's, as the percentiles' bounds */
    assert_true(a->max_didt_a_per_ns > r->max_didt_a_per_ns);   /* the fall from 90 A lies in the tail */
    assert_int_equal(b->droop_events, a->droop_events);
    assert_int_equal(b->didt_events, a->didt_events);
    assert_true(b->didt_events > r->didt_events);
    size_t na, nb;
    const events_event *ea = events_list(whole, &na), *eb = events_list(split, &nb);
    assert_int_equal(na, nb);
    for (size_t k = 0; k < na; k++) {
        assert_int_equal(ea[k].kind, eb[k].kind);
        assert_true(ea[k].t_start_ns == eb[k].t_start_ns && ea[k].t_end_ns == eb[k].t_end_ns);
        assert_true(ea[k].t_peak_ns == eb[k].t_peak_ns && ea[k].peak == eb[k].peak);
    }
    assert_true(eb[nb - 1].t_end_ns == NB);   /* closed at the end of the tail */
    assert_int_equal(b->bins, NT);
    assert_true(b->peak_a == r->peak_a && b->sum_a == r->sum_a && b->avg_a == r->avg_a);
    for (double q = 0; q <= 1; q += 0.125)
        assert_true(events_droop_quantile(split, 0, 0, q) == events_droop_quantile(ref, 0, 0, q));
    assert_true(b->max_droop_v > r->max_droop_v);   /* the tail's 55 mV past the timeline's worst */
    events_destroy(whole);
    events_destroy(split);
    events_destroy(ref);
}

/* Through the real chain: a schedule with a 150 A burst on BIG and small
** ticks on SMALL. The worst droop event is attributed to BIG and to the
** burst instruction; the margin report's needed guardband is worst + safety
** and the saving is zero when the guardband is broken. */
static void test_attribution_and_margin(void **st)
{
    (void)st;
    char path[] = "/tmp/pda_test_events_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "id,unit,op,start,cycles\n");
    for (int k = 0; k < 50; k++) fprintf(f, "t%d,SMALL,tick,%d,5\n", k, 10 * k);
    fprintf(f, "the_burst,BIG,burst,200,300\n");
    fclose(f);
    sio_schedule *s;
    sio_error err;
    assert_int_equal(sio_schedule_load(&chip, path, &s, &err), 0);
    pdn_model *m;
    assert_int_equal(pdn_model_create(&rails[0], 1.0, &m, &err), 0);
    double idle = 11;
    pdn_stream *ps;
    assert_int_equal(pdn_stream_create(m, idle, &ps), 0);
    events_detector *ev;
    assert_int_equal(events_create(&chip, 1, 1.0, 100, NULL, &idle, &ev), 0);
    margin_spectrum *sp;
    assert_int_equal(margin_spectrum_create(1, 1, 1.0, &sp), 0);
    current_iter *it;
    assert_int_equal(current_iter_create(&chip, s, 1.0, 64, 0, &it, &err), 0);
    current_tile t;
    double *d = malloc(64 * sizeof *d);
    while (current_next(it, &t) == 1) {
        pdn_stream_push(ps, t.rail_a, t.nb, d);
        events_push(ev, 0, 0, t.b0, t.rail_a, d, t.nb);
        margin_spectrum_push(sp, 0, 0, t.rail_a, t.nb);
    }
    assert_int_equal(events_finish(ev, s), 0);
    size_t n;
    const events_event *e = events_list(ev, &n);
    assert_true(n >= 1);
    const events_event *worst = NULL;
    for (size_t k = 0; k < n; k++)
        if (e[k].kind == EVENTS_DROOP && (!worst || e[k].peak > worst->peak)) worst = &e[k];
    assert_non_null(worst);
    assert_true(worst->t_start_ns >= 200 && worst->t_start_ns < 260);
    assert_int_equal(worst->causes[0].unit, 0);
    assert_true(worst->causes[0].delta_a > 100);
    assert_int_equal(worst->causes[0].n_ops, 1);
    assert_string_equal(sio_schedule_id(s, worst->causes[0].ops[0]), "the_burst");
    margin_rail mr;
    assert_int_equal(margin_report(&chip, 1, ev, sp, &idle, 5.0, &mr), 0);
    assert_true(fabs(mr.needed_guardband_mv - (mr.worst_droop_mv + 5.0)) < 1e-9);
    assert_true(fabs(mr.worst_droop_mv - worst->peak) < 1e-9);
    assert_true(mr.headroom_mv < 0 && mr.saving_w == 0);
    assert_true(mr.p50_mv <= mr.p99_mv && mr.p99_mv <= mr.p9999_mv && mr.p9999_mv <= mr.worst_droop_mv + 0.05);
    /* V^2 saving by hand for a made-up headroom */
    free(d);
    current_iter_destroy(it);
    margin_spectrum_destroy(sp);
    events_destroy(ev);
    pdn_stream_destroy(ps);
    pdn_model_destroy(m);
    sio_schedule_free(s);
    unlink(path);
}

/* The saving follows (1 - (V - dV)^2 / V^2) on the switching power alone. */
/* The spectrum's levels: two sinusoids on exact frequency steps, one read at
** level 0 (5.0 MHz) and one only a coarser level resolves (68.7 kHz, below
** level 0's 61 kHz step x 8), come out at their amplitudes (a Hann window on
** a step reads a sinusoid exactly); and constant runs pushed whole give the
** spectrum they give bin by bin. */
/* A run shorter than one segment (950 and 9950 bins): a 3 A tone at 10 MHz
** (a whole number of periods: 100 bins each) reads as 3 A to within 2%, the
** short run windowed over its own length. */
static void test_spectrum_short_run(void **st)
{
    (void)st;
    const double two_pi = 2 * acos(-1.0), f0 = 10e6;
    const size_t lens[] = {950, 9950};
    for (size_t q = 0; q < 2; q++) {
        margin_spectrum *sp;
        assert_int_equal(margin_spectrum_create(1, 1, 1.0, &sp), 0);
        double *v = malloc(lens[q] * sizeof *v);
        assert_non_null(v);
        for (size_t k = 0; k < lens[q]; k++) v[k] = 20.0 + 3.0 * sin(two_pi * f0 * (double)k * 1e-9);
        margin_spectrum_push(sp, 0, 0, v, lens[q]);
        double f[400], a[400], best = 0;
        size_t np = margin_spectrum_get(sp, 0, 0, f, a, 400);
        for (size_t k = 0; k < np; k++)
            if (fabs(f[k] - f0) < 0.02 * f0 && a[k] > best) best = a[k];
        if (fabs(best - 3.0) > 0.06) fail_msg("%zu bins: %g A at 10 MHz, want 3 A", lens[q], best);
        free(v);
        margin_spectrum_destroy(sp);
    }
}

static void test_spectrum_levels(void **st)
{
    (void)st;
    const double two_pi = 2 * acos(-1.0), bin_s = 1e-9;
    const double df0 = 1.0 / (MARGIN_SEG * bin_s), df1 = df0 / 8;
    const double f_hi = 82 * df0, f_lo = 9 * df1;
    const size_t n = 2100000, piece = 4096;   /* 2.1 ms: a whole segment at level 1 (131 us), none at 3 */
    margin_spectrum *sp, *sc;
    assert_int_equal(margin_spectrum_create(1, 1, 1.0, &sp), 0);
    double *v = malloc(piece * sizeof *v);
    assert_non_null(v);
    for (size_t b0 = 0; b0 < n; b0 += piece) {
        size_t m = n - b0 < piece ? n - b0 : piece;
        for (size_t k = 0; k < m; k++) {
            double t = (double)(b0 + k) * bin_s;
            v[k] = 30.0 + 2.0 * sin(two_pi * f_lo * t) + 1.0 * sin(two_pi * f_hi * t);
        }
        margin_spectrum_push(sp, 0, 0, v, m);
    }
    double f[400], a[400];
    size_t np = margin_spectrum_get(sp, 0, 0, f, a, 400);
    assert_true(np > 100);
    double a_lo = 0, a_hi = 0;
    for (size_t k = 0; k < np; k++) {
        if (k) assert_true(f[k] > f[k - 1]);
        if (fabs(f[k] - f_lo) < 1e-6 * f_lo) a_lo = a[k];
        if (fabs(f[k] - f_hi) < 1e-6 * f_hi) a_hi = a[k];
    }
    assert_true(f[0] < 2 * df1);   /* read below level 0's step */
    if (fabs(a_lo - 2.0) > 0.01 || fabs(a_hi - 1.0) > 0.01) fail_msg("amplitudes %g at %g Hz, %g at %g Hz", a_lo, f_lo, a_hi, f_hi);
    margin_spectrum_destroy(sp);
    /* constant runs of every length, whole and bin by bin */
    assert_int_equal(margin_spectrum_create(1, 1, 1.0, &sp), 0);
    assert_int_equal(margin_spectrum_create(1, 1, 1.0, &sc), 0);
    uint64_t x = 12345;
    for (size_t run = 0; run < 400; run++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        size_t len = 1 + (size_t)(x >> 40) % (run % 7 == 0 ? 300000 : 3000);
        double lvl = 20.0 + (double)(x >> 58);
        margin_spectrum_push_const(sc, 0, 0, lvl, len);
        for (size_t k = 0; k < piece; k++) v[k] = lvl;
        for (size_t k = 0; k < len; k += piece) margin_spectrum_push(sp, 0, 0, v, len - k < piece ? len - k : piece);
    }
    double fc[400], ac[400];
    np = margin_spectrum_get(sp, 0, 0, f, a, 400);
    assert_int_equal(margin_spectrum_get(sc, 0, 0, fc, ac, 400), np);
    for (size_t k = 0; k < np; k++) {
        assert_true(f[k] == fc[k]);
        if (fabs(a[k] - ac[k]) > 1e-9 * (1 + a[k])) fail_msg("at %g Hz: %.12g bin by bin, %.12g whole", f[k], a[k], ac[k]);
    }
    free(v);
    margin_spectrum_destroy(sp);
    margin_spectrum_destroy(sc);
}

static void test_saving(void **st)
{
    (void)st;
    events_detector *ev;
    double idle = 11;
    rails[0].guardband_mv = 80;
    assert_int_equal(events_create(&chip, 1, 1.0, 4, NULL, &idle, &ev), 0);
    double i[1000], d[1000];
    for (int k = 0; k < 1000; k++) {
        i[k] = k % 2 ? 31 : 51;   /* mean 41 A: 30 A above idle */
        d[k] = k == 500 ? 0.045 : 0.020;
    }
    events_push(ev, 0, 0, 0, i, d, 1000);
    events_finish(ev, NULL);
    margin_rail mr;
    margin_report(&chip, 1, ev, NULL, &idle, 5.0, &mr);
    double V = 0.8, dv = 0.080 - 0.050;
    double want = 30 * V * (1 - (V - dv) * (V - dv) / (V * V));
    assert_true(fabs(mr.saving_w - want) < 1e-9);
    assert_true(fabs(mr.saving_pct - 100 * want / (41 * V)) < 1e-9);
    rails[0].guardband_mv = 50;
    events_destroy(ev);
}

/* Attribution against a brute force: a random schedule of 4 units on one
** rail (the testkit's), droop events over a low guardband, 40 kept of many.
** Every cause's delta is the unit's change of current between the bin
** before the peak and the bin before the window, summed over all its ops;
** the causes are the units of largest |delta|, in that order; each listed
** instruction's own current changes. */
static sio_unit units4[] = {
    {.name = "U0", .cls = 0, .rail = 0, .die = 0, .idle_a = 0.5},
    {.name = "U1", .cls = 0, .rail = 0, .die = 0, .idle_a = 0.25},
    {.name = "V0", .cls = 1, .rail = 0, .die = 0},
    {.name = "V1", .cls = 1, .rail = 0, .die = 0, .idle_a = 1.0},
};
static sio_op ops4[] = {
    {.name = "run", .cls = 0, .current_a = 40.0, .ramp_cycles = 20},
    {.name = "go", .cls = 1, .current_a = 30.0},
    {.name = "ramp", .cls = 1, .current_a = 70.0, .ramp_cycles = 3},
};

/* Once with the index scanned in one piece, once in two halves
** (events_set_index_two_min): the same events, each against the brute force. */
static void attribution_brute_force(int two, events_event *first, size_t *n_first);

static void test_attribution_brute_force(void **st)
{
    (void)st;
    events_event first[80];
    size_t n_first = 0;
    attribution_brute_force(0, first, &n_first);
    attribution_brute_force(1, first, &n_first);
}

static void attribution_brute_force(int two, events_event *first, size_t *n_first)
{
    sio_rail r4 = rails[0];
    r4.guardband_mv = 2;
    sio_chip c4 = chip;
    c4.rails = &r4;
    c4.units = units4;
    c4.n_units = 4;
    c4.ops = ops4;
    c4.n_ops = 3;
    c4.clock_ghz = 0.9;
    char path[] = "/tmp/pda_test_events_bf_XXXXXX";
    assert_int_equal(testkit_random_schedule(units4, path, 11, 400, 7, 200), 0);
    sio_schedule *s;
    sio_error err;
    assert_int_equal(sio_schedule_load(&c4, path, &s, &err), 0);
    unlink(path);
    double idle = 1.75;
    pdn_model *m;
    assert_int_equal(pdn_model_create(&r4, 1.0, &m, &err), 0);
    pdn_stream *ps[2];
    events_detector *ev;
    assert_int_equal(events_create(&c4, 2, 1.0, 40, NULL, &idle, &ev), 0);
    current_iter *it;
    assert_int_equal(current_iter_create(&c4, s, 1.0, 256, 0, &it, &err), 0);
    for (int c = 0; c < 2; c++) assert_int_equal(pdn_stream_create(m, idle, &ps[c]), 0);
    double d[256];
    current_tile t;
    while (current_next(it, &t) == 1)
        for (size_t c = 0; c < 2; c++) {
            pdn_stream_push(ps[c], t.rail_a + c * t.stride, t.nb, d);
            events_push(ev, c, 0, t.b0, t.rail_a + c * t.stride, d, t.nb);
        }
    events_set_index_two_min(ev, two ? 0 : SIZE_MAX);
    assert_int_equal(events_finish(ev, s), 0);
    size_t n;
    const events_event *e = events_list(ev, &n);
    assert_true(events_total(ev) > n && n == 80);   /* both kinds at the cap */
    if (!two) {
        memcpy(first, e, n * sizeof *e);
        *n_first = n;
    }
    assert_int_equal(n, *n_first);
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(e[k].n_causes, first[k].n_causes);
        for (size_t q = 0; q < e[k].n_causes; q++) {
            assert_int_equal(e[k].causes[q].unit, first[k].causes[q].unit);
            assert_true(e[k].causes[q].delta_a == first[k].causes[q].delta_a);
            assert_int_equal(e[k].causes[q].n_ops, first[k].causes[q].n_ops);
            assert_memory_equal(e[k].causes[q].ops, first[k].causes[q].ops,
                                e[k].causes[q].n_ops * sizeof e[k].causes[q].ops[0]);
        }
    }
    for (size_t k = 0; k < n; k++) {
        double tp = e[k].t_peak_ns, tw = tp - e[k].window_ns, brute[4] = {0, 0, 0, 0};
        for (size_t i = 0; i < s->n; i++)
            if (s->chip[i] == e[k].chip)
                brute[s->unit[i]] += current_op_avg(&c4, s, i, tp - 1, tp) - current_op_avg(&c4, s, i, tw - 1, tw);
        size_t listed = 0;
        for (size_t q = 0; q < e[k].n_causes; q++) {
            const events_cause *cs = &e[k].causes[q];
            if (fabs(cs->delta_a - brute[cs->unit]) > 1e-9 * (1 + fabs(brute[cs->unit])))
                fail_msg("event %zu unit %zu: delta %.12g, brute force %.12g", k, cs->unit, cs->delta_a,
                         brute[cs->unit]);
            if (q && fabs(cs->delta_a) > fabs(e[k].causes[q - 1].delta_a))
                fail_msg("event %zu: causes out of order", k);
            listed |= (size_t)1 << cs->unit;
            for (size_t j = 0; j < cs->n_ops; j++) {
                uint32_t i = cs->ops[j];
                assert_int_equal(s->unit[i], cs->unit);
                double own = current_op_avg(&c4, s, i, tp - 1, tp) - current_op_avg(&c4, s, i, tw - 1, tw);
                assert_true(fabs(own) >= 1e-3 * (1 - 1e-9));
            }
        }
        double weakest = e[k].n_causes ? fabs(e[k].causes[e[k].n_causes - 1].delta_a) : 0;
        for (size_t u = 0; u < 4; u++) {
            if (listed >> u & 1u || fabs(brute[u]) < 1e-3) continue;
            if (e[k].n_causes < EVENTS_MAX_CAUSES || fabs(brute[u]) > weakest * (1 + 1e-9))
                fail_msg("event %zu: unit %zu (delta %.6g) is not among the causes", k, u, brute[u]);
        }
    }
    current_iter_destroy(it);
    for (int c = 0; c < 2; c++) pdn_stream_destroy(ps[c]);
    pdn_model_destroy(m);
    events_destroy(ev);
    sio_schedule_free(s);
}

/* The detector against a plain bin-by-bin reference of docs/model.md's rules, on a
** random waveform whose droop wanders across the guardband (many events of
** every length, some as long as a block of the scan or longer, and one may
** be open at the end) and whose
** current jumps past the dI/dt limit, fed in pieces of random sizes: the
** statistics, every event (all kept) and the quantiles to a histogram step,
** for dI/dt windows shorter and longer than a block of the scan (1, 5, 300
** and 3000 bins). */
typedef struct ref_ev { int kind; size_t b0, b1, bp; double peak; } ref_ev;

static void test_scan_reference(void **st)
{
    (void)st;
    const size_t N = 40000;
    double *i = malloc(N * sizeof *i), *d = malloc(N * sizeof *d), *ring = malloc(3000 * sizeof *ring);
    ref_ev *re = malloc(N * sizeof *re);
    assert_non_null(i); assert_non_null(d); assert_non_null(ring); assert_non_null(re);
    const double windows[] = {1, 5, 300, 3000};
    for (int wi = 0; wi < 4; wi++) {
        srand(100u + (unsigned)wi);
        sio_rail rr = rails[0];
        rr.didt_window_ns = windows[wi];
        rr.didt_limit_a_per_ns = 40.0 / windows[wi];
        sio_chip cc = chip;
        cc.rails = &rr;
        const double idle = 11, gb = rr.guardband_mv * 1e-3 * 1e3;
        double x = 20, y = 0.04;
        for (size_t k = 0; k < N; k++) {   /* a random walk; steps of the current now and then */
            if (rand() % 97 == 0) x += (rand() % 2 ? 1 : -1) * (double)(rand() % 80);
            x += (rand() % 201 - 100) * 0.01;
            if (x < 0) x = -x;
            y += (rand() % 201 - 100) * 2e-5 + (0.045 - y) * 1e-3;
            i[k] = x;
            d[k] = y;
        }
        if (wi == 1) {   /* NaN droops: none is over the guardband, and the extrema pass them over */
            for (size_t k = 5000; k < 5120; k++) d[k] = 0.07;
            for (size_t k = 5120; k < 5376; k++) d[k] = NAN;   /* a whole block of the scan */
            for (size_t k = 12000; k < 13000; k++) d[k] = 0.07;
            d[12500] = NAN;                                      /* one inside a block all over it */
        }
        events_detector *ev;
        assert_int_equal(events_create(&cc, 1, 1.0, N, NULL, &idle, &ev), 0);
        for (size_t k = 0; k < N;) {
            size_t n = (size_t)(rand() % 3 == 0 ? rand() % 9 : rand() % 1500) + 1;
            if (n > N - k) n = N - k;
            events_push(ev, 0, 0, k, i + k, d + k, n);
            k += n;
        }
        assert_int_equal(events_finish(ev, NULL), 0);
        /* the reference */
        const size_t w = (size_t)windows[wi];
        for (size_t k = 0; k < w; k++) ring[k] = idle;
        double pk = -INFINITY, mdt = -INFINITY, md = -INFINITY, mnd = INFINITY, sum = 0;
        size_t bpk = 0, bdt = 0, bd = 0, nre = 0, n_kind[2] = {0, 0};
        ref_ev open[2] = {{-1, 0, 0, 0, 0}, {-1, 0, 0, 0, 0}};
        for (size_t k = 0; k < N; k++) {
            double didt = fabs(i[k] - ring[k % w]) * (1.0 / (double)w);   /* as the detector: times 1/(w bin) */
            ring[k % w] = i[k];
            if (i[k] > pk) { pk = i[k]; bpk = k; }
            if (didt > mdt) { mdt = didt; bdt = k; }
            if (d[k] > md) { md = d[k]; bd = k; }
            if (d[k] < mnd) mnd = d[k];
            sum += i[k];
            double v[2] = {d[k] * 1e3, didt}, lim[2] = {gb, rr.didt_limit_a_per_ns};
            for (int q = 0; q < 2; q++) {
                ref_ev *o = &open[q];
                if (v[q] > lim[q]) {
                    if (o->kind < 0) *o = (ref_ev){q, k, 0, k, v[q]};
                    else if (v[q] > o->peak) { o->peak = v[q]; o->bp = k; }
                } else if (o->kind >= 0) {
                    o->b1 = k;
                    re[nre++] = *o;
                    n_kind[q]++;
                    o->kind = -1;
                }
            }
        }
        for (int q = 0; q < 2; q++)   /* still open at the end: closed there */
            if (open[q].kind >= 0) {
                open[q].b1 = N;
                re[nre++] = open[q];
                n_kind[q]++;
            }
        const events_rail_stats *s = events_stats(ev, 0, 0);
        assert_int_equal(s->bins, N);
        assert_true(s->peak_a == pk && s->t_peak_a_ns == (double)bpk);
        assert_true(s->max_didt_a_per_ns == mdt && s->t_max_didt_ns == (double)(bdt + 1));
        assert_true(s->max_droop_v == md && s->t_max_droop_ns == (double)(bd + 1));
        assert_true(s->min_droop_v == mnd);
        assert_true(fabs(s->sum_a - sum) <= 1e-12 * sum);
        assert_int_equal(s->droop_events, n_kind[0]);
        assert_int_equal(s->didt_events, n_kind[1]);
        assert_true(n_kind[0] > 20 && n_kind[1] > 5);
        size_t n;
        const events_event *e = events_list(ev, &n);
        assert_int_equal(n, nre);
        for (size_t q = 0; q < nre; q++) {
            size_t k = 0;
            while (k < n && !(e[k].kind == re[q].kind && e[k].t_start_ns == (double)re[q].b0)) k++;
            if (k == n) fail_msg("w %zu: the event of kind %d from bin %zu is missing", w, re[q].kind, re[q].b0);
            if (e[k].t_end_ns != (double)re[q].b1 || e[k].t_peak_ns != (double)(re[q].bp + 1) || e[k].peak != re[q].peak)
                fail_msg("w %zu: the event of kind %d from bin %zu: end %g peak %g at %g, reference %zu %g at %zu", w,
                         re[q].kind, re[q].b0, e[k].t_end_ns, e[k].peak, e[k].t_peak_ns, re[q].b1, re[q].peak,
                         re[q].bp + 1);
        }
        /* quantiles: within one 0.05 mV step of the sorted droops' */
        double *sd = malloc(N * sizeof *sd);
        assert_non_null(sd);
        for (size_t k = 0; k < N; k++) sd[k] = d[k] == d[k] ? d[k] : -INFINITY;   /* NaN: the lowest bucket */
        for (size_t a = 1; a < N; a++) {   /* insertion sort: the walk is nearly sorted in pieces */
            double t = sd[a];
            size_t b = a;
            while (b > 0 && sd[b - 1] > t) { sd[b] = sd[b - 1]; b--; }
            sd[b] = t;
        }
        const double qs[] = {0.5, 0.9, 0.99};
        for (int q = 0; q < 3; q++) {
            double want = sd[(size_t)ceil(qs[q] * (double)N) - 1], got = events_droop_quantile(ev, 0, 0, qs[q]);
            if (fabs(got - want) > 0.05e-3 + 1e-12) fail_msg("w %zu: q %g: %.9g, sorted %.9g", w, qs[q], got, want);
        }
        free(sd);
        events_destroy(ev);
    }
    free(i); free(d); free(ring); free(re);
}

/* The report's decimation against a brute force: each column's min and max
** of current and droop (mV) are exactly those of the bins mapped to it (NaN
** bins passed over), for timelines shorter than, equal to and longer than
** REPORT_COLS bins, fed in pieces of random sizes (columns straddle
** pieces). */
static void test_report_columns(void **st)
{
    (void)st;
    const size_t lens[] = {700, REPORT_COLS, 5003, 100000};
    for (int li = 0; li < 4; li++) {
        const size_t N = lens[li];
        double *i = malloc(N * sizeof *i), *d = malloc(N * sizeof *d), *ref = malloc(REPORT_COLS * 4 * sizeof *ref);
        int *any = calloc(REPORT_COLS, sizeof *any);
        assert_non_null(i); assert_non_null(d); assert_non_null(ref); assert_non_null(any);
        srand(7u + (unsigned)li);
        for (size_t k = 0; k < N; k++) {
            i[k] = rand() % 10000 * 0.01;
            d[k] = (rand() % 10000 - 2000) * 1e-5;
        }
        if (N == 5003)   /* NaN bins, whole columns of them and single ones: passed over */
            for (size_t k = 1000; k < N; k += k < 1100 ? 1 : 97) i[k] = d[k] = NAN;
        report *r;
        assert_int_equal(report_create(2, N, 1.0, &r), 0);
        for (size_t k = 0; k < N;) {
            size_t n = (size_t)(rand() % 4 == 0 ? rand() % 5 : rand() % 3000) + 1;
            if (n > N - k) n = N - k;
            report_push(r, 1, k, i + k, d + k, n);
            k += n;
        }
        for (size_t k = 0; k < N; k++) {
            size_t c = (size_t)((double)k * ((double)REPORT_COLS / (double)N));
            if (c >= REPORT_COLS) c = REPORT_COLS - 1;
            double *q = ref + 4 * c, dm = d[k] * 1e3;
            if (i[k] != i[k]) continue;
            if (!any[c]) { q[0] = q[1] = i[k]; q[2] = q[3] = dm; any[c] = 1; continue; }
            q[0] = fmin(q[0], i[k]); q[1] = fmax(q[1], i[k]);
            q[2] = fmin(q[2], dm); q[3] = fmax(q[3], dm);
        }
        for (size_t c = 0; c < REPORT_COLS; c++) {
            double got[4];
            assert_int_equal(report_column(r, 0, c, got), 0);   /* series 0: nothing pushed */
            assert_int_equal(report_column(r, 1, c, got), any[c]);
            if (any[c] && memcmp(got, ref + 4 * c, sizeof got) != 0)
                fail_msg("N %zu column %zu: %g %g %g %g, brute force %g %g %g %g", N, c, got[0], got[1], got[2], got[3],
                         ref[4 * c], ref[4 * c + 1], ref[4 * c + 2], ref[4 * c + 3]);
        }
        report_destroy(r);
        free(i); free(d); free(ref); free(any);
    }
}

/* The report's detail windows: one per run of bins over the guardband, on
** the run's worst bin (REPORT_DETAIL_HALF bins either side, cut at bin 0),
** the REPORT_DETAIL_KEEP most severe kept; the same whether the bins come in
** pieces of random sizes or as constant runs (report_push_const); none
** under the limit; dI/dt windows from a current step over the dI/dt limit. */
static void test_report_details(void **st)
{
    (void)st;
    enum { RUNS = REPORT_DETAIL_KEEP + 12, GAP = 3000, N = RUNS * GAP + 2000 };
    const double gb = 10.0, lim = 5.0;
    const size_t wb = 4;
    double *i = malloc(N * sizeof *i), *d = malloc(N * sizeof *d);
    size_t peak[RUNS];
    assert_non_null(i); assert_non_null(d);
    srand(11);
    for (size_t k = 0; k < N; k++) { i[k] = 10.0; d[k] = 0.004; }   /* 4 mV: under the guardband */
    for (size_t q = 0; q < RUNS; q++) {   /* run q: 40 bins over 10 mV, its worst bin somewhere inside */
        size_t b0 = 700 + q * GAP, len = 40;
        peak[q] = b0 + (size_t)(rand() % (int)len);
        for (size_t k = b0; k < b0 + len; k++) d[k] = 0.011 + 1e-5 * (double)(rand() % 100);
        d[peak[q]] = 0.012 + 1e-4 * (double)q;   /* later runs are worse */
    }
    i[N - 1000] = 200.0;   /* a one-bin spike of 190 A: +-190 / (4 x 1 ns) A/ns, over 5 A/ns */
    for (int mode = 0; mode < 2; mode++) {
        report_opts o = {.n_chips = 1, .n_rails = 1, .n_bins = N, .run_bins = N, .bin_ns = 1.0, .guardband_mv = &gb,
                         .didt_limit_a_per_ns = &lim, .didt_bins = &wb, .idle_a = &i[0]};
        report *r;
        assert_int_equal(report_create_opts(&o, &r), 0);
        for (size_t k = 0; k < N;) {
            size_t n = (size_t)(rand() % 3000) + 1, e;
            if (n > N - k) n = N - k;
            for (e = k + 1; mode && e < k + n && i[e] == i[k] && d[e] == d[k];) e++;
            if (mode && e - k > 1) {   /* a constant stretch as one constant run */
                report_push_const(r, 0, k, i[k], d[k], e - k);
                k = e;
                continue;
            }
            report_push(r, 0, k, i + k, d + k, n);
            k += n;
        }
        report_finish(r);
        size_t nd = report_n_details(r), got_droop = 0, got_didt = 0;
        assert_int_equal(nd, REPORT_DETAIL_KEEP + 1);
        for (size_t j = 0; j < nd; j++) {
            size_t s, b0, len;
            int kind;
            assert_int_equal(report_detail(r, j, &s, &kind, &b0, &len), 0);
            assert_int_equal(s, 0);
            if (kind == EVENTS_DIDT) {   /* rise and fall in one window, on the rise (the first of equals) */
                assert_int_equal(b0, N - 1000 - REPORT_DETAIL_HALF);
                got_didt++;
                continue;
            }
            size_t q = 0;
            while (q < RUNS && peak[q] != b0 + REPORT_DETAIL_HALF) q++;
            if (q == RUNS) fail_msg("mode %d: window at %zu is on no run's worst bin", mode, b0);
            assert_true(q >= RUNS - REPORT_DETAIL_KEEP);   /* among the most severe */
            assert_int_equal(len, 2 * REPORT_DETAIL_HALF + 1);
            got_droop++;
        }
        assert_int_equal(got_droop, REPORT_DETAIL_KEEP);
        assert_int_equal(got_didt, 1);
        report_destroy(r);
    }
    free(i); free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_droop_events_and_cap),
        cmocka_unit_test(test_cap_sizes),
        cmocka_unit_test(test_didt),
        cmocka_unit_test(test_tail),
        cmocka_unit_test(test_attribution_and_margin),
        cmocka_unit_test(test_spectrum_levels),
        cmocka_unit_test(test_spectrum_short_run),
        cmocka_unit_test(test_saving),
        cmocka_unit_test(test_attribution_brute_force),
        cmocka_unit_test(test_scan_reference),
        cmocka_unit_test(test_report_columns),
        cmocka_unit_test(test_report_details),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
