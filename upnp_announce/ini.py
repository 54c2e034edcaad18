"""
A small INI reader that remembers where everything stands.

The format: C{[section]} headers; C{key = value} or C{key: value} lines;
comments are whole lines starting with C{;} or C{#}, or the rest of a line
after a C{;} that follows white space; a line indented deeper than its key
continues the key's value (an empty line ends it). Keys keep their spelling
and match case-insensitively. Every mistake is reported, with its line, not
just the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Entry", "IniSyntaxError", "Section", "read"]


@dataclass(frozen=True)
class Entry:
    """
    One C{key = value}; C{key} as spelled in the file.
    """

    key: str
    value: str
    line: int


@dataclass
class Section:
    """
    One C{[name]} section; C{entries} by lowercased key.
    """

    name: str
    line: int
    entries: dict[str, Entry] = field(default_factory=dict)

    def get(self, key: str) -> Entry | None:
        return self.entries.get(key.lower())


@dataclass(frozen=True)
class IniSyntaxError:
    """
    A line that is not INI, or a section or key given twice.
    """

    line: int
    message: str
    section: str | None = None
    key: str | None = None


def _without_comment(line: str) -> str:
    if line.lstrip().startswith((";", "#")):
        return ""
    for index, char in enumerate(line):
        if char == ";" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


def read(text: str) -> tuple[dict[str, Section], list[IniSyntaxError]]:
    """
    Read C{text} into sections by name, and every syntax mistake.
    """
    sections: dict[str, Section] = {}
    errors: list[IniSyntaxError] = []
    current: Section | None = None
    # The entry whose value a deeper-indented line continues.
    open_entry: Entry | None = None
    open_indent = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = _without_comment(raw).rstrip()
        if not line.strip():
            open_entry = None
            continue
        indent = len(line) - len(line.lstrip())
        stripped = line.strip()
        if open_entry is not None and current is not None and indent > open_indent:
            open_entry = Entry(open_entry.key, f"{open_entry.value}\n{stripped}", open_entry.line)
            current.entries[open_entry.key.lower()] = open_entry
            continue
        open_entry = None
        if stripped.startswith("["):
            if not stripped.endswith("]") or len(stripped) < 3:
                errors.append(IniSyntaxError(number, f"{stripped!r} is not a [section] header"))
                current = None
                continue
            name = stripped[1:-1].strip()
            if name in sections:
                errors.append(
                    IniSyntaxError(
                        number,
                        f"appears twice (first on line {sections[name].line})",
                        name,
                    )
                )
                current = None
                continue
            current = sections[name] = Section(name, number)
            continue
        delimiters = [i for i in (stripped.find("="), stripped.find(":")) if i > 0]
        if not delimiters:
            errors.append(
                IniSyntaxError(number, f"{stripped!r} is not 'key = value' or '[section]'")
            )
            continue
        at = min(delimiters)
        key, value = stripped[:at].strip(), stripped[at + 1 :].strip()
        if current is None:
            if not sections and not errors:
                errors.append(
                    IniSyntaxError(
                        number, f"{stripped!r} comes before any [section]; start with [device]"
                    )
                )
            continue
        previous = current.entries.get(key.lower())
        if previous is not None:
            errors.append(
                IniSyntaxError(
                    number,
                    f"is set twice in this section (first on line {previous.line})",
                    current.name,
                    key,
                )
            )
            continue
        open_entry = current.entries[key.lower()] = Entry(key, value, number)
        open_indent = indent
    return sections, errors
