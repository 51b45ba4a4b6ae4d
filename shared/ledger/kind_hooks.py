"""What importing each ledger kind does beyond validate, resolve and upsert.

Every kind is imported by its `KindHooks`; most use the default, table by table. A kind
with a rule of its own says it here, in its own class, instead of in an `if kind is …`
inside the importer: organizations (held whole, written parents first), members (one ID
number, one person), assignments (no overlaps), events (local times to UTC). A new kind
with a rule of its own adds a class and a line in `_HOOKS`. A fresh set of hooks is made
for every import (`hooks_for`), so a class may remember what its kind has seen.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from shared.ledger import organizations as orgs
from shared.ledger import overlaps
from shared.ledger.entity_keys import LOOKUP_CHUNK
from shared.ledger.import_problems import pack
from shared.ledger.import_state import BATCH_ROWS, Batch, BatchRow, ImportState
from shared.ledger.kinds import ASSIGNMENTS, EVENTS, MEMBERS, ORGANIZATIONS, Kind
from shared.ledger.storage import collapse, db_row, table_for, upsert
from shared.ledger.table_import import import_table, validate_row
from shared.ledger.validation import RowValidator, to_utc
from shared.models import Member


class KindHooks:
    """The default: each table of the kind imported in turn, nothing special."""

    def import_kind(self, state: ImportState, sources: list[int]) -> None:
        for src in sources:
            import_table(state, src, self)
        self.finish(state)

    def checked(self, state: ImportState, src: int, good: Batch) -> Batch:
        """A batch's valid rows, references resolved, before they are written: the rows
        still to write (a hook may list a problem and drop a row, or convert one)."""
        return good

    def finish(self, state: ImportState) -> None:
        """After every table of the kind: checks that need the whole kind."""


class EventHooks(KindHooks):
    """Event times are local wall times in their organization's zone; stored in UTC."""

    def checked(self, state: ImportState, src: int, good: Batch) -> Batch:
        """A time that leaves the calendar in UTC (9999-12-31 23:00 in UTC−8) is a
        problem, not a crash."""
        column = EVENTS.column("starts_at")
        converted: Batch = []
        for entry in good:
            local = entry.row.get("starts_at")
            if isinstance(local, datetime):
                try:
                    zone = state.org_tree.timezone(str(entry.row["org"]))
                    entry.row["starts_at"] = to_utc(local, zone)
                except (OverflowError, ValueError):
                    what = "out of range once converted to UTC"
                    cell = entry.raw.get("starts_at")
                    state.problems.add_cell(src, entry.line, column, "starts_at", cell, what)
                    continue
            converted.append(entry)
        return converted


class AssignmentHooks(KindHooks):
    """One liaison at a time per member: every assignment is staged, then the overlaps are
    found set-based in SQL (`overlaps.py`), among the file set and against the database."""

    def import_kind(self, state: ImportState, sources: list[int]) -> None:
        overlaps.create_stage(state.conn)
        try:
            super().import_kind(state, sources)
        finally:
            overlaps.drop_stage(state.conn)

    def checked(self, state: ImportState, src: int, good: Batch) -> Batch:
        staged = (
            {
                "member_id": e.row["member_id"],
                "from_date": e.row["from"],
                "to_date": e.row.get("to"),
                "src": src,
                "line": e.line,
            }
            for e in good
        )
        overlaps.stage(state.conn, collapse(ASSIGNMENTS, staged))
        return good

    def finish(self, state: ImportState) -> None:
        column = ASSIGNMENTS.column("from")
        for o in overlaps.find_overlaps(state.conn):
            if o.other_src is not None and o.other_line is not None:
                row = state.problems.other_row(o.src, pack(o.other_src, o.other_line))
                other = f"the assignment on {row}"
            else:
                other = "an assignment already recorded"
            span = f"{o.other_from.isoformat()}..{_end(o.other_to)}"
            what = f"overlaps {other} ({span})"
            state.problems.add_cell(o.src, o.line, column, "from", o.from_date, what)


