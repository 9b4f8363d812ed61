/* pda.h -- the library's umbrella header (every public module), and
** everything `analyzer run` computes as one library call (pda_).
**
**   #include <pda/pda.h>                 cc prog.c $(pkg-config --cflags --libs pda)
**
**   pda_run_opts o;
**   pda_run_opts_default(&o);             then set fields
**   pda_result *r;
**   pda_run(chip, schedule, &o, &r, &err);
**   ... pda_result_summary_json(r), pda_result_rail(r, ...), pda_result_events(r, ...)
**   pda_result_write(r, "out", &err);     the files of `analyzer run -o out`
**   pda_result_free(r);
**
** The run: one walk over the timeline (walk.h: current, droop), events
** with their causes, the margin report and the spectrum, the power figures,
** then (when the chip has a stack and opts.thermal) the thermal run: steady
** state of the average power, the transient through every frame, heat maps,
** unit temperatures and hotspots. The result owns every figure; the chip and
** the schedule are borrowed and must outlive it. Nothing is printed.
**
** Per-bin waveforms are kept only when asked (keep_rails, unit_maps): they
** wait in unlinked temporary files in spool_dir, so memory stays that of one
** tile whatever the timeline's length.
**
** Arguments: every pointer is required (err and the counts n included)
** unless a function says it may be NULL. Threads: runs may go at once on a
** shared chip and schedule, and a result's accessors may be called from
** several threads at once. */
#ifndef PDA_PDA_H
#define PDA_PDA_H
#include <stddef.h>
#include <stdint.h>

#include "budget.h"
#include "current.h"
#include "events.h"
#include "margin.h"
#include "pdn.h"
#include "sio.h"
#include "thermal.h"
#include "thermal_hotspot.h"
#include "thermal_png.h"
#include "thermal_run.h"
#include "walk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* pda_run and pda_result_* return the codes of pda_status.h. */

typedef struct pda_run_opts {
    double bin_ns;             /* bin width, default 1 */
    double window_ns;          /* the peak-power window, default 100 */
    double safety_mv;          /* added to the worst droop for the needed guardband, default 5 */
    size_t grid[2];            /* thermal grid, {0, 0}: the chip's */
    int64_t frame_ns;          /* thermal frame, 0: the chip's */
    int thermal;               /* 1 (default): the thermal run when the chip has a stack */
    int report;                /* 1 (default): keep the waveforms' outline for report.html (pda_result_write
                               ** needs it; 0 saves a pass over the bins when no files are wanted) */
    int keep_rails;            /* 1: keep each rail's current and droop per bin (pda_result_rail, rails.csv) */
    int unit_maps;             /* 1: keep each unit's current per bin (units.npy) */
    const char *spool_dir;     /* where kept waveforms wait; NULL: $TMPDIR, else /tmp */
    size_t events_cap;         /* events kept with their causes, default 10000 */
    size_t tile_bins;          /* 0 (default): the walk's own choice; any value gives the same numbers to
                               ** round-off (~1e-13 relative: the PDN's blocks fall elsewhere) */
    size_t split_min_ops;      /* tuning (0: defaults): see current_iter_opts */
    size_t events_index_two_min;   /* tuning (0: default): see events_set_index_two_min */
    /* called after each tile with the fraction of the timeline done */
    void (*progress)(void *arg, double done);
    void *progress_arg;
    /* The thermal transient (docs/outputs-thermal.md): 1: the periodic steady
    ** state of the schedule repeated back to back; else thermal_repeat passes
    ** (0 and 1: one) from the steady state of the average power, the last one
    ** reported. Not both. */
    int thermal_periodic;
    size_t thermal_repeat;
    /* > 0: a power budget per chip (W), checked against each chip's peak
    ** power over window_ns (summary power.cap_w, .chip_peak_window_w,
    ** .cap_broken) and drawn in the report; 0 (default): none */
    double power_cap_w;
    /* ---- one share of a system's chips, run in one process of several
    ** (`analyzer run` under mpirun; pda_result_pack, pda_result_merge) ---- */
    int64_t timeline_cyc;      /* 0: the schedule's makespan; else the timeline's length (cycles) when it is
                               ** longer: the system's makespan, so that every share walks the same bins */
    size_t system_chips;       /* 0: the schedule's chips; else the system's: tiles are sized for them (every
                               ** share walks the tiles of the whole) and the idle power counts them */
    /* NULL: the power figures are those of the schedule's chips. Else called
    ** after each piece of the walk, in time order, with the power of the
    ** schedule's chips per bin in fixed point (PDA_POWER_FX units a watt; p
    ** holds nb values, or is NULL for a constant run of p_const); it hands
    ** the whole system's power over the same bins to sink(sink_arg, ...), in
    ** pieces, in order (a process whose figures are not kept may hand none).
    ** Non-zero stops the run (PDA_EIO). */
    int (*power_combine)(void *arg, size_t b0, size_t nb, const int64_t *p, int64_t p_const,
                         void (*sink)(void *sink_arg, size_t b0, size_t nb, const int64_t *p, int64_t p_const),
                         void *sink_arg);
    void *power_arg;
    /* NULL: the thermal run plans its frames (which it evaluates, which it
    ** jumps) from the schedule's instructions. Else it is called once, with
    ** the frames the schedule's instructions overlap as n runs [iv[2k],
    ** iv[2k+1]), sorted and apart, and sets *out (malloc'd; the library
    ** frees it) and *n_out to the runs of the whole system (any order,
    ** overlapping or not), so that every share plans the same frames.
    ** Non-zero stops the run (PDA_EIO). */
    int (*frames_combine)(void *arg, const uint64_t *iv, size_t n, uint64_t **out, size_t *n_out);
    void *frames_arg;
} pda_run_opts;

