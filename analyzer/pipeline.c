/* pipeline.c -- pda_run: the whole analysis of `analyzer run` (pda.h).
**
** One walk over the timeline in tiles (walk.h: each tile's rail currents
** and droop, the next tile computed on a second thread meanwhile). Per tile,
** in sub-chunks that stay in cache from one pass to the next: every chip's
** rail goes to the event detector, the spectrum and the report's decimated
** waveform; the system's power feeds the peak bin, the window peak and the
** energy. Kept waveforms go to their spools. After the walk: the events are
** closed and attributed (while the schedule's summary is made on a second
** thread), the margin report, the summary, and the thermal run
** (pipeline_thermal.c). The files are written by pda_result_write
** (pipeline_write.c). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "current.h"
#include "jbuild.h"
#include "pdn.h"
#include "pipeline_int.h"
#include "sio_int.h"
#include "walk.h"

#define SUB_BINS 4096   /* bins per pass of the per-bin statistics (L1/L2-sized) */

void pda_run_opts_default(pda_run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->bin_ns = 1.0;
    o->window_ns = 100.0;
    o->safety_mv = 5.0;
    o->thermal = 1;
    o->report = 1;
    o->events_cap = 10000;
}

/* The attribution window of droop events: half the period of the strongest
** resonance of |Z| below the bin Nyquist (the time over which a current step
** builds the first droop); the dI/dt window when there is none. */
static double attr_window(const sio_rail *rail, double bin_ns)
{
    double f[16], z[16];
    size_t n = 0;
    double fhi = 0.5 / (bin_ns * 1e-9), flo = 1e5;
    if (rail->n_z) {
        if (flo < rail->z_f_hz[0]) flo = rail->z_f_hz[0];
        if (fhi > rail->z_f_hz[rail->n_z - 1]) fhi = rail->z_f_hz[rail->n_z - 1];
    }
    if (flo >= fhi || pdn_resonances(rail, flo, fhi, f, z, 16, &n) != 0 || n == 0) return rail->didt_window_ns;
    size_t best = 0;
    for (size_t k = 1; k < n; k++) if (z[k] > z[best]) best = k;
    double w = 0.5e9 / f[best];
    return w < bin_ns ? bin_ns : w;
}

/* A spool: an anonymous temporary file in dir (sio_anon_file). */
FILE *pda_spool_open(const char *dir, sio_error *err) { return sio_anon_file(dir, "the waveforms", err); }

int pda_spool_read(FILE *f, off_t at, void *buf, size_t bytes)
{
    char *p = buf;
    while (bytes > 0) {
        ssize_t got = pread(fileno(f), p, bytes, at);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            if (got == 0) errno = EIO;   /* the spool is shorter than it should be */
            return -1;
        }
        p += got;
        at += (off_t)got;
        bytes -= (size_t)got;
    }
    return 0;
}

/* The summary's schedule object, on a thread of its own while the events
** are attributed (one pass over the schedule that needs nothing else). */
typedef struct sched_job {
    const sio_chip *c;
    const sio_schedule *s;
    int64_t mk;
    json_t *out;
} sched_job;

static void *sched_json_run(void *arg)
{
    sched_job *j = arg;
    j->out = pda_schedule_json(j->c, j->s, j->mk);
    return NULL;
}

typedef struct finish_job { events_detector *ev; const sio_schedule *s; int rc; } finish_job;

static void *finish_run(void *arg)
{
    finish_job *j = arg;
    j->rc = events_finish(j->ev, j->s);
    return NULL;
}

/* The summary's power object and rails array (NULL when out of memory). */
json_t *pda_power_json(const pda_result *r)
{
    const pda_power *p = &r->power;
    json_t *pj = json_object();
    int bad = 0;
    jset(pj, "peak_w", jreal(p->peak_w), &bad);
    jset(pj, "t_peak_ns", jreal(p->t_peak_ns), &bad);
    jset(pj, "avg_w", jreal(p->avg_w), &bad);
    jset(pj, "energy_j", jreal(p->energy_j), &bad);
    jset(pj, "peak_window_w", jreal(p->peak_window_w), &bad);
    jset(pj, "window_ns", jreal(p->window_ns), &bad);
    jset(pj, "bin_ns", jreal(r->o.bin_ns), &bad);
    if (r->o.power_cap_w > 0) {   /* each chip's peak window against the cap */
        json_t *a = json_array();
        int broken = 0;
        for (size_t ch = 0; ch < r->nch; ch++) {
            jpush(a, jreal(r->chip_peak_window_w[ch]), &bad);
            if (r->chip_peak_window_w[ch] > r->o.power_cap_w) broken = 1;
        }
        jset(pj, "cap_w", jreal(r->o.power_cap_w), &bad);
        jset(pj, "chip_peak_window_w", a, &bad);
        jset(pj, "cap_broken", json_boolean(broken), &bad);
    }
    return jdone(pj, bad);
}

