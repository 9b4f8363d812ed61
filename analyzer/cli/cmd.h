/* cmd.h -- shared by the analyzer command's subcommands (private to the
** command: not part of libpda; the analysis itself is the library's). Options are parsed once, from one table, in
** main.c; each subcommand reads what it needs. */
#ifndef PDA_CMD_H
#define PDA_CMD_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "outset.h"
#include "sio.h"

/* Exit codes of the contract. */
enum { EXIT_OK = 0, EXIT_LIMIT = 1, EXIT_INPUT = 2, EXIT_BUDGET = 3, EXIT_IO = 4 };

typedef struct cmd_opts {
    const char *chip_path, *sched_path;
    const char *out;            /* -o */
    int json, quiet, strict, no_thermal, waveforms, unit_maps;
    int periodic;               /* --periodic */
    size_t repeat;              /* --repeat N, 0 = one pass */
    double bin_ns;              /* --bin-ns, default 1 */
    double window_ns;           /* --window-ns, default 0 = the command's own */
    double safety_mv;           /* --safety-mv, default 5 */
    size_t grid[2];             /* --grid NX,NY, 0 = the chip's */
    int64_t frame_ns;           /* --frame-ns, 0 = the chip's */
    double power_cap_w, system_power_cap_w, didt_a_per_ns, guardband_mv;  /* retime budgets, 0 = none */
    const char *format;         /* export --format */
    size_t tile_bins;           /* --tile-bins (tests): 0 = default */
    const char *imp_class, *imp_rail;  /* import --class, --rail (default: from the name, "core") */
    int imp_die;                /* import --die, default 0 */
    size_t jobs;                /* sweep --jobs, 0 = the online CPUs (under mpirun: shared by a host's ranks) */
} cmd_opts;

/* 1 when path is one of the command's inputs: the chip, the schedule or a
** rail's impedance table (c may be NULL). Outputs never replace inputs. */
int cmd_is_input(const cmd_opts *o, const sio_chip *c, const char *path);
/* Those inputs' paths into in (room for 2 + c->n_rails); how many. */
size_t cmd_inputs(const cmd_opts *o, const sio_chip *c, const char **in);
/* Maps a loader status to an exit code. */
int cmd_exit_for(int sio_rc);
/* Seconds on the monotonic clock. */
double cmd_now(void);
/* Prints v as JSON (2-space indent, 10 digits) and a newline on stdout,
** whole or not at all: jansson's dump allocates as it goes, so v is
** rendered to memory first. EXIT_OK, or EXIT_IO with a message when out of
** memory (or v is NULL). */
struct json_t;
int cmd_print_json(const struct json_t *v);
/* Loads the chip and the schedule named in o; on error prints it and returns
** the exit code (chip and schedule are then NULL). */
int cmd_load(const cmd_opts *o, sio_chip **chip, sio_schedule **sched);

int cmd_check(const cmd_opts *o);
int cmd_run(const cmd_opts *o);
/* `analyzer run` under mpirun (OMPI_COMM_WORLD_SIZE set): the chips of the
** schedule spread over the ranks (cmd_run_mpi.c). */
int cmd_run_mpi(const cmd_opts *o);
/* Under mpirun (OMPI_COMM_WORLD_SIZE set) but built without Open MPI: says
** so; EXIT_IO. */
int cmd_no_mpi(void);
/* MPI_Init_thread (MPI_THREAD_FUNNELED: only the main thread calls MPI),
** then this process's rank and the number of ranks. -1 when MPI cannot
** start (said: exit EXIT_IO); else EXIT_OK, or EXIT_IO with *err set when
** MPI gives no thread support (MPI is up: the ranks agree, then finalize). */
int cmd_mpi_init(int *rank, int *size, sio_error *err);
/* Shared by the two: the run's options from the command's; the progress
** line (arg: an int, -100 at first); and what follows the run: the thermal
** limit check, the files (-o), the printout, --strict. Returns the exit
** code; EXIT_INPUT or EXIT_IO with *err set when the files failed. */
struct pda_run_opts;
struct pda_result;
void cmd_run_opts(const cmd_opts *o, struct pda_run_opts *po);
void cmd_run_progress(void *arg, double done);
int cmd_run_finish(const cmd_opts *o, const sio_chip *c, const struct pda_result *res, sio_error *err);
int cmd_retime(const cmd_opts *o);
int cmd_export(const cmd_opts *o);
/* `analyzer import --format hotspot FILE.flp`: chip_path is the file. */
int cmd_import(const cmd_opts *o);
/* `analyzer sweep SWEEP.json -o DIR`: chip_path is the sweep file. Under
** mpirun (OMPI_COMM_WORLD_SIZE set) it is cmd_sweep_mpi's. */
int cmd_sweep(const cmd_opts *o);
int cmd_sweep_mpi(const cmd_opts *o);
/* Shared by the two: the threads per process (--jobs, or the online CPUs
** shared by ranks_here processes); the progress line on a terminal; and
** the end: the files written, the summary printed, the exit code. */
struct sweep;
struct sweep_row;
size_t cmd_sweep_jobs(const cmd_opts *o, size_t ranks_here);
void cmd_sweep_progress(const cmd_opts *o, size_t done, size_t total);
int cmd_sweep_finish(const cmd_opts *o, const struct sweep *sw, const struct sweep_row *rows, size_t procs,
                     size_t jobs, double seconds);
#endif
