/* cmd_run_mpi.c -- `analyzer run` under Open MPI: the chips of a multi-chip
** schedule spread over the ranks (mpirun sets OMPI_COMM_WORLD_SIZE; only
** then is MPI initialised). Built only when Open MPI is there
** (PDA_WITH_MPI); MPI stays in the command, out of libpda.
**
** Rank k of N keeps chips k, k + N, k + 2N, ... (sio_load_opts.chip_step):
** every rank reads the whole file but keeps only its chips' rows, so memory
** is that of its share. The ranks agree on the system (its chips, its
** makespan), and those with a chip run their share over the system's
** timeline (pda_run_opts.timeline_cyc, system_chips): the same tiles and bins
** as one process, so each chip's figures are the ones one process gives.
** The system's power is summed during the walk: after each piece of its
** walk a rank takes part in rounds, each over the bins up to the nearest end
** of any rank's piece; a round is constant when every rank's piece is, and
** then carries one value, else the bins (at most a tile). The values are
** fixed point (pda.h: PDA_POWER_FX), so the sum (MPI_Reduce onto rank 0)
** is exact in any order, and rank 0's peak, window peak and energy are those
** of one process. After the walk each rank packs its figures
** (pda_result_pack), rank 0 gathers the packs, merges them
** (pda_result_merge; with --waveforms the other ranks send their rails a
** tile at a time, in order, as the merge asks for them, and with
** --unit-maps their unit maps), and alone writes
** DIR and prints. Ranks beyond the chips idle to the end. The thermal run
** is each chip's own but for the frames it evaluates, which every rank
** plans from all ranks' busy frames (frames_combine), so each chip's
** temperatures are the ones one process gives. With --unit-maps each rank
** sends its chips' maps to rank 0 after the rails, chip by chip.
**
** Errors: what rank 0 meets in reading the inputs it says once; another
** rank says only what rank 0 did not meet; every rank exits with the same
** code, nothing written. An error inside a rank's run (out of memory, a
** file that cannot be read) ends every rank at once (MPI_Abort: the others
** wait in the power's rounds), before anything is written. MPI calls come
** from the main thread only (the walk's second thread never calls back). */
#include <limits.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "outset.h"
#include "pda.h"
#include "pdn.h"

typedef struct comb {
    MPI_Comm comm;
    int rank;
    int64_t *send, *sum;   /* a round's bins */
    size_t cap;
} comb;

/* Ends every rank: an error that the others, waiting in a collective, would
** never hear of. */
static void die(int rank, const char *msg, int code)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    fprintf(stderr, "analyzer: rank %d (%s): %s\n", rank, host, msg);
    MPI_Abort(MPI_COMM_WORLD, code);
}

/* pda_run_opts.power_combine: this rank's piece [b0, b0 + nb) in rounds
** that every rank makes alike (each rank's pieces cover the same timeline in
** order, so each round starts at the same bin on every rank). */
static int combine(void *arg, size_t b0, size_t nb, const int64_t *p, int64_t p_const,
                   void (*sink)(void *, size_t, size_t, const int64_t *, int64_t), void *sink_arg)
{
    comb *cb = arg;
    size_t cur = b0;
    while (cur < b0 + nb) {
        int64_t v[2] = {(int64_t)(b0 + nb), p ? 0 : 1};   /* the round's end; 1: every piece constant */
        MPI_Allreduce(MPI_IN_PLACE, v, 2, MPI_INT64_T, MPI_MIN, cb->comm);
        size_t end = (size_t)v[0], n = end - cur;
        if (v[1]) {
            int64_t s = 0;
            MPI_Reduce(&p_const, &s, 1, MPI_INT64_T, MPI_SUM, 0, cb->comm);
            if (cb->rank == 0) sink(sink_arg, cur, n, NULL, s);
        } else {
            /* some rank's piece is a tile of bins: n is at most a tile */
            if (n > cb->cap) {
                free(cb->send);
                free(cb->sum);
                cb->send = malloc(n * sizeof *cb->send);
                cb->sum = malloc(n * sizeof *cb->sum);
                cb->cap = n;
                if (!cb->send || !cb->sum || n > INT32_MAX) die(cb->rank, "out of memory", EXIT_IO);
            }
            for (size_t k = 0; k < n; k++) cb->send[k] = p ? p[cur - b0 + k] : p_const;
            MPI_Reduce(cb->send, cb->sum, (int)n, MPI_INT64_T, MPI_SUM, 0, cb->comm);
            if (cb->rank == 0) sink(sink_arg, cur, n, cb->sum, 0);
        }
        cur = end;
    }
    return 0;
}

