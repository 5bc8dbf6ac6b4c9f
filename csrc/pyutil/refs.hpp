// Owned references without manual DECREF bookkeeping.
//
// Rules of use:
//  - Ref::steal(p) takes over a new reference (NULL allowed: it means "an error is set").
//  - Ref::borrow(p) adds a reference to a borrowed pointer.
//  - release() hands the reference to the caller (e.g. to store into a frame slot).
#pragma once
#include <Python.h>

#include <utility>

namespace tp {

class Ref {
  public:
    Ref() = default;
    static Ref steal(PyObject *p) { return Ref(p); }
    static Ref borrow(PyObject *p)
    {
        Py_XINCREF(p);
        return Ref(p);
    }
    Ref(const Ref &o) : p_(o.p_) { Py_XINCREF(p_); }
    Ref(Ref &&o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    Ref &operator=(Ref o) noexcept
    {
        std::swap(p_, o.p_);
        return *this;
    }
    ~Ref() { Py_XDECREF(p_); }

    PyObject *get() const { return p_; }
    PyObject *release() { return std::exchange(p_, nullptr); }
    explicit operator bool() const { return p_ != nullptr; }

  private:
    explicit Ref(PyObject *p) : p_(p) {}
    PyObject *p_ = nullptr;
};

}  // namespace tp
