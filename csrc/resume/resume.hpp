// Resume: rebuild a captured chain of frames and run it ("replay under an eval hook").
//
// CPython allocates, links and pops every frame itself; teleporter only fills each new
// frame before its first instruction runs. For frame k (outermost first) a resumer arms
// the eval-frame hook with frame k's record and calls frame k's function with dummy
// arguments (the __main__ frame is entered with PyEval_EvalCode). The hook recognises
// the armed code, writes the saved locals and value stack, and starts the frame *at* its
// pending call, with resumer k+1 in place of the callable: re-executing that call builds
// frame k+1 nested inside frame k, so return values, exceptions, tracebacks and f_back
// flow through the interpreter's own call instruction. The innermost frame's call gets a
// resumer that simply returns `result`, and the hook is removed once it is patched.
#pragma once
#include <Python.h>

namespace tp {

// Raised when a payload's frames are not valid for this interpreter (before anything runs).
extern PyObject *ResumeError;

bool resume_init(PyObject *module);

// The code a resumer re-enters when `callee` is one of the running replay's resumers,
// else NULL (borrowed); `entry` receives how it enters it ('c', or 'i' for a class call's
// __init__). A resumed frame that teleports again sits inside such a call.
PyObject *resumer_target_code(PyObject *callee, char *entry);

// A fresh, never-started generator (or coroutine) running `code`: `func` is called with
// dummy arguments (a function for `code` is made with `globals` when `func` runs other
// code or is None).
PyObject *new_generator(PyObject *func, PyObject *code, PyObject *globals);
// Fills a generator made by new_generator with the rest of a capture_generator record:
// (phase, raw_state, position, localsplus, stack, exception), validated first.
PyObject *restore_generator(PyObject *gen, PyObject *state);

// records: as produced by capture_stack (after travelling). Returns what the outermost
// frame returns (None for a module), or NULL with the program's exception set.
// `thread`: the outermost record is a thread's entry function (called with dummy
// arguments like the others) instead of __main__'s module frame. `whole`: the innermost
// record is a parked or blocked thread's, started at its `call_at` with its stack as it
// is (no result). `ready` (or None): called just before the innermost frame runs.
PyObject *resume_stack(PyObject *records, PyObject *result, PyObject *handled_exception,
                       bool thread, bool whole, PyObject *ready);

}  // namespace tp
