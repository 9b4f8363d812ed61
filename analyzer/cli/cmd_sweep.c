/* cmd_sweep.c -- `analyzer sweep SWEEP.json -o DIR`: every point of a design
** sweep (sweep.h), on --jobs threads of this process; under mpirun across
** the ranks too (cmd_sweep_mpi.c). The rows, and so the files, do not depend
** on either. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "outset.h"
#include "sweep.h"

size_t cmd_sweep_jobs(const cmd_opts *o, size_t ranks_here)
{
    if (o->jobs) return o->jobs;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    size_t cpus = n > 0 ? (size_t)n : 1, j = cpus / (ranks_here ? ranks_here : 1);
    return j ? j : 1;
}

void cmd_sweep_progress(const cmd_opts *o, size_t done, size_t total)
{
    if (o->quiet || !isatty(2)) return;
    fprintf(stderr, "\ranalyzer: sweep %zu of %zu runs", done, total);
    if (done == total) fputc('\n', stderr);
}

int cmd_sweep_finish(const cmd_opts *o, const sweep *sw, const sweep_row *rows, size_t procs, size_t jobs,
                     double seconds)
{
    sio_error err;
    int rc = sweep_write(sw, rows, o->out, &err);
    if (rc) {
        fprintf(stderr, "%s\n", err.text);
        return cmd_exit_for(rc);
    }
    size_t nt = sweep_n_tasks(sw), failed = sweep_n_failed(sw, rows), broken = sweep_n_broken(sw, rows);
    char rt[160] = "";
    if (sweep_has_budget(sw))
        snprintf(rt, sizeof rt, "; re-timed: %zu met, %zu not met, %zu cannot, %zu failed",
                 sweep_n_retimed(sw, rows, SWEEP_RETIME_MET), sweep_n_retimed(sw, rows, SWEEP_RETIME_NOT_MET),
                 sweep_n_retimed(sw, rows, SWEEP_RETIME_CANNOT), sweep_n_retimed(sw, rows, SWEEP_RETIME_FAILED));
    if (!o->quiet)
        printf("sweep: %zu point%s x %zu schedule%s = %zu runs: %zu ok, %zu failed, %zu broke a limit%s; "
               "%zu process%s x %zu worker%s, %.2f s; %s/sweep.csv\n",
               sweep_n_points(sw), sweep_n_points(sw) == 1 ? "" : "s", sweep_n_schedules(sw),
               sweep_n_schedules(sw) == 1 ? "" : "s", nt, nt - failed, failed, broken, rt, procs,
               procs == 1 ? "" : "es", jobs, jobs == 1 ? "" : "s", seconds, o->out);
    size_t shown = 0;
    for (size_t t = 0; t < nt && !o->quiet; t++) {
        if (rows[t].ok) continue;
        if (shown++ == 10) {
            fprintf(stderr, "analyzer: ... %zu more failed runs in sweep.csv\n", failed - 10);
            break;
        }
        fprintf(stderr, "analyzer: point %zu on %s: %s\n", t / sweep_n_schedules(sw),
                sweep_schedule_name(sw, t % sweep_n_schedules(sw)), rows[t].status);
    }
    return o->strict && (failed || broken) ? EXIT_LIMIT : EXIT_OK;
}

static void progress(void *arg, size_t done, size_t total)
{
    cmd_sweep_progress(arg, done, total);
}

#ifndef PDA_WITH_MPI
int cmd_sweep_mpi(const cmd_opts *o) { (void)o; return cmd_no_mpi(); }
#endif

int cmd_sweep(const cmd_opts *o)
{
    if (!o->out) {
        fprintf(stderr, "analyzer: sweep needs -o DIR (see analyzer --help)\n");
        return EXIT_INPUT;
    }
    if (getenv("OMPI_COMM_WORLD_SIZE")) return cmd_sweep_mpi(o);
    double t0 = cmd_now();
    sio_error err;
    sweep *sw;
    int rc = sweep_load(o->chip_path, &sw, &err);
    if (rc) {
        fprintf(stderr, "%s\n", err.text);
        return cmd_exit_for(rc);
    }
    /* the output folder first: a bad -o fails before the work; made here, it
    ** goes again if the sweep fails */
    char *made = outset_missing_top(o->out);
    if ((rc = sweep_write_check(sw, o->out, &err)) || (rc = outset_mkdirs(o->out, &err))) {
        fprintf(stderr, "%s\n", err.text);
        outset_remove_made(o->out, made);
        outset_made_free(o->out, made);
        sweep_free(sw);
        return cmd_exit_for(rc);
    }
    size_t jobs = cmd_sweep_jobs(o, 1), nt = sweep_n_tasks(sw);
    if (jobs > nt) jobs = nt;
    sweep_row *rows = calloc(nt, sizeof *rows);
    int code;
    if (!rows) {
        fprintf(stderr, "analyzer: out of memory\n");
        outset_remove_made(o->out, made);
        outset_made_free(o->out, made);
        sweep_free(sw);
        return EXIT_IO;
    }
    if ((rc = sweep_run(sw, jobs, rows, progress, (void *)o, &err))) {
        fprintf(stderr, "%s\n", err.text);
        code = cmd_exit_for(rc);
    } else {
        code = cmd_sweep_finish(o, sw, rows, 1, jobs, cmd_now() - t0);
    }
    if (code == EXIT_INPUT || code == EXIT_IO) outset_remove_made(o->out, made);
    outset_made_free(o->out, made);
    free(rows);
    sweep_free(sw);
    return code;
}
