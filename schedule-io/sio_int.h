/* sio_int.h -- private to the library: memory and thread helpers that
** schedule-io uses for its big flat arrays and that the other library
** modules (analyzer/, thermal/, budgets/) share. Not installed, not part of
** the API in sio.h. */
#ifndef PDA_SIO_INT_H
#define PDA_SIO_INT_H
#include <stddef.h>

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

/* s (n bytes) for quoting in a message, cut to fit buf (cap bytes, >= 8):
** at most cap - 4 bytes, never inside a UTF-8 character, then "..." when
** cut; NUL-terminated. Returns buf. (sio_error_set escapes it.) */
const char *sio_quote(const char *s, size_t n, char *buf, size_t cap);

#endif
