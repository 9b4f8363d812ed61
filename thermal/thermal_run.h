/* thermal_run.h -- from a schedule to the thermal solver's inputs, and from
** its maps to hotspots and unit temperatures (docs/outputs-thermal.md).
**
** Frames: the run [0, makespan) is cut into frames of frame_ns; frame f is
** [f*frame_ns, (f+1)*frame_ns). A unit's energy in a frame is vdd times its
** exact charge in the frame (each op's trapezoid integrated over its overlap
** with the frame, idle_a over the idle window: the analyzer's is [0, end of
** the last frame), as the chip idles on past its makespan), in joules. A
** frame's power is that energy over the full frame length. The steady state
** is that of the average power over the makespan.
**
** Hotspots: on each die map (steady, then each frame) the 4-connected
** regions of cells above a threshold; regions of one die that share a cell
** with a region of the previous map (the steady map precedes frame 0) belong
** to the same hotspot, so a hotspot is a chain through consecutive maps. A
** hotspot is stacked when, in some map, it shares a cell with a hotspot of
** another die of the same chip (simultaneous footprint overlap).
**
** Library code: nothing is printed. Sizes: energies are frames x units
** doubles per chip; a tracker keeps two label maps per die and one bounding-
** box bitmap per hotspot. */
#ifndef PDA_THERMAL_RUN_H
#define PDA_THERMAL_RUN_H
#include <stddef.h>
#include <stdint.h>

#include "pda_status.h"
#include "sio.h"
#include "thermal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes (0 ok); thermal_run_strerror gives the text. */
enum {
    THERMAL_RUN_OK = PDA_OK,
    THERMAL_RUN_EINVAL = PDA_EINPUT,  /* a NULL pointer, a zero size, a bad frame */
    THERMAL_RUN_ENOMEM = PDA_ENOMEM
};
const char *thermal_run_strerror(int rc);

/* Frames of frame_ns (> 0) that cover [0, makespan_ns): ceil(makespan/frame),
** 0 for an empty schedule. */
size_t thermal_run_n_frames(double makespan_ns, double frame_ns);

/* Energy (J) of every unit of chip `chip` in every frame: energy_j is
** n_frames x c->n_units, row-major (frame first), overwritten. ops lists the
** instruction indices of that chip (n_ops of them), or is NULL to scan the
** whole schedule for s->chip[i] == chip. makespan_ns is the idle window
** [0, makespan_ns) (at least the schedule's makespan); n_frames must cover it. Each op adds
** to the frames it overlaps only (no per-ns work): O(n_ops + frames x units).
** Returns 0 or THERMAL_RUN_EINVAL. */
int thermal_run_frame_energy(const sio_chip *c, const sio_schedule *s, size_t chip, const uint32_t *ops,
                             size_t n_ops, double makespan_ns, double frame_ns, size_t n_frames,
                             double *energy_j);

/* The same for the listed frames only: energy_j is n_rows x c->n_units, row
** r the energy of frame frames[r] (ascending); frames NULL lists every frame
** (n_rows = n_frames). Every frame an op of the chip overlaps must be listed
** (else THERMAL_RUN_EINVAL): frames no op overlaps hold the idle energy alone,
** which the caller may take from any one of them. */
int thermal_run_frame_energy_at(const sio_chip *c, const sio_schedule *s, size_t chip, const uint32_t *ops,
                                size_t n_ops, double makespan_ns, double frame_ns, size_t n_frames,
                                const size_t *frames, size_t n_rows, double *energy_j);

/* Power maps of the dies: unit_power_w (c->n_units, watts) spread over each
** unit's rectangle by exact overlap area onto its die's map. maps_w is
** c->n_dies maps of nx x ny (die index order), overwritten. The maps sum to
** the units' power. Returns 0, THERMAL_RUN_EINVAL. */
int thermal_run_power_maps(const sio_chip *c, const double *unit_power_w, size_t nx, size_t ny, double *maps_w);

/* ---- unit temperatures -------------------------------------------------- */

typedef struct thermal_units thermal_units;   /* opaque: per-unit cell weights */

/* Precomputes, for every unit, the cells of its die map that its rectangle
** overlaps and the overlap areas. The chip is borrowed for the call. */
int thermal_units_create(const sio_chip *c, size_t nx, size_t ny, thermal_units **out);
void thermal_units_destroy(thermal_units *u);  /* NULL is a no-op */
/* From die maps temp_c (n_dies maps, deg C) to each unit's area-weighted
** mean and its hottest overlapped cell (mean_c, max_c: n_units each). */
void thermal_units_eval(const thermal_units *u, const double *temp_c, double *mean_c, double *max_c);

/* ---- leakage (docs/thermal.md, "Leakage") ------------------------------- */

