/* bench_pdn.c -- droop of a 10^7-bin (1 ns) waveform through the DESIGN
** example ladder: model creation (kernel + plans), then the convolution in
** one piece and in 65536-bin tiles. Prints figures; exits 0. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pdn.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(void)
{
    sio_stage st[3] = {
        {"board", 1.5e-4, 1e-9, 5e-3, 2e-4, 0.0},
        {"package", 5e-5, 2e-11, 1e-4, 1.5e-4, 0.0},
        {"die", 1e-4, 1e-12, 2.5e-6, 1e-4, 0.0},
    };
    sio_rail rail = {.name = "core", .vdd_v = 0.8, .stages = st, .n_stages = 3};
    sio_error err = {0};
    pdn_model *m = NULL;
    double t0 = now_s();
    if (pdn_model_create(&rail, 1.0, &m, &err) != PDN_OK) {
        fprintf(stderr, "bench_pdn: %s\n", err.text);
        return 1;
    }
    double t_model = now_s() - t0;
    size_t n = 10000000;
    double *i = malloc(n * sizeof *i), *v = malloc(n * sizeof *v);
    if (!i || !v) return 1;
    uint32_t x = 1;
    for (size_t k = 0; k < n;) {
        x = x * 1664525u + 1013904223u;
        size_t len = 1 + (x >> 10) % 200;
        double lvl = 62.0 + (double)((x >> 4) % 300);
        for (size_t j = 0; j < len && k < n; j++, k++) i[k] = lvl;
    }
    t0 = now_s();
    pdn_droop(m, 62.0, i, n, v);
    double t_one = now_s() - t0;
    double worst = 0.0;
    for (size_t k = 0; k < n; k++) if (v[k] > worst) worst = v[k];
    pdn_stream *s = NULL;
    pdn_stream_create(m, 62.0, &s);
    t0 = now_s();
    for (size_t k = 0; k < n; k += 65536)
        pdn_stream_push(s, i + k, n - k < 65536 ? n - k : 65536, v + k);
    double t_tiles = now_s() - t0;
    pdn_stream_destroy(s);
    printf("pdn: kernel %zu taps (%.1f us), FFT %zu, block %zu bins\n", pdn_model_kernel_len(m),
           (double)pdn_model_kernel_len(m) * 1e-3, pdn_model_fft_len(m), pdn_model_block_len(m));
    printf("pdn: model create %.3f s\n", t_model);
    printf("pdn: droop of %zu bins: %.3f s in one piece (%.1f ns/bin), %.3f s in 65536-bin tiles\n",
           n, t_one, t_one * 1e9 / (double)n, t_tiles);
    printf("pdn: worst droop %.2f mV\n", worst * 1e3);
    free(i);
    free(v);
    pdn_model_destroy(m);
    return 0;
}
