/* failalloc.c -- a failing allocator for the test build of the analyzer
** (build/{rel,asan}/tests/analyzer_failalloc; docs/testing.md), in the way of
** SQLite's and Lua's test allocators. The binary is linked from the same
** objects as bin/analyzer plus this file, with
**     -Wl,--wrap=malloc,--wrap=calloc,... (FAILALLOC_WRAP in the Makefile)
** so that every call that pda's own code makes to one of the functions below
** lands in __wrap_NAME here, counts as one allocation point, and either
** goes on to the real function (__real_NAME) or fails as that function
** fails when memory runs out:
**     malloc calloc realloc strdup fftw_malloc   NULL
**     getline (the call that allocates the buffer, *lineptr NULL)
**                                                -1, errno ENOMEM
**     open_memstream                             NULL, errno ENOMEM
**     pthread_create                             EAGAIN (a thread that cannot
**                                                start: pda's fallback is to do
**                                                the work on one thread)
** realloc(p, 0) is not counted: it frees. --wrap only reaches the calls
** linked into the binary, not those that the shared libraries make inside
** themselves, so three libraries are given the counted allocator through
** their own hooks:
**     jansson  json_set_alloc_funcs, before main (every json_t, json_dumps,
**              json_loads)
**     libcsv   csv_init is wrapped too and sets csv_set_realloc_func on each
**              parser (pda's own field_realloc, set after it, is counted as
**              realloc)
**     libpng   png_create_write_struct is wrapped to call
**              png_create_write_struct_2 with the counted allocator
** Not counted: FFTW's planner and GLPK (both abort on their own when memory
** runs out; neither has a hook), and libc's own buffers (stdio, qsort).
**
** Environment:
**     PDA_FAIL_ALLOC=K    the K-th allocation point fails (1 is the first)
**     PDA_FAIL_ALLOC=K+   the K-th and every later one fail
**     PDA_ALLOC_COUNT=F   at exit, the number of allocation points reached
**                         is written to the file F, and then the number
**                         reached when the inputs were loaded
**                         (sio_schedule_load, wrapped too, returned)
**     PDA_FAIL_ALLOC_TRACE=1   a backtrace of each failed point on stderr
**     PDA_ALLOC_SITES=F   at exit, the file F gets a line per point reached:
**                         its site, the two innermost frames in pda's code
**                         (of the executable, outside this file: through
**                         jansson, libcsv or libpng, the pda call that went
**                         into the library), as offsets in hex -- the sweep
**                         under ASan picks points by site
**                         (tests/failalloc_sweep.py)
** Without them the binary behaves as bin/analyzer. Threads count through one
** atomic counter, so where two threads allocate at once the order of their
** points (and so which one is the K-th) can change from run to run. */
#include <csv.h>
#include <errno.h>
#include <execinfo.h>
#include <fftw3.h>
#include <jansson.h>
#include <png.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "sio.h"

/* Each wrapped function's real one (the linker's __real_NAME) and ours. */
#define WRAPPED(ret, name, params) ret __real_##name params; ret __wrap_##name params;
WRAPPED(void *, malloc, (size_t n))
WRAPPED(void *, calloc, (size_t m, size_t n))
WRAPPED(void *, realloc, (void *p, size_t n))
WRAPPED(char *, strdup, (const char *s))
WRAPPED(ssize_t, getline, (char **line, size_t *cap, FILE *f))
WRAPPED(void *, fftw_malloc, (size_t n))
WRAPPED(FILE *, open_memstream, (char **buf, size_t *len))
WRAPPED(int, pthread_create, (pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg))
WRAPPED(int, csv_init, (struct csv_parser *p, unsigned char options))
WRAPPED(int, sio_schedule_load, (const sio_chip *chip, const char *path, sio_schedule **out, sio_error *err))
WRAPPED(png_structp, png_create_write_struct,
        (png_const_charp ver, png_voidp eptr, png_error_ptr efn, png_error_ptr wfn))
#undef WRAPPED

static atomic_ulong points;          /* allocation points reached so far */
static unsigned long loaded;         /* points when the schedule was loaded */
static unsigned long fail_at;        /* 0: none fails */
static int fail_later;               /* 1: every point after fail_at fails too */
static int trace;
static const char *count_path;
static const char *sites_path;

/* The sites (PDA_ALLOC_SITES): site[k - 1] for point k, up to MAX_SITES
** points (two return addresses, offsets from the executable's start). This file's functions are in their own section, so that their
** frames can be told from pda's. */
#define MAX_SITES (1u << 20)
static uintptr_t site[MAX_SITES][2];
extern const char __executable_start[], etext[];
extern const char __start_failalloc_text[], __stop_failalloc_text[];
#define OWN __attribute__((section("failalloc_text"), noinline))