json_t *pda_rails_json(const pda_result *r)
{
    json_t *rj = json_array();
    int bad = 0;
    for (size_t q = 0; q < r->nch * r->nr; q++) {
        const margin_rail *m = &r->mr[q];
        const events_rail_stats *st = events_stats(r->ev, m->chip, m->rail);
        json_t *e = json_object();
        jset(e, "chip", json_integer((json_int_t)m->chip), &bad);
        jset(e, "rail", json_string(r->c->rails[m->rail].name), &bad);
        jset(e, "vdd_v", jreal(m->vdd_v), &bad);
        jset(e, "peak_a", jreal(st->peak_a), &bad);
        jset(e, "avg_a", jreal(st->avg_a), &bad);
        jset(e, "max_didt_a_per_ns", jreal(st->max_didt_a_per_ns), &bad);
        jset(e, "max_droop_mv", jreal(m->worst_droop_mv), &bad);
        jset(e, "t_max_droop_ns", jreal(m->t_worst_ns), &bad);
        jset(e, "static_droop_mv", jreal(m->static_droop_mv), &bad);
        jset(e, "transient_droop_mv", jreal(m->transient_droop_mv), &bad);
        jset(e, "guardband_mv", jreal(m->guardband_mv), &bad);
        jset(e, "needed_guardband_mv", jreal(m->needed_guardband_mv), &bad);
        jset(e, "saving_pct", jreal(m->saving_pct), &bad);
        jset(e, "saving_w", jreal(m->saving_w), &bad);
        jset(e, "p50_droop_mv", jreal(m->p50_mv), &bad);
        jset(e, "p99_droop_mv", jreal(m->p99_mv), &bad);
        jset(e, "p9999_droop_mv", jreal(m->p9999_mv), &bad);
        jset(e, "droop_events", json_integer((json_int_t)st->droop_events), &bad);
        jset(e, "didt_events", json_integer((json_int_t)st->didt_events), &bad);
        json_t *res = json_array();
        for (size_t k = 0; k < m->n_res; k++) {
            json_t *x = json_object();
            jset(x, "f_mhz", jreal(m->res[k].f_hz * 1e-6), &bad);
            jset(x, "z_mohm", jreal(m->res[k].z_ohm * 1e3), &bad);
            jset(x, "current_a", jreal(m->res[k].i_a), &bad);
            jset(x, "f_current_mhz", jreal(m->res[k].f_i_hz * 1e-6), &bad);
            jset(x, "droop_mv", jreal(m->res[k].droop_mv), &bad);
            jpush(res, x, &bad);
        }
        jset(e, "resonances", res, &bad);
        jpush(rj, e, &bad);
    }
    return jdone(rj, bad);
}

int pda_report_open(pda_result *r, const double *idle)
{
    const size_t nr = r->nr;
    double *lim = malloc((2 * nr + 1) * sizeof *lim);
    size_t *wb = malloc((nr + 1) * sizeof *wb);
    int rc = SIO_ENOMEM;
    if (lim && wb) {
        for (size_t rl = 0; rl < nr; rl++) {
            lim[rl] = r->c->rails[rl].guardband_mv;
            lim[nr + rl] = r->c->rails[rl].didt_limit_a_per_ns;
            wb[rl] = walk_didt_bins(&r->c->rails[rl], r->o.bin_ns);
        }
        /* the report shows the start of the tail: a quarter of the run, at
        ** least 1,024 bins (the first rings of the PDN); the rest of it
        ** falls in the last column */
        size_t shown = r->nbins / 4 > 1024 ? r->nbins / 4 : 1024;
        if (shown > r->tail_bins) shown = r->tail_bins;
        report_opts ro = {.n_chips = r->nch, .n_rails = nr, .n_bins = r->nbins + shown, .run_bins = r->nbins,
                          .bin_ns = r->o.bin_ns,
                          .guardband_mv = lim, .didt_limit_a_per_ns = lim + nr, .didt_bins = wb, .idle_a = idle};
        rc = report_create_opts(&ro, &r->rep);
    }
    free(lim);
    free(wb);
    return rc;
}

