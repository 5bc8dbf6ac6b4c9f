"""A data-validation job that fails loudly: records are checked in chunks, the move
happens halfway, and a later chunk holds a record that violates a rule, so the job ends
with an uncaught exception (traceback on stderr, exit code 1) after printing its report."""

import dataclasses
import re

import teleporter

EMAIL = re.compile(r"^[\w.+-]+@[\w-]+\.[a-z]{2,}$")


class ValidationError(ValueError):
    def __init__(self, record_id, problems):
        super().__init__(f"record {record_id}: {'; '.join(problems)}")
        self.record_id = record_id
        self.problems = problems


@dataclasses.dataclass
class Record:
    id: int
    email: str
    age: int
    country: str


def records():
    for i in range(60):
        email = f"user{i}@example.org" if i != 47 else "broken-at-example"
        yield Record(i, email, 18 + (i * 7) % 60 if i != 47 else -3, ["NO", "FR", "PT", "DE"][i % 4])


def check(rec):
    problems = []
    if not EMAIL.match(rec.email):
        problems.append(f"bad email {rec.email!r}")
    if not 0 <= rec.age <= 130:
        problems.append(f"age out of range: {rec.age}")
    return problems


def validate(chunk, strict):
    ok = 0
    for rec in chunk:
        problems = check(rec)
        if problems and strict:
            raise ValidationError(rec.id, problems)
        ok += not problems
    return ok


def run():
    chunk, done = [], 0
    for rec in records():
        chunk.append(rec)
        if len(chunk) == 15:
            done += validate(chunk, strict=True)
            print(f"validated {done} records")
            if done == 30:
                teleporter.teleport()
            chunk = []
    return done


try:
    run()
finally:
    print("validation report written (partial)")
