"""Calling the action server's /webhook the way Rasa does, with trackers built from the snapshots.

Shared by the action server's tests and the integration test of the #11.3 attack.
"""

from __future__ import annotations

import socket
import subprocess
from typing import Any

import httpx

from actions.schedule import BIRTH_DATE_SLOT, NIK_SLOT
from services.registry.demo import DEMO_PERSON
from tests.actions.conftest import load_snapshot


def call(url: str, action: str, tracker: dict[str, Any], token: str | None) -> httpx.Response:
    """``POST /webhook`` for ``action``; with ``token`` as Rasa sends it (a bearer header), or without."""
    body = {
        "next_action": action,
        "sender_id": tracker["sender_id"],
        "tracker": tracker,
        "domain": load_snapshot("domain_schedule"),
        "version": "3.6.21",
    }
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return httpx.post(f"{url}/webhook", json=body, headers=headers, timeout=30)


def typed(text: str, sender: str) -> dict[str, Any]:
    """The schedule form just started, and the person typed ``text``."""
    state = load_snapshot("tracker_schedule_started")
    state["sender_id"] = sender
    state["latest_message"]["text"] = text
    next(event for event in reversed(state["events"]) if event["event"] == "user")["text"] = text
    return state


def complete(sender: str, slots: dict[str, Any]) -> dict[str, Any]:
    """The form is complete with these slots: the next action is the lookup."""
    state = load_snapshot("tracker_schedule_complete")
    state["sender_id"] = sender
    state["slots"].update(slots)
    return state


def demo_nik_and_date() -> str:
    return f"{DEMO_PERSON.nik} {DEMO_PERSON.birth_date:%d-%m-%Y}"


def sealed_slots(url: str, sender: str, token: str) -> dict[str, Any]:
    """What ``validate_schedule_form`` returns for "NIK date" (the demo person): the sealed slots."""
    answer = call(url, "validate_schedule_form", typed(demo_nik_and_date(), sender), token)
    assert answer.status_code == 200, answer.text
    slots = {event["name"]: event["value"] for event in answer.json()["events"] if event["event"] == "slot"}
    assert str(slots[NIK_SLOT]).startswith("sealed:") and str(slots[BIRTH_DATE_SLOT]).startswith("sealed:")
    return slots


def said(answer: httpx.Response) -> list[str]:
    """Texts, or response names, the action server asked Rasa to send."""
    return [str(message.get("text") or message.get("response")) for message in answer.json()["responses"]]


def outbound_address() -> str:
    """This machine's address on its network (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))
        return str(probe.getsockname()[0])


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a TCP socket listening on ``port`` (``ss``)."""
    listing = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True).stdout
    return {line.split()[3] for line in listing.splitlines()}
