/* report.h -- the self-contained, interactive report.html of `analyzer run`
** (report_; docs/report.md).
**
** While the timeline streams past, a report keeps, per chip/rail series, the
** current, the droop and the dI/dt, and per chip the power, at three
** resolutions (docs/report.md):
**   - two min/max overviews over the whole run: REPORT_COLS columns and
**     REPORT_FINE_COLS columns (a column is a bin when the run has fewer
**     bins), so spikes survive any zoom-out;
**   - per-bin detail windows of REPORT_DETAIL_HALF bins either side of the
**     worst bin of each run of bins over the droop guardband or the dI/dt
**     limit, the REPORT_DETAIL_KEEP most severe of each kind (severity: the
**     peak over the limit), each with its chip's power over the same bins.
** A 10^8-bin run so costs a few MB. At the end the page is written: the data
** as JSON in a <script type="application/json"> block, drawn in the browser
** by the vendored uPlot (analyzer/vendor/uplot) and the page's own script,
** both inlined, so the file opens offline. */
#ifndef PDA_REPORT_H
#define PDA_REPORT_H
#include <stddef.h>
#include <stdio.h>

#include "events.h"
#include "margin.h"
#include "sio.h"

#define REPORT_COLS 1200
#define REPORT_FINE_COLS 8192
#define REPORT_DETAIL_HALF 512
#define REPORT_DETAIL_KEEP 24

typedef struct report report;

/* What a report needs to know of the series. Arrays are per rail, borrowed
** for the call; NULL limits keep no detail windows, NULL didt_bins is a
** window of one bin, NULL idle_a an idle current of 0. */
typedef struct report_opts {
    size_t n_chips, n_rails;           /* series = chips x rails, chip-major */
    size_t n_bins;                     /* the length drawn, in bins */
    size_t run_bins;                   /* of which the run's (the rest: the tail past it) */
    double bin_ns;
    const double *guardband_mv;        /* droop limit */
    const double *didt_limit_a_per_ns; /* dI/dt limit */
    const size_t *didt_bins;           /* dI/dt window in bins (>= 1), as the events' */
    const double *idle_a;              /* current before time 0 */
} report_opts;

/* Returns 0 and sets *out, or SIO_ENOMEM and *out = NULL. */
int report_create_opts(const report_opts *o, report **out);
/* n_series series of one chip each, no limits: report_create_opts's short form. */
int report_create(size_t n_series, size_t n_bins, double bin_ns, report **out);
void report_destroy(report *r);   /* NULL is a no-op */
/* Bins b0..b0+n-1 of series k (chip * n_rails + rail), in time order per
** series: current (A) and droop (V). */
void report_push(report *r, size_t k, size_t b0, const double *i_a, const double *droop_v, size_t n);
/* n bins from b0 that all hold i_a and droop_v: O(columns + detail window). */
void report_push_const(report *r, size_t k, size_t b0, double i_a, double droop_v, size_t n);
/* Bins b0..b0+n-1 of chip ch's power (W, the sum over its rails of Vdd x I). */
void report_push_power(report *r, size_t ch, size_t b0, const double *p_w, size_t n);
void report_push_power_const(report *r, size_t ch, size_t b0, double p_w, size_t n);
/* After the last push: closes the detail windows still open. */
void report_finish(report *r);
/* Column c of series k's coarse overview as pushed so far: current min and
** max (A), droop min and max (mV) into out[0..3]; 0 when no bin of it has
** come, else 1. Column c holds bins b with floor(b * REPORT_COLS / n_bins)
** = c (the last column also any bin past n_bins). */
int report_column(const report *r, size_t k, size_t c, double out[4]);
/* Detail windows kept: *n of them; for window j, its series, kind (enum
** events_kind), first bin and length through report_detail. */
size_t report_n_details(const report *r);
int report_detail(const report *r, size_t j, size_t *series, int *kind, size_t *b0, size_t *len);

/* A share's report, for the report of its system (pda_result_merge): its
** overviews and detail windows, raw (the same build writes and reads).
** report_pack writes r to f after report_finish; report_unpack reads a
** pack of n_chips chips (chip k of the share is the system's chip_lo + k *
** chip_step) into the system's report r, whose windows become the most
** severe of its own and the pack's. 0, or -1 when a write failed or the
** pack does not fit r. */
int report_pack(const report *r, FILE *f);
int report_unpack(report *r, FILE *f, size_t n_chips, size_t chip_lo, size_t chip_step);

/* The thermal part of the page (all borrowed for the call; NULL: none).
** Maps are [chip][die][cell], nx x ny cells row-major, row 0 at y = 0,
** over the chip's outline. */
typedef struct report_thermal {
    size_t nx, ny, n_dies;
    const double *steady_c, *peak_c;
    const double *frame_t_ns;   /* [n_frames] end of each frame shown */
    const double *frame_max_c;  /* [chip][die][n_frames] */
    size_t n_frames;
    const double *unit_steady_max_c, *unit_run_max_c, *unit_run_mean_c;   /* [chip][unit] */
    const double *unit_t_run_max_ns;
    size_t n_hot;               /* hotspots, by decreasing peak */
    const size_t *hot_chip, *hot_die;
    const double *hot_peak_c, *hot_t_peak_ns, *hot_x_mm, *hot_y_mm, *hot_area_mm2;
    const char *const *hot_units;
} report_thermal;

/* A stacked power breakdown: n_groups groups over n_t frames of dt_ns from
** 0, w [chip][group][frame] (W). */
typedef struct report_breakdown {
    const char *title;
    size_t n_groups, n_t;
    const char *const *names;
    double dt_ns;
    const double *w;
} report_breakdown;

/* Everything report_write draws besides the waveforms (borrowed). */
typedef struct report_page {
    const sio_chip *chip;
    const sio_schedule *s;
    const events_detector *ev;
    const margin_spectrum *sp;
    const margin_rail *m;              /* [chip][rail] */
    const char *summary_json;          /* summary.json's text: tables, and raw in a <details> */
    double power_cap_w;                /* per chip; 0: none given */
    const report_thermal *th;          /* NULL: no thermal run */
    const report_breakdown *bd;        /* n_bd of them */
    size_t n_bd;
} report_page;

/* Writes the page to f. Returns SIO_OK, SIO_ENOMEM, or SIO_EIO when a
** write failed. */
int report_write(const report *r, FILE *f, const report_page *p);

#endif
