"""Inputs of a draw: the expert roster (专家库: experts, relations, penalties, past draws) and the plan.

Roster formats (UTF-8):

- One JSON file ``{"experts": [...], "relations": [...], "penalties": [...], "history": [...]}``
  (only ``experts`` is required), or CSV files with a header row:

  - experts ``id,name,specialities,region,employer,available`` (specialities separated by ``;``)
  - relations ``expert_id,party,kind,since,until``
  - history ``expert_id,tenderer,drawn_on``
  - penalties ``expert_id,decided_on,until,note``

  An empty CSV cell is an absent value: ``employer`` none, ``available`` true, dates none.
- expert: ``id`` (the roster's code), ``name``, ``specialities`` (codes, e.g. ``A010101``; the
  order matters, the first is the expert's primary speciality), ``region`` (GB/T 2260 code of
  the expert's domicile, 6 digits), ``employer`` (unified social credit code, may be empty),
  ``available`` (true/false; false when on leave, ill, suspended).
- relation: the expert is tied to ``party`` (a credit code); ``kind`` is ``relative`` (a
  relative works there or runs it), ``past_employment``, ``interest`` (shares, debts, business)
  or ``other``; in force from ``since`` to ``until`` (ISO dates; empty ``since``: always was,
  empty ``until``: still is).
- penalty: the expert was penalised on ``decided_on`` (barred from evaluating) until ``until``
  (empty: never lapses); ``note`` says what for.
- history: the expert was drawn for ``tenderer`` on ``drawn_on`` (ISO date).

Plan (JSON, ``load_plan``): what one draw needs and who may not be drawn::

    {"region": "370100", "project": "SDGP-2026-0042", "section": "S1", "profile": "engineering",
     "tenderer": "...", "agency": "..." | null, "departments": ["..."], "tenderer_reps": 2,
     "as_of": "2026-11-23", "cooldown_days": 30,
     "strata": [{"speciality": "A010101", "venue": "main", "scope": "37", "quota": 3},
                {"speciality": "A010101", "venue": "remote", "scope": "3702", "quota": 1}]}

``region`` is the draw's centre; ``profile`` names a committee profile (``profiles.json``);
``departments`` are the project's supervising / competent departments (their staff are avoided);
``tenderer_reps`` sit on the committee without being drawn. A stratum asks ``quota`` experts of
``speciality`` from ``scope``: a ``main`` stratum (主场) draws from the centre's province (scope =
its 2 digits); a ``remote`` stratum (远程异地评标) from another province (2 digits) or another
city of the centre's province (4 digits).
"""
from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from lianzheng.rules.errors import RosterError
from lianzheng.rules.experts.profiles import check_committee, load_committee_profiles


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


Region = Annotated[str, StringConstraints(pattern=r"^[1-8][0-9]{5}$")]  # GB/T 2260
# unified social credit code (统一社会信用代码), upper-cased before it is checked
CreditCode = Annotated[str, BeforeValidator(_upper), StringConstraints(pattern=r"^[0-9A-Z]{18}$")]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$", strip_whitespace=True)]
ChainCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,32}$", strip_whitespace=True)]  # bytes32
Scope = Annotated[str, StringConstraints(pattern=r"^[1-8][0-9]([0-9]{2})?$")]  # province or city prefix
Text = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]

MAX_EXPERTS = 32  # experts drawn for one plan, all strata together (the contract's bound)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _none_if_empty(value: Any) -> Any:
    return None if value == "" else value


