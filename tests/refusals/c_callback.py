import ctypes
import ctypes.util

import teleporter

libc = ctypes.CDLL(ctypes.util.find_library("c"))
CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))
refused = []


def compare(a, b):
    if not refused:
        try:
            teleporter.teleport()
        except teleporter.TeleportError as e:
            refused.append(e)
            print("refused:", e)
    return a[0] - b[0]


values = (ctypes.c_int * 3)(3, 1, 2)
libc.qsort(values, 3, ctypes.sizeof(ctypes.c_int), CMP(compare))
print(list(values))
