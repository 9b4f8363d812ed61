/* outset.h -- a set of output files in one folder, committed together
** (outset_): each file is written to a temporary file beside its place;
** outset_finish renames them all into place, or removes them all. Used by
** every writer of several files (`run -o DIR`, exports). */
#ifndef PDA_OUTSET_H
#define PDA_OUTSET_H
#include <stddef.h>

#include "sio.h"

typedef struct outset {
    const char *dir;
    sio_out **o;
    size_t n, cap;
    char **names;              /* as given to outset_add */
    const char *const *inputs; /* paths no output may replace (n_inputs of them) */
    size_t n_inputs;
    char *made;                /* the folder outset_mkdir made (removed when aborted) */
} outset;

/* Opens dir/name as a pending output (refused when it is one of the inputs). */
int outset_add(outset *os, const char *name, sio_out **out, sio_error *err);
/* Commits every pending output (ok != 0) or aborts them all; frees the list.
** Returns the first commit error (the rest are then aborted). */
int outset_finish(outset *os, int ok, sio_error *err);
/* The bytes written so far to pending output k (malloc'd, *len set), or NULL. */
unsigned char *outset_read(outset *os, size_t k, size_t *len);
/* Makes the folder dir/sub (existing is fine); one per set. */
int outset_mkdir(outset *os, const char *sub, sio_error *err);
/* mkdir -p: 0, or -1 with errno set and *err saying why ("not a folder"
** when path exists and is not one). */
int outset_mkdirs(const char *path, sio_error *err);

#endif
