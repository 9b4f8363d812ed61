/* pipeline_int.h -- the result of pda_run, shared by the pipeline's files
** (pipeline.c: the walk and the summary; pipeline_thermal.c: the thermal
** run; pipeline_write.c: the files). Not installed. */
#ifndef PDA_PIPELINE_INT_H
#define PDA_PIPELINE_INT_H
#include <stdio.h>

#include <jansson.h>

#include "pda.h"
#include "pipeline_cache.h"
#include "report.h"

/* What the thermal run keeps: per chip and die the steady and peak maps
** (with the colour range of their PNGs), per frame each die's maximum,
** per chip and unit the temperatures, and the hotspots. */
typedef struct pda_thermal {
    size_t nx, ny, nd, nf;
    size_t nch;                /* chips (at least 1) */
    double frame_ns;
    double compute_s;          /* wall time of the thermal run (never written into an output) */
    double *steady, *peak;     /* [chip][die][cell] */
    double *png_lo, *png_hi;   /* [chip][die] */
    double *fmax;              /* [chip][die][frame evaluated] */
    size_t nfe;                /* frames evaluated: every frame, but in long idle stretches */
    size_t *fidx, *jump;       /* [frame evaluated]: its frame, and the frames since the one before */
    pda_unit_temp *ut;         /* [chip][unit] */
    size_t n_ut;
    pda_hotspot *hot;
    size_t n_hot;
    char **strings;            /* the hotspots' text fields, to free */
    size_t n_strings;
    /* per chip: the hottest any of its dies got (C), 1 when one passed
    ** limit_c, its stacked hotspots, the periodic fixed point's iterations,
    ** the leakage energy of its frames (J) */
    double *chip_max_c, *chip_leak_j;
    size_t *chip_stacked, *chip_iters;
    unsigned char *chip_over;
    json_t *dies;              /* the summary's thermal.dies, chip by chip */
    struct chip_pending *pending;   /* [chip], while shares are merged (pda_thermal_unpack) */
} pda_thermal;

struct pda_result {
    const sio_chip *c;
    const sio_schedule *s;
    pda_run_opts o;
    size_t nch, nr, nbins, tb;
    size_t tail_bins;          /* the walk's tail past the timeline (walk_tail_bins) */
    int64_t mk_cyc;
    events_detector *ev;
    margin_spectrum *sp;
    report *rep;
    margin_rail *mr;           /* [chip][rail] */
    pda_power power;
    json_t *summary;
    char *summary_text;
    FILE *rails;               /* spool: per tile, per chip and rail, nb currents then nb droops (doubles) */
    FILE *units;               /* spool: units.npy's body, float32 [chip][unit][bin] */
    pda_thermal *th;           /* NULL without the thermal run */
    int skip;                  /* constant stretches skipped (pda_run_walk) */
    pda_cache *pc;             /* PDN models and thermal plans kept across runs (pda_run_walk), or NULL */
    /* a system merged from shares (pipeline_merge.c): s is this schedule,
    ** owned, which holds the path, the counts and only the ids of the
    ** events' instructions */
    sio_schedule *own_s;
    int power_failed;          /* opts.power_combine said no */
    struct pda_leak *leak;     /* leakage at the steady fixed point (pipeline_thermal.c), NULL without */
    current_window *cw_chip;   /* with opts.power_cap_w: each chip's power windows during the walk */
    double *chip_peak_window_w;   /* with opts.power_cap_w: each chip's peak power over the window */
    /* a system merged from shares: each chip's power breakdown as
    ** pda_bd_chip gave it on its share, [chip][classes + groups][frame];
    ** NULL: computed from the schedule when the report is written */
    double *bd_chip;
    double *chip_idle_w;       /* [chip]: idle power, leakage included (W) */
    double power_sum_w_ns;     /* pda_result_power_sum_w_ns */
};

