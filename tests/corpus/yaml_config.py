"""Experiment driver configured by YAML: load a config with anchors, expand the grid,
run half the experiments, move, run the rest, dump results to YAML and print them."""

import itertools
import math
import sys
from pathlib import Path

import yaml

import teleporter

CONFIG = """
defaults: &defaults
  optimizer: sgd
  epochs: 30
  momentum: 0.9
experiments:
  - name: small
    <<: *defaults
    lr: [0.1, 0.03]
    width: [16]
  - name: large
    <<: *defaults
    optimizer: adam
    lr: [0.01, 0.003]
    width: [64, 128]
output: results.yaml
"""

workdir = Path(sys.argv[1])
config = yaml.safe_load(CONFIG)
runs = []
for exp in config["experiments"]:
    for lr, width in itertools.product(exp["lr"], exp["width"]):
        runs.append({"experiment": exp["name"], "optimizer": exp["optimizer"], "lr": lr,
                     "width": width, "epochs": exp["epochs"]})
print("runs planned:", len(runs))


def simulate(run):
    loss = 2.0
    for epoch in range(run["epochs"]):
        loss *= 1 - run["lr"] * (1.5 if run["optimizer"] == "adam" else 1.0) * math.log2(run["width"]) / 8
    return round(loss, 6)


results = []
for i, run in enumerate(runs):
    results.append({**run, "final_loss": simulate(run)})
    print(f"run {i}: {run['experiment']} lr={run['lr']} width={run['width']} -> {results[-1]['final_loss']}")
    if i == len(runs) // 2 - 1:
        teleporter.teleport()

out = workdir / config["output"]
with out.open("w") as fh:
    yaml.safe_dump({"results": results, "best": min(results, key=lambda r: r["final_loss"])}, fh, sort_keys=True)
text = out.read_text()
print(text, end="")
print("roundtrip equal:", yaml.safe_load(text)["results"] == results)
out.unlink()
