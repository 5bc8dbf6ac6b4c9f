// Static stack-depth analysis of a code object.
//
// While a frame is inside a C call the interpreter keeps its stack pointer in a C local,
// so the frame itself does not say how many value-stack slots are live. The compiler
// guarantees one fixed depth per instruction, which this analysis recomputes the way
// CPython's flowgraph.c does: a worklist over instructions of the *deoptimised* code,
// using the interpreter's own PyCompile_OpcodeStackEffectWithJump and the exception
// table's handler depths. An inconsistent depth is an error, never an assumption.
#pragma once
#include <Python.h>

#include <cstdint>
#include <string>
#include <vector>

#include "pyutil/refs.hpp"

namespace tp {

struct Instr {
    int start;  // code unit of the first EXTENDED_ARG, or of the opcode
    int opunit; // code unit of the opcode itself
    int op;     // deoptimised opcode
    int oparg;  // EXTENDED_ARG folded in
    int next;   // code unit after the inline caches
    int depth;  // stack depth before the instruction; -1 when unreachable
};

class CodeAnalysis {
  public:
    std::vector<Instr> instrs;
    std::vector<int> unit_to_instr; // code unit -> index into instrs
    int stacksize = 0;
    int nlocalsplus = 0;

    // Index of the instruction that contains code unit `unit`, or -1.
    int containing(int unit) const
    {
        if (unit < 0 || unit >= static_cast<int>(unit_to_instr.size())) {
            return -1;
        }
        return unit_to_instr[static_cast<size_t>(unit)];
    }
    // Index of the instruction starting exactly at `unit`, or -1.
    int starting_at(int unit) const
    {
        int i = containing(unit);
        return (i >= 0 && instrs[static_cast<size_t>(i)].start == unit) ? i : -1;
    }
    const Instr &at(int i) const { return instrs[static_cast<size_t>(i)]; }
};

// Loads the opcode tables of the running interpreter (from its `opcode` module).
bool init_opcode_tables(std::string &why);
const char *opcode_name(int op);

// Analysis of `co`, cached for the life of the process; NULL with `why` on failure.
const CodeAnalysis *analyse(PyCodeObject *co, std::string &why);

}  // namespace tp
