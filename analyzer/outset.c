/* outset.c -- a set of output files committed as a whole (see outset.h). */
#define _GNU_SOURCE 1   /* renameat2 */
#include "outset.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sio_int.h"

/* "a/b" of two parts, malloc'd. */
static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", a, b);
    return p;
}

/* The staging folder of the set: beside the target on its file system, or
** inside it when it is a mount point. Also sweeps what dead runs left. */
static int begin(outset *os, sio_error *err)
{
    if (os->stage) return SIO_OK;
    int rc = outset_mkdirs(os->dir, err);
    if (rc) return rc;
    char *real = realpath(os->dir, NULL);   /* a link to a folder is followed */
    if (!real) {
        sio_error_set(err, os->dir, 0, 0, "cannot resolve the output folder: %s", strerror(errno));
        return SIO_EIO;
    }
    if (!strcmp(real, "/")) {
        free(real);
        sio_error_set(err, os->dir, 0, 0, "the root folder cannot hold an output set");
        return SIO_EINPUT;
    }
    char *slash = strrchr(real, '/');
    char *parent = slash == real ? strdup("/") : strndup(real, (size_t)(slash - real));
    struct stat sp, sr;
    if (!parent || stat(parent, &sp) != 0 || stat(real, &sr) != 0) {
        sio_error_set(err, os->dir, 0, 0, "cannot read the output folder: %s", parent ? strerror(errno) : "no memory");
        free(parent);
        free(real);
        return SIO_EIO;
    }
    os->in_place = sp.st_dev != sr.st_dev;
    const char *home = os->in_place ? real : parent;
    sio_sweep_stale(home);
    size_t n = strlen(home) + strlen(slash + 1) + 64;
    os->stage = malloc(n);
    if (os->stage) {
        if (os->in_place) snprintf(os->stage, n, "%s/.pda-new-%ld-XXXXXX", real, (long)getpid());
        else snprintf(os->stage, n, "%s/.%s.pda-new-%ld-XXXXXX", parent, slash + 1, (long)getpid());
    }
    free(parent);
    if (!os->stage || !mkdtemp(os->stage) || sio_cleanup_add(os->stage)) {
        sio_error_set(err, os->dir, 0, 0, "cannot make a staging folder: %s", strerror(errno));
        if (os->stage) rmdir(os->stage);
        free(os->stage);
        os->stage = NULL;
        free(real);
        return SIO_EIO;
    }
    chmod(os->stage, sr.st_mode & 07777);   /* the folder keeps its permissions */
    os->real = real;
    return SIO_OK;
}

/* The checks of an output's place: path (as given) and target (the same
** with the folder's links followed) replace no input, and target may become
** a file. */
static int target_ok(const char *path, const char *target, const char *const *inputs, size_t n_inputs,
                     sio_error *err)
{
    for (size_t k = 0; k < n_inputs; k++)
        if (inputs[k] && (sio_same_file(path, inputs[k]) || sio_same_file(target, inputs[k]))) {
            sio_error_set(err, path, 0, 0, "refusing to overwrite an input");
            return SIO_EINPUT;
        }
    return sio_out_target_ok(target, err);
}

int outset_check(const char *dir, const char *const *names, size_t n, const char *const *inputs, size_t n_inputs,
                 sio_error *err)
{
    char path[4096];
    for (size_t k = 0; k < n; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        int rc = target_ok(path, path, inputs, n_inputs, err);
        if (rc) return rc;
    }
    return SIO_OK;
}

int outset_add(outset *os, const char *name, sio_out **out, sio_error *err)
{
    char path[4096], target[4096];
    snprintf(path, sizeof path, "%s/%s", os->dir, name);
    int rc = begin(os, err);
    if (rc) return rc;
    snprintf(target, sizeof target, "%s/%s", os->real, name);
    if (os->n == os->cap) {
        size_t c = os->cap ? 2 * os->cap : 16;
        sio_out **p = realloc(os->o, c * sizeof *p);
        if (p) os->o = p;
        char **q = realloc(os->names, c * sizeof *q);
        if (q) os->names = q;
        if (!p || !q) { sio_error_set(err, path, 0, 0, "out of memory"); return SIO_ENOMEM; }
        os->cap = c;
    }
    if ((rc = target_ok(path, target, os->inputs, os->n_inputs, err))) return rc;
    char *nm = strdup(name), *staged = join(os->stage, name);
    if (!nm || !staged) {
        free(nm);
        free(staged);
        sio_error_set(err, path, 0, 0, "out of memory");
        return SIO_ENOMEM;
    }
    rc = sio_out_open(staged, out, err);
    free(staged);
    if (rc == SIO_OK) {
        os->o[os->n] = *out;
        os->names[os->n++] = nm;
    } else {
        free(nm);
        if (rc == SIO_EIO) sio_error_set(err, path, 0, 0, "cannot create: %s", strerror(errno));
    }
    return rc;
}

