"""Provider forms: register provider, register model, post/delete bids, deregister — each confirmed, with progress."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QTableWidget, QTableWidgetItem, QWidget

from app.bootstrap.services import Services
from app.chain.diamond import Diamond
from app.chain.receipts import TxReceipt
from app.gui.async_slot import run_async
from app.gui.chat.receipt_text import mor, short_hex
from app.gui.inputs import InputError, parse_amount
from app.gui.provider import actions
from app.gui.provider.status import Limits, OwnBid
from app.gui.tx_flow import StageProgress, TxPlan
from app.gui.widgets import Card, Field, error_label, role_label


class TxCard(Card):
    """A card whose button runs one confirmed transaction flow.

    Signals:
        done(): a transaction of this card was confirmed (the pane refreshes)
    """

    done = Signal()

    def __init__(self, title: str, button: str, services: Services) -> None:
        super().__init__(title)
        self.services = services
        self.limits: Limits | None = None
        self.hint = role_label("", "hint")
        self.body.addWidget(self.hint)
        self.fields = QWidget()
        self.form = QHBoxLayout(self.fields)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.body.addWidget(self.fields)
        self.button = QPushButton(button)
        self.button.setProperty("role", "primary")
        self.progress = StageProgress()
        self.error = error_label()
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addWidget(self.button)
        self.body.addLayout(row)
        self.body.addWidget(self.error)
        self.button.clicked.connect(self.submit)

    def set_limits(self, limits: Limits) -> None:
        self.limits = limits

    def prepare(self) -> tuple[TxPlan, Callable[[], Awaitable[TxReceipt]], int] | None:
        """Validate the fields: (plan, send, MOR to approve), or None after showing field errors."""
        raise NotImplementedError

    def submit(self) -> None:
        """Validate, then confirm and send."""
        try:
            prepared = self.prepare()
        except InputError as e:
            self.error.setText(e.user_message)
            self.error.show()
            return
        if prepared is None:
            return
        plan, send, needs_mor = prepared
        run_async(lambda: self.run(plan, send, needs_mor), name=plan.title, busy=[self.button],
                  error_label=self.error)

    async def run(self, plan: TxPlan, send: Callable[[], Awaitable[TxReceipt]], needs_mor: int) -> TxReceipt | None:
        """The confirmed flow (tests await this directly)."""
        receipt = await actions.transact(self, self.services, self.progress, plan, send, needs_mor=needs_mor)
        if receipt is not None:
            self.done.emit()
        return receipt

    def _limits(self) -> Limits:
        if self.limits is None:
            raise InputError("The contract limits are still loading; try again in a moment.")
        return self.limits

    def _me(self) -> str:
        if self.services.sender is None:
            raise InputError("Unlock the wallet first.")
        return self.services.sender.address

    def _diamond(self) -> Diamond:
        if self.services.diamond is None:
            raise InputError("The chain is not connected yet.")
        return self.services.diamond


class RegisterProviderCard(TxCard):
    """Stake and endpoint, with the live minimum stake shown."""

    def __init__(self, services: Services) -> None:
        super().__init__("Register as a provider", "Register…", services)
        self.stake = Field("Stake (MOR)", "e.g. 0.2")
        self.endpoint = Field("Public endpoint (host:port)", "node.example.com:3333")
        self.form.addWidget(self.stake)
        self.form.addWidget(self.endpoint)

    def set_limits(self, limits: Limits) -> None:
        super().set_limits(limits)
        self.hint.setText(f"Live minimum stake: {mor(limits.provider_min_stake)}. Consumers dial the endpoint over "
                          "TCP; it must be reachable from the internet.")

    def prepare(self) -> tuple[TxPlan, Callable[[], Awaitable[TxReceipt]], int] | None:
        limits = self._limits()
        stake = parse_amount(self.stake.text(), "MOR")
        endpoint = actions.parse_endpoint(self.endpoint.text())
        plan = actions.register_provider_plan(self.services, stake, endpoint, limits)
        me, diamond = self._me(), self._diamond()
        return plan, lambda: diamond.provider_register(me, stake, endpoint), stake


class RegisterModelCard(TxCard):
    """Name, tags, stake and base model id (empty: a new random id)."""

    def __init__(self, services: Services) -> None:
        super().__init__("Register a model", "Register model…", services)
        self.name = Field("Name", "llama-3-8b-instruct")
        self.tags = Field("Tags (comma-separated)", "llm, chat")
        self.stake = Field("Stake (MOR)", "e.g. 0.1")
        self.base_id = Field("Base model id (optional)", "0x… 64 hex digits, empty for a new one")
        for field in (self.name, self.tags, self.stake, self.base_id):
            self.form.addWidget(field)

    def set_limits(self, limits: Limits) -> None:
        super().set_limits(limits)
        self.hint.setText(f"Live minimum model stake: {mor(limits.model_min_stake)}. The model id on chain is "
                          "derived from your address and the base model id.")

    def prepare(self) -> tuple[TxPlan, Callable[[], Awaitable[TxReceipt]], int] | None:
        limits = self._limits()
        stake = parse_amount(self.stake.text(), "MOR")
        base = actions.parse_model_id(self.base_id.text(), allow_random=True)
        name, tags = self.name.text().strip(), actions.parse_tags(self.tags.text())
        plan = actions.register_model_plan(self.services, base, name, tags, stake, limits)
        me, diamond = self._me(), self._diamond()

        async def send() -> TxReceipt:
            return (await diamond.model_register(me, base, b"\0" * 32, 0, stake, name, tags)).receipt

        return plan, send, stake


class PostBidCard(TxCard):
    """Pick a model, set a price within the live bounds; the fee is shown."""

    def __init__(self, services: Services) -> None:
        super().__init__("Post a bid", "Post bid…", services)
        self.model = QComboBox()
        self.model.setMinimumWidth(240)
        self.price = Field("Price (MOR per second)", "e.g. 0.0001")
        self.form.addWidget(self.model)
        self.form.addWidget(self.price)

    def set_models(self, models: list[tuple[str, str]]) -> None:
        """(model id, name) pairs offered in the picker."""
        self.model.clear()
        for model_id, name in models:
            self.model.addItem(f"{name} ({short_hex(model_id)})", model_id)

    def set_limits(self, limits: Limits) -> None:
        super().set_limits(limits)
        self.hint.setText(f"Price per second between {mor(limits.price_min, 18)} and {mor(limits.price_max, 18)}; "
                          f"posting costs {mor(limits.bid_fee)} (bid fee).")

    def prepare(self) -> tuple[TxPlan, Callable[[], Awaitable[TxReceipt]], int] | None:
        limits = self._limits()
        model_hex = self.model.currentData()
        if not isinstance(model_hex, str):
            raise InputError("Pick a model to bid on (register one first if the list is empty).")
        price = parse_amount(self.price.text(), "MOR")
        model_id = bytes.fromhex(model_hex.removeprefix("0x"))
        plan = actions.post_bid_plan(self.services, model_id, self.model.currentText(), price, limits)
        me, diamond = self._me(), self._diamond()

        async def send() -> TxReceipt:
            return (await diamond.post_model_bid(me, model_id, price)).receipt

        return plan, send, limits.bid_fee


class BidsCard(TxCard):
    """Our active bids with their rank against competing bids; Delete removes the selected one."""

    COLUMNS = ("Model", "Price/s", "Rank", "Our score", "Best competitor", "Bid")

    def __init__(self, services: Services) -> None:
        super().__init__("Your bids and how they rank", "Delete selected bid…", services)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.form.addWidget(self.table)
        self.bids: list[OwnBid] = []

    def set_bids(self, bids: list[OwnBid]) -> None:
        self.bids = bids
        self.table.setRowCount(len(bids))
        for r, b in enumerate(bids):
            texts = (b.model_name, mor(b.price_per_second, 12), "—" if b.rank is None else f"{b.rank} of "
                     f"{b.competitors + 1}", "—" if b.score is None else f"{b.score:,.4g}",
                     "none" if b.best_competitor_score is None else f"{b.best_competitor_score:,.4g}", b.bid_id)
            for c, text in enumerate(texts):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.hint.setText("No active bids: post one so consumers can find you." if not bids else
                          "Score = weighted metrics ÷ price; a competitor with a higher score ranks above you.")

    def prepare(self) -> tuple[TxPlan, Callable[[], Awaitable[TxReceipt]], int] | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            raise InputError("Select the bid to delete.")
        bid_id = bytes.fromhex(self.bids[rows[0].row()].bid_id[2:])
        diamond = self._diamond()
        return actions.delete_bid_plan(self.services, bid_id), lambda: diamond.delete_model_bid(bid_id), 0


class DeregisterCard(TxCard):
    """Stop being a provider (the refund is the stake minus this period's earnings)."""

    def __init__(self, services: Services) -> None:
        super().__init__("Deregister", "Deregister…", services)
        self.refund = 0
        self.hint.setText("Delete your bids first. The stake comes back minus what you earned this period.")

    def prepare(self) -> tuple[TxPlan, Callable[[], Awaitable[TxReceipt]], int] | None:
        me, diamond = self._me(), self._diamond()
        return actions.deregister_plan(self.services, self.refund), lambda: diamond.provider_deregister(me), 0
