"""The in-process transport: a sync httpx client reaching an ASGI app without a socket."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
from fastapi import FastAPI, Request

from hybridsync.wiring.asgi import InProcessTransport


def echo_app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo/{name}")
    async def echo(name: str, request: Request) -> dict[str, object]:
        body = await request.body()
        return {"name": name, "body": body.decode(), "auth": request.headers.get("authorization")}

    @app.get("/missing")
    async def missing() -> None:
        from fastapi import HTTPException

        raise HTTPException(404, "no such thing")

    return app


def test_requests_reach_the_app_with_body_headers_and_status() -> None:
    transport = InProcessTransport(echo_app())
    with httpx.Client(transport=transport, base_url="https://app.invalid") as client:
        answer = client.post("/echo/ann", content=b"hello", headers={"Authorization": "Bearer x"})
        assert answer.status_code == 200
        assert answer.json() == {"name": "ann", "body": "hello", "auth": "Bearer x"}
        assert client.get("/missing").status_code == 404
    transport.close()


def test_many_threads_share_one_transport_and_it_restarts_after_close() -> None:
    transport = InProcessTransport(echo_app())
    client = httpx.Client(transport=transport, base_url="https://app.invalid")

    def call(i: int) -> str:
        return str(client.post(f"/echo/n{i}", content=str(i).encode()).json()["body"])

    with ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(call, range(40)), key=int) == [str(i) for i in range(40)]
    transport.close()
    assert call(41) == "41"  # used again after close: the helper thread starts again
    client.close()
