/* swap_hook.c -- an LD_PRELOAD shim for tests/e2e_faults_out.sh: around the
** first renameat2 with RENAME_EXCHANGE (an output set's swap, outset.c) it
** runs the shell commands $PDA_HOOK_BEFORE and $PDA_HOOK_AFTER, so the test
** can change the output folder exactly between the carry and the swap, and
** right after it. Built by the test with `cc -shared -fPIC`; not part of
** the library. */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)
{
    static int (*real)(int, const char *, int, const char *, unsigned int);
    static int done;
    if (!real) *(void **)&real = dlsym(RTLD_NEXT, "renameat2");
    int first = (flags & RENAME_EXCHANGE) && !done;
    const char *before = getenv("PDA_HOOK_BEFORE"), *after = getenv("PDA_HOOK_AFTER");
    if (first) done = 1;
    if (first && before && system(before) != 0) fprintf(stderr, "swap_hook: PDA_HOOK_BEFORE failed\n");
    int rc = real(olddirfd, oldpath, newdirfd, newpath, flags);
    if (first && after && system(after) != 0) fprintf(stderr, "swap_hook: PDA_HOOK_AFTER failed\n");
    return rc;
}
