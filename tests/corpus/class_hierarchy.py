"""A small accounting domain model: abstract base classes, inheritance with super(),
properties with validation, __slots__, class and static methods, a descriptor, operator
overloading and class-level registries; transactions are half posted before the move."""

import abc
from decimal import Decimal

import teleporter


class Positive:
    """Descriptor rejecting negative amounts."""

    def __set_name__(self, owner, name):
        self.name = "_" + name

    def __get__(self, obj, objtype=None):
        return self if obj is None else getattr(obj, self.name)

    def __set__(self, obj, value):
        if value < 0:
            raise ValueError(f"{self.name[1:]} must be >= 0, got {value}")
        setattr(obj, self.name, value)


class Money:
    __slots__ = ("cents",)

    def __init__(self, cents):
        self.cents = int(cents)

    def __add__(self, other):
        return Money(self.cents + other.cents)

    def __sub__(self, other):
        return Money(self.cents - other.cents)

    def __lt__(self, other):
        return self.cents < other.cents

    def __repr__(self):
        return f"${self.cents // 100}.{self.cents % 100:02d}" if self.cents >= 0 else f"-{Money(-self.cents)!r}"


class Account(abc.ABC):
    registry = {}
    fee_rate = Positive()

    def __init__(self, owner, fee_rate=Decimal("0")):
        self.owner = owner
        self.fee_rate = fee_rate
        self._balance = Money(0)
        self.log = []
        Account.registry[owner] = self

    def __init_subclass__(cls, kind="", **kw):
        super().__init_subclass__(**kw)
        cls.kind = kind or cls.__name__.lower()

    @property
    def balance(self):
        return self._balance

    @abc.abstractmethod
    def can_withdraw(self, amount): ...

    def deposit(self, amount):
        self._balance += amount
        self.log.append(("dep", amount))

    def withdraw(self, amount):
        fee = Money(int(Decimal(amount.cents) * self.fee_rate))
        if not self.can_withdraw(amount + fee):
            self.log.append(("refused", amount))
            return False
        self._balance -= amount + fee
        self.log.append(("wd", amount, fee))
        return True

    @classmethod
    def open(cls, owner, **kw):
        return cls(owner, **kw)

    @staticmethod
    def describe_all():
        return [f"{a.kind}:{o}={a.balance!r}" for o, a in sorted(Account.registry.items())]


class Checking(Account, kind="chk"):
    def __init__(self, owner, overdraft=Money(5000), **kw):
        super().__init__(owner, **kw)
        self.overdraft = overdraft

    def can_withdraw(self, amount):
        return (self.balance - amount).cents >= -self.overdraft.cents


class Savings(Account):
    __slots__ = ()

    def can_withdraw(self, amount):
        return not self.balance < amount


accounts = [Checking.open("ann"), Savings.open("bob", fee_rate=Decimal("0.01")), Checking("cid", overdraft=Money(0))]
tx = [(i % 3, "dep" if i % 4 != 3 else "wd", 1000 + (733 * i * i) % 9000) for i in range(24)]
for n, (who, kind, cents) in enumerate(tx):
    acct = accounts[who]
    acct.deposit(Money(cents)) if kind == "dep" else acct.withdraw(Money(cents * 3))
    if n == 11:
        print("midway:", Account.describe_all())
        teleporter.teleport()

print("final:", Account.describe_all())
print("refusals:", {a.owner: sum(1 for e in a.log if e[0] == "refused") for a in accounts})
print("kinds:", [type(a).kind for a in accounts], Savings.__mro__[1].__name__, isinstance(accounts[1], Account))
try:
    accounts[0].fee_rate = Decimal("-1")
except ValueError as exc:
    print("descriptor:", exc)
try:
    Account("nobody")
except TypeError as exc:
    print("abstract:", "abstract" in str(exc))
print("slots:", Money.__slots__, hasattr(Money(1), "__dict__"), sorted(Money(250) for _ in range(1))[0])
