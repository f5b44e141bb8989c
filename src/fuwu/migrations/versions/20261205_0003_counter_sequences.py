"""counters from sequences on PostgreSQL

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 12:10:00

On PostgreSQL a counter key (ticket numbers, auto-number fields) takes its values from a
sequence of its own instead of an upserted row, so concurrent inserts no longer queue on the
row lock until commit (docs/adr/0009-counter-sequences.md). The function makes the sequence on
first use, seeded from the counter row, and is a no-op on SQLite, which keeps the row counter.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# A counter table's keys map to sequences named <table>_<md5 of key>: keys are free text
# (工单2026-#) and a sequence name is at most 63 bytes. The first transaction to use a key
# makes its sequence, starting after the key's row value (demo data and imports write rows;
# a new key gets a row of 0, so that a downgrade can write the sequence's value back);
# a concurrent one waits for it, then finds it. Making it is the only path that opens a
# subtransaction; every later call is a catalog lookup and nextval.
COUNTER_NEXT = """
CREATE FUNCTION fuwu_counter_next(counter text, counter_key text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  seq text := counter || '_' || md5(counter_key);
  seeded bigint;
BEGIN
  IF to_regclass(quote_ident(seq)) IS NULL THEN
    EXECUTE format('SELECT value FROM %I WHERE key = $1', counter) INTO seeded USING counter_key;
    IF seeded IS NULL THEN  -- the row names the key for a downgrade (md5 does not go back)
      EXECUTE format('INSERT INTO %I (key, value) VALUES ($1, 0) ON CONFLICT DO NOTHING', counter)
        USING counter_key;
    END IF;
    BEGIN
      EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I START %s', seq, COALESCE(seeded, 0) + 1);
    EXCEPTION WHEN unique_violation OR duplicate_table THEN
      NULL;
    END;
  END IF;
  RETURN nextval(quote_ident(seq)::regclass);
END
$$
"""

WRITE_BACK = """
UPDATE COUNTER SET value = s.last_value FROM pg_sequences s
WHERE s.schemaname = current_schema() AND s.sequencename = 'COUNTER_' || md5(COUNTER.key)
  AND s.last_value IS NOT NULL
"""

DROP_SEQUENCES = """
DO $$
DECLARE
  name text;
BEGIN
  FOR name IN
    SELECT c.relname FROM pg_class c
    WHERE c.relkind = 'S' AND c.relnamespace = current_schema()::regnamespace
      AND c.relname ~ '^(ticket|field)_counter_[0-9a-f]{32}$'
  LOOP
    EXECUTE format('DROP SEQUENCE %I', name);
  END LOOP;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(COUNTER_NEXT)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # The row counters take over again: bring them up to where the sequences are.
        for table in ("ticket_counter", "field_counter"):  # fixed names, not input
            op.execute(WRITE_BACK.replace("COUNTER", table))
        op.execute(DROP_SEQUENCES)
        op.execute("DROP FUNCTION fuwu_counter_next(text, text)")
