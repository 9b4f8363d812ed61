/* cmd_mpi.c -- what the command's two MPI layers share (cmd_sweep_mpi.c,
** cmd_run_mpi.c): starting MPI. Built only when Open MPI is there
** (PDA_WITH_MPI); without it, cmd_no_mpi (cmd_check.c) says so. */
#include <mpi.h>
#include <stdio.h>

#include "cmd.h"

int cmd_mpi_init(int *rank, int *size, sio_error *err)
{
    int provided = 0;
    *rank = 0;
    *size = 1;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "analyzer: MPI_Init_thread failed\n");
        return -1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    err->text[0] = 0;
    if (provided >= MPI_THREAD_FUNNELED) return EXIT_OK;
    sio_error_set(err, NULL, 0, 0, "analyzer: this MPI gives no thread support (MPI_THREAD_FUNNELED)");
    return EXIT_IO;
}
