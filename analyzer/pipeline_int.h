/* pipeline_int.h -- the result of pda_run, shared by the pipeline's files
** (pipeline.c: the walk and the summary; pipeline_thermal.c: the thermal
** run; pipeline_write.c: the files). Not installed. */
#ifndef PDA_PIPELINE_INT_H
#define PDA_PIPELINE_INT_H
#include <stdio.h>

#include <jansson.h>

#include "pda.h"
#include "report.h"

/* What the thermal run keeps: per chip and die the steady and peak maps
** (with the colour range of their PNGs), per frame each die's maximum,
** per chip and unit the temperatures, and the hotspots. */
typedef struct pda_thermal {
    size_t nx, ny, nd, nf;
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
} pda_thermal;

struct pda_result {
    const sio_chip *c;
    const sio_schedule *s;
    pda_run_opts o;
    size_t nch, nr, nbins, tb;
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
    struct pda_leak *leak;     /* leakage at the steady fixed point (pipeline_thermal.c), NULL without */
    current_window *cw_chip;   /* with opts.power_cap_w: each chip's power windows during the walk */
    double *chip_peak_window_w;   /* with opts.power_cap_w: each chip's peak power over the window */
};

/* pda_run, with skip = 0 walking every bin and every thermal frame of the
** timeline instead of skipping constant stretches (docs/architecture.md):
** the reference the tests compare pda_run with. */
int pda_run_walk(const sio_chip *c, const sio_schedule *s, const pda_run_opts *o, int skip, pda_result **out,
                 sio_error *err);

/* The thermal run into r->th, its summary object added to r->summary.
** Returns PDA_OK or an error code with err set. */
int pda_thermal_run(pda_result *r, sio_error *err);
void pda_thermal_free(pda_thermal *t);

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

#endif