/* The system's power is summed per bin in fixed point: each chip's power
** (the sum of its rails' in watts) truncated to a multiple of 1/PDA_POWER_FX
** W (2^-32 W, below 10^-9 W), then added exactly, so the figures do not
** depend on the order in which chips are added, nor on where they ran. */
#define PDA_POWER_FX 4294967296.0

void pda_run_opts_default(pda_run_opts *o);

typedef struct pda_result pda_result;

/* Runs the whole analysis. Returns PDA_OK and sets *out, or an error code
** with *err set and *out = NULL. Options out of range are PDA_EINPUT with
** the field named: bin_ns in [0.001, 1e6], window_ns in (0, 1e15],
** safety_mv >= 0, grid 0 (the chip's) or 2..4096 each, frame_ns >= 0,
** events_cap >= 1 (each finite). */
int pda_run(const sio_chip *c, const sio_schedule *s, const pda_run_opts *o, pda_result **out, sio_error *err);

/* Writes the files of `analyzer run -o dir` (docs/outputs.md): made whole
** or not at all (each to a temporary file, all renamed at the end), never
** over one of the run's inputs; dir and its parents are made as needed. */
int pda_result_write(const pda_result *r, const char *dir, sio_error *err);
/* Before pda_run: the checks pda_result_write will make of the files a run
** of c and s under o writes into dir (none replaces an input, none is a
** link, a folder or a special file), on dir as it is now, so that a bad
** output folder fails before the work. PDA_OK, PDA_EINPUT (*err names the
** file) or PDA_ENOMEM. */
int pda_result_write_check(const sio_chip *c, const sio_schedule *s, const pda_run_opts *o, const char *dir,
                           sio_error *err);
/* The text of summary.json (owned by the result). */
const char *pda_result_summary_json(const pda_result *r);
void pda_result_free(pda_result *r);   /* NULL is a no-op */

/* ---- a system's chips across processes --------------------------------
** `analyzer run` under mpirun: each process loads its share of the chips
** (sio_load_opts.chip_step), runs it with pda_run_opts.timeline_cyc,
** system_chips and power_combine (the system's power summed across the
** processes during the walk), packs the result, and one process merges the
** packs into the system's result, which pda_result_write writes. */

/* A share's figures as bytes for the merge: the schedule's counts, each
** chip's rail statistics, margin rows, spectra, idle power, cap window,
** report part (with opts.report) and thermal run, the kept events with
** their instructions' ids, ops and lines. *buf is malloc'd, the caller's to
** free. The same build reads it (raw structs). PDA_EINPUT for a thermal run
** planned without frames_combine (its frames would be the share's own). */
int pda_result_pack(const pda_result *r, void **buf, size_t *len, sio_error *err);
/* The kept rails (keep_rails) of the tile that starts at bin b0, a multiple
** of pda_result_tile_bins: each chip's rail in turn, [chip][rail], its nb
** currents (A) then its nb droops (V), nb = min(tile bins, n_bins - b0),
** into buf (2 * chips * rails * tile bins doubles). PDA_EINPUT without kept
** rails or for b0 out of range, PDA_EIO when the spool cannot be read. */
int pda_result_rails_tile(const pda_result *r, size_t b0, double *buf, sio_error *err);
size_t pda_result_tile_bins(const pda_result *r);
/* Fills a share's rails tile for pda_result_merge: the tile at b0 of part
** (the index of its pack) as pda_result_rails_tile gives it. 0, or non-zero
** to fail the merge (PDA_EIO). */
typedef int (*pda_rails_tile_fn)(void *arg, size_t part, size_t b0, double *buf);
/* The unit maps (unit_maps) of local chip `chip`: n floats from offset off
** of its [unit][bin] block (A, float32, as units.npy holds them) into buf.
** PDA_EINPUT without unit maps or out of range, PDA_EIO when the spool
** cannot be read. */
int pda_result_units_chunk(const pda_result *r, size_t chip, size_t off, size_t n, float *buf, sio_error *err);
/* Fills a share's unit maps for pda_result_merge: part (the index of its
** pack), its local chip, as pda_result_units_chunk gives them. The merge
** asks chip by chip in the system's order, each chip's [unit][bin] block in
** chunks of PDA_UNITS_CHUNK floats (the last one shorter), in order. 0, or
** non-zero to fail the merge (PDA_EIO). */
#define PDA_UNITS_CHUNK ((size_t)1 << 20)
typedef int (*pda_units_chunk_fn)(void *arg, size_t part, size_t chip, size_t off, size_t n, float *buf);
/* The system's result from its shares' packs (n, in any order, holding each
** chip once): the figures and files of the run of the whole schedule in one
** process, with the power figures given (those of the
** share whose power_combine handed it the system's power, and its
** pda_result_power_sum_w_ns). The thermal run is the system's when every
** share ran it (with frames_combine). The kept events are the events_cap most severe of each
** kind over all shares (ties at the cut by chip, rail, start). c outlives
** the result. With o->keep_rails the system's rails are kept too, read
** tile by tile, share by share, through rails_tile (every share kept them),
** and with o->unit_maps the unit maps through units_chunk.
** PDA_EINPUT when the packs do not fit together. */
struct pda_power;
int pda_result_merge(const sio_chip *c, const char *schedule_path, const pda_run_opts *o,
                     const struct pda_power *power, double power_sum_w_ns, void *const *packs,
                     const size_t *lens, size_t n,
                     pda_rails_tile_fn rails_tile, void *rails_arg, pda_units_chunk_fn units_chunk,
                     void *units_arg, pda_result **out, sio_error *err);