/* A constant run of the walk (stride 0: one current and one droop per rail)
** through the same passes in O(rails), and into the spools, which have a
** value per bin (O(bins), only when the waveforms are kept): there the run
** is written as the tiles of tb bins it spans, as the walk without skipping
** would have. PDA_EIO when a spool write failed. */
static int const_run(pda_result *r, const current_tile *t, const double *droop, pda_power_acc *pa, double *buf,
                     float *f32)
{
    const sio_chip *c = r->c;
    const size_t nr = r->nr, nch = r->nch, tb = r->tb, nu = c->n_units;
    int64_t p = 0;   /* the system's power: each chip's in fixed point, summed exactly (pipeline_power.c) */
    for (size_t ch = 0; ch < nch; ch++) {
        double pc = 0;
        for (size_t rl = 0; rl < nr; rl++) {
            size_t q = ch * nr + rl;
            events_push_const(r->ev, ch, rl, t->b0, t->rail_a[q], droop[q], t->nb);
            margin_spectrum_push_const(r->sp, ch, rl, t->rail_a[q], t->nb);
            if (r->rep) report_push_const(r->rep, q, t->b0, t->rail_a[q], droop[q], t->nb);
            pc += c->rails[rl].vdd_v * t->rail_a[q];
        }
        if (r->rep) report_push_power_const(r->rep, ch, t->b0, pc, t->nb);
        if (r->cw_chip) current_window_push_const(&r->cw_chip[ch], pc, t->nb);
        p += pda_power_fx(pc);
    }
    if (pda_power_out(r, pa, t->b0, t->nb, NULL, p)) return PDA_EIO;
    for (size_t b = t->b0; (r->rails || r->units) && b < t->b0 + t->nb; b += tb) {
        size_t nb = t->b0 + t->nb - b < tb ? t->b0 + t->nb - b : tb;
        for (size_t q = 0; r->rails && q < nch * nr; q++) {
            for (int pass = 0; pass < 2; pass++) {
                double v = pass ? droop[q] : t->rail_a[q];
                for (size_t k = 0; k < nb; k++) buf[k] = v;
                if (fwrite(buf, sizeof(double), nb, r->rails) != nb) return PDA_EIO;
            }
        }
        for (size_t q = 0; r->units && q < nch * nu; q++) {
            for (size_t k = 0; k < nb; k++) f32[k] = (float)t->unit_a[q];
            if (fseeko(r->units, (off_t)((q * r->nbins + b) * sizeof(float)), SEEK_SET) != 0 ||
                fwrite(f32, sizeof *f32, nb, r->units) != nb)
                return PDA_EIO;
        }
    }
    return PDA_OK;
}

/* acc[k] += a * x[k], four at a time (vectorized as it stands: a plain loop
** over two pointers that may alias is not, at -O2); each sum as before. */
static void add_scaled(double *restrict acc, double a, const double *restrict x, size_t m)
{
    size_t k = 0;
    for (; k + 4 <= m; k += 4)
        for (size_t l = 0; l < 4; l++) acc[k + l] += a * x[k + l];
    for (; k < m; k++) acc[k] += a * x[k];
}

