"""Forty steps of pure Python arithmetic, never waiting: periodic checkpoints find the
main thread running bytecode."""

acc = 1
for i in range(40):
    for j in range(80000):
        acc = (acc * 1103515245 + 12345 + j) % 2147483648
    print(f"step {i} {acc}", flush=True)
print("result", acc)
