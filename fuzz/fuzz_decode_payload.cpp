// Fuzz target: the payload decoder must refuse arbitrary bytes cleanly, never crash,
// read out of bounds or overflow. Built with libFuzzer when clang is available, else with
// standalone_driver.cpp (random mutations of the corpus); both under ASan and UBSan.
#include <cstddef>
#include <cstdint>
#include <string>

#include "codec/format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tp::codec::Header h;
    std::string why;
    if (tp::codec::decode_all(data, size, &h, why)) {
        // Accepted: the payload and every section of the stream must lie inside the input
        // (a mapped section's bytes are in its memory file, not here).
        if (h.total > size || tp::codec::sections_end(h) > h.total) {
            __builtin_trap();
        }
        for (const tp::codec::Section &s : h.sections) {
            if (s.kind != tp::codec::kMapped && s.offset + s.length > size) {
                __builtin_trap();
            }
        }
    }
    else if (why.empty()) {
        __builtin_trap(); // a refusal always says why
    }
    tp::codec::Header fixed;
    tp::codec::decode_fixed(data, size, &fixed, why);
    tp::codec::Header header;
    tp::codec::decode_header(data, size, &header, why);
    return 0;
}
