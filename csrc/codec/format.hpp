// The payload container: what a teleport streams and a checkpoint stores.
//
// Layout (little-endian; see docs/internals/format.md):
//
//   fixed header, 40 bytes
//     0  magic            8  "TELEPORT"
//     8  format version   u16
//    10  flags            u16 (0)
//    12  CPython          u32 (major << 8 | minor) of the writer
//    16  bytecode magic   4   importlib.util.MAGIC_NUMBER of the writer
//    20  teleporter       u32 (major << 16 | minor << 8 | patch) of the writer
//    24  total length     u64 everything, trailer included
//    32  section count    u32 (at most kMaxSections)
//    36  reserved         u32 (0)
//   section table, 32 bytes per section
//     kind u32, flags u32, offset u64, length u64, crc32c u32, reserved u32
//   header checksum       u32 crc32c of every byte before it, then u32 0
//   sections              each starting at a multiple of 64 (buffers stay aligned);
//                         kMapped sections take no room here: their bytes are in a
//                         memory file that a local destination receives beside the stream
//   trailer, 16 bytes     "TPEND\0\0\0", u32 digest, u32 0
//
// The digest is the crc32c of the header bytes followed by each section's
// (length, crc32c): it covers the whole payload, and a reader checks it without a second
// pass over the data. Every field is validated before it is used; a payload is refused
// with one sentence.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tp::codec {

inline constexpr char kMagic[8] = {'T', 'E', 'L', 'E', 'P', 'O', 'R', 'T'};
inline constexpr char kTrailerMagic[8] = {'T', 'P', 'E', 'N', 'D', 0, 0, 0};
inline constexpr uint16_t kFormatVersion = 2;
inline constexpr size_t kFixedSize = 40;
inline constexpr size_t kEntrySize = 32;
inline constexpr size_t kTrailerSize = 16;
inline constexpr size_t kAlign = 64;
inline constexpr uint32_t kMaxSections = 1u << 20;

enum SectionKind : uint32_t {
    kMeta = 1,   // JSON: what `teleporter inspect` shows, never executed
    kState = 2,  // the pickle stream
    kBuffer = 3, // one out-of-band buffer of the pickle stream
    kMapped = 4, // one out-of-band buffer whose bytes are in the companion memory file:
                 // its offset is in that file (page-aligned), not in the stream
};

inline constexpr uint64_t kPage = 4096;

// Flags of kBuffer/kMapped sections. 0: a pickle protocol-5 buffer. kPersistent: an
// object the pickle stream refers to by persistent id (a large bytearray), and with
// kBytesObject a bytes object: the reader builds exactly that type.
inline constexpr uint32_t kPersistent = 2;
inline constexpr uint32_t kBytesObject = 1;

struct Section {
    uint32_t kind = 0;
    uint32_t flags = 0;
    uint64_t offset = 0;
    uint64_t length = 0;
    uint32_t crc = 0;
};

struct Header {
    uint16_t format = kFormatVersion;
    uint32_t python = 0;
    uint8_t bytecode_magic[4] = {0, 0, 0, 0};
    uint32_t teleporter = 0;
    uint64_t total = 0;
    std::vector<Section> sections;
};

uint32_t crc32c(uint32_t crc, const void *data, size_t n);

// Bytes of fixed header + table + header checksum, padded to kAlign.
size_t header_size(size_t nsections);

// Fills the stream offsets of all but kMapped sections (whose offsets the caller set) and
// `total` from the lengths, and returns the header bytes.
std::string encode_header(Header &h);
// The trailer for a header (as returned by encode_header) and its sections.
std::string encode_trailer(const std::string &header_bytes, const Header &h);

// Step 1 of decoding: the fixed header alone (kFixedSize bytes). Fills format, python,
// bytecode magic, teleporter, total and the section count (as sections.size()).
bool decode_fixed(const uint8_t *p, size_t n, Header *out, std::string &why);
// Step 2: the whole header (header_size(count) bytes): table, checksum, and that every
// section lies inside the payload, aligned, in order, without overlap.
bool decode_header(const uint8_t *p, size_t n, Header *out, std::string &why);
// Step 3: the trailer, against the decoded header (and its raw bytes).
bool check_trailer(const uint8_t *p, size_t n, const uint8_t *header_bytes,
                   size_t header_len, const Header &h, std::string &why);
// Decodes a complete in-memory payload and checks every checksum (used by the fuzz
// target and by `inspect`).
bool decode_all(const uint8_t *p, size_t n, Header *out, std::string &why);

}  // namespace tp::codec
