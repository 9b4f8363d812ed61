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
    if (!os->made) os->made = outset_missing_top(os->dir);
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
/* A file or folder as the file system knows it. */
struct outset_id {
    dev_t dev;
    ino_t ino;
};

static int id_cmp(const void *a, const void *b)
{
    const struct outset_id *x = a, *y = b;
    if (x->dev != y->dev) return x->dev < y->dev ? -1 : 1;
    return (x->ino > y->ino) - (x->ino < y->ino);
}

/* Notes what carry brought over: 0, or -1 when out of memory. */
static int note_carried(outset *os, const struct stat *st)
{
    if (os->n_carried == os->cap_carried) {
        size_t cap = os->cap_carried ? 2 * os->cap_carried : 64;
        struct outset_id *p = realloc(os->carried, cap * sizeof *p);
        if (!p) return -1;
        os->carried = p;
        os->cap_carried = cap;
    }
    os->carried[os->n_carried++] = (struct outset_id){st->st_dev, st->st_ino};
    return 0;
}

/* Whether st is something carry brought over (os->carried sorted). */
static int was_carried(const outset *os, const struct stat *st)
{
    struct outset_id k = {st->st_dev, st->st_ino};
    return os->n_carried && bsearch(&k, os->carried, os->n_carried, sizeof k, id_cmp) != NULL;
}

