"""Where the GUI keeps what the person changes: node settings in settings.json, GUI choices in the database."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from app.config.settings import write_settings_file
from app.gui.theme import Theme
from app.storage.store import AsyncStorage
from app.wallet.manager import DEFAULT_AUTO_LOCK_SECONDS
from app.wallet.networks import DEVNET, NetworkChoice

SETTINGS_FILE = "settings.json"
THEME_KEY = "gui.theme"
AUTO_LOCK_KEY = "gui.auto_lock_minutes"
MAX_AUTO_LOCK_MINUTES = 24 * 60


def settings_file(data_dir: Path) -> Path:
    """The node settings file the GUI writes (lowest precedence after env and .env)."""
    return data_dir / SETTINGS_FILE


@dataclass(frozen=True)
class GuiPrefs:
    """Choices that only the desktop app uses."""

    theme: Theme = Theme.SYSTEM
    auto_lock_minutes: int = DEFAULT_AUTO_LOCK_SECONDS // 60


async def load_prefs(storage: AsyncStorage) -> GuiPrefs:
    """Read the GUI choices; anything unreadable falls back to its default."""
    values = await storage.run(storage.sync.settings.all)
    try:
        theme = Theme(values.get(THEME_KEY, Theme.SYSTEM.value))
    except ValueError:
        theme = Theme.SYSTEM
    raw = values.get(AUTO_LOCK_KEY, "")
    minutes = int(raw) if raw.isdigit() and int(raw) <= MAX_AUTO_LOCK_MINUTES else GuiPrefs.auto_lock_minutes
    return GuiPrefs(theme, minutes)


async def save_pref(storage: AsyncStorage, key: str, value: str) -> None:
    """Store one GUI choice."""
    await storage.run(storage.sync.settings.set, key, value)


def network_settings(choice: NetworkChoice) -> dict[str, str]:
    """The settings-file entries that select ``choice`` on the next start (empty address = embedded devnet)."""
    if choice.key == DEVNET:
        return {"ETH_NODE_ADDRESS": "", "ETH_NODE_CHAIN_ID": "0"}
    return {"ETH_NODE_ADDRESS": choice.rpc_url or "", "ETH_NODE_CHAIN_ID": str(choice.chain_id)}


async def save_network(data_dir: Path, choice: NetworkChoice) -> None:
    """Write the network choice to settings.json (off the loop)."""
    await asyncio.to_thread(write_settings_file, settings_file(data_dir), network_settings(choice))
