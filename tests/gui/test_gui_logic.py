"""The GUI's pure rules: amount and address input, the password hint, formatting, and what MOR comes back when."""

from __future__ import annotations

import pytest

from app.chain.records import Session
from app.gui.formatting import amount, countdown
from app.gui.inputs import InputError, parse_address, parse_amount
from app.gui.mor_picture import DAY, MorPicture, SessionStake, claimable_reward
from app.gui.password_hint import password_strength

MOR = 10**18
ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "Enter an amount"), ("abc", "not a number"), ("-1", "positive"), ("0", "more than 0"),
     ("0.0000000000000000001", "at most 18 decimals"), ("11", "more than the 10 MOR available")],
)  # fmt: skip
def test_bad_amounts_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_amount(text, "MOR", maximum=10 * MOR)


def test_amounts_are_exact_decimal_wei() -> None:
    assert parse_amount(" 1,234.5 ", "MOR") == 1234 * MOR + MOR // 2
    assert parse_amount("0", "MOR", allow_zero=True) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "Enter the recipient"), ("0x1234", "not an address"), (ADDRESS.replace("f39F", "F39f"), "checksum")],
)
def test_bad_addresses_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_address(text)


def test_lowercase_address_is_accepted_and_checksummed() -> None:
    assert parse_address(ADDRESS.lower()) == ADDRESS


@pytest.mark.parametrize(
    ("password", "score"),
    [("short", 0), ("abcdefgh", 1), ("abcdefghijkl", 2), ("Abcdefgh1!", 2), ("Abcdefghijkl1!", 3),
     ("Abcdefghijklmnop1!", 4)],
)  # fmt: skip
def test_password_strength_grows_with_length_and_character_classes(password: str, score: int) -> None:
    assert password_strength(password).score == score


def test_amounts_read_grouped_and_rounded_down() -> None:
    assert amount(1_234_567_800_000_000_000_000, "MOR") == "1,234.5678 MOR"
    assert amount(10**12, "ETH") == "< 0.0001 ETH"
    assert amount(0, "MOR") == "0 MOR"


def test_countdown_reads_naturally() -> None:
    assert [countdown(s) for s in (0, 42, 125, 3725, 90_000)] == ["ended", "42 s", "2 min 05 s", "1 h 02 min",
                                                                  "1 d 1 h"]  # fmt: skip


def _session(opened: int, ends: int, closed: int = 0, withdrawn: int = 0) -> Session:
    return Session(b"\x01" * 32, ADDRESS, b"\x02" * 32, 50 * MOR, b"", 0, withdrawn, opened, ends, closed,
                   closed == 0, False)  # fmt: skip


def test_unfinished_session_has_nothing_to_claim() -> None:
    assert claimable_reward(_session(1_000, 5_000), 10, now=4_999) == 0


def test_session_past_its_end_pays_the_whole_duration_minus_what_was_withdrawn() -> None:
    assert claimable_reward(_session(1_000, 5_000, withdrawn=7), 10, now=6_000) == 40_000 - 7


def test_same_day_claim_after_an_early_close_is_not_offered() -> None:
    day = 100 * DAY
    session = _session(day + 100, day + 9_000, closed=day + 1_000)
    assert claimable_reward(session, 10, now=day + 2_000) == 0  # on-chain it would underflow and revert
    assert claimable_reward(session, 10, now=day + DAY + 1) == 9_000


def test_on_hold_is_released_at_the_next_utc_midnight_and_total_counts_every_place() -> None:
    stake = SessionStake(b"\x01" * 32, ADDRESS, 5 * MOR, 10**12, 0, 3_600, direct=True)
    picture = MorPicture(ADDRESS, 10 * DAY + 5, eth=MOR, mor=10 * MOR, allowance=0, sessions=(stake,),
                         on_hold_available=MOR, on_hold_locked=2 * MOR, provider_stake=3 * MOR, claimable=MOR,
                         claimable_sessions=())  # fmt: skip
    assert picture.release_at == 11 * DAY
    assert picture.total == (10 + 5 + 1 + 2 + 3 + 1) * MOR
    assert stake.expected_refund == 5 * MOR - 3_600 * 10**12  # a direct session pays the provider from the stake