/* Leakage power (W) of every unit at its mean temperature t_unit_c
** (n_units): vdd x leak_a x exp(beta (T - t_ref)) (thermal_leak_w); 0 for
** a unit without leak_a. */
void thermal_run_leak_power(const sio_chip *c, const double *t_unit_c, double *leak_w);

/* What the steady fixed point of temperature and leakage found. */
typedef struct thermal_leak_steady {
    size_t n_leaking;        /* units with leak_a > 0 */
    size_t iterations;       /* Newton steps */
    int runaway;             /* 1: no fixed point (leak_w then holds the last, lower, iterate's) */
    double runaway_factor;   /* the factor on every leak_a at which it vanishes; INFINITY: never; NAN: not asked */
    double total_w;          /* sum of leak_w */
} thermal_leak_steady;

/* The steady fixed point of temperature and leakage of chip c under the
** units' other power unit_power_w (n_units, W), on plan (made for c's
** stack; ambient c->thermal.ambient_c). Writes each unit's leakage power at
** the fixed point into leak_w (n_units, W) and the figures into *out.
** With want_factor: the leaking units' map from power to mean temperature
** is built with one steady solve per leaking unit and the fixed point, the
** runaway verdict (proven) and the runaway factor solved on it
** (thermal_leak.h). Without: the fixed point alone, matrix-free (Anderson
** acceleration, one steady solve per step, to a residual of 1e-7 K), in a
** handful of solves whatever the number of leaking units; runaway is then
** judged by divergence and runaway_factor is NAN. A chip without leaking
** units gets zeros at once. Returns 0, THERMAL_RUN_EINVAL or
** THERMAL_RUN_ENOMEM. */
int thermal_run_leak_steady(thermal_plan *plan, const thermal_units *tu, const sio_chip *c,
                            const double *unit_power_w, int want_factor, double *leak_w, thermal_leak_steady *out);

/* ---- hotspots ----------------------------------------------------------- */

/* Labels the 4-connected regions of cells above thr_c (strictly) of one
** nx x ny map: label[cell] = 0 below, 1..n_regions in order of their first
** cell (row-major). Returns 0, THERMAL_RUN_EINVAL, THERMAL_RUN_ENOMEM. */
int thermal_label_regions(const double *temp_c, size_t nx, size_t ny, double thr_c, int32_t *label,
                          size_t *n_regions);

/* One hotspot, as the tracker reports it. Times are frame ends in ns (0 for
** the steady map); frames are -1 for the steady map. */
typedef struct thermal_hotspot {
    size_t die;                 /* die index */
    double peak_c;              /* hottest cell over its life */
    int64_t peak_frame;         /* map where that happened (-1 steady) */
    double t_peak_ns;
    double peak_x_mm, peak_y_mm;/* centre of the hottest cell */
    int64_t first_frame, last_frame;
    double area_mm2;            /* footprint: every cell it ever covered */
    double centroid_x_mm, centroid_y_mm;   /* of the footprint */
    int stacked;                /* 1 when it overlapped another die's */
    const size_t *stacked_with; /* indices into the list, n_stacked_with */
    size_t n_stacked_with;
} thermal_hotspot;

typedef struct thermal_hotspots thermal_hotspots;   /* opaque tracker */

/* A tracker for the n_dies maps of one chip on an nx x ny grid of a
** width_mm x height_mm outline, threshold thr_c. */
int thermal_hotspots_create(size_t n_dies, size_t nx, size_t ny, double width_mm, double height_mm,
                            double thr_c, thermal_hotspots **out);
void thermal_hotspots_destroy(thermal_hotspots *h);  /* NULL is a no-op */
/* Feeds the maps of one instant: temp_c is n_dies maps; frame -1 is the
** steady map (fed first), then frames in ascending order (0, 1, ..., or
** with gaps: frames not fed are passed over, the map fed before one is its
** previous map), t_ns their ends. Returns 0 or an error code (a frame out
** of order is THERMAL_RUN_EINVAL). */
int thermal_hotspots_push(thermal_hotspots *h, int64_t frame, double t_ns, const double *temp_c);
/* Closes the tracking: merges, numbers the hotspots by decreasing peak and
** resolves the stacked links. Returns 0 or THERMAL_RUN_ENOMEM. No push after. */
int thermal_hotspots_finish(thermal_hotspots *h);
/* After finish: the hotspots (owned by h, valid until destroy). */
const thermal_hotspot *thermal_hotspots_list(const thermal_hotspots *h, size_t *n);
/* After finish: the power (W) of each unit of the chip that falls inside
** hotspot k's footprint, given the units' power unit_power_w (n_units):
** each unit's power times the share of its rectangle's area inside the
** footprint's cells; units of other dies get 0. under_w is n_units. */
int thermal_hotspots_unit_power(const thermal_hotspots *h, size_t k, const sio_chip *c,
                                const double *unit_power_w, double *under_w);

#ifdef __cplusplus
}
#endif
#endif
