"""Exact and statistical summaries of measurement series: fractions for exact ratios
(continued fractions, limit_denominator) and statistics for estimates (NormalDist,
linear regression, correlation); the series is half analysed before the move."""

import math
import random
import statistics
from fractions import Fraction

import teleporter

rng = random.Random(1729)
series = {name: [round(rng.gauss(mu, sigma), 3) for _ in range(200)]
          for name, mu, sigma in (("alpha", 10.0, 2.0), ("beta", 12.5, 3.0), ("gamma", 9.0, 0.5))}
exact_sum = Fraction(0)
summaries = {}
for i, (name, values) in enumerate(series.items()):
    exact_sum += sum(Fraction(str(v)) for v in values)
    summaries[name] = (statistics.fmean(values), statistics.stdev(values), statistics.median(values))
    print(f"{name}: mean {summaries[name][0]:.5f} sd {summaries[name][1]:.5f} median {summaries[name][2]:.3f}")
    if i == 1:
        teleporter.teleport()

print("exact total:", exact_sum, "=", float(exact_sum))
dists = {name: statistics.NormalDist.from_samples(v) for name, v in series.items()}
print("overlap alpha/beta: %.6f" % dists["alpha"].overlap(dists["beta"]))
print("P(beta > 15): %.6f" % (1 - dists["beta"].cdf(15)))
x = list(range(200))
slope, intercept = statistics.linear_regression(x, series["alpha"])
print("trend: slope %.6f intercept %.6f" % (slope, intercept))
print("corr(alpha, gamma): %.6f" % statistics.correlation(series["alpha"], series["gamma"]))
print("modes:", statistics.multimode(round(v) for v in series["gamma"]))


def continued_fraction(fr, terms=8):
    out = []
    for _ in range(terms):
        whole = math.floor(fr)
        out.append(whole)
        fr -= whole
        if fr == 0:
            break
        fr = 1 / fr
    return out


pi_approx = Fraction(math.pi).limit_denominator(1000)
print("pi ~", pi_approx, "cf:", continued_fraction(Fraction(math.pi)))
harmonic = sum(Fraction(1, k) for k in range(1, 21))
print("H20 =", harmonic, "denominator digits:", len(str(harmonic.denominator)))
print("mean of fractions:", statistics.mean([Fraction(1, 3), Fraction(1, 6), Fraction(3, 4)]))
print("geometric mean %.6f harmonic mean %.6f" % (statistics.geometric_mean([1, 2, 4, 8]), statistics.harmonic_mean([40, 60])))
