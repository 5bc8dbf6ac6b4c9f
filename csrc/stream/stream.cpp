#include "stream/stream.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "codec/format.hpp"
#include "stream/mapped.hpp"
#include "pyutil/refs.hpp"

namespace tp {

PyObject *PayloadFormatError = nullptr;

namespace {

using codec::Header;
using codec::Section;

uint32_t this_python() { return (PY_MAJOR_VERSION << 8) | PY_MINOR_VERSION; }

void this_magic(uint8_t out[4])
{
    long m = PyImport_GetMagicNumber(); // the 4 bytes of MAGIC_NUMBER, little-endian
    for (int i = 0; i < 4; i++) {
        out[i] = static_cast<uint8_t>((static_cast<unsigned long>(m) >> (8 * i)) & 0xFF);
    }
}

// ---- raw I/O without the GIL -------------------------------------------------------------

// Returns 0, or errno.
int write_all(int fd, const char *p, size_t n)
{
    int err = 0;
    Py_BEGIN_ALLOW_THREADS
    while (n) {
        ssize_t k = ::write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR) {
                continue;
            }
            err = errno;
            break;
        }
        p += k;
        n -= static_cast<size_t>(k);
    }
    Py_END_ALLOW_THREADS
    return err;
}

// Reads up to n bytes, stopping early only at end of stream. Returns bytes read, or -1
// with errno in *err.
ssize_t read_full(int fd, char *p, size_t n, int *err)
{
    size_t got = 0;
    Py_BEGIN_ALLOW_THREADS
    while (got < n) {
        ssize_t k = ::read(fd, p + got, n - got);
        if (k < 0) {
            if (errno == EINTR) {
                continue;
            }
            *err = errno;
            break;
        }
        if (k == 0) {
            break;
        }
        got += static_cast<size_t>(k);
    }
    Py_END_ALLOW_THREADS
    return *err ? -1 : static_cast<ssize_t>(got);
}

PyObject *refuse(const std::string &why)
{
    PyErr_SetString(PayloadFormatError, why.c_str());
    return nullptr;
}

PyObject *os_error(int err)
{
    errno = err;
    return PyErr_SetFromErrno(PyExc_OSError);
}

uint32_t crc_nogil(const void *p, size_t n)
{
    uint32_t c;
    Py_BEGIN_ALLOW_THREADS
    c = codec::crc32c(0, p, n);
    Py_END_ALLOW_THREADS
    return c;
}

// The keyed hash of a signed payload (an hmac.HMAC object of the caller's): every byte
// written or read before the signature passes through its update(), as a read-only view of
// our own memory that is released right after the call (a hasher cannot keep it).
class Tap {
  public:
    explicit Tap(PyObject *hasher) : hasher_(hasher == Py_None ? nullptr : hasher) {}
    bool active() const { return hasher_ != nullptr; }

    // False with the exception set when update() failed.
    bool feed(const char *p, size_t n)
    {
        if (!hasher_ || n == 0) {
            return true;
        }
        Ref view = Ref::steal(PyMemoryView_FromMemory(const_cast<char *>(p),
                                                      static_cast<Py_ssize_t>(n), PyBUF_READ));
        if (!view) {
            return false;
        }
        Ref r = Ref::steal(PyObject_CallMethod(hasher_, "update", "O", view.get()));
        Ref released = Ref::steal(PyObject_CallMethod(view.get(), "release", nullptr));
        return r && released;
    }

    // The digest so far: kSignatureSize bytes, or false with the exception set.
    bool digest(uint8_t out[codec::kSignatureSize])
    {
        Ref d = Ref::steal(PyObject_CallMethod(hasher_, "digest", nullptr));
        if (!d) {
            return false;
        }
        if (!PyBytes_Check(d.get()) ||
            PyBytes_GET_SIZE(d.get()) != static_cast<Py_ssize_t>(codec::kSignatureSize)) {
            PyErr_SetString(PyExc_ValueError, "the signer's digest is not 32 bytes");
            return false;
        }
        std::memcpy(out, PyBytes_AS_STRING(d.get()), codec::kSignatureSize);
        return true;
    }

