/* sio_fs.c -- output files written whole or not at all, temporary files that
** do not outlive the process, and the removal of what a killed run left.
**
** An output file (sio_out) is written to an anonymous file in its target's
** folder (O_TMPFILE: it has no name, so nothing is left behind whatever
** happens to the process) and given its name only when complete: linked
** under a temporary name, then renamed over the target. Where the file
** system has no O_TMPFILE the temporary file is named
** "<target>.pda-tmp-<pid>-XXXXXX" from the start; those names, and the
** staging folders of output sets (outset.c: ".pda-new-<pid>-", ".pda-old-
** <pid>-"), are registered for the command's signal handling
** (sio_cleanup_run) and swept by a later run once their process is gone
** (sio_sweep_stale). A target that is a symbolic link or not a regular
** file is refused: pda never writes through a link or into a device.
**
** The target "-" is the process's stdout: the data still goes to an
** anonymous file (in $TMPDIR), copied to stdout at the commit, so that it
** comes whole or not at all there too (a command asks for it: `-o -`). */
#define _GNU_SOURCE 1   /* O_TMPFILE */
#define _XOPEN_SOURCE 700   /* nftw */
#include "sio.h"
#include "sio_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* ---- the names a signal must remove ----------------------------------- */

/* One registry: named temporary files and staging folders (top NULL: the
** whole tree goes), and the output folders a command made (path, and top,
** the highest of them: each goes while empty, sio_remove_made). */
typedef struct reg_entry {
    char *path, *top;
} reg_entry;
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static reg_entry *reg;
static size_t reg_n, reg_cap;

/* The commit lock: a commit (an output file renamed into place, an output
** set's staging folder filled with the folder's other files and exchanged
** with it, and what was left settled) runs whole under it, and the signal's
** clean-up takes it first and keeps it. So a signal that comes during a
** commit waits for it to end (the set then lands whole), and none starts
** after the clean-up. Recursive: a set's commit commits its files. */
static pthread_mutex_t commit_mu;
static pthread_once_t commit_once = PTHREAD_ONCE_INIT;

static void commit_init(void)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&commit_mu, &a);
    pthread_mutexattr_destroy(&a);
}

void sio_commit_lock(void)
{
    pthread_once(&commit_once, commit_init);
    pthread_mutex_lock(&commit_mu);
}

void sio_commit_unlock(void) { pthread_mutex_unlock(&commit_mu); }

static int same(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

static int reg_add(const char *path, const char *top)
{
    char *p = strdup(path), *q = top ? strdup(top) : NULL;
    if (!p || (top && !q)) {
        free(p);
        free(q);
        return SIO_ENOMEM;
    }
    pthread_mutex_lock(&reg_mu);
    if (reg_n == reg_cap) {
        size_t c = reg_cap ? 2 * reg_cap : 8;
        reg_entry *r = realloc(reg, c * sizeof *r);
        if (!r) {
            pthread_mutex_unlock(&reg_mu);
            free(p);
            free(q);
            return SIO_ENOMEM;
        }
        reg = r;
        reg_cap = c;
    }
    reg[reg_n++] = (reg_entry){p, q};
    pthread_mutex_unlock(&reg_mu);
    return SIO_OK;
}

static void reg_drop(const char *path, const char *top)
{
    pthread_mutex_lock(&reg_mu);
    for (size_t k = 0; k < reg_n; k++)
        if (!strcmp(reg[k].path, path) && same(reg[k].top, top)) {
            free(reg[k].path);
            free(reg[k].top);
            reg[k] = reg[--reg_n];
            break;
        }
    if (!reg_n) {
        free(reg);
        reg = NULL;
        reg_cap = 0;
    }
    pthread_mutex_unlock(&reg_mu);
}

int sio_cleanup_add(const char *path) { return reg_add(path, NULL); }
void sio_cleanup_remove(const char *path) { reg_drop(path, NULL); }
int sio_cleanup_add_made(const char *path, const char *top) { return reg_add(path, top); }
void sio_cleanup_remove_made(const char *path, const char *top) { reg_drop(path, top); }

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int sio_remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(sb.st_mode)) return unlink(path);
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* path without the slashes that end it (one is kept for "/") */
static void strip_slashes(char *p)
{
    for (size_t n = strlen(p); n > 1 && p[n - 1] == '/'; n--) p[n - 1] = 0;
}