/* ---- what a program reads in memory ----------------------------------- */

/* The sum over the timeline's bins of the power (W) times bin_ns: the
** energy (in W ns) with the chips' idle power past the makespan, to the end
** of the last bin; a share's, the system's it was handed (power_combine). */
double pda_result_power_sum_w_ns(const pda_result *r);

size_t pda_result_n_chips(const pda_result *r);
size_t pda_result_n_bins(const pda_result *r);
double pda_result_bin_ns(const pda_result *r);
/* Rail current (A, each bin's average) and droop (mV, at each bin's end) of
** one chip's rail, n_bins values each (either pointer may be NULL). Needs
** keep_rails; PDA_EINPUT otherwise or for a chip/rail out of range. */
int pda_result_rail(const pda_result *r, size_t chip, size_t rail, double *current_a, double *droop_mv,
                    sio_error *err);
/* Running statistics of one chip's rail (peak, mean, worst dI/dt and droop,
** event counts); NULL out of range. */
const events_rail_stats *pda_result_rail_stats(const pda_result *r, size_t chip, size_t rail);
/* The kept events (sorted by chip, rail, start), each with its causes. */
const events_event *pda_result_events(const pda_result *r, size_t *n);
/* The margin rows, [chip][rail]. */
const margin_rail *pda_result_margin(const pda_result *r, size_t *n);

/* Power of the whole system: the peak bin (W) and its time, the peak
** average over the window, the energy (J). */
typedef struct pda_power {
    double peak_w, t_peak_ns, peak_window_w, window_ns, energy_j, avg_w;
} pda_power;
const pda_power *pda_result_power(const pda_result *r);

/* Thermal results (all NULL / 0 when the thermal run did not happen). */
int pda_result_has_thermal(const pda_result *r);
/* The thermal run's wall time (s): for a console, never in an output file. */
double pda_result_thermal_seconds(const pda_result *r);
/* Heat map of die index d (into chip->dies) of one chip, [y][x] row-major,
** deg C: the steady state of the average power (peak = 0) or the hottest
** each cell gets over the run (peak = 1). NULL, *nx = *ny = 0, without a
** thermal run or for a chip or die out of range. */
const double *pda_result_heat(const pda_result *r, size_t chip, size_t die, int peak, size_t *nx, size_t *ny);
typedef struct pda_unit_temp {
    size_t chip, unit;
    double steady_mean_c, steady_max_c, run_mean_c, run_max_c, t_run_max_ns;
} pda_unit_temp;
/* [chip][unit] */
const pda_unit_temp *pda_result_unit_temps(const pda_result *r, size_t *n);
typedef struct pda_hotspot {
    size_t id, chip, die;      /* die: index into chip->dies */
    double peak_c, t_peak_ns, centroid_x_mm, centroid_y_mm, area_mm2;
    const char *units;         /* "unit:share;..." the units under it by power share, as hotspots.csv */
    int stacked;
    const char *stacked_with;  /* ids, ';'-separated */
    double t_first_ns, t_last_ns, peak_x_mm, peak_y_mm;
} pda_hotspot;
const pda_hotspot *pda_result_hotspots(const pda_result *r, size_t *n);

#ifdef __cplusplus
}
#endif
#endif
