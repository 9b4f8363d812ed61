/* thermal_png.c -- heat-map rendering (see thermal_png.h).
**
** The image is built in memory as 8-bit RGB rows and handed to libpng whole:
** margin, the map (map_px on its longest side, default 512, so ~0.75 MB for a
** square map), a gap, a 20 px colour bar as tall as the map, five labels.
** Colour scale: 11 anchors of matplotlib's "inferno" (perceptually uniform,
** readable in grey), linearly interpolated. Unit outlines are first marked
** in a mask, then blended once (dark on bright colours, light on dark), so
** shared edges are not drawn twice; units under 4 px across are not
** outlined (88 memory slices 3 px wide would hatch the map).
** Labels use a 5x7 font drawn at 2x; a title, when given, sits above the
** map, and marks are crosses of 11 px, white ringed in black (readable on
** every colour of the scale). */
#include "thermal_png.h"

#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char INFERNO[11][3] = {
    {0, 0, 4},      {22, 11, 57},   {66, 10, 104},  {106, 23, 110}, {147, 38, 103}, {188, 55, 84},
    {221, 81, 58},  {243, 120, 25}, {252, 165, 10}, {246, 215, 70}, {252, 255, 164}};

void thermal_png_colour(double t, unsigned char rgb[3])
{
    if (!(t > 0)) t = 0;
    if (t > 1) t = 1;
    double x = t * 10;
    int i = (int)floor(x);
    if (i >= 10) i = 9;
    double f = x - i;
    for (int k = 0; k < 3; k++)
        rgb[k] = (unsigned char)lround(INFERNO[i][k] + f * (INFERNO[i + 1][k] - INFERNO[i][k]));
}

/* 5x7 glyphs, one byte per row, bit 4 the leftmost column. */
static const struct { char c; unsigned char row[7]; } FONT[] = {
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}}, {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}}, {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}}, {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}}, {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}}, {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}}, {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}},
    {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}}, {'o', {0x0C, 0x12, 0x12, 0x0C, 0x00, 0x00, 0x00}},
    {'A', {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}}, {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}}, {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}},
    {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}}, {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}},
    {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}}, {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}}, {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}},
    {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}}, {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}},
    {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}}, {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}}, {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}},
    {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}}, {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}},
    {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}}, {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}}, {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}},
    {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}}, {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}},
    {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}}, {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F}},
};
#define FONT_SCALE 2
#define GLYPH_W (6 * FONT_SCALE)

typedef struct img {
    size_t w, h;
    unsigned char *px;   /* w*h*3, row 0 at the top */
} img;

static void put(img *im, size_t x, size_t y, const unsigned char *rgb)
{
    if (x >= im->w || y >= im->h) return;
    memcpy(im->px + 3 * (y * im->w + x), rgb, 3);
}

static void text(img *im, size_t x, size_t y, const char *s)
{
    static const unsigned char ink[3] = {20, 20, 20};
    for (; *s; s++, x += GLYPH_W) {
        size_t g = 0;
        while (g < sizeof FONT / sizeof FONT[0] && FONT[g].c != *s) g++;
        if (g == sizeof FONT / sizeof FONT[0]) continue;   /* a space */
        for (size_t r = 0; r < 7; r++)
            for (size_t c = 0; c < 5; c++)
                if (FONT[g].row[r] & (0x10 >> c))
                    for (size_t a = 0; a < FONT_SCALE; a++)
                        for (size_t b = 0; b < FONT_SCALE; b++)
                            put(im, x + c * FONT_SCALE + b, y + r * FONT_SCALE + a, ink);
    }
}

static double sample(const double *t, size_t nx, size_t ny, double u, double v)
{
    /* u, v in cell units from the lower-left corner; interpolate between centres */
    double a = u - 0.5, b = v - 0.5;
    if (a < 0) a = 0;
    if (b < 0) b = 0;
    if (a > (double)(nx - 1)) a = (double)(nx - 1);
    if (b > (double)(ny - 1)) b = (double)(ny - 1);
    size_t i = (size_t)a, j = (size_t)b;
    size_t i1 = i + 1 < nx ? i + 1 : i, j1 = j + 1 < ny ? j + 1 : j;
    double fa = a - (double)i, fb = b - (double)j;
    double t0 = t[j * nx + i] * (1 - fa) + t[j * nx + i1] * fa;
    double t1 = t[j1 * nx + i] * (1 - fa) + t[j1 * nx + i1] * fa;
    return t0 * (1 - fb) + t1 * fb;
}

