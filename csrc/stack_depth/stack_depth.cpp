#include "stack_depth/stack_depth.hpp"

#include <array>
#include <memory>
#include <unordered_map>

namespace tp {
namespace {

enum Jump : uint8_t { kNoJump = 0, kForward = 1, kBackward = 2 };

struct OpInfo {
    uint8_t caches = 0;
    uint8_t jump = kNoJump;
    bool terminal = false; // never falls through to the next instruction
    bool valid = false;
};

std::array<OpInfo, 256> g_ops;
std::array<std::string, 256> g_names;
int g_extended_arg = -1;
int g_return_generator = -1;
bool g_ready = false;

// Instructions after which control never reaches the next one. Names, not numbers:
// numbers change with every minor version, names of these did not.
const char *const kTerminal[] = {
    "RETURN_VALUE", "RETURN_CONST", "RAISE_VARARGS", "RERAISE",
    "JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT",
};

int lookup(PyObject *opmap, const char *name)
{
    Ref v = Ref::steal(PyMapping_GetItemString(opmap, name));
    return v ? static_cast<int>(PyLong_AsLong(v.get())) : -1;
}

}  // namespace

const char *opcode_name(int op)
{
    if (op < 0 || op > 255 || g_names[static_cast<size_t>(op)].empty()) {
        return "<unknown opcode>";
    }
    return g_names[static_cast<size_t>(op)].c_str();
}

bool init_opcode_tables(std::string &why)
{
    Ref opcode = Ref::steal(PyImport_ImportModule("opcode"));
    if (!opcode) {
        why = "cannot import the opcode module";
        return false;
    }
    Ref opmap = Ref::steal(PyObject_GetAttrString(opcode.get(), "opmap"));
    Ref caches = Ref::steal(PyObject_GetAttrString(opcode.get(), "_inline_cache_entries"));
    Ref hasjrel = Ref::steal(PyObject_GetAttrString(opcode.get(), "hasjrel"));
    // Mappings are dicts up to 3.14 and frozendicts from 3.15 on.
    Ref items = opmap ? Ref::steal(PyMapping_Items(opmap.get())) : Ref();
    if (!items || !caches || !hasjrel) {
        PyErr_Clear();
        why = "the opcode module lacks opmap/_inline_cache_entries/hasjrel";
        return false;
    }
    const bool caches_by_name = PyMapping_Check(caches.get()) && !PySequence_Check(caches.get());
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items.get()); i++) {
        PyObject *item = PyList_GET_ITEM(items.get(), i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
            continue;
        }
        PyObject *name = PyTuple_GET_ITEM(item, 0);
        long op = PyLong_AsLong(PyTuple_GET_ITEM(item, 1));
        if (op < 0 || op > 255) {
            continue; // pseudo-instructions never appear in code objects
        }
        OpInfo &info = g_ops[static_cast<size_t>(op)];
        info.valid = true;
        const char *s = PyUnicode_AsUTF8(name);
        g_names[static_cast<size_t>(op)] = s;
        Ref n;
        if (caches_by_name) { // 3.13+: by name
            n = Ref::steal(PyObject_GetItem(caches.get(), name));
        }
        else {
            n = Ref::steal(PySequence_GetItem(caches.get(), op));
        }
        PyErr_Clear();
        info.caches = n ? static_cast<uint8_t>(PyLong_AsLong(n.get())) : 0;
        for (const char *t : kTerminal) {
            if (std::string(s) == t) {
                info.terminal = true;
            }
        }
    }
    Py_ssize_t nj = PySequence_Size(hasjrel.get());
    for (Py_ssize_t i = 0; i < nj; i++) {
        Ref v = Ref::steal(PySequence_GetItem(hasjrel.get(), i));
        long op = v ? PyLong_AsLong(v.get()) : -1;
        if (op < 0 || op > 255) {
            continue;
        }
        const std::string &s = g_names[static_cast<size_t>(op)];
        if (s == "END_ASYNC_FOR") {
            // 3.14+ list it: its argument points back at the loop's END_SEND for the
            // branch events of sys.monitoring; control goes on to the next instruction.
            continue;
        }
        g_ops[static_cast<size_t>(op)].jump =
            s.find("BACKWARD") != std::string::npos ? kBackward : kForward;
    }
    g_extended_arg = lookup(opmap.get(), "EXTENDED_ARG");
    g_return_generator = lookup(opmap.get(), "RETURN_GENERATOR");
    if (PyErr_Occurred() || g_extended_arg < 0) {
        PyErr_Clear();
        why = "unexpected opcode tables";
        return false;
    }
    g_ready = true;
    return true;
}