/* The walk: every tile through the per-bin passes and into the spools.
** The tiles of the walk's tail past the makespan (walk.h: walk_tail_bins),
** where the chips idle on while the PDN rings from the last bins' changes,
** count for the events and the dI/dt and droop figures (events_push_tail)
** and go into the report (which shows the start of the tail); not into the
** power, the energy, the spectrum or the kept waveforms, the timeline's. */
static int walk_all(pda_result *r, walk *w, pda_power_acc *pa, sio_error *err)
{
    const sio_chip *c = r->c;
    const size_t nr = r->nr, nch = r->nch, tb = r->tb, nu = c->n_units;
    double *power = malloc((tb ? tb : 1) * sizeof *power);
    int64_t *pfx = malloc((tb ? tb : 1) * sizeof *pfx);   /* the tile's power in fixed point */
    double *pchip = malloc(SUB_BINS * sizeof *pchip);     /* one chip's power */
    float *f32 = r->units ? malloc((tb ? tb : 1) * sizeof *f32) : NULL;
    if (!power || !pfx || !pchip || (r->units && !f32)) {
        free(power);
        free(pfx);
        free(pchip);
        free(f32);
        sio_error_set(err, NULL, 0, 0, "out of memory");
        return PDA_ENOMEM;
    }
    current_tile t;
    const double *droop;
    int fed, rc = PDA_OK;
    while ((fed = walk_next(w, &t, &droop)) == 1) {
        const int tail = t.b0 >= r->nbins;   /* never a constant run */
        if (t.stride == 0) {   /* a constant run: O(rails) but for the kept waveforms */
            if ((rc = const_run(r, &t, droop, pa, power, f32))) break;
            if (r->o.progress) r->o.progress(r->o.progress_arg, r->nbins ? (double)(t.b0 + t.nb) / (double)r->nbins : 1.0);
            continue;
        }
        for (size_t k0 = 0; k0 < t.nb; k0 += SUB_BINS) {
            size_t m = t.nb - k0 < SUB_BINS ? t.nb - k0 : SUB_BINS;
            int64_t *px = pfx + k0;
            for (size_t k = 0; k < m; k++) px[k] = 0;
            for (size_t ch = 0; ch < nch; ch++) {
                for (size_t k = 0; k < m; k++) pchip[k] = 0;
                for (size_t rl = 0; rl < nr; rl++) {
                    const double *i = t.rail_a + (ch * nr + rl) * t.stride + k0;
                    const double *d = droop + (ch * nr + rl) * tb + k0;
                    if (tail) {
                        events_push_tail(r->ev, ch, rl, t.b0 + k0, i, d, m);
                    } else {
                        events_push(r->ev, ch, rl, t.b0 + k0, i, d, m);
                        margin_spectrum_push(r->sp, ch, rl, i, m);
                    }
                    if (r->rep) report_push(r->rep, ch * nr + rl, t.b0 + k0, i, d, m);
                    add_scaled(pchip, c->rails[rl].vdd_v, i, m);
                }
                if (r->rep) report_push_power(r->rep, ch, t.b0 + k0, pchip, m);
                if (tail) continue;
                if (r->cw_chip) current_window_push(&r->cw_chip[ch], pchip, m);
                /* each chip's power in fixed point, summed exactly: the same
                ** whatever the order of the chips (pipeline_power.c) */
                for (size_t k = 0; k < m; k++) px[k] += pda_power_fx(pchip[k]);
            }
        }
        if (tail) continue;
        /* the peak bin, the window peak and the energy */
        if (pda_power_out(r, pa, t.b0, t.nb, pfx, 0)) { rc = PDA_EIO; break; }
        for (size_t q = 0; r->rails && q < nch * nr; q++)
            if (fwrite(t.rail_a + q * t.stride, sizeof(double), t.nb, r->rails) != t.nb ||
                fwrite(droop + q * tb, sizeof(double), t.nb, r->rails) != t.nb)
                goto io;
        for (size_t q = 0; r->units && q < nch * nu; q++) {
            for (size_t k = 0; k < t.nb; k++) f32[k] = (float)t.unit_a[q * t.stride + k];
            if (fseeko(r->units, (off_t)((q * r->nbins + t.b0) * sizeof(float)), SEEK_SET) != 0 ||
                fwrite(f32, sizeof *f32, t.nb, r->units) != t.nb)
                goto io;
        }
        if (r->o.progress) r->o.progress(r->o.progress_arg, r->nbins ? (double)(t.b0 + t.nb) / (double)r->nbins : 1.0);
    }
    if (rc == PDA_EIO && r->power_failed) {
        sio_error_set(err, NULL, 0, 0, "the system's power could not be combined across processes");
        goto out;
    }
    if (rc == PDA_EIO) goto io;
    if (fed < 0) {
        sio_error_set(err, NULL, 0, 0, "out of memory");
        rc = PDA_ENOMEM;
    }
    /* the spools whole on disk: read back by pda_spool_read */
    if (!rc && ((r->rails && fflush(r->rails) != 0) || (r->units && fflush(r->units) != 0))) goto io;
out:
    free(power);
    free(pfx);
    free(pchip);
    free(f32);
    return rc;
io:
    sio_error_set(err, r->o.spool_dir ? r->o.spool_dir : "the temporary folder", 0, 0,
                  "cannot keep the per-bin data asked for (%s): %s",
                  r->rails && r->units ? "--waveforms, --unit-maps" : r->units ? "--unit-maps" : "--waveforms",
                  strerror(errno));
    free(power);
    free(pfx);
    free(pchip);
    free(f32);
    return PDA_EIO;
}

