"""On battery or on mains, from a /sys/class/power_supply made of plain files."""

from __future__ import annotations

from pathlib import Path

from mirix_desktop.pipeline.power import PowerSource, on_battery


def supply(root: Path, name: str, **files: str) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    for key, value in files.items():
        (folder / key).write_text(value + "\n")


def laptop(root: Path, *, plugged: bool) -> Path:
    """A laptop's power_supply: an AC adapter and a battery (charging when plugged)."""
    supply(root, "AC", type="Mains", online="1" if plugged else "0")
    supply(root, "BAT0", type="Battery", scope="System",
           status="Charging" if plugged else "Discharging")  # fmt: skip
    return root


def test_a_laptop_unplugged_is_on_battery_and_plugged_in_is_not(tmp_path: Path) -> None:
    assert on_battery(laptop(tmp_path / "out", plugged=False)) is True
    assert on_battery(laptop(tmp_path / "in", plugged=True)) is False


def test_no_battery_or_no_power_supply_class_is_mains(tmp_path: Path) -> None:
    assert on_battery(tmp_path / "missing") is False
    (tmp_path / "empty").mkdir()
    assert on_battery(tmp_path / "empty") is False
    supply(tmp_path / "desktop", "ACAD", type="Mains", online="1")
    assert on_battery(tmp_path / "desktop") is False


def test_a_full_battery_on_a_charger_and_usb_c_power_are_mains(tmp_path: Path) -> None:
    supply(tmp_path / "full", "BAT0", type="Battery", status="Full")
    assert on_battery(tmp_path / "full") is False
    usb = tmp_path / "usb"
    supply(usb, "BAT1", type="Battery", status="Discharging")  # reported late by some firmware
    supply(usb, "ucsi-source-psy-USBC000:001", type="USB", online="1")
    assert on_battery(usb) is False


def test_a_mouse_battery_running_down_is_not_the_computer_on_battery(tmp_path: Path) -> None:
    root = tmp_path / "desk"
    supply(root, "hidpp_battery_0", type="Battery", scope="Device", status="Discharging")
    assert on_battery(root) is False
    supply(root, "BAT0", type="Battery", status="Discharging")  # no scope file: the system's
    assert on_battery(root) is True


def test_the_answer_is_cached_for_its_ttl(tmp_path: Path) -> None:
    root = laptop(tmp_path / "sys", plugged=True)
    now = [0.0]
    power = PowerSource(root, ttl_s=30, clock=lambda: now[0])
    assert power.on_battery() is False
    (root / "AC" / "online").write_text("0\n")
    (root / "BAT0" / "status").write_text("Discharging\n")
    now[0] = 29.0
    assert power.on_battery() is False  # still the cached answer
    now[0] = 30.0
    assert power.on_battery() is True
