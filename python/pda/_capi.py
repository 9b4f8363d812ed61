"""The C side of the pda module: finding libpda.so, the structs of the public
headers as ctypes.Structure (same field order and types), and the prototypes
of the functions the module calls. Nothing here is meant for users; the API
is in pda/__init__.py.

Every struct below mirrors a typedef of analyzer/pda.h and the headers it
includes (schedule-io/sio.h, analyzer/events.h, analyzer/margin.h,
budgets/budget.h). tests/python/test_pda.py compiles a small C program that
prints sizeof and offsetof of each of them and compares with ctypes, so a
header that changes without this file fails the tests.
"""
import ctypes
import ctypes.util
import os

c_double_p = ctypes.POINTER(ctypes.c_double)
c_int64_p = ctypes.POINTER(ctypes.c_int64)
c_size_t_p = ctypes.POINTER(ctypes.c_size_t)
PROGRESS = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_double)


def _s(name, fields):
    """A ctypes.Structure named like its C typedef."""
    return type(name, (ctypes.Structure,), {"_fields_": fields})


# ---- schedule-io/sio.h ------------------------------------------------------

sio_error = _s("sio_error", [
    ("line", ctypes.c_int64),
    ("col", ctypes.c_int64),
    ("text", ctypes.c_char * 1024),
])

sio_die = _s("sio_die", [("id", ctypes.c_int), ("name", ctypes.c_char_p)])

sio_stage = _s("sio_stage", [
    ("name", ctypes.c_char_p),
    ("r_ohm", ctypes.c_double), ("l_h", ctypes.c_double), ("c_f", ctypes.c_double),
    ("esr_ohm", ctypes.c_double), ("esl_h", ctypes.c_double),
])

sio_vrm = _s("sio_vrm", [
    ("present", ctypes.c_int),
    ("sense", ctypes.c_char_p),
    ("sense_node", ctypes.c_size_t),
    ("bandwidth_hz", ctypes.c_double),
    ("loadline_ohm", ctypes.c_double),
    ("line", ctypes.c_int64), ("col", ctypes.c_int64),
])

sio_rail = _s("sio_rail", [
    ("name", ctypes.c_char_p),
    ("vdd_v", ctypes.c_double),
    ("guardband_mv", ctypes.c_double),
    ("didt_limit_a_per_ns", ctypes.c_double),
    ("didt_window_ns", ctypes.c_double),
    ("stages", ctypes.POINTER(sio_stage)),
    ("n_stages", ctypes.c_size_t),
    ("impedance_csv", ctypes.c_char_p),
    ("z_f_hz", c_double_p), ("z_re_ohm", c_double_p), ("z_im_ohm", c_double_p),
    ("n_z", ctypes.c_size_t),
    ("vrm", sio_vrm),
])

sio_unit = _s("sio_unit", [
    ("name", ctypes.c_char_p),
    ("cls", ctypes.c_size_t),
    ("die", ctypes.c_size_t),
    ("rail", ctypes.c_size_t),
    ("rect_mm", ctypes.c_double * 4),
    ("idle_a", ctypes.c_double),
    ("leak_a", ctypes.c_double),
    ("leak_beta_per_k", ctypes.c_double),
])

sio_op = _s("sio_op", [
    ("name", ctypes.c_char_p),
    ("cls", ctypes.c_size_t),
    ("current_a", ctypes.c_double),
    ("ramp_cycles", ctypes.c_int64),
])

sio_layer = _s("sio_layer", [
    ("name", ctypes.c_char_p),
    ("has_die", ctypes.c_int),
    ("die", ctypes.c_size_t),
    ("thickness_m", ctypes.c_double), ("k_w_mk", ctypes.c_double), ("cv_j_m3k", ctypes.c_double),
])

sio_leakage = _s("sio_leakage", [
    ("present", ctypes.c_int),
    ("t_ref_c", ctypes.c_double),
    ("beta_per_k", ctypes.c_double),
])