  private:
    PyObject *hasher_; // borrowed: the caller's argument outlives the call
};

// Constant time: how long the comparison takes says nothing of where the bytes differ.
bool same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t diff = 0;
    for (size_t i = 0; i < n; i++) {
        diff |= static_cast<uint8_t>(a[i] ^ b[i]);
    }
    return diff == 0;
}

struct Views {
    std::vector<Py_buffer> v;
    ~Views()
    {
        for (Py_buffer &b : v) {
            PyBuffer_Release(&b);
        }
    }
};

bool get_view(PyObject *o, Views &views)
{
    Py_buffer b;
    if (PyObject_GetBuffer(o, &b, PyBUF_CONTIG_RO) < 0) {
        return false;
    }
    views.v.push_back(b);
    return true;
}

// Reads one section's bytes into a new bytearray (or, for a kBytesObject section, a new
// bytes object) that grows with the data received (a corrupt length never becomes one
// huge allocation), checking its checksum on the way.
PyObject *read_section(int fd, const Section &s, size_t index, Tap &tap)
{
    const bool as_bytes = s.flags & codec::kBytesObject;
    const size_t len = static_cast<size_t>(s.length);
    const size_t first = len < (64u << 20) ? len : (64u << 20);
    PyObject *raw = as_bytes ? PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(first))
                             : PyByteArray_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(first));
    if (!raw) {
        return nullptr;
    }
    size_t got = 0;
    uint32_t crc = 0;
    while (got < len) {
        size_t cap = static_cast<size_t>(Py_SIZE(raw));
        if (got == cap) {
            size_t grow = cap < len - got ? cap : len - got;
            if (as_bytes) {
                if (_PyBytes_Resize(&raw, static_cast<Py_ssize_t>(cap + grow)) < 0) {
                    return nullptr; // raw was freed
                }
            }
            else if (PyByteArray_Resize(raw, static_cast<Py_ssize_t>(cap + grow)) < 0) {
                Py_DECREF(raw);
                return nullptr;
            }
            cap += grow;
        }
        char *p = (as_bytes ? PyBytes_AS_STRING(raw) : PyByteArray_AsString(raw)) + got;
        int err = 0;
        ssize_t k = read_full(fd, p, cap - got, &err);
        if (k < 0) {
            Py_DECREF(raw);
            return os_error(err);
        }
        Py_BEGIN_ALLOW_THREADS
        crc = codec::crc32c(crc, p, static_cast<size_t>(k));
        Py_END_ALLOW_THREADS
        if (!tap.feed(p, static_cast<size_t>(k))) {
            Py_DECREF(raw);
            return nullptr;
        }
        got += static_cast<size_t>(k);
        if (got < cap) { // read_full stops short only at the end of the stream
            Py_DECREF(raw);
            return refuse("truncated payload: section " + std::to_string(index) + " ended after " +
                          std::to_string(got) + " of " + std::to_string(len) + " bytes");
        }
    }
    if (crc != s.crc) {
        Py_DECREF(raw);
        return refuse("corrupt payload: section " + std::to_string(index) +
                      " checksum mismatch");
    }
    return raw;
}

// False, with the exception set, when the memory file is too short for section `s`.
bool memory_file_holds(int mfd, const Section &s, size_t index)
{
    struct stat st;
    if (::fstat(mfd, &st) < 0) {
        os_error(errno);
        return false;
    }
    if (static_cast<uint64_t>(st.st_size) < s.offset + s.length) {
        refuse("truncated payload: its memory file is shorter than section " +
               std::to_string(index));
        return false;
    }
    return true;
}