/* The options' ranges (pda.h); PDA_EINPUT naming the field. */
static int check_opts(const pda_run_opts *o, sio_error *err)
{
    const char *bad = !(o->bin_ns >= WALK_BIN_NS_MIN && o->bin_ns <= WALK_BIN_NS_MAX) ? "bin_ns must be in [0.001, 1e6] ns"
                      : !(o->window_ns > 0 && o->window_ns <= WALK_WINDOW_NS_MAX)   ? "window_ns must be in (0, 1e15] ns"
                      : !(o->safety_mv >= 0 && isfinite(o->safety_mv)) ? "safety_mv must be finite and >= 0"
                      : (o->grid[0] || o->grid[1]) && !(o->grid[0] >= 2 && o->grid[0] <= 4096 && o->grid[1] >= 2 &&
                                                        o->grid[1] <= 4096)
                          ? "grid must be {0, 0} (the chip's) or 2..4096 cells each way"
                      : o->frame_ns < 0   ? "frame_ns must be >= 0 (0: the chip's)"
                      : o->events_cap < 1 ? "events_cap must be >= 1"
                      : o->thermal_periodic && o->thermal_repeat > 1 ? "thermal_periodic and thermal_repeat exclude each other"
                      : !(o->power_cap_w >= 0 && o->power_cap_w <= 1e12) ? "power_cap_w must be in [0, 1e12] W"
                                          : NULL;
    if (!bad) return PDA_OK;
    sio_error_set(err, NULL, 0, 0, "pda_run: %s", bad);
    return PDA_EINPUT;
}

/* The rails' PDN models back to the cache (or destroyed), and the array. */
static void models_done(pda_cache *pc, pdn_model **models, size_t nr)
{
    for (size_t rl = 0; models && rl < nr; rl++) pda_cache_pdn_done(pc, models[rl]);
    free(models);
}

int pda_run(const sio_chip *c, const sio_schedule *s, const pda_run_opts *o, pda_result **out, sio_error *err)
{
    return pda_run_walk(c, s, o, 1, NULL, out, err);
}

