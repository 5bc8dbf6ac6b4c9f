"""An epidemic (SIR) agent simulation driven by the random module: the global generator
seeded once plus a private random.Random for contacts; both streams must continue
unchanged across the move at day 30."""

import random
import statistics

import teleporter

random.seed(123)
contacts_rng = random.Random(456)
N = 400
state = ["S"] * N
for i in random.sample(range(N), 5):
    state[i] = "I"
days_infected = [0] * N
curve = []
BETA, GAMMA_DAYS, CONTACTS = 0.035, 7, 6

for day in range(60):
    infected = [i for i, s in enumerate(state) if s == "I"]
    new_cases = set()
    for i in infected:
        for j in contacts_rng.choices(range(N), k=CONTACTS):
            if state[j] == "S" and random.random() < BETA:
                new_cases.add(j)
    for i in infected:
        days_infected[i] += 1
        if days_infected[i] >= GAMMA_DAYS + random.randint(-2, 2):
            state[i] = "R"
    for j in new_cases:
        state[j] = "I"
    counts = (state.count("S"), state.count("I"), state.count("R"))
    curve.append(counts)
    if day % 10 == 9:
        print(f"day {day + 1}: S={counts[0]} I={counts[1]} R={counts[2]}")
    if day == 19:
        print("probe:", random.random(), contacts_rng.random())
        teleporter.teleport()

peak_day = max(range(len(curve)), key=lambda d: curve[d][1])
print("peak day", peak_day + 1, "infected", curve[peak_day][1])
print("attack rate %.4f" % (1 - curve[-1][0] / N))
print("mean infected %.3f" % statistics.fmean(c[1] for c in curve))
print("shuffle:", random.sample(range(100), 5), "gauss: %.9f" % random.gauss(0, 1))
print("choice:", contacts_rng.choice("abcdefgh"), "getrandbits:", random.getrandbits(32))