// Reads a persistent object's section from the memory file into a new bytes or bytearray
// (these own their memory, so the bytes are copied once, as from a stream).
PyObject *pread_section(int mfd, const Section &s, size_t index)
{
    const bool as_bytes = s.flags & codec::kBytesObject;
    if (!memory_file_holds(mfd, s, index)) {
        return nullptr;
    }
    const auto n = static_cast<Py_ssize_t>(s.length);
    Ref obj = Ref::steal(as_bytes ? PyBytes_FromStringAndSize(nullptr, n)
                                  : PyByteArray_FromStringAndSize(nullptr, n));
    if (!obj) {
        return nullptr;
    }
    // PyByteArray_AsString, not the macro: 3.14's macro reads a symbol that 3.15 no longer
    // has, and a build loaded into another version must get as far as its version check.
    char *p = as_bytes ? PyBytes_AS_STRING(obj.get()) : PyByteArray_AsString(obj.get());
    int err = 0;
    uint64_t done = 0;
    uint32_t crc = 0;
    Py_BEGIN_ALLOW_THREADS
    while (done < s.length) {
        ssize_t k = ::pread(mfd, p + done, static_cast<size_t>(s.length - done),
                            static_cast<off_t>(s.offset + done));
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            err = k < 0 ? errno : EIO;
            break;
        }
        done += static_cast<uint64_t>(k);
    }
    if (!err) {
        crc = codec::crc32c(0, p, static_cast<size_t>(s.length));
    }
    Py_END_ALLOW_THREADS
    if (err) {
        return os_error(err);
    }
    if (crc != s.crc) {
        return refuse("corrupt payload: section " + std::to_string(index) + " checksum mismatch");
    }
    return obj.release();
}

// Reads the padding up to `target`: it must be zero.
bool skip_to(int fd, uint64_t &pos, uint64_t target, Tap &tap)
{
    char pad[codec::kAlign];
    while (pos < target) {
        size_t n = static_cast<size_t>(target - pos);
        n = n < sizeof pad ? n : sizeof pad;
        int err = 0;
        ssize_t k = read_full(fd, pad, n, &err);
        if (k < 0) {
            os_error(err);
            return false;
        }
        if (static_cast<size_t>(k) < n) {
            refuse("truncated payload: it ends between sections");
            return false;
        }
        if (!codec::all_zero(reinterpret_cast<const uint8_t *>(pad), n)) {
            refuse("corrupt payload: the padding between sections is not zero");
            return false;
        }
        if (!tap.feed(pad, n)) {
            return false;
        }
        pos += n;
    }
    return true;
}

// Reads one section through a small buffer, checking its checksum, keeping nothing.
bool drain_section(int fd, const Section &s, size_t index, Tap &tap)
{
    std::vector<char> buf(static_cast<size_t>(std::min<uint64_t>(s.length, 1u << 20)));
    uint64_t got = 0;
    uint32_t crc = 0;
    while (got < s.length) {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), s.length - got));
        int err = 0;
        ssize_t k = read_full(fd, buf.data(), want, &err);
        if (k < 0) {
            os_error(err);
            return false;
        }
        Py_BEGIN_ALLOW_THREADS
        crc = codec::crc32c(crc, buf.data(), static_cast<size_t>(k));
        Py_END_ALLOW_THREADS
        if (!tap.feed(buf.data(), static_cast<size_t>(k))) {
            return false;
        }
        got += static_cast<uint64_t>(k);
        if (static_cast<size_t>(k) < want) {
            refuse("truncated payload: section " + std::to_string(index) + " ended after " +
                   std::to_string(got) + " of " + std::to_string(s.length) + " bytes");
            return false;
        }
    }
    if (crc != s.crc) {
        refuse("corrupt payload: section " + std::to_string(index) + " checksum mismatch");
        return false;
    }
    return true;
}