/* libpng's own handlers print to stderr; the library prints nothing: an
** error returns through png_out's setjmp (the caller reports the failed
** write), a warning is dropped. */
static void png_error_quiet(png_structp png, png_const_charp msg)
{
    (void)msg;
    png_longjmp(png, 1);
}

static void png_warning_quiet(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static int png_out(FILE *f, const img *im)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_error_quiet, png_warning_quiet);
    if (!png) return -1;
    png_infop info = png_create_info_struct(png);
    if (!info) { png_destroy_write_struct(&png, NULL); return -1; }
    png_bytep *rows = malloc(im->h * sizeof *rows);
    if (!rows) { png_destroy_write_struct(&png, &info); return -1; }
    for (size_t y = 0; y < im->h; y++) rows[y] = im->px + 3 * y * im->w;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(rows);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)im->w, (png_uint_32)im->h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_rows(png, info, rows);
    png_write_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    return 0;
}

int thermal_png_write(FILE *f, const double *temp_c, size_t nx, size_t ny, double width_mm, double height_mm,
                      const thermal_png_opts *o)
{
    if (!f || !temp_c || !nx || !ny || !(width_mm > 0) || !(height_mm > 0)) return -1;
    thermal_png_opts def = {0};
    if (!o) o = &def;
    double lo = o->lo_c, hi = o->hi_c;
    if (!(lo < hi)) {
        lo = INFINITY;
        hi = -INFINITY;
        for (size_t k = 0; k < nx * ny; k++) {
            if (temp_c[k] < lo) lo = temp_c[k];
            if (temp_c[k] > hi) hi = temp_c[k];
        }
    }
    if (!isfinite(lo) || !isfinite(hi)) return -1;
    if (hi - lo < 1e-6) { lo -= 0.5; hi += 0.5; }
    double big = width_mm > height_mm ? width_mm : height_mm;
    double scale = (double)(o->map_px ? o->map_px : 512) / big;   /* px per mm */
    size_t mw = (size_t)lround(width_mm * scale), mh = (size_t)lround(height_mm * scale);
    if (mw < 1) mw = 1;
    if (mh < 1) mh = 1;
    const size_t margin = 12, gap = 18, bar = 20, label = 8 * GLYPH_W;
    const size_t top = margin + (o->title ? 7 * FONT_SCALE + 8 : 0);   /* the map's first row */
    img im;
    im.w = margin + mw + gap + bar + 6 + label + margin;
    im.h = top + mh + margin + 7 * FONT_SCALE / 2;
    im.px = malloc(im.w * im.h * 3);
    unsigned char *mask = calloc(mw * mh, 1);
    if (!im.px || !mask) { free(im.px); free(mask); return -1; }
    memset(im.px, 255, im.w * im.h * 3);
    const double span = hi - lo;
    /* the map, y up */
    for (size_t py = 0; py < mh; py++) {
        double v = ((double)(mh - 1 - py) + 0.5) / scale / (height_mm / (double)ny);
        for (size_t px = 0; px < mw; px++) {
            double u = ((double)px + 0.5) / scale / (width_mm / (double)nx);
            unsigned char rgb[3];
            thermal_png_colour((sample(temp_c, nx, ny, u, v) - lo) / span, rgb);
            put(&im, margin + px, top + py, rgb);
        }
    }
    /* unit outlines */
    for (size_t r = 0; r < o->n_rects; r++) {
        const double *q = o->rects_mm + 4 * r;
        long x0 = lround(q[0] * scale), x1 = lround((q[0] + q[2]) * scale) - 1;
        long y0 = lround(q[1] * scale), y1 = lround((q[1] + q[3]) * scale) - 1;
        if (x0 < 0) x0 = 0;
        if (y0 < 0) y0 = 0;
        if (x1 >= (long)mw) x1 = (long)mw - 1;
        if (y1 >= (long)mh) y1 = (long)mh - 1;
        if (x1 < x0 + 3 || y1 < y0 + 3) continue;   /* too small to outline: it would hatch the map */
        for (long x = x0; x <= x1; x++) {
            mask[(mh - 1 - (size_t)y0) * mw + (size_t)x] = 1;
            mask[(mh - 1 - (size_t)y1) * mw + (size_t)x] = 1;
        }
        for (long y = y0; y <= y1; y++) {
            mask[(mh - 1 - (size_t)y) * mw + (size_t)x0] = 1;
            mask[(mh - 1 - (size_t)y) * mw + (size_t)x1] = 1;
        }
    }
    for (size_t py = 0; py < mh; py++)
        for (size_t px = 0; px < mw; px++)
            if (mask[py * mw + px]) {
                unsigned char *p = im.px + 3 * ((top + py) * im.w + margin + px);
                double lum = 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2];
                /* dark lines on bright colours, light lines on dark ones */
                for (int k = 0; k < 3; k++)
                    p[k] = (unsigned char)lround(lum > 110 ? p[k] * 0.6 : p[k] * 0.65 + 255 * 0.35);
            }
    free(mask);
    /* frame around the map */
    static const unsigned char black[3] = {0, 0, 0};
    for (size_t x = margin - 1; x <= margin + mw; x++) { put(&im, x, top - 1, black); put(&im, x, top + mh, black); }
    for (size_t y = top - 1; y <= top + mh; y++) { put(&im, margin - 1, y, black); put(&im, margin + mw, y, black); }
    /* marks: a white cross ringed in black, 11 px */
    static const unsigned char white[3] = {255, 255, 255};
    for (size_t k = 0; k < o->n_marks; k++) {
        long cx = lround(o->marks_mm[2 * k] * scale), cy = (long)mh - 1 - lround(o->marks_mm[2 * k + 1] * scale);
        if (cx < 0 || cy < 0 || cx >= (long)mw || cy >= (long)mh) continue;
        for (int pass = 0; pass < 2; pass++)
            for (long d = -5 - !pass; d <= 5 + !pass; d++)
                for (long e = -!pass; e <= !pass; e++) {
                    long xs[2] = {cx + d, cx + e}, ys[2] = {cy + e, cy + d};
                    for (int a = 0; a < 2; a++)
                        if (xs[a] >= 0 && ys[a] >= 0 && xs[a] < (long)mw && ys[a] < (long)mh)
                            put(&im, margin + (size_t)xs[a], top + (size_t)ys[a], pass ? white : black);
                }
    }
    if (o->title) {
        char t[64];
        size_t n = 0;
        for (const char *s = o->title; *s && n + 1 < sizeof t; s++)
            t[n++] = *s >= 'a' && *s <= 'z' ? (char)(*s - 'a' + 'A') : *s;
        t[n] = 0;
        text(&im, margin, margin, t);
    }
    /* colour bar, hot at the top */
    size_t bx = margin + mw + gap;
    for (size_t py = 0; py < mh; py++) {
        unsigned char rgb[3];
        thermal_png_colour(1.0 - ((double)py + 0.5) / (double)mh, rgb);
        for (size_t x = 0; x < bar; x++) put(&im, bx + x, top + py, rgb);
    }
    for (size_t x = bx - 1; x <= bx + bar; x++) { put(&im, x, top - 1, black); put(&im, x, top + mh, black); }
    for (size_t y = top - 1; y <= top + mh; y++) { put(&im, bx - 1, y, black); put(&im, bx + bar, y, black); }
    /* five labels: value, degree sign, C */
    for (int k = 0; k <= 4; k++) {
        double val = lo + span * k / 4.0;
        size_t yc = top + (size_t)lround((double)(mh - 1) * (1.0 - k / 4.0));
        char s[32];
        snprintf(s, sizeof s, "%.1foC", val);
        for (size_t x = bx + bar; x < bx + bar + 5; x++) put(&im, x, yc, black);
        size_t ty = yc >= (size_t)(7 * FONT_SCALE / 2) ? yc - 7 * FONT_SCALE / 2 : 0;
        text(&im, bx + bar + 7, ty, s);
    }
    int rc = png_out(f, &im);
    free(im.px);
    return rc;
}
