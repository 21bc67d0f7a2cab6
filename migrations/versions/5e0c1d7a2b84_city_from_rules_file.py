"""city from the rules file: zone calendars, gate directions, the municipality row; no fee copy

Revision ID: 5e0c1d7a2b84
Revises: d2a7c4e9f105
Create Date: 2026-12-05 11:20:00.000000

The rules file is the single source of the city (ztl.city.sync keeps these tables in step with
it): a zone's calendar (weekday windows, seasons, holidays) is kept as its canonical JSON instead of
daily windows; gates get a direction; the municipality in force gets a row; and the category's copy
of its fee and stamp-duty exemption goes, since fees are computed from the rules file alone.
Plate lookups remember the gate a transit was read at, so a gate with recorded transits is not
removed from under them. Businesses get their main activity (ATECO), an optional register column:
only accommodation firms may buy hotel guests' booklets.
"""

import json

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "5e0c1d7a2b84"
down_revision = "d2a7c4e9f105"
branch_labels = None
depends_on = None

EMPTY_CALENDAR = '{"entries": [], "patron_saint": null}'


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EVERY_DAY = 127


def _hhmm(minutes):
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _carry_zone_hours_over():
    """Zones keep the hours they had until the rules file is applied (`ztl db upgrade` does it
    right after migrating): an empty calendar means a zone never restricted, and every plate
    would be authorized meanwhile, or for good if the new file is refused. A zone without windows
    was restricted at every hour; windows become entries, one per set of weekdays, written as
    ztl.rules.calendar.calendar_data writes them, so applying an unchanged file changes nothing."""
    bind = op.get_bind()
    zones = [row[0] for row in bind.execute(sa.text("SELECT id FROM zone ORDER BY id"))]
    windows = bind.execute(
        sa.text(
            "SELECT zone_id, start_minute, end_minute, weekdays FROM zone_window "
            "ORDER BY zone_id, start_minute"
        )
    ).all()
    by_zone = {zone: {} for zone in zones}
    for zone, start, end, days in windows:
        by_zone[zone].setdefault(days, []).append(f"{_hhmm(start)}-{_hhmm(end)}")
    for zone, groups in by_zone.items():
        entries = []
        for days, hours in groups.items():
            entry = {"hours": hours}
            if days != EVERY_DAY:
                entry["days"] = [WEEKDAYS[n] for n in range(7) if days >> n & 1]
            entries.append(entry)
        calendar = {"entries": entries or [{"hours": ["00:00-24:00"]}], "patron_saint": None}
        bind.execute(
            sa.text("UPDATE zone SET calendar = :calendar WHERE id = :zone"),
            {"calendar": json.dumps(calendar, sort_keys=True), "zone": zone},
        )


def upgrade():
    op.create_table(
        "city",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("patron_saint", sa.String(length=5), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_city_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_city")),
    )
    with op.batch_alter_table("zone", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("calendar", sa.Text(), nullable=False, server_default=EMPTY_CALENDAR)
        )
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("zone", schema=None) as batch_op:
        batch_op.alter_column("calendar", server_default=None)
        batch_op.alter_column("active", server_default=None)

    with op.batch_alter_table("gate", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("direction", sa.String(length=5), nullable=False, server_default="in")
        )
        batch_op.create_check_constraint(
            op.f("ck_gate_direction"), "direction IN ('in', 'out', 'both')"
        )
    with op.batch_alter_table("gate", schema=None) as batch_op:
        batch_op.alter_column("direction", server_default=None)

    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_category_fee_cents"), type_="check")
        batch_op.drop_column("fee_cents")
        batch_op.drop_column("stamp_duty_exempt")

    with op.batch_alter_table("plate_lookup", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gate", sa.String(length=10), nullable=True))
        batch_op.create_index(batch_op.f("ix_plate_lookup_gate"), ["gate"], unique=False)

    _carry_zone_hours_over()
    with op.batch_alter_table("zone_window", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_zone_window_zone_id"))
    op.drop_table("zone_window")

    with op.batch_alter_table("business", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ateco", sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table("business", schema=None) as batch_op:
        batch_op.drop_column("ateco")

    op.create_table(
        "zone_window",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.Column("weekdays", sa.Integer(), nullable=False),
        sa.CheckConstraint("end_minute BETWEEN 1 AND 1440", name=op.f("ck_zone_window_end_minute")),
        sa.CheckConstraint(
            "start_minute BETWEEN 0 AND 1439", name=op.f("ck_zone_window_start_minute")
        ),
        sa.CheckConstraint("weekdays BETWEEN 1 AND 127", name=op.f("ck_zone_window_weekdays")),
        sa.ForeignKeyConstraint(
            ["zone_id"], ["zone.id"], name=op.f("fk_zone_window_zone_id_zone"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zone_window")),
    )
    with op.batch_alter_table("zone_window", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_zone_window_zone_id"), ["zone_id"], unique=False)

    with op.batch_alter_table("plate_lookup", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plate_lookup_gate"))
        batch_op.drop_column("gate")

    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stamp_duty_exempt", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("fee_cents", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_check_constraint(op.f("ck_category_fee_cents"), "fee_cents >= 0")

    with op.batch_alter_table("gate", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_gate_direction"), type_="check")
        batch_op.drop_column("direction")

    with op.batch_alter_table("zone", schema=None) as batch_op:
        batch_op.drop_column("active")
        batch_op.drop_column("calendar")

    op.drop_table("city")
