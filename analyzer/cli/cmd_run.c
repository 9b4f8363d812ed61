/* cmd_run.c -- `analyzer run CHIP SCHEDULE [-o DIR]`: the whole analysis,
** a thin layer over pda_run (pda.h): options in, the result printed, its
** files written by pda_result_write (all of them, or none). */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "jbuild.h"
#include "outset.h"
#include "pda.h"

void cmd_run_progress(void *arg, double done)
{
    int *last = arg;
    int pct = (int)(done * 100 + 1e-9);
    if (pct / 12 == *last / 12 && pct != 100) return;   /* about every eighth */
    *last = pct;
    fprintf(stderr, "\ranalyzer: %3d%% of the timeline", pct);
    if (pct == 100) fputc('\n', stderr);
}

/* A temperature or a power on the console: dec decimals, or four digits in
** exponent form past 1e9 (a leakage runaway), where %f would print hundreds. */
static const char *fixed(char b[32], double v, int dec)
{
    if (fabs(v) < 1e9) snprintf(b, 32, "%.*f", dec, v);
    else snprintf(b, 32, "%.4g", v);
    return b;
}

/* The run on stdout: summary.json with --json, else a screenful of text
** (the schedule's figures from the summary: a system merged from shares
** has no whole schedule in this process). */
static void print_result(const cmd_opts *o, const sio_chip *c, const pda_result *res, json_t *summary)
{
    const pda_power *pw = pda_result_power(res);
    size_t nq;
    const margin_rail *mr = pda_result_margin(res, &nq);
    const double peak_w = pw->peak_w, t_peak_w = pw->t_peak_ns, energy_j = pw->energy_j;
    json_t *sj = json_object_get(summary, "schedule");
    const double mk_cyc = (double)json_integer_value(json_object_get(sj, "makespan_cycles")),
                 mk_ns = mk_cyc / c->clock_ghz;
    const size_t nch = (size_t)json_integer_value(json_object_get(sj, "chips")),
                 n_ops = (size_t)json_integer_value(json_object_get(sj, "ops"));
    json_t *th = json_object_get(summary, "thermal"), *dies = th ? json_object_get(th, "dies") : NULL;
    if (o->json) {   /* the library's text: dumping summary again could fail halfway */
        fputs(pda_result_summary_json(res), stdout);
        fputc('\n', stdout);
    } else if (!o->quiet) {
        printf("%s on %s: %zu ops, %zu chip%s, makespan %.0f cycles = %.1f ns\n", o->sched_path, c->name, n_ops, nch,
               nch == 1 ? "" : "s", mk_cyc, mk_ns);
        printf("power: peak %.1f W (1 bin of %g ns) at %.0f ns, peak over %g ns %.1f W, mean %.1f W, energy %.4g J\n",
               peak_w, o->bin_ns, t_peak_w, pw->window_ns, pw->peak_window_w,
               mk_ns > 0 ? energy_j / (mk_ns * 1e-9) : 0.0, energy_j);
        json_t *pj = json_object_get(summary, "power");
        json_t *cpw = json_object_get(pj, "chip_peak_window_w");
        for (size_t ch = 0; cpw && ch < json_array_size(cpw); ch++) {
            double w = json_number_value(json_array_get(cpw, ch));
            printf("chip %zu power over %g ns: peak %.1f W against the cap of %g W: %s\n", ch, pw->window_ns, w,
                   o->power_cap_w, w > o->power_cap_w ? "BREAKS the cap" : "within");
        }
        for (size_t q = 0; q < nq; q++) {
            const margin_rail *m = &mr[q];
            const events_rail_stats *st = pda_result_rail_stats(res, m->chip, m->rail);
            printf("chip %zu rail %s (%.2f V): peak %.1f A, max dI/dt %.2f A/ns, worst droop %.1f mV at %.0f ns "
                   "(p99 %.1f mV); needs %.1f of %.0f mV guardband",
                   m->chip, c->rails[m->rail].name, m->vdd_v, st->peak_a, st->max_didt_a_per_ns, m->worst_droop_mv,
                   m->t_worst_ns, m->p99_mv, m->needed_guardband_mv, m->guardband_mv);
            if (m->headroom_mv > 0)
                printf("; lowering Vdd %.1f mV saves %.3g W (%.3g%% of the rail's power, switching part only)\n",
                       m->headroom_mv, m->saving_w, m->saving_pct);
            else if (m->worst_droop_mv > m->guardband_mv)
                printf("; the droop BREAKS the guardband by %.1f mV\n", m->worst_droop_mv - m->guardband_mv);
            else   /* the droop fits, the safety margin on top of it does not */
                printf("; the droop fits, with %.1f mV of the %.1f mV safety margin\n",
                       m->guardband_mv - m->worst_droop_mv, m->needed_guardband_mv - m->worst_droop_mv);
            printf("  worst droop = %.1f mV static (that current settled: load line, IR drop) + %.1f mV transient\n",
                   m->static_droop_mv + 0.0, m->transient_droop_mv + 0.0);
            printf("  events: %zu droop, %zu dI/dt\n", st->droop_events, st->didt_events);
            for (size_t k = 0; k < m->n_res && k < 3; k++)
                printf("  resonance %.2f MHz (|Z| %.3f mOhm): schedule current %.2f A at %.2f MHz -> %.2f mV\n",
                       m->res[k].f_hz * 1e-6, m->res[k].z_ohm * 1e3, m->res[k].i_a, m->res[k].f_i_hz * 1e-6,
                       m->res[k].droop_mv);
        }
        for (size_t k = 0; dies && k < json_array_size(dies); k++) {
            json_t *d = json_array_get(dies, k);
            char b[2][32];
            printf("thermal chip %" JSON_INTEGER_FORMAT " die %" JSON_INTEGER_FORMAT ": max %s C at %.0f ns, mean %s C\n",
                   json_integer_value(json_object_get(d, "chip")), json_integer_value(json_object_get(d, "die")),
                   fixed(b[0], json_number_value(json_object_get(d, "max_c")), 1),
                   json_number_value(json_object_get(d, "t_max_ns")),
                   fixed(b[1], json_number_value(json_object_get(d, "mean_c")), 1));
        }
        if (th)
            printf("hotspots: %" JSON_INTEGER_FORMAT ", stacked: %" JSON_INTEGER_FORMAT "; thermal run %.2f s\n",
                   json_integer_value(json_object_get(th, "hotspots")),
                   json_integer_value(json_object_get(th, "stacked_hotspots")), pda_result_thermal_seconds(res));
        json_t *lk = th ? json_object_get(th, "leakage") : NULL, *rf = lk ? json_object_get(lk, "runaway_factor") : NULL;
        if (lk) {
            char b[2][32];
            printf("leakage: %s W at the steady fixed point (%" JSON_INTEGER_FORMAT " Newton steps), mean %s W "
                   "over the frames; ",
                   fixed(b[0], json_number_value(json_object_get(lk, "total_w")), 2),
                   json_integer_value(json_object_get(lk, "iterations")),
                   fixed(b[1], json_number_value(json_object_get(lk, "mean_w")), 2));
            if (json_is_true(json_object_get(lk, "runaway")))
                printf("THERMAL RUNAWAY: no fixed point (it vanishes at %.4g x every leak_a)\n", json_number_value(rf));
            else if (json_is_number(rf))
                printf("runs away at %.4g x every leak_a\n", json_number_value(rf));
            else
                printf("never runs away (no leakage grows with temperature)\n");
        }
        size_t ne;
        const events_event *el = pda_result_events(res, &ne);
        /* the worst kept events: up to 3 droop, then up to 2 dI/dt, each kind by its peak */
        for (int kind = EVENTS_DROOP, want = 3; kind <= EVENTS_DIDT; kind++, want = 2) {
            size_t top[3];
            int nt = 0;
            for (size_t k = 0; k < ne; k++) {
                if ((int)el[k].kind != kind) continue;
                int pos = nt;
                while (pos > 0 && el[top[pos - 1]].peak < el[k].peak) pos--;
                if (pos >= want) continue;
                for (int q = nt < want ? nt : want - 1; q > pos; q--) top[q] = top[q - 1];
                top[pos] = k;
                if (nt < want) nt++;
            }
            for (int q = 0; q < nt; q++) {
                const events_event *e = &el[top[q]];
                printf("  %s event chip %zu %s: %.0f-%.0f ns, peak %.2f %s at %.0f ns", e->kind ? "dI/dt" : "droop",
                       e->chip, c->rails[e->rail].name, e->t_start_ns, e->t_end_ns, e->peak,
                       e->kind ? "A/ns" : "mV", e->t_peak_ns);
                for (size_t u = 0; u < e->n_causes; u++)
                    printf("%s %s %+.2g A", u ? "," : "; from", c->units[e->causes[u].unit].name,
                           e->causes[u].delta_a + 0.0);
                putchar('\n');
            }
        }
    }
}

