/* benchkit.h -- what the benchmark programs share (header-only, static). */
#ifndef PDA_BENCHKIT_H
#define PDA_BENCHKIT_H
#include <time.h>

/* Monotonic wall time in seconds. */
static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
