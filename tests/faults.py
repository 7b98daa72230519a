"""Run the segue CLI in a process that dies the hard way (SIGKILL) midway, for the fault tests:

    python -m tests.faults train STEP segue-args...   killed after training step STEP
    python -m tests.faults build FILES segue-args...  killed after FILES files of a data build

(0: not killed). The hooks are the product's own callbacks (``Trainer(on_step=...)``,
``build_dataset(on_file=...)``); no environment variable is read by product code.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Callable


def die_at(count: int) -> Callable[[int], None]:
    """A callback that kills this process when it is called with ``count``."""

    def hook(done: int) -> None:
        if done == count:
            os.kill(os.getpid(), signal.SIGKILL)

    return hook


def main(argv: list[str]) -> int:
    kind, at, *rest = argv
    if int(at):
        if kind == "train":
            from segue.training import trainer

            init = trainer.Trainer.__init__

            def patched(self, *args, **kwargs):  # type: ignore[no-untyped-def]
                init(self, *args, **kwargs, on_step=die_at(int(at)))

            trainer.Trainer.__init__ = patched  # type: ignore[method-assign]
        else:
            from segue.data import build  # `segue data build` imports build_dataset from here when it runs

            build.build_dataset = functools.partial(build.build_dataset, on_file=die_at(int(at)))  # type: ignore[assignment]
    from segue.cli import main as cli

    return cli(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