/* --strict: a droop past a guardband, a dI/dt past its limit or a chip's
** power past --power-cap-w (over the window) breaks a
** limit (said on stderr); 1 when one does. */
static int limits_broken(const sio_chip *c, const pda_result *res, json_t *summary)
{
    size_t nq;
    const margin_rail *mr = pda_result_margin(res, &nq);
    int broken = 0;
    for (size_t q = 0; q < nq; q++) {
        const events_rail_stats *st = pda_result_rail_stats(res, mr[q].chip, mr[q].rail);
        if (!st->droop_events && !st->didt_events) continue;
        fprintf(stderr, "analyzer: limit broken: chip %zu rail %s: %zu droop events past %.0f mV "
                        "(worst %.1f mV), %zu dI/dt events past %.3g A/ns\n",
                mr[q].chip, c->rails[mr[q].rail].name, st->droop_events, mr[q].guardband_mv,
                mr[q].worst_droop_mv, st->didt_events, c->rails[mr[q].rail].didt_limit_a_per_ns);
        broken = 1;
    }
    json_t *pj = json_object_get(summary, "power");
    if (json_is_true(json_object_get(pj, "cap_broken"))) {
        fprintf(stderr, "analyzer: limit broken: a chip's power over %g ns passes the cap of %g W\n",
                json_number_value(json_object_get(pj, "window_ns")), json_number_value(json_object_get(pj, "cap_w")));
        broken = 1;
    }
    return broken;
}

