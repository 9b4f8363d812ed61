/* test_skip.c -- the walk that skips constant stretches (CURRENT_CONST,
** docs/architecture.md) against the walk of every bin, on gaps short enough
** to walk:
** - the PDN streams, both methods (state and overlap-save) on a ringing
**   ladder: a stream settled on a constant current and skipped over n bins
**   gives, after the skip, the droop of the stream pushed bin by bin;
** - the walk's current maps (rails, dies, units) and droop, per bin, with gaps between
**   bursts of 10^5 to 1.5 x 10^6 cycles, a long op whose plateau spans a gap,
**   and tile sizes that cut the gaps differently;
** - the whole run (pda_run_walk with skipping on and off) on the three-rail
**   sample, at bins of 1 and 10 ns: every bin of every kept rail (current
**   and droop), the events (each field), the rail statistics, the power
**   figures, the margin report with its spectrum, and the thermal run (heat
**   maps, unit and die temperatures, hotspots; with a frame short enough
**   that the idle stretches are sampled, the means and maps still agree);
** - budget_analyze (which always skips) against the run that walks every
**   bin.
** Tolerances, relative to each quantity's scale: 1e-11 for values (the
** currents, the droop -- the PDN state settles to ~1e-13 of its scale, and
** the skip holds that value --, maxima, event times and peaks, heat maps),
** 1e-9 for sums over every bin (energy, sum_a, means): the walk of every bin
** adds 10^6 equal currents one by one, with a round-off of up to n x eps,
** where the skip multiplies (seen: 4e-11). Both far below any printed digit. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "budget.h"
#include "pda.h"
#include "pipeline_int.h"

#define TOL 1e-11      /* values: per-bin currents and droop, maxima, events, maps (seen: < 1e-12) */
#define TOL_SUM 1e-9   /* sums over every bin: energy, sum_a, the means (seen: 4e-11) */

/* a and b further apart than tol of scale (of 1 when scale is 0) */
static int differ(double a, double b, double scale, double tol)
{
    return !(fabs(a - b) <= tol * (scale > 0 ? scale : 1.0)) && !(a == b);
}

static void close_tol(double a, double b, double scale, double tol, const char *what)
{
    if (differ(a, b, scale, tol))
        fail_msg("%s: %.17g (skipping) vs %.17g (every bin), scale %g", what, a, b, scale);
}

static void close_to(double a, double b, double scale, const char *what) { close_tol(a, b, scale, TOL, what); }
/* close_to with the place as printf arguments, formatted only when the two
** differ: the loops below compare every bin of long timelines */
#define CLOSE_AT(a, b, scale, ...)                                              \
    do {                                                                        \
        double a_ = (a), b_ = (b), s_ = (scale);                                \
        if (differ(a_, b_, s_, TOL)) {                                          \
            char w_[120];                                                       \
            snprintf(w_, sizeof w_, __VA_ARGS__);                               \
            close_to(a_, b_, s_, w_);                                           \
        }                                                                       \
    } while (0)
static void sum_close(double a, double b, double scale, const char *what) { close_tol(a, b, scale, TOL_SUM, what); }

/* ---- the PDN streams -------------------------------------------------------- */

