"""An object cache on weakref.WeakValueDictionary: loaded objects stay cached while
something uses them; dropped ones vanish. The cache, its live entries, weak references
and a finalizer cross the move."""

import gc
import weakref

import teleporter


class Texture:
    loads = 0

    def __init__(self, name, size):
        Texture.loads += 1
        self.name = name
        self.pixels = bytes((hash_byte(name) + i) % 256 for i in range(size))

    def __repr__(self):
        return f"Texture({self.name!r}, {len(self.pixels)})"


def hash_byte(name):
    return sum(map(ord, name)) % 251


class TextureCache:
    def __init__(self):
        self._cache = weakref.WeakValueDictionary()
        self.hits = 0
        self.misses = 0

    def get(self, name, size=64):
        tex = self._cache.get(name)
        if tex is None:
            self.misses += 1
            tex = Texture(name, size)
            self._cache[name] = tex
        else:
            self.hits += 1
        return tex

    def names(self):
        return sorted(self._cache.keys())


cache = TextureCache()
in_use = [cache.get(n) for n in ("grass", "stone", "water", "sand")]
temporary = cache.get("lava")
ref_to_water = weakref.ref(in_use[2])
finalized = []
weakref.finalize(in_use[3], finalized.append, "sand released")
del temporary
gc.collect()
print("cached before move:", cache.names(), "loads:", Texture.loads)

teleporter.teleport()

gc.collect()
print("cached after move:", cache.names())
print("weakref alive:", ref_to_water() is in_use[2], ref_to_water())
again = cache.get("grass")
print("grass is same object:", again is in_use[0], "hits/misses:", cache.hits, cache.misses)
lava = cache.get("lava")
print("lava reloaded:", lava, "loads:", Texture.loads)
in_use.pop()  # drop sand
gc.collect()
print("finalized:", finalized, "cached:", cache.names())
del in_use[:]
del again, lava
gc.collect()
print("all released:", cache.names(), "water ref dead:", ref_to_water() is None)
ws = weakref.WeakSet([cache.get("ice")])
gc.collect()
print("weakset after collect:", len(ws))
