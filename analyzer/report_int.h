/* report_int.h -- the report's state, shared by report.c (the data) and
** report_page.c (the page). Not installed. */
#ifndef PDA_REPORT_INT_H
#define PDA_REPORT_INT_H
#include <stddef.h>

#include "report.h"

#define REPORT_LEVELS 2
#define REPORT_RING (2 * REPORT_DETAIL_HALF + 1)   /* bins a series' ring holds */
#define REPORT_BLOCK 1024                           /* bins per pass of a push */
#define REPORT_PRING (REPORT_RING + REPORT_BLOCK)   /* bins a chip's power ring holds */

/* One overview column of a series: current (A), droop (mV), dI/dt (A/ns). */
typedef struct col { double imin, imax, dmin, dmax, gmin, gmax; int any; } col;
/* One overview column of a chip's power (W). */
typedef struct pcol { double lo, hi; int any; } pcol;

typedef struct level {
    size_t cols;
    double scale;   /* cols / n_bins */
    col *c;         /* [series][cols] */
    pcol *p;        /* [chip][cols] */
} level;

/* A detail window being watched: armed on a run over the limit. */
typedef struct arm {
    int armed, hold;   /* hold: over the limit since the last window closed */
    double sev;        /* worst severity so far (peak / limit) */
    size_t peak;       /* its bin */
} arm;

typedef struct hist {
    float *ring;    /* [3][REPORT_RING]: current, droop (mV), dI/dt, bin b at b % REPORT_RING */
    double *iw;     /* [w]: the current of bin b at b % w, for the last w bins */
    size_t w, seen;
    arm arm[2];     /* per enum events_kind */
} hist;

/* A kept detail window: n bins from b0 of one series, v [n][3] as the ring,
** and p [n] the chip's power over them once it has come (p_state). */
typedef struct capture {
    size_t series, b0, n;
    int kind;
    int p_state;    /* 0: waiting for the power, 1: p holds it, -1: it had left the ring */
    double sev;
    float *v, *p;
} capture;

/* The detail windows' order: x is milder than y, by severity, and on a tie
** the later series and bin. A total order, so the windows kept are the
** REPORT_DETAIL_KEEP most severe whatever order they come in (a system's
** report merged from its shares' keeps the same as one process's), and the
** page lists them by it, most severe first. */
static inline int report_milder(const capture *x, const capture *y)
{
    if (x->sev != y->sev) return x->sev < y->sev;
    if (x->series != y->series) return x->series > y->series;
    return x->b0 > y->b0;
}

/* A chip's power, bin b at b % REPORT_PRING, for the windows' power. */
typedef struct pring {
    float *ring;
    size_t seen;
} pring;

struct report {
    size_t n_chips, n_rails, n_series, n_bins, run_bins;
    double bin_ns;
    level lv[REPORT_LEVELS];
    hist *h;                        /* [series] */
    double *lim;                    /* [rail][2]: guardband (mV), dI/dt limit (A/ns) */
    capture *heap[2];               /* per kind, a min-heap on sev */
    size_t n_heap[2];
    float *pool[2];                 /* the windows' storage: per window REPORT_RING x 4 floats */
    pring *pw;                      /* [chip] */
};

#endif
