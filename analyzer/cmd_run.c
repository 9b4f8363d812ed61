/* cmd_run.c -- `analyzer run CHIP SCHEDULE [-o DIR]`: the whole analysis.
**
** One pass over the timeline in time tiles: the current iterator gives each
** tile's rail currents; each chip's rail goes through its PDN stream (droop),
** the event detector and the spectrum; the system's power feeds the peak,
** the window peak and the energy. Waveforms and unit maps, when asked for,
** are written tile by tile into temporary files. The current map and the
** droop of the next tile are computed on a second thread meanwhile
** (tile_feed). Thermal runs after (see
** cmd_thermal.c). Every output is committed only when everything succeeded,
** so a failed run leaves no partial output. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "current.h"
#include "events.h"
#include "margin.h"
#include "pdn.h"
#include "report.h"
#include "sio_int.h"

#define EVENTS_CAP 10000
#define SUB_BINS 4096   /* bins per pass of the per-bin statistics (L1/L2-sized) */

int run_outputs_add(run_outputs *ro, const char *name, sio_out **out, sio_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", ro->dir, name);
    if (ro->n == ro->cap) {
        size_t c = ro->cap ? 2 * ro->cap : 16;
        sio_out **p = realloc(ro->o, c * sizeof *p);
        if (p) ro->o = p;
        char **q = realloc(ro->names, c * sizeof *q);
        if (q) ro->names = q;
        if (!p || !q) { sio_error_set(err, path, 0, 0, "out of memory"); return SIO_ENOMEM; }
        ro->cap = c;
    }
    if (ro->inputs && cmd_is_input(ro->inputs, ro->chip, path)) {
        sio_error_set(err, path, 0, 0, "refusing to overwrite an input");
        return SIO_EINPUT;
    }
    char *nm = strdup(name);
    if (!nm) { sio_error_set(err, path, 0, 0, "out of memory"); return SIO_ENOMEM; }
    int rc = sio_out_open(path, out, err);
    if (rc == SIO_OK) {
        ro->o[ro->n] = *out;
        ro->names[ro->n++] = nm;
    } else {
        free(nm);
    }
    return rc;
}

int run_outputs_finish(run_outputs *ro, int ok, sio_error *err)
{
    int rc = SIO_OK;
    for (size_t k = 0; k < ro->n; k++) {
        if (ok && rc == SIO_OK) rc = sio_out_commit(ro->o[k], err);
        else sio_out_abort(ro->o[k]);
        free(ro->names[k]);
    }
    free(ro->o);
    free(ro->names);
    ro->o = NULL;
    ro->names = NULL;
    ro->n = ro->cap = 0;
    return rc;
}

unsigned char *run_outputs_read(run_outputs *ro, size_t k, size_t *len)
{
    FILE *f = sio_out_file(ro->o[k]);
    if (fflush(f) != 0) return NULL;
    long end = ftell(f);
    if (end < 0 || fseek(f, 0, SEEK_SET) != 0) return NULL;
    unsigned char *b = malloc((size_t)end + 1);
    size_t got = b ? fread(b, 1, (size_t)end, f) : 0;
    fseek(f, end, SEEK_SET);
    if (!b || got != (size_t)end) { free(b); return NULL; }
    *len = got;
    return b;
}

int run_outputs_mkdir(run_outputs *ro, const char *sub, sio_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", ro->dir, sub);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        sio_error_set(err, path, 0, 0, "cannot create folder: %s", strerror(errno));
        return SIO_EIO;
    }
    return SIO_OK;
}

/* units.npy: float32 [chip][unit][bin], NumPy format 1.0. */
static long npy_header(FILE *f, size_t chips, size_t units, size_t bins)
{
    char dict[256];
    int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu, %zu), }",
                     chips, units, bins);
    size_t total = 10 + (size_t)n + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)n + pad + 1;
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    unsigned char l[2] = {(unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8)};
    fwrite(l, 1, 2, f);
    fwrite(dict, 1, (size_t)n, f);
    for (size_t k = 0; k < pad; k++) fputc(' ', f);
    fputc('\n', f);
    return (long)(10 + hlen);
}

