"""What a handler receives: the validated request and who made it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request

from studio.kernel import errors
from studio.kernel.context import Principal, RequestContext
from studio.kernel.revisions import Precondition, require
from studio.kernel.routing import Route

if TYPE_CHECKING:
    from pydantic import BaseModel

    from studio.kernel.deps import Deps
    from studio.kernel.entity_tags import EntityTags
    from studio.kernel.site_keys import SiteKeyGrant


@dataclass
class Call:
    request: Request
    route: Route
    params: dict[str, str]
    request_id: str
    deps: Deps
    principal: Principal | None = None
    ctx: RequestContext | None = None
    body: Any = None
    query: Any = None
    precondition: Precondition | None = None  # set by the kernel on a revisioned route, once verified
    if_none_match: EntityTags | None = None  # a GET's If-None-Match, answered with 304 after the handler
    site_key: SiteKeyGrant | None = None  # an Access.SITE_KEY route's verified key

    def expected_rev(self) -> int:
        """The revision the kernel verified this write against (write with it in one transaction)."""
        return require(self.precondition).rev

    def need_principal(self) -> Principal:
        if self.principal is None:
            raise errors.StudioError(errors.UNAUTHENTICATED)
        return self.principal

    def need_site_key(self) -> SiteKeyGrant:
        if self.site_key is None:
            raise errors.StudioError(errors.SITE_KEY_INVALID)
        return self.site_key

    def need_ctx(self) -> RequestContext:
        if self.ctx is None:
            raise errors.StudioError(errors.TENANT_REQUIRED)
        return self.ctx


@dataclass(frozen=True)
class Text:
    """A body that is not JSON (a stylesheet for a ``<link>``), sent as it is with its content type."""

    content: str
    content_type: str


@dataclass
class Reply:
    """A handler result with a status or headers other than the route's default."""

    body: BaseModel | dict[str, Any] | list[Any] | Text | None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
