"""pda -- power, droop and heat of a compiled accelerator schedule, from Python.

A thin ctypes layer over the C library libpda.so: every number comes from the
library (the same code as `analyzer run` and `analyzer retime`), nothing is
computed here but the conversion to Python objects and numpy arrays.

    import pda
    with pda.run("samples/tsp/chip.json", "samples/tsp/decode.csv", window_ns=50) as r:
        print(r.summary["power"]["peak_window_w"])
        core = r.rail(0, "core")              # numpy arrays, one value per bin
        print(core.current_a.max(), core.droop_mv.max())
        r.write("out")                         # the files of `analyzer run -o out --waveforms`
    rt = pda.retime("samples/tsp/chip.json", "samples/tsp/decode.csv", power_cap_w=150, window_ns=50)
    rt.starts                                  # new start cycles, in the schedule's row order

Finding libpda.so, first match wins:
  1. the environment variable PDA_LIB, the path of the library file (when it
     is set and does not load, importing pda fails: no other place is tried);
  2. beside the module: lib/libpda.so.6 or lib/libpda.so in the folder that
     holds this package or in one of its first three parents, so both the
     source tree (python/pda -> the repository's lib/) and an installed
     module (PREFIX/lib/python3.X/site-packages/pda -> PREFIX/lib/, as
     `make install PREFIX=...` lays the library out) are found;
  3. the system loader: libpda.so.6 on the default search path
     (LD_LIBRARY_PATH, ldconfig's cache), then ctypes.util.find_library("pda").
pda.LIBRARY is what was loaded (a path, or the name given to the system
loader). Importing pda raises ImportError when none of them loads.

Errors the library reports raise pda.Error: its text is the library's message
(for an input, "file:line:col: message"), .code the status code (pda.EINPUT,
pda.EIO, pda.ENOMEM, pda.EINTERNAL; for retime also pda.EINFEASIBLE,
pda.ENOTMET; pda.EBUDGET_INTERNAL is EINTERNAL; the thermal codes ESTACK, EFFTW, ERANGE, ESTEADY).

A Result keeps the loaded chip and schedule (the library's result borrows
them) and the library's memory until close() (or the end of a `with` block,
or garbage collection). Calls on one Result are serialised by a lock: the
kept waveforms are read back from one spool file.
"""
import collections
import ctypes
import json
import os
import threading

import numpy as np

from . import _capi

__all__ = ["run", "retime", "Result", "Retime", "Rail", "Error", "LIBRARY"]

_lib = _capi.load()
_c_free = _capi.libc_free()
LIBRARY = _lib.pda_path

# status codes (sio.h, pda.h, budget.h)
# the status codes of schedule-io/pda_status.h (tests check them against it)
OK, EINPUT, EIO, ENOMEM, EINTERNAL = 0, 1, 2, 3, 4
EINFEASIBLE, ENOTMET, ESTACK, EFFTW, ERANGE, ESTEADY = 5, 6, 7, 8, 9, 10
EBUDGET_INTERNAL = EINTERNAL   # budget.h's BUDGET_EINTERNAL is the same code


