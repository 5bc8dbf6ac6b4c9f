// The iterators of itertools as CPython 3.14 and 3.15 lay them out (Modules/itertoolsmodule.c),
// where pickle no longer handles them: what each holds, read and written field by field.
//
// iter_state(it) answers (args, state): `args` make a fresh iterator of the same type through
// its own constructor (placeholders, or the pools that size the C arrays of the combinatoric
// ones), and `state` is what that constructor does not set. iter_make(type, args, state)
// makes the fresh one and writes `state` into it. Every field is checked before any is
// written: a type whose name or size is not the one mirrored here, or a value the
// iterator's __next__ would read out of range, is a TypeError or ValueError, never a crash.
//
// In a state, a field the C struct may leave NULL travels as None when the field cannot
// hold None otherwise (iterators, tuples), and as () or (value,) when it can (groupby's
// keys, accumulate's running total).
#include "stdlib/itertools_iters.hpp"

#include <cstring>
#include <vector>

#include "pyutil/refs.hpp"

namespace tp {
namespace {

struct Cycle {
    PyObject_HEAD
    PyObject *it;      // NULL once exhausted
    PyObject *saved;   // what the first pass read
    Py_ssize_t index;  // -1 during the first pass, then the next item of `saved`
};

struct FuncItFlag { // dropwhile (flag: start) and takewhile (flag: stop)
    PyObject_HEAD
    PyObject *func;
    PyObject *it;
    long flag;
};

struct Islice {
    PyObject_HEAD
    PyObject *it; // NULL once exhausted
    Py_ssize_t next;
    Py_ssize_t stop;
    Py_ssize_t step;
    Py_ssize_t cnt;
};

// starmap and filterfalse (func, it), compress (data, selectors), chain (source: NULL once
// exhausted; active: NULL between two iterables)
struct TwoObjects {
    PyObject_HEAD
    PyObject *first;
    PyObject *second;
};

struct Product {
    PyObject_HEAD
    PyObject *pools;
    Py_ssize_t *indices; // one per pool
    PyObject *result;    // NULL before the first result
    int stopped;
};

struct Combinations { // combinations and combinations_with_replacement
    PyObject_HEAD
    PyObject *pool;
    Py_ssize_t *indices; // r of them
    PyObject *result;
    Py_ssize_t r;
    int stopped;
};

struct Permutations {
    PyObject_HEAD
    PyObject *pool;
    Py_ssize_t *indices; // one per element of the pool
    Py_ssize_t *cycles;  // r of them
    PyObject *result;
    Py_ssize_t r;
    int stopped;
};

struct Accumulate {
    PyObject_HEAD
    PyObject *total; // NULL before the first value
    PyObject *it;
    PyObject *binop; // NULL: addition
    PyObject *initial;
    void *state; // the module's (3.12+)
};

struct Accumulate311 { // the same without the module's state
    PyObject_HEAD
    PyObject *total;
    PyObject *it;
    PyObject *binop;
    PyObject *initial;
};

struct Repeat {
    PyObject_HEAD
    PyObject *element;
    Py_ssize_t cnt; // -1: forever
};

struct ZipLongest {
    PyObject_HEAD
    Py_ssize_t tuplesize;
    Py_ssize_t numactive;
    PyObject *ittuple; // NULL items: exhausted iterators
    PyObject *result;
    PyObject *fillvalue;
};

struct Batched {
    PyObject_HEAD
    PyObject *it;          // NULL once exhausted
    Py_ssize_t batch_size; // -1 once exhausted (as state; 3.14 sets it so itself)
    bool strict;           // from 3.13 on
};

struct Batched312 { // 3.12's, which pickle never handled either
    PyObject_HEAD
    PyObject *it;
    Py_ssize_t batch_size;
};

struct Groupby {
    PyObject_HEAD
    PyObject *it;
    PyObject *keyfunc;
    PyObject *tgtkey;
    PyObject *currkey;
    PyObject *currvalue;
    const void *currgrouper; // borrowed: the one _grouper that may still read
    void *state;             // the module's
};

struct Grouper {
    PyObject_HEAD
    PyObject *parent;
    PyObject *tgtkey;
};

enum class Kind {
    Cycle,
    Dropwhile,
    Takewhile,
    Islice,
    Starmap,
    Filterfalse,
    Compress,
    Chain,
    Product,
    Combinations,
    Cwr,
    Permutations,
    Accumulate,
    Repeat,
    ZipLongest,
    Batched,
    Groupby,
    Grouper,
};

struct Known {
    const char *name; // the attribute of the itertools module
    Kind kind;
    size_t size;
    long since = 0x030E0000; // the first CPython whose layout this is known to be
};

const Known kKnown[] = {
    {"cycle", Kind::Cycle, sizeof(Cycle)},
    {"dropwhile", Kind::Dropwhile, sizeof(FuncItFlag)},
    {"takewhile", Kind::Takewhile, sizeof(FuncItFlag)},
    {"islice", Kind::Islice, sizeof(Islice)},
    {"starmap", Kind::Starmap, sizeof(TwoObjects)},
    {"filterfalse", Kind::Filterfalse, sizeof(TwoObjects)},
    {"compress", Kind::Compress, sizeof(TwoObjects)},
    {"chain", Kind::Chain, sizeof(TwoObjects)},
    {"product", Kind::Product, sizeof(Product)},
    {"combinations", Kind::Combinations, sizeof(Combinations)},
    {"combinations_with_replacement", Kind::Cwr, sizeof(Combinations)},
    {"permutations", Kind::Permutations, sizeof(Permutations)},
    {"accumulate", Kind::Accumulate, sizeof(Accumulate), 0x030C0000},
    {"accumulate", Kind::Accumulate, sizeof(Accumulate311), 0x030B0000},
    {"repeat", Kind::Repeat, sizeof(Repeat)},
    {"zip_longest", Kind::ZipLongest, sizeof(ZipLongest)},
    {"batched", Kind::Batched, sizeof(Batched), 0x030D0000},
    {"batched", Kind::Batched, sizeof(Batched312), 0x030C0000},
    {"groupby", Kind::Groupby, sizeof(Groupby)},
    {"_grouper", Kind::Grouper, sizeof(Grouper)},
};

// The entry for `type` when it is exactly one of itertools' own types, of a size mirrored
// here for this CPython; else a TypeError. (Before 3.14 pickle carries all but accumulate
// and batched, and their layouts there are not mirrored.)
const Known *known(PyTypeObject *type)
{
    // Looked up in sys.modules first: iter_state runs in a capture, where nothing may be
    // imported (see _threads._settling); an iterator of its types means it is there.
    Ref name = Ref::steal(PyUnicode_FromString("itertools"));
    Ref module = name ? Ref::steal(PyImport_GetModule(name.get())) : Ref();
    if (!module && !PyErr_Occurred()) {
        module = Ref::steal(PyImport_Import(name.get()));
    }
    if (!module) {
        return nullptr;
    }
    const char *dotted = std::strncmp(type->tp_name, "itertools.", 10) == 0
                             ? type->tp_name + 10
                             : nullptr;
    const char *unknown_layout = nullptr;
    for (const Known &k : kKnown) {
        if (PY_VERSION_HEX < k.since || !dotted || std::strcmp(dotted, k.name) != 0) {
            continue;
        }
        Ref t = Ref::steal(PyObject_GetAttrString(module.get(), k.name));
        if (!t) {
            PyErr_Clear();
            continue;
        }
        if (t.get() == reinterpret_cast<PyObject *>(type)) {
            if (type->tp_basicsize == static_cast<Py_ssize_t>(k.size)) {
                return &k;
            }
            unknown_layout = k.name;
        }
    }
    if (unknown_layout) {
        PyErr_Format(PyExc_TypeError, "itertools.%s has a layout this build does not know",
                     unknown_layout);
    } else {
        PyErr_Format(PyExc_TypeError, "%s is not one of the itertools iterators read here",
                     type->tp_name);
    }
    return nullptr;
}

template <class T>
T *as(PyObject *obj)
{
    return reinterpret_cast<T *>(obj);
}

PyObject *or_none(PyObject *p) { return Py_NewRef(p ? p : Py_None); }

PyObject *wrapped(PyObject *p) { return p ? PyTuple_Pack(1, p) : PyTuple_New(0); }

PyObject *ssizes(const Py_ssize_t *values, Py_ssize_t n)
{
    PyObject *out = PyTuple_New(n);
    for (Py_ssize_t i = 0; out && i < n; i++) {
        PyObject *v = PyLong_FromSsize_t(values[i]);
        if (!v) {
            Py_CLEAR(out);
            break;
        }
        PyTuple_SET_ITEM(out, i, v);
    }
    return out;
}

PyObject *placeholders(Py_ssize_t n)
{
    PyObject *out = PyTuple_New(n);
    for (Py_ssize_t i = 0; out && i < n; i++) {
        PyTuple_SET_ITEM(out, i, PyTuple_New(0)); // the empty tuple is immortal
    }
    return out;
}

bool fail(const char *what)
{
    PyErr_Format(PyExc_ValueError, "an itertools state out of range: %s", what);
    return false;
}

// The fields of a state tuple, checked as they are read.
class Fields {
  public:
    Fields(PyObject *state, Py_ssize_t n, const char *kind) : state_(state)
    {
        ok_ = PyTuple_CheckExact(state) && PyTuple_GET_SIZE(state) == n;
        if (!ok_) {
            PyErr_Format(PyExc_ValueError, "an itertools.%s state of the wrong shape", kind);
        }
    }
    bool ok() const { return ok_; }
    PyObject *any(Py_ssize_t i) const { return PyTuple_GET_ITEM(state_, i); }
    // An iterator (one whose __next__ C code calls directly), or NULL for None when allowed.
    bool iterator(Py_ssize_t i, bool none_ok, PyObject **out) const
    {
        PyObject *v = any(i);
        if (v == Py_None && none_ok) {
            *out = nullptr;
            return true;
        }
        *out = v;
        return PyIter_Check(v) || fail("not an iterator");
    }
    // () or (value,)
    bool optional(Py_ssize_t i, PyObject **out) const
    {
        PyObject *v = any(i);
        if (!PyTuple_CheckExact(v) || PyTuple_GET_SIZE(v) > 1) {
            return fail("an optional field");
        }
        *out = PyTuple_GET_SIZE(v) ? PyTuple_GET_ITEM(v, 0) : nullptr;
        return true;
    }
    bool ssize(Py_ssize_t i, Py_ssize_t lo, Py_ssize_t hi, Py_ssize_t *out) const
    {
        PyObject *v = any(i);
        if (!PyLong_CheckExact(v)) {
            return fail("not an integer");
        }
        *out = PyLong_AsSsize_t(v);
        if (*out == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            return fail("an integer too large");
        }
        return (lo <= *out && *out <= hi) || fail("an integer");
    }
    bool flag(Py_ssize_t i, int *out) const
    {
        Py_ssize_t v;
        if (!ssize(i, 0, 1, &v)) {
            return false;
        }
        *out = static_cast<int>(v);
        return true;
    }
    // A tuple of exactly n integers, each in [lo, hi[k]] (hi given per position).
    template <class Hi>
    bool indices(Py_ssize_t i, Py_ssize_t n, Hi hi, std::vector<Py_ssize_t> *out) const
    {
        PyObject *v = any(i);
        if (!PyTuple_CheckExact(v) || PyTuple_GET_SIZE(v) != n) {
            return fail("indices of the wrong length");
        }
        out->resize(static_cast<size_t>(n));
        for (Py_ssize_t k = 0; k < n; k++) {
            PyObject *x = PyTuple_GET_ITEM(v, k);
            Py_ssize_t value = PyLong_CheckExact(x) ? PyLong_AsSsize_t(x) : -1;
            if (value == -1 && PyErr_Occurred()) {
                PyErr_Clear();
            }
            if (value < 0 || value > hi(k)) {
                return fail("an index");
            }
            (*out)[static_cast<size_t>(k)] = value;
        }
        return true;
    }
    // None (no result yet) or a tuple of n items: the result the iterator updates in place.
    bool result(Py_ssize_t i, Py_ssize_t n, PyObject **out) const
    {
        PyObject *v = any(i);
        if (v == Py_None) {
            *out = nullptr;
            return true;
        }
        *out = v;
        return (PyTuple_CheckExact(v) && PyTuple_GET_SIZE(v) == n) || fail("a result tuple");
    }

