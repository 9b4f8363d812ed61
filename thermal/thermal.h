/* thermal.h -- temperature maps of stacked dies (docs/thermal.md).
**
** The stack is a pile of laterally uniform layers on a W x H outline with
** insulated sides, cooled at the top (h_top) and optionally at the bottom
** (h_bottom). It is discretised exactly as the grid model of docs/thermal.md: nx x ny
** cells per layer, one node per cell per layer at the cell's centre,
**   lateral   k*t*dy/dx (along x), k*t*dx/dy (along y),
**   vertical  1/(t_l/(2 k_l A) + t_l+1/(2 k_l+1 A)),   A = dx*dy,
**   ambient   1/(t/(2kA) + 1/(h A)) at the top (and the bottom when h > 0),
**   capacity  cv*t*A.
** A 2-D DCT (FFTW) per layer turns that model into one independent L x L
** problem per lateral mode; the answers equal a direct solve of the grid
** model to round-off (docs/thermal.md).
**
** A plan holds everything that depends only on geometry (grid, layers, FFT
** plans, per-mode factors): slow to create, fast to execute. Maps are nx*ny
** doubles, row-major, row 0 at y = 0, nx values per row; several maps are
** stored one after the other (die 0 first, or layer 0 = bottom first).
** Power is in watts per cell; temperatures are absolute degrees C (ambient
** plus the rise). A plan and its states are used by one thread at a time (the
** plan owns scratch buffers); creating a plan calls the FFTW planner, which
** is not thread-safe either. */
#ifndef PDA_THERMAL_H
#define PDA_THERMAL_H
#include <stddef.h>

#include "pda_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes: 0 is success. */
enum {
    THERMAL_OK = PDA_OK,
    THERMAL_EINVAL = PDA_EINPUT,    /* a NULL pointer, a zero size, a bad frame length */
    THERMAL_ESTACK = PDA_ESTACK,    /* a non-physical stack (see thermal_plan_create) */
    THERMAL_ENOMEM = PDA_ENOMEM,    /* out of memory */
    THERMAL_EFFTW = PDA_EFFTW,      /* FFTW could not make a plan */
    THERMAL_ERANGE = PDA_ERANGE,    /* a rectangle outside the outline, or empty */
    THERMAL_ESTEADY = PDA_ESTEADY   /* the plan was made without a frame (steady only) */
};

/* One layer, bottom (board side) first. die is -1, or the index of the die
** whose power enters this layer's nodes. */
typedef struct thermal_layer {
    double thickness_m;   /* > 0 */
    double k_w_mk;        /* conductivity, W/(m.K), > 0 */
    double cv_j_m3k;      /* volumetric heat capacity, J/(m^3.K), > 0 */
    int die;              /* -1, or 0 .. n_dies-1 */
} thermal_layer;

/* The stack. Every die 0 .. n_dies-1 is carried by exactly one layer. */
typedef struct thermal_stack {
    double width_m, height_m;      /* the outline, x and y; > 0 */
    const thermal_layer *layers;   /* n_layers, bottom first */
    size_t n_layers;               /* >= 1 */
    double h_top_w_m2k;            /* > 0: heat must leave somewhere */
    double h_bottom_w_m2k;         /* >= 0; 0 = insulated bottom */
    double ambient_c;              /* temperature of the coolant, deg C */
    size_t n_dies;                 /* >= 1 */
} thermal_stack;

typedef struct thermal_plan thermal_plan;    /* opaque */
typedef struct thermal_state thermal_state;  /* opaque */

/* Plans an nx x ny grid on the stack (copied: the stack may go away) with a
** transient frame of frame_s seconds (> 0), or frame_s = 0 for a plan that
** only does steady state (cheaper to create). Returns 0 and sets *out, or an
** error code and *out = NULL: THERMAL_EINVAL for NULL pointers, nx or ny = 0,
** a negative or non-finite frame_s; THERMAL_ESTACK for a thickness, k or cv
** <= 0 or non-finite, width or height <= 0, h_top <= 0, h_bottom < 0, no
** layers or dies, or a die carried by no layer, by two layers, or out of
** range. Cost: O(L nx ny) memory (O(L^2 nx ny) with a frame) and an
** eigen-decomposition of an L x L matrix per mode. */
int thermal_plan_create(const thermal_stack *stack, size_t nx, size_t ny,
                        double frame_s, thermal_plan **out);
void thermal_plan_destroy(thermal_plan *p);  /* NULL is a no-op */

/* The planner's effort for the transforms (thermal_plan_create_ex). */
enum {
    THERMAL_PLAN_MEASURE = 0,  /* FFTW_MEASURE: ~0.1 s to plan a 128 x 128 grid the first time in a process
                               ** (FFTW's wisdom makes later plans of the size cheap), the fastest solves:
                               ** for a plan that will solve many times; the algorithms are picked by
                               ** timing, so two processes may round differently in the last bits */
    THERMAL_PLAN_ESTIMATE = 1  /* FFTW_ESTIMATE: plans in about a millisecond, picked without timing (the
                               ** same bits in every process), solves as fast on the grids measured
                               ** (docs/thermal.md, "Costs"); what pda_run uses */
};
/* thermal_plan_create with the planner's effort (thermal_plan_create is
** THERMAL_PLAN_MEASURE); THERMAL_EINVAL for another value. */
int thermal_plan_create_ex(const thermal_stack *stack, size_t nx, size_t ny, double frame_s, int effort,
                           thermal_plan **out);

