/* Interpreter state that the atexit module keeps to itself: its Python-level callbacks.
 *
 * interp->atexit (struct atexit_state) holds `callbacks`, an array of `ncallbacks`
 * pointers to {func, args, kwargs} in registration order (NULL where one was
 * unregistered): Include/internal/pycore_interp.h in 3.11, pycore_atexit.h in 3.12 and
 * 3.13, with the same field names. From 3.14 on (pycore_interp_structs.h) `callbacks`
 * is a list of (func, args, kwargs) tuples, the latest registered first (atexit_register
 * inserts at the front, so that they run from the front), unregistered ones removed. Written in C
 * because 3.11's internal headers use C11 atomics that C++ cannot include. */
#define Py_BUILD_CORE 1
#include <Python.h>

#include "internal/pycore_interp.h"
#include "internal/pycore_gil.h"
#include "internal/pycore_runtime.h"
#if PY_VERSION_HEX < 0x030C0000
#include "internal/pycore_pylifecycle.h"
#endif

/* 3.14+: the callbacks are a Python list. */
#define TP_ATEXIT_CALLBACKS_LIST (PY_VERSION_HEX >= 0x030E0000)

PyObject *tp_atexit_callbacks(void)
{
    PyInterpreterState *interp = PyInterpreterState_Get();
    PyObject *out = PyList_New(0);
    if (!out) {
        return NULL;
    }
#if TP_ATEXIT_CALLBACKS_LIST
    PyObject *list = interp->atexit.callbacks;
    for (Py_ssize_t i = list ? PyList_GET_SIZE(list) - 1 : -1; i >= 0; i--) {
        PyObject *item = PyList_GET_ITEM(list, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 3) {
            continue;
        }
        PyObject *func = PyTuple_GET_ITEM(item, 0);
        PyObject *args = PyTuple_GET_ITEM(item, 1);
        PyObject *kwargs = PyTuple_GET_ITEM(item, 2);
        PyObject *entry = (args && args != Py_None)
                              ? PyTuple_Pack(3, func, args, kwargs ? kwargs : Py_None)
                              : Py_BuildValue("(O()O)", func, kwargs ? kwargs : Py_None);
        if (!entry || PyList_Append(out, entry) < 0) {
            Py_XDECREF(entry);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(entry);
    }
#else
    for (int i = 0; i < interp->atexit.ncallbacks; i++) {
        PyObject *func = NULL, *args = NULL, *kwargs = NULL;
        if (interp->atexit.callbacks[i]) {
            func = interp->atexit.callbacks[i]->func;
            args = interp->atexit.callbacks[i]->args;
            kwargs = interp->atexit.callbacks[i]->kwargs;
        }
        if (!func) {
            continue; /* unregistered */
        }
        PyObject *entry = args ? PyTuple_Pack(3, func, args, kwargs ? kwargs : Py_None)
                               : Py_BuildValue("(O()O)", func, kwargs ? kwargs : Py_None);
        if (!entry || PyList_Append(out, entry) < 0) {
            Py_XDECREF(entry);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(entry);
    }
#endif
    return out;
}

/* contextvars.Token (PyContextToken, Include/internal/pycore_context.h, same fields in
 * 3.11-3.13): `tok_used` is not readable from Python, and neither field can be set. */
#include "internal/pycore_context.h"

int tp_token_used(PyObject *token)
{
    if (!PyContextToken_CheckExact(token)) {
        PyErr_SetString(PyExc_TypeError, "not a contextvars.Token");
        return -1;
    }
    return ((PyContextToken *)token)->tok_used;
}

/* Makes a token taken at the destination (var.set() in the program's context) stand for
 * the origin's: the value reset() goes back to (NULL: the variable had none), and
 * whether it was used already. */
int tp_token_restore(PyObject *token, PyObject *old_value, int used)
{
    if (!PyContextToken_CheckExact(token)) {
        PyErr_SetString(PyExc_TypeError, "not a contextvars.Token");
        return -1;
    }
    PyContextToken *tok = (PyContextToken *)token;
    Py_XINCREF(old_value);
    Py_XSETREF(tok->tok_oldval, old_value);
    tok->tok_used = used;
    return 0;
}

/* The context a token was taken in (reset() accepts it only there): read, or set to the
 * context that stands for it at the destination. With `ctx` NULL it is read. */
PyObject *tp_token_context(PyObject *token, PyObject *ctx)
{
    if (!PyContextToken_CheckExact(token)) {
        PyErr_SetString(PyExc_TypeError, "not a contextvars.Token");
        return NULL;
    }
    PyContextToken *tok = (PyContextToken *)token;
    if (!ctx) {
        return tok->tok_ctx ? Py_NewRef((PyObject *)tok->tok_ctx) : Py_NewRef(Py_None);
    }
    if (!PyContext_CheckExact(ctx)) {
        PyErr_SetString(PyExc_TypeError, "not a contextvars.Context");
        return NULL;
    }
    Py_INCREF(ctx);
    Py_XSETREF(tok->tok_ctx, (PyContext *)ctx);
    Py_RETURN_NONE;
}

/* The calling thread's current context object (None until the thread first needs one). */
PyObject *tp_current_context(void)
{
    PyObject *ctx = PyThreadState_Get()->context;
    return Py_NewRef(ctx ? ctx : Py_None);
}

/* Where the GIL's state lives: _PyRuntime.ceval.gil in 3.11, interp->ceval.gil (a
 * pointer) from 3.12 on. */
void tp_gil_range(const void **begin, size_t *size)
{
#if PY_VERSION_HEX < 0x030C0000
    *begin = &_PyRuntime.ceval.gil;
#else
    *begin = PyInterpreterState_Get()->ceval.gil;
#endif
    *size = sizeof(struct _gil_runtime_state);
}

PyObject *tp_outer_context(PyObject *ctx)
{
    if (!ctx) {
        ctx = PyThreadState_Get()->context; /* NULL until the thread first needs one */
    }
    if (!ctx || !PyContext_CheckExact(ctx)) {
        Py_RETURN_NONE;
    }
    PyContext *c = (PyContext *)ctx;
    if (!c->ctx_prev && !c->ctx_entered) {
        Py_RETURN_NONE;
    }
    while (c->ctx_prev) {
        c = c->ctx_prev; /* the context that was current when `c` was entered */
    }
    if (c->ctx_entered) {
        /* Entered while the thread had no context yet (3.14's threads run under their
         * Thread's Context.run from the start): nothing was set outside it. */
        return PyContext_New();
    }
    return Py_NewRef((PyObject *)c);
}

int *tp_unhandled_keyboard_interrupt(void)
{
#if PY_VERSION_HEX < 0x030C0000
    /* A global of its own in 3.11; weak, so that a build loaded into another version
     * reaches the version check (which refuses it in one line) instead of failing to load
     * on a symbol that version lacks. */
#pragma weak _Py_UnhandledKeyboardInterrupt
    static int none = 0;
    return &_Py_UnhandledKeyboardInterrupt ? &_Py_UnhandledKeyboardInterrupt : &none;
#else
    return &_PyRuntime.signals.unhandled_keyboard_interrupt;
#endif
}