  private:
    PyObject *state_;
    bool ok_;
};

void set(PyObject **slot, PyObject *value) { Py_XSETREF(*slot, Py_XNewRef(value)); }

PyObject *state_of(PyObject *obj, Kind kind)
{
    switch (kind) {
    case Kind::Cycle: {
        Cycle *c = as<Cycle>(obj);
        return Py_BuildValue("((())(NOn))", or_none(c->it), c->saved, c->index);
    }
    case Kind::Dropwhile:
    case Kind::Takewhile: {
        FuncItFlag *f = as<FuncItFlag>(obj);
        return Py_BuildValue("((O())(OOl))", Py_None, f->func, f->it, f->flag);
    }
    case Kind::Islice: {
        Islice *s = as<Islice>(obj);
        return Py_BuildValue("((()i)(Nnnnn))", 0, or_none(s->it), s->next, s->stop, s->step,
                             s->cnt);
    }
    case Kind::Starmap:
    case Kind::Filterfalse: {
        TwoObjects *t = as<TwoObjects>(obj);
        return Py_BuildValue("((O())(OO))", Py_None, t->first, t->second);
    }
    case Kind::Compress: {
        TwoObjects *t = as<TwoObjects>(obj);
        return Py_BuildValue("((()())(OO))", t->first, t->second);
    }
    case Kind::Chain: {
        TwoObjects *c = as<TwoObjects>(obj);
        return Py_BuildValue("(()(NN))", or_none(c->first), or_none(c->second));
    }
    case Kind::Product: {
        Product *p = as<Product>(obj);
        const Py_ssize_t n = PyTuple_GET_SIZE(p->pools);
        return Py_BuildValue("(O(NNi))", p->pools, ssizes(p->indices, n), or_none(p->result),
                             p->stopped);
    }
    case Kind::Combinations:
    case Kind::Cwr: {
        Combinations *c = as<Combinations>(obj);
        return Py_BuildValue("((On)(NNi))", c->pool, c->r, ssizes(c->indices, c->r),
                             or_none(c->result), c->stopped);
    }
    case Kind::Permutations: {
        Permutations *p = as<Permutations>(obj);
        const Py_ssize_t n = PyTuple_GET_SIZE(p->pool);
        return Py_BuildValue("((On)(NNNi))", p->pool, p->r, ssizes(p->indices, n),
                             ssizes(p->cycles, p->r), or_none(p->result), p->stopped);
    }
    case Kind::Accumulate: {
        Accumulate *a = as<Accumulate>(obj);
        return Py_BuildValue("((())(NONO))", wrapped(a->total), a->it, or_none(a->binop),
                             a->initial);
    }
    case Kind::Repeat: {
        Repeat *r = as<Repeat>(obj);
        return r->cnt < 0 ? Py_BuildValue("((O)())", r->element)
                          : Py_BuildValue("((On)())", r->element, r->cnt);
    }
    case Kind::ZipLongest: {
        ZipLongest *z = as<ZipLongest>(obj);
        Ref its = Ref::steal(PyTuple_New(z->tuplesize));
        if (!its) {
            return nullptr;
        }
        for (Py_ssize_t i = 0; i < z->tuplesize; i++) {
            PyTuple_SET_ITEM(its.get(), i, or_none(PyTuple_GET_ITEM(z->ittuple, i)));
        }
        return Py_BuildValue("(N(OnOO))", placeholders(z->tuplesize), its.get(), z->numactive,
                             z->result, z->fillvalue);
    }
    case Kind::Batched: {
        Batched *b = as<Batched>(obj);
        const bool strict = Py_TYPE(obj)->tp_basicsize == sizeof(Batched) && b->strict;
        return Py_BuildValue("((()i)(Nni))", 1, or_none(b->it), b->it ? b->batch_size : -1,
                             static_cast<int>(strict));
    }
    case Kind::Groupby: {
        Groupby *g = as<Groupby>(obj);
        return Py_BuildValue("((())(OONNN))", g->it, g->keyfunc, wrapped(g->tgtkey),
                             wrapped(g->currkey), wrapped(g->currvalue));
    }
    case Kind::Grouper: {
        Grouper *g = as<Grouper>(obj);
        const bool current = as<Groupby>(g->parent)->currgrouper == g;
        return Py_BuildValue("((OO)(O))", g->parent, g->tgtkey, current ? Py_True : Py_False);
    }
    }
    PyErr_SetString(PyExc_SystemError, "an itertools kind without a state");
    return nullptr;
}

bool set_state(PyObject *obj, const Known &entry, PyObject *state)
{
    const Kind kind = entry.kind;
    switch (kind) {
    case Kind::Cycle: {
        Fields f(state, 3, entry.name);
        PyObject *it, *saved = f.ok() ? f.any(1) : nullptr;
        Py_ssize_t index;
        if (!f.ok() || !f.iterator(0, true, &it) || !f.ssize(2, -1, PY_SSIZE_T_MAX, &index)) {
            return false;
        }
        if (!PyList_CheckExact(saved) || (index < 0 && !it) ||
            (index > 0 && index >= PyList_GET_SIZE(saved))) {
            return fail("cycle's saved items");
        }
        Cycle *c = as<Cycle>(obj);
        set(&c->it, it);
        set(&c->saved, saved);
        c->index = index;
        return true;
    }
    case Kind::Dropwhile:
    case Kind::Takewhile: {
        Fields f(state, 3, entry.name);
        PyObject *it;
        int flag;
        if (!f.ok() || !f.iterator(1, false, &it) || !f.flag(2, &flag)) {
            return false;
        }
        FuncItFlag *d = as<FuncItFlag>(obj);
        set(&d->func, f.any(0));
        set(&d->it, it);
        d->flag = flag;
        return true;
    }
    case Kind::Islice: {
        Fields f(state, 5, entry.name);
        PyObject *it;
        Py_ssize_t next, stop, step, cnt;
        if (!f.ok() || !f.iterator(0, true, &it) || !f.ssize(1, 0, PY_SSIZE_T_MAX, &next) ||
            !f.ssize(2, -1, PY_SSIZE_T_MAX, &stop) || !f.ssize(3, 1, PY_SSIZE_T_MAX, &step) ||
            !f.ssize(4, 0, PY_SSIZE_T_MAX, &cnt)) {
            return false;
        }
        Islice *s = as<Islice>(obj);
        set(&s->it, it);
        s->next = next;
        s->stop = stop;
        s->step = step;
        s->cnt = cnt;
        return true;
    }
    case Kind::Starmap:
    case Kind::Filterfalse:
    case Kind::Compress:
    case Kind::Chain: {
        // The second an iterator, and the first too but for a function; chain's either
        // may be none.
        Fields f(state, 2, entry.name);
        const bool chain = kind == Kind::Chain;
        PyObject *first = f.ok() ? f.any(0) : nullptr, *second;
        if (!f.ok() || ((chain || kind == Kind::Compress) && !f.iterator(0, chain, &first)) ||
            !f.iterator(1, chain, &second)) {
            return false;
        }
        TwoObjects *t = as<TwoObjects>(obj);
        set(&t->first, first);
        set(&t->second, second);
        return true;
    }
    case Kind::Product: {
        Product *p = as<Product>(obj);
        const Py_ssize_t n = PyTuple_GET_SIZE(p->pools);
        Fields f(state, 3, entry.name);
        std::vector<Py_ssize_t> indices;
        PyObject *result;
        int stopped;
        auto hi = [p](Py_ssize_t k) {
            const Py_ssize_t size = PyTuple_GET_SIZE(PyTuple_GET_ITEM(p->pools, k));
            return size > 0 ? size - 1 : 0;
        };
        if (!f.ok() || !f.indices(0, n, hi, &indices) || !f.result(1, n, &result) ||
            !f.flag(2, &stopped)) {
            return false;
        }
        std::memcpy(p->indices, indices.data(), indices.size() * sizeof(Py_ssize_t));
        set(&p->result, result);
        p->stopped = stopped;
        return true;
    }
    case Kind::Combinations:
    case Kind::Cwr: {
        Combinations *c = as<Combinations>(obj);
        const Py_ssize_t n = PyTuple_GET_SIZE(c->pool), r = c->r;
        Fields f(state, 3, entry.name);
        std::vector<Py_ssize_t> indices;
        PyObject *result;
        int stopped;
        // Where each index may stand: combinations keeps them increasing, each at most
        // i + n - r; with replacement each below n. Out of those, a stopped iterator only.
        const bool possible = kind == Kind::Combinations ? r <= n : (n > 0 || r == 0);
        auto hi = [&](Py_ssize_t k) {
            if (!possible) {
                return PY_SSIZE_T_MAX;
            }
            return kind == Kind::Combinations ? k + n - r : n - 1;
        };
        if (!f.ok() || !f.indices(0, r, hi, &indices) || !f.result(1, r, &result) ||
            !f.flag(2, &stopped)) {
            return false;
        }
        if (!possible && !stopped) {
            return fail("a combinations iterator that cannot yield");
        }
        std::memcpy(c->indices, indices.data(), indices.size() * sizeof(Py_ssize_t));
        set(&c->result, result);
        c->stopped = stopped;
        return true;
    }
    case Kind::Permutations: {
        Permutations *p = as<Permutations>(obj);
        const Py_ssize_t n = PyTuple_GET_SIZE(p->pool), r = p->r;
        Fields f(state, 4, entry.name);
        if (f.ok() && r > n) {
            return true; // made stopped by its constructor; nothing else is read
        }
        std::vector<Py_ssize_t> indices, cycles;
        PyObject *result;
        int stopped;
        if (!f.ok() || !f.indices(0, n, [n](Py_ssize_t) { return n - 1; }, &indices) ||
            !f.indices(1, r, [n](Py_ssize_t k) { return n - k; }, &cycles) ||
            !f.result(2, r, &result) || !f.flag(3, &stopped)) {
            return false;
        }
        std::vector<bool> seen(static_cast<size_t>(n));
        for (Py_ssize_t v : indices) {
            if (seen[static_cast<size_t>(v)]) {
                return fail("permutations' indices");
            }
            seen[static_cast<size_t>(v)] = true;
        }
        for (Py_ssize_t v : cycles) {
            if (v < 1 && !stopped) {
                return fail("permutations' cycles");
            }
        }
        std::memcpy(p->indices, indices.data(), indices.size() * sizeof(Py_ssize_t));
        std::memcpy(p->cycles, cycles.data(), cycles.size() * sizeof(Py_ssize_t));
        set(&p->result, result);
        p->stopped = stopped;
        return true;
    }
    case Kind::Accumulate: {
        Fields f(state, 4, entry.name);
        PyObject *total, *it, *binop;
        if (!f.ok() || !f.optional(0, &total) || !f.iterator(1, false, &it)) {
            return false;
        }
        binop = f.any(2) == Py_None ? nullptr : f.any(2);
        Accumulate *a = as<Accumulate>(obj);
        set(&a->total, total);
        set(&a->it, it);
        set(&a->binop, binop);
        set(&a->initial, f.any(3));
        return true;
    }
    case Kind::Repeat: {
        Fields f(state, 0, entry.name); // its constructor sets it all
        return f.ok();
    }
    case Kind::ZipLongest: {
        ZipLongest *z = as<ZipLongest>(obj);
        const Py_ssize_t n = z->tuplesize;
        Fields f(state, 4, entry.name);
        Py_ssize_t numactive;
        PyObject *result;
        if (!f.ok() || !f.ssize(1, 0, n, &numactive) || !f.result(2, n, &result)) {
            return false;
        }
        if (!result) {
            return fail("zip_longest's result");
        }
        PyObject *its = f.any(0);
        if (!PyTuple_CheckExact(its) || PyTuple_GET_SIZE(its) != n) {
            return fail("zip_longest's iterators");
        }
        Py_ssize_t live = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *it = PyTuple_GET_ITEM(its, i);
            if (it != Py_None && !PyIter_Check(it)) {
                return fail("zip_longest's iterators");
            }
            live += it != Py_None;
        }
        if (numactive > live) {
            return fail("zip_longest's count of live iterators");
        }
        Ref ittuple = Ref::steal(PyTuple_New(n));
        if (!ittuple) {
            return false;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *it = PyTuple_GET_ITEM(its, i);
            if (it != Py_None) {
                PyTuple_SET_ITEM(ittuple.get(), i, Py_NewRef(it));
            }
        }
        Py_XSETREF(z->ittuple, ittuple.release());
        z->numactive = numactive;
        set(&z->result, result);
        set(&z->fillvalue, f.any(3));
        return true;
    }
    case Kind::Batched: {
        Fields f(state, 3, entry.name);
        PyObject *it;
        Py_ssize_t size;
        int strict;
        if (!f.ok() || !f.iterator(0, true, &it) || !f.ssize(1, -1, PY_SSIZE_T_MAX, &size) ||
            !f.flag(2, &strict)) {
            return false;
        }
        if (it ? size < 1 : size != -1) {
            return fail("batched's size");
        }
        if (strict && Py_TYPE(obj)->tp_basicsize != sizeof(Batched)) {
            return fail("a strict batched before 3.13");
        }
        // Spent: no iterator, and a size of -1 (3.14 reads the size first, 3.12 and 3.13
        // the iterator, and neither reads the other then).
        Batched *b = as<Batched>(obj);
        set(&b->it, it);
        b->batch_size = size;
        if (Py_TYPE(obj)->tp_basicsize == sizeof(Batched)) {
            b->strict = strict != 0;
        }
        return true;
    }
    case Kind::Groupby: {
        Fields f(state, 5, entry.name);
        PyObject *it, *tgtkey, *currkey, *currvalue;
        if (!f.ok() || !f.iterator(0, false, &it) || !f.optional(2, &tgtkey) ||
            !f.optional(3, &currkey) || !f.optional(4, &currvalue)) {
            return false;
        }
        Groupby *g = as<Groupby>(obj);
        set(&g->it, it);
        set(&g->keyfunc, f.any(1));
        set(&g->tgtkey, tgtkey);
        set(&g->currkey, currkey);
        set(&g->currvalue, currvalue);
        return true;
    }
    case Kind::Grouper:
        break; // made whole by iter_make
    }
    PyErr_SetString(PyExc_SystemError, "an itertools kind without a state");
    return false;
}

}  // namespace

