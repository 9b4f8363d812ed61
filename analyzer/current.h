/* current.h -- per-bin current maps of a schedule (the current_ module).
**
** The current model (docs/model.md): an op of current I (current_a x activity)
** runs over [start*T, (start+cycles)*T) ns as a trapezoid that ramps over
** r = min(ramp_cycles, cycles/2) cycles at each end; every unit draws idle_a
** from 0 to the makespan. Each bin of bin_ns holds the exact average of that
** current over the bin (no sampling): op edges that fall inside a bin are
** integrated exactly, ramps included.
**
** The timeline is walked in time tiles of tile_bins bins, in order, so memory
** is bounded by the tile and not by the timeline; the numbers are the same
** whatever the tile size (to round-off). Per tile the iterator gives the
** current of every rail and die of every chip, and, on request, of every
** unit.
**
** Constant runs (opt-in, CURRENT_CONST): where no instruction's current
** changes for whole tiles -- an idle stretch between instructions, or one
** where every op in flight sits on its plateau -- every map is constant, and
** the iterator hands the whole stretch over as one tile of stride 0 instead
** of walking it bin by bin: nb may then be any length (10^12 bins), and each
** array holds one value per row. Such a tile starts and ends on the tile
** grid (b0 and b0 + nb are multiples of tile_bins), so the tiles around it
** are the same as without the option. Its value is the running level of the
** bin-by-bin reconstruction, with the slope (round-off of ramps that have
** ended, ~1e-32 A a bin) set to zero. With CURRENT_CONST the plan is also
** sparse when the timeline has many more tiles than instructions: memory is
** O(instructions), not O(tiles). */
#ifndef PDA_CURRENT_H
#define PDA_CURRENT_H
#include <stddef.h>
#include <stdint.h>

#include "sio.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct current_iter current_iter;   /* opaque */

/* What the iterator fills per tile; arrays are row-major [chip][x][bin] with
** the tile's nb bins in the last index (stride tile_bins). A constant run
** (CURRENT_CONST) has stride 0: row x's value over all nb bins is at [x]. */
typedef struct current_tile {
    size_t b0;            /* first bin of the tile */
    size_t nb;            /* bins in this tile (<= tile_bins, unless stride is 0) */
    size_t stride;        /* = tile_bins, the row length of the arrays; 0: a constant run */
    const double *rail_a; /* [chip][rail][bin] */
    const double *die_a;  /* [chip][die][bin], NULL unless asked for */
    const double *unit_a; /* [chip][unit][bin], NULL unless asked for */
} current_tile;

/* The maps beyond the rails, to ask for in current_iter_create, and
** CURRENT_CONST: the caller takes constant runs (tiles of stride 0). */
enum { CURRENT_DIES = 1, CURRENT_UNITS = 2, CURRENT_CONST = 4 };

/* Plans the walk: finds each tile's instructions (O(n), no sort). bin_ns >
** 0; tile_bins >= 1 (0 picks a default that keeps the tile arrays under
** ~256 MB). maps: CURRENT_DIES and/or CURRENT_UNITS (rails are always
** made; every other map costs time per kink and per bin). The schedule and
** chip are borrowed and must outlive the iterator. */
int current_iter_create(const sio_chip *chip, const sio_schedule *s, double bin_ns, size_t tile_bins,
                        unsigned maps, current_iter **out, sio_error *err);
/* The same with every setting in one struct (current_iter_opts_default,
** then set fields). split_min_ops: schedules of at least this many ops have
** their ops counted per tile in two halves at once (default
** CURRENT_SPLIT_MIN_OPS; 0 always, SIZE_MAX never; the result is the same). */
#define CURRENT_SPLIT_MIN_OPS ((size_t)1 << 20)
typedef struct current_iter_opts {
    double bin_ns;
    size_t tile_bins;
    unsigned maps;
    size_t split_min_ops;
    /* A share of a system's chips (sio_load_opts.chip_step): span_cyc > 0
    ** runs the timeline to span_cyc cycles when it is past the schedule's
    ** makespan (the system's makespan: every share walks the same bins, its
    ** chips idle to the end), and plan_chips > 0 sizes the default tile for
    ** that many chips (the system's: every share then has the tiles of the
    ** whole). 0: the schedule's own. */
    int64_t span_cyc;
    size_t plan_chips;
    /* [chip][unit]: current (A) each unit draws on top of its idle_a, from
    ** 0 to the end of the last bin like idle_a (the pipeline's leakage at
    ** its steady temperature); NULL for none. Borrowed: it must outlive the
    ** iterator. */
    const double *extra_idle_a;
    /* Not read: the walk makes the tiles of its tail itself (walk.h:
    ** walk_tile_bins). Kept so that code setting it builds as before. */
    size_t min_tile_bins;
} current_iter_opts;
void current_iter_opts_default(current_iter_opts *o);
int current_iter_open(const sio_chip *chip, const sio_schedule *s, const current_iter_opts *o, current_iter **out,
                      sio_error *err);