void cmd_run_opts(const cmd_opts *o, pda_run_opts *po)
{
    pda_run_opts_default(po);
    po->bin_ns = o->bin_ns;
    if (o->window_ns > 0) po->window_ns = o->window_ns;
    po->safety_mv = o->safety_mv;
    po->grid[0] = o->grid[0];
    po->grid[1] = o->grid[1];
    po->frame_ns = o->frame_ns;
    po->thermal = !o->no_thermal;
    po->thermal_periodic = o->periodic;
    po->thermal_repeat = o->repeat;
    po->power_cap_w = o->power_cap_w;
    po->report = o->out != NULL;   /* only the files need it */
    po->keep_rails = o->waveforms;
    po->unit_maps = o->unit_maps;
    po->spool_dir = o->out;   /* beside the outputs, on their file system */
    po->tile_bins = o->tile_bins;
}

int cmd_run_finish(const cmd_opts *o, const sio_chip *c, const pda_result *res, sio_error *err)
{
    json_t *summary = jload(pda_result_summary_json(res));
    if (!summary) {
        sio_error_set(err, NULL, 0, 0, "analyzer: out of memory");
        return EXIT_IO;
    }
    int exit_code = EXIT_OK, rc;
    /* a die above its limit, as the thermal run found it */
    json_t *th = json_object_get(summary, "thermal"), *dies = th ? json_object_get(th, "dies") : NULL;
    double limit_c = th ? json_number_value(json_object_get(th, "limit_c")) : 0;
    for (size_t k = 0; dies && k < json_array_size(dies) && (!o->quiet || o->strict); k++) {
        json_t *d = json_array_get(dies, k);
        double mx = json_number_value(json_object_get(d, "max_c"));
        char b[32];
        if (mx > limit_c)
            fprintf(stderr, "analyzer: chip %" JSON_INTEGER_FORMAT " die %" JSON_INTEGER_FORMAT
                            " reaches %s C at %.0f ns, above limit_c %.1f C\n",
                    json_integer_value(json_object_get(d, "chip")), json_integer_value(json_object_get(d, "die")),
                    fixed(b, mx, 1), json_number_value(json_object_get(d, "t_max_ns")), limit_c);
    }
    if (th && json_is_true(json_object_get(th, "above_limit")) && o->strict) exit_code = EXIT_LIMIT;
    /* thermal runaway: leakage and temperature have no steady fixed point */
    json_t *lk = th ? json_object_get(th, "leakage") : NULL;
    if (lk && json_is_true(json_object_get(lk, "runaway"))) {
        if (!o->quiet || o->strict)
            fprintf(stderr, "analyzer: thermal runaway: leakage and temperature have no steady fixed point (it "
                            "vanishes at %.4g x every leak_a); the temperatures reported are lower bounds\n",
                    json_number_value(json_object_get(lk, "runaway_factor")));
        if (o->strict) exit_code = EXIT_LIMIT;
    }
    if (o->out && (rc = pda_result_write(res, o->out, err))) {
        json_decref(summary);
        return rc == PDA_EINPUT ? EXIT_INPUT : EXIT_IO;
    }
    print_result(o, c, res, summary);
    if (o->strict && limits_broken(c, res, summary)) exit_code = EXIT_LIMIT;
    json_decref(summary);
    return exit_code;
}