int pda_run_walk(const sio_chip *c, const sio_schedule *s, const pda_run_opts *o, int skip, pda_cache *pc,
                 pda_result **out, sio_error *err)
{
    *out = NULL;
    err->text[0] = 0;
    if (check_opts(o, err)) return PDA_EINPUT;
    pda_result *r = calloc(1, sizeof *r);
    if (!r) goto oom;
    r->c = c;
    r->s = s;
    r->o = *o;
    r->skip = skip;
    r->pc = pc;
    r->nch = s->n_chips;
    r->nr = c->n_rails;
    const size_t nr = r->nr, nch = r->nch;
    const double bin_ns = o->bin_ns;
    walk *w = NULL;
    pda_power_acc pa = {0};
    double *attr = calloc(2 * nr + 1, sizeof *attr);   /* then each rail's idle current, kept past the walk */
    pdn_model **models = calloc(nr + 1, sizeof *models);   /* each rail's, from the cache (or made) */
    r->mr = calloc(nch * nr + 1, sizeof *r->mr);
    if (!attr || !models || !r->mr) goto oom_w;
    int rc;
    /* leakage at its steady temperature is part of the rail current: solved before the walk */
    if (o->thermal && c->thermal.present && (rc = pda_leak_prepare(r, err))) goto fail;
    walk_opts wo = {.bin_ns = bin_ns, .tile_bins = o->tile_bins,
                    .maps = (o->unit_maps ? CURRENT_UNITS : 0) | (skip ? CURRENT_CONST : 0), .droop = 1,
                    .threads = 1, .split_min_ops = o->split_min_ops, .extra_idle_a = pda_leak_current_a(r->leak),
                    .span_cyc = o->timeline_cyc, .plan_chips = o->system_chips, .tail = 1};
    for (size_t rl = 0; rl < nr; rl++)
        if ((rc = pda_cache_pdn(pc, c, rl, bin_ns, &models[rl], err))) {
            rc = rc == PDN_EINPUT ? PDA_EINPUT : PDA_ENOMEM;
            goto fail;
        }
    if ((rc = walk_open_models(c, s, &wo, models, &w, err))) goto fail;
    double *idle = attr + nr;
    memcpy(idle, walk_idle_a(w), nr * sizeof *idle);
    for (size_t rl = 0; rl < nr; rl++) attr[rl] = attr_window(&c->rails[rl], bin_ns);
    if (events_create(c, nch, bin_ns, o->events_cap, attr, idle, &r->ev)) goto oom_w;
    for (size_t q = 0; r->leak && q < nch * nr; q++) events_set_idle(r->ev, q / nr, q % nr, walk_chip_idle_a(w)[q]);
    if (o->events_index_two_min) events_set_index_two_min(r->ev, o->events_index_two_min);
    if (o->timeline_cyc) events_set_span_cyc(r->ev, walk_makespan_cyc(w));   /* a share: the system's */
    if (margin_spectrum_create(nch, nr, bin_ns, &r->sp)) goto oom_w;
    r->tb = walk_tile_bins(w);
    r->nbins = walk_n_bins(w);
    r->tail_bins = walk_tail_bins(w);
    const size_t wb = walk_window_bins(o->window_ns, bin_ns, r->nbins);
    if (pda_power_acc_init(&pa, wb)) goto oom_w;
    if (o->power_cap_w > 0) {   /* each chip's windows, for the cap */
        if (!(r->cw_chip = calloc(nch, sizeof *r->cw_chip)) || !(r->chip_peak_window_w = calloc(nch + 1, sizeof(double))))
            goto oom_w;
        for (size_t ch = 0; ch < nch; ch++)
            if (current_window_init(&r->cw_chip[ch], wb)) goto oom_w;
    }
    if (o->report && pda_report_open(r, idle)) goto oom_w;
    if (o->keep_rails && !(r->rails = pda_spool_open(o->spool_dir, err))) { rc = PDA_EIO; goto fail; }
    if (o->unit_maps && !(r->units = pda_spool_open(o->spool_dir, err))) { rc = PDA_EIO; goto fail; }
    if ((rc = walk_all(r, w, &pa, err))) goto fail;
    if (r->rep) report_finish(r->rep);
    r->mk_cyc = walk_makespan_cyc(w);
    /* each chip's idle power, leakage included, and their sum in chip order
    ** (the merge of a system's shares adds the same values alike) */
    if (!(r->chip_idle_w = calloc(nch + 1, sizeof *r->chip_idle_w))) goto oom_w;
    double idle_w = 0.0;
    for (size_t ch = 0; ch < nch; ch++) {
        for (size_t rl = 0; rl < nr; rl++) r->chip_idle_w[ch] += walk_chip_idle_a(w)[ch * nr + rl] * c->rails[rl].vdd_v;
        idle_w += r->chip_idle_w[ch];
    }
    walk_close(w);
    w = NULL;
    models_done(pc, models, nr);
    models = NULL;
    double mk_ns = (double)r->mk_cyc / c->clock_ghz;
    /* the chips idle on to the end of the last bin; the energy is the
    ** schedule's, up to its makespan */
    /* a share of a system: the other chips idle too (a share runs no
    ** leakage, which needs the thermal run) */
    if (o->system_chips > nch)
        for (size_t rl = 0; rl < nr; rl++) idle_w += idle[rl] * c->rails[rl].vdd_v * (double)(o->system_chips - nch);
    double tail_ns = (double)r->nbins * bin_ns - mk_ns;
    double total_w_ns;   /* the sum of the bins' power, times bin_ns */
    r->power = pda_power_figures(&pa, bin_ns, &total_w_ns);
    r->power_sum_w_ns = total_w_ns;
    r->power.energy_j = (total_w_ns - (tail_ns > 0 ? idle_w * tail_ns : 0.0)) * 1e-9;
    r->power.avg_w = mk_ns > 0 ? r->power.energy_j / (mk_ns * 1e-9) : 0.0;
    for (size_t ch = 0; r->cw_chip && ch < nch; ch++) r->chip_peak_window_w[ch] = current_window_peak(&r->cw_chip[ch]);
    /* the summary (made first: jansson seeds its hashes on the first object,
    ** before a second thread makes any) */
    r->summary = json_object();
    sched_job sjob = {c, s, r->mk_cyc, NULL};
    finish_job fjob = {r->ev, s, SIO_OK};
    sio_both(1, finish_run, &fjob, sched_json_run, &sjob);
    if (fjob.rc || !sjob.out || !r->summary) { json_decref(sjob.out); goto oom_w; }
    margin_report(c, nch, r->ev, r->sp, idle, o->safety_mv, r->mr);
    int bad = 0;
    jset(r->summary, "chip", json_string(c->name), &bad);
    jset(r->summary, "schedule", sjob.out, &bad);
    jset(r->summary, "power", pda_power_json(r), &bad);
    jset(r->summary, "rails", pda_rails_json(r), &bad);
    size_t n_kept;
    events_list(r->ev, &n_kept);
    jset(r->summary, "events_kept", json_integer((json_int_t)n_kept), &bad);
    if (bad) goto oom_w;
    if (o->thermal && c->thermal.present && (rc = pda_thermal_run(r, err))) goto fail;
    if (!(r->summary_text = jdump(r->summary, JSON_INDENT(2) | JSON_REAL_PRECISION(10)))) goto oom_w;
    pda_power_acc_free(&pa);
    free(attr);
    *out = r;
    return PDA_OK;
oom_w:
    sio_error_set(err, NULL, 0, 0, "out of memory");
    rc = PDA_ENOMEM;
fail:
    walk_close(w);
    models_done(pc, models, nr);
    pda_power_acc_free(&pa);
    free(attr);
    pda_result_free(r);
    return rc;
oom:
    sio_error_set(err, NULL, 0, 0, "out of memory");
    return PDA_ENOMEM;
}

