"""The ledger's SQLite schema: versioned, migrated forward in one transaction.

``PRAGMA user_version`` holds the number of migrations applied and
``PRAGMA application_id`` marks the file as a dealgate ledger, so a file that is
some other database is refused rather than written into. Migrations only ever
append: a released one is never edited, because ledgers written by it exist.

Money and exact quantities are TEXT (``"1234.50"``): SQLite's REAL would turn
them into floats, and a ledger that changes a cent is worse than none.
"""

from __future__ import annotations

APPLICATION_ID = 0x44474C47  # "DGLG"

MIGRATIONS = (
    # 1: statements (one per rep, plan and period), their lines, adjustments, payments
    """
    CREATE TABLE statements (
        id INTEGER PRIMARY KEY,
        rep TEXT NOT NULL,
        plan TEXT NOT NULL,
        period TEXT NOT NULL,
        period_start TEXT NOT NULL,
        period_end TEXT NOT NULL,            -- exclusive: the first day after the period
        fiscal_year_start INTEGER NOT NULL,  -- the plan's, to place the period in a requested span
        name TEXT,
        currency TEXT NOT NULL,
        rounding TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed', 'paid')),
        total TEXT NOT NULL DEFAULT '0.00',  -- the sum of the lines (adjustments not included)
        draw_balance TEXT,                   -- recoverable draw outstanding after this statement
        rules_hash TEXT,                     -- sha256 of the rule pack that computed it
        reps_hash TEXT,                      -- sha256 of the reps file
        export_hash TEXT,                    -- sha256 of the deal export
        content_hash TEXT,                   -- set when closed: what `ledger verify` checks
        UNIQUE (rep, plan, period)
    );
    CREATE TABLE lines (
        statement_id INTEGER NOT NULL REFERENCES statements (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        kind TEXT NOT NULL,
        amount TEXT NOT NULL,
        rule TEXT NOT NULL,
        deal TEXT,
        credit TEXT,
        rate TEXT,
        tier TEXT,
        factor TEXT,
        note TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (statement_id, position)
    );
    CREATE TABLE adjustments (
        id INTEGER PRIMARY KEY,
        statement_id INTEGER NOT NULL REFERENCES statements (id),  -- the open statement that pays it
        source_id INTEGER NOT NULL REFERENCES statements (id),     -- the locked statement it corrects
        kind TEXT NOT NULL,
        rule TEXT NOT NULL,
        deal TEXT,
        amount TEXT NOT NULL,
        reason TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE payments (
        id INTEGER PRIMARY KEY,
        rep TEXT NOT NULL,
        period TEXT NOT NULL,   -- the label given to `dealgate pay`
        expected TEXT NOT NULL, -- what the ledger says is payable
        paid TEXT NOT NULL,     -- what payroll paid (the payroll file), else the expected amount
        source TEXT NOT NULL    -- 'ledger' or the payroll file's name
    );
    """,
    # 2: the lookups every run makes (a rep's statements in period order; a source's adjustments)
    """
    CREATE INDEX statements_by_rep ON statements (rep, plan, period_start);
    CREATE INDEX adjustments_by_source ON adjustments (source_id);
    CREATE INDEX adjustments_by_statement ON adjustments (statement_id);
    """,
    # 3: why a locked statement drifts is named against the inputs it was last found consistent under
    # (checked_*), not those it was first computed with; adjustments keep the inputs that produced them
    """
    ALTER TABLE statements ADD COLUMN checked_rules_hash TEXT;
    ALTER TABLE statements ADD COLUMN checked_reps_hash TEXT;
    ALTER TABLE statements ADD COLUMN checked_export_hash TEXT;
    ALTER TABLE adjustments ADD COLUMN rules_hash TEXT;
    ALTER TABLE adjustments ADD COLUMN reps_hash TEXT;
    ALTER TABLE adjustments ADD COLUMN export_hash TEXT;
    """,
)

VERSION = len(MIGRATIONS)