void current_iter_destroy(current_iter *it);   /* NULL is a no-op */

/* Bins of the timeline: ceil(makespan_ns / bin_ns) (0 for an empty schedule). */
size_t current_n_bins(const current_iter *it);
size_t current_tile_bins(const current_iter *it);
/* The schedule's makespan in cycles, as sio_schedule_makespan_cyc (one pass
** over the schedule fewer for a caller that has an iterator). */
int64_t current_makespan_cyc(const current_iter *it);

/* Computes the next tile into *t (pointers owned by the iterator). rail_a
** stays valid until the call after next (the rails of two tiles are kept, so
** that one thread may read a tile while another computes the next); die_a
** and unit_a until the next call. Returns 1 when a tile was produced, 0 at
** the end, -1 when out of memory (the walk cannot go on). */
int current_next(current_iter *it, current_tile *t);

/* Charge (A*ns) of instruction i: I * (cycles - r) * T. */
double current_op_charge(const sio_chip *chip, const sio_schedule *s, size_t i);
/* Charge (A*ns) that instruction i, issued at start_cyc (its own start or
** a re-timed one), has drawn before t_ns: the antiderivative of its
** trapezoid, the one piece of the current model every module integrates. */
double current_op_charge_before(const sio_chip *chip, const sio_schedule *s, size_t i, int64_t start_cyc,
                                double t_ns);
/* Exact average current (A) of instruction i over [t0_ns, t1_ns). */
double current_op_avg(const sio_chip *chip, const sio_schedule *s, size_t i, double t0_ns, double t1_ns);
/* Adds scale times the exact average current (A) of instruction i, issued
** at start_cyc, in bins b0 .. b0 + n - 1 of bin_ns: the bins off the
** trapezoid's plateau (its ramps and edges) to out[0 .. n-1], the difference
** of the antiderivative at their edges; the plateau's whole bins [p0, p1),
** which hold its current, as a step in step[0 .. n]: scale*I at p0 - b0 and
** -scale*I at p1 - b0. The caller adds the running sum of step to out, once
** for many instructions. O(bins off the plateau). */
void current_op_bins_add(const sio_chip *chip, const sio_schedule *s, size_t i, int64_t start_cyc, double bin_ns,
                         size_t b0, size_t n, double scale, double *out, double *step);

/* Peak of the moving average over w consecutive values of a stream, fed in
** pieces (the windows may straddle pieces). A window shorter than w at the
** start is not a window; if the whole stream is shorter than w, the peak is
** the average over the stream. Also the stream's largest value (the first
** index where it is) and its total, in the same pass: the walk's power
** needs all three, and one loop runs their chains of adds side by side. */
typedef struct current_window {
    size_t w;
    double *ring;         /* the last w values */
    size_t n_seen;
    double sum;
    double peak;          /* highest full-window average so far */
    size_t peak_end;      /* index (exclusive) where that window ends */
    int any;
    double max;           /* largest value so far (0 before any) */
    size_t max_at;        /* its index (the first) */
    double total;         /* sum of every value so far */
} current_window;
int current_window_init(current_window *cw, size_t w);
void current_window_push(current_window *cw, const double *x, size_t n);
/* n values x: the same as pushing n copies, in O(w) (to round-off in the
** total). */
void current_window_push_const(current_window *cw, double x, size_t n);
/* The peak, with the clipping rule for short streams. */
double current_window_peak(const current_window *cw);
void current_window_free(current_window *cw);

#ifdef __cplusplus
}
#endif
#endif
