/* walk.c -- the timeline walk: current tiles and their droop, the next tile
** computed on a second thread while the caller works on the one before
** (see walk.h).
**
** Constant runs (CURRENT_CONST in walk_opts.maps). The iterator hands over
** a stretch where every current is constant as one tile of stride 0. With
** droop, the PDN streams must first settle on the new currents (their
** response to the last change dies out: pdn_stream_settled), so the run is
** cut: while a stream has not settled, the walk hands out ordinary tiles of
** the constant currents (written out per bin, their droop pushed bin by
** bin); the rest goes out as a tile of stride 0 whose droop is one value per
** rail, the streams advanced over it at once (pdn_stream_skip). Pieces stay
** on the tile grid (a run is whole tiles), so the tiles after the run are
** the same as in the walk without the option.
**
** The tail (walk_opts.tail, walk.h): once the iterator has ended, ordinary
** tiles of every rail's idle current, pushed through the PDN streams, for
** walk_tail_bins bins. */
#include "walk.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pdn.h"

struct walk {
    const sio_chip *c;
    current_iter *it;
    pdn_model **models;    /* [rail], NULL entries without droop */
    int own_models;        /* made by walk_open (else the caller's: walk_open_models) */
    pdn_stream **streams;  /* [chip][rail] */
    double *idle;          /* [rail] */
    double *chip_idle;     /* [chip][rail]: with walk_opts.extra_idle_a */
    size_t nq, tb;
    int threaded;
    double *drop[2];       /* the two slots' droop, [q][tb] */
    /* a constant run being handed out: its next bin, the bins left, its
    ** value per row (rails, then dies, then units: nrow), and per slot the
    ** tile's arrays (a run's values, or its pieces written out per bin) */
    size_t run_b0, run_left, nrow, nq_die;
    double *run_v;
    double *kv[2];         /* [row]: a run's values */
    double *xbuf[2];       /* [row][tb], made on the first run that needs it */
    current_tile t[2];
    int full[2], end, stop, slot, held;
    int failed;            /* the iterator ran out of memory */
    int it_done;           /* the iterator has ended: the tail, if any */
    size_t tail_bins, tail_b0, tail_left;
    double *tail_i;        /* [q][tb]: each rail's idle current, the tail's tiles */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

void walk_rail_idle(const sio_chip *c, double *idle)
{
    for (size_t r = 0; r < c->n_rails; r++) idle[r] = 0;
    for (size_t u = 0; u < c->n_units; u++) idle[c->units[u].rail] += c->units[u].idle_a;
}

size_t walk_didt_bins(const sio_rail *rail, double bin_ns)
{
    double w = round(rail->didt_window_ns / bin_ns);
    return !(w >= 1) ? 1 : w > (double)(1u << 20) ? (size_t)1 << 20 : (size_t)w;
}

size_t walk_window_bins(double window_ns, double bin_ns, size_t n_bins)
{
    double wb = round(window_ns / bin_ns);
    if (wb > (double)n_bins) wb = (double)n_bins;
    return wb < 1 ? 1 : (size_t)wb;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The next piece of the constant run into slot k: bins written out while a
** PDN stream has not settled, else the rest of the run at once. -1 out of
** memory. */
static int run_piece(walk *w, int k)
{
    const size_t tb = w->tb, nq = w->nq;
    int settled = 1;
    for (size_t q = 0; w->streams && q < nq && settled; q++)
        settled = pdn_stream_settled(w->streams[q], w->run_v[q]);
    current_tile t = {.b0 = w->run_b0};
    if (settled) {
        double *v = w->kv[k];
        memcpy(v, w->run_v, w->nrow * sizeof *v);
        t.nb = w->run_left;
        t.stride = 0;
        t.rail_a = v;
        t.die_a = w->nq_die ? v + nq : NULL;
        t.unit_a = w->nrow > nq + w->nq_die ? v + nq + w->nq_die : NULL;
        for (size_t q = 0; w->streams && q < nq; q++)
            if (pdn_stream_skip(w->streams[q], w->run_v[q], t.nb, w->drop[k] + q)) return -1;
    } else {
        if (!w->xbuf[k] && !(w->xbuf[k] = malloc(w->nrow * tb * sizeof(double) + 1))) return -1;
        double *x = w->xbuf[k];
        t.nb = w->run_left < tb ? w->run_left : tb;
        t.stride = tb;
        for (size_t r = 0; r < w->nrow; r++)
            for (size_t j = 0; j < t.nb; j++) x[r * tb + j] = w->run_v[r];
        t.rail_a = x;
        t.die_a = w->nq_die ? x + nq * tb : NULL;
        t.unit_a = w->nrow > nq + w->nq_die ? x + (nq + w->nq_die) * tb : NULL;
        for (size_t q = 0; q < nq; q++) pdn_stream_push(w->streams[q], x + q * tb, t.nb, w->drop[k] + q * tb);
    }
    w->run_b0 += t.nb;
    w->run_left -= t.nb;
    w->t[k] = t;
    return 1;
}

/* The next tile of the tail into slot k (walk.h: walk_tail_bins); 0 at
** its end. */
static int tail_piece(walk *w, int k)
{
    if (!w->tail_left) return 0;
    current_tile t = {.b0 = w->tail_b0, .stride = w->tb, .rail_a = w->tail_i};
    t.nb = w->tail_left < w->tb ? w->tail_left : w->tb;
    for (size_t q = 0; w->streams && q < w->nq; q++)
        pdn_stream_push(w->streams[q], w->tail_i + q * w->tb, t.nb, w->drop[k] + q * w->tb);
    w->tail_b0 += t.nb;
    w->tail_left -= t.nb;
    w->t[k] = t;
    return 1;
}

/* Computes the next tile into slot k; 0 at the end, -1 out of memory. */
static int fill(walk *w, int k)
{
    if (w->run_left) return run_piece(w, k);
    if (w->it_done) return tail_piece(w, k);
    current_tile t;
    int rc = current_next(w->it, &t);
    if (rc == 0) {
        w->it_done = 1;
        return tail_piece(w, k);
    }
    if (rc != 1) return rc;
    if (t.stride == 0) {   /* a constant run: its values kept, handed out in pieces */
        memcpy(w->run_v, t.rail_a, w->nq * sizeof *w->run_v);
        if (w->nq_die) memcpy(w->run_v + w->nq, t.die_a, w->nq_die * sizeof *w->run_v);
        if (w->nrow > w->nq + w->nq_die)
            memcpy(w->run_v + w->nq + w->nq_die, t.unit_a, (w->nrow - w->nq - w->nq_die) * sizeof *w->run_v);
        w->run_b0 = t.b0;
        w->run_left = t.nb;
        return run_piece(w, k);
    }
    /* the iterator keeps this tile's rails while it computes the next one;
    ** its other maps it reuses (with them the walk runs on one thread) */
    if (w->threaded) t.die_a = t.unit_a = NULL;
    for (size_t q = 0; w->streams && q < w->nq; q++)
        pdn_stream_push(w->streams[q], t.rail_a + q * t.stride, t.nb, w->drop[k] + q * w->tb);
    w->t[k] = t;
    return 1;
}

/* The slot flags (full, end, stop) are read without the lock while a thread
** spins, so every access to them is atomic; the lock and the condition
** variable are for the thread that gives up spinning and sleeps. */
static int flag(const int *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void set_flag(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

/* Slot k is ready for the consumer (full, or the timeline ended) or, for the
** producer, free (or the walk stopped). */
static int slot_ready(const walk *w, int k, int producer)
{
    return producer ? !flag(&w->full[k]) || flag(&w->stop) : flag(&w->full[k]) || flag(&w->end);
}

/* Spins up to SPIN_S for slot k before the caller sleeps on the condition
** variable: on a virtual machine a wake-up through it costs some 30 us (the
** idle vCPU halts), against 0.1-0.5 ms a tile, and the walk hands over two
** per tile (a ping-pong of 50 us pieces takes ~115 us a round trip through
** the condition variable, 51-59 us spinning). */
#define SPIN_S 1e-3
static void spin_for(const walk *w, int k, int producer)
{
    if (slot_ready(w, k, producer)) return;
    double t0 = now_s();
    for (unsigned n = 1; !slot_ready(w, k, producer); n++) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
        if (!(n & 255) && now_s() - t0 > SPIN_S) return;
    }
}

static void *ahead(void *arg)
{
    walk *w = arg;
    for (int k = 0;; k ^= 1) {
        spin_for(w, k, 1);
        pthread_mutex_lock(&w->mu);
        while (!slot_ready(w, k, 1)) pthread_cond_wait(&w->cv, &w->mu);
        int stop = flag(&w->stop);
        pthread_mutex_unlock(&w->mu);
        if (stop) break;
        int got = fill(w, k);
        pthread_mutex_lock(&w->mu);
        if (got == 1) {
            set_flag(&w->full[k], 1);
        } else {
            w->failed = got < 0;
            set_flag(&w->end, 1);
        }
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        if (got != 1) break;
    }
    return NULL;
}

int walk_open(const sio_chip *c, const sio_schedule *s, const walk_opts *o, walk **out, sio_error *err)
{
    return walk_open_models(c, s, o, NULL, out, err);
}

int walk_open_models(const sio_chip *c, const sio_schedule *s, const walk_opts *o, pdn_model *const *models,
                     walk **out, sio_error *err)
{
    *out = NULL;
    const size_t nr = c->n_rails, nch = s->n_chips;
    walk *w = calloc(1, sizeof *w);
    if (!w) goto oom;
    w->c = c;
    w->nq = nch * nr;
    w->idle = calloc(nr ? nr : 1, sizeof *w->idle);
    if (!w->idle) goto oom;
    walk_rail_idle(c, w->idle);
    w->chip_idle = malloc((w->nq ? w->nq : 1) * sizeof *w->chip_idle);
    if (!w->chip_idle) goto oom;
    for (size_t q = 0; q < w->nq; q++) w->chip_idle[q] = w->idle[q % nr];
    for (size_t q = 0; o->extra_idle_a && q < nch * c->n_units; q++)
        w->chip_idle[q / c->n_units * nr + c->units[q % c->n_units].rail] += o->extra_idle_a[q];
    size_t tile_req = o->tile_bins;
    if (o->droop) {
        w->models = calloc(nr ? nr : 1, sizeof *w->models);
        w->streams = calloc(w->nq ? w->nq : 1, sizeof *w->streams);
        if (!w->models || !w->streams) goto oom;
        w->own_models = !models;
        for (size_t r = 0; r < nr; r++) {
            int rc = PDN_OK;
            if (models) w->models[r] = models[r];
            else rc = pdn_model_for_rail(c, r, o->bin_ns, &w->models[r], err);
            if (rc) {
                walk_close(w);
                return rc == PDN_EINPUT ? SIO_EINPUT : SIO_ENOMEM;
            }
            for (size_t ch = 0; ch < nch; ch++)
                if (pdn_stream_create(w->models[r], w->chip_idle[ch * nr + r], &w->streams[ch * nr + r])) goto oom;
        }
        /* tiles as long as the PDN's overlap-save block (each push of a tile
        ** costs one block), unless the per-row arrays would pass ~256 MB */
        if (!tile_req && nr) {
            size_t rows = (o->plan_chips ? o->plan_chips : nch) * (nr + ((o->maps & CURRENT_UNITS) ? c->n_units : 0));
            size_t blk = pdn_model_block_len(w->models[0]);
            if ((double)rows * 24.0 * (double)blk < 256.0 * 1024 * 1024) tile_req = blk;
        }
    }
    /* the tail's length (walk.h: walk_tail_bins) */
    for (size_t r = 0; o->tail && r < nr && nch; r++) {
        size_t len = walk_didt_bins(&c->rails[r], o->bin_ns);
        if (o->droop && pdn_model_kernel_len(w->models[r]) > len) len = pdn_model_kernel_len(w->models[r]);
        if (len > w->tail_bins) w->tail_bins = len;
    }
    w->nq_die = (o->maps & CURRENT_DIES) ? nch * c->n_dies : 0;
    w->nrow = w->nq + w->nq_die + ((o->maps & CURRENT_UNITS) ? nch * c->n_units : 0);
    w->run_v = malloc((w->nrow + 1) * sizeof *w->run_v);
    w->kv[0] = malloc((w->nrow + 1) * sizeof *w->kv[0]);
    w->kv[1] = malloc((w->nrow + 1) * sizeof *w->kv[1]);
    if (!w->run_v || !w->kv[0] || !w->kv[1]) goto oom;
    current_iter_opts io;
    current_iter_opts_default(&io);
    io.bin_ns = o->bin_ns;
    io.tile_bins = tile_req;
    io.maps = o->maps;
    if (o->split_min_ops) io.split_min_ops = o->split_min_ops;
    io.span_cyc = o->span_cyc;
    io.plan_chips = o->plan_chips;
    io.extra_idle_a = o->extra_idle_a;
    int rc = current_iter_open(c, s, &io, &w->it, err);
    if (rc) { walk_close(w); return rc; }
    /* The walk's tile: the iterator's, whose tile a timeline shorter than
    ** it cuts to the timeline. Then the tail comes in longer tiles, as long
    ** as the tail within ~64 MB of the rails' buffers (or the tile asked
    ** for): a run of a few bins would otherwise walk its tail (1.5 x 10^5
    ** bins on the TSP sample at 1 ns) in tiles of a few bins, each costing
    ** a PDN block. The iterator's own arrays (units' and dies' rows too)
    ** stay the timeline's size; the timeline is that one tile, so the kept
    ** waveforms' tiles of walk_tile_bins hold it as they would. */
    w->tb = current_tile_bins(w->it);
    if (w->tail_bins > w->tb && current_n_bins(w->it) <= w->tb) {
        /* the system's rails, not this share's: every process of an MPI run
        ** takes the same tile */
        double rows = (double)((o->plan_chips ? o->plan_chips : nch) * nr);
        size_t lim = tile_req ? tile_req : (size_t)(64.0 * 1024 * 1024 / (24.0 * (rows > 0 ? rows : 1)));
        if (lim < 4096) lim = 4096;
        if (lim < w->tb) lim = w->tb;
        w->tb = w->tail_bins < lim ? w->tail_bins : lim;
    }
    if (!w->tb) w->tb = 1;
    w->tail_left = w->tail_bins;
    w->tail_b0 = current_n_bins(w->it);
    if (w->tail_bins) {
        if (!(w->tail_i = malloc(w->nq * w->tb * sizeof *w->tail_i))) goto oom;
        for (size_t q = 0; q < w->nq; q++)
            for (size_t j = 0; j < w->tb; j++) w->tail_i[q * w->tb + j] = w->chip_idle[q];
    }
    w->threaded = o->threads && o->droop && w->nq > 0 && !(o->maps & (CURRENT_UNITS | CURRENT_DIES));
    for (int k = 0; k < 1 + w->threaded; k++)
        if (!(w->drop[k] = malloc(w->nq * w->tb * sizeof(double) + 1))) goto oom;
    if (w->threaded) {
        if (pthread_mutex_init(&w->mu, NULL) != 0) {
            w->threaded = 0;
        } else if (pthread_cond_init(&w->cv, NULL) != 0) {
            pthread_mutex_destroy(&w->mu);
            w->threaded = 0;
        } else if (pthread_create(&w->th, NULL, ahead, w) != 0) {
            pthread_cond_destroy(&w->cv);
            pthread_mutex_destroy(&w->mu);
            w->threaded = 0;   /* one thread, then */
        }
    }
    *out = w;
    return SIO_OK;
oom:
    walk_close(w);
    sio_error_set(err, s->path, 0, 0, "out of memory for the walk over the timeline");
    return SIO_ENOMEM;
}

int walk_next(walk *w, current_tile *t, const double **droop_v)
{
    if (!w->threaded) {
        int rc = fill(w, 0);
        if (rc != 1) return rc;
        *t = w->t[0];
        *droop_v = w->streams ? w->drop[0] : NULL;
        return 1;
    }
    if (w->held) {   /* the tile handed out last is done with */
        pthread_mutex_lock(&w->mu);
        set_flag(&w->full[w->slot ^ 1], 0);
        w->held = 0;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
    int k = w->slot;
    spin_for(w, k, 0);
    pthread_mutex_lock(&w->mu);
    while (!slot_ready(w, k, 0)) pthread_cond_wait(&w->cv, &w->mu);
    int got = flag(&w->full[k]), failed = w->failed;
    pthread_mutex_unlock(&w->mu);
    if (!got) return failed ? -1 : 0;
    *t = w->t[k];
    *droop_v = w->drop[k];
    w->slot ^= 1;
    w->held = 1;
    return 1;
}

size_t walk_n_bins(const walk *w) { return current_n_bins(w->it); }
size_t walk_tile_bins(const walk *w) { return w->tb; }
size_t walk_tail_bins(const walk *w) { return w->tail_bins; }
int64_t walk_makespan_cyc(const walk *w) { return current_makespan_cyc(w->it); }
const double *walk_idle_a(const walk *w) { return w->idle; }
double walk_idle_droop_v(const walk *w, size_t q)
{
    return w->models ? pdn_model_z0_ohm(w->models[q % w->c->n_rails]) * w->chip_idle[q] : 0.0;
}
const double *walk_chip_idle_a(const walk *w) { return w->chip_idle; }

void walk_close(walk *w)
{
    if (!w) return;
    if (w->threaded) {
        pthread_mutex_lock(&w->mu);
        set_flag(&w->stop, 1);
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->th, NULL);
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
    }
    for (int k = 0; k < 2; k++) { free(w->drop[k]); free(w->xbuf[k]); free(w->kv[k]); }
    free(w->run_v);
    free(w->tail_i);
    current_iter_destroy(w->it);
    for (size_t q = 0; w->streams && q < w->nq; q++) pdn_stream_destroy(w->streams[q]);
    for (size_t r = 0; w->own_models && r < w->c->n_rails; r++) pdn_model_destroy(w->models[r]);
    free(w->streams);
    free(w->models);
    free(w->idle);
    free(w->chip_idle);
    free(w);
}
