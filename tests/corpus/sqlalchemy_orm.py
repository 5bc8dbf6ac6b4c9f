"""An inventory app on SQLAlchemy's ORM with a sqlite file: models, sessions, bulk
inserts before the move, queries, updates and an aggregate report after it."""

import sys
from pathlib import Path

from sqlalchemy import ForeignKey, String, create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

import teleporter


class Base(DeclarativeBase):
    pass


class Warehouse(Base):
    __tablename__ = "warehouse"
    id: Mapped[int] = mapped_column(primary_key=True)
    city: Mapped[str] = mapped_column(String(40), unique=True)
    items: Mapped[list["Item"]] = relationship(back_populates="warehouse", order_by="Item.sku")


class Item(Base):
    __tablename__ = "item"
    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(20))
    qty: Mapped[int]
    price_cents: Mapped[int]
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"))
    warehouse: Mapped[Warehouse] = relationship(back_populates="items")

    def __repr__(self):
        return f"Item({self.sku!r}, qty={self.qty})"


db_path = Path(sys.argv[1]) / "inventory.db"
engine = create_engine(f"sqlite:///{db_path}")
Base.metadata.create_all(engine)
with Session(engine) as session:
    for w, city in enumerate(["Oslo", "Lyon", "Porto"]):
        house = Warehouse(city=city)
        house.items = [Item(sku=f"{city[:2].upper()}-{n:03d}", qty=(7 * n + 3 * w) % 23, price_cents=150 + 37 * n)
                       for n in range(12)]
        session.add(house)
    session.commit()
    print("warehouses:", session.scalar(select(func.count(Warehouse.id))))
    print("items:", session.scalar(select(func.count(Item.id))))

teleporter.teleport()

with Session(engine) as session:
    low = session.scalars(select(Item).where(Item.qty < 4).order_by(Item.sku)).all()
    print("low stock:", low)
    for item in low:
        item.qty += 20
    session.commit()
    stmt = (select(Warehouse.city, func.sum(Item.qty * Item.price_cents), func.count(Item.id))
            .join(Item).group_by(Warehouse.city).order_by(Warehouse.city))
    for city, value, n in session.execute(stmt):
        print(f"{city}: {n} items, stock value {value / 100:.2f}")
    lyon = session.scalars(select(Warehouse).where(Warehouse.city == "Lyon")).one()
    print("Lyon first items:", lyon.items[:3])
engine.dispose()
db_path.unlink()
print("db removed:", not db_path.exists())
