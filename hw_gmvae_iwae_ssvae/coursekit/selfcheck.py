"""Public self-checks of a homework: checks registered by handout item, run, and printed as a table.

A homework's `check.py` builds one `Checks`, registers its checks with `@checks.add(item, part)`
(a check's docstring says what it checks) and ends with `raise SystemExit(checks.main())`. Each
check imports the student's module when it runs (`checks.module(...)`), so a file that does not
import, or a function that is still a stub, fails only the checks that need it, with a message
that says what to fill in where. `checks.results(...)` (or `python check.py --json`) runs the
same checks and returns plain data, for the grader.
"""

import argparse
import contextlib
import importlib
import json
import sys
import textwrap
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType

import torch
from torch import nn

WIDTH = 100  # columns of the printed table
NOT_THE_GRADE = (
    "These public checks test contracts, shapes and small exact cases;\n"
    "the hidden tests of the autograder check more and decide the grade."
)


class CheckFailed(AssertionError):
    """A check's verdict on the student's code: what is wrong, ending with the remedy."""


@dataclass(frozen=True)
class Check:
    """One public check: the handout item it belongs to, the part (student file), what it checks."""

    item: str  # "1.2", as numbered in the handout
    part: str  # a short name of the student file, such as "utils"
    name: str  # one line: what the check checks
    run: Callable[[], None]  # raises CheckFailed (or anything else) when the check fails


def fail(message: str) -> None:
    """Fail the running check with `message`, which should end with the remedy."""
    raise CheckFailed(message)


# ------------------------------------------------------------------ assertions on what code returns


def returned(value: object, names: Sequence[str], what: str) -> list[torch.Tensor]:
    """`value` as the tensors `names` (a tuple of them, or one tensor when one is named)."""
    values = list(value) if isinstance(value, (tuple, list)) else [value]
    if len(values) != len(names) or (len(names) == 1 and isinstance(value, (tuple, list))):
        count = len(values) if isinstance(value, (tuple, list)) else 1
        fail(
            f"{what} returned {count} value{'s' * (count != 1)}: return "
            + (
                f"the {len(names)} values ({', '.join(names)}), in that order"
                if len(names) > 1
                else f"one tensor, {names[0]}"
            )
        )
    for name, v in zip(names, values):
        if not isinstance(v, torch.Tensor):
            fail(f"{what} returned a {type(v).__name__} as {name}: return a torch.Tensor")
    return values


def expect_shape(t: torch.Tensor, shape: Sequence[int], what: str, remedy: str) -> None:
    """Fail unless `t` has exactly `shape`."""
    if tuple(t.shape) != tuple(shape):
        fail(f"{what} has shape {tuple(t.shape)}, not {tuple(shape)}: {remedy}")


def expect_finite(t: torch.Tensor, what: str, remedy: str) -> None:
    """Fail if `t` holds a NaN or an infinity."""
    if not torch.isfinite(t).all():
        kind = "NaN" if torch.isnan(t).any() else "an infinity"
        fail(f"{what} holds {kind}: {remedy}")


def expect_close(
    got: torch.Tensor,
    want: torch.Tensor,
    what: str,
    remedy: str,
    rtol: float = 1e-5,
    atol: float = 1e-5,
) -> None:
    """Fail unless `got` equals `want` (same shape) within atol + rtol * |want|, entrywise."""
    want = torch.as_tensor(want, dtype=torch.float64)
    expect_shape(got, want.shape, what, remedy)
    got = got.detach().double()
    off = ~((got - want).abs() <= atol + rtol * want.abs())  # NaN counts as off
    if off.any():
        at = tuple(int(i) for i in off.nonzero()[0])
        where = f" at index {at}" if want.dim() else ""
        fail(f"{what} is {got[at].item():.6g}{where} but should be {want[at].item():.6g}: {remedy}")


# ------------------------------------------------------------ small models whose answer is known

WEIGHTED = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)


def layer(net: nn.Module, which: int) -> nn.Module:
    """The `which`-th linear or convolutional layer of `net`, in order (-1: the last)."""
    return [m for m in net.modules() if isinstance(m, WEIGHTED)][which]


@torch.no_grad()
def fix_output(net: nn.Module, bias: torch.Tensor | float) -> None:
    """Make `net` ignore its input: zero its last layer's weights and set its bias to `bias`."""
    last = layer(net, -1)
    last.weight.zero_()
    last.bias.copy_(torch.as_tensor(bias, dtype=last.bias.dtype).expand_as(last.bias))


def expect_gradient(
    output: torch.Tensor, tensors: Sequence[torch.Tensor], what: str, remedy: str
) -> None:
    """Fail unless `output` (summed) has a non-zero gradient with respect to each of `tensors`."""
    if not output.requires_grad:
        fail(f"no gradient reaches {what}: the result is not attached to the graph; {remedy}")
    grads = torch.autograd.grad(output.sum(), list(tensors), retain_graph=True, allow_unused=True)
    if any(g is None or not g.abs().sum() > 0 for g in grads):
        fail(f"no gradient reaches {what}: {remedy}")