static int little_endian(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

static void progress(const cmd_opts *o, size_t done, size_t total)
{
    if (o->quiet || !isatty(2) || total < 8) return;
    if (done % (total / 8 ? total / 8 : 1) && done != total) return;
    fprintf(stderr, "\ranalyzer: %3zu%% of the timeline", total ? 100 * done / total : 100);
    if (done == total) fputc('\n', stderr);
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

/* ---- the walk's tiles, with their droop ------------------------------------
** The current map and the PDN convolution of the next tile are computed on a
** second thread while this one runs the per-bin passes (events, spectrum,
** report, power) over the tile before: two slots, handed back and forth.
** Unit maps need the iterator's own arrays, so with them it runs on one
** thread. The numbers are the same either way: each stream sees the same
** tiles in the same order. */
typedef struct tile_feed {
    current_iter *it;
    pdn_stream **streams;
    size_t nq, tb;
    int threaded;
    double *drop[2];
    current_tile t[2];
    int full[2], end, stop, slot, held;
    int failed;            /* the iterator ran out of memory */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} tile_feed;

/* Computes the next tile into slot k; 0 at the end, -1 out of memory. */
static int feed_fill(tile_feed *f, int k)
{
    current_tile t;
    int rc = current_next(f->it, &t);
    if (rc != 1) return rc;
    /* the iterator keeps this tile's rails while it computes the next one;
    ** its other maps it reuses (with them the feed runs on one thread) */
    if (f->threaded) t.die_a = t.unit_a = NULL;
    for (size_t q = 0; q < f->nq; q++)
        pdn_stream_push(f->streams[q], t.rail_a + q * t.stride, t.nb, f->drop[k] + q * f->tb);
    f->t[k] = t;
    return 1;
}

/* The slot flags (full, end, stop) are read without the lock while a thread
** spins, so every access to them is atomic; the lock and the condition
** variable are for the thread that gives up spinning and sleeps. */
static int flag(const int *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void set_flag(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

/* Slot k is ready for the consumer (full, or the timeline ended) or, for the
** producer, free (or the walk stopped). */
static int slot_ready(const tile_feed *f, int k, int producer)
{
    return producer ? !flag(&f->full[k]) || flag(&f->stop) : flag(&f->full[k]) || flag(&f->end);
}

/* Spins up to SPIN_S for slot k before the caller sleeps on the condition
** variable: on a virtual machine a wake-up through it costs some 30 us (the
** idle vCPU halts), against 0.1-0.5 ms a tile, and the walk hands over two
** per tile (measured: a ping-pong of 50 us pieces took 115 us a round trip
** with the condition variable, 51-59 us spinning). */
#define SPIN_S 1e-3
static void spin_for(const tile_feed *f, int k, int producer)
{
    if (slot_ready(f, k, producer)) return;
    double t0 = cmd_now();
    for (unsigned n = 1; !slot_ready(f, k, producer); n++) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
        if (!(n & 255) && cmd_now() - t0 > SPIN_S) return;
    }
}

static void *feed_thread(void *arg)
{
    tile_feed *f = arg;
    for (int k = 0;; k ^= 1) {
        spin_for(f, k, 1);
        pthread_mutex_lock(&f->mu);
        while (!slot_ready(f, k, 1)) pthread_cond_wait(&f->cv, &f->mu);
        int stop = flag(&f->stop);
        pthread_mutex_unlock(&f->mu);
        if (stop) break;
        int got = feed_fill(f, k);
        pthread_mutex_lock(&f->mu);
        if (got == 1) {
            set_flag(&f->full[k], 1);
        } else {
            f->failed = got < 0;
            set_flag(&f->end, 1);
        }
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        if (got != 1) break;
    }
    return NULL;
}

static int feed_open(tile_feed *f, current_iter *it, pdn_stream **streams, size_t nq, size_t tb, int threaded)
{
    memset(f, 0, sizeof *f);
    f->it = it;
    f->streams = streams;
    f->nq = nq;
    f->tb = tb ? tb : 1;
    f->threaded = threaded && nq > 0;
    for (int k = 0; k < 1 + f->threaded; k++) {
        f->drop[k] = malloc(nq * f->tb * sizeof(double) + 1);
        if (!f->drop[k]) return -1;
    }
    if (!f->threaded) return 0;
    if (pthread_mutex_init(&f->mu, NULL) != 0) { f->threaded = 0; return 0; }
    if (pthread_cond_init(&f->cv, NULL) != 0 || pthread_create(&f->th, NULL, feed_thread, f) != 0) {
        pthread_mutex_destroy(&f->mu);
        f->threaded = 0;   /* one thread, then */
    }
    return 0;
}

/* The next tile and its droop ([q][bin], row length tb); 0 at the end, -1
** when the iterator ran out of memory. */
static int feed_next(tile_feed *f, current_tile *t, const double **droop)
{
    if (!f->threaded) {
        int rc = feed_fill(f, 0);
        if (rc != 1) return rc;
        *t = f->t[0];
        *droop = f->drop[0];
        return 1;
    }
    if (f->held) {   /* the tile handed out last is done with */
        pthread_mutex_lock(&f->mu);
        set_flag(&f->full[f->slot ^ 1], 0);
        f->held = 0;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
    }
    int k = f->slot;
    spin_for(f, k, 0);
    pthread_mutex_lock(&f->mu);
    while (!slot_ready(f, k, 0)) pthread_cond_wait(&f->cv, &f->mu);
    int got = flag(&f->full[k]), failed = f->failed;
    pthread_mutex_unlock(&f->mu);
    if (!got) return failed ? -1 : 0;
    *t = f->t[k];
    *droop = f->drop[k];
    f->slot ^= 1;
    f->held = 1;
    return 1;
}

static void feed_close(tile_feed *f)
{
    if (f->threaded) {
        pthread_mutex_lock(&f->mu);
        set_flag(&f->stop, 1);
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        pthread_join(f->th, NULL);
        pthread_cond_destroy(&f->cv);
        pthread_mutex_destroy(&f->mu);
        f->threaded = 0;
    }
    for (int k = 0; k < 2; k++) { free(f->drop[k]); f->drop[k] = NULL; }
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
    j->out = cmd_schedule_json(j->c, j->s, j->mk);
    return NULL;
}

typedef struct finish_job { events_detector *ev; const sio_schedule *s; int rc; } finish_job;

static void *finish_run(void *arg)
{
    finish_job *j = arg;
    j->rc = events_finish(j->ev, j->s);
    return NULL;
}

int cmd_run(const cmd_opts *o)
{
    sio_chip *c;
    sio_schedule *s;
    int rc = cmd_load(o, &c, &s);
    if (rc) return rc;
    sio_error err;
    err.text[0] = 0;
    int exit_code = EXIT_OK;
    const size_t nr = c->n_rails, nch = s->n_chips;
    const double bin_ns = o->bin_ns, window_ns = o->window_ns > 0 ? o->window_ns : 100.0;
    pdn_model **models = calloc(nr, sizeof *models);
    pdn_stream **streams = calloc(nch * nr, sizeof *streams);
    double *idle = calloc(nr, sizeof *idle), *attr = calloc(nr, sizeof *attr);
    double *power = NULL;
    tile_feed feed;
    memset(&feed, 0, sizeof feed);
    current_iter *it = NULL;
    events_detector *ev = NULL;
    margin_spectrum *sp = NULL;
    report *rep = NULL;
    margin_rail *mr = calloc(nch * nr, sizeof *mr);
    current_window cw = {0};
    run_outputs ro = {o->out, NULL, 0, 0, NULL, o, c};
    FILE *wf = NULL, *uf = NULL;
    long npy_off = 0;
    json_t *summary = NULL;
    if (!models || !streams || !idle || !attr || !mr) goto oom;
    for (size_t u = 0; u < c->n_units; u++) idle[c->units[u].rail] += c->units[u].idle_a;
    for (size_t r = 0; r < nr; r++) {
        rc = pdn_model_create(&c->rails[r], bin_ns, &models[r], &err);
        if (rc) {
            /* the PDN module knows the rail, not the file it came from */
            char why[sizeof err.text];
            snprintf(why, sizeof why, "%s", err.text);
            sio_error_set(&err, c->path, 0, 0, "rail '%s' at --bin-ns %g: %s", c->rails[r].name, bin_ns, why);
            exit_code = rc == PDN_EINPUT ? EXIT_INPUT : EXIT_IO;
            goto fail;
        }
        attr[r] = attr_window(&c->rails[r], bin_ns);
        for (size_t ch = 0; ch < nch; ch++)
            if (pdn_stream_create(models[r], idle[r], &streams[ch * nr + r])) goto oom;
    }
    /* tiles as long as the PDN's overlap-save block (each push of a tile costs
    ** one block), unless the per-row arrays would pass ~256 MB */
    size_t tile_req = o->tile_bins;
    if (!tile_req && nr) {
        size_t rows = nch * (nr + (o->unit_maps ? c->n_units : 0));
        size_t blk = pdn_model_block_len(models[0]);
        if ((double)rows * 24.0 * (double)blk < 256.0 * 1024 * 1024) tile_req = blk;
    }
    rc = current_iter_create(c, s, bin_ns, tile_req, o->unit_maps ? CURRENT_UNITS : 0, &it, &err);
    if (rc) { exit_code = cmd_exit_for(rc); goto fail; }
    if (events_create(c, nch, bin_ns, EVENTS_CAP, attr, idle, &ev)) goto oom;
    if (margin_spectrum_create(nch, nr, bin_ns, &sp)) goto oom;
    size_t tb = current_tile_bins(it), nbins = current_n_bins(it);
    /* a window longer than the timeline is the timeline */
    double wb = round(window_ns / bin_ns);
    if (wb > (double)nbins) wb = (double)nbins;
    if (current_window_init(&cw, wb < 1 ? 1 : (size_t)wb)) goto oom;
    if (o->out && report_create(nch * nr, nbins, bin_ns, &rep)) goto oom;
    power = malloc((tb ? tb : 1) * sizeof *power);
    if (!power || feed_open(&feed, it, streams, nch * nr, tb, !o->unit_maps)) goto oom;
    /* the output folder, and the files written as the timeline streams */
    if (o->out) {
        if (cmd_mkdirs(o->out) != 0) {
            sio_error_set(&err, o->out, 0, 0, "%s", errno == ENOTDIR ? "not a folder"
                                                    : "cannot create the output folder");
            if (errno != ENOTDIR) {
                size_t l = strlen(err.text);
                snprintf(err.text + l, sizeof err.text - l, ": %s", strerror(errno));
            }
            exit_code = EXIT_IO;
            goto fail;
        }
        sio_out *so;
        if (o->waveforms) {
            if ((rc = run_outputs_add(&ro, "rails.csv", &so, &err))) { exit_code = cmd_exit_for(rc); goto fail; }
            wf = sio_out_file(so);
            fprintf(wf, "t_ns");
            for (size_t ch = 0; ch < nch; ch++)
                for (size_t r = 0; r < nr; r++)
                    fprintf(wf, ",%zu.%s.current_a,%zu.%s.droop_mv", ch, c->rails[r].name, ch, c->rails[r].name);
            fputc('\n', wf);
        }
        if (o->unit_maps) {
            if (!little_endian()) {
                sio_error_set(&err, o->out, 0, 0, "units.npy is written little-endian only");
                exit_code = EXIT_IO;
                goto fail;
            }
            if ((rc = run_outputs_add(&ro, "units.npy", &so, &err))) { exit_code = cmd_exit_for(rc); goto fail; }
            uf = sio_out_file(so);
            npy_off = npy_header(uf, nch, c->n_units, nbins);
            if ((rc = run_outputs_add(&ro, "units.csv", &so, &err))) { exit_code = cmd_exit_for(rc); goto fail; }
            FILE *f = sio_out_file(so);
            fprintf(f, "index,chip,unit,class,die,rail,idle_a\n");
            for (size_t ch = 0; ch < nch; ch++)
                for (size_t u = 0; u < c->n_units; u++)
                    fprintf(f, "%zu,%zu,%s,%s,%d,%s,%.6g\n", ch * c->n_units + u, ch, c->units[u].name,
                            c->classes[c->units[u].cls], c->dies[c->units[u].die].id, c->rails[c->units[u].rail].name,
                            c->units[u].idle_a);
        }
    } else if (o->waveforms || o->unit_maps) {
        sio_error_set(&err, NULL, 0, 0, "analyzer: --waveforms and --unit-maps need -o DIR");
        exit_code = EXIT_INPUT;
        goto fail;
    }
    /* the walk */
    current_tile t;
    size_t n_tiles = tb ? (nbins + tb - 1) / tb : 0, done = 0;
    float *f32 = uf ? malloc(tb * sizeof *f32) : NULL;
    if (uf && !f32) goto oom;
    const double *droop;
    int fed;
    while ((fed = feed_next(&feed, &t, &droop)) == 1) {
        /* the droop of the whole tile came with it (one overlap-save block);
        ** every other pass goes in sub-chunks that stay in cache from one
        ** pass to the next */
        for (size_t k0 = 0; k0 < t.nb; k0 += SUB_BINS) {
            size_t m = t.nb - k0 < SUB_BINS ? t.nb - k0 : SUB_BINS;
            double *pw = power + k0;
            for (size_t k = 0; k < m; k++) pw[k] = 0;
            for (size_t ch = 0; ch < nch; ch++) {
                for (size_t r = 0; r < nr; r++) {
                    const double *i = t.rail_a + (ch * nr + r) * t.stride + k0;
                    const double *d = droop + (ch * nr + r) * tb + k0;
                    events_push(ev, ch, r, t.b0 + k0, i, d, m);
                    margin_spectrum_push(sp, ch, r, i, m);
                    if (rep) report_push(rep, ch * nr + r, t.b0 + k0, i, d, m);
                    double vdd = c->rails[r].vdd_v;
                    for (size_t k = 0; k < m; k++) pw[k] += vdd * i[k];
                }
            }
            current_window_push(&cw, pw, m);   /* also the peak bin and the energy */
        }
        if (wf) {
            for (size_t k = 0; k < t.nb; k++) {
                fprintf(wf, "%.10g", (double)(t.b0 + k) * bin_ns);
                for (size_t q = 0; q < nch * nr; q++)
                    fprintf(wf, ",%.9g,%.6f", t.rail_a[q * t.stride + k], droop[q * tb + k] * 1e3);
                fputc('\n', wf);
            }
        }
        if (uf) {
            for (size_t q = 0; q < nch * c->n_units; q++) {
                for (size_t k = 0; k < t.nb; k++) f32[k] = (float)t.unit_a[q * t.stride + k];
                if (fseeko(uf, (off_t)npy_off + (off_t)((q * nbins + t.b0) * sizeof(float)), SEEK_SET) != 0 ||
                    fwrite(f32, sizeof *f32, t.nb, uf) != t.nb) {
                    sio_error_set(&err, o->out, 0, 0, "cannot write units.npy: %s", strerror(errno));
                    free(f32);
                    exit_code = EXIT_IO;
                    goto fail;
                }
            }
        }
        progress(o, ++done, n_tiles);
    }
    free(f32);
    feed_close(&feed);
    if (fed < 0) goto oom;
    const double peak_w = cw.max, t_peak_w = (double)cw.max_at * bin_ns, energy_j = cw.total * bin_ns * 1e-9;
    /* the summary (made first: jansson seeds its hashes on the first object,
    ** before a second thread makes any) */
    summary = json_object();
    sched_job sjob = {c, s, current_makespan_cyc(it), NULL};
    finish_job fjob = {ev, s, SIO_OK};
    sio_both(1, finish_run, &fjob, sched_json_run, &sjob);
    json_t *sj = sjob.out;
    if (fjob.rc || !sj) { json_decref(sj); goto oom; }
    margin_report(c, nch, ev, sp, idle, o->safety_mv, mr);
    double mk_cyc = (double)sjob.mk, mk_ns = mk_cyc / c->clock_ghz;
    json_t *pj = json_object(), *rj = json_array();
    json_object_set_new(pj, "peak_w", json_real(peak_w));
    json_object_set_new(pj, "t_peak_ns", json_real(t_peak_w));
    json_object_set_new(pj, "avg_w", json_real(mk_ns > 0 ? energy_j / (mk_ns * 1e-9) : 0.0));
    json_object_set_new(pj, "energy_j", json_real(energy_j));
    json_object_set_new(pj, "peak_window_w", json_real(current_window_peak(&cw)));
    json_object_set_new(pj, "window_ns", json_real((double)cw.w * bin_ns));
    json_object_set_new(pj, "bin_ns", json_real(bin_ns));
    for (size_t q = 0; q < nch * nr; q++) {
        const margin_rail *m = &mr[q];
        const events_rail_stats *st = events_stats(ev, m->chip, m->rail);
        json_t *e = json_object();
        json_object_set_new(e, "chip", json_integer((json_int_t)m->chip));
        json_object_set_new(e, "rail", json_string(c->rails[m->rail].name));
        json_object_set_new(e, "vdd_v", json_real(m->vdd_v));
        json_object_set_new(e, "peak_a", json_real(st->peak_a));
        json_object_set_new(e, "avg_a", json_real(st->avg_a));
        json_object_set_new(e, "max_didt_a_per_ns", json_real(st->max_didt_a_per_ns));
        json_object_set_new(e, "max_droop_mv", json_real(m->worst_droop_mv));
        json_object_set_new(e, "t_max_droop_ns", json_real(m->t_worst_ns));
        json_object_set_new(e, "guardband_mv", json_real(m->guardband_mv));
        json_object_set_new(e, "needed_guardband_mv", json_real(m->needed_guardband_mv));
        json_object_set_new(e, "saving_pct", json_real(m->saving_pct));
        json_object_set_new(e, "saving_w", json_real(m->saving_w));
        json_object_set_new(e, "p50_droop_mv", json_real(m->p50_mv));
        json_object_set_new(e, "p99_droop_mv", json_real(m->p99_mv));
        json_object_set_new(e, "p9999_droop_mv", json_real(m->p9999_mv));
        json_object_set_new(e, "droop_events", json_integer((json_int_t)st->droop_events));
        json_object_set_new(e, "didt_events", json_integer((json_int_t)st->didt_events));
        json_t *res = json_array();
        for (size_t k = 0; k < m->n_res; k++) {
            json_t *x = json_object();
            json_object_set_new(x, "f_mhz", json_real(m->res[k].f_hz * 1e-6));
            json_object_set_new(x, "z_mohm", json_real(m->res[k].z_ohm * 1e3));
            json_object_set_new(x, "current_a", json_real(m->res[k].i_a));
            json_object_set_new(x, "f_current_mhz", json_real(m->res[k].f_i_hz * 1e-6));
            json_object_set_new(x, "droop_mv", json_real(m->res[k].droop_mv));
            json_array_append_new(res, x);
        }
        json_object_set_new(e, "resonances", res);
        json_array_append_new(rj, e);
    }
    json_object_set_new(summary, "chip", json_string(c->name));
    json_object_set_new(summary, "schedule", sj);
    json_object_set_new(summary, "power", pj);
    json_object_set_new(summary, "rails", rj);
    size_t n_kept;
    events_list(ev, &n_kept);
    json_object_set_new(summary, "events_kept", json_integer((json_int_t)n_kept));
    if (!o->no_thermal && c->thermal.present) {
        int trc = cmd_thermal(o, c, s, summary, o->out ? &ro : NULL, &err);
        if (trc == EXIT_LIMIT) exit_code = EXIT_LIMIT;      /* --strict and a cell above limit_c */
        else if (trc) { exit_code = trc; goto fail; }
    }
    if (o->out) {
        /* the small files last, then everything is renamed into place at once */
        sio_out *so;
        if ((rc = run_outputs_add(&ro, "events.csv", &so, &err))) { exit_code = cmd_exit_for(rc); goto fail; }
        events_write_csv(ev, s, sio_out_file(so));
        if ((rc = run_outputs_add(&ro, "margin.csv", &so, &err))) { exit_code = cmd_exit_for(rc); goto fail; }
        margin_write_csv(c, mr, nch * nr, sio_out_file(so));
        char *text = json_dumps(summary, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        if (!text) goto oom;
        /* report.html, with the heat maps written so far inlined */
        report_image *img = calloc(ro.n ? ro.n : 1, sizeof *img);
        size_t n_img = 0;
        int bad = !img || run_outputs_add(&ro, "report.html", &so, &err);
        for (size_t k = 0; !bad && k + 1 < ro.n; k++) {
            size_t ln = strlen(ro.names[k]);
            if (ln < 4 || strcmp(ro.names[k] + ln - 4, ".png") != 0) continue;
            size_t len;
            unsigned char *png = run_outputs_read(&ro, k, &len);
            if (!png) { bad = 1; break; }
            img[n_img].caption = ro.names[k];
            img[n_img].png = png;
            img[n_img++].len = len;
        }
        if (!bad) report_write(rep, sio_out_file(so), c, s, ev, sp, mr, text, img, n_img);
        for (size_t k = 0; k < n_img; k++) free((void *)img[k].png);
        free(img);
        free(text);
        if (bad) {
            if (!err.text[0]) sio_error_set(&err, o->out, 0, 0, "cannot write report.html");
            exit_code = EXIT_IO;
            goto fail;
        }
        if ((rc = run_outputs_add(&ro, "summary.json", &so, &err))) { exit_code = cmd_exit_for(rc); goto fail; }
        json_dumpf(summary, sio_out_file(so), JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        fputc('\n', sio_out_file(so));
        if (run_outputs_finish(&ro, 1, &err)) { exit_code = EXIT_IO; goto fail; }
    }
    if (o->json) {
        json_dumpf(summary, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        fputc('\n', stdout);
    } else if (!o->quiet) {
        printf("%s on %s: %zu ops, %zu chip%s, makespan %.0f cycles = %.1f ns\n", o->sched_path, c->name, s->n, nch,
               nch == 1 ? "" : "s", mk_cyc, mk_ns);
        printf("power: peak %.1f W (1 bin of %g ns) at %.0f ns, peak over %g ns %.1f W, mean %.1f W, energy %.4g J\n",
               peak_w, bin_ns, t_peak_w, (double)cw.w * bin_ns, current_window_peak(&cw),
               mk_ns > 0 ? energy_j / (mk_ns * 1e-9) : 0.0, energy_j);
        for (size_t q = 0; q < nch * nr; q++) {
            const margin_rail *m = &mr[q];
            const events_rail_stats *st = events_stats(ev, m->chip, m->rail);
            printf("chip %zu rail %s (%.2f V): peak %.1f A, max dI/dt %.2f A/ns, worst droop %.1f mV at %.0f ns "
                   "(p99 %.1f mV); needs %.1f of %.0f mV guardband",
                   m->chip, c->rails[m->rail].name, m->vdd_v, st->peak_a, st->max_didt_a_per_ns, m->worst_droop_mv,
                   m->t_worst_ns, m->p99_mv, m->needed_guardband_mv, m->guardband_mv);
            if (m->headroom_mv > 0)
                printf("; lowering Vdd %.1f mV saves %.1f W (%.1f%% of the rail's power, switching part only)\n",
                       m->headroom_mv, m->saving_w, m->saving_pct);
            else
                printf("; BREAKS the guardband by %.1f mV\n", -m->headroom_mv);
            printf("  events: %zu droop, %zu dI/dt\n", st->droop_events, st->didt_events);
            for (size_t k = 0; k < m->n_res && k < 3; k++)
                printf("  resonance %.2f MHz (|Z| %.3f mOhm): schedule current %.2f A at %.2f MHz -> %.2f mV\n",
                       m->res[k].f_hz * 1e-6, m->res[k].z_ohm * 1e3, m->res[k].i_a, m->res[k].f_i_hz * 1e-6,
                       m->res[k].droop_mv);
        }
        json_t *th = json_object_get(summary, "thermal"), *dies = th ? json_object_get(th, "dies") : NULL;
        for (size_t k = 0; dies && k < json_array_size(dies); k++) {
            json_t *d = json_array_get(dies, k);
            printf("thermal chip %" JSON_INTEGER_FORMAT " die %" JSON_INTEGER_FORMAT
                   ": max %.1f C at %.0f ns, mean %.1f C\n",
                   json_integer_value(json_object_get(d, "chip")), json_integer_value(json_object_get(d, "die")),
                   json_number_value(json_object_get(d, "max_c")), json_number_value(json_object_get(d, "t_max_ns")),
                   json_number_value(json_object_get(d, "mean_c")));
        }
        if (th)
            printf("hotspots: %" JSON_INTEGER_FORMAT ", stacked: %" JSON_INTEGER_FORMAT "\n",
                   json_integer_value(json_object_get(th, "hotspots")),
                   json_integer_value(json_object_get(th, "stacked_hotspots")));
        size_t ne;
        const events_event *el = events_list(ev, &ne);
        size_t shown = 0;
        for (size_t k = 0; k < ne && shown < 5; k++) {
            const events_event *e = &el[k];
            if (e->kind != EVENTS_DROOP && shown >= 3) continue;
            printf("  %s event chip %zu %s: %.0f-%.0f ns, peak %.2f %s at %.0f ns", e->kind ? "dI/dt" : "droop",
                   e->chip, c->rails[e->rail].name, e->t_start_ns, e->t_end_ns, e->peak,
                   e->kind ? "A/ns" : "mV", e->t_peak_ns);
            for (size_t q = 0; q < e->n_causes; q++)
                printf("%s %s %+.1f A", q ? "," : "; from", c->units[e->causes[q].unit].name, e->causes[q].delta_a);
            putchar('\n');
            shown++;
        }
    }
    if (o->strict) {
        /* --strict: a droop past a guardband or a dI/dt past its limit breaks a limit */
        for (size_t q = 0; q < nch * nr; q++) {
            const events_rail_stats *st = events_stats(ev, mr[q].chip, mr[q].rail);
            if (!st->droop_events && !st->didt_events) continue;
            fprintf(stderr, "analyzer: limit broken: chip %zu rail %s: %zu droop events past %.0f mV "
                            "(worst %.1f mV), %zu dI/dt events past %.3g A/ns\n",
                    mr[q].chip, c->rails[mr[q].rail].name, st->droop_events, mr[q].guardband_mv,
                    mr[q].worst_droop_mv, st->didt_events, c->rails[mr[q].rail].didt_limit_a_per_ns);
            exit_code = EXIT_LIMIT;
        }
    }
    goto done;
oom:
    sio_error_set(&err, NULL, 0, 0, "analyzer: out of memory");
    exit_code = EXIT_IO;
fail:
    run_outputs_finish(&ro, 0, NULL);
    if (err.text[0]) fprintf(stderr, "%s\n", err.text);
done:
    json_decref(summary);
    current_window_free(&cw);
    feed_close(&feed);
    for (size_t q = 0; streams && q < nch * nr; q++) pdn_stream_destroy(streams[q]);
    for (size_t r = 0; models && r < nr; r++) pdn_model_destroy(models[r]);
    free(models); free(streams); free(idle); free(attr); free(power); free(mr);
    current_iter_destroy(it);
    events_destroy(ev);
    margin_spectrum_destroy(sp);
    report_destroy(rep);
    sio_schedule_free(s);
    sio_chip_free(c);
    return exit_code;
}