PyObject *info_dict(const Header &h)
{
    Ref sections = Ref::steal(PyList_New(0));
    if (!sections) {
        return nullptr;
    }
    static const char *const names[] = {"", "meta", "state", "buffer", "mapped"};
    for (const Section &s : h.sections) {
        Ref item = Ref::steal(Py_BuildValue(
            "{s:s,s:K,s:K,s:k,s:k}", "kind", names[s.kind], "offset",
            static_cast<unsigned long long>(s.offset), "length",
            static_cast<unsigned long long>(s.length), "crc32c", static_cast<unsigned long>(s.crc),
            "flags", static_cast<unsigned long>(s.flags)));
        if (!item || PyList_Append(sections.get(), item.get()) < 0) {
            return nullptr;
        }
    }
    return Py_BuildValue("{s:i,s:(ii),s:y#,s:(iii),s:K,s:O,s:O}", "format", h.format, "python",
                         h.python >> 8, h.python & 0xFF, "bytecode_magic",
                         reinterpret_cast<const char *>(h.bytecode_magic), Py_ssize_t(4),
                         "teleporter", h.teleporter >> 16, (h.teleporter >> 8) & 0xFF,
                         h.teleporter & 0xFF, "total", static_cast<unsigned long long>(h.total),
                         "sections", sections.get(), "signed",
                         (h.flags & codec::kSigned) ? Py_True : Py_False);
}

// Reads and validates the header: format, this interpreter, table and header checksum.
// With a tap (a key), an unsigned payload is refused here, before any section is read.
bool read_header(int fd, Header &h, std::string &raw, bool check_interpreter, Tap &tap)
{
    raw.assign(codec::kFixedSize, '\0');
    int err = 0;
    ssize_t k = read_full(fd, raw.data(), raw.size(), &err);
    if (k < 0) {
        os_error(err);
        return false;
    }
    std::string why;
    if (!codec::decode_fixed(reinterpret_cast<const uint8_t *>(raw.data()),
                             static_cast<size_t>(k), &h, why)) {
        refuse(static_cast<size_t>(k) == 0 ? "truncated payload: it is empty" : why);
        return false;
    }
    if (check_interpreter) {
        uint8_t magic[4];
        this_magic(magic);
        if (h.python != this_python()) {
            refuse("payload was written by CPython " + std::to_string(h.python >> 8) + "." +
                   std::to_string(h.python & 0xFF) + ", this is CPython " +
                   std::to_string(PY_MAJOR_VERSION) + "." + std::to_string(PY_MINOR_VERSION));
            return false;
        }
        if (std::memcmp(magic, h.bytecode_magic, 4) != 0) {
            refuse("payload was written by an interpreter with another bytecode magic number");
            return false;
        }
    }
    const size_t hsize = codec::header_size(h.sections.size());
    raw.resize(hsize);
    k = read_full(fd, raw.data() + codec::kFixedSize, hsize - codec::kFixedSize, &err);
    if (k < 0) {
        os_error(err);
        return false;
    }
    if (!codec::decode_header(reinterpret_cast<const uint8_t *>(raw.data()),
                              codec::kFixedSize + static_cast<size_t>(k), &h, why)) {
        refuse(why);
        return false;
    }
    if (tap.active() && !(h.flags & codec::kSigned)) {
        refuse("the checkpoint is not signed, and a key is set: only signed checkpoints are "
               "accepted");
        return false;
    }
    return tap.feed(raw.data(), raw.size());
}