unsigned char *outset_read(outset *os, size_t k, size_t *len)
{
    FILE *f = sio_out_file(os->o[k]);
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

int outset_mkdir(outset *os, const char *sub, sio_error *err)
{
    int rc = begin(os, err);
    if (rc) return rc;
    char *p = join(os->stage, sub);
    if (!p || (mkdir(p, 0755) != 0 && errno != EEXIST)) {
        sio_error_set(err, os->dir, 0, 0, "cannot create folder %s: %s", sub, p ? strerror(errno) : "no memory");
        free(p);
        return SIO_EIO;
    }
    free(p);
    return SIO_OK;
}

/* Carries into dst everything of src the new set does not replace: files
** (and links, pipes, ...) are hard-linked, folders made and carried in
** turn. A name the set uses for a file where src has a folder, a link or
** a special file (or the other way round) is a conflict: nothing is
** replaced. */
static int carry(const char *src, const char *dst, sio_error *err)
{
    DIR *d = opendir(src);
    if (!d) {
        sio_error_set(err, src, 0, 0, "cannot read the output folder: %s", strerror(errno));
        return SIO_EIO;
    }
    int rc = SIO_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *s = join(src, e->d_name), *t = join(dst, e->d_name);
        struct stat ss, ts;
        if (!s || !t) {
            sio_error_set(err, src, 0, 0, "out of memory");
            rc = SIO_ENOMEM;
        } else if (lstat(s, &ss) != 0) {
            if (errno != ENOENT) {   /* gone meanwhile: nothing to carry */
                sio_error_set(err, s, 0, 0, "cannot read: %s", strerror(errno));
                rc = SIO_EIO;
            }
        } else if (lstat(t, &ts) == 0) {   /* the new set has this name */
            if (S_ISDIR(ss.st_mode) && S_ISDIR(ts.st_mode)) {
                rc = carry(s, t, err);
            } else if (!(S_ISREG(ss.st_mode) && S_ISREG(ts.st_mode))) {
                sio_error_set(err, s, 0, 0, "is %s where the outputs have %s of that name: nothing replaced",
                              S_ISDIR(ss.st_mode) ? "a folder" : S_ISLNK(ss.st_mode) ? "a link" : "a file",
                              S_ISDIR(ts.st_mode) ? "a folder" : "a file");
                rc = SIO_EINPUT;
            }
        } else if (S_ISDIR(ss.st_mode)) {
            if (mkdir(t, ss.st_mode & 07777) != 0) {
                sio_error_set(err, t, 0, 0, "cannot create: %s", strerror(errno));
                rc = SIO_EIO;
            } else {
                rc = carry(s, t, err);
            }
        } else if (linkat(AT_FDCWD, s, AT_FDCWD, t, 0) != 0) {
            sio_error_set(err, s, 0, 0, "cannot keep it beside the new outputs (hard link): %s", strerror(errno));
            rc = SIO_EIO;
        }
        free(s);
        free(t);
    }
    closedir(d);
    return rc;
}

/* Whether rel (a path inside the target) is one of the set's outputs. */
static int is_output(const outset *os, const char *rel)
{
    for (size_t k = 0; k < os->n; k++)
        if (!strcmp(os->names[k], rel)) return 1;
    return 0;
}

/* After the swap: what another process made in the old target between
** carry and the swap (a file created, or one replaced: not the file carried)
** is moved into the new one, folders looked into in turn; the set's own
** outputs keep the new files. rel: src's path inside the target ("" at
** the top). Best effort: the old target is removed next. */
static void reclaim(const outset *os, const char *src, const char *dst, const char *rel)
{
    DIR *d = opendir(src);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *s = join(src, e->d_name), *t = join(dst, e->d_name), *r = *rel ? join(rel, e->d_name) : strdup(e->d_name);
        struct stat ss, ts;
        if (s && t && r && lstat(s, &ss) == 0) {
            if (lstat(t, &ts) != 0) rename(s, t);   /* made meanwhile */
            else if (S_ISDIR(ss.st_mode) && S_ISDIR(ts.st_mode)) reclaim(os, s, t, r);
            else if (!S_ISDIR(ss.st_mode) && !S_ISDIR(ts.st_mode) && ss.st_ino != ts.st_ino && !is_output(os, r))
                rename(s, t);   /* replaced meanwhile */
        }
        free(s);
        free(t);
        free(r);
    }
    closedir(d);
}

