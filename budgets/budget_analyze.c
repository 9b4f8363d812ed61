/* budget_analyze.c -- the figures of a schedule for the budgets: one full
** pass of the current model (current.h) over the timeline in tiles, each
** chip's power (peak bin, peak window average), each chip's rail dI/dt over
** the rail's didt_window_ns, and each rail's droop through its PDN model
** (pdn.h), all through the walk (walk.h) that `run` uses, with its tail
** past the makespan for the dI/dt and the droop. Used for the before/after report and as the independent check
** that the re-timed schedule meets its budget. Memory: the tile arrays and
** one window ring per chip; the timeline is never held whole. Constant
** stretches come from the walk as one tile (walk.h) and cost O(rails). */
#include "budget.h"
#include "budget_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "current.h"
#include "walk.h"

void budget_figs_free(budget_figs *f)
{
    if (!f) return;
    free(f->rail_didt_a_per_ns);
    free(f->rail_droop_mv);
    free(f->rail_didt_body_a_per_ns);
    f->rail_didt_a_per_ns = f->rail_droop_mv = f->rail_didt_body_a_per_ns = NULL;
}

int budget_figs_copy(budget_figs *to, const budget_figs *from)
{
    size_t n = from->n_rails ? from->n_rails : 1;
    *to = *from;
    to->rail_didt_a_per_ns = malloc(n * sizeof(double));
    to->rail_didt_body_a_per_ns = malloc(n * sizeof(double));
    to->rail_droop_mv = malloc(n * sizeof(double));
    if (!to->rail_didt_a_per_ns || !to->rail_didt_body_a_per_ns || !to->rail_droop_mv) {
        budget_figs_free(to);
        return -1;
    }
    memcpy(to->rail_didt_a_per_ns, from->rail_didt_a_per_ns, from->n_rails * sizeof(double));
    memcpy(to->rail_didt_body_a_per_ns, from->rail_didt_body_a_per_ns, from->n_rails * sizeof(double));
    memcpy(to->rail_droop_mv, from->rail_droop_mv, from->n_rails * sizeof(double));
    return 0;
}

