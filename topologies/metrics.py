"""Prometheus metrics of the topology processes (DESIGN.md §8; seeds: "Key Metrics")."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

MESSAGES = Counter(
    "escrow_messages_total",
    "Commands and payment events handled by the escrow topology",
    ["type", "outcome"],  # outcome: applied | rejected | duplicate
)
REJECTIONS = Counter("escrow_command_rejections_total", "Refused commands", ["reason"])
TRANSITIONS = Counter("escrow_events_total", "Escrow events emitted", ["type"])
CREATED = Counter("escrow_created_total", "Escrows created")
FUNDS_HELD = Counter("escrow_funds_held_total", "Escrows whose funds are held")
DELIVERED = Counter("escrow_delivered_total", "Escrows marked delivered")
RELEASED = Counter("escrow_released_total", "Escrows released to the seller")
VALUE = Counter("escrow_value_cents_total", "Total value of created escrows, in cents")
PAYMENTS_RETURNED = Counter(
    "escrow_payments_returned_total",
    "Payments an escrow could not take (late, duplicate, wrong amount), sent back to their sender",
)
CHARGEBACKS = Counter("escrow_chargebacks_total", "Chargebacks against escrow payments")
TRANSFER_REVERSALS = Counter(
    "escrow_transfer_reversals_total", "Transfers to sellers reversed after a release"
)
PAYOUT_FAILURES_EXHAUSTED = Counter(
    "escrow_payout_failures_exhausted_total",
    "Transfers/refunds that failed as often as allowed; operators must act",
)
DEAD_LETTERS = Counter("dlq_messages_total", "Records sent to a dead-letter topic", ["topic"])
COMMAND_LATENCY = Histogram(
    "escrow_command_to_event_seconds",
    "From a command's issued_at to its decision in the escrow topology",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
PAYMENT_COMMANDS = Counter(
    "payment_commands_total",
    "Payment commands handled, by the event they produced (or duplicate)",
    ["type", "outcome"],
)
WEBHOOK_EVENTS = Counter(
    "webhook_events_total",
    "Provider webhook events handled, by the payment event they became",
    ["type", "outcome"],
)
LEDGER_VIOLATIONS = Counter(
    "ledger_invariant_violations_total",
    "Ledger invariants found broken (topologies/ledger/invariants.py), by invariant",
    ["invariant"],
)
TIMERS_SET = Counter("scheduler_timers_set_total", "Timers set or moved by escrow events", ["kind"])
TIMERS_CANCELLED = Counter(
    "scheduler_timers_cancelled_total", "Timers cancelled before they were due", ["kind"]
)
TIMERS_FIRED = Counter(
    "scheduler_timers_fired_total", "Timers that fired their system command", ["kind"]
)
TIMER_LATENESS = Histogram(
    "scheduler_timer_lateness_seconds",
    "From a timer's due time to the tick that fired it",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
RECONCILIATION_RECOVERED = Counter(
    "reconciliation_recovered_total",
    "Provider outcomes whose webhook was lost, recovered by the hourly reconciliation",
    ["provider", "kind"],  # kind: payment | transfer | refund | return
)
RECONCILIATION_DISCREPANCIES = Counter(
    "reconciliation_discrepancies_total",
    "Mismatches between the ledger and a provider found by the daily reconciliation (new ones)",
    ["provider", "kind"],  # kind: missing_at_provider | missing_in_ledger | amount_mismatch | ...
)
