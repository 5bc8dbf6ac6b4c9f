"""Loan amortisation in decimal: a 40-digit context with banker's rounding set before the
move, a schedule computed across it, and a localcontext for a high-precision check."""

import decimal
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext

import teleporter

ctx = decimal.getcontext()
ctx.prec = 40
ctx.rounding = ROUND_HALF_EVEN
ctx.traps[decimal.Inexact] = False
CENT = Decimal("0.01")

principal = Decimal("250000.00")
annual_rate = Decimal("0.0435")
months = 360
r = annual_rate / 12
payment = (principal * r / (1 - (1 + r) ** -months)).quantize(CENT, rounding=ROUND_HALF_UP)
print("monthly payment:", payment, "context prec:", decimal.getcontext().prec)

balance = principal
total_interest = Decimal(0)
yearly = []
for month in range(1, months + 1):
    interest = (balance * r).quantize(CENT)
    principal_part = min(payment - interest, balance)
    balance -= principal_part
    total_interest += interest
    if month % 12 == 0:
        yearly.append((month // 12, balance))
    if month == 180:
        print("halfway balance:", balance)
        teleporter.teleport()
        print("context after move:", decimal.getcontext().prec, decimal.getcontext().rounding)

print("total interest:", total_interest, "final balance:", balance)
for year, bal in yearly[::6]:
    print(f"  year {year:2d}: {bal}")
third = Decimal(1) / Decimal(3)
print("1/3 at current precision:", third, len(str(third)) - 2)
with localcontext() as lc:
    lc.prec = 60
    print("sqrt(2) @60:", Decimal(2).sqrt())
print("sqrt(2) after localcontext:", Decimal(2).sqrt())
print("exp(1):", Decimal(1).exp())
print("flags Rounded:", bool(decimal.getcontext().flags[decimal.Rounded]))
