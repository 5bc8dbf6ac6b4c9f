// The payload container: what a teleport streams and a checkpoint stores.
//
// Layout (little-endian; see docs/internals/format.md):
//
//   fixed header, 40 bytes
//     0  magic            8  "TELEPORT"
//     8  format version   u16
//    10  flags            u16 (kSigned or 0)
//    12  CPython          u32 (major << 8 | minor) of the writer
//    16  bytecode magic   4   importlib.util.MAGIC_NUMBER of the writer
//    20  teleporter       u32 (major << 16 | minor << 8 | patch) of the writer
//    24  total length     u64 everything, trailer included (below kMaxTotal)
//    32  section count    u32 (at most kMaxSections)
//    36  reserved         u32 (0)
//   section table, 32 bytes per section
//     kind u32, flags u32, offset u64, length u64, crc32c u32, reserved u32
//   header checksum       u32 crc32c of every byte before it, then u32 0, zero padding
//   sections              each starting at a multiple of 64 (buffers stay aligned), zero
//                         padding between them; kMapped sections take no room here: their
//                         bytes are in a memory file that a local destination receives
//                         beside the stream
//   signature, 32 bytes   kSigned only, at a multiple of 64: HMAC-SHA256 of every byte
//                         before it (computed and checked by the caller, who has the key)
//   trailer, 16 bytes     "TPEND\0\0\0", u32 digest, u32 0
//
// The digest is the crc32c of the header bytes (padding included) followed by each
// section's (length, crc32c) and the signature. With the section checksums, and padding
// that must be zero, every byte of the payload is checked, and a reader checks the digest
// without a second pass over the data. Every field is validated before it is used; a
// payload is refused with one sentence.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tp::codec {

inline constexpr char kMagic[8] = {'T', 'E', 'L', 'E', 'P', 'O', 'R', 'T'};
inline constexpr char kTrailerMagic[8] = {'T', 'P', 'E', 'N', 'D', 0, 0, 0};
inline constexpr uint16_t kFormatVersion = 3;
// Header flags: kSigned, a signature precedes the trailer.
inline constexpr uint16_t kSigned = 1;
inline constexpr size_t kSignatureSize = 32;
// A total length at or above this is refused (no real payload comes near it), so that
// offset arithmetic on valid headers can never overflow.
inline constexpr uint64_t kMaxTotal = uint64_t{1} << 62;
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
    uint16_t flags = 0;
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
// `total` from the lengths (and the signature, with kSigned), and returns the header bytes.
std::string encode_header(Header &h);
// Where the signature (kSigned) or else the trailer starts: the end of the last section,
// aligned.
uint64_t sections_end(const Header &h);
// The trailer for a header (as returned by encode_header), its sections and, with
// kSigned, its kSignatureSize signature bytes (else nullptr).
std::string encode_trailer(const std::string &header_bytes, const Header &h,
                           const uint8_t *signature);

// Step 1 of decoding: the fixed header alone (kFixedSize bytes). Fills format, python,
// bytecode magic, teleporter, total and the section count (as sections.size()).
bool decode_fixed(const uint8_t *p, size_t n, Header *out, std::string &why);
// Step 2: the whole header (header_size(count) bytes): table, checksum, zero padding,
// and that every section lies inside the payload, aligned, in order, without overlap.
bool decode_header(const uint8_t *p, size_t n, Header *out, std::string &why);
// Step 3: the trailer, against the decoded header (and its raw bytes) and the signature
// bytes (kSigned; else nullptr). Checks the digest, not the signature itself.
bool check_trailer(const uint8_t *p, size_t n, const uint8_t *header_bytes,
                   size_t header_len, const Header &h, const uint8_t *signature,
                   std::string &why);
// True when all n bytes are zero (padding).
bool all_zero(const uint8_t *p, size_t n);
// Decodes a complete in-memory payload and checks every checksum, the padding and the
// digest (used by the fuzz target and the tests; a signature is not checked here).
bool decode_all(const uint8_t *p, size_t n, Header *out, std::string &why);

}  // namespace tp::codec