static void check_stream(const sio_rail *rail, int method, double bin_ns)
{
    pdn_model *m;
    sio_error err;
    if (pdn_model_create_with(rail, bin_ns, method, &m, &err)) fail_msg("%s", err.text);
    const double idle = 3.0, hold = 7.5;
    const size_t burst = 3000, gap = 3 * pdn_model_kernel_len(m) + 200000, tail = 5000;
    size_t n = burst + gap + tail;
    double *i = malloc(n * sizeof *i), *ref = malloc(n * sizeof *ref), *got = malloc(n * sizeof *got);
    assert_non_null(i);
    assert_non_null(ref);
    assert_non_null(got);
    for (size_t k = 0; k < n; k++) i[k] = k < burst ? idle + 40.0 * sin((double)k * 0.05) * sin((double)k * 0.05) : hold;
    for (size_t k = burst + gap; k < n; k++) i[k] = hold + 20.0 * (double)((k / 37) % 2);
    pdn_stream *a, *b;
    assert_int_equal(pdn_stream_create(m, idle, &a), PDN_OK);
    assert_int_equal(pdn_stream_create(m, idle, &b), PDN_OK);
    assert_int_equal(pdn_stream_push(a, i, n, ref), PDN_OK);
    /* b: the burst, then the held current until settled, skipped, then the tail */
    size_t at = burst;
    assert_int_equal(pdn_stream_push(b, i, burst, got), PDN_OK);
    assert_false(pdn_stream_settled(b, hold));
    assert_int_equal(pdn_stream_skip(b, hold, 10, got + at), PDN_EINPUT);   /* not settled: refused */
    while (!pdn_stream_settled(b, hold) && at < burst + gap) {
        size_t take = burst + gap - at < 4096 ? burst + gap - at : 4096;
        assert_int_equal(pdn_stream_push(b, i + at, take, got + at), PDN_OK);
        at += take;
    }
    if (!(at < burst + gap / 2))   /* it settles within a few kernels */
        fail_msg("%s: not settled %zu bins after the burst (kernel %zu)", method == PDN_STATE ? "state" : "fft",
                 at - burst, pdn_model_kernel_len(m));
    double v;
    size_t skip = burst + gap - at;
    assert_int_equal(pdn_stream_skip(b, hold, skip, &v), PDN_OK);
    for (size_t k = at; k < burst + gap; k++) got[k] = v;
    assert_int_equal(pdn_stream_push(b, i + burst + gap, tail, got + burst + gap), PDN_OK);
    double scale = 0;
    for (size_t k = 0; k < n; k++) scale = fmax(scale, fabs(ref[k]));
    for (size_t k = 0; k < n; k++)
        CLOSE_AT(got[k], ref[k], scale, "%s droop, bin %zu", method == PDN_STATE ? "state" : "fft", k);
    pdn_stream_destroy(a);
    pdn_stream_destroy(b);
    pdn_model_destroy(m);
    free(i);
    free(ref);
    free(got);
}

static void load(const char *chip, const char *sched, sio_chip **c, sio_schedule **s)
{
    sio_error err;
    if (sio_chip_load(chip, c, &err)) fail_msg("%s", err.text);
    if (sched && sio_schedule_load(*c, sched, s, &err)) fail_msg("%s", err.text);
}

static void test_pdn_skip(void **st)
{
    (void)st;
    sio_chip *c;
    load("samples/rails3/chip.json", NULL, &c, NULL);
    for (size_t r = 0; r < c->n_rails; r++) {
        check_stream(&c->rails[r], PDN_STATE, 1.0);
        check_stream(&c->rails[r], PDN_FFT, r == 0 ? 1.0 : 10.0);
    }
    sio_chip_free(c);
    /* a ladder with a regulator: an active loop, whose settle test uses its Lyapunov matrix */
    load("samples/stack/chip.json", NULL, &c, NULL);
    for (size_t r = 0; r < c->n_rails; r++) {
        assert_true(c->rails[r].vrm.present);
        check_stream(&c->rails[r], PDN_STATE, 10.0);
        check_stream(&c->rails[r], PDN_FFT, 10.0);
    }
    sio_chip_free(c);
}

/* The tail (walk.h): a run of one 1-cycle op walks its tail in tiles of the
** PDN's block, not of the run's two bins (it took 10^5 tiles of two bins,
** and minutes); the tail's bins follow the timeline's without a gap, hold
** the rails' idle current, and end after walk_tail_bins of them, at least
** the PDN kernel's length. */
static void test_tail_tiles(void **st)
{
    (void)st;
    char path[] = "/tmp/pda_test_tail_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
    assert_non_null(f);
    fprintf(f, "id,unit,op,start,cycles\na,MXM.W0,matmul,0,1\n");
    assert_int_equal(fclose(f), 0);
    sio_chip *c;
    sio_schedule *s;
    load("samples/rails3/chip.json", path, &c, &s);
    walk_opts wo = {.bin_ns = 1.0, .maps = CURRENT_CONST, .droop = 1, .threads = 1, .tail = 1};
    walk *w;
    sio_error err;
    if (walk_open(c, s, &wo, &w, &err)) fail_msg("%s", err.text);
    const size_t nb = walk_n_bins(w), tail = walk_tail_bins(w), nr = c->n_rails;
    assert_int_equal(nb, 2);
    pdn_model *m;
    for (size_t r = 0; r < nr; r++) {
        if (pdn_model_for_rail(c, r, 1.0, &m, &err)) fail_msg("%s", err.text);
        assert_true(tail >= pdn_model_kernel_len(m));
        pdn_model_destroy(m);
    }
    current_tile t;
    const double *droop;
    size_t next = 0, tiles = 0;
    while (walk_next(w, &t, &droop) == 1) {
        assert_int_equal(t.b0, next);
        next += t.nb;
        if (t.b0 < nb) continue;
        tiles++;
        for (size_t q = 0; q < nr; q++)
            for (size_t k = 0; k < t.nb; k++) assert_true(t.rail_a[q * t.stride + k] == walk_chip_idle_a(w)[q]);
    }
    assert_int_equal(next, nb + tail);
    assert_true(tiles <= 1 + tail / 4096);
    walk_close(w);
    unlink(path);
    sio_schedule_free(s);
    sio_chip_free(c);
}

