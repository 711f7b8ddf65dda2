"""``lianzheng serve``: run the notary (embedded chain and SQLite unless told otherwise)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Optional

import typer
import uvicorn
from pydantic import ValidationError

from notary.settings import Settings


def serve(
    port: Annotated[int, typer.Option("--port")] = 8000,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    data_dir: Annotated[Path, typer.Option("--data-dir", envvar="LIANZHENG_DATA_DIR")] = Path("data"),
    region: Annotated[str, typer.Option("--region", help="GB/T 2260 code of this notary")] = "370000",
    rpc: Annotated[Optional[str], typer.Option("--rpc", help="JSON-RPC node (default: embedded chain)")] = None,
    registry: Annotated[Optional[str], typer.Option("--registry", help="EvidenceRegistry address on --rpc")] = None,
    database_url: Annotated[Optional[str], typer.Option("--database-url", envvar="LIANZHENG_DATABASE_URL")] = None,
    hash_name: Annotated[str, typer.Option("--hash", help="sha256 or sm3, fixed at log creation")] = "sha256",
    origin: Annotated[Optional[str], typer.Option("--origin", help="checkpoint origin line")] = None,
    anchor_interval: Annotated[float, typer.Option("--anchor-interval", help="seconds between anchors")] = 1.0,
    anchor_every: Annotated[int, typer.Option("--anchor-every", help="anchor early after N events")] = 10_000,
    rate_limit: Annotated[float, typer.Option("--rate-limit", help="write requests/s per API key")] = 500.0,
    tender_contract: Annotated[Optional[str], typer.Option("--tender-contract", help="TenderRules on --rpc")] = None,
    expert_draw_contract: Annotated[Optional[str], typer.Option("--expert-draw-contract",
                                                                help="ExpertDraw on --rpc")] = None,
    public_rpc_url: Annotated[Optional[str], typer.Option(
        "--public-rpc-url", help="JSON-RPC URL the witness page reads roots from (default: /chain/rpc or --rpc)")]
    = None,
    public_url: Annotated[Optional[str], typer.Option(
        "--public-url", help="base URL printed in certificates' QR codes (default: the request's)")] = None,
    trusted_proxies: Annotated[Optional[str], typer.Option(
        "--trusted-proxies", help="comma-separated IPs or CIDR networks of reverse proxies whose X-Forwarded-For "
                                  "names the client (default: none; the peer address is the client)")] = None,
    chain_key_file: Annotated[Optional[Path], typer.Option("--chain-key-file")] = None,
    checkpoint_key_file: Annotated[Optional[Path], typer.Option("--checkpoint-key-file")] = None,
) -> None:
    """Serve the notary HTTP API."""
    try:
        settings = Settings(
            port=port, host=host, data_dir=data_dir, region=region, rpc_url=rpc, registry=registry,
            database_url=database_url, hash=hash_name, origin=origin, anchor_interval=anchor_interval,
            anchor_every=anchor_every, rate_limit=rate_limit, chain_key_file=chain_key_file, checkpoint_key_file=checkpoint_key_file,
            tender_contract=tender_contract, expert_draw_contract=expert_draw_contract,
            public_rpc_url=public_rpc_url, public_url=public_url,
            **({"trusted_proxies": [p for p in trusted_proxies.split(",") if p.strip()]} if trusted_proxies else {}),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        typer.echo(f"error: --{'-'.join(str(p) for p in first['loc'])}: {first['msg']}", err=True)
        raise typer.Exit(2) from exc
    from notary.api.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    typer.echo(f"lianzheng notary: region {settings.region}, data {settings.data_dir}, "
               f"chain {'embedded' if not rpc else rpc}, http://{host}:{port}")
    # proxy_headers off: uvicorn would believe X-Forwarded-For from 127.0.0.1; the app decides
    # whose header to believe (--trusted-proxies).
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", access_log=False,
                proxy_headers=False)