/* pda_run, with skip = 0 walking every bin and every thermal frame of the
** timeline instead of skipping constant stretches (docs/architecture.md):
** the reference the tests compare pda_run with; and with pc the rails' PDN
** models and the thermal plans taken from that cache (pipeline_cache.h) and
** handed back to it: a sweep's runs share them. pc NULL: made and freed. */
int pda_run_walk(const sio_chip *c, const sio_schedule *s, const pda_run_opts *o, int skip, pda_cache *pc,
                 pda_result **out, sio_error *err);

/* The thermal run into r->th, its summary object added to r->summary.
** Returns PDA_OK or an error code with err set. */
int pda_thermal_run(pda_result *r, sio_error *err);
void pda_thermal_free(pda_thermal *t);

/* The summary's thermal object, from r->th (and r->leak). NULL when out
** of memory. */
json_t *pda_thermal_json(const pda_result *r);
/* A share's thermal run into a pack (the share's chips are chip_lo +
** k * chip_step of the system), and the packs into the system's r->th and
** r->leak: pda_thermal_unpack for each pack, then pda_thermal_unpack_end
** (which numbers the hotspots across the chips). 0, or -1 when a write
** failed, out of memory, or the pack does not fit. */
int pda_thermal_pack(const pda_result *r, FILE *f, size_t chip_lo, size_t chip_step);
int pda_thermal_unpack(pda_result *r, FILE *f, size_t n_chips, size_t chip_lo, size_t chip_step);
int pda_thermal_unpack_end(pda_result *r);

/* The summary's thermal.leakage.total_w (the steady fixed point's leakage,
** summed over the chips) and runaway (a chip has no fixed point), exact: 1,
** or 0 when the run has no leakage figures (no unit leaks, or no thermal run). */
int pda_leak_figures(const pda_result *r, double *total_w, int *runaway);

/* Before the walk: when units leak, the steady fixed point of temperature
** and leakage of every chip (r->leak; NULL when no unit leaks). */
int pda_leak_prepare(pda_result *r, sio_error *err);
/* [chip][unit]: each unit's leakage current at its steady temperature (A),
** the walk's extra idle current; NULL for l NULL. */
const double *pda_leak_current_a(const struct pda_leak *l);
void pda_leak_free(struct pda_leak *l);   /* NULL is a no-op */

/* The `schedule` object of the summaries (`check --json` and `run`): the
** contract's keys plus per-class busy shares and dep counts; mk_cyc is the
** schedule's makespan. NULL when out of memory. */
json_t *pda_schedule_json(const sio_chip *c, const sio_schedule *s, int64_t mk_cyc);

/* What the summary's schedule object counts (pda_schedule_json): ops and
** chips, per class the cycles busy and the ops, which units are used
** (used[unit]), deps by kind. Adding two shares' counts gives their
** system's (pipeline_merge.c). */
typedef struct pda_sched_counts {
    size_t ops, chips, deps[3];
    double *busy;              /* [class], cycles */
    size_t *ops_of;            /* [class] */
    unsigned char *used;       /* [unit] */
} pda_sched_counts;
int pda_sched_counts_of(const sio_chip *c, const sio_schedule *s, pda_sched_counts *k);   /* -1: out of memory */
void pda_sched_counts_free(pda_sched_counts *k);
json_t *pda_schedule_json_of(const sio_chip *c, const pda_sched_counts *k, int64_t mk_cyc);
/* An unlinked temporary file in dir (NULL: $TMPDIR, else /tmp) for kept
** waveforms; NULL with err set when it cannot be made. */
FILE *pda_spool_open(const char *dir, sio_error *err);
/* Reads bytes at offset at of a spool written whole and flushed (the run
** and the merge flush theirs when done): by pread, which leaves the file's
** position alone, so that a result's accessors may read from several
** threads at once. 0, or -1 with errno set (EIO for a short read). */
int pda_spool_read(FILE *f, off_t at, void *buf, size_t bytes);
/* The summary's power object and rails array (NULL when out of memory). */
json_t *pda_power_json(const pda_result *r);
json_t *pda_rails_json(const pda_result *r);

