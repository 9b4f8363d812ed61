/* cmd_sweep_mpi.c -- `analyzer sweep` under Open MPI (mpirun sets
** OMPI_COMM_WORLD_SIZE; only then is MPI initialised). Built only when Open
** MPI is there (PDA_WITH_MPI); MPI stays in the command, out of libpda.
**
** Every rank reads the sweep, the chip and the schedules itself (the same
** paths on every host) and runs tasks on its own threads (sweep_pool). Rank
** 0 hands the tasks out one at a time as they are asked for, so a rank that
** is faster, or has more cores, takes more; it runs tasks itself too,
** gathers every row and alone writes DIR. Only each process's main thread
** calls MPI (MPI_THREAD_FUNNELED): on rank 0 it answers the other ranks,
** polling (a blocking receive would spin a core the workers need); on the
** others it relays its threads' requests and rows.
**
** Messages (MPI_BYTE, the same binary on every host): a request for a task,
** the answer (a task, or none left), a row, and a rank's last word (its
** error, if any). A rank's rows arrive before its last word (MPI keeps the
** order of two messages between two processes). */
#include <mpi.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "outset.h"
#include "sweep.h"

enum { T_REQ = 1, T_TASK = 2, T_ROW = 3, T_FIN = 4 };

typedef struct msg {
    int64_t t;      /* T_TASK: the task, -1 none; T_ROW: its task */
    int32_t rc;     /* T_FIN: 0, or the rank's status (row.status holds the message) */
    int32_t pad;
    sweep_row row;
} msg;

typedef struct shared {
    const cmd_opts *o;
    const sweep *sw;
    size_t n;              /* tasks */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* rank 0 */
    sweep_row *rows;
    size_t next, done;
    int stop;              /* an error somewhere: hand out no more */
    /* the other ranks: requests to relay, tasks got, rows to send */
    size_t want;
    int64_t *tasks;        /* FIFO of tasks got, jobs deep */
    size_t t_head, t_n, jobs;
    int none_left;
    msg *out;              /* FIFO of rows to send, jobs deep */
    size_t o_head, o_n;
    int pool_over;
    int pool_rc;
    sio_error pool_err;
} shared;

static void nap(void)
{
    struct timespec ts = {0, 200000};   /* 0.2 ms */
    nanosleep(&ts, NULL);
}

/* ---- rank 0 ---- */

static int next0(void *arg, size_t *t)
{
    shared *s = arg;
    pthread_mutex_lock(&s->mu);
    int none = s->stop || s->next >= s->n;
    if (!none) *t = s->next++;
    pthread_mutex_unlock(&s->mu);
    return none;
}

static void got_row(shared *s, size_t t, const sweep_row *row)
{
    pthread_mutex_lock(&s->mu);
    s->rows[t] = *row;
    cmd_sweep_progress(s->o, ++s->done, s->n);
    pthread_mutex_unlock(&s->mu);
}

static int done0(void *arg, size_t t, const sweep_row *row)
{
    got_row(arg, t, row);
    return 0;
}

/* ---- the other ranks ---- */

static int next_w(void *arg, size_t *t)
{
    shared *s = arg;
    pthread_mutex_lock(&s->mu);
    s->want++;
    pthread_cond_broadcast(&s->cv);
    while (!s->t_n && !s->none_left) pthread_cond_wait(&s->cv, &s->mu);
    int none = !s->t_n;
    if (!none) {
        int64_t x = s->tasks[s->t_head];
        s->t_head = (s->t_head + 1) % s->jobs;
        s->t_n--;
        none = x < 0;
        if (x < 0) s->none_left = 1;
        else *t = (size_t)x;
    }
    pthread_mutex_unlock(&s->mu);
    return none;
}