sio_thermal = _s("sio_thermal", [
    ("present", ctypes.c_int),
    ("ambient_c", ctypes.c_double),
    ("grid", ctypes.c_size_t * 2),
    ("h_top_w_m2k", ctypes.c_double),
    ("h_bottom_w_m2k", ctypes.c_double),
    ("hotspot_c", ctypes.c_double),
    ("limit_c", ctypes.c_double),
    ("frame_ns", ctypes.c_int64),
    ("layers", ctypes.POINTER(sio_layer)),
    ("n_layers", ctypes.c_size_t),
    ("leakage", sio_leakage),
])

sio_chip = _s("sio_chip", [
    ("path", ctypes.c_char_p),
    ("name", ctypes.c_char_p),
    ("clock_ghz", ctypes.c_double),
    ("outline_mm", ctypes.c_double * 2),
    ("dies", ctypes.POINTER(sio_die)), ("n_dies", ctypes.c_size_t),
    ("rails", ctypes.POINTER(sio_rail)), ("n_rails", ctypes.c_size_t),
    ("units", ctypes.POINTER(sio_unit)), ("n_units", ctypes.c_size_t),
    ("ops", ctypes.POINTER(sio_op)), ("n_ops", ctypes.c_size_t),
    ("classes", ctypes.POINTER(ctypes.c_char_p)), ("n_classes", ctypes.c_size_t),
    ("thermal", sio_thermal),
])

sio_schedule = _s("sio_schedule", [
    ("path", ctypes.c_char_p),
    ("n", ctypes.c_size_t),
    ("n_chips", ctypes.c_size_t),
    ("unit", ctypes.POINTER(ctypes.c_uint32)),
    ("op", ctypes.POINTER(ctypes.c_uint32)),
    ("chip", ctypes.POINTER(ctypes.c_uint16)),
    ("start_cyc", c_int64_p),
    ("cycles", c_int64_p),
    ("activity", c_double_p),
    ("line", ctypes.POINTER(ctypes.c_uint32)),
    ("dep_off", ctypes.POINTER(ctypes.c_uint32)),
    ("dep_src", ctypes.POINTER(ctypes.c_uint32)),
    ("dep_kind", ctypes.POINTER(ctypes.c_uint8)),
    ("dep_lag", c_int64_p),
    ("n_deps", ctypes.c_size_t),
    ("id_pool", ctypes.POINTER(ctypes.c_char)),
    ("id_off", ctypes.POINTER(ctypes.c_uint32)),
    ("cols", ctypes.POINTER(ctypes.c_char_p)),
    ("n_cols", ctypes.c_size_t),
    ("col_id", ctypes.c_int), ("col_unit", ctypes.c_int), ("col_op", ctypes.c_int),
    ("col_start", ctypes.c_int), ("col_cycles", ctypes.c_int), ("col_chip", ctypes.c_int),
    ("col_activity", ctypes.c_int), ("col_deps", ctypes.c_int),
    ("split", ctypes.c_int),
    ("source", ctypes.c_int),
    ("text", ctypes.POINTER(ctypes.c_char)),   # text_len bytes, not NUL-terminated
    ("text_len", ctypes.c_size_t),
    ("file_dev", ctypes.c_uint64), ("file_ino", ctypes.c_uint64),
    ("file_size", ctypes.c_int64), ("file_mtime_ns", ctypes.c_int64),
    ("chip_lo", ctypes.c_size_t), ("chip_step", ctypes.c_size_t), ("n_chips_file", ctypes.c_size_t),
])

# ---- analyzer/events.h, analyzer/margin.h -----------------------------------

EVENTS_MAX_CAUSES = 3
EVENTS_MAX_IDS = 4
MARGIN_MAX_RES = 6

events_cause = _s("events_cause", [
    ("unit", ctypes.c_size_t),
    ("delta_a", ctypes.c_double),
    ("n_ops", ctypes.c_size_t),
    ("ops", ctypes.c_uint32 * EVENTS_MAX_IDS),
])

events_event = _s("events_event", [
    ("kind", ctypes.c_int),
    ("chip", ctypes.c_size_t), ("rail", ctypes.c_size_t),
    ("t_start_ns", ctypes.c_double),
    ("t_end_ns", ctypes.c_double),
    ("t_peak_ns", ctypes.c_double),
    ("peak", ctypes.c_double),
    ("window_ns", ctypes.c_double),
    ("n_causes", ctypes.c_size_t),
    ("causes", events_cause * EVENTS_MAX_CAUSES),
])