void sio_remove_made(const char *path, const char *top)
{
    char *p = strdup(path), *t = strdup(top);
    if (!p || !t) { free(p); free(t); return; }
    strip_slashes(p);
    strip_slashes(t);
    size_t nt = strlen(t);
    /* from path up to top; one not made yet (a signal during the mkdirs) is
    ** passed over, one that holds something ends the climb */
    while (strlen(p) >= nt && (rmdir(p) == 0 || errno == ENOENT) && strlen(p) > nt) {
        char *slash = strrchr(p, '/');
        if (!slash || slash == p) break;
        *slash = 0;
        strip_slashes(p);
    }
    free(p);
    free(t);
}

void sio_cleanup_run(void)
{
    sio_commit_lock();   /* a commit under way ends first; none starts after (never given back) */
    pthread_mutex_lock(&reg_mu);
    for (size_t k = 0; k < reg_n; k++)
        if (!reg[k].top) sio_remove_tree(reg[k].path);
    /* then the folders made for the outputs, now empty again */
    for (size_t k = 0; k < reg_n; k++)
        if (reg[k].top) sio_remove_made(reg[k].path, reg[k].top);
    pthread_mutex_unlock(&reg_mu);
}

/* The pid in a name holding marker followed by "<pid>-", or 0. */
static long marked_pid(const char *name, const char *marker)
{
    const char *m = strstr(name, marker);
    if (!m) return 0;
    char *end;
    long pid = strtol(m + strlen(marker), &end, 10);
    return pid > 0 && *end == '-' ? pid : 0;
}

void sio_sweep_stale(const char *dir)
{
    static const char *const markers[] = {".pda-tmp-", ".pda-new-", ".pda-old-"};
    DIR *d = opendir(dir && *dir ? dir : ".");
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        for (size_t k = 0; k < sizeof markers / sizeof markers[0]; k++) {
            long pid = marked_pid(e->d_name, markers[k]);
            /* a process that is gone (another one's staging is left alone) */
            if (!pid || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
            size_t n = strlen(dir) + strlen(e->d_name) + 2;
            char *p = malloc(n);
            if (p) {
                snprintf(p, n, "%s/%s", dir, e->d_name);
                sio_remove_tree(p);
                free(p);
            }
            break;
        }
    }
    closedir(d);
}

/* ---- one output file --------------------------------------------------- */

struct sio_out {
    FILE *f;
    char *path;     /* the target */
    char *tmp;      /* the temporary file's name; NULL while it has none (O_TMPFILE) */
    int to_stdout;  /* the target is "-" */
};

FILE *sio_anon_file(const char *dir, const char *what, sio_error *err)
{
    if (!dir) dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    int fd = -1;
#ifdef O_TMPFILE
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
    if (fd < 0) {   /* no anonymous files here: a named one, unlinked at once */
        char path[4096];
        snprintf(path, sizeof path, "%s/pda-tmp-XXXXXX", dir);
        fd = mkstemp(path);
        if (fd >= 0) unlink(path);
    }
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w+b");
    if (!f) {
        sio_error_set(err, dir, 0, 0, "cannot make a temporary file for %s: %s", what, strerror(errno));
        if (fd >= 0) close(fd);
    }
    return f;
}

/* The commit of "-": the anonymous file copied to stdout. */
static int copy_to_stdout(sio_out *o, sio_error *err)
{
    char buf[1 << 16];
    size_t n;
    int bad = fflush(o->f) != 0 || ferror(o->f) || fseek(o->f, 0, SEEK_SET) != 0;
    while (!bad && (n = fread(buf, 1, sizeof buf, o->f)) > 0) bad = fwrite(buf, 1, n, stdout) != n;
    if (bad || ferror(o->f) || fflush(stdout) != 0) {
        sio_error_set(err, "stdout", 0, 0, "write failed: %s", strerror(errno));
        return SIO_EIO;
    }
    return SIO_OK;
}

/* The folder of path ("." when it has none), malloc'd. */
static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = 0;
    }
    return d;
}

int sio_out_target_ok(const char *path, sio_error *err)
{
    struct stat sb;
    if (!*path) {
        sio_error_set(err, NULL, 0, 0, "an output path is empty");
        return SIO_EINPUT;
    }
    if (lstat(path, &sb) != 0) return SIO_OK;   /* a new file */
    if (S_ISLNK(sb.st_mode)) {
        sio_error_set(err, path, 0, 0, "is a symbolic link: outputs are not written through links; "
                                       "give the path of the file itself");
        return SIO_EINPUT;
    }
    if (!S_ISREG(sb.st_mode)) {
        sio_error_set(err, path, 0, 0, "is %s, not a regular file: refusing to replace it",
                      S_ISDIR(sb.st_mode) ? "a folder" : "a device, pipe or socket");
        return SIO_EINPUT;
    }
    return SIO_OK;
}

