"""A binary record format with struct: a header and fixed-size records written to a file,
an incremental SHA-256 over the stream kept across the move, then reading back,
verifying, and compressing the file with zlib."""

import hashlib
import struct
import sys
import zlib
from pathlib import Path

import teleporter

HEADER = struct.Struct("<4sHHI")  # magic, version, record size, count
RECORD = struct.Struct("<Iqdf8s")  # id, timestamp, value, weight, tag

path = Path(sys.argv[1]) / "records.bin"
n_records = 400
stream_hash = hashlib.sha256()
crc = 0
with open(path, "wb") as fh:
    header = HEADER.pack(b"RECS", 2, RECORD.size, n_records)
    fh.write(header)
    stream_hash.update(header)
    for i in range(n_records):
        rec = RECORD.pack(i, 1_700_000_000 + 37 * i, (i * 0.731) % 97.5, 1.0 / (i + 1), f"t{i % 11:03d}".encode())
        fh.write(rec)
        stream_hash.update(rec)
        crc = zlib.crc32(rec, crc)
        if i == n_records // 2:
            print("halfway: bytes", fh.tell(), "crc", crc)
            teleporter.teleport()
            print("after move: position", fh.tell())
print("stream sha:", stream_hash.hexdigest()[:24], "crc:", crc)

raw = path.read_bytes()
print("file sha matches:", hashlib.sha256(raw).hexdigest() == stream_hash.hexdigest(), "size", len(raw))
magic, version, size, count = HEADER.unpack_from(raw, 0)
print("header:", magic, version, size, count)
total = 0.0
tags = set()
for rid, ts, value, weight, tag in RECORD.iter_unpack(raw[HEADER.size:]):
    total += value * weight
    tags.add(tag.rstrip(b"\0").decode())
print("weighted total %.9f" % total, "tags:", len(tags), "last id:", rid)
packed = zlib.compress(raw, 9)
print("compressed:", len(packed), "ratio %.4f" % (len(packed) / len(raw)), "roundtrip:", zlib.decompress(packed) == raw)
print("adler32:", zlib.adler32(raw), "md5:", hashlib.md5(raw).hexdigest()[:12])
path.unlink()