static int carry(outset *os, const char *src, const char *dst, sio_error *err)
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
                rc = carry(os, s, t, err);
            } else if (!(S_ISREG(ss.st_mode) && S_ISREG(ts.st_mode))) {
                sio_error_set(err, s, 0, 0, "is %s where the outputs have %s of that name: nothing replaced",
                              S_ISDIR(ss.st_mode) ? "a folder" : S_ISLNK(ss.st_mode) ? "a link" : "a file",
                              S_ISDIR(ts.st_mode) ? "a folder" : "a file");
                rc = SIO_EINPUT;
            }
        } else if (S_ISDIR(ss.st_mode)) {
            if (mkdir(t, ss.st_mode & 07777) != 0 || lstat(t, &ts) != 0) {
                sio_error_set(err, t, 0, 0, "cannot create: %s", strerror(errno));
                rc = SIO_EIO;
            } else if (note_carried(os, &ts)) {
                sio_error_set(err, src, 0, 0, "out of memory");
                rc = SIO_ENOMEM;
            } else {
                rc = carry(os, s, t, err);
            }
        } else if (linkat(AT_FDCWD, s, AT_FDCWD, t, 0) != 0) {
            sio_error_set(err, s, 0, 0, "cannot keep it beside the new outputs (hard link): %s", strerror(errno));
            rc = SIO_EIO;
        } else if (note_carried(os, &ss)) {
            sio_error_set(err, src, 0, 0, "out of memory");
            rc = SIO_ENOMEM;
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

/* After the swap, with the old target at sfd and the new at tfd (rel: the
** folder's path inside the target, "" at the top), settles what another
** process did in the target between carry and the swap: an entry made
** meanwhile is moved over (never over one made in the new target since);
** one replaced meanwhile (the new target still has what carry brought
** over: was_carried) takes its place, in an exchange undone if what came
** out is not the carried one (written again since the swap); a file removed
** meanwhile is removed from the new target too. The set's own outputs keep
** the new files. Walks by descriptors, never through a link. Returns how
** many entries it could not settle (the old target is then kept). */
static size_t reclaim(const outset *os, int sfd, int tfd, const char *rel)
{
    size_t bad = 0;
    int fd = dup(sfd), fd2 = dup(tfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL, *d2 = fd2 >= 0 && d ? fdopendir(fd2) : NULL;
    if (!d || !d2) {
        if (d) closedir(d); else if (fd >= 0) close(fd);
        if (fd2 >= 0) close(fd2);
        return 1;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *nm = e->d_name;
        if (!strcmp(nm, ".") || !strcmp(nm, "..")) continue;
        char *r = *rel ? join(rel, nm) : strdup(nm);
        struct stat ss, ts;
        if (!r) {
            bad++;
        } else if (fstatat(sfd, nm, &ss, AT_SYMLINK_NOFOLLOW) != 0) {
            /* gone */
        } else if (fstatat(tfd, nm, &ts, AT_SYMLINK_NOFOLLOW) != 0) {   /* made meanwhile */
            if (renameat2(sfd, nm, tfd, nm, RENAME_NOREPLACE) != 0 && errno != EEXIST) bad++;
        } else if (S_ISDIR(ss.st_mode) && S_ISDIR(ts.st_mode)) {
            int s2 = openat(sfd, nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            int t2 = openat(tfd, nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            bad += s2 >= 0 && t2 >= 0 ? reclaim(os, s2, t2, r) : 1;
            if (s2 >= 0) close(s2);
            if (t2 >= 0) close(t2);
        } else if ((ss.st_dev != ts.st_dev || ss.st_ino != ts.st_ino) && !is_output(os, r) && was_carried(os, &ts)) {
            /* replaced meanwhile */
            if (renameat2(sfd, nm, tfd, nm, RENAME_EXCHANGE) != 0) bad++;
            else if (fstatat(sfd, nm, &ts, AT_SYMLINK_NOFOLLOW) != 0 || !was_carried(os, &ts))
                renameat2(sfd, nm, tfd, nm, RENAME_EXCHANGE);
        }
        free(r);
    }
    /* removed meanwhile: what carry brought over, no longer in the old target
    ** (the path inside the target made only for those, to test is_output) */
    while ((e = readdir(d2))) {
        const char *nm = e->d_name;
        struct stat ss, ts;
        if (fstatat(sfd, nm, &ss, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT ||
            fstatat(tfd, nm, &ts, AT_SYMLINK_NOFOLLOW) != 0 || S_ISDIR(ts.st_mode) || !was_carried(os, &ts))
            continue;
        char *r = *rel ? join(rel, nm) : strdup(nm);
        if (r && !is_output(os, r)) unlinkat(tfd, nm, 0);
        free(r);
    }
    closedir(d);
    closedir(d2);
    return bad;
}

/* The old target, at path after the swap: settled (reclaim) and removed,
** or kept beside the new one as ".<name>.pda-kept-<pid>-XXXXXX" when
** something in it could not be settled. */
static void settle_old(outset *os, const char *path)
{
    if (os->n_carried) qsort(os->carried, os->n_carried, sizeof *os->carried, id_cmp);
    int sfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int tfd = open(os->real, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    /* twice: a file whose creation was under way at the swap may land in
    ** the old folder behind the first pass's reading of it */
    size_t bad = sfd >= 0 && tfd >= 0 ? (reclaim(os, sfd, tfd, ""), reclaim(os, sfd, tfd, "")) : 1;
    if (sfd >= 0) close(sfd);
    if (tfd >= 0) close(tfd);
    /* ".pda-new-" (or ".pda-old-") becomes ".pda-kept-": not a name sio_sweep_stale removes */
    const char *mark = strstr(path, ".pda-new-");
    if (!mark) mark = strstr(path, ".pda-old-");
    size_t n = strlen(path) + 2;
    char *kept = bad && mark ? malloc(n) : NULL;
    if (kept) snprintf(kept, n, "%.*s.pda-kept-%s", (int)(mark - path), path, mark + 9);
    if (!kept || rename(path, kept) != 0) sio_remove_tree(path);
    free(kept);
}

/* The staging folder becomes the target in one exchange; what others made
** in the old target meanwhile is moved over (reclaim), and the old target,
** now at the staging folder's name, is removed. Without RENAME_EXCHANGE:
** the old target moved aside, the new one renamed in, the old one reclaimed
** and removed. */
static int swap_in(outset *os, sio_error *err)
{
    if (renameat2(AT_FDCWD, os->stage, AT_FDCWD, os->real, RENAME_EXCHANGE) == 0) {
        settle_old(os, os->stage);
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
        settle_old(os, old);
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
    /* whole, or not begun, when a signal's clean-up runs (sio_commit_lock):
    ** it would otherwise remove the staging folder while carry links the
    ** folder's files into it and swap_in exchanges it with the folder */
    sio_commit_lock();
    int rc = SIO_OK;
    for (size_t k = 0; k < os->n; k++) {
        if (ok && rc == SIO_OK) rc = sio_out_commit(os->o[k], err);
        else sio_out_abort(os->o[k]);
    }
    if (ok && !rc && os->stage) {
        if (os->in_place) {
            rc = rename_each(os, err);
        } else if (!(rc = carry(os, os->real, os->stage, err))) {
            rc = swap_in(os, err);
        }
    }
    for (size_t k = 0; k < os->n; k++) free(os->names[k]);
    if (os->stage) {
        sio_remove_tree(os->stage);   /* what is left: the old set, or the dropped new one */
        sio_cleanup_remove(os->stage);
    }
    if (!ok || rc) outset_remove_made(os->dir, os->made);   /* the folder it made, if still empty */
    outset_made_free(os->dir, os->made);
    os->made = NULL;
    free(os->o);
    free(os->names);
    free(os->carried);
    os->carried = NULL;
    os->n_carried = os->cap_carried = 0;
    free(os->stage);
    free(os->real);
    os->o = NULL;
    os->names = NULL;
    os->stage = os->real = NULL;
    os->n = os->cap = 0;
    sio_commit_unlock();
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
    /* a signal that ends the command removes them too (sio_cleanup_run) */
    if (top && sio_cleanup_add_made(path, top)) {
        free(top);
        top = NULL;
    }
    return top;
}

void outset_remove_made(const char *path, const char *top)
{
    if (top) sio_remove_made(path, top);
}

void outset_made_free(const char *path, char *top)
{
    if (top) sio_cleanup_remove_made(path, top);
    free(top);
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
    struct stat sl;
    if (errno == ENOENT && lstat(path, &sl) == 0 && S_ISLNK(sl.st_mode)) {   /* usage too */
        sio_error_set(err, path, 0, 0, "a link to a folder that does not exist");
        return SIO_EINPUT;
    }
    sio_error_set(err, path, 0, 0, "cannot create the output folder: %s", strerror(errno));
    return SIO_EIO;
}