/* pda_run_opts.frames_combine: every rank's runs of busy thermal frames, to
** every rank (MPI_Allgatherv), so that all plan the same frames. */
static int frames(void *arg, const uint64_t *iv, size_t n, uint64_t **out, size_t *n_out)
{
    comb *cb = arg;
    int size;
    MPI_Comm_size(cb->comm, &size);
    if (2 * n > INT32_MAX) die(cb->rank, "too many thermal frames", EXIT_IO);
    int mine = (int)(2 * n), *cnt = calloc((size_t)size, sizeof *cnt), *off = calloc((size_t)size, sizeof *off);
    if (!cnt || !off) die(cb->rank, "out of memory", EXIT_IO);
    MPI_Allgather(&mine, 1, MPI_INT, cnt, 1, MPI_INT, cb->comm);
    size_t total = 0;
    for (int k = 0; k < size; k++) {
        off[k] = (int)total;
        total += (size_t)cnt[k];
        if (total > INT32_MAX) die(cb->rank, "too many thermal frames", EXIT_IO);
    }
    uint64_t *all = malloc((total + 2) * sizeof *all);
    if (!all) die(cb->rank, "out of memory", EXIT_IO);
    MPI_Allgatherv(iv, mine, MPI_UINT64_T, all, cnt, off, MPI_UINT64_T, cb->comm);
    free(cnt);
    free(off);
    *out = all;
    *n_out = total / 2;
    return 0;
}

/* The rails' tiles of the shares, for the merge on rank 0: its own from its
** result, the others' as their ranks send them (tile by tile, in order). */
typedef struct rails_src {
    const pda_result *own;
    MPI_Comm comm;
    size_t nr, tb, nbins;
    const size_t *nch;     /* [rank]: its chips */
} rails_src;

static int rails_tile(void *arg, size_t part, size_t b0, double *buf)
{
    rails_src *rs = arg;
    sio_error err;
    if (part == 0) return pda_result_rails_tile(rs->own, b0, buf, &err);
    size_t nb = rs->nbins - b0 < rs->tb ? rs->nbins - b0 : rs->tb;
    MPI_Recv(buf, (int)(rs->nch[part] * rs->nr * nb * 2), MPI_DOUBLE, (int)part, 7, rs->comm, MPI_STATUS_IGNORE);
    return 0;
}

/* A rank's rails, tile by tile, to rank 0 (which merges them as they come). */
static void send_rails(const pda_result *res, MPI_Comm comm, int rank)
{
    size_t tb = pda_result_tile_bins(res), nbins = pda_result_n_bins(res), nq;
    sio_error err;
    pda_result_margin(res, &nq);   /* one row per chip and rail */
    double *buf = malloc((nq * tb * 2 + 1) * sizeof *buf);
    if (!buf || nq * tb * 2 > INT32_MAX) die(rank, "out of memory", EXIT_IO);
    for (size_t b0 = 0; b0 < nbins; b0 += tb) {
        size_t nb = nbins - b0 < tb ? nbins - b0 : tb;
        if (pda_result_rails_tile(res, b0, buf, &err)) die(rank, err.text, EXIT_IO);
        MPI_Send(buf, (int)(nq * nb * 2), MPI_DOUBLE, 0, 7, comm);
    }
    free(buf);
}

/* The unit maps of the shares, for the merge on rank 0: its own from its
** result, the others' as their ranks send them (chip by chip, in order,
** each in chunks). */
static int units_chunk(void *arg, size_t part, size_t chip, size_t off, size_t n, float *buf)
{
    rails_src *rs = arg;
    sio_error err;
    if (part == 0) return pda_result_units_chunk(rs->own, chip, off, n, buf, &err);
    MPI_Recv(buf, (int)n, MPI_FLOAT, (int)part, 8, rs->comm, MPI_STATUS_IGNORE);
    return 0;
}

/* A rank's unit maps to rank 0, its chips in order, each in the chunks
** the merge asks for (PDA_UNITS_CHUNK floats). */
static void send_units(const pda_result *res, const sio_chip *c, MPI_Comm comm, int rank)
{
    const size_t per = c->n_units * pda_result_n_bins(res), chunk = PDA_UNITS_CHUNK;
    sio_error err;
    float *buf = malloc(chunk * sizeof *buf);
    if (!buf) die(rank, "out of memory", EXIT_IO);
    for (size_t ch = 0; ch < pda_result_n_chips(res); ch++)
        for (size_t off = 0; off < per; off += chunk) {
            size_t n = per - off < chunk ? per - off : chunk;
            if (pda_result_units_chunk(res, ch, off, n, buf, &err)) die(rank, err.text, EXIT_IO);
            MPI_Send(buf, (int)n, MPI_FLOAT, 0, 8, comm);
        }
    free(buf);
}

