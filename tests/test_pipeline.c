/* test_pipeline.c -- pda_run, the whole run as a library call, on the
** sample chips and generated schedules:
** - energy is conserved through the pipeline: the run's energy equals the
**   sum over instructions of vdd x their charge (current_op_charge) plus
**   every unit's idle power over the makespan;
** - the kept rails agree with the run's own statistics (peak, sum, worst
**   droop) and the power figures (the peak bin is the largest bin of the
**   summed rail powers);
** - options out of range and a rail that was not kept are refused with the
**   field named, and nothing is returned;
** - a system's chips run as two shares, packed and merged, give the whole
**   run's summary (also when no share has an event), and a merge whose
**   options differ from the shares' (bin, window, safety margin, events
**   kept) is refused. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pda.h"

static void load(const char *chip, const char *sched, sio_chip **c, sio_schedule **s)
{
    sio_error err;
    if (sio_chip_load(chip, c, &err)) fail_msg("%s", err.text);
    if (sio_schedule_load(*c, sched, s, &err)) fail_msg("%s", err.text);
}

static void check_sample(const char *chip, const char *sched)
{
    sio_chip *c;
    sio_schedule *s;
    load(chip, sched, &c, &s);
    pda_run_opts o;
    pda_run_opts_default(&o);
    o.keep_rails = 1;
    o.thermal = 0;
    o.bin_ns = 0.7;   /* bins that do not line up with the cycles */
    pda_result *r;
    sio_error err;
    if (pda_run(c, s, &o, &r, &err)) fail_msg("%s", err.text);
    /* energy: every instruction's charge at its rail's vdd, and the idle */
    double e_ops = 0, p_idle = 0;
    for (size_t i = 0; i < s->n; i++)
        e_ops += c->rails[c->units[s->unit[i]].rail].vdd_v * current_op_charge(c, s, i) * 1e-9;
    for (size_t u = 0; u < c->n_units; u++) p_idle += c->rails[c->units[u].rail].vdd_v * c->units[u].idle_a;
    double mk_ns = (double)sio_schedule_makespan_cyc(s) / c->clock_ghz;
    double expect = e_ops + (double)s->n_chips * p_idle * mk_ns * 1e-9;
    const pda_power *pw = pda_result_power(r);
    if (fabs(pw->energy_j - expect) > 1e-9 * expect)
        fail_msg("%s: energy %.12g J, instructions and idle give %.12g J", sched, pw->energy_j, expect);
    /* the rails against the statistics and the power */
    size_t n = pda_result_n_bins(r), nr = c->n_rails, nch = pda_result_n_chips(r);
    double *i = malloc(n * sizeof *i), *d = malloc(n * sizeof *d), *p = calloc(n, sizeof *p);
    assert_non_null(i);
    assert_non_null(d);
    assert_non_null(p);
    for (size_t ch = 0; ch < nch; ch++)
        for (size_t rl = 0; rl < nr; rl++) {
            if (pda_result_rail(r, ch, rl, i, d, &err)) fail_msg("%s", err.text);
            const events_rail_stats *st = pda_result_rail_stats(r, ch, rl);
            double peak = 0, sum = 0, worst = -INFINITY;
            for (size_t k = 0; k < n; k++) {
                if (i[k] > peak) peak = i[k];
                sum += i[k];
                if (d[k] > worst) worst = d[k];
                p[k] += c->rails[rl].vdd_v * i[k];
            }
            assert_true(peak == st->peak_a);
            assert_true(fabs(sum - st->sum_a) <= 1e-9 * sum);
            assert_true(fabs(worst - st->max_droop_v * 1e3) <= 1e-9 * fabs(worst));
        }
    double pmax = 0;
    for (size_t k = 0; k < n; k++) if (p[k] > pmax) pmax = p[k];
    if (fabs(pmax - pw->peak_w) > 1e-9 * pmax) fail_msg("peak bin %.12g W, the rails give %.12g W", pw->peak_w, pmax);
    assert_int_equal(pda_result_rail(r, nch, 0, i, d, &err), PDA_EINPUT);
    n = 7;
    assert_null(pda_result_heat(r, 0, 0, 0, &n, &n));   /* thermal off */
    assert_int_equal(n, 0);
    free(i);
    free(d);
    free(p);
    pda_result_free(r);
    sio_schedule_free(s);
    sio_chip_free(c);
}

static void test_samples(void **st)
{
    (void)st;
    check_sample("samples/tsp/chip.json", "samples/tsp/decode.csv");
    check_sample("samples/tsp/chip.json", "samples/tsp/multichip.csv");
    check_sample("samples/stack/chip.json", "samples/stack/decode.csv");
}

