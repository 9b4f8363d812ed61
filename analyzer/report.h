/* report.h -- the self-contained report.html of `analyzer run` (report_).
**
** While the timeline streams past, a report keeps each chip/rail's current
** and droop decimated to REPORT_COLS columns of (min, max) -- so a 10^8-bin
** waveform costs a few kB -- and draws them at the end as inline SVG beside
** the summary, the margin report, the spectrum of the current against |Z(f)|,
** the events and any images (heat maps) given as PNG bytes, inlined as
** base64. The page has no external references. */
#ifndef PDA_REPORT_H
#define PDA_REPORT_H
#include <stddef.h>
#include <stdio.h>

#include "events.h"
#include "margin.h"
#include "sio.h"

#define REPORT_COLS 1200

typedef struct report report;

/* n_series = chips x rails; n_bins the timeline's length in bins of bin_ns. */
int report_create(size_t n_series, size_t n_bins, double bin_ns, report **out);
void report_destroy(report *r);   /* NULL is a no-op */
/* Bins b0..b0+n-1 of series k: current (A) and droop (V). */
void report_push(report *r, size_t k, size_t b0, const double *i_a, const double *droop_v, size_t n);
/* n bins from b0 that all hold i_a and droop_v: O(columns). */
void report_push_const(report *r, size_t k, size_t b0, double i_a, double droop_v, size_t n);
/* Column c of series k as pushed so far: current min and max (A), droop min
** and max (mV) into out[0..3]; 0 when no bin of it has come, else 1. Column
** c holds bins b with floor(b * REPORT_COLS / n_bins) = c (the last column
** also any bin past n_bins). */
int report_column(const report *r, size_t k, size_t c, double out[4]);

/* Sets column c of series k to what report_column reads (out[0..3]; any 0:
** no bin), in a report merged from several processes' (pda_result_merge). */
void report_set_column(report *r, size_t k, size_t c, const double v[4], int any);

/* An image to inline: a caption and PNG bytes (borrowed for the call). */
typedef struct report_image {
    const char *caption;
    const unsigned char *png;
    size_t len;
} report_image;

/* Writes the page to f. summary_json is the text of summary.json (shown
** verbatim at the end); m has chips x rails entries. */
int report_write(const report *r, FILE *f, const sio_chip *chip, const sio_schedule *s, const events_detector *ev,
                 const margin_spectrum *sp, const margin_rail *m, const char *summary_json, const report_image *img,
                 size_t n_img);

#endif
