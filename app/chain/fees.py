"""Fee arithmetic: EIP-1559 caps as the Go router sets them, and the +15 % bump for stuck transactions."""

from __future__ import annotations

from dataclasses import dataclass

BUMP_PERCENT = 15
GAS_MARGIN_PERCENT = 20
# Concurrent transactions change the state an estimate was made on (an allowance or balance that was non-zero at
# estimation time may be zero when mined, making an SSTORE cost 20k instead of 5k). Unused gas is refunded.
GAS_MARGIN_FIXED = 25_000


@dataclass(frozen=True)
class Fees:
    """Fee fields for one transaction: EIP-1559 (max_fee + tip) or legacy (gas_price)."""

    max_fee: int = 0
    tip: int = 0
    gas_price: int = 0

    @property
    def legacy(self) -> bool:
        return self.gas_price > 0

    def as_tx_fields(self) -> dict[str, int]:
        if self.legacy:
            return {"gasPrice": self.gas_price}
        return {"maxFeePerGas": self.max_fee, "maxPriorityFeePerGas": self.tip}

    @property
    def cap(self) -> int:
        """The most one unit of gas may cost under these fees."""
        return self.gas_price if self.legacy else self.max_fee


def eip1559_fees(base_fee: int, tip: int) -> Fees:
    """``maxFee = tip + 2 × baseFee``: room for the base fee to double before the tx stops being includable."""
    return Fees(max_fee=tip + 2 * base_fee, tip=tip)


def legacy_fees(gas_price: int) -> Fees:
    return Fees(gas_price=gas_price)


def bump_value(value: int, percent: int = BUMP_PERCENT) -> int:
    """Raise by ``percent`` (rounded up), and by at least 1 wei so a replacement always differs."""
    return max(value + 1, -(-value * (100 + percent) // 100))


def bump(fees: Fees, percent: int = BUMP_PERCENT) -> Fees:
    """Fees for a replacement of a stuck tx: every component +15 % (nodes demand ≥ 10 % on both caps)."""
    if fees.legacy:
        return Fees(gas_price=bump_value(fees.gas_price, percent))
    return Fees(max_fee=bump_value(fees.max_fee, percent), tip=bump_value(fees.tip, percent))


def with_gas_margin(estimate: int, percent: int = GAS_MARGIN_PERCENT) -> int:
    """Gas limit from an estimate: state can change between estimate and inclusion, so add a margin."""
    return estimate * (100 + percent) // 100 + GAS_MARGIN_FIXED
