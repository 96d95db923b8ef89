"""Progress bars for the long commands (build, report, fetch). On a terminal: a rich bar on stderr with
counts, elapsed time and ETA. With --json, or when stdout or stderr is not a terminal (a pipe, a file,
CI), nothing at all, so what the command prints stays parseable."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# what the library calls after each item: (item just finished, items done, items in all)
Progress = Callable[[str, int, int], None]


def on_terminal(as_json: bool = False) -> bool:
    return not as_json and sys.stdout.isatty() and sys.stderr.isatty()


@contextmanager
def progress_bar(description: str, shown: bool, then: str | None = None) -> Iterator[Progress | None]:
    """Yield the callback that moves the bar (None when not shown). `then` names the work that follows
    the last item inside the block; a spinner shows it until the block ends."""
    if not shown:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import (
        Progress as Bar,
    )
    from rich.text import Text

    class Counts(MofNCompleteColumn):
        """done/total, blank while the total is not known (rather than 0/?)."""

        def render(self, task):
            return Text("") if task.total is None else super().render(task)

    # transient: the bar goes when the command ends, leaving its summary lines
    with Bar(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        Counts(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[item]}"),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None, item="")

        def advance(item: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, item=item)
            if then and done == total:
                bar.add_task(then, total=None, item="")

        yield advance
