#include "capture/special_entry.hpp"

#include <cstring>
#include <string>

#include "pyutil/refs.hpp"

namespace tp {

namespace {

using adapter::Special;

PyObject *python(PyObject *f) { return f && PyFunction_Check(f) ? f : nullptr; }

// A type of the interpreter's own (int, str, list, object...), whose special methods run
// no Python code with an operand they do not know: they give NotImplemented.
bool core_type(PyTypeObject *t)
{
    return !(t->tp_flags & Py_TPFLAGS_HEAPTYPE) && !std::strchr(t->tp_name, '.');
}

// Absent, or a slot wrapper of a core type: runs no Python code before the next candidate.
bool runs_nothing(PyObject *attr)
{
    return !attr || ((Py_IS_TYPE(attr, &PyWrapperDescr_Type) ||
                      Py_IS_TYPE(attr, &PyMethodDescr_Type)) &&
                     core_type(PyDescr_TYPE(attr)));
}

// object's own (object.__ne__, object.__str__, object.__format__...).
bool objects_own(PyObject *attr)
{
    return attr &&
           (Py_IS_TYPE(attr, &PyWrapperDescr_Type) || Py_IS_TYPE(attr, &PyMethodDescr_Type)) &&
           PyDescr_TYPE(attr) == &PyBaseObject_Type;
}

const char *const kOperators[] = {"add", "and",     "floordiv", "lshift", "matmul",
                                  "mul", "mod",     "or",       "pow",    "rshift",
                                  "sub", "truediv", "xor"};
constexpr int kNumOperators = 13;

PyObject *binary(PyObject *a, PyObject *b, int op)
{
    const bool inplace = op >= kNumOperators;
    const std::string name = kOperators[inplace ? op - kNumOperators : op];
    PyTypeObject *ta = Py_TYPE(a), *tb = Py_TYPE(b);
    if (inplace) {
        PyObject *f = type_lookup(ta, ("__i" + name + "__").c_str());
        if (f) {
            return python(f); // a core type's own (list +=) reads its operand: not told
        }
    }
    if (ta != tb && PyType_IsSubtype(tb, ta)) {
        return nullptr; // the subclass's reflected method may run first
    }
    PyObject *f = type_lookup(ta, ("__" + name + "__").c_str());
    if (python(f)) {
        return f;
    }
    if (!runs_nothing(f) ||
        (name == "mod" && (PyUnicode_Check(a) || PyBytes_Check(a) || PyByteArray_Check(a)))) {
        return nullptr; // %-formatting reads its operand's methods
    }
    return ta == tb ? nullptr : special_function(tb, ("__r" + name + "__").c_str());
}

PyObject *compare(PyObject *a, PyObject *b, int op)
{
    static const char *const names[] = {"__lt__", "__le__", "__eq__",
                                        "__ne__", "__gt__", "__ge__"};
    static const int swapped[] = {Py_GT, Py_GE, Py_EQ, Py_NE, Py_LT, Py_LE};
    if (op < Py_LT || op > Py_GE) {
        return nullptr;
    }
    PyTypeObject *ta = Py_TYPE(a), *tb = Py_TYPE(b);
    if (ta != tb && PyType_IsSubtype(tb, ta)) {
        return nullptr;
    }
    // One side's method; object's __ne__ calls the type's __eq__ first.
    auto side = [](PyTypeObject *t, int o, bool *told) -> PyObject * {
        PyObject *f = type_lookup(t, names[o]);
        if (python(f)) {
            return f;
        }
        if (o == Py_NE && objects_own(f)) {
            f = type_lookup(t, "__eq__");
            if (python(f)) {
                return f;
            }
        }
        *told = runs_nothing(f);
        return nullptr;
    };
    bool told = false;
    if (PyObject *f = side(ta, op, &told)) {
        return f;
    }
    return told ? side(tb, swapped[op], &told) : nullptr;
}

// What str(o) runs first.
PyObject *str_of(PyObject *o)
{
    if (PyUnicode_CheckExact(o)) {
        return nullptr;
    }
    PyObject *f = type_lookup(Py_TYPE(o), "__str__");
    if (python(f)) {
        return f;
    }
    return objects_own(f) ? special_function(Py_TYPE(o), "__repr__") : nullptr;
}

PyObject *format(PyObject *o, PyObject *spec)
{
    const bool empty = !spec || (PyUnicode_Check(spec) && PyUnicode_GET_LENGTH(spec) == 0);
    if (empty && (PyUnicode_CheckExact(o) || PyLong_CheckExact(o))) {
        return nullptr;
    }
    PyObject *f = type_lookup(Py_TYPE(o), "__format__");
    if (python(f)) {
        return f;
    }
    return objects_own(f) && empty ? str_of(o) : nullptr;
}

PyObject *truth(PyObject *o)
{
    if (o == Py_True || o == Py_False || o == Py_None) {
        return nullptr;
    }
    PyObject *f = type_lookup(Py_TYPE(o), "__bool__");
    if (f) {
        return python(f);
    }
    return special_function(Py_TYPE(o), "__len__");
}

// Whether `name` is in the object's own __dict__ (false when it has none).
bool in_instance_dict(PyObject *o, PyObject *name)
{
    Ref dict = Ref::steal(PyObject_GenericGetDict(o, nullptr));
    if (!dict) {
        PyErr_Clear();
        return false;
    }
    const int found = PyDict_Contains(dict.get(), name);
    PyErr_Clear();
    return found == 1;
}

// A property's getter, setter or deleter (`which`), or a descriptor class's Python
// __get__, __set__ or __delete__ (`method`).
PyObject *descriptor_part(PyObject *descr, const char *which, const char *method)
{
    if (Py_IS_TYPE(descr, &PyProperty_Type)) {
        Ref f = Ref::steal(PyObject_GetAttrString(descr, which));
        PyErr_Clear();
        return python(f.get()); // the property keeps it alive
    }
    return Py_TYPE(descr)->tp_flags & Py_TPFLAGS_HEAPTYPE
               ? special_function(Py_TYPE(descr), method)
               : nullptr;
}

PyObject *get_attr(PyObject *o, PyObject *name)
{
    if (!PyUnicode_CheckExact(name) || PyType_Check(o)) {
        return nullptr;
    }
    PyTypeObject *t = Py_TYPE(o);
    if (PyModule_CheckExact(o)) {
        // A module's __getattr__ (PEP 562), called when its dict has no such name.
        PyObject *dict = PyModule_GetDict(o);
        if (_PyType_Lookup(t, name) || PyDict_Contains(dict, name) != 0) {
            PyErr_Clear();
            return nullptr;
        }
        return python(PyDict_GetItemString(dict, "__getattr__"));
    }
    PyObject *ga = type_lookup(t, "__getattribute__");
    if (python(ga)) {
        return ga;
    }
    if (!objects_own(ga)) {
        return nullptr; // an extension type's own attribute lookup
    }
    PyObject *descr = _PyType_Lookup(t, name);
    if (descr && Py_TYPE(descr)->tp_descr_get) {
        const bool data = Py_TYPE(descr)->tp_descr_set != nullptr;
        return data || !in_instance_dict(o, name) ? descriptor_part(descr, "fget", "__get__")
                                                  : nullptr;
    }
    if (descr || in_instance_dict(o, name)) {
        return nullptr; // found: nothing is called
    }
    return special_function(t, "__getattr__");
}

PyObject *set_attr(PyObject *o, PyObject *name, bool del)
{
    if (!PyUnicode_CheckExact(name) || PyType_Check(o) || PyModule_Check(o)) {
        return nullptr;
    }
    PyTypeObject *t = Py_TYPE(o);
    PyObject *sa = type_lookup(t, del ? "__delattr__" : "__setattr__");
    if (python(sa)) {
        return sa;
    }
    if (!objects_own(sa)) {
        return nullptr;
    }
    PyObject *descr = _PyType_Lookup(t, name);
    if (descr && Py_TYPE(descr)->tp_descr_set) {
        return del ? descriptor_part(descr, "fdel", "__delete__")
                   : descriptor_part(descr, "fset", "__set__");
    }
    return nullptr;
}

PyObject *special_method(PyObject *o, const char *name)
{
    return special_function(Py_TYPE(o), name);
}

PyObject *first_callee(Special kind, int arg, PyObject *subject, PyObject *other,
                       PyObject *name)
{
    switch (kind) {
    case Special::Binary:
        return arg >= 0 && arg < 2 * kNumOperators ? binary(subject, other, arg) : nullptr;
    case Special::Compare:
        return compare(subject, other, arg);
    case Special::Contains:
        return special_method(subject, "__contains__");
    case Special::GetItem:
        return PyType_Check(subject) ? nullptr : special_method(subject, "__getitem__");
    case Special::SetItem:
        return special_method(subject, "__setitem__");
    case Special::DelItem:
        return special_method(subject, "__delitem__");
    case Special::Unary:
        return special_method(subject, arg == 0 ? "__neg__" : arg == 1 ? "__invert__" : "__pos__");
    case Special::Truth:
        return truth(subject);
    case Special::GetAttr:
        return name ? get_attr(subject, name) : nullptr;
    case Special::SetAttr:
    case Special::DelAttr:
        return name ? set_attr(subject, name, kind == Special::DelAttr) : nullptr;
    case Special::Iter:
        return special_method(subject, "__iter__");
    case Special::Convert:
        return arg == 1 ? str_of(subject) : special_method(subject, "__repr__");
    case Special::Format:
        return format(subject, other);
    case Special::Exit:
        // The bound __exit__, or (3.14+) the function with its self beside it.
        if (other) {
            return python(subject);
        }
        return PyMethod_Check(subject) ? python(PyMethod_GET_FUNCTION(subject)) : nullptr;
    case Special::None:
        break;
    }
    return nullptr;
}

}  // namespace

PyObject *type_lookup(PyTypeObject *type, const char *name)
{
    Ref key = Ref::steal(PyUnicode_InternFromString(name));
    if (!key) {
        PyErr_Clear();
        return nullptr;
    }
    return _PyType_Lookup(type, key.get());
}

PyObject *special_function(PyTypeObject *type, const char *name)
{
    return python(type_lookup(type, name));
}

PyObject *first_special_callee(const adapter::SpecialCall &call, PyObject *const *stack,
                               PyObject *names)
{
    if (call.kind == Special::None || call.subject < 0 || !stack[call.subject]) {
        return nullptr;
    }
    PyObject *other = call.other >= 0 ? stack[call.other] : nullptr;
    const bool two = call.kind == Special::Binary || call.kind == Special::Compare;
    if (two && !other) {
        return nullptr;
    }
    PyObject *name = nullptr;
    if (call.kind == Special::GetAttr || call.kind == Special::SetAttr ||
        call.kind == Special::DelAttr) {
        if (!names || !PyTuple_Check(names) || call.arg < 0 ||
            call.arg >= PyTuple_GET_SIZE(names)) {
            return nullptr;
        }
        name = PyTuple_GET_ITEM(names, call.arg);
    }
    return first_callee(call.kind, call.arg, stack[call.subject], other, name);
}

PyObject *first_builtin_callee(PyObject *callable, PyObject *const *args, int nargs)
{
    struct Builtin {
        const char *name;
        int min_args, max_args;
        Special kind;
        const char *method; // for Special::None: the one special method it calls
    };
    static const Builtin builtins[] = {
        {"len", 1, 1, Special::None, "__len__"},     {"hash", 1, 1, Special::None, "__hash__"},
        {"repr", 1, 1, Special::None, "__repr__"},   {"ascii", 1, 1, Special::None, "__repr__"},
        {"abs", 1, 1, Special::None, "__abs__"},     {"iter", 1, 1, Special::Iter, nullptr},
        {"format", 1, 2, Special::Format, nullptr},  {"getattr", 2, 3, Special::GetAttr, nullptr},
        {"hasattr", 2, 2, Special::GetAttr, nullptr}, {"setattr", 3, 3, Special::SetAttr, nullptr},
        {"delattr", 2, 2, Special::DelAttr, nullptr}, {"str", 1, 1, Special::Convert, nullptr},
        {"bool", 1, 1, Special::Truth, nullptr},
        // Those that take an iterable: iter() on it comes first.
        {"list", 1, 1, Special::Iter, nullptr},       {"tuple", 1, 1, Special::Iter, nullptr},
        {"set", 1, 1, Special::Iter, nullptr},        {"frozenset", 1, 1, Special::Iter, nullptr},
        {"sorted", 1, 1, Special::Iter, nullptr},     {"enumerate", 1, 2, Special::Iter, nullptr},
        {"sum", 1, 2, Special::Iter, nullptr},        {"min", 1, 1, Special::Iter, nullptr},
        {"max", 1, 1, Special::Iter, nullptr},        {"any", 1, 1, Special::Iter, nullptr},
        {"all", 1, 1, Special::Iter, nullptr},
    };
    PyObject *table = PyEval_GetBuiltins();
    for (const Builtin &b : builtins) {
        if (PyDict_GetItemString(table, b.name) != callable) {
            continue;
        }
        if (nargs < b.min_args || nargs > b.max_args) {
            return nullptr;
        }
        for (int i = 0; i < nargs; i++) {
            if (!args[i]) {
                return nullptr;
            }
        }
        if (b.kind == Special::None) {
            return special_method(args[0], b.method);
        }
        const bool named = b.kind == Special::GetAttr || b.kind == Special::SetAttr ||
                           b.kind == Special::DelAttr;
        return first_callee(b.kind, b.kind == Special::Convert ? 1 : 0, args[0],
                            b.kind == Special::Format && nargs == 2 ? args[1] : nullptr,
                            named ? args[1] : nullptr);
    }
    return nullptr;
}

}  // namespace tp