events_rail_stats = _s("events_rail_stats", [
    ("peak_a", ctypes.c_double), ("t_peak_a_ns", ctypes.c_double),
    ("sum_a", ctypes.c_double),
    ("bins", ctypes.c_size_t),
    ("tail_bins", ctypes.c_size_t),
    ("avg_a", ctypes.c_double),
    ("max_didt_a_per_ns", ctypes.c_double), ("t_max_didt_ns", ctypes.c_double),
    ("max_droop_v", ctypes.c_double), ("t_max_droop_ns", ctypes.c_double),
    ("i_at_max_droop_a", ctypes.c_double),
    ("min_droop_v", ctypes.c_double),
    ("droop_events", ctypes.c_size_t), ("didt_events", ctypes.c_size_t),
])

margin_res = _s("margin_res", [
    ("f_hz", ctypes.c_double),
    ("z_ohm", ctypes.c_double),
    ("i_a", ctypes.c_double),
    ("f_i_hz", ctypes.c_double),
    ("droop_mv", ctypes.c_double),
])

margin_rail = _s("margin_rail", [
    ("chip", ctypes.c_size_t), ("rail", ctypes.c_size_t),
    ("vdd_v", ctypes.c_double), ("guardband_mv", ctypes.c_double),
    ("worst_droop_mv", ctypes.c_double), ("t_worst_ns", ctypes.c_double),
    ("p50_mv", ctypes.c_double), ("p99_mv", ctypes.c_double), ("p9999_mv", ctypes.c_double),
    ("static_droop_mv", ctypes.c_double), ("transient_droop_mv", ctypes.c_double),
    ("needed_guardband_mv", ctypes.c_double),
    ("headroom_mv", ctypes.c_double),
    ("avg_w", ctypes.c_double), ("dynamic_w", ctypes.c_double),
    ("saving_w", ctypes.c_double), ("saving_pct", ctypes.c_double),
    ("n_res", ctypes.c_size_t),
    ("res", margin_res * MARGIN_MAX_RES),
])

# ---- analyzer/pda.h ----------------------------------------------------------

pda_run_opts = _s("pda_run_opts", [
    ("bin_ns", ctypes.c_double),
    ("window_ns", ctypes.c_double),
    ("safety_mv", ctypes.c_double),
    ("grid", ctypes.c_size_t * 2),
    ("frame_ns", ctypes.c_int64),
    ("thermal", ctypes.c_int),
    ("report", ctypes.c_int),
    ("keep_rails", ctypes.c_int),
    ("unit_maps", ctypes.c_int),
    ("spool_dir", ctypes.c_char_p),
    ("events_cap", ctypes.c_size_t),
    ("tile_bins", ctypes.c_size_t),
    ("split_min_ops", ctypes.c_size_t),
    ("events_index_two_min", ctypes.c_size_t),
    ("progress", PROGRESS),
    ("progress_arg", ctypes.c_void_p),
    ("thermal_periodic", ctypes.c_int),
    ("thermal_repeat", ctypes.c_size_t),
    ("power_cap_w", ctypes.c_double),
    ("timeline_cyc", ctypes.c_int64),
    ("system_chips", ctypes.c_size_t),
    ("power_combine", ctypes.c_void_p),
    ("power_arg", ctypes.c_void_p),
    ("frames_combine", ctypes.c_void_p),
    ("frames_arg", ctypes.c_void_p),
])

pda_power = _s("pda_power", [
    ("peak_w", ctypes.c_double), ("t_peak_ns", ctypes.c_double), ("peak_window_w", ctypes.c_double),
    ("window_ns", ctypes.c_double), ("energy_j", ctypes.c_double), ("avg_w", ctypes.c_double),
])