// Reads the padding after the last section, the signature (kSigned: checked against the
// tap when there is one) and the trailer.
bool read_end(int fd, uint64_t pos, const Header &h, const std::string &raw, Tap &tap)
{
    if (!skip_to(fd, pos, codec::sections_end(h), tap)) {
        return false;
    }
    const bool is_signed = h.flags & codec::kSigned;
    uint8_t signature[codec::kSignatureSize];
    char trailer[codec::kTrailerSize];
    int err = 0;
    if (is_signed) {
        ssize_t k = read_full(fd, reinterpret_cast<char *>(signature), sizeof signature, &err);
        if (k < 0) {
            os_error(err);
            return false;
        }
        if (static_cast<size_t>(k) < sizeof signature) {
            refuse("truncated payload: the signature is missing");
            return false;
        }
    }
    ssize_t k = read_full(fd, trailer, sizeof trailer, &err);
    if (k < 0) {
        os_error(err);
        return false;
    }
    std::string why;
    if (!codec::check_trailer(reinterpret_cast<const uint8_t *>(trailer), static_cast<size_t>(k),
                              reinterpret_cast<const uint8_t *>(raw.data()), raw.size(), h,
                              is_signed ? signature : nullptr, why)) {
        refuse(why);
        return false;
    }
    if (tap.active()) {
        uint8_t expected[codec::kSignatureSize];
        if (!tap.digest(expected)) {
            return false;
        }
        if (!same_bytes(expected, signature, sizeof signature)) {
            refuse("signature mismatch: the checkpoint was not signed with this key, or was "
                   "changed after it was signed");
            return false;
        }
    }
    return true;
}

// Writes the kMapped sections' bytes into the memory file at their offsets and computes
// their checksums on the way, chunk by chunk while the chunk is still in cache (one pass
// over the data instead of two). Returns 0 or errno.
int fill_memory_file(int mfd, uint64_t size, std::vector<Section> &sections, const Views &views)
{
    constexpr size_t kChunk = 256 << 10;
    int err = 0;
    Py_BEGIN_ALLOW_THREADS
    if (::ftruncate(mfd, static_cast<off_t>(size)) < 0) {
        err = errno; // (pages are allocated by the writes: fallocate measured slower)
    }
    for (size_t i = 0; i < sections.size() && !err; i++) {
        Section &s = sections[i];
        if (s.kind != codec::kMapped) {
            continue;
        }
        const char *p = static_cast<const char *>(views.v[i].buf);
        uint32_t crc = 0;
        uint64_t done = 0;
        while (done < s.length) {
            const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, s.length - done));
            ssize_t k = ::pwrite(mfd, p + done, want, static_cast<off_t>(s.offset + done));
            if (k < 0) {
                if (errno == EINTR) {
                    continue;
                }
                err = errno;
                break;
            }
            crc = codec::crc32c(crc, p + done, static_cast<size_t>(k));
            done += static_cast<uint64_t>(k);
        }
        s.crc = crc;
    }
    Py_END_ALLOW_THREADS
    return err;
}

// Maps one kMapped section copy-on-write (a later fork() of the program then behaves as
// with ordinary memory) and checks its checksum.
PyObject *map_section(int mfd, const Section &s, size_t index)
{
    if (!memory_file_holds(mfd, s, index)) {
        return nullptr;
    }
    Ref mm = Ref::steal(map_private(mfd, s.offset, s.length));
    if (!mm) {
        return nullptr;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(mm.get(), &view, PyBUF_SIMPLE) < 0) {
        return nullptr;
    }
    const uint32_t crc = crc_nogil(view.buf, static_cast<size_t>(view.len));
    PyBuffer_Release(&view);
    if (crc != s.crc) {
        return refuse("corrupt payload: section " + std::to_string(index) + " checksum mismatch");
    }
    return mm.release();
}

}  // namespace

bool stream_init(PyObject *module)
{
    PayloadFormatError = PyErr_NewException("teleporter._teleporter_impl.PayloadFormatError",
                                            PyExc_ValueError, nullptr);
    return PayloadFormatError &&
           PyModule_AddObjectRef(module, "PayloadFormatError", PayloadFormatError) == 0;
}