/* The same exit code on every rank, and one error said: the first in the
** file among the ranks' (each rank checks every row, and the deps of its
** own chips), as the plain run would say it; ties, and errors with no
** line, to the least rank. */
static int agree(int code, int rank, const sio_error *err)
{
    struct { long line; int rank; } mine = {code ? (err->line > 0 && err->line < LONG_MAX ? (long)err->line
                                                                                        : LONG_MAX - 1)
                                                  : LONG_MAX, rank}, first;
    int all = code;
    MPI_Allreduce(&mine, &first, 1, MPI_LONG_INT, MPI_MINLOC, MPI_COMM_WORLD);
    if (code && first.rank == rank) {
        if (rank == 0) fprintf(stderr, "%s\n", err->text);
        else {
            char host[256] = "";
            gethostname(host, sizeof host - 1);
            fprintf(stderr, "analyzer: rank %d (%s): %s\n", rank, host, err->text);
        }
    }
    MPI_Allreduce(&code, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return all;
}

/* This rank's share: its run, its pack gathered onto rank 0 of work, and
** there the merge and the files. The exit code (rank 0's). */
static int run_share(const cmd_opts *o, const sio_chip *c, const sio_schedule *s, MPI_Comm work, int64_t mk,
                     size_t nch)
{
    int rank, size;
    MPI_Comm_rank(work, &rank);
    MPI_Comm_size(work, &size);
    sio_error err;
    err.text[0] = 0;
    comb cb = {.comm = work, .rank = rank};
    int last = -100;
    pda_run_opts po;
    cmd_run_opts(o, &po);
    po.spool_dir = NULL;   /* DIR is rank 0's and made at the end: the kept rails wait in $TMPDIR */
    po.timeline_cyc = mk;
    po.system_chips = nch;
    po.power_combine = combine;
    po.power_arg = &cb;
    po.frames_combine = frames;   /* the thermal run plans the system's frames */
    po.frames_arg = &cb;
    if (rank == 0 && !o->quiet && isatty(2)) {
        po.progress = cmd_run_progress;
        po.progress_arg = &last;
    }
    pda_result *res = NULL, *sys = NULL;
    void *pack = NULL;
    size_t len = 0;
    int rc = pda_run(c, s, &po, &res, &err);
    if (!rc) rc = pda_result_pack(res, &pack, &len, &err);
    if (!rc && len > INT32_MAX) {
        sio_error_set(&err, NULL, 0, 0, "a share's figures pass 2 GB: use more ranks");
        rc = PDA_EINPUT;
    }
    if (rc) die(rank, err.text, rc == PDA_EINPUT ? EXIT_INPUT : EXIT_IO);
    /* every share's chip count, for the rails' tiles */
    unsigned long long my_nch = pda_result_n_chips(res), *all_nch = NULL;
    size_t *nch_of = NULL;
    if (rank == 0 && (!(all_nch = calloc((size_t)size, sizeof *all_nch)) ||
                      !(nch_of = calloc((size_t)size, sizeof *nch_of))))
        die(rank, "out of memory", EXIT_IO);
    MPI_Gather(&my_nch, 1, MPI_UNSIGNED_LONG_LONG, all_nch, 1, MPI_UNSIGNED_LONG_LONG, 0, work);
    for (int k = 0; rank == 0 && k < size; k++) nch_of[k] = (size_t)all_nch[k];
    free(all_nch);
    int ilen = (int)len, *lens = NULL, *offs = NULL;
    char *all = NULL;
    if (rank == 0) {
        lens = calloc((size_t)size, sizeof *lens);
        offs = calloc((size_t)size, sizeof *offs);
        if (!lens || !offs) die(rank, "out of memory", EXIT_IO);
    }
    MPI_Gather(&ilen, 1, MPI_INT, lens, 1, MPI_INT, 0, work);
    size_t total = 0;
    for (int k = 0; rank == 0 && k < size; k++) {
        if (total > INT32_MAX) die(rank, "the shares' figures pass 2 GB: use fewer ranks", EXIT_IO);
        offs[k] = (int)total;
        total += (size_t)lens[k];
    }
    if (rank == 0 && (total > INT32_MAX || !(all = malloc(total + 1)))) die(rank, "out of memory", EXIT_IO);
    MPI_Gatherv(pack, ilen, MPI_BYTE, all, lens, offs, MPI_BYTE, 0, work);
    free(pack);
    free(cb.send);
    free(cb.sum);
    int code = EXIT_OK;
    if (rank != 0 && o->waveforms) send_rails(res, work, rank);
    if (rank != 0 && o->unit_maps) send_units(res, c, work, rank);
    if (rank == 0) {
        void **packs = calloc((size_t)size, sizeof *packs);
        size_t *plens = calloc((size_t)size, sizeof *plens);
        if (!packs || !plens) die(rank, "out of memory", EXIT_IO);
        for (int k = 0; k < size; k++) {
            packs[k] = all + offs[k];
            plens[k] = (size_t)lens[k];
        }
        /* rank 0's run got the system's power through combine */
        rails_src rs = {res, work, c->n_rails, pda_result_tile_bins(res), pda_result_n_bins(res), nch_of};
        rc = pda_result_merge(c, o->sched_path, &po, pda_result_power(res), pda_result_power_sum_w_ns(res), packs,
                              plens, (size_t)size,
                              rails_tile, &rs, units_chunk, &rs, &sys, &err);
        /* the other ranks may still be sending rails or unit maps: end them too */
        if (rc && (o->waveforms || o->unit_maps) && size > 1)
            die(rank, err.text, rc == PDA_EINPUT ? EXIT_INPUT : EXIT_IO);
        code = rc ? (rc == PDA_EINPUT ? EXIT_INPUT : EXIT_IO) : cmd_run_finish(o, c, sys, &err);
        if (code == EXIT_INPUT || code == EXIT_IO) fprintf(stderr, "%s\n", err.text);
        free(packs);
        free(plens);
    }
    free(all);
    free(nch_of);
    free(lens);
    free(offs);
    pda_result_free(sys);
    pda_result_free(res);
    return code;
}

int cmd_run_mpi(const cmd_opts *o)
{
    sio_chip *c = NULL;
    sio_schedule *s = NULL;
    sio_error err;
    int rank, size, rc, code = cmd_mpi_init(&rank, &size, &err);
    if (code < 0) return EXIT_IO;   /* MPI did not start (said) */
    if (code) {
        /* said below, once */
    } else if ((rc = sio_chip_load(o->chip_path, &c, &err))) {
        code = cmd_exit_for(rc);
    } else {
        sio_load_opts lo;
        sio_load_opts_default(&lo);
        lo.chip_lo = (size_t)rank;   /* chips rank, rank + size, ... */
        lo.chip_step = (size_t)size;
        if ((rc = sio_schedule_load_opts(c, o->sched_path, &lo, &s, &err))) code = cmd_exit_for(rc);
    }
    /* every rank's run makes the rails' PDN models alike, and a rail they
    ** refuse (an unstable regulator loop) would end each of them with its
    ** own message: rank 0 makes them once here, so that it is said once,
    ** as the plain run says it */
    pda_run_opts po;
    cmd_run_opts(o, &po);
    for (size_t r = 0; !code && rank == 0 && r < c->n_rails; r++) {
        pdn_model *m = NULL;
        if ((rc = pdn_model_for_rail(c, r, po.bin_ns, &m, &err)))
            code = rc == PDN_EINPUT ? EXIT_INPUT : EXIT_IO;
        pdn_model_destroy(m);
    }
    /* a bad -o fails before the work; the folder is made again by the
    ** write, so that an abort later leaves nothing */
    if (!code && rank == 0 && o->out) {
        char *made = outset_missing_top(o->out);
        if ((rc = pda_result_write_check(c, s, &po, o->out, &err)) || (rc = outset_mkdirs(o->out, &err)))
            code = cmd_exit_for(rc);
        outset_remove_made(o->out, made);
        outset_made_free(o->out, made);
    }
    if ((code = agree(code, rank, &err))) goto out;
    /* the system: every rank read the same file */
    uint64_t nf[2] = {s->n_chips_file, ~(uint64_t)s->n_chips_file};
    MPI_Allreduce(MPI_IN_PLACE, nf, 2, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
    if (nf[0] != ~nf[1]) {
        sio_error_set(&err, NULL, 0, 0, "analyzer: %s: the ranks read different chip counts: every host must see "
                                        "the same file at the same path", o->sched_path);
        code = EXIT_INPUT;
    }
    if ((code = agree(code, rank, &err))) goto out;
    size_t nch = (size_t)nf[0];
    int64_t mk = sio_schedule_makespan_cyc(s);
    MPI_Allreduce(MPI_IN_PLACE, &mk, 1, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD);
    /* the ranks that have a chip; the others idle to the end */
    MPI_Comm work = MPI_COMM_NULL;
    MPI_Comm_split(MPI_COMM_WORLD, (size_t)rank < nch ? 0 : MPI_UNDEFINED, rank, &work);
    if (work != MPI_COMM_NULL) {
        code = run_share(o, c, s, work, mk, nch);
        MPI_Comm_free(&work);
    }
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
out:
    sio_schedule_free(s);
    sio_chip_free(c);
    MPI_Finalize();
    return code;
}