pda_unit_temp = _s("pda_unit_temp", [
    ("chip", ctypes.c_size_t), ("unit", ctypes.c_size_t),
    ("steady_mean_c", ctypes.c_double), ("steady_max_c", ctypes.c_double),
    ("run_mean_c", ctypes.c_double), ("run_max_c", ctypes.c_double), ("t_run_max_ns", ctypes.c_double),
])

pda_hotspot = _s("pda_hotspot", [
    ("id", ctypes.c_size_t), ("chip", ctypes.c_size_t), ("die", ctypes.c_size_t),
    ("peak_c", ctypes.c_double), ("t_peak_ns", ctypes.c_double),
    ("centroid_x_mm", ctypes.c_double), ("centroid_y_mm", ctypes.c_double), ("area_mm2", ctypes.c_double),
    ("units", ctypes.c_char_p),
    ("stacked", ctypes.c_int),
    ("stacked_with", ctypes.c_char_p),
    ("t_first_ns", ctypes.c_double), ("t_last_ns", ctypes.c_double),
    ("peak_x_mm", ctypes.c_double), ("peak_y_mm", ctypes.c_double),
])

# ---- budgets/budget.h --------------------------------------------------------

budget_spec = _s("budget_spec", [
    ("power_cap_w", ctypes.c_double),
    ("system_power_cap_w", ctypes.c_double),
    ("window_ns", ctypes.c_double),
    ("didt_a_per_ns", ctypes.c_double),
    ("guardband_mv", ctypes.c_double),
    ("bin_ns", ctypes.c_double),
    ("order", ctypes.c_int),
    ("fb_passes", ctypes.c_int),
    ("progress", PROGRESS),
    ("progress_arg", ctypes.c_void_p),
])

budget_figs = _s("budget_figs", [
    ("makespan_cyc", ctypes.c_int64),
    ("makespan_ns", ctypes.c_double),
    ("peak_w", ctypes.c_double),
    ("peak_window_w", ctypes.c_double),
    ("chip_peak_window_w", ctypes.c_double),
    ("window_ns", ctypes.c_double),
    ("max_didt_a_per_ns", ctypes.c_double),
    ("max_droop_mv", ctypes.c_double),
    ("n_rails", ctypes.c_size_t),
    ("rail_didt_a_per_ns", c_double_p),
    ("rail_didt_body_a_per_ns", c_double_p),
    ("rail_droop_mv", c_double_p),
])

budget_report = _s("budget_report", [
    ("before", budget_figs), ("after", budget_figs),
    ("lb_cyc", ctypes.c_int64),
    ("lb_makespan_cyc", ctypes.c_int64), ("lb_critical_cyc", ctypes.c_int64),
    ("lb_busy_cyc", ctypes.c_int64), ("lb_energy_cyc", ctypes.c_int64),
    ("slowdown", ctypes.c_double),
    ("gap", ctypes.c_double),
    ("moved", ctypes.c_size_t),
    ("blocks", ctypes.c_size_t),
    ("max_block", ctypes.c_size_t),
    ("evictions", ctypes.c_size_t),
    ("order_used", ctypes.c_int),
    ("fb_passes", ctypes.c_int),
    ("culprit", ctypes.c_size_t),
    ("over_w", ctypes.c_double),
    ("lb_packing_cyc", ctypes.c_int64),
    ("lb_dff_cyc", ctypes.c_int64),
    ("lb_lp_cyc", ctypes.c_int64),
])

# every mirrored struct, for the layout test
STRUCTS = [sio_error, sio_die, sio_stage, sio_vrm, sio_rail, sio_unit, sio_op, sio_layer, sio_thermal, sio_chip,
           sio_schedule, events_cause, events_event, events_rail_stats, margin_res, margin_rail, pda_run_opts,
           pda_power, pda_unit_temp, pda_hotspot, budget_spec, budget_figs, budget_report]

# ---- finding and loading libpda.so -------------------------------------------

SONAME = "libpda.so.6"


