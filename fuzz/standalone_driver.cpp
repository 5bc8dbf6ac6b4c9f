// A fuzzing driver for compilers without libFuzzer: mutates the corpus files at random
// (byte flips, truncation, insertion, header-field overwrites) and feeds each mutant to
// LLVMFuzzerTestOneInput for the given number of seconds. Not coverage-guided: a smoke
// run under the sanitizers.
//   usage: fuzz_decode_payload <seconds> <corpus files...>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "codec/format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {
uint32_t get32(const std::vector<uint8_t> &d, size_t at)
{
    return static_cast<uint32_t>(d[at]) | static_cast<uint32_t>(d[at + 1]) << 8 |
           static_cast<uint32_t>(d[at + 2]) << 16 | static_cast<uint32_t>(d[at + 3]) << 24;
}

void fix_header_checksum(std::vector<uint8_t> &d)
{
    if (d.size() < tp::codec::kFixedSize) {
        return;
    }
    const uint32_t count = get32(d, 32);
    if (count == 0 || count > 64) {
        return;
    }
    const size_t end = tp::codec::kFixedSize + tp::codec::kEntrySize * count;
    if (d.size() < end + 4) {
        return;
    }
    const uint32_t crc = tp::codec::crc32c(0, d.data(), end);
    for (int k = 0; k < 4; k++) {
        d[end + static_cast<size_t>(k)] = static_cast<uint8_t>(crc >> (8 * k));
    }
}
}  // namespace

int main(int argc, char **argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s <seconds> <corpus files...>\n", argv[0]);
        return 2;
    }
    const double seconds = std::atof(argv[1]);
    std::vector<std::vector<uint8_t>> corpus;
    for (int i = 2; i < argc; i++) {
        std::ifstream f(argv[i], std::ios::binary);
        corpus.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
    std::mt19937_64 rng(12345);
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    unsigned long runs = 0;
    while (std::chrono::steady_clock::now() < end) {
        for (int batch = 0; batch < 256; batch++, runs++) {
            std::vector<uint8_t> d = corpus[rng() % corpus.size()];
            const int edits = 1 + static_cast<int>(rng() % 8);
            for (int e = 0; e < edits && !d.empty(); e++) {
                const size_t pos = rng() % d.size();
                switch (rng() % 5) {
                case 0:
                    d[pos] = static_cast<uint8_t>(rng());
                    break;
                case 1:
                    d[pos] ^= static_cast<uint8_t>(1u << (rng() % 8));
                    break;
                case 2:
                    d.resize(pos);
                    break;
                case 3:
                    d.insert(d.begin() + static_cast<long>(pos), static_cast<uint8_t>(rng()));
                    break;
                default: { // overwrite an aligned 8-byte field with an extreme value
                    const size_t at = (pos / 8) * 8;
                    const uint64_t v = (rng() % 2) ? ~0ull >> (rng() % 64) : rng() % 4096;
                    for (size_t k = 0; k < 8 && at + k < d.size(); k++) {
                        d[at + k] = static_cast<uint8_t>(v >> (8 * k));
                    }
                }
                }
            }
            if (rng() % 2) {
                fix_header_checksum(d); // reach the checks behind the header checksum
            }
            LLVMFuzzerTestOneInput(d.data(), d.size());
        }
    }
    for (int i = 2; i < argc; i++) { // the seeds themselves must be accepted
        const std::vector<uint8_t> &c = corpus[static_cast<size_t>(i - 2)];
        tp::codec::Header h;
        std::string why;
        if (!tp::codec::decode_all(c.data(), c.size(), &h, why)) {
            std::fprintf(stderr, "seed %s is refused (%s): regenerate it (fuzz/make_seeds.py)\n",
                         argv[i], why.c_str());
            return 1;
        }
        LLVMFuzzerTestOneInput(c.data(), c.size());
    }
    std::printf("fuzz_decode_payload: %lu inputs in %.0f s, no crash\n", runs, seconds);
    return 0;
}