void pda_result_free(pda_result *r)
{
    if (!r) return;
    events_destroy(r->ev);
    margin_spectrum_destroy(r->sp);
    report_destroy(r->rep);
    free(r->mr);
    json_decref(r->summary);
    free(r->summary_text);
    if (r->rails) fclose(r->rails);
    if (r->units) fclose(r->units);
    pda_thermal_free(r->th);
    sio_schedule_free(r->own_s);
    pda_leak_free(r->leak);
    for (size_t ch = 0; r->cw_chip && ch < r->nch; ch++) current_window_free(&r->cw_chip[ch]);
    free(r->cw_chip);
    free(r->chip_peak_window_w);
    free(r->bd_chip);
    free(r->chip_idle_w);
    free(r);
}

const char *pda_result_summary_json(const pda_result *r) { return r->summary_text; }
size_t pda_result_tile_bins(const pda_result *r) { return r->tb ? r->tb : 1; }
size_t pda_result_n_chips(const pda_result *r) { return r->nch; }
size_t pda_result_n_bins(const pda_result *r) { return r->nbins; }
double pda_result_bin_ns(const pda_result *r) { return r->o.bin_ns; }
const pda_power *pda_result_power(const pda_result *r) { return &r->power; }
double pda_result_power_sum_w_ns(const pda_result *r) { return r->power_sum_w_ns; }
int pda_result_has_thermal(const pda_result *r) { return r->th != NULL; }

const events_rail_stats *pda_result_rail_stats(const pda_result *r, size_t chip, size_t rail)
{
    return chip < r->nch && rail < r->nr ? events_stats(r->ev, chip, rail) : NULL;
}

const events_event *pda_result_events(const pda_result *r, size_t *n) { return events_list(r->ev, n); }

const margin_rail *pda_result_margin(const pda_result *r, size_t *n)
{
    *n = r->nch * r->nr;
    return r->mr;
}

int pda_result_rail(const pda_result *r, size_t chip, size_t rail, double *current_a, double *droop_mv,
                    sio_error *err)
{
    if (!r->rails) {
        sio_error_set(err, NULL, 0, 0, "the rails' waveforms were not kept (pda_run_opts.keep_rails)");
        return PDA_EINPUT;
    }
    if (chip >= r->nch || rail >= r->nr) {
        sio_error_set(err, NULL, 0, 0, "no rail %zu of chip %zu (%zu chips of %zu rails)", rail, chip, r->nch, r->nr);
        return PDA_EINPUT;
    }
    size_t q = chip * r->nr + rail, nq = r->nch * r->nr;
    for (size_t b0 = 0; b0 < r->nbins; b0 += r->tb) {
        size_t nb = r->nbins - b0 < r->tb ? r->nbins - b0 : r->tb;
        /* tile b0 / tb: nq rows of nb currents then nb droops, after the full tiles before it */
        off_t at = (off_t)((b0 * nq + q * nb) * 2 * sizeof(double));
        if (current_a && pda_spool_read(r->rails, at, current_a + b0, nb * sizeof(double))) goto io;
        if (droop_mv) {
            if (pda_spool_read(r->rails, at + (off_t)(nb * sizeof(double)), droop_mv + b0, nb * sizeof(double)))
                goto io;
            for (size_t k = 0; k < nb; k++) droop_mv[b0 + k] *= 1e3;
        }
    }
    return PDA_OK;
io:
    sio_error_set(err, NULL, 0, 0, "cannot read the kept waveforms back: %s", strerror(errno));
    return PDA_EIO;
}

