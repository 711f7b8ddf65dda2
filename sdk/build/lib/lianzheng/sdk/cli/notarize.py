"""``lianzheng notarize``: send a document's hash or an event to the notary, save the receipt."""
from __future__ import annotations

import getpass
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import httpx
import typer

from lianzheng.sdk.cli.support import fail
from lianzheng.sdk.client import NotaryClient, NotaryClientError
from lianzheng.sdk.documents import file_sha256


def notarize(
    file: Annotated[Optional[Path], typer.Argument(help="a document: only its SHA-256 leaves this machine")] = None,
    event: Annotated[Optional[Path], typer.Option("--event", help="an event JSON file instead of a document")] = None,
    url: Annotated[str, typer.Option("--url", envvar="LIANZHENG_URL", help="notary base URL")] = "http://127.0.0.1:8000",
    key: Annotated[str, typer.Option("--key", envvar="LIANZHENG_KEY", help="writer API key")] = "",
    out: Annotated[Optional[Path], typer.Option("--out", help="receipt file (default: <input>.receipt.json)")] = None,
    project: Annotated[str, typer.Option("--project", help="project code, for a document")] = "archive",
    section: Annotated[Optional[str], typer.Option("--section", help="section (标段) code, for a document")] = None,
    actor: Annotated[Optional[str], typer.Option("--actor", help="who notarizes, for a document (default: your "
                                                                 "user name)")] = None,
    event_type: Annotated[str, typer.Option("--type", help="event type, for a document")] = "document.notarized",
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="wait for the anchor before writing")] = True,
    timeout: Annotated[float, typer.Option("--timeout", help="seconds to wait for the anchor")] = 30.0,
) -> None:
    """Notarize a document or an event and write its receipt."""
    if (file is None) == (event is None):
        fail("error: give a FILE or --event E.json, not both")
    source = file or event
    try:
        with NotaryClient(url, key or None, retries=2) as client:
            if event is not None:
                body = json.loads(event.read_text())
                if not isinstance(body, dict):
                    fail(f"error: {event} does not hold a JSON object")
            else:
                body = {
                    "type": event_type, "region": client.health()["region"], "project": project,
                    "occurred_at": datetime.now().astimezone().isoformat(timespec="seconds"),
                    "actor": actor or getpass.getuser(), "section": section,
                    "documents": [{"sha256": file_sha256(file), "name": file.name[:256]}],
                }
            receipt = client.notarize(body)
            if wait:
                receipt = client.wait_anchored(receipt.event_id, timeout=timeout)
    except OSError as exc:
        fail(f"error: cannot read {exc.filename}: {exc.strerror}")
    except json.JSONDecodeError as exc:
        fail(f"error: {event} is not JSON: {exc}")
    except NotaryClientError as exc:
        fail(f"error: notary refused ({exc.code}): {exc.message}")
    except httpx.HTTPError as exc:
        fail(f"error: cannot reach the notary at {url}: {exc}")
    except TimeoutError as exc:
        fail(f"error: {exc}; the event is logged, fetch its receipt later")
    target = out or source.with_name(source.name + ".receipt.json")
    target.write_text(receipt.to_json())
    typer.echo(f"{receipt.status}: event {receipt.event_id} at index {receipt.index}; receipt written to {target}")
