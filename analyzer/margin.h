/* margin.h -- the voltage-margin report (the margin_ module).
**
** Per chip and rail: the worst droop and when, droop percentiles, the
** guardband the schedule needs (worst droop + safety), the configured one,
** and the power saved by lowering Vdd by the difference. Dynamic power
** scales with V^2; here the dynamic part is the current above the units'
** idle_a (the switching the schedule causes, and the leakage, taken as a
** current linear in V), and the idle_a draw (clock tree and the like) is
** left out of the saving, so the figure is a floor. Beside it, the spectrum of the rail current (Welch: Hann-windowed
** segments of MARGIN_SEG bins, averaged; and the same of the current
** averaged over 8, 64, ... bins, for the resonances below 8 steps of the
** first: docs/pdn.md) against |Z(f)| of the PDN: the
** resonances the schedule's activity excites, ranked by the droop amplitude
** |I(f)| |Z(f)| they would give -- what a compiler can act on. */
#ifndef PDA_MARGIN_H
#define PDA_MARGIN_H
#include <stddef.h>
#include <stdio.h>

#include "events.h"
#include "sio.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MARGIN_SEG 16384
#define MARGIN_MAX_RES 6

typedef struct margin_res {
    double f_hz;          /* resonance of |Z| */
    double z_ohm;         /* |Z| there */
    double i_a;           /* current amplitude of the schedule in the band around it */
    double f_i_hz;        /* where in the band the current peaks */
    double droop_mv;      /* i_a * |Z(f_i)|: the sinusoidal droop it alone would cause */
} margin_res;

typedef struct margin_rail {
    size_t chip, rail;
    double vdd_v, guardband_mv;
    double worst_droop_mv, t_worst_ns;
    double p50_mv, p99_mv, p9999_mv;
    double static_droop_mv;       /* of the worst droop: Z(0) x the current of its bin, the droop that
                                  ** current gives once settled (load line + IR drop the regulator leaves) */
    double transient_droop_mv;    /* the rest of the worst droop: worst - static */
    double needed_guardband_mv;   /* worst droop + safety */
    double headroom_mv;           /* guardband - needed (negative: the schedule breaks it) */
    double avg_w, dynamic_w;      /* mean power of the rail, and its op (switching) part */
    double saving_w, saving_pct;  /* from lowering Vdd by headroom (0 when headroom <= 0); pct of avg_w */
    size_t n_res;
    margin_res res[MARGIN_MAX_RES];   /* by droop_mv, largest first */
} margin_rail;

typedef struct margin_spectrum margin_spectrum;   /* opaque: Welch accumulators */

/* One accumulator per chip and rail, bins of bin_ns. */
int margin_spectrum_create(size_t n_chips, size_t n_rails, double bin_ns, margin_spectrum **out);
void margin_spectrum_destroy(margin_spectrum *m);     /* NULL is a no-op */
void margin_spectrum_push(margin_spectrum *m, size_t chip, size_t rail, const double *i_a, size_t n);
/* n bins of the constant i_a, in O(levels x MARGIN_SEG): a whole segment of one value
** has nothing left once its mean is removed, so it only counts. */
void margin_spectrum_push_const(margin_spectrum *m, size_t chip, size_t rail, double i_a, size_t n);

/* The Welch sums of one chip's rail as bytes (the same build reads them
** back), to move them to another process: what margin_spectrum_get and
** margin_report read, once one of them has read this rail (a short
** timeline's segment is then taken). margin_spectrum_unpack sets them in a
** spectrum of the same bin width. 0, or -1 when a write or read failed. */
int margin_spectrum_pack(const margin_spectrum *m, size_t chip, size_t rail, FILE *f);
int margin_spectrum_unpack(margin_spectrum *m, size_t chip, size_t rail, FILE *f);

/* The averaged amplitude spectrum of one chip's rail (A per frequency, the
** amplitude a sinusoid at that frequency would show), reduced to at most
** max log-spaced points (the largest amplitude in each); f_hz ascending,
** each frequency read at the level that resolves it (margin.c).
** Returns how many were written (0 before any data). */
size_t margin_spectrum_get(const margin_spectrum *m, size_t chip, size_t rail, double *f_hz, double *amp_a,
                           size_t max);

/* Fills out[chip * n_rails + rail] from the detector's statistics, the
** spectra (may be NULL) and the chip's PDN. idle_a[rail] is the rail's idle
** current; safety_mv the margin added to the worst droop. */
int margin_report(const sio_chip *chip, size_t n_chips, const events_detector *ev, const margin_spectrum *sp,
                  const double *idle_a, double safety_mv, margin_rail *out);

/* Writes margin.csv to f: one row per chip and rail (see docs/outputs.md);
** SIO_EIO when a write failed. */
int margin_write_csv(const sio_chip *chip, const margin_rail *m, size_t n, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