/* The report's waveforms (report_create_opts) with each rail's limits,
** dI/dt window and idle current idle[rail] (A). Nonzero when out of
** memory. */
int pda_report_open(pda_result *r, const double *idle);

/* ---- the report's power breakdowns (pipeline_write.c) ---- */

/* The unit groups: a unit's name with each '.'-separated field stripped of
** its trailing digits, empty fields dropped (MEM.W0..MEM.W43 are MEM.W,
** ICU.0..ICU.9 are ICU, SRAM.C0.R0..SRAM.C11.R7 are SRAM.C.R), in
** first-seen order: *ng names (each malloc'd, in a malloc'd array of
** n_units + 1) and each unit's group (*grp). -1 when out of memory. */
int pda_bd_groups(const sio_chip *c, char ***names, size_t **grp, size_t *ng);
/* The breakdown's frames over the makespan (whole ns, about 400): their
** count, and their length in *dt; 0 for an empty run. */
size_t pda_bd_frames(const pda_result *r, double *dt);
/* The schedule's instructions by chip (a counting sort): chip ch's are
** (*ops)[(*off)[ch] .. (*off)[ch + 1]), in file order; both malloc'd. -1
** when out of memory. */
int pda_chip_ops(const sio_schedule *s, size_t nch, size_t **off, uint32_t **ops);
/* Chip ch's power (W) per frame, from each unit's energy per frame
** (thermal_run_frame_energy over the chip's n_ops instructions ops) plus
** its leakage: per class, then per group, out[(classes + ng) * frames]. -1
** when out of memory. */
int pda_bd_chip(const pda_result *r, size_t ch, const uint32_t *ops, size_t n_ops, const size_t *grp, size_t ng,
                double *out);

/* ---- the system's power (pipeline_power.c) ---- */

/* A chip's power (W) in fixed point, PDA_POWER_FX units a watt, truncated
** toward zero; beyond +-2^31 W (no chip draws that) clamped, NaN as 0. The
** system's power, the sum of its chips' in 64 bits, holds as much: a
** leakage that runs away past PDA_POWER_MAX_W summed over the chips is
** refused (pda_leak_prepare). */
#define PDA_POWER_MAX_W 1e9
static inline int64_t pda_power_fx(double w)
{
    double x = w * PDA_POWER_FX;
    if (!(x > -9.2e18 && x < 9.2e18)) return x > 0 ? INT64_C(9200000000000000000) : x < 0 ? -INT64_C(9200000000000000000) : 0;
    return (int64_t)x;
}

/* The peak bin, the peak over a window of w bins and the total of a stream
** of fixed-point power, fed in pieces in time order: sums in 128 bits, so
** the figures are exact and the same however the stream is cut (a constant
** run as one piece or bin by bin). */
typedef struct pda_power_acc {
    size_t w;
    int64_t *ring;             /* the last w values */
    size_t n_seen;
    __int128 sum, peak, total; /* the window's sum, its highest, the stream's */
    size_t peak_end;
    int any;
    int64_t max;               /* the largest value (0 before any) and its first bin */
    size_t max_at;
} pda_power_acc;
int pda_power_acc_init(pda_power_acc *a, size_t w);   /* -1 when out of memory */
void pda_power_acc_free(pda_power_acc *a);
/* nb bins from b0: p[0..nb), or p_const each when p is NULL (the sink of
** pda_run_opts.power_combine; arg is the accumulator). */
void pda_power_acc_sink(void *arg, size_t b0, size_t nb, const int64_t *p, int64_t p_const);
/* The power figures (W, ns) but the energy and mean; *total_w_ns the sum of
** the bins' power times bin_ns. */
pda_power pda_power_figures(const pda_power_acc *a, double bin_ns, double *total_w_ns);
/* The walk's power of bins [b0, b0 + nb) (p, or p_const when p is NULL)
** into a, through opts.power_combine when there is one. -1 when that
** failed (r->power_failed set). */
int pda_power_out(pda_result *r, pda_power_acc *a, size_t b0, size_t nb, const int64_t *p, int64_t p_const);

#endif
