/* cmd_retime.c -- `analyzer retime CHIP SCHEDULE -o OUT.csv BUDGET`: delays
** instructions to meet a power cap per chip (--power-cap-w over
** --window-ns, default 1 ns) or over the sum of the chips
** (--system-power-cap-w), a dI/dt budget (--didt-a-per-ns) and/or a droop
** budget (--guardband-mv), through budget_retime (budgets/budget.h), and
** writes the re-timed schedule whole or not at all. Prints the before/after
** figures, the lower bound and the gap (with --json, as JSON). Exit 3 when
** the budget cannot be met (a proof is named; nothing written), 1 when the
** search did not meet it (no proof; nothing written), 2 on bad input or
** usage. A progress line goes to stderr on a terminal (not with --quiet). */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "budget.h"
#include "cmd.h"
#include "jbuild.h"

typedef struct prog { int on, last; } prog;

static void show_progress(void *arg, double done)
{
    prog *p = arg;
    int pct = (int)(done * 100);
    if (!p->on || pct == p->last) return;
    p->last = pct;
    fprintf(stderr, "\ranalyzer: retime %3d%%", pct);
}

/* The before or after figures (NULL when out of memory). */
static json_t *figs_json(const sio_chip *c, const budget_figs *f)
{
    json_t *o = json_object(), *rails = json_array();
    int bad = 0;
    jset(o, "makespan_cycles", json_integer((json_int_t)f->makespan_cyc), &bad);
    jset(o, "makespan_ns", jreal(f->makespan_ns), &bad);
    jset(o, "peak_w", jreal(f->peak_w), &bad);
    jset(o, "peak_window_w", jreal(f->peak_window_w), &bad);
    jset(o, "chip_peak_window_w", jreal(f->chip_peak_window_w), &bad);
    jset(o, "max_didt_a_per_ns", jreal(f->max_didt_a_per_ns), &bad);
    jset(o, "max_droop_mv", jreal(f->max_droop_mv), &bad);
    for (size_t q = 0; q < f->n_rails; q++) {
        json_t *r = json_object();
        jset(r, "chip", json_integer((json_int_t)(q / c->n_rails)), &bad);
        jset(r, "rail", json_string(c->rails[q % c->n_rails].name), &bad);
        jset(r, "max_didt_a_per_ns", jreal(f->rail_didt_a_per_ns[q]), &bad);
        jset(r, "max_droop_mv", jreal(f->rail_droop_mv[q]), &bad);
        jpush(rails, r, &bad);
    }
    jset(o, "rails", rails, &bad);
    return jdone(o, bad);
}