/* ---- schedules with gaps ------------------------------------------------------ */

/* Bursts of ops on units of every rail, separated by gaps of gaps[k]
** cycles, and one long op whose plateau spans the second gap. */
static void write_gaps(char *path, const long *gaps, size_t n_gaps)
{
    int fd = mkstemp(path);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
    assert_non_null(f);
    fprintf(f, "id,unit,op,start,cycles,activity\n");
    static const char *const unit[] = {"MXM.W0", "MEM.W0", "MXM.W1", "MEM.W3", "SXM.W"};
    static const char *const op[] = {"matmul", "read", "load_weights", "write", "permute"};
    long t = 0;
    int id = 0;
    for (size_t g = 0; g <= n_gaps; g++) {
        for (int k = 0; k < 40; k++) {
            int u = (k * 7 + (int)g) % 5;
            fprintf(f, "i%d,%s,%s,%ld,%d,%.2f\n", id++, unit[u], op[u], t + 20 * k, 20 + (k * 11) % 60,
                    0.3 + 0.05 * (k % 13));
        }
        if (g == 1) fprintf(f, "long,MEM.W5,read,%ld,%ld,0.9\n", t + 200, gaps[g] / 2 + 300);
        if (g < n_gaps) t += gaps[g] + 40 * 20;
    }
    assert_int_equal(fclose(f), 0);
}

/* The three-rail sample with a schedule of write_gaps (path: its template),
** and the run's default options; gap_done unmakes it. */
static void gap_case(char *path, const long *gaps, size_t n_gaps, sio_chip **c, sio_schedule **s, pda_run_opts *o)
{
    write_gaps(path, gaps, n_gaps);
    load("samples/rails3/chip.json", path, c, s);
    pda_run_opts_default(o);
}

static void gap_done(const char *path, sio_chip *c, sio_schedule *s)
{
    unlink(path);
    sio_schedule_free(s);
    sio_chip_free(c);
}

/* The walk's maps per bin, skipping or not. */
static double *walk_maps(const sio_chip *c, const sio_schedule *s, double bin_ns, size_t tile, int skip,
                         size_t *rows, size_t *nb, size_t *n_runs)
{
    walk_opts wo = {.bin_ns = bin_ns, .tile_bins = tile, .droop = 1,
                    .maps = CURRENT_DIES | CURRENT_UNITS | (skip ? CURRENT_CONST : 0u)};
    walk *w;
    sio_error err;
    if (walk_open(c, s, &wo, &w, &err)) fail_msg("%s", err.text);
    size_t nch = s->n_chips, nr = c->n_rails, nd = c->n_dies, nu = c->n_units;
    *rows = nch * (nr + nd + nu) + nch * nr;   /* the maps, then the droop */
    *nb = walk_n_bins(w);
    size_t tb = walk_tile_bins(w), nm = nch * (nr + nd + nu);
    double *out = malloc(*rows * *nb * sizeof *out);
    assert_non_null(out);
    current_tile t;
    const double *d;
    size_t runs = 0;
    while (walk_next(w, &t, &d) == 1) {
        runs += t.stride == 0;
        for (size_t q = nm; q < *rows; q++)
            for (size_t k = 0; k < t.nb; k++) out[q * *nb + t.b0 + k] = t.stride ? d[(q - nm) * tb + k] : d[q - nm];
        for (size_t q = 0; q < nm; q++) {
            const double *a = q < nch * nr ? t.rail_a + q * t.stride
                            : q < nch * (nr + nd) ? t.die_a + (q - nch * nr) * t.stride
                                                  : t.unit_a + (q - nch * (nr + nd)) * t.stride;
            if (!t.stride) a = q < nch * nr ? t.rail_a + q : q < nch * (nr + nd) ? t.die_a + q - nch * nr
                                                                                  : t.unit_a + q - nch * (nr + nd);
            for (size_t k = 0; k < t.nb; k++) out[q * *nb + t.b0 + k] = t.stride ? a[k] : a[0];
        }
    }
    if (!skip) assert_int_equal(runs, 0);
    walk_close(w);
    *n_runs = runs;
    return out;
}