int budget_analyze(const sio_chip *c, const sio_schedule *s0, const int64_t *start, double bin_ns,
                   double window_ns, int with_droop, budget_figs *out, sio_error *err)
{
    memset(out, 0, sizeof *out);
    sio_schedule s = *s0;
    s.start_cyc = (int64_t *)(uintptr_t)start;   /* read only: the iterator never writes */
    const size_t nr = c->n_rails, nch = s.n_chips, q = nch * nr;
    int rc = BUDGET_ENOMEM;
    out->n_rails = q;
    out->rail_didt_a_per_ns = calloc(q ? q : 1, sizeof(double));
    out->rail_droop_mv = calloc(q ? q : 1, sizeof(double));
    out->rail_didt_body_a_per_ns = calloc(q ? q : 1, sizeof(double));
    double *pw = NULL, *sys = NULL;
    double **hist = calloc(q ? q : 1, sizeof *hist);   /* the last w bins of each rail */
    size_t *wbin = calloc(nr ? nr : 1, sizeof *wbin);
    current_window *cw = calloc(nch + 1, sizeof *cw);
    walk *w = NULL;
    if (!out->rail_didt_a_per_ns || !out->rail_droop_mv || !out->rail_didt_body_a_per_ns || !hist || !wbin || !cw)
        goto fail;
    walk_opts wo = {.bin_ns = bin_ns, .maps = CURRENT_CONST, .droop = with_droop, .threads = 1, .tail = 1};
    int wrc = walk_open(c, &s, &wo, &w, err);
    if (wrc) { rc = wrc == SIO_ENOMEM ? BUDGET_ENOMEM : BUDGET_EINPUT; goto fail; }
    const double *idle = walk_idle_a(w);
    out->makespan_cyc = walk_makespan_cyc(w);
    out->makespan_ns = (double)out->makespan_cyc / c->clock_ghz;
    /* as pda_run takes it (and no ring of 10^9 bins for a run of 10^5) */
    const size_t wb = walk_window_bins(window_ns, bin_ns, walk_n_bins(w));
    out->window_ns = (double)wb * bin_ns;
    for (size_t k = 0; k <= nch; k++)
        if (current_window_init(&cw[k], wb)) goto fail;
    for (size_t r = 0; r < nr; r++) {
        wbin[r] = walk_didt_bins(&c->rails[r], bin_ns);
        for (size_t ch = 0; ch < nch; ch++) {
            double *h = malloc(wbin[r] * sizeof *h);
            if (!h) goto fail;
            for (size_t k = 0; k < wbin[r]; k++) h[k] = idle[r];   /* idle before time 0 */
            hist[ch * nr + r] = h;
        }
    }
    size_t tb = walk_tile_bins(w), n_bins = walk_n_bins(w);
    pw = malloc((tb ? tb : 1) * sizeof *pw);
    sys = malloc((tb ? tb : 1) * sizeof *sys);
    if (!pw || !sys) goto fail;
    current_tile t;
    const double *droop;
    size_t b_seen = 0;
    int got;
    while ((got = walk_next(w, &t, &droop)) == 1) {
        if (t.stride == 0) {   /* a constant run: the same figures in O(rails + dI/dt windows) */
            double psys = 0;
            for (size_t ch = 0; ch < nch; ch++) {
                double p = 0;
                for (size_t r = 0; r < nr; r++) {
                    size_t rq = ch * nr + r, wn = wbin[r];
                    double i = t.rail_a[rq], *h = hist[rq], lim = 0;
                    /* the window sees the bins before the run for its first wn bins,
                    ** then the run alone (dI/dt 0); the run never holds the last bin */
                    for (size_t k = 0; k < t.nb && k < wn; k++) {
                        double d = fabs(i - h[(b_seen + k) % wn]) * (1.0 / ((double)wn * bin_ns));
                        if (d > lim) lim = d;
                    }
                    for (size_t k = 0; k < wn; k++) h[k] = i;
                    if (lim > out->rail_didt_a_per_ns[rq]) out->rail_didt_a_per_ns[rq] = lim;
                    if (lim > out->rail_didt_body_a_per_ns[rq]) out->rail_didt_body_a_per_ns[rq] = lim;
                    if (droop && droop[rq] * 1e3 > out->rail_droop_mv[rq]) out->rail_droop_mv[rq] = droop[rq] * 1e3;
                    p += c->rails[r].vdd_v * i;
                }
                current_window_push_const(&cw[ch], p, t.nb);
                psys += p;
            }
            current_window_push_const(&cw[nch], psys, t.nb);
            b_seen += t.nb;
            continue;
        }
        /* past the makespan (the walk's tail, walk.h) only the dI/dt and the
        ** droop, as `run` takes them: the power windows are the timeline's */
        const int timeline = t.b0 < n_bins;
        for (size_t k = 0; k < t.nb; k++) sys[k] = 0;
        for (size_t ch = 0; ch < nch; ch++) {
            for (size_t k = 0; k < t.nb; k++) pw[k] = 0;
            for (size_t r = 0; r < nr; r++) {
                const double *i = t.rail_a + (ch * nr + r) * t.stride;
                double *h = hist[ch * nr + r], lim = 0, body = 0;
                size_t wn = wbin[r];
                const double inv_w = 1.0 / ((double)wn * bin_ns);
                for (size_t k = 0; k < t.nb; k++) {
                    size_t slot = (b_seen + k) % wn;   /* holds i[k - wn] */
                    double d = fabs(i[k] - h[slot]) * inv_w;   /* as the events' (events.c), to the bit */
                    if (d > lim) lim = d;
                    if (d > body && b_seen + k + 1 < n_bins) body = d;
                    h[slot] = i[k];
                    pw[k] += c->rails[r].vdd_v * i[k];
                }
                if (lim > out->rail_didt_a_per_ns[ch * nr + r]) out->rail_didt_a_per_ns[ch * nr + r] = lim;
                if (body > out->rail_didt_body_a_per_ns[ch * nr + r]) out->rail_didt_body_a_per_ns[ch * nr + r] = body;
                if (droop) {
                    const double *d = droop + (ch * nr + r) * tb;
                    double mx = out->rail_droop_mv[ch * nr + r];
                    for (size_t k = 0; k < t.nb; k++) if (d[k] * 1e3 > mx) mx = d[k] * 1e3;
                    out->rail_droop_mv[ch * nr + r] = mx;
                }
            }
            if (!timeline) continue;
            current_window_push(&cw[ch], pw, t.nb);
            for (size_t k = 0; k < t.nb; k++) sys[k] += pw[k];
        }
        if (timeline) current_window_push(&cw[nch], sys, t.nb);
        b_seen += t.nb;
    }
    if (got < 0) goto fail;   /* out of memory (rc is BUDGET_ENOMEM) */
    out->peak_w = cw[nch].max;   /* the window keeps the largest value too */
    out->peak_window_w = current_window_peak(&cw[nch]);
    for (size_t ch = 0; ch < nch; ch++) {
        double p = current_window_peak(&cw[ch]);
        if (p > out->chip_peak_window_w) out->chip_peak_window_w = p;
    }
    for (size_t k = 0; k < q; k++) {
        if (out->rail_didt_a_per_ns[k] > out->max_didt_a_per_ns) out->max_didt_a_per_ns = out->rail_didt_a_per_ns[k];
        if (out->rail_droop_mv[k] > out->max_droop_mv) out->max_droop_mv = out->rail_droop_mv[k];
    }
    if (!with_droop) {   /* not computed: say so rather than report 0 mV */
        out->max_droop_mv = NAN;
        for (size_t k = 0; k < q; k++) out->rail_droop_mv[k] = NAN;
    }
    rc = BUDGET_OK;
fail:
    if (rc == BUDGET_ENOMEM && err) sio_error_set(err, s0->path, 0, 0, "out of memory for the analysis");
    walk_close(w);
    for (size_t k = 0; hist && k < q; k++) free(hist[k]);
    for (size_t k = 0; cw && k <= nch; k++) current_window_free(&cw[k]);
    free(pw); free(sys); free(hist); free(wbin); free(cw);
    if (rc) budget_figs_free(out);
    return rc;
}
