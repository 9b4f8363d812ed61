/* outset.h -- a set of output files in one folder, committed as a whole
** (outset_): all of them land, or none does, also when the process is
** killed or the machine stops.
**
** The files are written into a staging folder beside the target folder
** (".<name>.pda-new-<pid>-XXXXXX", same file system). On commit, whatever
** else the target folder holds is hard-linked into the staging folder
** (nothing of the user's is lost), and the two folders are exchanged in one
** atomic rename (renameat2 RENAME_EXCHANGE); what others made, replaced or
** removed in the target meanwhile is then settled in the new one (reclaim),
** and the old one is removed (kept, renamed ".<name>.pda-kept-...", when
** something in it could not be settled).
** Before the exchange the target is untouched; after it, it holds the whole
** new set. A staging folder left by a killed run is removed by the next run
** in the same place (sio_sweep_stale), or by the command's signal handling.
**
** Two cases are weaker, and said so in docs/outputs.md: a file system
** without RENAME_EXCHANGE gets two renames (the old folder first moved
** aside as ".<name>.pda-old-<pid>-XXXXXX"), and a target that is a mount
** point is staged inside itself and its files renamed one by one. */
#ifndef PDA_OUTSET_H
#define PDA_OUTSET_H
#include <stddef.h>

#include "sio.h"

typedef struct outset {
    const char *dir;           /* the target folder, as given */
    const char *const *inputs; /* paths no output may replace (n_inputs of them) */
    size_t n_inputs;
    /* set by the first outset_add */
    char *real;                /* the target folder with its links followed */
    char *stage;               /* the staging folder */
    int in_place;              /* the target is a mount point: staged inside it */
    sio_out **o;
    size_t n, cap;
    char **names;              /* as given to outset_add */
    char *made;                /* the highest folder of dir the set made (outset_missing_top), or NULL */
    struct outset_id *carried; /* what carry brought over from the target (sorted), for reclaim */
    size_t n_carried, cap_carried;
} outset;

/* Opens dir/name as a pending output (refused when it is one of the inputs,
** or when dir/name is a link, a folder or a special file). */
int outset_add(outset *os, const char *name, sio_out **out, sio_error *err);
/* Before any work: outset_add's checks of dir/names[k] (no input replaced,
** no link, folder or special file in the way) on the folder as it is now;
** a folder or file that is not there yet passes. SIO_OK, or SIO_EINPUT with
** *err naming the first that fails. */
int outset_check(const char *dir, const char *const *names, size_t n, const char *const *inputs, size_t n_inputs,
                 sio_error *err);
/* Commits the set (ok != 0) or drops it; frees the list. Returns the first
** error; on any error the target folder is as it was. */
int outset_finish(outset *os, int ok, sio_error *err);
/* The bytes written so far to pending output k (malloc'd, *len set), or NULL. */
unsigned char *outset_read(outset *os, size_t k, size_t *len);
/* Makes the folder sub of the set (existing is fine). */
int outset_mkdir(outset *os, const char *sub, sio_error *err);
/* mkdir -p: SIO_OK; SIO_EINPUT for an empty path or one that is a file
** ("not a folder"), SIO_EIO when a folder cannot be made; *err says why. */
int outset_mkdirs(const char *path, sio_error *err);
/* Before outset_mkdirs: the topmost folder of path that does not exist yet
** (malloc'd), or NULL when path exists (or no memory: then nothing is undone).
** Until outset_made_free, a signal that ends the command removes the
** folders made (those still empty). */
char *outset_missing_top(const char *path);
/* After a run that failed: removes path and its parents up to top (from
** outset_missing_top; NULL: nothing), each only while it is empty. */
void outset_remove_made(const char *path, const char *top);
/* Frees top (from outset_missing_top; NULL is a no-op) and forgets it for
** the signal's clean-up. */
void outset_made_free(const char *path, char *top);

#endif