/* Grid and stack sizes of a plan, and its frame in seconds (0: steady only).
** Any out pointer may be NULL. */
void thermal_plan_size(const thermal_plan *p, size_t *nx, size_t *ny,
                       size_t *n_layers, size_t *n_dies, double *frame_s);

/* Steady state under power_w (n_dies maps, W per cell): writes the die
** layers' temperatures into temp_c (n_dies maps, deg C, die 0 first).
** power_w and temp_c may be the same array. Returns 0 or THERMAL_EINVAL. */
int thermal_steady(thermal_plan *p, const double *power_w, double *temp_c);

/* As thermal_steady, but writes every layer: n_layers maps, bottom first. */
int thermal_steady_layers(thermal_plan *p, const double *power_w,
                          double *temp_c);

/* A transient state: the temperature of every node, held in the plan's modal
** coordinates. Created at ambient everywhere; needs a plan with a frame
** (else THERMAL_ESTEADY). Belongs to that plan: use it only with it, and
** destroy it before the plan. */
int thermal_state_create(const thermal_plan *p, thermal_state **out);
void thermal_state_destroy(thermal_state *s);  /* NULL is a no-op */

/* Sets s to the steady state under power_w (n_dies maps, W per cell); NULL
** power means ambient everywhere. Transient runs start here (as docs/model.md says: from
** the steady state of the average power). */
int thermal_state_set_steady(thermal_plan *p, thermal_state *s,
                             const double *power_w);

/* Advances s by one frame with power_w (n_dies maps, W per cell) held
** constant over the frame, then writes the die layers' temperatures at the
** frame's end into temp_c (n_dies maps, deg C), unless temp_c is NULL. The
** step is exact for piecewise-constant power, whatever the frame length. */
int thermal_step(thermal_plan *p, thermal_state *s, const double *power_w,
                 double *temp_c);

/* Advances s by n >= 1 frames of the same power_w at once, exactly (per
** mode the state moves as dec^n toward the steady state of that power):
** writes the die layers' temperatures at the end of the n-th frame into
** temp_c and the sum of those at the ends of all n frames into sum_c (n_dies
** maps each). The same as n calls of thermal_step to round-off, in the time
** of one. */
int thermal_step_n(thermal_plan *p, thermal_state *s, const double *power_w, size_t n, double *temp_c,
                   double *sum_c);

/* The periodic steady state of a power sequence of n frames repeated back
** to back. Call it with s holding the state reached after one period from
** ambient (thermal_state_set_steady(p, s, NULL), then the period's frames):
** that is the response R of one period, and the periodic start y0 obeys
** y0 = Phi^n y0 + R with Phi the frame's propagator. Phi is diagonal in the
** plan's modal coordinates (decay exp(-lambda dt) per coordinate), so
** y0 = R / (1 - exp(-lambda dt n)) coordinate by coordinate, exactly (expm1:
** no cancellation for the slow modes). s becomes y0: stepping the same
** period from it returns to it (to round-off). n >= 1. */
int thermal_state_periodic(thermal_plan *p, thermal_state *s, size_t n);
/* Copies the state src into dst (both of plan p). */
int thermal_state_copy(thermal_plan *p, thermal_state *dst, const thermal_state *src);

/* Writes the temperatures of s: die layers (n_dies maps) or every layer
** (n_layers maps, bottom first), deg C. */
int thermal_state_temps(thermal_plan *p, const thermal_state *s,
                        double *temp_c);
int thermal_state_layers(thermal_plan *p, const thermal_state *s,
                         double *temp_c);

/* Adds power_w, spread over the rectangle rect_mm = {x, y, w, h} (lower-left
** corner, origin at the outline's lower-left) by exact overlap area, to the
** nx x ny map map_w (accumulated, not cleared) of a width_mm x height_mm
** outline. The added power sums to power_w (to round-off). The rectangle must
** lie inside the outline; an overhang of up to 1e-9 of the outline's size
** (round-off in the caller's sums) is clipped and its power kept inside.
** Returns 0; THERMAL_EINVAL for NULL pointers, a zero size or a non-finite
** value; THERMAL_ERANGE for w or h <= 0 or a rectangle outside the outline
** (map_w is then untouched). */
int thermal_power_map(const double *rect_mm, double width_mm,
                      double height_mm, size_t nx, size_t ny, double power_w,
                      double *map_w);

/* A static message for a status code; never NULL. */
const char *thermal_strerror(int rc);

#ifdef __cplusplus
}
#endif
#endif