PyObject *iter_state(PyObject *it)
{
    const Known *k = known(Py_TYPE(it));
    return k ? state_of(it, k->kind) : nullptr;
}

PyObject *iter_make(PyObject *type, PyObject *args, PyObject *state)
{
    if (!PyType_Check(type) || !PyTuple_CheckExact(args)) {
        PyErr_SetString(PyExc_TypeError, "iter_make(type, args: tuple, state)");
        return nullptr;
    }
    const Known *k = known(reinterpret_cast<PyTypeObject *>(type));
    if (!k) {
        return nullptr;
    }
    if (k->kind == Kind::Grouper) {
        // Its constructor makes it the group its parent reads; one that was no longer that
        // at the origin leaves the parent's current group as it was.
        if (PyTuple_GET_SIZE(args) != 2 || !PyTuple_CheckExact(state) ||
            PyTuple_GET_SIZE(state) != 1 || !PyBool_Check(PyTuple_GET_ITEM(state, 0))) {
            fail("a _grouper's state");
            return nullptr;
        }
        PyObject *parent = PyTuple_GET_ITEM(args, 0);
        const Known *p = known(Py_TYPE(parent));
        if (!p || p->kind != Kind::Groupby) {
            PyErr_Clear();
            fail("a _grouper's parent");
            return nullptr;
        }
        const void *before = as<Groupby>(parent)->currgrouper;
        PyObject *fresh = PyObject_Call(type, args, nullptr);
        if (fresh && PyTuple_GET_ITEM(state, 0) == Py_False) {
            as<Groupby>(parent)->currgrouper = before;
        }
        return fresh;
    }
    Ref fresh = Ref::steal(PyObject_Call(type, args, nullptr));
    if (!fresh || Py_TYPE(fresh.get()) != reinterpret_cast<PyTypeObject *>(type) ||
        !set_state(fresh.get(), *k, state)) {
        return nullptr;
    }
    return fresh.release();
}

}  // namespace tp