PyObject *write_payload(PyObject *args)
{
    int fd;
    PyObject *meta, *state, *buffers;
    unsigned int version;
    int mapped_fd = -1;
    unsigned long long threshold = 1u << 20;
    PyObject *signer = Py_None;
    if (!PyArg_ParseTuple(args, "iOOO!I|iKO:write_payload", &fd, &meta, &state, &PyList_Type,
                          &buffers, &version, &mapped_fd, &threshold, &signer)) {
        return nullptr;
    }
    Tap tap(signer);
    if (tap.active()) {
        mapped_fd = -1; // the signature covers the stream: every byte goes through it
    }
    Views views;
    if (!get_view(meta, views) || !get_view(state, views)) {
        return nullptr;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(buffers); i++) {
        if (!get_view(PyList_GET_ITEM(buffers, i), views)) {
            return nullptr;
        }
    }
    Header h;
    h.flags = tap.active() ? codec::kSigned : 0;
    h.python = this_python();
    this_magic(h.bytecode_magic);
    h.teleporter = version;
    uint64_t mapped_size = 0;
    for (size_t i = 0; i < views.v.size(); i++) {
        Section s;
        s.kind = i == 0 ? codec::kMeta : i == 1 ? codec::kState : codec::kBuffer;
        s.length = static_cast<uint64_t>(views.v[i].len);
        if (i >= 2) {
            PyObject *item = PyList_GET_ITEM(buffers, static_cast<Py_ssize_t>(i - 2));
            if (PyBytes_CheckExact(item)) {
                s.flags = codec::kPersistent | codec::kBytesObject;
            }
            else if (PyByteArray_CheckExact(item)) {
                s.flags = codec::kPersistent;
            }
        }
        if (s.kind == codec::kBuffer && mapped_fd >= 0 && s.length >= threshold && s.length) {
            s.kind = codec::kMapped; // a local destination maps these bytes, uncopied
            s.offset = mapped_size;
            mapped_size = (mapped_size + s.length + codec::kPage - 1) / codec::kPage * codec::kPage;
        }
        else {
            s.crc = crc_nogil(views.v[i].buf, static_cast<size_t>(views.v[i].len));
        }
        h.sections.push_back(s);
    }
    int err = 0;
    if (mapped_size) {
        err = fill_memory_file(mapped_fd, mapped_size, h.sections, views);
        if (err) {
            return os_error(err);
        }
    }
    const std::string head = codec::encode_header(h);
    // Writes n bytes and passes them to the signer: false with the exception set.
    auto emit = [&](const char *p, size_t n) {
        err = write_all(fd, p, n);
        if (err) {
            os_error(err);
            return false;
        }
        return tap.feed(p, n);
    };
    if (!emit(head.data(), head.size())) {
        return nullptr;
    }
    uint64_t pos = head.size();
    static const char zeros[codec::kAlign] = {};
    for (size_t i = 0; i < views.v.size(); i++) {
        const Section &s = h.sections[i];
        if (s.kind == codec::kMapped) {
            continue;
        }
        if (!emit(zeros, static_cast<size_t>(s.offset - pos)) ||
            !emit(static_cast<const char *>(views.v[i].buf), static_cast<size_t>(s.length))) {
            return nullptr;
        }
        pos = s.offset + s.length;
    }
    if (!emit(zeros, static_cast<size_t>(codec::sections_end(h) - pos))) {
        return nullptr;
    }
    uint8_t signature[codec::kSignatureSize];
    if (tap.active()) {
        if (!tap.digest(signature)) {
            return nullptr;
        }
        err = write_all(fd, reinterpret_cast<const char *>(signature), sizeof signature);
    }
    if (!err) {
        const std::string trailer =
            codec::encode_trailer(head, h, tap.active() ? signature : nullptr);
        err = write_all(fd, trailer.data(), trailer.size());
    }
    if (err) {
        return os_error(err);
    }
    return PyLong_FromUnsignedLongLong(h.total);
}

