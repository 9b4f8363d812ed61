/* events.h -- dI/dt and droop events, per-rail statistics, and the
** attribution of each event to the units and instructions behind it (the
** events_ module).
**
** The detector is fed, tile by tile and in time order, each rail's bin
** currents (A) and droop at the end of each bin (V). It keeps running
** statistics per chip and rail (peak and mean current, the largest dI/dt,
** the worst droop and when, a histogram of droop for percentiles) and finds
** events as docs/model.md defines them:
**   droop event: a maximal run of bins whose droop exceeds the rail's
**     guardband_mv;
**   dI/dt event: a maximal run of bins k with |i[k] - i[k-w]| / (w bin_ns)
**     above didt_limit_a_per_ns, w = didt_window_ns in bins (>= 1); before
**     time 0 the rail draws its idle current.
** Every event is counted; the `cap` most severe are kept (a min-heap), and
** only those are attributed, at events_finish, to the units whose current
** changed most over the window before the peak and to the instructions that
** started or ended on them in that window. */
#ifndef PDA_EVENTS_H
#define PDA_EVENTS_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sio.h"

#ifdef __cplusplus
extern "C" {
#endif

enum events_kind { EVENTS_DROOP = 0, EVENTS_DIDT = 1 };

#define EVENTS_MAX_CAUSES 3
#define EVENTS_MAX_IDS 4

/* One unit's share in an event: its current change over the window (A, sign
** kept) and up to EVENTS_MAX_IDS instructions that started or ended on it in
** the window (indices into the schedule). */
typedef struct events_cause {
    size_t unit;
    double delta_a;
    size_t n_ops;
    uint32_t ops[EVENTS_MAX_IDS];
} events_cause;

typedef struct events_event {
    int kind;                 /* enum events_kind */
    size_t chip, rail;
    double t_start_ns;        /* start of the first bin over the limit */
    double t_end_ns;          /* end of the last bin over the limit */
    double t_peak_ns;         /* droop: end of the worst bin; dI/dt: end of the worst bin */
    double peak;              /* droop in mV, or |dI/dt| in A/ns */
    double window_ns;         /* the attribution window before the peak */
    size_t n_causes;
    events_cause causes[EVENTS_MAX_CAUSES];
} events_event;

/* Running statistics of one chip's rail. */
typedef struct events_rail_stats {
    double peak_a, t_peak_a_ns;
    double sum_a;             /* sum of bin currents */
    size_t bins;              /* of the timeline */
    size_t tail_bins;         /* past it (events_push_tail) */
    double avg_a;             /* mean current over the makespan (set by events_finish: the
                              ** last bin may be partly past the makespan) */
    double max_didt_a_per_ns, t_max_didt_ns;
    double max_droop_v, t_max_droop_ns;
    double i_at_max_droop_a;  /* the current of the bin that ends at the worst droop */
    double min_droop_v;       /* the timeline's least */
    size_t droop_events, didt_events;
} events_rail_stats;

typedef struct events_detector events_detector;

/* n_chips chips of the chip description; bin_ns the bin width; cap the
** number of events kept (>= 1); attr_window_ns[rail] the attribution window
** of droop events per rail (e.g. half the period of the first droop
** resonance; 0 = the rail's dI/dt window). i_idle_a[rail] is the rail's idle
** current (the current before time 0). */
int events_create(const sio_chip *chip, size_t n_chips, double bin_ns, size_t cap,
                  const double *attr_window_ns, const double *i_idle_a, events_detector **out);
void events_destroy(events_detector *ev);   /* NULL is a no-op */
/* Sets one chip's rail's idle current (the current before time 0, and past
** the makespan) when it differs from i_idle_a's, as a unit's leakage makes
** it differ from chip to chip. Before the first push of that rail. */
void events_set_idle(events_detector *ev, size_t chip, size_t rail, double idle_a);

/* Feeds bins b0 .. b0+n-1 of one chip's rail, in order. */
int events_push(events_detector *ev, size_t chip, size_t rail, size_t b0, const double *i_a,
                const double *droop_v, size_t n);

/* Feeds bins b0 .. b0+n-1 past the makespan (the walk's tail: the rail
** idles on while its PDN settles), after the timeline's: they count for the
** largest dI/dt, the worst droop (and the least), and the events, and not
** for the peak current, the mean, the bin count or the droop percentiles,
** which are the timeline's. */
int events_push_tail(events_detector *ev, size_t chip, size_t rail, size_t b0, const double *i_a,
                     const double *droop_v, size_t n);

/* Feeds n bins b0 .. b0+n-1 that all hold i_a and droop_v (a constant run
** of the walk): the same as events_push of n copies, to round-off in the
** current's sum, in O(dI/dt window) whatever n. */
int events_push_const(events_detector *ev, size_t chip, size_t rail, size_t b0, double i_a, double droop_v,
                      size_t n);

/* Closes open events and attributes the kept ones using the schedule (NULL:
** no attribution, and avg_a is the mean over whole bins). From
** n_two_min instructions on (events_set_index_two_min; default
** EVENTS_INDEX_TWO_MIN), the schedule is scanned for the ops near the events
** in two halves at once, with the same result. */
#define EVENTS_INDEX_TWO_MIN ((size_t)1 << 16)
void events_set_index_two_min(events_detector *ev, size_t n_two_min);
/* The timeline's makespan (cycles) that avg_a is taken over, when it is not
** the schedule's own (a share of a system's chips: the system's). */
void events_set_span_cyc(events_detector *ev, int64_t span_cyc);
int events_finish(events_detector *ev, const sio_schedule *s);

const events_rail_stats *events_stats(const events_detector *ev, size_t chip, size_t rail);
/* Droop (V) at quantile q in [0, 1] over every bin of the rail, from a
** histogram of 0.05 mV steps (exact to that step). */
double events_droop_quantile(const events_detector *ev, size_t chip, size_t rail, double q);
/* The kept events, sorted by chip, rail, start; *n their number. */
const events_event *events_list(const events_detector *ev, size_t *n);
/* Events counted (all, not only the kept ones). */
size_t events_total(const events_detector *ev);

/* Sets a new detector's figures as events_finish would have left them, from
** elsewhere (a system whose chips were analysed by several processes:
** pda_result_merge): each chip and rail's statistics st[chip * n_rails +
** rail], the kept events (n, any order: they are sorted here) and, from the
** statistics, the count of every event. SIO_OK, or SIO_ENOMEM. */
int events_import(events_detector *ev, const events_rail_stats *st, const events_event *list, size_t n);

/* Writes events.csv to f: one row per kept event (see docs/outputs.md);
** SIO_EIO when a write failed. */
int events_write_csv(const events_detector *ev, const sio_schedule *s, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