/* The multichip sample (4 chips) as shares of chips 0, 2 and 1, 3; quiet:
** limits no bin reaches, so no share has an event. */
static void merge_case(int quiet)
{
    sio_chip *c;
    sio_schedule *s;
    load("samples/tsp/chip.json", "samples/tsp/multichip.csv", &c, &s);
    for (size_t r = 0; quiet && r < c->n_rails; r++) {
        c->rails[r].guardband_mv = 1e6;
        c->rails[r].didt_limit_a_per_ns = 1e9;
    }
    pda_run_opts o;
    pda_run_opts_default(&o);
    o.thermal = 0;
    pda_result *whole, *sh[2], *m;
    sio_error err;
    if (pda_run(c, s, &o, &whole, &err)) fail_msg("%s", err.text);
    sio_schedule *part[2];
    void *pk[2];
    size_t len[2];
    for (size_t p = 0; p < 2; p++) {
        sio_load_opts lo;
        sio_load_opts_default(&lo);
        lo.chip_lo = p;
        lo.chip_step = 2;
        if (sio_schedule_load_opts(c, "samples/tsp/multichip.csv", &lo, &part[p], &err)) fail_msg("%s", err.text);
        pda_run_opts so = o;
        so.timeline_cyc = sio_schedule_makespan_cyc(s);
        so.system_chips = s->n_chips;
        if (pda_run(c, part[p], &so, &sh[p], &err) || pda_result_pack(sh[p], &pk[p], &len[p], &err))
            fail_msg("share %zu: %s", p, err.text);
    }
    if (quiet) {
        size_t n;
        pda_result_events(sh[0], &n);
        assert_int_equal(n, 0);
    }
    assert_int_equal(pda_result_merge(c, s->path, &o, pda_result_power(whole), pda_result_power_sum_w_ns(whole), pk,
                                      len, 2, NULL, NULL, NULL, NULL, &m, &err),
                     PDA_OK);
    assert_string_equal(pda_result_summary_json(m), pda_result_summary_json(whole));
    pda_result_free(m);
    for (int k = 0; !quiet && k < 4; k++) {   /* the merge's options against the shares' */
        pda_run_opts mo = o;
        switch (k) {
        case 0: mo.bin_ns = 2; break;
        case 1: mo.window_ns = 50; break;
        case 2: mo.safety_mv = 7; break;
        default: mo.events_cap = 3; break;
        }
        m = NULL;
        assert_int_equal(pda_result_merge(c, s->path, &mo, pda_result_power(whole), pda_result_power_sum_w_ns(whole),
                                          pk, len, 2, NULL, NULL, NULL, NULL, &m, &err),
                         PDA_EINPUT);
        assert_null(m);
        assert_non_null(strstr(err.text, "do not fit"));
    }
    for (size_t p = 0; p < 2; p++) {
        free(pk[p]);
        pda_result_free(sh[p]);
        sio_schedule_free(part[p]);
    }
    pda_result_free(whole);
    sio_schedule_free(s);
    sio_chip_free(c);
}

static void test_merge_shares(void **st)
{
    (void)st;
    merge_case(0);
    merge_case(1);
}

static void test_bad_options(void **st)
{
    (void)st;
    sio_chip *c;
    sio_schedule *s;
    load("samples/tsp/chip.json", "samples/tsp/decode.csv", &c, &s);
    const char *field[] = {"bin_ns", "window_ns", "safety_mv", "grid", "frame_ns", "events_cap"};
    for (size_t k = 0; k < sizeof field / sizeof field[0]; k++) {
        pda_run_opts o;
        pda_run_opts_default(&o);
        switch (k) {
        case 0: o.bin_ns = 0; break;
        case 1: o.window_ns = -1; break;
        case 2: o.safety_mv = NAN; break;
        case 3: o.grid[0] = 1; o.grid[1] = 8; break;
        case 4: o.frame_ns = -5; break;
        default: o.events_cap = 0; break;
        }
        pda_result *r = (pda_result *)&o;   /* must come back NULL */
        sio_error err;
        assert_int_equal(pda_run(c, s, &o, &r, &err), PDA_EINPUT);
        assert_null(r);
        if (!strstr(err.text, field[k])) fail_msg("case %zu: '%s' does not name %s", k, err.text, field[k]);
    }
    /* a run without keep_rails has no rails to give */
    pda_run_opts o;
    pda_run_opts_default(&o);
    o.thermal = 0;
    pda_result *r;
    sio_error err;
    assert_int_equal(pda_run(c, s, &o, &r, &err), PDA_OK);
    double x[1];
    assert_int_equal(pda_result_rail(r, 0, 0, x, NULL, &err), PDA_EINPUT);
    assert_non_null(strstr(err.text, "keep_rails"));
    pda_result_free(r);
    pda_result_free(NULL);
    sio_schedule_free(s);
    sio_chip_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_merge_shares),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
