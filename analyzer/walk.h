/* walk.h -- the timeline walk every analysis shares (the walk_ module).
**
** A walk is the current iterator (current.h) plus, when asked, one PDN
** stream (pdn.h) per chip and rail: each tile comes with every rail's
** current and its droop. With two threads the next tile's current map and
** droop are computed on a second thread while the caller runs its per-bin
** passes over the tile before (two slots, handed back and forth); the
** numbers are the same either way, as each stream sees the same tiles in
** the same order. Unit maps need the iterator's own arrays, so with them
** the walk runs on one thread.
**
** With CURRENT_CONST in maps the walk skips long constant stretches (idle
** between instructions, or every op in flight on its plateau): such a
** stretch comes as a tile of stride 0 (current.h) of any length, each map
** one value per row and the droop one value per rail ([chip][rail]), once
** the PDN has settled on those currents (until then the stretch comes as
** ordinary tiles, bin by bin). Every consumer of such a walk handles a
** stride-0 tile in O(rows) (or O(output) for an output that has a row per
** bin). Without the flag every bin is walked: the reference the tests
** compare the skipping walk with. */
#ifndef PDA_WALK_H
#define PDA_WALK_H
#include <stddef.h>

#include "current.h"
#include "pdn.h"
#include "sio.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct walk_opts {
    double bin_ns;         /* > 0 */
    size_t tile_bins;      /* 0: the PDN's block length (one FFT block a push), or current.h's default */
    unsigned maps;         /* CURRENT_DIES, CURRENT_UNITS, CURRENT_CONST (constant runs skipped) */
    int droop;             /* 1: each rail's droop through its PDN model */
    int threads;           /* 1: a second thread computes ahead (ignored with unit maps) */
    size_t split_min_ops;  /* current_iter_opts.split_min_ops (0: its default) */
    int64_t span_cyc;      /* current_iter_opts.span_cyc (0: the schedule's makespan) */
    size_t plan_chips;     /* current_iter_opts.plan_chips: tiles sized for this many chips (0: the schedule's) */
    const double *extra_idle_a;   /* current_iter_opts.extra_idle_a ([chip][unit], A), or NULL */
    int tail;              /* 1: the timeline's tail follows it (walk_tail_bins) */
} walk_opts;

typedef struct walk walk;

/* Plans the walk. Chip and schedule are borrowed. Returns SIO_OK, or an
** error code with *err set (SIO_EINPUT for a PDN model that cannot be made
** at this bin width: the message names the rail, positioned at the chip's
** file). */
int walk_open(const sio_chip *c, const sio_schedule *s, const walk_opts *o, walk **out, sio_error *err);
/* walk_open with each rail's PDN model (models[n_rails], at o->bin_ns) given
** instead of made: borrowed, and read only, so that runs one after another or
** at once may share them (a sweep makes each once). NULL: walk_open. */
int walk_open_models(const sio_chip *c, const sio_schedule *s, const walk_opts *o, pdn_model *const *models,
                     walk **out, sio_error *err);
/* The next tile, and with droop its droop (volts, [chip][rail][bin], rows
** of walk_tile_bins; one value per rail for a tile of stride 0); 1, 0 at
** the end, -1 out of memory. Both stay valid until the next call. */
int walk_next(walk *w, current_tile *t, const double **droop_v);
size_t walk_n_bins(const walk *w);
/* The tail (walk_opts.tail): past the makespan the chips idle on, and the
** last bins' current changes still ring in the PDN and still count in the
** dI/dt window. After the timeline's bins the walk hands out this many more,
** b0 from walk_n_bins on, in ordinary tiles that hold every rail's idle
** current (rail_a only; die_a and unit_a NULL) and its droop: the longest,
** over the rails, of the dI/dt window and (with droop) the PDN kernel, past
** which the run's response is below the kernel's truncation (pdn.h). The
** same for every chip (it depends on the rails alone), so a system's chips
** split over processes see the same tail. 0 without the option. */
size_t walk_tail_bins(const walk *w);
/* The most bins a tile holds: the iterator's tile (current.h), or longer
** for the tail of a timeline shorter than one tile. Droop rows have this
** stride. */
size_t walk_tile_bins(const walk *w);
int64_t walk_makespan_cyc(const walk *w);
/* The droop (V) of chip q / rails, rail q % rails before time 0: its idle
** current's steady droop, Z(0) times it (walk_opts.droop). */
double walk_idle_droop_v(const walk *w, size_t q);
/* Each rail's idle current (A), the sum of its units' idle_a (one chip). */
const double *walk_idle_a(const walk *w);
/* Each chip's rails' idle current (A), [chip][rail]: idle_a plus the extra
** idle current of walk_opts (what the current starts at, and the PDN
** streams have settled on before time 0). */
const double *walk_chip_idle_a(const walk *w);
void walk_close(walk *w);   /* NULL is a no-op */

/* Each rail's idle current, summed over its units, into idle[n_rails]. */
void walk_rail_idle(const sio_chip *c, double *idle);
/* The ranges of the bin and of the power window that every entry takes
** (pda_run, budget_retime, the command's --bin-ns and --window-ns, a
** sweep's run and retime sections): a window past 10^15 ns would count
** bins past what a double holds exactly. */
#define WALK_BIN_NS_MIN 1e-3
#define WALK_BIN_NS_MAX 1e6
#define WALK_WINDOW_NS_MAX 1e15

/* The power window of window_ns in bins of bin_ns over a timeline of
** n_bins: at least 1, and a window longer than the timeline is the
** timeline (the analyzer's model, which the re-timing's analysis shares). */
size_t walk_window_bins(double window_ns, double bin_ns, size_t n_bins);
/* The rail's dI/dt window in bins: didt_window_ns / bin_ns rounded, at
** least 1 and at most 2^20 (the rings that hold a window are per rail and
** chip). Every dI/dt figure and check uses it. */
size_t walk_didt_bins(const sio_rail *rail, double bin_ns);

#ifdef __cplusplus
}
#endif
#endif