int sio_out_open(const char *path, sio_out **out, sio_error *err)
{
    *out = NULL;
    if (!strcmp(path, "-")) {
        sio_out *o = calloc(1, sizeof *o);
        if (!o || !(o->path = strdup(path))) {
            free(o);
            sio_error_set(err, "stdout", 0, 0, "out of memory");
            return SIO_ENOMEM;
        }
        if (!(o->f = sio_anon_file(NULL, "stdout's output", err))) {
            free(o->path);
            free(o);
            return SIO_EIO;
        }
        o->to_stdout = 1;
        *out = o;
        return SIO_OK;
    }
    int rc = sio_out_target_ok(path, err);
    if (rc) return rc;
    sio_out *o = calloc(1, sizeof *o);
    char *dir = folder_of(path);
    size_t n = strlen(path);
    if (!o || !dir || !(o->path = strdup(path))) goto oom;
    int fd = -1;
#ifdef O_TMPFILE
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
#endif
    if (fd < 0) {   /* no anonymous files here: a named one, registered and swept */
        sio_sweep_stale(dir);
        if (!(o->tmp = malloc(n + 48))) goto oom;
        snprintf(o->tmp, n + 48, "%s.pda-tmp-%ld-XXXXXX", path, (long)getpid());
        fd = mkstemp(o->tmp);
        if (fd >= 0) {
            fchmod(fd, 0644);   /* mkstemp makes 0600; outputs are ordinary files */
            if (sio_cleanup_add(o->tmp)) { close(fd); unlink(o->tmp); goto oom; }
        }
    }
    if (fd < 0 || !(o->f = fdopen(fd, "w+b"))) {   /* readable too: a report may inline it */
        sio_error_set(err, path, 0, 0, "cannot create: %s", strerror(errno));
        if (fd >= 0) close(fd);
        if (o->tmp) { unlink(o->tmp); sio_cleanup_remove(o->tmp); }
        free(o->tmp); free(o->path); free(o); free(dir);
        return SIO_EIO;
    }
    free(dir);
    *out = o;
    return SIO_OK;
oom:
    if (o) { free(o->tmp); free(o->path); }
    free(o);
    free(dir);
    sio_error_set(err, path, 0, 0, "out of memory");
    return SIO_ENOMEM;
}

void *sio_out_file(sio_out *o) { return o->f; }

static void out_free(sio_out *o)
{
    if (o->tmp) sio_cleanup_remove(o->tmp);
    free(o->tmp);
    free(o->path);
    free(o);
}

int sio_out_commit(sio_out *o, sio_error *err)
{
    int rc = SIO_OK;
    if (o->to_stdout) {
        rc = copy_to_stdout(o, err);
        fclose(o->f);
        out_free(o);
        return rc;
    }
    if (fflush(o->f) != 0 || ferror(o->f) || fsync(fileno(o->f)) != 0) {
        sio_error_set(err, o->path, 0, 0, "write failed: %s", strerror(errno));
        rc = SIO_EIO;
    }
    /* from the temporary name to the rename, whole (the commit lock): a
    ** signal meanwhile would leave the name behind */
    sio_commit_lock();
    if (!rc && !o->tmp) {   /* an anonymous file: a name first, through /proc */
        char proc[64];
        size_t n = strlen(o->path) + 48;
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fileno(o->f));
        if (!(o->tmp = malloc(n))) {
            sio_error_set(err, o->path, 0, 0, "out of memory");
            rc = SIO_ENOMEM;
        } else {
            static unsigned seq;
            snprintf(o->tmp, n, "%s.pda-tmp-%ld-%u", o->path, (long)getpid(),
                     __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
            if (linkat(AT_FDCWD, proc, AT_FDCWD, o->tmp, AT_SYMLINK_FOLLOW) != 0) {
                sio_error_set(err, o->path, 0, 0, "cannot give the file its name: %s", strerror(errno));
                free(o->tmp);
                o->tmp = NULL;
                rc = SIO_EIO;
            }
        }
    }
    if (fclose(o->f) != 0 && !rc) {
        sio_error_set(err, o->path, 0, 0, "write failed: %s", strerror(errno));
        rc = SIO_EIO;
    }
    if (!rc && rename(o->tmp, o->path) != 0) {
        sio_error_set(err, o->path, 0, 0, "cannot rename into place: %s", strerror(errno));
        rc = SIO_EIO;
    }
    if (rc && o->tmp) unlink(o->tmp);
    out_free(o);
    sio_commit_unlock();
    return rc;
}

void sio_out_abort(sio_out *o)
{
    if (!o) return;
    fclose(o->f);
    if (o->tmp) unlink(o->tmp);
    out_free(o);
}
