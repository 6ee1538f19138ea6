"""Where domains that never import each other meet: the composition of chat and the realtime
gateway (beside ``bootstrap``, which chooses adapters).

Chat knows nothing of streaming and the gateway nothing of chat: chat's threads are described
to the gateway here as a ``ThreadChannel`` (where the documents live, how a message looks, the
route a client's send goes through), and the gateway's ticket route is served by the chat
function. Entry points (``functions/chat/main.py``, ``infra/realtime/main.py``, the local
runtime) call these; nothing below them imports this module.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from studio.kernel.routing import Router
from studio.realtime.channels import ThreadChannel

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from studio.kernel.deps import Deps
    from studio.kernel.http_app import HttpApp


def chat_channel() -> ThreadChannel:
    """Chat's threads, as the gateway streams them at /sse/chat/{id} and /ws/chat/{id}."""
    from studio.chat import paths
    from studio.chat.views import message_view

    return ThreadChannel(kind=paths.REALTIME_KIND, id_prefix="th_", threads=paths.threads, counter=paths.counter,
                         messages=paths.messages, chunks=paths.chunks, view=message_view,
                         send_path=lambda thread_id: f"/chat/threads/{thread_id}/messages")


def thread_channels() -> tuple[ThreadChannel, ...]:
    """Every kind of thread the gateway streams: one row per domain that has threads."""
    return (chat_channel(),)


def composed_routers() -> list[Router]:
    """Routes no domain row lists because they need the composition: the gateway's ticket route
    (it must know every thread channel). Served by the chat function."""
    from studio.realtime.ticket_route import ticket_router

    return [ticket_router(thread_channels())]


def chat_routers() -> list[Router]:
    """The chat function's routes: chat's own (its domain row's ``routers``), and the composed ticket route."""
    from studio.chat.routes import ROUTERS

    return [*ROUTERS, *composed_routers()]


def send_app(deps: Deps) -> HttpApp:
    """The kernel pipeline the gateway runs a client's send through: the chat function's own routes
    (so its log lines name the chat function), on the gateway's dependencies."""
    from studio.kernel.http_app import HttpApp

    return HttpApp("chat", chat_routers, lambda: deps)


def realtime_gateway(deps: Deps, **timing: float) -> Starlette:
    """The realtime gateway with every thread channel, as the local runtime and Cloud Run serve it."""
    from studio.realtime.app import create_gateway

    return create_gateway(deps, thread_channels(), send_app(deps), **timing)