static void test_walk_maps(void **st)
{
    (void)st;
    sio_chip *c;
    sio_schedule *s;
    char path[] = "/tmp/pda-skip-XXXXXX";
    const long gaps[] = {100000, 700000, 250000};
    pda_run_opts o;
    gap_case(path, gaps, 3, &c, &s, &o);
    const double bins[] = {1.0, 10.0};
    const size_t tiles[] = {0, 4096, 100000};
    for (size_t b = 0; b < 2; b++)
        for (size_t ti = 0; ti < 3; ti++) {
            size_t rows, nb, rows2, nb2, runs;
            double *ref = walk_maps(c, s, bins[b], tiles[ti], 0, &rows, &nb, &runs);
            double *got = walk_maps(c, s, bins[b], tiles[ti], 1, &rows2, &nb2, &runs);
            if (tiles[ti] == 4096) assert_true(runs >= 3);   /* the gaps and the plateau were skipped */
            assert_int_equal(rows, rows2);
            assert_int_equal(nb, nb2);
            for (size_t q = 0; q < rows; q++) {
                double scale = 0;
                for (size_t k = 0; k < nb; k++) scale = fmax(scale, fabs(ref[q * nb + k]));
                for (size_t k = 0; k < nb; k++)
                    CLOSE_AT(got[q * nb + k], ref[q * nb + k], scale, "bin %g ns, tile %zu: row %zu bin %zu", bins[b],
                             tiles[ti], q, k);
            }
            free(ref);
            free(got);
        }
    gap_done(path, c, s);
}

/* ---- the whole run ------------------------------------------------------------ */

