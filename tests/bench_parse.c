/* bench_parse.c -- the baseline of the end-to-end benchmarks: the time libcsv
** alone takes to parse a schedule file, read in the same 1 MiB buffers the
** loader uses, with callbacks that only count. With a file argument it
** prints "parse_s <seconds> rows <n>"; without one it parses a small
** generated file (so `make bench` always has something to run). */
#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchkit.h"

typedef struct counts { size_t fields, rows; } counts;

static void cb1(void *s, size_t n, void *d) { (void)s; (void)n; ((counts *)d)->fields++; }
static void cb2(int c, void *d) { (void)c; ((counts *)d)->rows++; }

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/tmp/pda_bench_parse.csv";
    if (argc < 2) {
        FILE *g = fopen(path, "w");
        if (!g) return 1;
        fputs("id,unit,op,start,cycles,deps\n", g);
        for (int i = 0; i < 200000; i++) fprintf(g, "i%d,MXM.W0,matmul,%d,4,i%d\n", i, 4 * i, i ? i - 1 : 0);
        fclose(g);
    }
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return 1; }
    struct csv_parser p;
    if (csv_init(&p, CSV_APPEND_NULL) != 0) return 1;
    char *buf = malloc(1u << 20);
    counts c = {0, 0};
    double t0 = bench_now();
    size_t got;
    while ((got = fread(buf, 1, 1u << 20, f)) > 0) csv_parse(&p, buf, got, cb1, cb2, &c);
    csv_fini(&p, cb1, cb2, &c);
    double t1 = bench_now();
    csv_free(&p);
    free(buf);
    fclose(f);
    printf("parse_s %.3f rows %zu fields %zu\n", t1 - t0, c.rows, c.fields);
    if (argc < 2) remove(path);
    return 0;
}
