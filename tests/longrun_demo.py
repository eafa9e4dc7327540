"""A small long-running command that uses RunLog exactly as `cycles` and `sensitivity` do.

    python tests/longrun_demo.py --out DIR [--units 12] [--seed 7] [--sleep 0.15] [--resume]

Each unit is a real warm re-solve of the tiny instance through a ModelSession, with the
DEL envelope scaled by a seeded random factor (seed and unit index, so the result of a
unit does not depend on which units ran before it in this process). Finished units are
appended to DIR/progress.jsonl; at the end DIR/results.csv is written atomically from
the records in key order. Ctrl-C / SIGTERM stops it, prints how to resume, exit code 130.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--units", type=int, default=12)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--sleep", type=float, default=0.15)
    ap.add_argument("--resume", action="store_true")
    a = ap.parse_args(argv)

    from allocator import instance_sha256, load_instance, tiny_instance_path
    from allocator.errors import AllocatorError
    from allocator.output import results_folder, write_csv
    from allocator.runlog import RunLog, interruptible, resume_command
    from allocator.session import ModelSession

    inst = load_instance(Path(str(tiny_instance_path())))
    fingerprint = {"instance": instance_sha256(inst), "seed": a.seed, "units": a.units}
    folder = results_folder(a.out, "longrun_demo", resumable=True, resume=a.resume)
    try:
        work = folder.__enter__()
        log = RunLog(work, fingerprint, resume=a.resume)
    except AllocatorError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    cmd = resume_command([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])])
    try:
        with log, interruptible(resume_command=cmd, log=log):
            session = ModelSession(inst)
            env0 = session.model.data.fiscal["rdel_envelope_gbp_m"].copy()
            for i in range(a.units):
                if log.done(i):
                    continue
                rng = np.random.default_rng([a.seed, i])
                factor = float(rng.uniform(0.6, 1.4))
                session.set_fiscal(rdel_envelope_gbp_m=env0 * factor)
                r = session.solve()
                time.sleep(a.sleep)  # stands in for a longer simulation step
                log.append(i, {"unit": i, "envelope_factor": factor, "status": r.status,
                               "objective": r.objective})
    except KeyboardInterrupt:
        return 130  # the progress log stays in the working folder for --resume
    rows = [log.records[str(i)] for i in range(a.units)]
    write_csv(pd.DataFrame(rows), work / "results.csv")
    folder.__exit__(None, None, None)  # the finished run replaces a.out whole
    print(f"done: {a.units} units ({log.resumed} resumed) -> {a.out}/results.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
