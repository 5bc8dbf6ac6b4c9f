#include "codec/format.hpp"

#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <nmmintrin.h>
#define TP_HAVE_SSE42_PATH 1
#endif

namespace tp::codec {
namespace {

// ---- CRC32C (Castagnoli): the SSE4.2 instruction where the CPU has it, else a table ---

uint32_t g_table[256];
bool g_table_ready = false;

void build_table()
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        }
        g_table[i] = c;
    }
    g_table_ready = true;
}

uint32_t crc32c_table(uint32_t crc, const uint8_t *p, size_t n)
{
    if (!g_table_ready) {
        build_table();
    }
    for (size_t i = 0; i < n; i++) {
        crc = g_table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    }
    return crc;
}

#ifdef TP_HAVE_SSE42_PATH
bool cpu_has_sse42()
{
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_2);
}

__attribute__((target("sse4.2"))) uint32_t crc32c_hw(uint32_t crc, const uint8_t *p, size_t n)
{
    uint64_t c = crc;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t v;
        std::memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
    }
    uint32_t c32 = static_cast<uint32_t>(c);
    for (; n; p++, n--) {
        c32 = _mm_crc32_u8(c32, *p);
    }
    return c32;
}

const bool g_hw = cpu_has_sse42();
#endif

// ---- little-endian fields -------------------------------------------------------------

void put16(std::string &s, uint16_t v)
{
    for (int i = 0; i < 2; i++) {
        s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    }
}
void put32(std::string &s, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    }
}
void put64(std::string &s, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    }
}
uint16_t get16(const uint8_t *p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t get32(const uint8_t *p)
{
    return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
           (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
uint64_t get64(const uint8_t *p) { return get32(p) | (static_cast<uint64_t>(get32(p + 4)) << 32); }

uint64_t align_up(uint64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

uint64_t signature_size(uint16_t flags) { return (flags & kSigned) ? kSignatureSize : 0; }

}  // namespace

uint32_t crc32c(uint32_t crc, const void *data, size_t n)
{
    const auto *p = static_cast<const uint8_t *>(data);
    crc = ~crc;
#ifdef TP_HAVE_SSE42_PATH
    if (g_hw) {
        return ~crc32c_hw(crc, p, n);
    }
#endif
    return ~crc32c_table(crc, p, n);
}

size_t header_size(size_t nsections)
{
    return static_cast<size_t>(align_up(kFixedSize + kEntrySize * nsections + 8));
}

std::string encode_header(Header &h)
{
    uint64_t off = header_size(h.sections.size());
    for (Section &s : h.sections) {
        if (s.kind == kMapped) {
            continue;
        }
        s.offset = off;
        off = align_up(off + s.length);
    }
    h.total = off + signature_size(h.flags) + kTrailerSize;
    std::string out;
    out.append(kMagic, sizeof kMagic);
    put16(out, h.format);
    put16(out, h.flags);
    put32(out, h.python);
    out.append(reinterpret_cast<const char *>(h.bytecode_magic), 4);
    put32(out, h.teleporter);
    put64(out, h.total);
    put32(out, static_cast<uint32_t>(h.sections.size()));
    put32(out, 0);
    for (const Section &s : h.sections) {
        put32(out, s.kind);
        put32(out, s.flags);
        put64(out, s.offset);
        put64(out, s.length);
        put32(out, s.crc);
        put32(out, 0);
    }
    put32(out, crc32c(0, out.data(), out.size()));
    put32(out, 0);
    out.resize(header_size(h.sections.size()), '\0');
    return out;
}

uint64_t sections_end(const Header &h)
{
    return h.total - kTrailerSize - signature_size(h.flags);
}

bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc |= p[i];
    }
    return acc == 0;
}

namespace {
uint32_t digest(const uint8_t *header_bytes, size_t header_len, const Header &h,
                const uint8_t *signature)
{
    uint32_t d = crc32c(0, header_bytes, header_len);
    for (const Section &s : h.sections) {
        uint8_t rec[12];
        for (int i = 0; i < 8; i++) {
            rec[i] = static_cast<uint8_t>((s.length >> (8 * i)) & 0xFF);
        }
        for (int i = 0; i < 4; i++) {
            rec[8 + i] = static_cast<uint8_t>((s.crc >> (8 * i)) & 0xFF);
        }
        d = crc32c(d, rec, sizeof rec);
    }
    if (h.flags & kSigned) {
        d = crc32c(d, signature, kSignatureSize);
    }
    return d;
}
}  // namespace

std::string encode_trailer(const std::string &header_bytes, const Header &h,
                           const uint8_t *signature)
{
    std::string out(kTrailerMagic, sizeof kTrailerMagic);
    put32(out, digest(reinterpret_cast<const uint8_t *>(header_bytes.data()),
                      header_bytes.size(), h, signature));
    put32(out, 0);
    return out;
}

bool decode_fixed(const uint8_t *p, size_t n, Header *out, std::string &why)
{
    if (std::memcmp(p, kMagic, n < sizeof kMagic ? n : sizeof kMagic) != 0) {
        why = "not a teleporter payload (bad magic)";
        return false;
    }
    if (n < kFixedSize) {
        why = "truncated payload: the header is incomplete";
        return false;
    }
    out->format = get16(p + 8);
    if (out->format != kFormatVersion) {
        why = "payload format " + std::to_string(out->format) +
              " is not supported (this teleporter reads " + std::to_string(kFormatVersion) +
              ")";
        return false;
    }
    out->flags = get16(p + 10);
    out->python = get32(p + 12);
    std::memcpy(out->bytecode_magic, p + 16, 4);
    out->teleporter = get32(p + 20);
    // Versions are bytes: major, minor (and patch) of a u32 leave its top bytes zero.
    if ((out->flags & ~kSigned) != 0 || get32(p + 36) != 0 || (out->python >> 16) != 0 ||
        (out->teleporter >> 24) != 0) {
        why = "corrupt payload: reserved header fields are set";
        return false;
    }
    out->total = get64(p + 24);
    uint32_t count = get32(p + 32);
    if (count == 0 || count > kMaxSections) {
        why = "corrupt payload: " + std::to_string(count) + " sections";
        return false;
    }
    if (out->total >= kMaxTotal) {
        why = "corrupt payload: total length " + std::to_string(out->total) + " is out of range";
        return false;
    }
    if (out->total < header_size(count) + signature_size(out->flags) + kTrailerSize) {
        why = "corrupt payload: total length too small for its header";
        return false;
    }
    out->sections.assign(count, Section{});
    return true;
}

bool decode_header(const uint8_t *p, size_t n, Header *out, std::string &why)
{
    if (!decode_fixed(p, n, out, why)) {
        return false;
    }
    const size_t count = out->sections.size();
    const size_t hsize = header_size(count);
    if (n < hsize) {
        why = "truncated payload: the section table is incomplete";
        return false;
    }
    const size_t table_end = kFixedSize + kEntrySize * count;
    if (get32(p + table_end) != crc32c(0, p, table_end)) {
        why = "corrupt payload: header checksum mismatch";
        return false;
    }
    if (!all_zero(p + table_end + 4, hsize - table_end - 4)) {
        why = "corrupt payload: the header's padding is not zero";
        return false;
    }
    const bool is_signed = out->flags & kSigned;
    // Sections end before the signature and the trailer (decode_fixed checked that the
    // total leaves room for them).
    const uint64_t limit = out->total - kTrailerSize - signature_size(out->flags);
    uint64_t expect = hsize;
    uint64_t mapped_end = 0;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *e = p + kFixedSize + kEntrySize * i;
        Section &s = out->sections[i];
        s.kind = get32(e);
        s.flags = get32(e + 4);
        s.offset = get64(e + 8);
        s.length = get64(e + 16);
        s.crc = get32(e + 24);
        const bool buffer = s.kind == kBuffer || s.kind == kMapped;
        const bool flags_ok = s.flags == 0 || (buffer && (s.flags == kPersistent ||
                                                          s.flags == (kPersistent | kBytesObject)));
        if (s.kind < kMeta || s.kind > kMapped || !flags_ok || get32(e + 28) != 0) {
            why = "corrupt payload: section " + std::to_string(i) + " has an unknown kind";
            return false;
        }
        if (s.kind == kMapped) {
            if (is_signed) { // a signature covers the stream only
                why = "corrupt payload: a signed payload refers to a memory file";
                return false;
            }
            if (s.offset % kPage != 0 || s.offset < mapped_end || s.length == 0 ||
                s.length > (uint64_t{1} << 56) || s.offset > (uint64_t{1} << 56)) {
                why = "corrupt payload: section " + std::to_string(i) +
                      " lies outside its memory file";
                return false;
            }
            mapped_end = s.offset + s.length;
            continue;
        }
        if (s.offset != expect || s.length > limit || s.offset > limit - s.length) {
            why = "corrupt payload: section " + std::to_string(i) + " lies outside the payload";
            return false;
        }
        expect = align_up(s.offset + s.length);
    }
    if (expect != limit) {
        why = "corrupt payload: sections do not add up to the total length";
        return false;
    }
    return true;
}

