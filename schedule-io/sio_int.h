/* sio_int.h -- private to the library: memory and thread helpers that
** schedule-io uses for its big flat arrays and that the other library
** modules (analyzer/, thermal/, budgets/) share. Not installed, not part of
** the API in sio.h. */
#ifndef PDA_SIO_INT_H
#define PDA_SIO_INT_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sio.h"

/* realloc for big flat arrays: past 8 MiB the pages are backed at once
** rather than faulted in one by one as they are first written. The memory
** is whatever realloc leaves there. */
void *sio_big(void *p, size_t bytes);
/* Two jobs at once: fb(b) on a thread of its own while fa(a) runs on the
** caller's, returning when both are done. With two = 0, or when no thread
** can be started, fa(a) and then fb(b) run on the caller's thread. Results
** travel in a and b; the return values of fa and fb are not kept. */
void sio_both(int two, void *(*fa)(void *), void *a, void *(*fb)(void *), void *b);
/* sio_big's two halves: realloc (not backed yet),
** and backing the whole pages inside [p, p + bytes) now. Writers of
** different parts of one array may each back their own part. */
void *sio_reserve(void *p, size_t bytes);
void sio_populate(void *p, size_t bytes);
/* Copies bytes from src to dst in pieces, backing dst's pages and giving
** src's whole pages back to the system as it goes, so that moving a big
** array costs the memory of a piece, not of a second array. src holds
** garbage afterwards (free it). */
void sio_copy_release(void *dst, void *src, size_t bytes);

/* ---- file-system helpers of the writers (sio_fs.c) --------------------- */

/* SIO_OK when path may become an output file: absent, or a regular file;
** a symbolic link, a folder, a device, a pipe or an empty path is refused
** (SIO_EINPUT, *err says which). */
int sio_out_target_ok(const char *path, sio_error *err);
/* An anonymous temporary file in dir (NULL: $TMPDIR, else /tmp), open for
** reading and writing: O_TMPFILE, or a named one unlinked at once, so it is
** gone with the process whatever happens to it. NULL with err set ("cannot
** make a temporary file for WHAT: ..."). */
FILE *sio_anon_file(const char *dir, const char *what, sio_error *err);
/* Removes path, a file or a whole folder (links are removed, not
** followed); 0, or -1 with errno set. A path that is not there is 0. */
int sio_remove_tree(const char *path);
/* The names a signal must remove: named temporary files and staging
** folders are registered while they exist; sio_cleanup_run removes every
** registered one (the command calls it when a signal ends it). */
int sio_cleanup_add(const char *path);
void sio_cleanup_remove(const char *path);
void sio_cleanup_run(void);
/* The commit lock (sio_fs.c): a commit that must not be cut by the signal's
** clean-up runs between these; sio_cleanup_run waits for it. Recursive. */
void sio_commit_lock(void);
void sio_commit_unlock(void);
/* The output folder path, made by the command from top down (top, the
** highest folder that was missing, and every one below it to path): kept
** for sio_cleanup_run, which removes each of them that is empty again,
** path first (sio_remove_made). sio_cleanup_remove_made forgets the pair. */
int sio_cleanup_add_made(const char *path, const char *top);
void sio_cleanup_remove_made(const char *path, const char *top);
void sio_remove_made(const char *path, const char *top);
/* Removes what runs that are gone left in dir: entries named
** "*.pda-tmp-<pid>-*", "*.pda-new-<pid>-*" or "*.pda-old-<pid>-*" whose
** process no longer exists. */
void sio_sweep_stale(const char *dir);

/* sio_schedule_from_buffer, as if lines_before blank lines came before the
** text: its lines and the positions of its errors are counted from
** lines_before + 1. For tests of positions past 2^31 and 2^32 lines,
** which a real file takes a minute to reach. The schedule does not keep
** lines_before: an error of sio_schedule_verify (also the last check of the
** load) has its line but no column. */
struct sio_chip;
struct sio_schedule;
struct sio_load_opts;
struct sio_error;
int sio_schedule_from_buffer_at(const struct sio_chip *chip, const char *name, const char *text, size_t len,
                                const struct sio_load_opts *opts, uint64_t lines_before,
                                struct sio_schedule **out, struct sio_error *err);

/* s (n bytes) for quoting in a message, cut to fit buf (cap bytes, >= 8):
** at most cap - 4 bytes, never inside a UTF-8 character, then "..." when
** cut; NUL-terminated. Returns buf. (sio_error_set escapes it.) */
const char *sio_quote(const char *s, size_t n, char *buf, size_t cap);

/* The first of the n bytes at s that a name may not hold (names go into
** CSV, JSON and HTML outputs: no comma, double quote or control
** character), or n when there is none. */
size_t sio_name_bad(const char *s, size_t n);

/* 1 when the n bytes at s (inside a NUL-terminated string) are valid UTF-8
** and hold no NUL. */
int sio_utf8_valid(const char *s, size_t n);

/* s as a JSON string literal on f: quotes, backslashes and control
** characters escaped, valid UTF-8 as it is, and each byte that is not part
** of a valid UTF-8 character (ids and paths are bytes) as U+FFFD, so that
** any reader takes the file. html: also <, > and & escaped, for JSON inside
** an HTML page's script element. */
void sio_json_string(FILE *f, const char *s, int html);

#endif
