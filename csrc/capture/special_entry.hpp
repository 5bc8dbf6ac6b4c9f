// Frames the interpreter enters from C to run a special method: an operator's __add__, a
// property's getter, __getitem__, __bool__, __iter__, __format__, a `with` statement's
// __exit__ taking an exception, or the same reached through a builtin (len(x), repr(x),
// getattr(x, name), list(x)). Such a frame moves when
// its caller's instruction, executed again with the operands it had, runs that frame's
// function first, before any other Python code: the C part in between keeps nothing but
// its operands, so it is re-entered at the destination and the frame takes its place
// (capture.hpp, entry "r").
//
// What runs first is read from the operands' types the way CPython's dispatch does
// (Objects/abstract.c binary_op1, object.c do_richcompare and
// _PyObject_GenericGetAttrWithDict, typeobject.c's slot functions). Where it cannot be
// told (a reflected operand of a subclass, an extension type's own slot, a class
// attribute found through its metaclass) the answer is "none", and the move is refused.
#pragma once
#include <Python.h>

#include "adapters/frame_adapter.hpp"

namespace tp {

// The Python function (borrowed) that instruction `call`, executed again with the value
// stack `stack` of the frame at that instruction and its code's `names` (co_names), calls
// before any other Python code; NULL when there is none or it cannot be told.
PyObject *first_special_callee(const adapter::SpecialCall &call, PyObject *const *stack,
                               PyObject *names);

// The same for a call of a builtin that consults one special method of its argument
// before anything else: len, hash, repr, ascii, abs, iter, format, getattr, hasattr,
// setattr, delattr, str and bool, and those that iterate their one iterable (list, tuple,
// set, frozenset, sorted, enumerate, sum, min, max, any, all: its __iter__).
// `args`: its `nargs` positional arguments.
PyObject *first_builtin_callee(PyObject *callable, PyObject *const *args, int nargs);

// What `type` resolves `name` to along its MRO, borrowed (NULL: nothing).
PyObject *type_lookup(PyTypeObject *type, const char *name);
// The Python function a type's special method resolves to (borrowed), or NULL.
PyObject *special_function(PyTypeObject *type, const char *name);

}  // namespace tp
