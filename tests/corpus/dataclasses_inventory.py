"""Order processing with dataclasses and enums: typed records, a state machine on an Enum,
Flag permissions, and JSON export with a custom encoder; orders are half processed before
the move."""

import dataclasses
import enum
import json
from dataclasses import dataclass, field
from typing import Optional

import teleporter


class Status(enum.Enum):
    NEW = "new"
    PAID = "paid"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class Perm(enum.Flag):
    READ = enum.auto()
    WRITE = enum.auto()
    REFUND = enum.auto()
    ADMIN = READ | WRITE | REFUND


TRANSITIONS = {Status.NEW: {Status.PAID, Status.CANCELLED}, Status.PAID: {Status.SHIPPED, Status.CANCELLED}}


@dataclass(frozen=True, order=True)
class Line:
    sku: str
    qty: int
    price_cents: int

    @property
    def total(self):
        return self.qty * self.price_cents


@dataclass
class Order:
    number: int
    customer: str
    lines: list = field(default_factory=list)
    status: Status = Status.NEW
    note: Optional[str] = None
    history: list = field(default_factory=list, repr=False)

    def advance(self, new, who: Perm):
        if new not in TRANSITIONS.get(self.status, set()):
            raise ValueError(f"order {self.number}: {self.status.name} -> {new.name} not allowed")
        if new is Status.CANCELLED and Perm.REFUND not in who:
            raise PermissionError(f"order {self.number}: refund permission needed")
        self.history.append((self.status, new))
        self.status = new

    @property
    def total(self):
        return sum(line.total for line in self.lines)


class Encoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, enum.Enum):
            return o.name if isinstance(o, enum.Flag) else o.value
        return super().default(o)


orders = [Order(n, f"cust{n % 4}", [Line(f"S{(n * k) % 7}", k, 199 * k + n) for k in range(1, 1 + n % 3 + 1)])
          for n in range(1, 9)]
plan = [Status.PAID, Status.CANCELLED, Status.SHIPPED]
clerk, manager = Perm.READ | Perm.WRITE, Perm.ADMIN
for i, order in enumerate(orders):
    for step in (plan[:1 + i % 3] if i % 3 != 2 else [Status.PAID, Status.SHIPPED, Status.CANCELLED]):
        try:
            order.advance(step, manager if order.number % 3 == 2 and order.number > 2 else clerk)
        except (ValueError, PermissionError) as exc:
            order.note = f"{type(exc).__name__}: {exc}"
            break
    if i == 3:
        print("first half:", [o.status.value for o in orders[:4]])
        teleporter.teleport()

for order in orders:
    print(order.number, order.status.name, order.total, order.note)
print("replace:", dataclasses.replace(orders[0], note="copy").note, orders[0].note)
print("sorted lines:", sorted({line for o in orders for line in o.lines})[:3])
print(json.dumps([dataclasses.asdict(o) | {"perm": manager} for o in orders[:2]], cls=Encoder, sort_keys=True))
print("members:", [s.name for s in Status], Perm.ADMIN & Perm.WRITE, Status("paid") is Status.PAID)