static void compare_runs(const sio_chip *c, const sio_schedule *s, const pda_run_opts *o)
{
    pda_result *a, *b;
    sio_error err;
    if (pda_run_walk(c, s, o, 1, NULL, &a, &err)) fail_msg("%s", err.text);
    if (pda_run_walk(c, s, o, 0, NULL, &b, &err)) fail_msg("%s", err.text);
    size_t n = pda_result_n_bins(a), nr = c->n_rails, nch = pda_result_n_chips(a);
    assert_int_equal(n, pda_result_n_bins(b));
    /* every bin of every rail */
    double *ia = malloc(n * sizeof *ia), *da = malloc(n * sizeof *da);
    double *ib = malloc(n * sizeof *ib), *db = malloc(n * sizeof *db);
    assert_true(ia && da && ib && db);
    for (size_t ch = 0; ch < nch; ch++)
        for (size_t rl = 0; rl < nr; rl++) {
            if (pda_result_rail(a, ch, rl, ia, da, &err) || pda_result_rail(b, ch, rl, ib, db, &err))
                fail_msg("%s", err.text);
            double si = 0, sd = 0;
            for (size_t k = 0; k < n; k++) { si = fmax(si, fabs(ib[k])); sd = fmax(sd, fabs(db[k])); }
            for (size_t k = 0; k < n; k++) {
                CLOSE_AT(ia[k], ib[k], si, "rail %zu current, bin %zu", rl, k);
                CLOSE_AT(da[k], db[k], sd, "rail %zu droop, bin %zu", rl, k);
            }
            const events_rail_stats *x = pda_result_rail_stats(a, ch, rl), *y = pda_result_rail_stats(b, ch, rl);
            close_to(x->peak_a, y->peak_a, y->peak_a, "peak_a");
            close_to(x->t_peak_a_ns, y->t_peak_a_ns, 0, "t_peak_a_ns");
            sum_close(x->sum_a, y->sum_a, y->sum_a, "sum_a");
            sum_close(x->avg_a, y->avg_a, y->avg_a, "avg_a");
            close_to(x->max_didt_a_per_ns, y->max_didt_a_per_ns, y->max_didt_a_per_ns, "max dI/dt");
            close_to(x->t_max_didt_ns, y->t_max_didt_ns, 0, "t_max_didt_ns");
            close_to(x->max_droop_v, y->max_droop_v, y->max_droop_v, "max droop");
            close_to(x->t_max_droop_ns, y->t_max_droop_ns, 0, "t_max_droop_ns");
            close_to(x->min_droop_v, y->min_droop_v, y->max_droop_v, "min droop");
            assert_int_equal(x->bins, y->bins);
            assert_int_equal(x->droop_events, y->droop_events);
            assert_int_equal(x->didt_events, y->didt_events);
        }
    free(ia); free(da); free(ib); free(db);
    /* the events, field by field */
    size_t ea, eb;
    const events_event *la = pda_result_events(a, &ea), *lb = pda_result_events(b, &eb);
    assert_int_equal(ea, eb);
    assert_true(ea > 0);
    for (size_t k = 0; k < ea; k++) {
        const events_event *x = &la[k], *y = &lb[k];
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->chip, y->chip);
        assert_int_equal(x->rail, y->rail);
        close_to(x->t_start_ns, y->t_start_ns, 0, "event start");
        close_to(x->t_end_ns, y->t_end_ns, 0, "event end");
        close_to(x->t_peak_ns, y->t_peak_ns, 0, "event peak time");
        close_to(x->peak, y->peak, y->peak, "event peak");
        close_to(x->window_ns, y->window_ns, y->window_ns, "event window");
        assert_int_equal(x->n_causes, y->n_causes);
        for (size_t q = 0; q < x->n_causes; q++) {
            assert_int_equal(x->causes[q].unit, y->causes[q].unit);
            assert_int_equal(x->causes[q].n_ops, y->causes[q].n_ops);
            close_to(x->causes[q].delta_a, y->causes[q].delta_a, 1, "cause delta");
        }
    }
    /* the power */
    const pda_power *pa = pda_result_power(a), *pb = pda_result_power(b);
    close_to(pa->peak_w, pb->peak_w, pb->peak_w, "peak_w");
    close_to(pa->t_peak_ns, pb->t_peak_ns, 0, "t_peak_ns");
    sum_close(pa->energy_j, pb->energy_j, pb->energy_j, "energy");
    sum_close(pa->avg_w, pb->avg_w, pb->avg_w, "avg_w");
    close_to(pa->peak_window_w, pb->peak_window_w, pb->peak_window_w, "peak_window_w");
    /* the margin report and the spectrum */
    size_t ma, mb;
    const margin_rail *xa = pda_result_margin(a, &ma), *xb = pda_result_margin(b, &mb);
    assert_int_equal(ma, mb);
    for (size_t k = 0; k < ma; k++) {
        close_to(xa[k].worst_droop_mv, xb[k].worst_droop_mv, xb[k].worst_droop_mv, "worst droop");
        close_to(xa[k].p50_mv, xb[k].p50_mv, xb[k].worst_droop_mv, "p50");
        close_to(xa[k].p99_mv, xb[k].p99_mv, xb[k].worst_droop_mv, "p99");
        close_to(xa[k].p9999_mv, xb[k].p9999_mv, xb[k].worst_droop_mv, "p9999");
        sum_close(xa[k].avg_w, xb[k].avg_w, xb[k].avg_w, "rail avg_w");
        sum_close(xa[k].dynamic_w, xb[k].dynamic_w, xb[k].avg_w, "rail dynamic_w");
        assert_int_equal(xa[k].n_res, xb[k].n_res);
        /* the spectrum's amplitudes against the rail's peak current (bands of
        ** round-off noise, ~1e-13 A, have no frequency to agree on) */
        double ipk = pda_result_rail_stats(b, xb[k].chip, xb[k].rail)->peak_a;
        for (size_t q = 0; q < xa[k].n_res; q++) {
            close_to(xa[k].res[q].f_hz, xb[k].res[q].f_hz, 0, "resonance");
            close_to(xa[k].res[q].i_a, xb[k].res[q].i_a, ipk, "resonance current");
            close_to(xa[k].res[q].droop_mv, xb[k].res[q].droop_mv, xb[k].worst_droop_mv, "resonance droop");
            if (xb[k].res[q].i_a > 1e-6 * ipk)
                close_to(xa[k].res[q].f_i_hz, xb[k].res[q].f_i_hz, 0, "resonance current's frequency");
        }
    }
    /* the thermal run */
    assert_int_equal(pda_result_has_thermal(a), pda_result_has_thermal(b));
    if (pda_result_has_thermal(a)) {
        for (size_t d = 0; d < c->n_dies; d++)
            for (int peak = 0; peak < 2; peak++) {
                size_t nx, ny;
                const double *ha = pda_result_heat(a, 0, d, peak, &nx, &ny), *hb = pda_result_heat(b, 0, d, peak, &nx, &ny);
                for (size_t k = 0; k < nx * ny; k++) close_to(ha[k], hb[k], hb[k], peak ? "peak map" : "steady map");
            }
        size_t ua, ub;
        const pda_unit_temp *ta = pda_result_unit_temps(a, &ua), *tb = pda_result_unit_temps(b, &ub);
        assert_int_equal(ua, ub);
        for (size_t k = 0; k < ua; k++) {
            close_to(ta[k].steady_mean_c, tb[k].steady_mean_c, tb[k].steady_mean_c, "unit steady mean");
            close_to(ta[k].steady_max_c, tb[k].steady_max_c, tb[k].steady_max_c, "unit steady max");
            sum_close(ta[k].run_mean_c, tb[k].run_mean_c, tb[k].run_mean_c, "unit run mean");
            close_to(ta[k].run_max_c, tb[k].run_max_c, tb[k].run_max_c, "unit run max");
        }
        size_t na, nb2;
        pda_result_hotspots(a, &na);
        pda_result_hotspots(b, &nb2);
        assert_int_equal(na, nb2);
    }
    pda_result_free(a);
    pda_result_free(b);
}