def candidates():
    """Where load() looks, in order: [(how, path)]."""
    env = os.environ.get("PDA_LIB")
    if env:
        return [("PDA_LIB", env)]
    out = []
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # the folder holding pda/
    for _ in range(4):   # python/ -> repo; site-packages -> python3.X -> lib -> prefix
        for name in (SONAME, "libpda.so"):
            out.append(("beside the module", os.path.join(here, "lib", name)))
        up = os.path.dirname(here)
        if up == here:
            break
        here = up
    out.append(("system loader", SONAME))
    found = ctypes.util.find_library("pda")
    if found:
        out.append(("system loader", found))
    return out


def load():
    """libpda.so as a ctypes.CDLL with the prototypes set; ImportError when
    none of the candidates loads."""
    tried = []
    for how, path in candidates():
        if how == "beside the module" and not os.path.exists(path):
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s): %s" % (path, how, e))
            if how == "PDA_LIB":
                break
            continue
        _prototypes(lib)
        lib.pda_path = path
        return lib
    raise ImportError("pda: cannot load libpda.so (set PDA_LIB to its path): " + "; ".join(tried or ["not found"]))


def _proto(lib, name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)


def _prototypes(lib):
    P = ctypes.POINTER
    err = P(sio_error)
    chip, sched, res = P(sio_chip), P(sio_schedule), ctypes.c_void_p
    _proto(lib, "sio_chip_load", ctypes.c_int, ctypes.c_char_p, P(P(sio_chip)), err)
    _proto(lib, "sio_chip_free", None, chip)
    _proto(lib, "sio_schedule_load", ctypes.c_int, chip, ctypes.c_char_p, P(P(sio_schedule)), err)
    _proto(lib, "sio_schedule_free", None, sched)
    _proto(lib, "sio_schedule_id", ctypes.c_char_p, sched, ctypes.c_size_t)
    _proto(lib, "sio_schedule_makespan_cyc", ctypes.c_int64, sched)
    _proto(lib, "sio_schedule_write", ctypes.c_int, sched, c_int64_p, ctypes.c_char_p, err)
    _proto(lib, "sio_strerror", ctypes.c_char_p, ctypes.c_int)
    _proto(lib, "pda_strerror", ctypes.c_char_p, ctypes.c_int)
    _proto(lib, "pda_run_opts_default", None, P(pda_run_opts))
    _proto(lib, "pda_run", ctypes.c_int, chip, sched, P(pda_run_opts), P(res), err)
    _proto(lib, "pda_result_write", ctypes.c_int, res, ctypes.c_char_p, err)
    _proto(lib, "pda_result_summary_json", ctypes.c_char_p, res)
    _proto(lib, "pda_result_free", None, res)
    _proto(lib, "pda_result_n_chips", ctypes.c_size_t, res)
    _proto(lib, "pda_result_n_bins", ctypes.c_size_t, res)
    _proto(lib, "pda_result_bin_ns", ctypes.c_double, res)
    _proto(lib, "pda_result_rail", ctypes.c_int, res, ctypes.c_size_t, ctypes.c_size_t, c_double_p, c_double_p, err)
    _proto(lib, "pda_result_rail_stats", P(events_rail_stats), res, ctypes.c_size_t, ctypes.c_size_t)
    _proto(lib, "pda_result_events", P(events_event), res, c_size_t_p)
    _proto(lib, "pda_result_margin", P(margin_rail), res, c_size_t_p)
    _proto(lib, "pda_result_power", P(pda_power), res)
    _proto(lib, "pda_result_has_thermal", ctypes.c_int, res)
    _proto(lib, "pda_result_heat", c_double_p, res, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_int, c_size_t_p,
           c_size_t_p)
    _proto(lib, "pda_result_unit_temps", P(pda_unit_temp), res, c_size_t_p)
    _proto(lib, "pda_result_hotspots", P(pda_hotspot), res, c_size_t_p)
    _proto(lib, "budget_retime", ctypes.c_int, chip, sched, P(budget_spec), P(c_int64_p), P(budget_report), err)
    _proto(lib, "budget_report_free", None, P(budget_report))
    _proto(lib, "budget_strerror", ctypes.c_char_p, ctypes.c_int)


def libc_free():
    """free() of the C library libpda allocates with (the process's)."""
    f = ctypes.CDLL(None).free
    f.restype = None
    f.argtypes = [ctypes.c_void_p]
    return f
