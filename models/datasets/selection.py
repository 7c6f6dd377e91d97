"""Dataset references: a dataset's name and which of its sequences to take.

One small syntax names a split everywhere (training configs, the corpus, the
evaluation commands)::

    utkinect                  every sequence
    utkinect:1,2,3,4          subjects 1-4 only
    msrc12:!5,9,13            every subject but 5, 9 and 13
    nw-ucla:view=1            sequences whose attribute "view" is "1"
    penn-action:split!=test   sequences whose attribute "split" is not "test"
    msrc12:!5,9;instruction=video,text      clauses joined by ";" must all hold

Subjects are the performers' ids (`SkeletonSequence.subject`); attributes are
the facts a reader records in `SkeletonSequence.attributes`.
"""

from __future__ import annotations

from dataclasses import dataclass

from foundation.errors import SkelstreamError
from models.skeleton.sequence import SkeletonSequence


@dataclass(frozen=True)
class AttributeFilter:
    """``key=v1,v2`` (keep sequences whose attribute is one of the values) or ``key!=...`` (drop them)."""

    key: str
    values: frozenset[str]
    keep: bool = True

    def accepts(self, sequence: SkeletonSequence) -> bool:
        return (sequence.attributes.get(self.key) in self.values) == self.keep

    def __str__(self) -> str:
        return f"{self.key}{'=' if self.keep else '!='}{','.join(sorted(self.values))}"


@dataclass(frozen=True)
class DatasetRef:
    """A dataset name and a selection of its sequences (see the module docstring for the syntax)."""

    name: str
    subjects: frozenset[int] | None = None
    excluded_subjects: frozenset[int] = frozenset()
    attributes: tuple[AttributeFilter, ...] = ()

    @classmethod
    def parse(cls, text: str) -> DatasetRef:
        """Parse ``name[:clause[;clause...]]``; a malformed reference raises `SkelstreamError` quoting it."""
        name, _, rest = str(text).strip().partition(":")
        if not name:
            raise SkelstreamError(f"dataset reference {text!r} has no dataset name")
        subjects: frozenset[int] | None = None
        excluded: frozenset[int] = frozenset()
        filters = []
        for clause in (c.strip() for c in rest.split(";") if c.strip()):
            if "=" in clause:
                key, _, values = clause.partition("=")
                keep = not key.endswith("!")
                key = key.rstrip("!").strip()
                items = frozenset(v.strip() for v in values.split(",") if v.strip())
                if not key or not items:
                    raise SkelstreamError(f"dataset reference {text!r}: {clause!r} must be key=value[,value...]")
                filters.append(AttributeFilter(key, items, keep))
                continue
            negate = clause.startswith("!")
            try:
                ids = frozenset(int(s) for s in clause.lstrip("!").split(",") if s.strip())
            except ValueError:
                raise SkelstreamError(f"dataset reference {text!r}: subjects must be integers, e.g. "
                                      f"{name}:1,2 or {name}:!3") from None  # fmt: skip
            if negate:
                excluded |= ids
            else:
                subjects = ids if subjects is None else subjects & ids
        return cls(name, subjects, excluded, tuple(filters))

    def accepts_subject(self, subject: int) -> bool:
        """Whether the subject clauses select ``subject`` (attribute clauses aside)."""
        if self.subjects is not None and subject not in self.subjects:
            return False
        return subject not in self.excluded_subjects

    def accepts(self, sequence: SkeletonSequence) -> bool:
        """Whether ``sequence`` (of this dataset) is selected."""
        return self.accepts_subject(sequence.subject) and all(f.accepts(sequence) for f in self.attributes)

    def select(self, sequences: list[SkeletonSequence]) -> list[SkeletonSequence]:
        return [s for s in sequences if self.accepts(s)]

    def __str__(self) -> str:
        clauses = []
        if self.subjects is not None:
            clauses.append(",".join(str(s) for s in sorted(self.subjects)))
        if self.excluded_subjects:
            clauses.append("!" + ",".join(str(s) for s in sorted(self.excluded_subjects)))
        clauses += [str(f) for f in self.attributes]
        return self.name + (":" + ";".join(clauses) if clauses else "")