static int done_w(void *arg, size_t t, const sweep_row *row)
{
    shared *s = arg;
    pthread_mutex_lock(&s->mu);
    msg *m = &s->out[(s->o_head + s->o_n++) % s->jobs];   /* at most one per thread waits */
    memset(m, 0, sizeof *m);
    m->t = (int64_t)t;
    m->row = *row;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static void *pool_thread(void *arg)
{
    shared *s = arg;
    int root = s->rows != NULL;
    sio_error err;
    err.text[0] = 0;
    int rc = sweep_pool(s->sw, s->jobs, root ? next0 : next_w, root ? done0 : done_w, s, &err);
    pthread_mutex_lock(&s->mu);
    s->pool_rc = rc;
    s->pool_err = err;
    s->pool_over = 1;
    if (rc) s->stop = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Rank 0's main thread: answers until every other rank has said its last
** word. The first error (0's pool or a rank's) stops the handing out;
** *err then holds it and the result is its status. */
static int serve(shared *s, int size, sio_error *err)
{
    int active = size - 1, rc = 0;
    msg *m = malloc(sizeof *m), *a = malloc(sizeof *a);
    if (!m || !a) {
        /* cannot serve: tell nobody anything new, but still let them end */
        free(m);
        free(a);
        MPI_Abort(MPI_COMM_WORLD, EXIT_IO);
        return PDA_ENOMEM;
    }
    while (active > 0) {
        MPI_Request rq;
        MPI_Status st;
        int flag = 0;
        MPI_Irecv(m, (int)sizeof *m, MPI_BYTE, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &rq);
        for (;;) {
            MPI_Test(&rq, &flag, &st);
            if (flag) break;
            nap();
        }
        if (st.MPI_TAG == T_REQ) {
            pthread_mutex_lock(&s->mu);
            int64_t t = s->stop || s->next >= s->n ? -1 : (int64_t)s->next++;
            pthread_mutex_unlock(&s->mu);
            memset(a, 0, sizeof *a);
            a->t = t;
            MPI_Send(a, (int)sizeof *a, MPI_BYTE, st.MPI_SOURCE, T_TASK, MPI_COMM_WORLD);
        } else if (st.MPI_TAG == T_ROW) {
            if (m->t >= 0 && (size_t)m->t < s->n) got_row(s, (size_t)m->t, &m->row);
        } else if (st.MPI_TAG == T_FIN) {
            active--;
            if (m->rc && !rc) {
                rc = m->rc;
                sio_error_set(err, NULL, 0, 0, "analyzer: rank %d: %s", st.MPI_SOURCE, m->row.status);
                pthread_mutex_lock(&s->mu);
                s->stop = 1;
                pthread_mutex_unlock(&s->mu);
            }
        }
    }
    free(m);
    free(a);
    return rc;
}

/* A worker rank's main thread: relays requests and rows until its pool is
** over, then says its last word. */
static void relay(shared *s)
{
    msg *m = malloc(sizeof *m);
    if (!m) MPI_Abort(MPI_COMM_WORLD, EXIT_IO);
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->o_n && !(s->want && !s->none_left) && !s->pool_over) pthread_cond_wait(&s->cv, &s->mu);
        if (s->o_n) {
            *m = s->out[s->o_head];
            s->o_head = (s->o_head + 1) % s->jobs;
            s->o_n--;
            pthread_mutex_unlock(&s->mu);
            MPI_Send(m, (int)sizeof *m, MPI_BYTE, 0, T_ROW, MPI_COMM_WORLD);
            continue;
        }
        if (s->want && !s->none_left) {
            s->want--;
            pthread_mutex_unlock(&s->mu);
            memset(m, 0, sizeof *m);
            MPI_Send(m, (int)sizeof *m, MPI_BYTE, 0, T_REQ, MPI_COMM_WORLD);
            MPI_Recv(m, (int)sizeof *m, MPI_BYTE, 0, T_TASK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            pthread_mutex_lock(&s->mu);
            s->tasks[(s->t_head + s->t_n++) % s->jobs] = m->t;
            if (m->t < 0) s->none_left = 1;
            pthread_cond_broadcast(&s->cv);
            pthread_mutex_unlock(&s->mu);
            continue;
        }
        /* the pool is over and every row sent */
        int rc = s->pool_rc;
        memset(m, 0, sizeof *m);
        m->rc = rc;
        if (rc) snprintf(m->row.status, sizeof m->row.status, "%s", s->pool_err.text);
        pthread_mutex_unlock(&s->mu);
        MPI_Send(m, (int)sizeof *m, MPI_BYTE, 0, T_FIN, MPI_COMM_WORLD);
        break;
    }
    free(m);
}

/* The same exit code on every rank (mpirun reports the first non-zero). */
static int agree(int code)
{
    int all = code;
    MPI_Allreduce(&code, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return all;
}

int cmd_sweep_mpi(const cmd_opts *o)
{
    int rank, size;
    sio_error err;
    int code = cmd_mpi_init(&rank, &size, &err), rc;
    if (code < 0) return EXIT_IO;
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    double t0 = cmd_now();
    sweep *sw = NULL;
    char *made = NULL;   /* rank 0: the folder -o made, removed again if the sweep fails */
    if (code) {
        /* said below, once */
    } else if ((rc = sweep_load(o->chip_path, &sw, &err))) {
        code = cmd_exit_for(rc);
    } else if (rank == 0) {   /* a bad -o fails before the work */
        made = outset_missing_top(o->out);
        if ((rc = sweep_write_check(sw, o->out, &err)) || (rc = outset_mkdirs(o->out, &err))) code = cmd_exit_for(rc);
    }
    /* rank 0 says what is wrong; another rank only what rank 0 did not meet */
    int code0 = code;
    MPI_Bcast(&code0, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (code && !rank) fprintf(stderr, "%s\n", err.text);
    else if (code && !code0) fprintf(stderr, "analyzer: rank %d (%s): %s\n", rank, host, err.text);
    if ((code = agree(code))) goto out;
    /* every rank must have read the same inputs */
    uint64_t fp = sweep_fingerprint(sw), fp0 = fp;
    MPI_Bcast(&fp0, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    if (fp != fp0) {
        fprintf(stderr, "analyzer: rank %d (%s): the sweep, chip or schedules differ from rank 0's: every host "
                        "must see the same files at the same paths\n", rank, host);
        code = EXIT_INPUT;
    }
    if ((code = agree(code))) goto out;

    const char *ls = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    size_t here = ls && atoi(ls) > 0 ? (size_t)atoi(ls) : 1, jobs = cmd_sweep_jobs(o, here);
    shared s = {.o = o, .sw = sw, .n = sweep_n_tasks(sw), .jobs = jobs};
    int ok = !pthread_mutex_init(&s.mu, NULL) && !pthread_cond_init(&s.cv, NULL);
    if (rank == 0) ok = ok && (s.rows = calloc(s.n, sizeof *s.rows));
    else ok = ok && (s.tasks = calloc(jobs, sizeof *s.tasks)) && (s.out = calloc(jobs, sizeof *s.out));
    if (!ok) {
        fprintf(stderr, "analyzer: rank %d: out of memory\n", rank);
        MPI_Abort(MPI_COMM_WORLD, EXIT_IO);
    }
    pthread_t th;
    if (pthread_create(&th, NULL, pool_thread, &s)) {
        fprintf(stderr, "analyzer: rank %d: cannot start a thread\n", rank);
        MPI_Abort(MPI_COMM_WORLD, EXIT_IO);
    }
    if (rank == 0) {
        rc = serve(&s, size, &err);
        pthread_join(th, NULL);
        if (!rc && s.pool_rc) {
            rc = s.pool_rc;
            err = s.pool_err;
        }
        if (rc) {
            fprintf(stderr, "%s\n", err.text);
            code = cmd_exit_for(rc);
        } else {
            code = cmd_sweep_finish(o, sw, s.rows, (size_t)size, jobs, cmd_now() - t0);
        }
    } else {
        relay(&s);
        pthread_join(th, NULL);
    }
    free(s.rows);
    free(s.tasks);
    free(s.out);
    pthread_cond_destroy(&s.cv);
    pthread_mutex_destroy(&s.mu);
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
out:
    if (rank == 0 && (code == EXIT_INPUT || code == EXIT_IO)) outset_remove_made(o->out, made);
    outset_made_free(o->out, made);
    sweep_free(sw);
    MPI_Finalize();
    return code;
}