class Expert(_Model):
    id: Code
    name: Text
    specialities: tuple[Code, ...] = Field(min_length=1)
    region: Region
    employer: CreditCode | None = None
    available: bool = True

    _empty_is_none = field_validator("employer", mode="before")(_none_if_empty)

    @field_validator("specialities", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return [v for v in value.split(";") if v.strip()] if isinstance(value, str) else value


class Relation(_Model):
    expert_id: Code
    party: CreditCode
    kind: Literal["relative", "past_employment", "interest", "other"]
    since: date | None = None
    until: date | None = None  # None: ongoing

    _empty_is_none = field_validator("since", "until", mode="before")(_none_if_empty)

    @model_validator(mode="after")
    def _ordered(self) -> Relation:
        if self.since and self.until and self.until < self.since:
            raise ValueError(f"until {self.until} is before since {self.since}")
        return self


class Penalty(_Model):
    expert_id: Code
    decided_on: date
    until: date | None = None  # None: never lapses
    note: Text

    _empty_is_none = field_validator("until", mode="before")(_none_if_empty)

    @model_validator(mode="after")
    def _ordered(self) -> Penalty:
        if self.until and self.until < self.decided_on:
            raise ValueError(f"until {self.until} is before decided_on {self.decided_on}")
        return self


class PastDraw(_Model):
    expert_id: Code
    tenderer: CreditCode
    drawn_on: date


class Roster(_Model):
    experts: tuple[Expert, ...]
    relations: tuple[Relation, ...] = ()
    penalties: tuple[Penalty, ...] = ()
    history: tuple[PastDraw, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Roster:
        seen: set[str] = set()
        for i, e in enumerate(self.experts):
            if e.id in seen:
                raise ValueError(f"experts.{i}.id: expert id {e.id!r} is not unique")
            seen.add(e.id)
        for kind in ("relations", "penalties", "history"):
            for i, row in enumerate(getattr(self, kind)):
                if row.expert_id not in seen:  # a typo here would silently fail to exclude someone
                    raise ValueError(f"{kind}.{i}.expert_id: unknown expert {row.expert_id!r}")
        return self


class Stratum(_Model):
    """``quota`` experts of ``speciality`` drawn from ``scope`` (a province or city prefix)."""

    speciality: ChainCode
    venue: Literal["main", "remote"]
    scope: Scope
    quota: int = Field(ge=1, le=MAX_EXPERTS)

    @property
    def province(self) -> str:
        return self.scope[:2]


class DrawPlan(_Model):
    region: Region
    project: Code
    section: Code
    profile: str
    tenderer: CreditCode
    agency: CreditCode | None = None
    departments: tuple[CreditCode, ...] = ()
    tenderer_reps: int = Field(0, ge=0, le=10)
    as_of: date
    cooldown_days: int = Field(30, ge=0, le=3650)
    strata: tuple[Stratum, ...] = Field(min_length=1, max_length=8)

    _empty_is_none = field_validator("agency", mode="before")(_none_if_empty)

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        known = load_committee_profiles()
        if value not in known:
            raise ValueError(f"unknown committee profile {value!r}; expected one of {sorted(known)}")
        return value

    @model_validator(mode="after")
    def _strata(self) -> DrawPlan:
        home, city = self.region[:2], self.region[:4]
        seen: set[tuple[str, str, str]] = set()
        for i, s in enumerate(self.strata):
            where = f"strata.{i} ({s.speciality}, {s.venue}, {s.scope})"
            if s.venue == "main" and s.scope != home:
                raise ValueError(f"{where}: a main stratum's scope is the draw's province {home}")
            if s.venue == "remote":
                if len(s.scope) == 2 and s.scope == home:
                    raise ValueError(f"{where}: a remote province must not be the draw's province {home}")
                if len(s.scope) == 4 and (s.scope[:2] != home or s.scope == city):
                    raise ValueError(f"{where}: a remote city must be another city of the draw's province {home}"
                                     f" (not {city})")
            key = (s.speciality, s.venue, s.scope)
            if key in seen:
                raise ValueError(f"{where}: the same stratum twice")
            seen.add(key)
        for code in self.departments:  # 统一社会信用代码: registered by 机构编制 (1…), not a company (9…)
            if not code.startswith("1"):
                raise ValueError(f"departments: {code} is not a government body's code (they start with 1)")
        if self.experts_total > MAX_EXPERTS:
            raise ValueError(f"strata ask {self.experts_total} experts in all, at most {MAX_EXPERTS}")
        return self

    @property
    def experts_total(self) -> int:
        return sum(s.quota for s in self.strata)

    @property
    def members(self) -> int:
        """The committee's size: the drawn experts and the tenderer's representatives."""
        return self.experts_total + self.tenderer_reps

    @property
    def province(self) -> str:
        return self.region[:2]

    @property
    def provinces(self) -> list[str]:
        """The provinces whose registries the draw needs (one pool per province)."""
        return sorted({s.province for s in self.strata})

    def avoidance_inputs(self) -> bytes:
        """The avoidance inputs the centre names, as committed on chain with the plan (canonical JSON):
        fixed before any pool exists, public to supervisors. ``as_of`` is not among them: it is the
        draw's own date on chain (``draw.draw_date``)."""
        from lianzheng.sdk.canonical import canonical_json

        return canonical_json({"tenderer": self.tenderer, "agency": self.agency, "departments": list(self.departments),
                               "cooldown_days": self.cooldown_days})

    def check_committee(self) -> None:
        """Raise RosterError unless the committee this plan makes fits its profile."""
        check_committee(load_committee_profiles()[self.profile], self.experts_total, self.tenderer_reps)


# --- reading ---------------------------------------------------------------------------


def _message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    msg = first["msg"].removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def _validated(model: type[BaseModel], data: Any, source: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RosterError(f"{source}: {_message(exc)}") from None


def _csv_rows(model: type[BaseModel], path: Path) -> list[tuple[int, Any]]:
    """The rows of a CSV file as ``model``, each with its line number; an empty cell is an absent value."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        rows = []
        for row in reader:
            if None in row:
                raise RosterError(f"{path}: row {reader.line_num}: more cells than the header has columns")
            cells = {k: v for k, v in row.items() if v is not None and v.strip() != ""}
            rows.append((reader.line_num, _validated(model, cells, f"{path}: row {reader.line_num}")))
        return rows


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _reading(path: Path, fn: Any) -> Any:
    try:
        return fn()
    except OSError as exc:
        raise RosterError(f"cannot read {exc.filename}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError, csv.Error) as exc:
        kind = "JSON" if path.suffix.lower() == ".json" else "CSV"
        raise RosterError(f"{path}: not valid {kind}: {str(exc).splitlines()[0]}") from None


def load_roster(path: Path, relations: Path | None = None, history: Path | None = None,
                penalties: Path | None = None) -> Roster:
    """Read a roster from one JSON file, or from CSV files (experts, relations, history, penalties)."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        if relations or history or penalties:
            raise RosterError(f"{path}: a JSON roster holds its relations, history and penalties itself")
        return _validated(Roster, _reading(path, lambda: _read_json(path)), str(path))
    data: dict[str, Any] = {"experts": [e for _, e in _reading(path, lambda: _csv_rows(Expert, path))]}
    for key, model, file in (("relations", Relation, relations), ("history", PastDraw, history),
                             ("penalties", Penalty, penalties)):
        if file is not None:
            file = Path(file)
            rows = _reading(file, lambda: _csv_rows(model, file))  # noqa: B023 (called at once)
            known = {e.id for e in data["experts"]}
            for line, row in rows:
                if row.expert_id not in known:
                    raise RosterError(f"{file}: row {line}: expert_id: unknown expert {row.expert_id!r}")
            data[key] = [row for _, row in rows]
    return _validated(Roster, data, str(path))


def load_plan(path: Path) -> DrawPlan:
    path = Path(path)
    return _validated(DrawPlan, _reading(path, lambda: _read_json(path)), str(path))