namespace {

// Parses co_exceptiontable (format shared by 3.11-3.13, see Objects/exception_handling_notes.txt).
struct Handler {
    int start, end, target, depth;
};

bool parse_exception_table(PyObject *table, std::vector<Handler> &out)
{
    char *buf;
    Py_ssize_t len;
    if (PyBytes_AsStringAndSize(table, &buf, &len) < 0) {
        return false;
    }
    const auto *p = reinterpret_cast<const uint8_t *>(buf);
    Py_ssize_t i = 0;
    auto varint = [&](int &val) {
        if (i >= len) {
            return false;
        }
        uint8_t b = p[i++];
        val = b & 63;
        while (b & 64) {
            if (i >= len || val > (1 << 24)) {
                return false;
            }
            b = p[i++];
            val = (val << 6) | (b & 63);
        }
        return true;
    };
    while (i < len) {
        int start, size, target, dl;
        if (!varint(start) || !varint(size) || !varint(target) || !varint(dl)) {
            return false;
        }
        out.push_back({start, start + size, target, (dl >> 1) + (dl & 1) + 1});
    }
    return true;
}

std::unordered_map<PyCodeObject *, std::unique_ptr<CodeAnalysis>> g_cache;

std::unique_ptr<CodeAnalysis> run_analysis(PyCodeObject *co, std::string &why)
{
    Ref bytes = Ref::steal(PyCode_GetCode(co)); // deoptimised, no instrumentation
    if (!bytes) {
        PyErr_Clear();
        why = "cannot read the code's bytecode";
        return nullptr;
    }
    const auto *u = reinterpret_cast<const uint8_t *>(PyBytes_AS_STRING(bytes.get()));
    const int n = static_cast<int>(PyBytes_GET_SIZE(bytes.get()) / 2);

    auto a = std::make_unique<CodeAnalysis>();
    a->stacksize = co->co_stacksize;
    a->nlocalsplus = co->co_nlocalsplus;
    a->unit_to_instr.assign(static_cast<size_t>(n), -1);

    // Pass 1: decode instruction boundaries.
    for (int i = 0; i < n;) {
        Instr in{i, i, 0, 0, 0, -1};
        int arg = 0;
        int j = i;
        while (j < n && u[2 * j] == g_extended_arg) {
            arg = (arg | u[2 * j + 1]) << 8;
            j++;
        }
        if (j >= n) {
            why = "bytecode ends inside EXTENDED_ARG";
            return nullptr;
        }
        in.opunit = j;
        in.op = u[2 * j];
        in.oparg = arg | u[2 * j + 1];
        const OpInfo &info = g_ops[static_cast<size_t>(in.op)];
        if (!info.valid) {
            why = "unknown opcode " + std::to_string(in.op);
            return nullptr;
        }
        in.next = j + 1 + info.caches;
        if (in.next > n) {
            why = "bytecode ends inside inline caches";
            return nullptr;
        }
        for (int k = i; k < in.next; k++) {
            a->unit_to_instr[static_cast<size_t>(k)] = static_cast<int>(a->instrs.size());
        }
        a->instrs.push_back(in);
        i = in.next;
    }

    // Pass 2: worklist over reachable instructions.
    std::vector<int> work;
    auto reach = [&](int unit, int depth) {
        int idx = a->starting_at(unit);
        if (idx < 0 || depth < 0 || depth > a->stacksize) {
            why = "stack depth " + std::to_string(depth) + " out of range at offset " +
                  std::to_string(2 * unit);
            return false;
        }
        Instr &in = a->instrs[static_cast<size_t>(idx)];
        if (in.depth == -1) {
            in.depth = depth;
            work.push_back(idx);
        }
        else if (in.depth != depth) {
            why = "inconsistent stack depth at offset " + std::to_string(2 * unit);
            return false;
        }
        return true;
    };
    if (n == 0 || !reach(0, 0)) {
        if (why.empty()) {
            why = "empty code";
        }
        return nullptr;
    }
    std::vector<Handler> handlers;
    if (!parse_exception_table(co->co_exceptiontable, handlers)) {
        PyErr_Clear();
        why = "malformed exception table";
        return nullptr;
    }
    for (const Handler &h : handlers) {
        if (!reach(h.target, h.depth)) {
            return nullptr;
        }
    }
    while (!work.empty()) {
        const Instr in = a->at(work.back());
        work.pop_back();
        const OpInfo &info = g_ops[static_cast<size_t>(in.op)];
        int effect = PyCompile_OpcodeStackEffectWithJump(in.op, in.oparg, 0);
        if (in.op == g_return_generator) {
            // The generator object stays on the stack when the frame is resumed
            // (POP_TOP follows); the compiler's table says 0 on 3.11/3.12.
            effect = 1;
        }
        if (effect == PY_INVALID_STACK_EFFECT) {
            PyErr_Clear();
            why = std::string("no stack effect for ") + opcode_name(in.op);
            return nullptr;
        }
        if (!info.terminal && in.next < n && !reach(in.next, in.depth + effect)) {
            return nullptr;
        }
        if (info.jump != kNoJump) {
            int je = PyCompile_OpcodeStackEffectWithJump(in.op, in.oparg, 1);
            int target = info.jump == kForward ? in.next + in.oparg : in.next - in.oparg;
            if (!reach(target, in.depth + je)) {
                return nullptr;
            }
        }
    }
    return a;
}

}  // namespace

const CodeAnalysis *analyse(PyCodeObject *co, std::string &why)
{
    if (!g_ready) {
        why = "opcode tables not loaded";
        return nullptr;
    }
    auto it = g_cache.find(co);
    if (it != g_cache.end()) {
        return it->second.get();
    }
    std::unique_ptr<CodeAnalysis> a = run_analysis(co, why);
    if (!a) {
        return nullptr;
    }
    Py_INCREF(co); // cached entries keep their code alive, so the key stays valid
    return g_cache.emplace(co, std::move(a)).first->second.get();
}

}  // namespace tp
