/* lanes.h -- reductions over a run of doubles in LANES partial results.
**
** One chain of maxima (or sums) waits on itself at every element; LANES
** chains side by side do not, and the compiler turns them into vector
** instructions (maxpd: x > m ? x : m, exactly, NaNs passed over). A caller
** with a fixed-length run gets the loop vectorized whole. The sums' order
** differs from one chain's, so their last bit may too. */
#ifndef PDA_LANES_H
#define PDA_LANES_H

#include <math.h>
#include <stddef.h>

#define LANES 4

/* The largest of x[0..m) (NaNs passed over; -inf when there is none). */
__attribute__((always_inline)) static inline double lanes_max(const double *restrict x, size_t m)
{
    double p[LANES] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    size_t m4 = m / LANES * LANES;
    for (size_t k = 0; k < m4; k += LANES)
        for (size_t l = 0; l < LANES; l++) p[l] = x[k + l] > p[l] ? x[k + l] : p[l];
    for (size_t k = m4; k < m; k++) p[0] = x[k] > p[0] ? x[k] : p[0];
    double a = p[0] > p[1] ? p[0] : p[1], b = p[2] > p[3] ? p[2] : p[3];
    return a > b ? a : b;
}

/* The least of x[0..m) (NaNs passed over; +inf when there is none). */
__attribute__((always_inline)) static inline double lanes_min(const double *restrict x, size_t m)
{
    double p[LANES] = {INFINITY, INFINITY, INFINITY, INFINITY};
    size_t m4 = m / LANES * LANES;
    for (size_t k = 0; k < m4; k += LANES)
        for (size_t l = 0; l < LANES; l++) p[l] = x[k + l] < p[l] ? x[k + l] : p[l];
    for (size_t k = m4; k < m; k++) p[0] = x[k] < p[0] ? x[k] : p[0];
    double a = p[0] < p[1] ? p[0] : p[1], b = p[2] < p[3] ? p[2] : p[3];
    return a < b ? a : b;
}

/* The sum of x[0..m). */
__attribute__((always_inline)) static inline double lanes_sum(const double *restrict x, size_t m)
{
    double p[LANES] = {0, 0, 0, 0};
    size_t m4 = m / LANES * LANES;
    for (size_t k = 0; k < m4; k += LANES)
        for (size_t l = 0; l < LANES; l++) p[l] += x[k + l];
    for (size_t k = m4; k < m; k++) p[0] += x[k];
    return (p[0] + p[1]) + (p[2] + p[3]);
}

/* The sum of x[0..m) - c: terms where x is c add exactly nothing. */
__attribute__((always_inline)) static inline double lanes_sum_sub(const double *restrict x, double c, size_t m)
{
    double p[LANES] = {0, 0, 0, 0};
    size_t m4 = m / LANES * LANES;
    for (size_t k = 0; k < m4; k += LANES)
        for (size_t l = 0; l < LANES; l++) p[l] += x[k + l] - c;
    for (size_t k = m4; k < m; k++) p[0] += x[k] - c;
    return (p[0] + p[1]) + (p[2] + p[3]);
}

#endif
