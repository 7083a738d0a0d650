"""Where in the text a key path is defined, for the line of an error."""

from __future__ import annotations

import contextlib
import tomllib

from deskctl.domain.policy_file.errors import BARE_KEY, Path


class Locator:
    """Maps key paths to the line that defines them.

    tomllib gives no positions, so this re-reads the (already valid) text with a
    small scanner that follows tables, ``[[arrays]]``, dotted keys, arrays and
    inline tables. Explicit definitions win over tables created implicitly by a
    longer header or dotted key. A path not found falls back to its nearest
    defined parent, then line 1.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.explicit: dict[Path, int] = {}
        self.implicit: dict[Path, int] = {}
        self.array_tables: dict[Path, int] = {}
        # best effort: whatever was located before a surprise still helps
        with contextlib.suppress(IndexError, ValueError, tomllib.TOMLDecodeError):
            self.document()

    def line_of(self, path: Path) -> int:
        for end in range(len(path), 0, -1):
            prefix = path[:end]
            if prefix in self.explicit:
                return self.explicit[prefix]
            if prefix in self.implicit:
                return self.implicit[prefix]
        return 1

    # -- scanning ----------------------------------------------------------------------------

    def peek(self, size: int = 1) -> str:
        return self.text[self.pos : self.pos + size]

    def advance(self, size: int = 1) -> None:
        self.line += self.text.count("\n", self.pos, self.pos + size)
        self.pos += size

    def skip_blanks(self) -> None:
        while self.peek() in (" ", "\t"):
            self.advance()

    def skip_space(self) -> None:
        """Blanks, newlines and comments."""
        while self.pos < len(self.text):
            char = self.peek()
            if char in " \t\r\n":
                self.advance()
            elif char == "#":
                end = self.text.find("\n", self.pos)
                self.advance((len(self.text) if end < 0 else end) - self.pos)
            else:
                return

    def expect(self, token: str) -> None:
        if self.peek(len(token)) != token:
            raise ValueError(f"expected {token!r} at offset {self.pos}")
        self.advance(len(token))

    def mark(self, path: Path, line: int, *, explicit: bool) -> None:
        for end in range(1, len(path)):
            self.implicit.setdefault(path[:end], line)
        target = self.explicit if explicit else self.implicit
        target.setdefault(path, line)

    def document(self) -> None:
        table: Path = ()
        while True:
            self.skip_space()
            if self.pos >= len(self.text):
                return
            line = self.line
            if self.peek(2) == "[[":
                self.advance(2)
                keys = self.key()
                self.skip_blanks()
                self.expect("]]")
                parent = (*self.resolve(keys[:-1]), keys[-1])
                index = self.array_tables.get(parent, 0)
                self.array_tables[parent] = index + 1
                table = (*parent, index)
                self.mark(parent, line, explicit=True)
                self.explicit[table] = line
            elif self.peek() == "[":
                self.advance()
                keys = self.key()
                self.skip_blanks()
                self.expect("]")
                table = self.resolve(keys)
                self.mark(table, line, explicit=True)
            else:
                self.key_value(table)

    def resolve(self, keys: tuple[str, ...]) -> Path:
        """A header's keys, with the current index of every array of tables on the way."""
        path: Path = ()
        for key in keys:
            path = (*path, key)
            if path in self.array_tables:
                path = (*path, self.array_tables[path] - 1)
        return path

    def key(self) -> tuple[str, ...]:
        parts: list[str] = []
        while True:
            self.skip_blanks()
            char = self.peek()
            start = self.pos
            if char in ('"', "'"):
                self.string()
                parts.append(tomllib.loads("k = " + self.text[start : self.pos])["k"])
            else:
                while self.pos < len(self.text) and BARE_KEY.match(self.peek()):
                    self.advance()
                if self.pos == start:
                    raise ValueError(f"expected a key at offset {start}")
                parts.append(self.text[start : self.pos])
            self.skip_blanks()
            if self.peek() != ".":
                return tuple(parts)
            self.advance()

    def key_value(self, base: Path) -> None:
        line = self.line
        path = base + self.key()
        self.skip_blanks()
        self.expect("=")
        self.skip_blanks()
        self.mark(path, line, explicit=True)
        self.value(path)

    def value(self, path: Path) -> None:
        char = self.peek()
        if char in ('"', "'"):
            self.string()
        elif char == "[":
            self.advance()
            index = 0
            while True:
                self.skip_space()
                if self.peek() == "]":
                    self.advance()
                    return
                self.mark((*path, index), self.line, explicit=True)
                self.value((*path, index))
                index += 1
                self.skip_space()
                if self.peek() == ",":
                    self.advance()
        elif char == "{":
            self.advance()
            while True:
                self.skip_space()
                if self.peek() == "}":
                    self.advance()
                    return
                self.key_value(path)
                self.skip_space()
                if self.peek() == ",":
                    self.advance()
        else:
            while self.pos < len(self.text) and self.peek() not in ",]}\n#":
                self.advance()

    def string(self) -> None:
        quote = self.peek()
        if self.peek(3) == quote * 3:
            self.advance(3)
            while self.peek(3) != quote * 3:
                if self.pos >= len(self.text):
                    raise ValueError("unterminated string")
                self.advance(2 if quote == '"' and self.peek() == "\\" else 1)
            self.advance(3)
            while self.peek() == quote:  # a multi-line string may end with up to two quotes
                self.advance()
            return
        self.advance()
        while self.peek() != quote:
            if self.pos >= len(self.text):
                raise ValueError("unterminated string")
            self.advance(2 if quote == '"' and self.peek() == "\\" else 1)
        self.advance()
