// functools.lru_cache's C wrapper (Modules/_functoolsmodule.c), whose layout is the same
// in CPython 3.11, 3.12 and 3.13. The layout is checked against the type's basic size and
// against what the object says of itself through Python (its function, its maxsize)
// before any field is read: a mismatch is a refusal, never a guess.
#include "stdlib/lru_cache.hpp"

#include <cstring>

#include "pyutil/refs.hpp"

namespace tp {
namespace {

struct LruElem {
    PyObject_HEAD
    LruElem *prev, *next;  // borrowed links
    Py_hash_t hash;
    PyObject *key, *result;
};

using LruCall = PyObject *(*)(PyObject *, PyObject *, PyObject *);

struct LruCache {
    LruElem root;  // includes PyObject_HEAD; the list of entries, least recent first
                   // (each link: one reference owned by the list, one by the cache dict)
    LruCall wrapper;
    int typed;
    PyObject *cache;  // key -> result (unbounded) or key -> LruElem (bounded)
    Py_ssize_t hits;
    PyObject *func;
    Py_ssize_t maxsize;
    Py_ssize_t misses;
    PyObject *kwd_mark;
    PyTypeObject *lru_list_elem_type;
    PyObject *cache_info_type;
    PyObject *dict;
    PyObject *weakreflist;
};

LruCache *checked(PyObject *obj)
{
    PyTypeObject *t = Py_TYPE(obj);
    if (std::strcmp(t->tp_name, "functools._lru_cache_wrapper") != 0 ||
        t->tp_basicsize != static_cast<Py_ssize_t>(sizeof(LruCache))) {
        PyErr_Format(PyExc_TypeError, "%s is not a functools.lru_cache wrapper of a known layout",
                     t->tp_name);
        return nullptr;
    }
    auto *c = reinterpret_cast<LruCache *>(obj);
    Ref wrapped = Ref::steal(PyObject_GetAttrString(obj, "__wrapped__"));
    PyErr_Clear();
    Ref params = Ref::steal(PyObject_CallMethod(obj, "cache_parameters", nullptr));
    Ref maxsize = params ? Ref::borrow(PyDict_GetItemString(params.get(), "maxsize")) : Ref();
    PyErr_Clear();
    const bool bounded = maxsize && maxsize.get() != Py_None;
    const bool same_max = bounded ? (PyLong_Check(maxsize.get()) &&
                                     PyLong_AsSsize_t(maxsize.get()) == c->maxsize)
                                  : c->maxsize == -1;
    PyErr_Clear();
    if (!c->cache || !PyDict_CheckExact(c->cache) || !c->func ||
        (wrapped && wrapped.get() != c->func) || !same_max) {
        PyErr_SetString(PyExc_TypeError,
                        "the functools.lru_cache wrapper's layout is not the one teleporter knows");
        return nullptr;
    }
    return c;
}

}  // namespace

PyObject *lru_cache_state(PyObject *wrapper)
{
    LruCache *c = checked(wrapper);
    if (!c) {
        return nullptr;
    }
    Ref entries = Ref::steal(PyList_New(0));
    if (!entries) {
        return nullptr;
    }
    if (c->maxsize > 0) {  // bounded: the linked list gives the order of use
        for (LruElem *e = c->root.next; e != &c->root; e = e->next) {
            Ref pair = Ref::steal(PyTuple_Pack(2, e->key, e->result));
            if (!pair || PyList_Append(entries.get(), pair.get()) < 0) {
                return nullptr;
            }
        }
    }
    else {  // unbounded (maxsize None) or no cache at all (maxsize 0)
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (PyDict_Next(c->cache, &pos, &key, &value)) {
            Ref pair = Ref::steal(PyTuple_Pack(2, key, value));
            if (!pair || PyList_Append(entries.get(), pair.get()) < 0) {
                return nullptr;
            }
        }
    }
    return Py_BuildValue("(OnnO)", entries.get(), c->hits, c->misses, c->kwd_mark);
}

PyObject *lru_cache_fill(PyObject *wrapper, PyObject *entries, Py_ssize_t hits,
                         Py_ssize_t misses)
{
    LruCache *c = checked(wrapper);
    if (!c) {
        return nullptr;
    }
    if (!PyList_Check(entries) || PyDict_Size(c->cache) != 0 ||
        (c->maxsize > 0 && c->root.next != &c->root)) {
        PyErr_SetString(PyExc_ValueError, "lru_cache_fill() needs a fresh wrapper and a list");
        return nullptr;
    }
    const Py_ssize_t n = PyList_GET_SIZE(entries);
    // A bounded cache keeps its newest maxsize entries, as the origin's did.
    const Py_ssize_t first = (c->maxsize > 0 && n > c->maxsize) ? n - c->maxsize : 0;
    for (Py_ssize_t i = first; i < n; i++) {
        PyObject *pair = PyList_GET_ITEM(entries, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_ValueError, "an lru_cache entry is not a (key, result) pair");
            return nullptr;
        }
        PyObject *key = PyTuple_GET_ITEM(pair, 0);
        PyObject *result = PyTuple_GET_ITEM(pair, 1);
        const Py_hash_t hash = PyObject_Hash(key);
        if (hash == -1) {
            return nullptr;
        }
        if (c->maxsize == 0) {
            break;  // no cache: only the statistics travel
        }
        if (c->maxsize < 0) {
            if (PyDict_SetItem(c->cache, key, result) < 0) {
                return nullptr;
            }
            continue;
        }
        if (PyDict_Contains(c->cache, key) != 0) {
            if (PyErr_Occurred()) {
                return nullptr;
            }
            continue;  // the same key twice: keep the first link
        }
        LruElem *link = PyObject_New(LruElem, c->lru_list_elem_type);
        if (!link) {
            return nullptr;
        }
        link->hash = hash;
        link->key = Py_NewRef(key);
        link->result = Py_NewRef(result);
        link->prev = link->next = nullptr;
        if (PyDict_SetItem(c->cache, key, reinterpret_cast<PyObject *>(link)) < 0) {
            Py_DECREF(link);
            return nullptr;
        }
        // The cache dict holds one reference and the list owns the one made here: the
        // wrapper's clear drops both (Modules/_functoolsmodule.c, lru_cache_clear_list).
        LruElem *last = c->root.prev;
        last->next = c->root.prev = link;
        link->prev = last;
        link->next = &c->root;
    }
    c->hits = hits;
    c->misses = misses;
    Py_RETURN_NONE;
}

}  // namespace tp
