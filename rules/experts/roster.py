"""Inputs of a draw: the expert roster (专家库: experts, relations, past draws) and the request.

Formats (UTF-8):

- One JSON file ``{"experts": [...], "relations": [...], "history": [...]}``, or CSV files
  with a header row: experts (``id,name,specialities,region,employer,available``, the
  specialities separated by ``;``), relations (``expert_id,party,relation``) and history
  (``expert_id,tenderer,drawn_on``).
- expert: ``id`` (the roster's code), ``name``, ``specialities`` (codes, e.g. ``A010101``),
  ``region`` (GB/T 2260 code of the expert's domicile), ``employer`` (unified social credit
  code, may be empty), ``available`` (true/false; false when on leave, ill, suspended).
- relation: the expert is tied to ``party`` (a credit code: employer in the past, relative's
  company, shareholding ...); ``relation`` says how.
- history: the expert was drawn for ``tenderer`` on ``drawn_on`` (ISO date).
- request (JSON): ``region, project, section, speciality, mode`` (``local``: experts of the
  draw region's province; ``remote``/异地: of another province, limited to
  ``remote_provinces`` when given), ``tenderer``, ``bidders`` (credit codes), ``cooldown_days``
  (an expert drawn for the same tenderer that recently is avoided), ``as_of`` (date), ``k``.
"""
from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from lianzheng.rules.errors import RosterError

Region = Annotated[str, StringConstraints(pattern=r"^[1-8][0-9]{5}$")]
CreditCode = Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{18}$", to_upper=True, strip_whitespace=True)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$", strip_whitespace=True)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expert(_Model):
    id: Code
    name: Text
    specialities: tuple[Code, ...] = Field(min_length=1)
    region: Region
    employer: CreditCode | None = None
    available: bool = True

    @field_validator("employer", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("specialities", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return [v for v in value.split(";") if v.strip()] if isinstance(value, str) else value


class Relation(_Model):
    expert_id: Code
    party: CreditCode
    relation: Text


class PastDraw(_Model):
    expert_id: Code
    tenderer: CreditCode
    drawn_on: date


class Roster(_Model):
    experts: tuple[Expert, ...]
    relations: tuple[Relation, ...] = ()
    history: tuple[PastDraw, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> "Roster":
        ids = [e.id for e in self.experts]
        known = set(ids)
        if len(known) != len(ids):
            raise ValueError("expert ids must be unique")
        for row in (*self.relations, *self.history):
            if row.expert_id not in known:  # a typo here would silently fail to exclude someone
                raise ValueError(f"{type(row).__name__.lower()} names unknown expert {row.expert_id!r}")
        return self


class DrawRequest(_Model):
    region: Region
    project: Code
    section: Code
    speciality: Code
    mode: Literal["local", "remote"] = "local"
    remote_provinces: tuple[Annotated[str, StringConstraints(pattern=r"^[1-8][0-9]$")], ...] = ()
    tenderer: CreditCode
    bidders: tuple[CreditCode, ...] = ()
    cooldown_days: int = Field(30, ge=0, le=3650)
    as_of: date
    k: int = Field(ge=1, le=64)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def _validated(model: type[BaseModel], data: Any, source: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RosterError(f"{source}: {where}: {first['msg']}") from None


def load_roster(path: Path, relations: Path | None = None, history: Path | None = None) -> Roster:
    """Read a roster from one JSON file, or from CSV files (experts, relations, history)."""
    try:
        if path.suffix.lower() == ".json":
            if relations or history:
                raise RosterError("a JSON roster holds its relations and history itself")
            return _validated(Roster, json.loads(path.read_text(encoding="utf-8")), str(path))
        data: dict[str, Any] = {"experts": _rows(path)}
        if relations:
            data["relations"] = _rows(relations)
        if history:
            data["history"] = _rows(history)
        return _validated(Roster, data, str(path))
    except OSError as exc:
        raise RosterError(f"cannot read {exc.filename}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError, csv.Error) as exc:
        raise RosterError(f"{path}: not valid {path.suffix.lstrip('.') or 'CSV'}: {exc}") from None


def load_request(path: Path) -> DrawRequest:
    try:
        return _validated(DrawRequest, json.loads(path.read_text(encoding="utf-8")), str(path))
    except OSError as exc:
        raise RosterError(f"cannot read {exc.filename}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RosterError(f"{path}: not valid JSON: {exc}") from None