class MemberHooks(KindHooks):
    """One ID number is one person (一人一档): a second member id with it is refused,
    whether the first is in the file set or already recorded."""

    WHAT = "already the ID number of member {member} ({where}): one person, one member id"

    def __init__(self) -> None:
        #: ID number → (member id, where) of the file set's first row with it
        self.in_files: dict[str, tuple[str, int]] = {}
        #: rows whose ID number the database holds under another member id, decided in
        #: `finish`: the file set may give that member a new ID number further on
        self.recorded_elsewhere: list[tuple[BatchRow, int, str]] = []

    def checked(self, state: ImportState, src: int, good: Batch) -> Batch:
        column = MEMBERS.column("id_number")
        kept: Batch = []
        for entry in good:
            number, member = str(entry.row["id_number"]), str(entry.row["member_id"])
            first = self.in_files.setdefault(number, (member, pack(src, entry.line)))
            if first[0] != member:
                where = state.problems.other_row(src, first[1])
                what = self.WHAT.format(member=first[0], where=where)
                cell = entry.raw.get("id_number")
                state.problems.add_cell(src, entry.line, column, "id_number", cell, what)
                continue
            kept.append(entry)
        holders = _recorded_holders(state, {str(e.row["id_number"]) for e in kept})
        for entry in kept:
            holder = holders.get(str(entry.row["id_number"]))
            if holder is not None and holder != entry.row["member_id"]:
                self.recorded_elsewhere.append((entry, src, holder))
        return kept

    def finish(self, state: ImportState) -> None:
        column = MEMBERS.column("id_number")
        for entry, src, holder in self.recorded_elsewhere:
            if state.keys.first(MEMBERS.name, holder) is not None:
                continue  # the file set gives the holder an ID number of its own
            what = self.WHAT.format(member=holder, where="recorded")
            cell = entry.raw.get("id_number")
            state.problems.add_cell(src, entry.line, column, "id_number", cell, what)


def _recorded_holders(state: ImportState, numbers: set[str]) -> dict[str, str]:
    """ID number → the member id the database records it under, for `numbers`."""
    wanted = sorted(numbers)
    holders: dict[str, str] = {}
    query = select(Member.id_number, Member.member_id)
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        for number, member in state.conn.execute(query.where(Member.id_number.in_(chunk))):
            holders[number] = member
    return holders


class OrganizationHooks(KindHooks):
    """Organizations are few: held whole, so a parent may come later and cycles show."""

    def import_kind(self, state: ImportState, sources: list[int]) -> None:
        staged = [org for src in sources for org in _read_organizations(state, src)]
        parent_column = ORGANIZATIONS.column("parent_code")
        for org in staged:
            with_parent = "parent_code" in state.tables[org.src].columns
            state.org_tree.stage(org, has_parent_column=with_parent)
        for org, what in state.org_tree.parent_problems():
            value = org.raw.get("parent_code")
            state.problems.add_cell(org.src, org.line, parent_column, "parent_code", value, what)
        if state.writing:
            _write_organizations(state)


def _read_organizations(state: ImportState, src: int) -> list[orgs.StagedOrg]:
    """Table `src`'s organizations checked; the first row of each code staged."""
    table = state.tables[src]
    if table.problems:  # listed already; see `table_import._flush`
        return []
    validator = RowValidator(ORGANIZATIONS, table.columns)
    counter = state.counts[ORGANIZATIONS.name]
    staged: list[orgs.StagedOrg] = []
    read = 0
    state.progress(table.label, 0)
    for line, raw in state.rows(src):
        counter.read += 1
        read += 1
        entry = validate_row(state, src, validator, line, raw)
        state.progress(table.label, 1)
        # An invalid row still takes part in the parent checks; nothing is written.
        if state.keys.first(ORGANIZATIONS.name, str(entry.row.get("code"))) == pack(src, line):
            staged.append(orgs.StagedOrg(src, line, entry.row, raw))
    state.progress(table.label, 0, total=read)
    return staged


def _write_organizations(state: ImportState) -> None:
    counter = state.counts[ORGANIZATIONS.name]
    for batch in state.org_tree.write_order(BATCH_ROWS):
        by_columns: dict[tuple[str, ...], list[dict[str, object]]] = {}
        for org in batch:
            row = db_row(ORGANIZATIONS, org.row, state.tables[org.src].constants)
            by_columns.setdefault(tuple(row), []).append(row)
        for rows in by_columns.values():
            counter.written += upsert(state.conn, table_for(ORGANIZATIONS), ["code"], rows)


def _end(day: date | None) -> str:
    return "(open)" if day is None else day.isoformat()


_HOOKS: dict[str, type[KindHooks]] = {
    ORGANIZATIONS.name: OrganizationHooks,
    MEMBERS.name: MemberHooks,
    ASSIGNMENTS.name: AssignmentHooks,
    EVENTS.name: EventHooks,
}


def hooks_for(kind: Kind) -> KindHooks:
    """A fresh set of `kind`'s hooks, for one import."""
    return _HOOKS.get(kind.name, KindHooks)()
