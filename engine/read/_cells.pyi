"""The C loop of the generated converters (engine/read/_cells.c); used through engine.read.cells."""

from collections.abc import Callable
from typing import Any

STRIP: int
MEMO: int
CALL: int

class Converter:
    def __init__(
        self,
        template: dict,
        slots: tuple,
        by_key: bool,
        fallback: Callable[[Any], dict] | None,
        catch: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], Callable[[Any], dict]], ...],
        exact: bool = True,
    ) -> None: ...
    def __call__(self, source: Any) -> dict: ...