def _item_key(item: str) -> tuple:
    """Sort "2.10" after "2.9" and "2.B" after both."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in item.split("."))


class Checks:
    """The public checks of one homework.

    Args:
        homework: the homework's name, printed above the table.
        root: the homework folder (the folder of check.py); it is put on sys.path.
        parts: part name -> the student file it stands for, e.g. {"utils": "codebase/utils.py"}.
    """

    def __init__(self, homework: str, root: str | Path, parts: dict[str, str]) -> None:
        self.homework, self.root, self.parts = homework, Path(root).resolve(), dict(parts)
        self.checks: list[Check] = []
        if str(self.root) not in sys.path:
            sys.path.insert(0, str(self.root))

    def add(self, item: str, part: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
        """Decorator: register the decorated function as a check of `item` and `part`; the first
        line of its docstring says what it checks (it is the check's name in the table)."""
        if part not in self.parts:
            raise ValueError(f"unknown part {part!r}: declare it in Checks(parts=...)")

        def register(run: Callable[[], None]) -> Callable[[], None]:
            if not (run.__doc__ or "").strip():
                raise ValueError(f"check {run.__name__} has no docstring: say what it checks")
            self.checks.append(Check(item, part, run.__doc__.strip().splitlines()[0], run))
            return run

        return register

    def module(self, name: str) -> ModuleType:
        """Import the student's module `name` (e.g. "codebase.models.vae"), or fail the check."""
        path = name.replace(".", "/") + ".py"
        try:
            return importlib.import_module(name)
        except SyntaxError as exc:
            fail(f"{path} does not compile: {exc.msg} at line {exc.lineno}: fix the syntax there")
        except NotImplementedError as exc:
            fail(self._not_implemented(exc))
        except Exception as exc:  # noqa: BLE001 - any import error is the verdict
            fail(
                f"importing {path} raised {self._describe(exc)}: importing a file must run "
                "nothing but definitions, and import only the packages of requirements.txt"
            )
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------------------- running

    def select(self, selectors: Sequence[str] = ()) -> list[Check]:
        """The checks named by `selectors`: items ("1.2"), problems ("1"), parts or files.

        No selector selects every check. Raises ValueError naming the known ones otherwise.
        """
        chosen = [
            c for c in self.checks if not selectors or any(self._picks(s, c) for s in selectors)
        ]
        chosen.sort(key=lambda c: _item_key(c.item))  # stable: a part's checks keep their order
        unknown = [s for s in selectors if not any(self._picks(s, c) for c in self.checks)]
        if unknown:
            raise ValueError(
                f"no check matches {', '.join(map(repr, unknown))}: pass an item "
                f"({', '.join(self._items())}), a problem number or a part "
                f"({', '.join(self.parts)}), or nothing to run every check"
            )
        return chosen

    def _picks(self, selector: str, check: Check) -> bool:
        """Does `selector` name the check's item, its problem, its part or its file?"""
        s = selector.strip().rstrip(".").lower()
        item = check.item.lower()
        file = self.parts[check.part].lower()
        return s in (item, check.part.lower(), file, Path(file).name) or item.startswith(s + ".")

    def _items(self) -> list[str]:
        """The items that have checks, in order."""
        return sorted(dict.fromkeys(c.item for c in self.checks), key=_item_key)

    def results(self, selectors: Sequence[str] = (), verbose: bool = False) -> list[dict]:
        """Run the selected checks; one dict per check: item, part, name, passed, message, seconds.

        Only plain strings, booleans and numbers, so that a grader can serialise them. With
        `verbose`, a failure's message ends with its traceback.
        """
        return [self._run(check, verbose) for check in self.select(selectors)]

    def _run(self, check: Check, verbose: bool) -> dict:
        """Run one check, seeded, and turn whatever it raises into its verdict."""
        torch.manual_seed(0)  # the student's random draws are reproducible from run to run
        start, message = time.perf_counter(), ""
        try:
            check.run()
        except (Exception, SystemExit) as exc:  # a crash of the student's code is a verdict
            message = self._message(exc, check.item, verbose)
            if verbose:
                message += "\n" + "".join(traceback.format_exception(exc)).rstrip()
        return {
            "item": check.item,
            "part": check.part,
            "name": check.name,
            "passed": not message,
            "message": message,
            "seconds": round(time.perf_counter() - start, 3),
        }

    def _message(self, exc: BaseException, item: str, verbose: bool) -> str:
        """The one-line reason of a failed check."""
        if isinstance(exc, CheckFailed):
            return str(exc)
        if isinstance(exc, NotImplementedError):
            return self._not_implemented(exc)
        hint = "" if verbose else f" (python check.py -v {item} shows the traceback)"
        return f"{self._describe(exc)}: fix the code there{hint}"

    def _student_frame(self, tb: TracebackType | None) -> tuple[str, int, str] | None:
        """(file relative to the homework, line, function) of the deepest frame in the student's
        files, or None."""
        found = None
        for frame, line in traceback.walk_tb(tb):
            path = Path(frame.f_code.co_filename).resolve()
            rel = path.relative_to(self.root).as_posix() if self.root in path.parents else None
            if rel and rel != "check.py" and not rel.startswith("coursekit/"):
                owner = frame.f_locals.get("self")
                name = frame.f_code.co_name
                name = f"{type(owner).__name__}.{name}" if owner is not None else name
                found = (rel, line, name)
        return found

    def _not_implemented(self, exc: NotImplementedError) -> str:
        """The reason of a stub: which function to fill in, in which file."""
        where = self._student_frame(exc.__traceback__)
        if where is None:
            return f"not implemented yet: {exc or 'a stub raised NotImplementedError'}"
        file, _, function = where
        return f"not implemented yet: fill in {function} in {file}"

    def _describe(self, exc: BaseException) -> str:
        """An exception in one line: its type, its message and where in the student's code."""
        text = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
        where = self._student_frame(exc.__traceback__)
        if where is None:
            return text
        file, line, function = where
        return f"{text} ({'' if function == '<module>' else f'in {function}, '}{file} line {line})"

    # ------------------------------------------------------------------------------ printing

    def table(self, results: list[dict]) -> str:
        """The results as a table: item, check, PASS/FAIL, and under a failure its reason (or
        "same as above" when the failure above had the same)."""
        lines, previous = [f"{'item':<5} {'check':<{WIDTH - 13}} result"], None
        for r in results:
            name = textwrap.shorten(r["name"], WIDTH - 13, placeholder="...")
            lines.append(f"{r['item']:<5} {name:<{WIDTH - 13}} {'PASS' if r['passed'] else 'FAIL'}")
            if not r["passed"] and r["message"] == previous:
                lines.append(" " * 6 + "-> same as above")
            elif not r["passed"]:
                reason, _, trace = r["message"].partition("\n")
                lines += textwrap.wrap(
                    reason, WIDTH, initial_indent=" " * 6 + "-> ", subsequent_indent=" " * 9
                )
                lines += [" " * 9 + t for t in trace.splitlines()]
            previous = None if r["passed"] else r["message"]
        return "\n".join(lines)

    def summary(self, results: list[dict], seconds: float) -> str:
        """A line of counts, then what to do next, then what the checks are not."""
        failed = [r for r in results if not r["passed"]]
        todo = sum(r["message"].startswith("not implemented") for r in failed)
        counts = f"{len(results) - len(failed)} of {len(results)} checks pass"
        if failed:
            counts += f", {len(failed)} fail" + (f" ({todo} not implemented yet)" if todo else "")
            advice = "Fix what the reasons above say, then run python check.py again."
        else:
            advice = "Nothing to fix that these checks can see."
        return f"{counts} ({seconds:.1f} s).\n{advice}\n{NOT_THE_GRADE}"

    def _parser(self) -> argparse.ArgumentParser:
        """The command line's options, with the items and parts of this homework."""
        parser = argparse.ArgumentParser(
            prog="python check.py",
            description=f"Public checks of {self.homework}: every graded function, in seconds, "
            f"on a CPU, without any data set. {NOT_THE_GRADE.replace(chr(10), ' ')}",
            epilog=f"items: {' '.join(self._items())}; parts: {' '.join(self.parts)}. "
            "Examples: python check.py (everything), python check.py 1.2 (one item), "
            "python check.py 2 (every item of problem 2), "
            f"python check.py {next(iter(self.parts))} (one file). Exit status: 0 when every "
            "check passes, 1 when one fails, 2 when the arguments name no check.",
        )
        parser.add_argument("what", nargs="*", help="items, problems or parts to check (all)")
        parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks")
        parser.add_argument("--list", action="store_true", help="list the checks, run nothing")
        parser.add_argument("--json", action="store_true", help="print the results as JSON")
        return parser

    def main(self, argv: Sequence[str] | None = None) -> int:
        """The command line: run the checks `argv` selects and print them; return 0 when every
        one passes and 1 otherwise (arguments that select no check exit with status 2)."""
        parser = self._parser()
        args = parser.parse_args(argv)
        try:
            chosen = self.select(args.what)
        except ValueError as exc:
            parser.error(str(exc))  # exits with status 2
        if args.list:
            print("\n".join(f"{c.item:<5} {c.part:<10} {c.name}" for c in chosen))
            return 0
        torch.set_num_threads(1)  # tiny tensors: one thread is fastest and leaves the others be
        start = time.perf_counter()
        if args.json:  # what the student's code prints goes to stderr, not into the JSON
            with contextlib.redirect_stdout(sys.stderr):
                results = self.results(args.what, verbose=args.verbose)
            print(json.dumps(results, indent=1))
            return 0 if all(r["passed"] for r in results) else 1
        results = self.results(args.what, verbose=args.verbose)
        print(f"{self.homework}: public checks of {self.root}\n\n{self.table(results)}\n")
        print(self.summary(results, time.perf_counter() - start))
        return 0 if all(r["passed"] for r in results) else 1