int pda_sched_counts_of(const sio_chip *c, const sio_schedule *s, pda_sched_counts *k)
{
    size_t nu = c->n_units, ncl = c->n_classes;
    memset(k, 0, sizeof *k);
    k->busy = calloc(ncl ? ncl : 1, sizeof *k->busy);
    k->ops_of = calloc(ncl ? ncl : 1, sizeof *k->ops_of);
    k->used = calloc(nu ? nu : 1, 1);
    if (!k->busy || !k->ops_of || !k->used) { pda_sched_counts_free(k); return -1; }
    k->ops = s->n;
    k->chips = s->n_chips;
    for (size_t i = 0; i < s->n; i++) {
        size_t cl = c->units[s->unit[i]].cls;
        k->busy[cl] += (double)s->cycles[i];
        k->ops_of[cl]++;
        k->used[s->unit[i]] = 1;
    }
    for (size_t d = 0; d < s->n_deps; d++) k->deps[s->dep_kind[d]]++;
    return 0;
}

void pda_sched_counts_free(pda_sched_counts *k)
{
    free(k->busy);
    free(k->ops_of);
    free(k->used);
    memset(k, 0, sizeof *k);
}

json_t *pda_schedule_json(const sio_chip *c, const sio_schedule *s, int64_t mk)
{
    pda_sched_counts k;
    if (pda_sched_counts_of(c, s, &k)) return NULL;
    json_t *sch = pda_schedule_json_of(c, &k, mk);
    pda_sched_counts_free(&k);
    return sch;
}

json_t *pda_schedule_json_of(const sio_chip *c, const pda_sched_counts *cnt, int64_t mk)
{
    size_t nu = c->n_units, ncl = c->n_classes;
    const double *busy = cnt->busy;
    const size_t *ops_of = cnt->ops_of, *deps = cnt->deps;
    size_t *units_of = calloc(ncl ? ncl : 1, sizeof *units_of);
    json_t *sch = NULL;
    int bad = 0;
    if (!units_of) goto out;
    for (size_t u = 0; u < nu; u++) units_of[c->units[u].cls]++;
    size_t n_used = 0;
    for (size_t u = 0; u < nu; u++) n_used += cnt->used[u];
    double denom = (double)mk * (double)cnt->chips;
    json_t *cls = json_object(), *dj = json_object();
    sch = json_object();
    jset(sch, "ops", json_integer((json_int_t)cnt->ops), &bad);
    jset(sch, "chips", json_integer((json_int_t)cnt->chips), &bad);
    jset(sch, "units", json_integer((json_int_t)n_used), &bad);
    jset(sch, "makespan_cycles", json_integer((json_int_t)mk), &bad);
    jset(sch, "makespan_ns", jreal((double)mk * sio_chip_period_ns(c)), &bad);
    for (size_t k = 0; k < ncl; k++) {
        json_t *e = json_object();
        jset(e, "units", json_integer((json_int_t)units_of[k]), &bad);
        jset(e, "ops", json_integer((json_int_t)ops_of[k]), &bad);
        jset(e, "busy_share", jreal(denom > 0 && units_of[k] ? busy[k] / (denom * (double)units_of[k]) : 0.0),
             &bad);
        jset(cls, c->classes[k], e, &bad);
    }
    jset(sch, "classes", cls, &bad);
    jset(dj, "end", json_integer((json_int_t)deps[SIO_DEP_END]), &bad);
    jset(dj, "start", json_integer((json_int_t)deps[SIO_DEP_START]), &bad);
    jset(dj, "exact", json_integer((json_int_t)deps[SIO_DEP_EXACT]), &bad);
    jset(sch, "deps", dj, &bad);
out:
    free(units_of);
    return jdone(sch, bad);
}
