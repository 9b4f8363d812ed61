/* outset.c -- a set of output files committed together (see outset.h). */
#include "outset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int outset_add(outset *ro, const char *name, sio_out **out, sio_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", ro->dir, name);
    if (ro->n == ro->cap) {
        size_t c = ro->cap ? 2 * ro->cap : 16;
        sio_out **p = realloc(ro->o, c * sizeof *p);
        if (p) ro->o = p;
        char **q = realloc(ro->names, c * sizeof *q);
        if (q) ro->names = q;
        if (!p || !q) { sio_error_set(err, path, 0, 0, "out of memory"); return SIO_ENOMEM; }
        ro->cap = c;
    }
    for (size_t k = 0; k < ro->n_inputs; k++)
        if (ro->inputs[k] && sio_same_file(path, ro->inputs[k])) {
            sio_error_set(err, path, 0, 0, "refusing to overwrite an input");
            return SIO_EINPUT;
        }
    char *nm = strdup(name);
    if (!nm) { sio_error_set(err, path, 0, 0, "out of memory"); return SIO_ENOMEM; }
    int rc = sio_out_open(path, out, err);
    if (rc == SIO_OK) {
        ro->o[ro->n] = *out;
        ro->names[ro->n++] = nm;
    } else {
        free(nm);
    }
    return rc;
}

int outset_finish(outset *ro, int ok, sio_error *err)
{
    int rc = SIO_OK;
    for (size_t k = 0; k < ro->n; k++) {
        if (ok && rc == SIO_OK) rc = sio_out_commit(ro->o[k], err);
        else sio_out_abort(ro->o[k]);
        free(ro->names[k]);
    }
    if (!ok && ro->made) rmdir(ro->made);
    free(ro->made);
    ro->made = NULL;
    free(ro->o);
    free(ro->names);
    ro->o = NULL;
    ro->names = NULL;
    ro->n = ro->cap = 0;
    return rc;
}

unsigned char *outset_read(outset *ro, size_t k, size_t *len)
{
    FILE *f = sio_out_file(ro->o[k]);
    if (fflush(f) != 0) return NULL;
    long end = ftell(f);
    if (end < 0 || fseek(f, 0, SEEK_SET) != 0) return NULL;
    unsigned char *b = malloc((size_t)end + 1);
    size_t got = b ? fread(b, 1, (size_t)end, f) : 0;
    fseek(f, end, SEEK_SET);
    if (!b || got != (size_t)end) { free(b); return NULL; }
    *len = got;
    return b;
}

int outset_mkdir(outset *ro, const char *sub, sio_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", ro->dir, sub);
    if (mkdir(path, 0755) != 0) {
        if (errno == EEXIST) return SIO_OK;
        sio_error_set(err, path, 0, 0, "cannot create folder: %s", strerror(errno));
        return SIO_EIO;
    }
    if (!(ro->made = strdup(path))) {
        rmdir(path);
        sio_error_set(err, path, 0, 0, "out of memory");
        return SIO_ENOMEM;
    }
    return SIO_OK;
}

/* mkdir -p, errno set on failure */
static int mkdirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t k = 1; k <= n; k++) {
        if (buf[k] != '/' && buf[k] != 0) continue;
        char c = buf[k];
        buf[k] = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        buf[k] = c;
    }
    struct stat sb;
    if (stat(path, &sb) != 0) return -1;
    if (!S_ISDIR(sb.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

int outset_mkdirs(const char *path, sio_error *err)
{
    if (mkdirs(path) == 0) return 0;
    int e = errno;
    if (e == ENOTDIR) sio_error_set(err, path, 0, 0, "not a folder");
    else sio_error_set(err, path, 0, 0, "cannot create the output folder: %s", strerror(e));
    errno = e;
    return -1;
}
