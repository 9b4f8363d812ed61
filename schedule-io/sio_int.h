/* sio_int.h -- private to the library: memory and thread helpers that
** schedule-io uses for its big flat arrays and that the other library
** modules (analyzer/, thermal/, budgets/) share. Not installed, not part of
** the API in sio.h. */
#ifndef PDA_SIO_INT_H
#define PDA_SIO_INT_H
#include <stddef.h>
#include <stdint.h>

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

#endif