/* The --json report, rendered (NULL when out of memory): made before the
** schedule is written, so that a failure here leaves no file. */
static char *report_json(const cmd_opts *o, const sio_chip *c, const sio_schedule *s, const budget_spec *sp,
                         const budget_report *rep)
{
    json_t *root = json_object(), *b = json_object(), *lb = json_object();
    int bad = 0;
    if (sp->power_cap_w > 0) jset(b, "power_cap_w", jreal(sp->power_cap_w), &bad);
    if (sp->system_power_cap_w > 0) jset(b, "system_power_cap_w", jreal(sp->system_power_cap_w), &bad);
    jset(b, "window_ns", jreal(rep->after.window_ns), &bad);   /* as used: whole bins, at most the run */
    if (sp->didt_a_per_ns > 0) jset(b, "didt_a_per_ns", jreal(sp->didt_a_per_ns), &bad);
    if (sp->guardband_mv > 0) jset(b, "guardband_mv", jreal(sp->guardband_mv), &bad);
    jset(b, "bin_ns", jreal(sp->bin_ns), &bad);
    jset(lb, "makespan_cycles", json_integer((json_int_t)rep->lb_cyc), &bad);
    jset(lb, "original_cycles", json_integer((json_int_t)rep->lb_makespan_cyc), &bad);
    jset(lb, "critical_path_cycles", json_integer((json_int_t)rep->lb_critical_cyc), &bad);
    jset(lb, "unit_busy_cycles", json_integer((json_int_t)rep->lb_busy_cyc), &bad);
    jset(lb, "energy_cycles", json_integer((json_int_t)rep->lb_energy_cyc), &bad);
    if (sp->power_cap_w > 0 || sp->system_power_cap_w > 0) {
        jset(lb, "packing_dff_cycles", json_integer((json_int_t)rep->lb_dff_cyc), &bad);
        jset(lb, "packing_lp_cycles", json_integer((json_int_t)rep->lb_lp_cyc), &bad);
    }
    jset(root, "budget", b, &bad);
    jset(root, "before", figs_json(c, &rep->before), &bad);
    jset(root, "after", figs_json(c, &rep->after), &bad);
    jset(root, "slowdown", jreal(rep->slowdown), &bad);
    jset(root, "lower_bound", lb, &bad);
    jset(root, "gap", jreal(rep->gap), &bad);
    jset(root, "moved", json_integer((json_int_t)rep->moved), &bad);
    jset(root, "instructions", json_integer((json_int_t)s->n), &bad);
    jset(root, "blocks", json_integer((json_int_t)rep->blocks), &bad);
    jset(root, "largest_block", json_integer((json_int_t)rep->max_block), &bad);
    jset(root, "evictions", json_integer((json_int_t)rep->evictions), &bad);
    jset(root, "order", json_string(rep->order_used == BUDGET_ORDER_CRITICAL ? "critical" : "start"), &bad);
    jset(root, "fb_passes", json_integer(rep->fb_passes), &bad);
    jset(root, "output", json_string(o->out), &bad);
    char *text = bad ? NULL : jdump(root, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    json_decref(root);
    return text;
}

int cmd_retime(const cmd_opts *o)
{
    if (!o->out) {
        fprintf(stderr, "analyzer: retime needs -o OUT.csv (see analyzer --help)\n");
        return EXIT_INPUT;
    }
    if (o->json && !strcmp(o->out, "-")) {
        fprintf(stderr, "analyzer: retime --json and -o - would both write to stdout: name a file for one\n");
        return EXIT_INPUT;
    }
    if (o->power_cap_w <= 0 && o->system_power_cap_w <= 0 && o->didt_a_per_ns <= 0 && o->guardband_mv <= 0) {
        fprintf(stderr, "analyzer: retime needs a budget: --power-cap-w, --system-power-cap-w, --didt-a-per-ns or "
                        "--guardband-mv (see analyzer --help)\n");
        return EXIT_INPUT;
    }
    sio_chip *c;
    sio_schedule *s;
    int rc = cmd_load(o, &c, &s);
    if (rc) return rc;
    if (cmd_is_input(o, c, o->out)) {
        fprintf(stderr, "%s: refusing to overwrite an input\n", o->out);
        sio_schedule_free(s);
        sio_chip_free(c);
        return EXIT_INPUT;
    }
    prog pg = {!o->quiet && isatty(2), -1};
    budget_spec sp = {.power_cap_w = o->power_cap_w, .system_power_cap_w = o->system_power_cap_w,
                      .didt_a_per_ns = o->didt_a_per_ns, .guardband_mv = o->guardband_mv, .bin_ns = o->bin_ns,
                      .window_ns = o->window_ns > 0 ? o->window_ns : o->bin_ns,
                      .progress = show_progress, .progress_arg = &pg};
    int64_t *st = NULL;
    budget_report rep;
    sio_error err;
    int brc = budget_retime(c, s, &sp, &st, &rep, &err);
    if (pg.on && pg.last >= 0) fputc('\n', stderr);
    int code = EXIT_OK;
    if (brc == BUDGET_ENOTMET) {   /* a valid schedule, but over budget: not written */
        fprintf(stderr, "%s\n", err.text);
        budget_report_free(&rep);
        code = EXIT_LIMIT;
        goto done;
    }
    if (brc) {
        fprintf(stderr, "%s\n", err.text);
        code = brc == BUDGET_EINFEASIBLE ? EXIT_BUDGET : brc == BUDGET_EINPUT ? EXIT_INPUT : EXIT_IO;
        goto done;
    }
    char *text = NULL;
    if (o->json && !(text = report_json(o, c, s, &sp, &rep))) {
        fprintf(stderr, "analyzer: out of memory\n");
        code = EXIT_IO;
        budget_report_free(&rep);
        goto done;
    }
    int wrc = sio_schedule_write(s, st, o->out, &err);
    if (wrc) {
        fprintf(stderr, "%s\n", err.text);
        code = wrc == SIO_EINPUT ? EXIT_INPUT : EXIT_IO;
        budget_report_free(&rep);
        free(text);
        goto done;
    }
    if (o->json) {
        fputs(text, stdout);
        putchar('\n');
    } else if (!o->quiet) {
        FILE *tx = strcmp(o->out, "-") ? stdout : stderr;   /* -o -: the schedule has stdout */
        fprintf(tx, "retime %s -> %s: %zu of %zu instructions moved\n", s->path, o->out, rep.moved, s->n);
        fprintf(tx, "  makespan      %" PRId64 " -> %" PRId64 " cycles (slowdown %.2f%%)\n", rep.before.makespan_cyc,
               rep.after.makespan_cyc, 100 * rep.slowdown);
        fprintf(tx, "  lower bound   %" PRId64 " cycles (original %" PRId64 ", critical path %" PRId64 ", unit busy %" PRId64
               ", energy %" PRId64 ", packing %" PRId64 "); gap %.2f%%\n",
               rep.lb_cyc, rep.lb_makespan_cyc, rep.lb_critical_cyc, rep.lb_busy_cyc, rep.lb_energy_cyc,
               rep.lb_packing_cyc, 100 * rep.gap);
        fprintf(tx, "  peak power    %.1f -> %.1f W; over %g ns: %.1f -> %.1f W", rep.before.peak_w, rep.after.peak_w,
               rep.after.window_ns, rep.before.peak_window_w, rep.after.peak_window_w);
        if (s->n_chips > 1)
            fprintf(tx, " (all chips), %.1f -> %.1f W (worst chip)", rep.before.chip_peak_window_w,
                   rep.after.chip_peak_window_w);
        fputc('\n', tx);
        fprintf(tx, "  worst dI/dt   %.2f -> %.2f A/ns\n", rep.before.max_didt_a_per_ns, rep.after.max_didt_a_per_ns);
        fprintf(tx, "  worst droop   %.1f -> %.1f mV\n", rep.before.max_droop_mv, rep.after.max_droop_mv);
    }
    free(text);
    budget_report_free(&rep);
done:
    free(st);
    sio_schedule_free(s);
    sio_chip_free(c);
    return code;
}
