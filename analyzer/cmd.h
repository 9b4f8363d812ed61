/* cmd.h -- shared by the analyzer command's subcommands (private to the
** command: not part of libpda). Options are parsed once, from one table, in
** main.c; each subcommand reads what it needs. */
#ifndef PDA_CMD_H
#define PDA_CMD_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "sio.h"

/* Exit codes of the contract. */
enum { EXIT_OK = 0, EXIT_LIMIT = 1, EXIT_INPUT = 2, EXIT_BUDGET = 3, EXIT_IO = 4 };

typedef struct cmd_opts {
    const char *chip_path, *sched_path;
    const char *out;            /* -o */
    int json, quiet, strict, no_thermal, waveforms, unit_maps;
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
} cmd_opts;

/* 1 when path is one of the command's inputs: the chip, the schedule or a
** rail's impedance table (c may be NULL). Outputs never replace inputs. */
int cmd_is_input(const cmd_opts *o, const sio_chip *c, const char *path);
/* mkdir -p: makes the folder path and any missing parents; 0, or -1 with
** errno set (ENOTDIR when path exists and is not a folder). */
int cmd_mkdirs(const char *path);
/* The `schedule` object of the summaries (check --json and run): the
** contract's keys plus per-class busy shares and dep counts; mk_cyc is the
** schedule's makespan (sio_schedule_makespan_cyc, which the caller has).
** NULL when out of memory. */
json_t *cmd_schedule_json(const sio_chip *c, const sio_schedule *s, int64_t mk_cyc);
/* Maps a loader status to an exit code. */
int cmd_exit_for(int sio_rc);
/* Seconds on the monotonic clock. */
double cmd_now(void);
/* Loads the chip and the schedule named in o; on error prints it and returns
** the exit code (chip and schedule are then NULL). */
int cmd_load(const cmd_opts *o, sio_chip **chip, sio_schedule **sched);

/* The output files of one `run`, committed together at the end (or all
** aborted): dir is the -o folder. */
typedef struct run_outputs {
    const char *dir;
    sio_out **o;
    size_t n, cap;
    char **names;               /* as given to run_outputs_add */
    const struct cmd_opts *inputs;  /* when set, outputs may not be any of its inputs */
    const sio_chip *chip;           /* ... nor the chip's impedance tables */
} run_outputs;
/* Opens dir/name as a pending output. */
int run_outputs_add(run_outputs *ro, const char *name, sio_out **out, sio_error *err);
/* Commits every pending output (ok != 0) or aborts them all; frees the list.
** Returns the first commit error (the rest are then aborted). */
int run_outputs_finish(run_outputs *ro, int ok, sio_error *err);
/* The bytes written so far to pending output k (malloc'd, *len set), or NULL. */
unsigned char *run_outputs_read(run_outputs *ro, size_t k, size_t *len);
/* Makes the folder dir/sub (existing is fine). */
int run_outputs_mkdir(run_outputs *ro, const char *sub, sio_error *err);

int cmd_check(const cmd_opts *o);
int cmd_run(const cmd_opts *o);
int cmd_retime(const cmd_opts *o);
int cmd_export(const cmd_opts *o);
/* `analyzer import --format hotspot FILE.flp`: chip_path is the file. */
int cmd_import(const cmd_opts *o);
/* The thermal part of `run` (cmd_thermal.c): computes everything and adds
** the "thermal" object to summary; writes its files through ro (NULL: no
** files). Returns 0, EXIT_LIMIT (--strict and a cell above limit_c; all
** else done), or another exit code with err set. */
int cmd_thermal(const cmd_opts *o, const sio_chip *c, const sio_schedule *s, json_t *summary, run_outputs *ro,
                sio_error *err);

#endif