OWN static void note_site(unsigned long k)
{
    void *bt[24];
    int n = backtrace(bt, 24), got = 0;
    for (int i = 0; i < n && got < 2; i++) {
        const char *a = bt[i];
        if (a >= __executable_start && a < etext && !(a >= __start_failalloc_text && a < __stop_failalloc_text))
            site[k - 1][got++] = (uintptr_t)(a - __executable_start);
    }
}

/* Counts one allocation point; 1 when it is to fail. */
OWN static int fails(void)
{
    unsigned long k = atomic_fetch_add(&points, 1) + 1;
    if (sites_path && k <= MAX_SITES) note_site(k);
    int f = fail_at && (k == fail_at || (fail_later && k > fail_at));
    if (f && trace) {
        void *bt[32];
        char head[64];
        int n = snprintf(head, sizeof head, "failalloc: point %lu fails at\n", k);
        if (n > 0 && write(2, head, (size_t)n) < 0) return f;
        backtrace_symbols_fd(bt, backtrace(bt, 32), 2);
    }
    return f;
}

OWN void *__wrap_malloc(size_t n) { return fails() ? NULL : __real_malloc(n); }
OWN void *__wrap_calloc(size_t m, size_t n) { return fails() ? NULL : __real_calloc(m, n); }
OWN void *__wrap_realloc(void *p, size_t n) { return p && !n ? __real_realloc(p, n) : fails() ? NULL : __real_realloc(p, n); }
OWN char *__wrap_strdup(const char *s) { return fails() ? NULL : __real_strdup(s); }
OWN void *__wrap_fftw_malloc(size_t n) { return fails() ? NULL : __real_fftw_malloc(n); }

OWN ssize_t __wrap_getline(char **line, size_t *cap, FILE *f)
{
    if (!*line && fails()) {
        errno = ENOMEM;
        return -1;
    }
    return __real_getline(line, cap, f);
}

OWN FILE *__wrap_open_memstream(char **buf, size_t *len)
{
    if (fails()) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_open_memstream(buf, len);
}

OWN int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
    return fails() ? EAGAIN : __real_pthread_create(t, a, fn, arg);
}

OWN static void *csv_realloc(void *p, size_t n) { return __wrap_realloc(p, n); }

OWN int __wrap_csv_init(struct csv_parser *p, unsigned char options)
{
    int rc = __real_csv_init(p, options);
    if (rc == 0) csv_set_realloc_func(p, csv_realloc);
    return rc;
}

OWN static png_voidp png_counted_malloc(png_structp png, png_alloc_size_t n)
{
    (void)png;
    return __wrap_malloc(n);
}

static void png_real_free(png_structp png, png_voidp p)
{
    (void)png;
    free(p);
}

OWN png_structp __wrap_png_create_write_struct(png_const_charp ver, png_voidp eptr, png_error_ptr efn,
                                           png_error_ptr wfn)
{
    return png_create_write_struct_2(ver, eptr, efn, wfn, NULL, png_counted_malloc, png_real_free);
}

/* The end of the inputs' load: every command loads the chip, then the
** schedule (cmd_load in cmd_check.c), before anything else. */
int __wrap_sio_schedule_load(const sio_chip *chip, const char *path, sio_schedule **out, sio_error *err)
{
    int rc = __real_sio_schedule_load(chip, path, out, err);
    loaded = atomic_load(&points);
    return rc;
}

static void write_sites(void)
{
    FILE *f = fopen(sites_path, "w");
    if (!f) return;
    unsigned long n = atomic_load(&points);
    for (unsigned long k = 0; k < n && k < MAX_SITES; k++) fprintf(f, "%lx %lx\n", (unsigned long)site[k][0], (unsigned long)site[k][1]);
    fclose(f);
}

static void write_count(void)
{
    FILE *f = fopen(count_path, "w");
    if (!f) return;
    fprintf(f, "%lu %lu\n", atomic_load(&points), loaded);
    fclose(f);
}

/* Reads the environment and hands jansson the counted allocator, before
** main and so before any JSON value exists. */
__attribute__((constructor)) static void failalloc_init(void)
{
    const char *k = getenv("PDA_FAIL_ALLOC");
    if (k && *k) {
        char *end;
        fail_at = strtoul(k, &end, 10);
        fail_later = *end == '+';
    }
    trace = getenv("PDA_FAIL_ALLOC_TRACE") != NULL;
    count_path = getenv("PDA_ALLOC_COUNT");
    if (count_path && *count_path) atexit(write_count);
    sites_path = getenv("PDA_ALLOC_SITES");
    if (sites_path && !*sites_path) sites_path = NULL;
    if (sites_path) atexit(write_sites);
    json_set_alloc_funcs(__wrap_malloc, free);
}