bool check_trailer(const uint8_t *p, size_t n, const uint8_t *header_bytes, size_t header_len,
                   const Header &h, const uint8_t *signature, std::string &why)
{
    if (n < kTrailerSize || std::memcmp(p, kTrailerMagic, sizeof kTrailerMagic) != 0) {
        why = "truncated payload: the trailer is missing";
        return false;
    }
    if (get32(p + 8) != digest(header_bytes, header_len, h, signature) || get32(p + 12) != 0) {
        why = "corrupt payload: whole-payload checksum mismatch";
        return false;
    }
    return true;
}

bool decode_all(const uint8_t *p, size_t n, Header *out, std::string &why)
{
    if (!decode_header(p, n, out, why)) {
        return false;
    }
    if (n < out->total) {
        why = "truncated payload: " + std::to_string(n) + " of " + std::to_string(out->total) +
              " bytes";
        return false;
    }
    const size_t hsize = header_size(out->sections.size());
    uint64_t pos = hsize;
    for (size_t i = 0; i < out->sections.size(); i++) {
        const Section &s = out->sections[i];
        if (s.kind == kMapped) {
            continue; // its bytes are not in this buffer: checked where the file is mapped
        }
        if (!all_zero(p + pos, static_cast<size_t>(s.offset - pos))) {
            why = "corrupt payload: the padding before section " + std::to_string(i) +
                  " is not zero";
            return false;
        }
        if (crc32c(0, p + s.offset, s.length) != s.crc) {
            why = "corrupt payload: section " + std::to_string(i) + " checksum mismatch";
            return false;
        }
        pos = s.offset + s.length;
    }
    const uint64_t end = sections_end(*out);
    if (!all_zero(p + pos, static_cast<size_t>(end - pos))) {
        why = "corrupt payload: the padding after the last section is not zero";
        return false;
    }
    const uint8_t *signature = (out->flags & kSigned) ? p + end : nullptr;
    return check_trailer(p + out->total - kTrailerSize, kTrailerSize, p, hsize, *out, signature,
                         why);
}

}  // namespace tp::codec
