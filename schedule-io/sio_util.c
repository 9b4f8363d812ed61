/* sio_util.c -- error text, status strings, two jobs at once, and big
** arrays.
**
** Every module reports input errors as "file:line:col: message" through
** sio_error_set (which escapes what the message quotes). Output files are
** sio_fs.c's. */
#define _DEFAULT_SOURCE 1   /* madvise() */
#include "sio.h"
#include "sio_int.h"
#include "sio_json_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- error text ---------------------------------------------------------
** Messages quote input (ids, names, keys, jansson's "near" text, paths), so
** the text is escaped as it goes into err->text: an input can never add a
** line that reads like another error, nor drive a terminal. Escaped: \n, \r,
** \t; other C0 control bytes and DEL as \xNN; C1 controls (U+0080..U+009F,
** which some terminals obey) and every byte of invalid UTF-8 (overlong,
** surrogate, cut short, past U+10FFFF) as \xNN per byte; the line and
** paragraph separators and the bidi controls as \uXXXX. Valid UTF-8 and
** backslashes stay as they are, so that escaping an escaped text (a message
** quoting another's) changes nothing. */

/* The length of the valid UTF-8 character at s (n bytes left) and its code
** point, or 0 when the byte at s does not start one. */
static size_t utf8_char(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len, i;
    uint32_t v, min;
    if (s[0] < 0x80) { *cp = s[0]; return 1; }
    if (s[0] >= 0xC2 && s[0] <= 0xDF) { len = 2; v = s[0] & 0x1Fu; min = 0x80; }
    else if (s[0] >= 0xE0 && s[0] <= 0xEF) { len = 3; v = s[0] & 0x0Fu; min = 0x800; }
    else if (s[0] >= 0xF0 && s[0] <= 0xF4) { len = 4; v = s[0] & 0x07u; min = 0x10000; }
    else return 0;
    if (n < len) return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = v << 6 | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return len;
}

/* Text written into a fixed buffer: cut set, and nothing more written,
** once a piece does not fit. */
typedef struct tbuf { char *p; size_t len, cap; int cut; } tbuf;

static void put(tbuf *b, const char *t, size_t n)
{
    if (b->cut || b->len + n > b->cap) { b->cut = 1; return; }
    memcpy(b->p + b->len, t, n);
    b->len += n;
}

/* Appends the NUL-terminated s escaped (above), a whole escape or
** character at a time. */
static void put_escaped(tbuf *b, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s), i = 0;
    while (i < n && !b->cut) {
        uint32_t cp = 0;
        size_t k = utf8_char(u + i, n - i, &cp);
        char e[16];
        if (k == 1 && cp >= 0x20 && cp != 0x7F) {
            put(b, s + i, 1);
        } else if (k == 1 && (cp == '\n' || cp == '\r' || cp == '\t')) {
            put(b, cp == '\n' ? "\\n" : cp == '\r' ? "\\r" : "\\t", 2);
        } else if (k == 0 || k == 1 || cp <= 0x9F) {   /* invalid, C0, DEL, C1: byte by byte */
            size_t m = k ? k : 1, w = 0;
            for (size_t j = 0; j < m; j++) w += (size_t)snprintf(e + w, sizeof e - w, "\\x%02x", u[i + j]);
            put(b, e, w);
            k = m;
        } else if (cp == 0x2028 || cp == 0x2029 || cp == 0x200E || cp == 0x200F ||
                   (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) {
            put(b, e, (size_t)snprintf(e, sizeof e, "\\u%04x", (unsigned)cp));
        } else {
            put(b, s + i, k);
        }
        i += k;
    }
}

void sio_error_set(sio_error *err, const char *path, int64_t line, int64_t col,
                   const char *fmt, ...)
{
    if (!err) return;
    err->line = line;
    err->col = col;
    char msg[2 * sizeof err->text], pos[64];
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tbuf b = {err->text, 0, sizeof err->text - 4, 0};   /* room for "..." and the NUL */
    if (path || line > 0) {
        put_escaped(&b, path ? path : "?");
        if (line > 0 && col > 0) snprintf(pos, sizeof pos, ":%" PRId64 ":%" PRId64 ": ", line, col);
        else if (line > 0) snprintf(pos, sizeof pos, ":%" PRId64 ": ", line);
        else snprintf(pos, sizeof pos, ": ");
        put(&b, pos, strlen(pos));
    }
    put_escaped(&b, msg);
    if (b.cut || m < 0 || (size_t)m >= sizeof msg) {
        memcpy(b.p + b.len, "...", 3);
        b.len += 3;
    }
    b.p[b.len] = 0;
}

const char *sio_quote(const char *s, size_t n, char *buf, size_t cap)
{
    size_t m = n < cap - 4 ? n : cap - 4;
    if (m < n)
        while (m > 0 && ((unsigned char)s[m] & 0xC0) == 0x80) m--;   /* not inside a character */
    memcpy(buf, s, m);
    strcpy(buf + m, m < n ? "..." : "");
    return buf;
}

/* The length of the valid UTF-8 character at p (RFC 3629: no overlong
** forms, no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;   /* the second byte's range */
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t k = 2; k < n; k++)
        if ((p[k] & 0xC0) != 0x80) return 0;
    return n;
}

size_t sio_name_bad(const char *s, size_t n)
{
    size_t k = 0;
    while (k < n && s[k] != ',' && s[k] != '"' && (unsigned char)s[k] >= 0x20) k++;
    return k;
}

int sio_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    while (p < e) {
        size_t k = *p ? utf8_len(p) : 0;
        if (!k || k > (size_t)(e - p)) return 0;
        p += k;
    }
    return 1;
}

void sio_json_string(FILE *f, const char *s, int html)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = utf8_len(p);
        if (!n) {
            fputs("\\ufffd", f);
            p++;
        } else if (n > 1) {
            fwrite(p, 1, n, f);
            p += n;
        } else {
            if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
            else if (*p == '\n') fputs("\\n", f);
            else if (*p == '\t') fputs("\\t", f);
            else if (*p < 0x20 || *p == 0x7f || (html && (*p == '<' || *p == '>' || *p == '&')))
                fprintf(f, "\\u%04x", *p);
            else fputc(*p, f);
            p++;
        }
    }
    fputc('"', f);
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

const char *sio_closest(const char *s, const void *base, size_t n, size_t stride, size_t off)
{
    size_t len = strlen(s), limit = len <= 3 ? 1 : len <= 8 ? 2 : 3, best_d = limit + 1, i;
    const char *best = NULL;
    for (i = 0; i < n; i++) {
        const char *name = *(const char *const *)(const void *)((const char *)base + i * stride + off);
        size_t d;
        if (!name)
            continue;
        d = sio_edit_distance(s, name);
        if (d < best_d && d < strlen(name)) {
            best_d = d;
            best = name;
        }
    }
    return best;
}
