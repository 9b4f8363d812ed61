/* thermal_hotspot.h -- interchange with HotSpot (University of Virginia).
**
** HotSpot's files (checked against its examples):
**   .flp     one block per line: `name width height left bottom` in metres,
**            tab-separated; '#' starts a comment; blank lines are ignored.
**   .ptrace  a header line of block names, then one line of watts per
**            sampling interval, tab-separated, columns in header order.
**   .lcf     per layer, bottom (layer 0) first, 7 lines: index, lateral heat
**            flow Y/N, power dissipation Y/N, heat capacity J/(m^3.K),
**            resistivity m.K/W (= 1/k), thickness m, floorplan file.
** HotSpot takes a die's size from its blocks' extent, so a floorplan made
** from a chip gets zero-power filler blocks `_fill<k>` that cover the rest of
** the outline (the reader skips blocks whose name starts with `_fill`).
** Library code: writes only to the FILEs it is given. */
#ifndef PDA_THERMAL_HOTSPOT_H
#define PDA_THERMAL_HOTSPOT_H
#include <stddef.h>
#include <stdio.h>

#include "sio.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct thermal_flp_block {
    char *name;
    double rect_mm[4];   /* x, y, width, height; (x, y) lower-left, mm */
    long unit;           /* index into the chip's units, or -1 (filler, read) */
} thermal_flp_block;

typedef struct thermal_flp {
    thermal_flp_block *blocks;
    size_t n;
} thermal_flp;

/* The floorplan of die index `die` of c: its units in chip order, then the
** filler blocks that cover the rest of the outline (disjoint rectangles,
** edges within 1e-9 of the outline merged). die = (size_t)-1 gives one block
** `outline` covering the whole outline (for layers without power). Returns
** SIO_OK or SIO_ENOMEM; *out is then NULL. */
int thermal_flp_from_chip(const sio_chip *c, size_t die, thermal_flp **out);

/* 1 when a unit's name reads back from a .flp as that unit: not a filler's
** (`_fill...`, skipped) and without '#' (a comment from there on). */
int thermal_flp_name_reads_back(const char *name);

/* What a chip's floorplans must hold for HotSpot, which c's own grid does
** not need: no two units of a die overlap (HotSpot counts the shared area
** twice; edges within 1e-9 of the outline's size touch, they do not
** overlap), and no two unit names differ only in case (HotSpot finds a
** trace column's block ignoring case). Returns 0, or 1 with the two units
** in *a, *b (overlap or not in *overlap); -1 out of memory. */
int thermal_flp_chip_clash(const sio_chip *c, size_t *a, size_t *b, int *overlap);

/* Reads a HotSpot .flp. Optional 6th and 7th fields (specific heat,
** resistivity) are accepted and ignored; 3-field lines (HotSpot's old wire
** density section) are ignored; `_fill*` blocks are skipped. Widths and
** heights must be > 0, positions >= 0, names unique. Errors are
** "path:line:col: message" in err. Returns SIO_OK, SIO_EINPUT, SIO_EIO,
** SIO_ENOMEM; *out is NULL on error. unit is -1 in every block read. */
int thermal_flp_load(const char *path, thermal_flp **out, sio_error *err);
void thermal_flp_free(thermal_flp *f);   /* NULL is a no-op */

/* Writes flp as a .flp (metres) after a comment line. Returns 0 or -1 (a
** write error on f). */
int thermal_flp_write(FILE *f, const thermal_flp *flp, const char *comment);

/* The .ptrace header: the block names of flps[0..n-1], in order. */
int thermal_ptrace_header(FILE *f, const thermal_flp *const *flps, size_t n);
/* One .ptrace row: each block's power from unit_power_w (indexed by the
** chip's units; fillers 0), for flps[0..n-1] in order, watts. */
int thermal_ptrace_row(FILE *f, const thermal_flp *const *flps, size_t n, const double *unit_power_w);

/* What HotSpot's readers hold (util.h and flp.h of its sources): names
** in buffers of 512 bytes, lines of 65,536 bytes (the newline and the end
** with them), 8192 blocks a floorplan and columns a power trace. */
#define THERMAL_HOTSPOT_NAME_MAX 511
#define THERMAL_HOTSPOT_LINE_MAX 65535    /* bytes with the newline */
#define THERMAL_HOTSPOT_BLOCKS_MAX 8192
/* The trace of flps[0..n-1]: its columns (units and fillers) and its
** longest line with the newline, the header's or the most a row can take
** (thermal_ptrace_row: 15 bytes a unit's power, 1 a filler's 0, a tab or
** the newline after each). */
void thermal_ptrace_size(const thermal_flp *const *flps, size_t n, size_t *cols, size_t *line);
/* 1 when nx and ny are both powers of two: HotSpot's default build takes
** no other grid (a build with SuperLU takes any). */
int thermal_hotspot_grid_pow2(size_t nx, size_t ny);

/* The .lcf of c's stack: layer l names flp_of_layer[l]. Returns 0 or -1. */
int thermal_lcf_write(FILE *f, const sio_chip *c, const char *const *flp_of_layer);

/* A HotSpot configuration (`hotspot -c FILE`) for c's cooling: the grid model
** over stack.lcf with nx x ny cells, the ambient, and the top's (and the
** bottom's) heat transfer coefficient as HotSpot's convection resistance,
** 1 / (h x the outline's area), behind a spreader and a sink made thin,
** very conductive and without heat capacity so that they add neither
** resistance nor time constant; frame_s the sampling interval. Returns 0 or
** -1 (a write error on f). */
int thermal_hotspot_config_write(FILE *f, const sio_chip *c, size_t nx, size_t ny, double frame_s);

#ifdef __cplusplus
}
#endif
#endif