/* The staging folder becomes the target in one exchange; what others made
** in the old target meanwhile is moved over (reclaim), and the old target,
** now at the staging folder's name, is removed. Without RENAME_EXCHANGE:
** the old target moved aside, the new one renamed in, the old one reclaimed
** and removed. */
static int swap_in(outset *os, sio_error *err)
{
    if (renameat2(AT_FDCWD, os->stage, AT_FDCWD, os->real, RENAME_EXCHANGE) == 0) {
        reclaim(os, os->stage, os->real, "");
        sio_remove_tree(os->stage);
        return SIO_OK;
    }
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
        sio_error_set(err, os->dir, 0, 0, "cannot put the outputs in place: %s", strerror(errno));
        return SIO_EIO;
    }
    char *old = strdup(os->stage), *mark = old ? strstr(old, ".pda-new-") : NULL;
    if (!mark) {
        free(old);
        sio_error_set(err, os->dir, 0, 0, "out of memory");
        return SIO_ENOMEM;
    }
    memcpy(mark, ".pda-old-", 9);   /* same length, same pid and suffix */
    int rc = SIO_OK;
    if (sio_cleanup_add(old) || rename(os->real, old) != 0) {
        sio_error_set(err, os->dir, 0, 0, "cannot move the old outputs aside: %s", strerror(errno));
        rc = SIO_EIO;
    } else if (rename(os->stage, os->real) != 0) {
        sio_error_set(err, os->dir, 0, 0, "cannot put the outputs in place: %s", strerror(errno));
        rename(old, os->real);   /* the old set back */
        rc = SIO_EIO;
    } else {
        reclaim(os, old, os->real, "");
        sio_remove_tree(old);
    }
    sio_cleanup_remove(old);
    free(old);
    return rc;
}

/* A target that is a mount point: each file renamed from the staging
** folder inside it to its place (the set is not atomic then). */
static int rename_each(outset *os, sio_error *err)
{
    for (size_t k = 0; k < os->n; k++) {
        char *from = join(os->stage, os->names[k]), *to = join(os->real, os->names[k]);
        char *sub = to ? strrchr(to, '/') : NULL;
        int bad = !from || !to;
        if (!bad && strchr(os->names[k], '/')) {   /* heat/...: its folder first */
            *sub = 0;
            bad = mkdir(to, 0755) != 0 && errno != EEXIST;
            *sub = '/';
        }
        if (!bad) bad = rename(from, to) != 0;
        if (bad) sio_error_set(err, os->dir, 0, 0, "cannot put %s in place: %s", os->names[k], strerror(errno));
        free(from);
        free(to);
        if (bad) return SIO_EIO;
    }
    return SIO_OK;
}

int outset_finish(outset *os, int ok, sio_error *err)
{
    int rc = SIO_OK;
    for (size_t k = 0; k < os->n; k++) {
        if (ok && rc == SIO_OK) rc = sio_out_commit(os->o[k], err);
        else sio_out_abort(os->o[k]);
    }
    if (ok && !rc && os->stage) {
        if (os->in_place) {
            rc = rename_each(os, err);
        } else if (!(rc = carry(os->real, os->stage, err))) {
            rc = swap_in(os, err);
        }
    }
    for (size_t k = 0; k < os->n; k++) free(os->names[k]);
    if (os->stage) {
        sio_remove_tree(os->stage);   /* what is left: the old set, or the dropped new one */
        sio_cleanup_remove(os->stage);
    }
    free(os->o);
    free(os->names);
    free(os->stage);
    free(os->real);
    os->o = NULL;
    os->names = NULL;
    os->stage = os->real = NULL;
    os->n = os->cap = 0;
    return rc;
}

/* mkdir -p, errno set on failure */
static int mkdirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        errno = n ? ENAMETOOLONG : ENOENT;
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

char *outset_missing_top(const char *path)
{
    struct stat sb;
    if (!*path || stat(path, &sb) == 0) return NULL;
    char *p = strdup(path), *top = NULL;
    while (p && stat(p, &sb) != 0) {   /* climb while the folder is missing */
        free(top);
        top = strdup(p);
        char *slash = strrchr(p, '/');
        while (slash && slash > p && slash[1] == 0) {   /* "a/b/" */
            *slash = 0;
            slash = strrchr(p, '/');
        }
        if (!slash || slash == p) break;
        *slash = 0;
    }
    free(p);
    return top;
}

void outset_remove_made(const char *path, const char *top)
{
    if (!top) return;
    char *p = strdup(path);
    size_t nt = strlen(top);
    while (p && strlen(p) >= nt && rmdir(p) == 0 && strlen(p) > nt) {
        char *slash = strrchr(p, '/');
        if (!slash) break;
        *slash = 0;
    }
    free(p);
}

int outset_mkdirs(const char *path, sio_error *err)
{
    if (!*path) {
        sio_error_set(err, NULL, 0, 0, "the output folder's name is empty");
        return SIO_EINPUT;
    }
    if (mkdirs(path) == 0) return SIO_OK;
    if (errno == ENOTDIR) {   /* a file where a folder was asked for: usage, not I/O */
        sio_error_set(err, path, 0, 0, "not a folder");
        return SIO_EINPUT;
    }
    sio_error_set(err, path, 0, 0, "cannot create the output folder: %s", strerror(errno));
    return SIO_EIO;
}
