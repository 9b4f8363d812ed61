/* sweep.h -- design sweeps (sweep_): one chip description, some values of
** it varied, every point run on every schedule through pda_run (and, when
** the sweep file gives a budget, re-timed to it through budget_retime).
**
**   sweep *sw;
**   sweep_load("sweep.json", &sw, &err);        the file, the chip, the schedules
**   sweep_row *rows = calloc(sweep_n_tasks(sw), sizeof *rows);
**   sweep_run(sw, jobs, rows, NULL, NULL, &err); every task, on jobs threads
**   sweep_write(sw, rows, "out", &err);         out/sweep.csv, sweep.json, sweep.html
**   sweep_free(sw);
**
** The sweep file (`pda-sweep/1`, docs/sweeps.md) names a chip, schedules,
** and lists of numbers for values of the chip addressed by paths such as
** `rails[core].pdn.stages[die].c_f`. A point is one choice of a value per
** path (`grid`: every combination, the first path slowest; `zip`: the
** lists side by side). A task is one point on one schedule: t = point *
** n_schedules + schedule, the order of the rows.
**
** Each point's chip is the chip file's text with the varied values written
** in place of the old ones (same lines), read by sio_chip_from_buffer under
** the chip file's name: its checks and messages are those of a file with
** those values. The chip and the schedules are read once; a schedule's
** checks use only the chip's names, which no point changes (values are
** numbers), so each schedule serves every point.
**
** Tasks are independent: sweep_task may run on any thread or process that
** loaded the same sweep, and gives the same row, bit for bit. The rows are
** plain bytes (no pointers): a process may send them to another running the
** same binary. */
#ifndef PDA_SWEEP_H
#define PDA_SWEEP_H
#include <stddef.h>
#include <stdint.h>

#include "pda.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Limits checked by sweep_row.broken. */
enum { SWEEP_BROKE_DROOP = 1, SWEEP_BROKE_DIDT = 2, SWEEP_BROKE_THERMAL = 4,
       SWEEP_BROKE_RUNAWAY = 8 /* leakage with no steady fixed point on some chip (libpda.so.5) */ };

/* sweep_row.retime: the outcome of re-timing a run's schedule to the sweep's
** budget (the sweep file's "retime"; budget_retime on the point's chip). */
enum {
    SWEEP_RETIME_NONE = 0,     /* no budget in the sweep, or the run failed */
    SWEEP_RETIME_MET = 1,      /* met: slowdown and gap set */
    SWEEP_RETIME_NOT_MET = 2,  /* the search ended over the budget (no proof that it cannot be met) */
    SWEEP_RETIME_CANNOT = 3,   /* it cannot be met: the proof in retime_why */
    SWEEP_RETIME_FAILED = 4    /* the re-timing refused the point's chip (retime_why) */
};

/* One task's figures: ok = 1 with the numbers, or ok = 0 with the reason
** in status (the point made the chip invalid, or its run failed on it). */
typedef struct sweep_row {
    int32_t ok;
    int32_t has_thermal;        /* max_c, hotspots are set */
    int32_t has_leakage;        /* leakage_w is set (the summary has thermal.leakage.total_w) */
    int32_t broken;             /* SWEEP_BROKE_* */
    double peak_w, peak_window_w, energy_j;
    double max_droop_mv;        /* worst over the chips and rails */
    double needed_guardband_mv; /* worst over the chips and rails */
    double saving_w;            /* of the worst rail: the one with the least headroom */
    double max_c;
    double leakage_w;
    int64_t hotspots;
    uint64_t worst_chip, worst_rail;
    char status[1024];          /* "ok" or the error */
    /* with a budget in the sweep file (libpda.so.5) */
    int32_t retime;             /* SWEEP_RETIME_* */
    int32_t retime_pad;         /* 0 */
    double slowdown, gap;       /* SWEEP_RETIME_MET: the re-timed makespan over the original's, and over
                                ** the lower bound, less 1 (budget_report) */
    char retime_why[1024];      /* NOT_MET, CANNOT, FAILED: budget_retime's message */
} sweep_row;

typedef struct sweep sweep;

/* Reads the sweep file, its chip and schedules. Errors of the sweep file
** are SIO_EINPUT at its file:line:col; those of the chip or a schedule are
** their reader's. */
int sweep_load(const char *path, sweep **out, sio_error *err);
void sweep_free(sweep *sw);   /* NULL is a no-op */

size_t sweep_n_points(const sweep *sw);
size_t sweep_n_schedules(const sweep *sw);
size_t sweep_n_tasks(const sweep *sw);
/* Schedule s as the sweep file names it; NULL for s >= sweep_n_schedules. */
const char *sweep_schedule_name(const sweep *sw, size_t s);
/* The input files (the sweep file, the chip, its impedance tables, the
** schedules), for outputs that must not replace them: n set, owned by sw. */
const char *const *sweep_inputs(const sweep *sw, size_t *n);
/* 64 bits that differ, as near as can be, when two processes did not read
** the same inputs (their bytes, the schedules' sizes). */
uint64_t sweep_fingerprint(const sweep *sw);

/* Runs task t. PDA_OK with *row filled (ok or not); another code, *err
** set, when the run could not be made (out of memory, I/O): the whole
** sweep then fails. Thread-safe: tasks may run at once. */
int sweep_task(const sweep *sw, size_t t, sweep_row *row, sio_error *err);

/* Runs tasks on jobs threads (>= 1): each thread asks next for a task
** (0 with *t set, or nonzero: no more), runs it and hands the row to done
** (which may stop the pool by returning nonzero). next and done are called
** from the pool's threads at once and lock what they share. Returns the
** first error of sweep_task (*err set), else PDA_OK. */
int sweep_pool(const sweep *sw, size_t jobs, int (*next)(void *arg, size_t *t),
               int (*done)(void *arg, size_t t, const sweep_row *row), void *arg, sio_error *err);
/* sweep_pool over every task, rows[t] for task t; progress (may be NULL)
** is told each time a task is done, one call at a time. */
int sweep_run(const sweep *sw, size_t jobs, sweep_row *rows, void (*progress)(void *arg, size_t done, size_t total),
              void *arg, sio_error *err);

/* Writes dir/sweep.csv, sweep.json and sweep.html as one output set
** (outset.h: all or none, nothing of the user's replaced, never over an
** input); dir is made as needed. */
int sweep_write(const sweep *sw, const sweep_row *rows, const char *dir, sio_error *err);
/* Before the runs: sweep_write's checks of the files it would write into
** dir (none replaces an input, none is a link, a folder or a special file),
** so that a bad -o fails before the work. SIO_OK or SIO_EINPUT. */
int sweep_write_check(const sweep *sw, const char *dir, sio_error *err);

/* How many rows failed or broke a limit (for --strict). */
size_t sweep_n_failed(const sweep *sw, const sweep_row *rows);
size_t sweep_n_broken(const sweep *sw, const sweep_row *rows);
/* How many rows have re-timing outcome `retime` (SWEEP_RETIME_*). */
size_t sweep_n_retimed(const sweep *sw, const sweep_row *rows, int retime);
/* 1 when the sweep file asks for a retime budget. */
int sweep_has_budget(const sweep *sw);

#ifdef __cplusplus
}
#endif
#endif
