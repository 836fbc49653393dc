"""Chat widgets on their own: markdown blocks, code Copy, long transcripts, auto-scroll, the session bar."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication
from pytestqt.qtbot import QtBot

from app.gui.chat.blocks import Block, split_blocks
from app.gui.chat.message_widget import MessageWidget
from app.gui.chat.session_bar import SessionBar, countdown
from app.gui.chat.transcript import PAGE, TranscriptView
from app.storage.records import CachedSession, Message

SESSION = CachedSession(
    id="0x" + "ab" * 32, user="0x" + "11" * 20, provider="0xAbCdef0123456789aBcDeF0123456789ABCDEF01",
    model_id="0x" + "cd" * 32, bid_id="0x" + "ef" * 32, stake_wei=5 * 10**18, price_per_second_wei=10**13,
    opened_at=1_000, ends_at=1_000 + 600,
)


def _message(i: int, text: str, role: str = "assistant") -> Message:
    return Message(i, "0x" + "00" * 32, i, role, text, 0, 0)


def test_markdown_splits_into_prose_and_fenced_code() -> None:
    text = "Intro\n\n```python\nprint('hi')\n```\nOutro"
    assert split_blocks(text) == [Block("Intro"), Block("print('hi')", "python"), Block("Outro")]


def test_paragraphs_are_separate_blocks_but_a_loose_list_stays_one() -> None:
    assert split_blocks("One.\n\nTwo.") == [Block("One."), Block("Two.")]
    assert split_blocks("1. a\n\n2. b\n") == [Block("1. a\n\n2. b")]


def test_an_unclosed_fence_mid_stream_is_code_to_the_end() -> None:
    assert split_blocks("Look:\n```sh\nls -") == [Block("Look:"), Block("ls -", "sh", closed=False)]


def _code_fonts(widget: MessageWidget, needle: str) -> list[QFont]:
    """The fonts of the text fragments containing ``needle``."""
    fonts = []
    block = widget.body.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if needle in fragment.text():
                fonts.append(fragment.charFormat().font())
            it += 1
        block = block.next()
    return fonts


def test_code_block_renders_monospace_and_copy_link_puts_it_on_the_clipboard(qtbot: QtBot) -> None:
    widget = MessageWidget(_message(1, "Run:\n```bash\necho hi\n```"))
    qtbot.addWidget(widget)
    assert [b.text for b in widget.body.code_blocks()] == ["echo hi"]
    [font] = _code_fonts(widget, "echo hi")
    assert font.family() == QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).family()
    assert "Copy code" in widget.body.toPlainText()
    widget.body.anchorClicked.emit(QUrl("copy:1"))
    assert QGuiApplication.clipboard().text() == "echo hi"


def test_streaming_keeps_finished_blocks_and_rerenders_only_the_last(qtbot: QtBot) -> None:
    widget = MessageWidget(_message(1, ""))
    qtbot.addWidget(widget)
    widget.append_text("Intro paragraph.\n\n```py\nx = 1")
    document = widget.body.document()
    first_block = document.begin()
    assert first_block.text() == "Intro paragraph."
    assert "Copy code" not in widget.body.toPlainText()  # the fence is still open
    widget.append_text("\ny = 2\n```\nDone.")
    assert document.begin() == first_block  # the finished paragraph was not rebuilt
    assert widget.body.toPlainText().splitlines() == ["Intro paragraph.", "py", "x = 1", "y = 2", "Copy code",
                                                      "Done."]


def test_editing_earlier_text_rebuilds_the_document(qtbot: QtBot) -> None:
    widget = MessageWidget(_message(1, "One.\n\nTwo."))
    qtbot.addWidget(widget)
    widget.body.set_markdown("Uno.\n\nTwo.")
    assert widget.body.toPlainText().splitlines() == ["Uno.", "Two."]


def test_a_5000_message_chat_builds_only_the_latest_page(qtbot: QtBot) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    view.set_messages([_message(i, f"message {i}") for i in range(5000)], {})
    assert len(view.widgets) == PAGE
    assert view.widgets[-1].text == "message 4999"
    assert view.earlier_button.isVisibleTo(view)
    view.show_earlier()
    assert len(view.widgets) == 2 * PAGE
    assert view.widgets[0].text == f"message {5000 - 2 * PAGE}"
    assert view.hidden_count() == 5000 - 2 * PAGE


def test_auto_scroll_follows_new_text_until_the_user_scrolls_up(qtbot: QtBot) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    view.resize(500, 300)
    view.show()
    view.set_messages([_message(i, f"line {i}\n\nmore text") for i in range(30)], {})
    answer = view.append_message(_message(99, ""))
    bar = view.verticalScrollBar()
    for _ in range(5):
        answer.append_text("new paragraph\n\n")
        qtbot.wait(5)
    assert bar.value() == bar.maximum()
    bar.setValue(0)  # the person scrolls up to read
    assert not view.following
    for _ in range(5):
        answer.append_text("more\n\n")
        qtbot.wait(5)
    assert bar.value() == 0


def test_countdown_format() -> None:
    assert countdown(3909) == "1:05:09"
    assert countdown(249) == "4:09"
    assert countdown(0) == "ended"


def test_session_bar_shows_countdown_provider_and_stake(qtbot: QtBot) -> None:
    bar = SessionBar(clock=lambda: 1_000 + 100)
    qtbot.addWidget(bar)
    bar.set_options([SESSION], {SESSION.model_id: "llama-3"}, local_label="SmolLM2")
    assert bar.current is not None
    assert bar.current.session == SESSION
    assert bar.remaining.text() == "8:20 left"
    assert bar.provider.text() == "provider 0xAbCd…EF01"
    assert bar.stake.text() == "staked 5 MOR"
    assert bar.options() == [
        "● llama-3 · 0xAbCd…EF01 · session 0xabab…abab",
        "＋ Open a new session for llama-3…",
        "◆ SmolLM2 (local, no session)",
    ]


def test_open_new_session_row_asks_for_the_dialog_and_keeps_the_current_target(qtbot: QtBot) -> None:
    bar = SessionBar(clock=lambda: 1_000)
    qtbot.addWidget(bar)
    bar.set_options([SESSION], {SESSION.model_id: "llama-3"})
    with qtbot.waitSignal(bar.open_session_requested, timeout=1000) as signal:
        bar.pick(1)
    assert signal.args == [SESSION.model_id]
    assert bar.current is not None
    assert bar.current.session == SESSION


def test_warns_before_the_session_expires_mid_conversation_and_offers_the_next(qtbot: QtBot) -> None:
    now = [1_000.0]
    bar = SessionBar(clock=lambda: now[0])
    qtbot.addWidget(bar)
    bar.set_options([SESSION], {SESSION.model_id: "llama-3"})
    bar.in_conversation = True
    bar.tick()
    assert not bar.banner.isVisibleTo(bar)
    now[0] = SESSION.ends_at - 90
    bar.tick()
    assert bar.banner.isVisibleTo(bar)
    assert "ends in 1:30" in bar.banner_text.text()
    with qtbot.waitSignal(bar.open_session_requested, timeout=1000) as signal:
        bar.next_button.click()
    assert signal.args == [SESSION.model_id]


def test_close_button_asks_to_close_the_current_session(qtbot: QtBot) -> None:
    bar = SessionBar(clock=lambda: 1_000)
    qtbot.addWidget(bar)
    bar.set_options([SESSION], {})
    with qtbot.waitSignal(bar.close_requested, timeout=1000) as signal:
        bar.close_button.click()
    assert signal.args == [SESSION.id]