PyObject *read_payload(PyObject *args)
{
    int fd;
    int mapped_fd = -1;
    PyObject *verifier = Py_None;
    if (!PyArg_ParseTuple(args, "i|iO:read_payload", &fd, &mapped_fd, &verifier)) {
        return nullptr;
    }
    Tap tap(verifier);
    Header h;
    std::string raw;
    if (!read_header(fd, h, raw, true, tap)) {
        return nullptr;
    }
    if (h.sections.size() < 2 || h.sections[0].kind != codec::kMeta ||
        h.sections[1].kind != codec::kState) {
        return refuse("corrupt payload: it lacks its meta or state section");
    }
    Ref parts = Ref::steal(PyList_New(0));
    if (!parts) {
        return nullptr;
    }
    uint64_t pos = raw.size();
    for (size_t i = 0; i < h.sections.size(); i++) {
        const Section &s = h.sections[i];
        if (i >= 2 && s.kind != codec::kBuffer && s.kind != codec::kMapped) {
            return refuse("corrupt payload: unexpected section kind");
        }
        if (s.kind == codec::kMapped) {
            if (mapped_fd < 0) {
                return refuse("corrupt payload: it refers to a memory file that did not come "
                              "with it");
            }
            Ref data = Ref::steal((s.flags & codec::kPersistent) ? pread_section(mapped_fd, s, i)
                                                                 : map_section(mapped_fd, s, i));
            if (!data || PyList_Append(parts.get(), data.get()) < 0) {
                return nullptr;
            }
            continue;
        }
        if (!skip_to(fd, pos, s.offset, tap)) {
            return nullptr;
        }
        Ref data = Ref::steal(read_section(fd, s, i, tap));
        if (!data || PyList_Append(parts.get(), data.get()) < 0) {
            return nullptr;
        }
        pos = s.offset + s.length;
    }
    if (!read_end(fd, pos, h, raw, tap)) {
        return nullptr;
    }
    Ref info = Ref::steal(info_dict(h));
    if (!info) {
        return nullptr;
    }
    Ref meta = Ref::steal(PyBytes_FromObject(PyList_GET_ITEM(parts.get(), 0)));
    Ref buffers = Ref::steal(PyList_GetSlice(parts.get(), 2, PyList_GET_SIZE(parts.get())));
    if (!meta || !buffers) {
        return nullptr;
    }
    return Py_BuildValue("(OOOO)", meta.get(), PyList_GET_ITEM(parts.get(), 1), buffers.get(),
                         info.get());
}

PyObject *describe_payload(PyObject *args)
{
    int fd;
    PyObject *verifier = Py_None;
    if (!PyArg_ParseTuple(args, "i|O:describe_payload", &fd, &verifier)) {
        return nullptr;
    }
    Tap tap(verifier);
    Header h;
    std::string raw;
    if (!read_header(fd, h, raw, true, tap)) {
        return nullptr;
    }
    if (h.sections[0].kind != codec::kMeta) {
        return refuse("corrupt payload: it lacks its meta section");
    }
    uint64_t pos = raw.size();
    Ref meta;
    for (size_t i = 0; i < h.sections.size(); i++) {
        const Section &s = h.sections[i];
        if (s.kind == codec::kMapped) {
            return refuse("corrupt payload: it refers to a memory file that did not come with it");
        }
        if (!skip_to(fd, pos, s.offset, tap)) {
            return nullptr;
        }
        if (i == 0) {
            meta = Ref::steal(read_section(fd, s, i, tap));
            if (!meta) {
                return nullptr;
            }
        }
        else if (!drain_section(fd, s, i, tap)) { // checked, not kept
            return nullptr;
        }
        pos = s.offset + s.length;
    }
    if (!read_end(fd, pos, h, raw, tap)) {
        return nullptr;
    }
    Ref info = Ref::steal(info_dict(h));
    if (!info || PyDict_SetItemString(info.get(), "meta", meta.get()) < 0) {
        return nullptr;
    }
    return info.release();
}

}  // namespace tp
