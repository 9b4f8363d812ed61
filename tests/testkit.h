/* testkit.h -- helpers shared by the cmocka suites (header-only, static).
** testkit_random_schedule writes a random valid schedule for a chip of 4
** units (units 0 and 1 run `run`, units 2 and 3 alternate `go` and `ramp`):
** on each of 2 chips and each unit, `per_unit` ops back to back with random
** gaps, every `long_every`-th op up to `long_cycles` long, the others up to
** 40 cycles, random activity. Returns 0, or -1 when it cannot write. */
#ifndef PDA_TESTKIT_H
#define PDA_TESTKIT_H
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sio.h"

static int testkit_random_schedule(const sio_unit *units, char *path, unsigned seed, int per_unit, int long_every,
                                   int long_cycles)
{
    int fd = mkstemp(path);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
    if (!f) return -1;
    fprintf(f, "id,unit,op,start,cycles,chip,activity\n");
    srand(seed);
    for (int c = 0; c < 2; c++) {
        for (int u = 0; u < 4; u++) {
            long t = rand() % 50;
            for (int k = 0; k < per_unit; k++) {
                long cyc = 1 + rand() % (k % long_every == 0 ? long_cycles : 40);
                const char *op = u < 2 ? "run" : (k % 2 ? "go" : "ramp");
                fprintf(f, "c%du%dk%d,%s,%s,%ld,%ld,%d,%.3f\n", c, u, k, units[u].name, op, t, cyc, c,
                        (rand() % 1001) / 1000.0);
                t += cyc + rand() % 30;
            }
        }
    }
    return fclose(f) == 0 ? 0 : -1;
}

#endif
