/* sio_util.c -- error text, status strings, two jobs at once, and big
** arrays.
**
** Every module reports input errors as "file:line:col: message" through
** sio_error_set. Output files are sio_fs.c's. */
#define _DEFAULT_SOURCE 1   /* madvise() */
#include "sio.h"
#include "sio_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void sio_error_set(sio_error *err, const char *path, int line, int col,
                   const char *fmt, ...)
{
    if (!err) return;
    err->line = line;
    err->col = col;
    int n;
    size_t cap = sizeof err->text;
    if (line > 0 && col > 0)
        n = snprintf(err->text, cap, "%s:%d:%d: ", path ? path : "?", line, col);
    else if (line > 0)
        n = snprintf(err->text, cap, "%s:%d: ", path ? path : "?", line);
    else if (path)
        n = snprintf(err->text, cap, "%s: ", path);
    else
        n = 0;
    if (n < 0) n = 0;
    if ((size_t)n >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->text + n, cap - (size_t)n, fmt, ap);
    va_end(ap);
}

const char *sio_strerror(int rc) { return pda_strerror(rc); }

int sio_same_file(const char *a, const char *b)
{
    struct stat x, y;
    return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

void sio_both(int two, void *(*fa)(void *), void *a, void *(*fb)(void *), void *b)
{
    pthread_t t;
    two = two && pthread_create(&t, NULL, fb, b) == 0;
    fa(a);
    if (two) pthread_join(t, NULL);
    else fb(b);
}

/* madvise over the whole pages inside [p, p + bytes). */
static void advise_inside(void *p, size_t bytes, int advice)
{
    long ps = sysconf(_SC_PAGESIZE);
    uintptr_t unit = ps > 0 ? (uintptr_t)ps : 4096;
    uintptr_t a = ((uintptr_t)p + unit - 1) & ~(unit - 1), e = ((uintptr_t)p + bytes) & ~(unit - 1);
    if (p && e > a) madvise((void *)a, e - a, advice);
}

/* realloc; the pages are backed as they are first written (or by
** sio_populate). No huge pages are asked for (MADV_HUGEPAGE): with the
** kernel's usual defrag=madvise a fault in such a range takes a free 2 MiB
** block, and on a virtual machine those are the blocks the guest has handed
** back to the host (free page reporting works on 2 MiB blocks and up), so
** each is zeroed afresh on the host. Measured on this project's machine
** (`analyzer run` on 10^7 instructions, 0.8 GB of arrays, five runs
** interleaved): 0.8-2.5 s of system time with huge pages asked for, 0.5-0.8
** s without, at the same user time. */
void *sio_reserve(void *p, size_t bytes) { return realloc(p, bytes); }

/* Backs the whole pages inside [p, p + bytes) now (MADV_POPULATE_WRITE, Linux
** 5.14+); older kernels refuse the advice and the pages fault in as written. */
void sio_populate(void *p, size_t bytes)
{
#ifdef MADV_POPULATE_WRITE
    advise_inside(p, bytes, MADV_POPULATE_WRITE);
#else
    (void)p; (void)bytes;
#endif
}

void sio_copy_release(void *dst, void *src, size_t bytes)
{
    const size_t piece = (size_t)8 << 20;
    char *d = dst, *s = src;
    for (size_t off = 0; off < bytes; off += piece) {
        size_t n = bytes - off < piece ? bytes - off : piece;
        sio_populate(d + off, n);
        memcpy(d + off, s + off, n);
        advise_inside(s + off, n, MADV_DONTNEED);   /* private anonymous pages: read back as zeros */
    }
}

/* realloc for the big flat arrays. Past 8 MiB it populates the pages at
** once (MADV_POPULATE_WRITE, Linux 5.14+): one system call instead of a page
** fault per 4 KiB page as the array fills. On a virtual machine each fault
** is a trap to the host, and faulting in the 0.9 GB of a 10^7-instruction
** schedule page by page took about a second, a third of `analyzer check`.
** Older kernels refuse the advice; the pages then fault in as before. */
void *sio_big(void *p, size_t bytes)
{
    void *q = sio_reserve(p, bytes);
    if (q && bytes >= ((size_t)8 << 20)) sio_populate(q, bytes);
    return q;
}