static void test_run(void **st)
{
    (void)st;
    sio_chip *c;
    sio_schedule *s;
    char path[] = "/tmp/pda-skip-XXXXXX";
    const long gaps[] = {100000, 1500000, 600000};
    pda_run_opts o;
    gap_case(path, gaps, 3, &c, &s, &o);
    /* events of both kinds, and one droop event that spans every stretch
    ** (the guardband below the idle droop of rail 2) */
    c->rails[0].guardband_mv = 2.0;
    c->rails[1].didt_limit_a_per_ns = 0.2;
    c->rails[2].guardband_mv = 0.0;
    o.keep_rails = 1;
    o.grid[0] = o.grid[1] = 8;
    const double bins[] = {1.0, 10.0};
    for (size_t b = 0; b < 2; b++) {
        o.bin_ns = bins[b];
        compare_runs(c, s, &o);
    }
    /* frames of 1 us: the 1.7 ms stretch is 1700 frames, sampled past its first 1024 */
    o.bin_ns = 10.0;
    o.frame_ns = 1000;
    compare_runs(c, s, &o);
    gap_done(path, c, s);
}

static void test_budget_figures(void **st)
{
    (void)st;
    sio_chip *c;
    sio_schedule *s;
    char path[] = "/tmp/pda-skip-XXXXXX";
    const long gaps[] = {300000, 2000000};
    pda_run_opts o;
    gap_case(path, gaps, 2, &c, &s, &o);
    o.thermal = 0;
    o.window_ns = 1.0;
    pda_result *r;
    sio_error err;
    if (pda_run_walk(c, s, &o, 0, NULL, &r, &err)) fail_msg("%s", err.text);
    budget_figs f;
    if (budget_analyze(c, s, s->start_cyc, 1.0, 1.0, 1, &f, &err)) fail_msg("%s", err.text);
    const pda_power *p = pda_result_power(r);
    close_to(f.peak_w, p->peak_w, p->peak_w, "budget peak_w");
    close_to(f.peak_window_w, p->peak_window_w, p->peak_window_w, "budget peak window");
    size_t nm;
    const margin_rail *m = pda_result_margin(r, &nm);
    for (size_t k = 0; k < nm; k++) {
        close_to(f.rail_droop_mv[k], m[k].worst_droop_mv, m[k].worst_droop_mv, "budget droop");
        const events_rail_stats *x = pda_result_rail_stats(r, 0, k);
        close_to(f.rail_didt_a_per_ns[k], x->max_didt_a_per_ns, x->max_didt_a_per_ns, "budget dI/dt");
    }
    budget_figs_free(&f);
    pda_result_free(r);
    gap_done(path, c, s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pdn_skip),
        cmocka_unit_test(test_tail_tiles),
        cmocka_unit_test(test_walk_maps),
        cmocka_unit_test(test_run),
        cmocka_unit_test(test_budget_figures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