class Error(Exception):
    """An error reported by libpda: str(e) is the library's message, e.code
    its status code. retime sets e.result (the best schedule found, a Retime
    with met False) when the budget was not met, and e.culprit (an
    instruction id) when a proof of impossibility names one."""

    def __init__(self, message, code, result=None, culprit=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.result = result
        self.culprit = culprit


def _path(p):
    """A path for the C library: bytes, refused (as Python's open does) when
    it holds a NUL byte, where C would cut it short."""
    b = os.fsencode(p)
    if b"\0" in b:
        raise ValueError("embedded null byte in path %r" % (p,))
    return b


def _text(b):
    return b.decode("utf-8", "replace") if b is not None else None


def _check(rc, err, strerror=_lib.pda_strerror):
    if rc != OK:
        raise Error(_text(err.text) or _text(strerror(rc)), rc)


def _fields(s, skip=()):
    """A ctypes struct's scalar fields as a dict (C strings decoded)."""
    out = {}
    for name, _ in s._fields_:
        if name not in skip:
            v = getattr(s, name)
            out[name] = _text(v) if isinstance(v, bytes) else v
    return out


def _size(name, v, bits=64):
    """v checked to fit a C size_t (bits 64) or a non-negative int64_t (63)."""
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 1 << bits:
        raise ValueError("%s must be a whole number from 0 to 2^%d - 1, not %r" % (name, bits, v))
    return v


def _progress(fn):
    """A C progress callback calling fn(done), and the list where the first
    exception it raised is kept (re-raised once the library returns)."""
    if fn is None:
        return _capi.PROGRESS(), []
    if not callable(fn):
        raise TypeError("progress must be callable, not %r" % (fn,))
    caught = []

    def cb(_arg, done):
        if not caught:
            try:
                fn(done)
            except BaseException as e:   # the C side cannot take it: kept for later
                caught.append(e)
    return _capi.PROGRESS(cb), caught


class _Inputs:
    """A loaded chip description and schedule (sio_chip_load,
    sio_schedule_load), freed by close()."""
    _chip_free = _lib.sio_chip_free
    _sched_free = _lib.sio_schedule_free

    def __init__(self, chip_path, schedule_path):
        self.chip = ctypes.POINTER(_capi.sio_chip)()
        self.sched = ctypes.POINTER(_capi.sio_schedule)()
        err = _capi.sio_error()
        _check(_lib.sio_chip_load(_path(chip_path), ctypes.byref(self.chip), ctypes.byref(err)), err,
               _lib.sio_strerror)
        _check(_lib.sio_schedule_load(self.chip, _path(schedule_path), ctypes.byref(self.sched),
                                      ctypes.byref(err)), err, _lib.sio_strerror)
        c = self.chip.contents
        # what no output may replace: the chip file and its impedance tables
        # (the schedule the library's writer refuses itself)
        self.input_paths = [_path(chip_path)] + [c.rails[k].impedance_csv for k in range(c.n_rails)
                                                       if c.rails[k].impedance_csv]
        self.rails = [_text(c.rails[k].name) for k in range(c.n_rails)]
        self.units = [_text(c.units[k].name) for k in range(c.n_units)]
        self.unit_die = [c.units[k].die for k in range(c.n_units)]
        self.dies = [{"id": c.dies[k].id, "name": _text(c.dies[k].name)} for k in range(c.n_dies)]

    def index(self, what, names, v):
        """An index into names from a name or an index."""
        if isinstance(v, str):
            try:
                return names.index(v)
            except ValueError:
                raise KeyError("no %s %r (the chip has %s)" % (what, v, ", ".join(map(str, names)))) from None
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError("a %s is a name or an index, not %r" % (what, v))
        if not 0 <= v < len(names):
            raise IndexError("no %s %d (the chip has %d)" % (what, v, len(names)))
        return v

    def instr_id(self, i):
        return _text(_lib.sio_schedule_id(self.sched, i))

    def close(self):
        if self.sched:
            self._sched_free(self.sched)
            self.sched = ctypes.POINTER(_capi.sio_schedule)()
        if self.chip:
            self._chip_free(self.chip)
            self.chip = ctypes.POINTER(_capi.sio_chip)()

    def __del__(self):
        if hasattr(self, "chip"):
            self.close()


Rail = collections.namedtuple("Rail", "current_a droop_mv")
Rail.__doc__ = """One chip's rail per bin: current_a (A, each bin's exact
average) and droop_mv (mV, at each bin's end), numpy float64 arrays of n_bins."""

# pda_run_opts fields run() takes, and how a Python value becomes the C one
_RUN_OPTS = {
    "bin_ns": float, "window_ns": float, "safety_mv": float, "frame_ns": None, "grid": None,
    "thermal": bool, "report": bool, "keep_rails": bool, "unit_maps": bool, "spool_dir": None, "events_cap": None,
    "tile_bins": None, "split_min_ops": None, "events_index_two_min": None, "progress": None,
    "thermal_periodic": bool, "thermal_repeat": None, "power_cap_w": float,
}


def run(chip_path, schedule_path, **opts):
    """Runs the whole analysis of `analyzer run` (pda_run) and returns a Result.

    Options (the fields of pda_run_opts in analyzer/pda.h; the library's
    defaults, except keep_rails):
      bin_ns=1, window_ns=100, safety_mv=5,
      grid=(nx, ny) (default the chip's), frame_ns (default the chip's),
      thermal=True (the thermal run, when the chip has a stack),
      report=True (keeps what report.html needs; Result.write needs it),
      keep_rails=True (needed by Result.rail and for rails.csv),
      unit_maps=False (units.npy), spool_dir (where kept waveforms wait;
      default $TMPDIR or /tmp), events_cap=10000, tile_bins=0 (the walk's
      choice), split_min_ops, events_index_two_min (tuning),
      progress=callable(done) called with the fraction of the timeline done,
      thermal_periodic=False (the periodic steady state of the schedule
      repeated), thermal_repeat=1 (passes from the usual start, the last
      reported), power_cap_w=0 (a budget per chip over window_ns, checked
      as `analyzer run --power-cap-w`: summary["power"]["cap_broken"]).
    An unknown option raises TypeError; an error of the library pda.Error."""
    for k in opts:
        if k not in _RUN_OPTS:
            raise TypeError("run() got an unexpected keyword argument %r" % k)
    o = _capi.pda_run_opts()
    _lib.pda_run_opts_default(ctypes.byref(o))
    o.keep_rails = 1
    for k, v in opts.items():
        conv = _RUN_OPTS[k]
        if k == "grid":
            if v is None:
                v = (0, 0)
            if len(v) != 2:
                raise ValueError("grid is (nx, ny), not %r" % (v,))
            o.grid[0], o.grid[1] = _size("grid nx", v[0]), _size("grid ny", v[1])
        elif k == "spool_dir":
            o.spool_dir = None if v is None else _path(v)
        elif k == "progress":
            continue
        elif conv is float:
            setattr(o, k, float(v))
        elif conv is bool:
            setattr(o, k, 1 if v else 0)
        else:
            setattr(o, k, _size(k, v, 63 if k == "frame_ns" else 64))
    cb, caught = _progress(opts.get("progress"))
    o.progress = cb
    inputs = _Inputs(chip_path, schedule_path)
    ptr = ctypes.c_void_p()
    err = _capi.sio_error()
    try:
        rc = _lib.pda_run(inputs.chip, inputs.sched, ctypes.byref(o), ctypes.byref(ptr), ctypes.byref(err))
        if caught:
            if ptr:
                _lib.pda_result_free(ptr)
            raise caught[0]
        _check(rc, err)
    except BaseException:
        inputs.close()
        raise
    res = Result(inputs, ptr)
    res._opts = o   # the library keeps a copy of the options (spool_dir, progress) in its result
    return res


class Result:
    """What pda.run computed (a pda_result). Attributes:
      summary      the dict of summary.json (docs/outputs.md)
      n_bins, bin_ns, n_chips
      rail_names, unit_names, dies (list of {"id", "name"}) of the chip description
      power        the system's power figures (pda_power)
      events       kept droop and dI/dt events, sorted by chip, rail, start
      margin       the margin rows, [chip][rail] (margin_rail)
      unit_temps, hotspots   (empty without the thermal run)
      has_thermal
    and rail(), rail_stats(), heat(), write(), close()."""
    _free = _lib.pda_result_free

    def __init__(self, inputs, ptr):
        self._in = inputs
        self._r = ptr
        self._lock = threading.Lock()
        self.summary = json.loads(_lib.pda_result_summary_json(ptr).decode("utf-8"))
        self.n_bins = _lib.pda_result_n_bins(ptr)
        self.bin_ns = _lib.pda_result_bin_ns(ptr)
        self.n_chips = _lib.pda_result_n_chips(ptr)
        self.has_thermal = bool(_lib.pda_result_has_thermal(ptr))
        self.rail_names = list(inputs.rails)
        self.unit_names = list(inputs.units)
        self.dies = [dict(d) for d in inputs.dies]
        self._events = self._margin = None

    def _ptr(self):
        if not self._r:
            raise ValueError("the result is closed")
        return self._r

    def _chip(self, chip):
        if isinstance(chip, bool) or not isinstance(chip, int) or not 0 <= chip < self.n_chips:
            raise IndexError("no chip %r (the schedule has %d)" % (chip, self.n_chips))
        return chip

    def rail(self, chip, rail):
        """Rail(current_a, droop_mv) of one chip's rail (a name or an index),
        filled by the library (pda_result_rail) straight into the arrays."""
        ch, rl = self._chip(chip), self._in.index("rail", self.rail_names, rail)
        cur = np.empty(self.n_bins, dtype=np.float64)
        drp = np.empty(self.n_bins, dtype=np.float64)
        err = _capi.sio_error()
        with self._lock:
            _check(_lib.pda_result_rail(self._ptr(), ch, rl, cur.ctypes.data_as(_capi.c_double_p),
                                        drp.ctypes.data_as(_capi.c_double_p), ctypes.byref(err)), err)
        return Rail(cur, drp)

    def rail_stats(self, chip, rail):
        """The run's statistics of one chip's rail (events_rail_stats) as a dict."""
        ch, rl = self._chip(chip), self._in.index("rail", self.rail_names, rail)
        return _fields(_lib.pda_result_rail_stats(self._ptr(), ch, rl).contents)

    @property
    def power(self):
        return _fields(_lib.pda_result_power(self._ptr()).contents)

    @property
    def events(self):
        """List of dicts: kind ("droop" or "didt"), chip, rail (name),
        t_start_ns, t_end_ns, t_peak_ns, peak, peak_unit ("mV" or "A/ns"),
        window_ns, causes (list of {unit, delta_a, instructions: [ids]})."""
        if self._events is None:
            n = ctypes.c_size_t()
            p = _lib.pda_result_events(self._ptr(), ctypes.byref(n))
            out = []
            for k in range(n.value):
                e = p[k]
                d = _fields(e, ("causes", "n_causes"))
                d["kind"] = "droop" if e.kind == 0 else "didt"
                d["peak_unit"] = "mV" if e.kind == 0 else "A/ns"
                d["rail"] = self.rail_names[e.rail]
                d["causes"] = [{"unit": self.unit_names[c.unit], "delta_a": c.delta_a,
                                "instructions": [self._in.instr_id(c.ops[j]) for j in range(c.n_ops)]}
                               for c in e.causes[:e.n_causes]]
                out.append(d)
            self._events = out
        return self._events

    @property
    def margin(self):
        """List of dicts, one per chip and rail, with the fields of margin_rail
        (rail by name) and resonances: list of {f_hz, z_ohm, i_a, f_i_hz, droop_mv}."""
        if self._margin is None:
            n = ctypes.c_size_t()
            p = _lib.pda_result_margin(self._ptr(), ctypes.byref(n))
            out = []
            for k in range(n.value):
                d = _fields(p[k], ("res", "n_res"))
                d["rail"] = self.rail_names[p[k].rail]
                d["resonances"] = [_fields(x) for x in p[k].res[:p[k].n_res]]
                out.append(d)
            self._margin = out
        return self._margin

    def heat(self, chip, die, peak=False):
        """Heat map (deg C) of a die (an index into .dies, or its name) of one
        chip, a numpy array [ny, nx], row 0 at y = 0: the steady state of the
        average power, or with peak=True the hottest each cell gets over the
        run. ValueError when the thermal run did not happen."""
        ch, d = self._chip(chip), self._in.index("die", [x["name"] for x in self.dies], die)
        if not self.has_thermal:
            raise ValueError("no heat maps: the thermal run did not happen (no stack, or thermal=False)")
        nx, ny = ctypes.c_size_t(), ctypes.c_size_t()
        p = _lib.pda_result_heat(self._ptr(), ch, d, 1 if peak else 0, ctypes.byref(nx), ctypes.byref(ny))
        if not p:
            raise ValueError("no heat map for chip %d die %d" % (ch, d))
        return np.ctypeslib.as_array(p, shape=(ny.value, nx.value)).copy()

    def _die_id(self, k):
        return self.dies[k]["id"]

    @property
    def unit_temps(self):
        """List of dicts, [chip][unit]: chip, unit (name), die (its id, as in
        unit_temps.csv), steady_mean_c, steady_max_c, run_mean_c, run_max_c,
        t_run_max_ns."""
        n = ctypes.c_size_t()
        p = _lib.pda_result_unit_temps(self._ptr(), ctypes.byref(n))
        out = []
        for k in range(n.value):
            d = _fields(p[k])
            d["unit"] = self.unit_names[p[k].unit]
            d["die"] = self._die_id(self._in.unit_die[p[k].unit])
            out.append(d)
        return out

    @property
    def hotspots(self):
        """List of dicts with the fields of pda_hotspot (die as its id, as in
        hotspots.csv)."""
        n = ctypes.c_size_t()
        p = _lib.pda_result_hotspots(self._ptr(), ctypes.byref(n))
        out = []
        for k in range(n.value):
            d = _fields(p[k])
            d["die"] = self._die_id(p[k].die)
            out.append(d)
        return out

    def write(self, directory):
        """Writes the files of `analyzer run -o DIR` (pda_result_write): all
        or none; rails.csv with keep_rails, units.npy with unit_maps."""
        err = _capi.sio_error()
        with self._lock:
            _check(_lib.pda_result_write(self._ptr(), _path(directory), ctypes.byref(err)), err)

    def close(self):
        """Frees the library's result, then the chip and schedule it borrows."""
        lock = getattr(self, "_lock", None)
        if lock is None:
            return
        with lock:
            if self._r:
                self._free(self._r)
                self._r = None
            self._in.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()


_ORDERS = {None: 0, "auto": 0, "start": 1, "critical": 2}


def _figs(f, inputs):
    d = _fields(f, ("n_rails", "rail_didt_a_per_ns", "rail_didt_body_a_per_ns", "rail_droop_mv"))
    nr = len(inputs.rails)
    d["rails"] = [{"chip": q // nr, "rail": inputs.rails[q % nr],
                   "max_didt_a_per_ns": f.rail_didt_a_per_ns[q],
                   "max_didt_body_a_per_ns": f.rail_didt_body_a_per_ns[q],
                   "max_droop_mv": f.rail_droop_mv[q]} for q in range(f.n_rails)]
    return d


class Retime:
    """What pda.retime found (budget_report of budgets/budget.h):
      starts    numpy int64, the new start of each instruction (cycles), in
                the schedule's row order; every one >= the old start
      met       True (False only on Error.result when the budget was not met)
      before, after   figures of the old and new schedule (budget_figs: makespan,
                peak_w, peak_window_w, chip_peak_window_w, max_didt_a_per_ns,
                max_droop_mv, rails: per chip and rail)
      slowdown, gap, moved, blocks, max_block, evictions, order_used, fb_passes,
      over_w, lb_cyc, lb_makespan_cyc, lb_critical_cyc, lb_busy_cyc,
      lb_energy_cyc, lb_packing_cyc, lb_dff_cyc, lb_lp_cyc   as in budget_report
    and write(path): the schedule with the new starts (sio_schedule_write: the
    file byte for byte but `start`, written whole or not at all). It keeps the
    loaded schedule for write() until close()."""

    def __init__(self, inputs, starts, rep, met):
        self._in = inputs
        self.starts = starts
        self.met = met
        skip = ("before", "after", "culprit", "order_used")
        for k, v in _fields(rep, skip).items():
            setattr(self, k, v)
        self.order_used = "critical" if rep.order_used == 2 else "start"
        self.before = _figs(rep.before, inputs)
        self.after = _figs(rep.after, inputs)

    def write(self, path):
        if not self._in.sched:
            raise ValueError("the retime result is closed")
        for p in self._in.input_paths:
            try:
                same = os.path.samefile(path, os.fsdecode(p))
            except OSError:   # the output does not exist yet (or the input is gone): nothing to replace
                same = False
            if same:
                raise Error("%s: refusing to overwrite an input" % os.fsdecode(path), EINPUT)
        err = _capi.sio_error()
        _check(_lib.sio_schedule_write(self._in.sched, self.starts.ctypes.data_as(_capi.c_int64_p),
                                       _path(path), ctypes.byref(err)), err, _lib.sio_strerror)

    def close(self):
        self._in.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def retime(chip_path, schedule_path, power_cap_w=None, system_power_cap_w=None, didt_a_per_ns=None,
           guardband_mv=None, window_ns=None, bin_ns=None, *, order=None, fb_passes=None, progress=None):
    """Re-times a schedule to a budget (budget_retime): only delays
    instructions. Budgets, at least one: power_cap_w (per chip, over any
    window of window_ns, default one bin), system_power_cap_w (the sum over
    chips), didt_a_per_ns (per rail), guardband_mv (per rail droop). bin_ns
    defaults to 1; order "auto", "start" or "critical"; fb_passes (power
    caps: forward-backward passes, default 4, < 0 none); progress a
    callable(done). Returns a Retime. A budget proven impossible raises
    pda.Error with code EINFEASIBLE (the proof in the message); one the
    search did not meet, code ENOTMET with the best schedule in e.result."""
    if order not in _ORDERS:
        raise ValueError("order is 'auto', 'start' or 'critical', not %r" % (order,))
    spec = _capi.budget_spec()
    for k, v in (("power_cap_w", power_cap_w), ("system_power_cap_w", system_power_cap_w),
                 ("didt_a_per_ns", didt_a_per_ns), ("guardband_mv", guardband_mv),
                 ("window_ns", window_ns), ("bin_ns", bin_ns)):
        setattr(spec, k, 0.0 if v is None else float(v))
    spec.order = _ORDERS[order]
    if fb_passes is not None:
        if isinstance(fb_passes, bool) or not isinstance(fb_passes, int):
            raise ValueError("fb_passes must be a whole number, not %r" % (fb_passes,))
        spec.fb_passes = fb_passes
    cb, caught = _progress(progress)
    spec.progress = cb
    inputs = _Inputs(chip_path, schedule_path)
    starts_p = _capi.c_int64_p()
    rep = _capi.budget_report()
    err = _capi.sio_error()
    result = None
    try:
        rc = _lib.budget_retime(inputs.chip, inputs.sched, ctypes.byref(spec), ctypes.byref(starts_p),
                                ctypes.byref(rep), ctypes.byref(err))
        if rc in (OK, ENOTMET):
            try:
                n = inputs.sched.contents.n
                starts = np.ctypeslib.as_array(starts_p, shape=(n,)).copy() if n else np.empty(0, np.int64)
                result = Retime(inputs, starts, rep, rc == OK)
            finally:
                _c_free(starts_p)
                _lib.budget_report_free(ctypes.byref(rep))
        if caught:
            raise caught[0]
    except BaseException:
        inputs.close()
        raise
    if rc == OK:
        return result
    culprit = None
    if rc == EINFEASIBLE and rep.culprit < inputs.sched.contents.n:
        culprit = inputs.instr_id(rep.culprit)
    if result is None:   # ENOTMET's result keeps the schedule for its write()
        inputs.close()
    raise Error(_text(err.text) or _text(_lib.budget_strerror(rc)), rc, result=result, culprit=culprit)