#ifndef PDA_WITH_MPI
int cmd_run_mpi(const cmd_opts *o) { (void)o; return cmd_no_mpi(); }
#endif

int cmd_run(const cmd_opts *o)
{
    if (!o->out && (o->waveforms || o->unit_maps)) {
        fprintf(stderr, "analyzer: --waveforms and --unit-maps need -o DIR\n");
        return EXIT_INPUT;
    }
    if (getenv("OMPI_COMM_WORLD_SIZE")) return cmd_run_mpi(o);   /* a system's chips across processes */
    sio_chip *c;
    sio_schedule *s;
    int rc = cmd_load(o, &c, &s);
    if (rc) return rc;
    sio_error err;
    err.text[0] = 0;
    int exit_code = EXIT_OK, last = -100;
    char *made = NULL;
    pda_result *res = NULL;
    /* the output folder first: a bad -o fails before the work; made here, it
    ** goes again if the run fails */
    made = o->out ? outset_missing_top(o->out) : NULL;
    if (o->out && (rc = outset_mkdirs(o->out, &err))) {
        exit_code = cmd_exit_for(rc);
        goto fail;
    }
    pda_run_opts po;
    cmd_run_opts(o, &po);
    if (o->out && (rc = pda_result_write_check(c, s, &po, o->out, &err))) {
        exit_code = cmd_exit_for(rc);
        goto fail;
    }
    if (!o->quiet && isatty(2)) {
        po.progress = cmd_run_progress;
        po.progress_arg = &last;
    }
    if ((rc = pda_run(c, s, &po, &res, &err))) {
        exit_code = rc == PDA_EINPUT ? EXIT_INPUT : EXIT_IO;
        goto fail;
    }
    exit_code = cmd_run_finish(o, c, res, &err);
    if (exit_code == EXIT_INPUT || exit_code == EXIT_IO) goto fail;
    goto done;
fail:
    if (err.text[0]) fprintf(stderr, "%s\n", err.text);
    if (o->out) outset_remove_made(o->out, made);
done:
    outset_made_free(o->out, made);
    pda_result_free(res);
    sio_schedule_free(s);
    sio_chip_free(c);
    return exit_code;
}
