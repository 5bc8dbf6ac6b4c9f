"""Image processing with Pillow: draw a synthetic scene, filter and resize it before the
move; composite, annotate, convert and save after it; print pixel hashes and reread the
saved files."""

import hashlib
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageOps, ImageStat

import teleporter

out = Path(sys.argv[1])


def sha(img):
    return hashlib.sha256(img.tobytes()).hexdigest()[:16]


base = Image.new("RGB", (160, 120), (30, 40, 60))
draw = ImageDraw.Draw(base)
for i in range(8):
    draw.ellipse([10 + 17 * i, 10 + 9 * i, 40 + 17 * i, 40 + 9 * i], fill=(40 * i % 256, 200 - 20 * i, 90 + 15 * i))
draw.rectangle([100, 70, 150, 110], outline=(255, 255, 0), width=3)
blurred = base.filter(ImageFilter.GaussianBlur(radius=2))
thumb = blurred.resize((80, 60), Image.Resampling.LANCZOS)
print("base", base.size, sha(base))
print("blurred", sha(blurred), "thumb", thumb.size, sha(thumb))

teleporter.teleport()

edges = base.convert("L").filter(ImageFilter.FIND_EDGES)
mask = edges.point(lambda p: 255 if p > 40 else 0)
composite = Image.composite(Image.new("RGB", base.size, (255, 0, 0)), blurred, mask)
ImageDraw.Draw(composite).text((5, 100), "moved", fill=(255, 255, 255))
framed = ImageOps.expand(composite, border=4, fill=(0, 0, 0))
print("edges", sha(edges), "mask on", mask.histogram()[255])
print("framed", framed.size, sha(framed))
stat = ImageStat.Stat(framed)
print("mean", [round(m, 4) for m in stat.mean], "extrema", framed.getextrema())
framed.save(out / "framed.png")
thumb.save(out / "thumb.jpg", quality=90)
with Image.open(out / "framed.png") as again:
    print("png reread", again.format, again.mode, again.size, sha(again) == sha(framed))
with Image.open(out / "thumb.jpg") as jpg:
    print("jpeg reread", jpg.format, jpg.size, sha(jpg))
palette = framed.quantize(colors=8)
print("palette colors:", len(palette.getcolors()), sha(palette))
for name in ("framed.png", "thumb.jpg"):
    (out / name).unlink()
