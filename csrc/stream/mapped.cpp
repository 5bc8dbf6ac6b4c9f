#include "stream/mapped.hpp"

#include <sys/mman.h>

#include <cerrno>

namespace tp {

namespace {

struct Mapped {
    PyObject_HEAD
    void *addr;
    Py_ssize_t length;
};

int mapped_getbuffer(PyObject *self, Py_buffer *view, int flags)
{
    auto *m = reinterpret_cast<Mapped *>(self);
    return PyBuffer_FillInfo(view, self, m->addr, m->length, 0, flags);
}

void mapped_dealloc(PyObject *self)
{
    // Buffer consumers hold a reference to the exporter: no export outlives this.
    auto *m = reinterpret_cast<Mapped *>(self);
    if (m->addr != nullptr) {
        munmap(m->addr, static_cast<size_t>(m->length));
    }
    PyTypeObject *type = Py_TYPE(self);
    type->tp_free(self);
    Py_DECREF(type);  // a heap type: each instance holds a reference to it
}

PyObject *mapped_repr(PyObject *self)
{
    return PyUnicode_FromFormat("<teleporter mapped memory of %zd bytes>",
                                reinterpret_cast<Mapped *>(self)->length);
}

PyType_Slot mapped_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void *>(mapped_dealloc)},
    {Py_tp_repr, reinterpret_cast<void *>(mapped_repr)},
    {Py_bf_getbuffer, reinterpret_cast<void *>(mapped_getbuffer)},
    {Py_tp_doc,
     const_cast<char *>("Memory of a moved program's buffer, mapped from the move's memory file.")},
    {0, nullptr},
};

PyType_Spec mapped_spec = {
    "teleporter._teleporter_impl.MappedMemory",
    sizeof(Mapped),
    0,
    Py_TPFLAGS_DEFAULT,
    mapped_slots,
};

PyTypeObject *MappedType = nullptr;

}  // namespace

bool mapped_init(PyObject *module)
{
    MappedType = reinterpret_cast<PyTypeObject *>(PyType_FromSpec(&mapped_spec));
    return MappedType != nullptr &&
           PyModule_AddObjectRef(module, "MappedMemory",
                                 reinterpret_cast<PyObject *>(MappedType)) == 0;
}

PyObject *map_private(int fd, uint64_t offset, uint64_t length)
{
    if (length == 0 || length > static_cast<uint64_t>(PY_SSIZE_T_MAX)) {
        PyErr_SetString(PyExc_ValueError, "cannot map an empty or oversized section");
        return nullptr;
    }
    void *addr = mmap(nullptr, static_cast<size_t>(length), PROT_READ | PROT_WRITE, MAP_PRIVATE,
                      fd, static_cast<off_t>(offset));
    if (addr == MAP_FAILED) {
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    auto *m = PyObject_New(Mapped, MappedType);
    if (m == nullptr) {
        munmap(addr, static_cast<size_t>(length));
        return nullptr;
    }
    m->addr = addr;
    m->length = static_cast<Py_ssize_t>(length);
    return reinterpret_cast<PyObject *>(m);
}

}  // namespace tp
