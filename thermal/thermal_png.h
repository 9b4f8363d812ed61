/* thermal_png.h -- heat maps as PNG images (libpng).
**
** A map of nx x ny cells (row 0 at y = 0) on a width_mm x height_mm outline
** is drawn with y up, to scale (square millimetres), bilinearly interpolated
** between cell centres, in a perceptual colour scale (an inferno-like table:
** dark and cool to bright and hot, monotonic in lightness), with the unit
** outlines darkened over it and a colour bar on the right labelled in
** degrees C (a built-in 5x7 bitmap font: digits, '.', '-', the degree sign,
** 'C', A-Z). Optional: a title above the map (upper-cased), and marks (a
** cross ringed in black) at given points, e.g. hotspots' hottest cells.
** Library code: writes only to the FILE it is given. */
#ifndef PDA_THERMAL_PNG_H
#define PDA_THERMAL_PNG_H
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct thermal_png_opts {
    double lo_c, hi_c;        /* colour range; lo_c >= hi_c: the map's own range */
    const double *rects_mm;   /* n_rects outlines, 4 doubles each {x, y, w, h}, or NULL */
    size_t n_rects;
    size_t map_px;            /* longest side of the map in pixels; 0 = 512 */
    const char *title;        /* above the map (a die's name), or NULL */
    const double *marks_mm;   /* n_marks points {x, y} to mark with a cross, or NULL */
    size_t n_marks;
} thermal_png_opts;

/* Writes the PNG to f. temp_c is nx x ny, deg C. o may be NULL (defaults).
** Returns 0, or -1 when libpng fails or memory runs out (f then holds a
** partial image: write through a temporary file). */
int thermal_png_write(FILE *f, const double *temp_c, size_t nx, size_t ny, double width_mm, double height_mm,
                      const thermal_png_opts *o);

/* The colour of t in [0, 1] (clamped) on the scale, as 8-bit RGB. */
void thermal_png_colour(double t, unsigned char rgb[3]);

#ifdef __cplusplus
}
#endif
#endif
